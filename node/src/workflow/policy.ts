import { ErrorCode, PeerPolicy, ReleaseRule, TracenetError } from '@tracenet/proto';
import type { Journal } from '../audit/audit-log.js';
import type { Store } from '../store/store.js';
import { NODE_POLICY_ID, validateReleaseRules } from './release.js';

/** Default deadlines when a policy sets none: acknowledge within 7 days, answer within 30. */
export const DEFAULT_ACKNOWLEDGE_WITHIN_MS = 7 * 86_400_000;
export const DEFAULT_ANSWER_WITHIN_MS = 30 * 86_400_000;

/** The policy of a peer without one: deny requests, nothing automatic, default deadlines. */
export function defaultPolicy(participantId: string): PeerPolicy {
  return {
    participantId,
    acceptRequests: false,
    autoAcknowledge: false,
    autoAnswer: false,
    autoAnswerNoRecord: false,
    acknowledgeWithinMs: 0,
    answerWithinMs: 0,
    allowLookups: false,
    lookupsPerMinute: 0,
    defaultRestrictions: undefined,
    releaseRules: [],
  };
}

/** Deadlines of a policy with the defaults filled in. */
export function deadlinesOf(policy: PeerPolicy): { acknowledgeWithinMs: number; answerWithinMs: number } {
  return {
    acknowledgeWithinMs: policy.acknowledgeWithinMs > 0 ? policy.acknowledgeWithinMs : DEFAULT_ACKNOWLEDGE_WITHIN_MS,
    answerWithinMs: policy.answerWithinMs > 0 ? policy.answerWithinMs : DEFAULT_ANSWER_WITHIN_MS,
  };
}

/** Lookups a peer may make per minute when its policy says 0 (docs/protocol.md 13.8). */
export const DEFAULT_LOOKUPS_PER_MINUTE = 60;

/** The lookup rate a policy allows, with the default filled in. */
export function lookupsPerMinuteOf(policy: PeerPolicy): number {
  return policy.lookupsPerMinute > 0 ? policy.lookupsPerMinute : DEFAULT_LOOKUPS_PER_MINUTE;
}

/** Whether every field of the node-wide policy but its release rules has its default value. */
function onlyReleaseRules(policy: PeerPolicy): boolean {
  const json = (p: PeerPolicy) => JSON.stringify(PeerPolicy.toJSON({ ...p, releaseRules: [] }));
  return json(policy) === json(defaultPolicy(NODE_POLICY_ID));
}

/** Per-peer policies, stored in the peers repository and cached in memory. */
export class PolicyStore {
  readonly #policies = new Map<string, PeerPolicy>();

  constructor(private readonly deps: { store: Store; journal: Journal }) {}

  async load(): Promise<void> {
    for await (const [id, policy] of this.deps.store.peers.policies.entries()) this.#policies.set(id, policy);
  }

  /** The policy of a peer (the default when none was set). */
  get(participantId: string): PeerPolicy {
    return this.#policies.get(participantId) ?? defaultPolicy(participantId);
  }

  /**
   * Sets a peer's policy, or with participant "*" the node-wide release rules (docs/protocol.md
   * 12.11). auto_answer implies auto_acknowledge. Every change is journaled (`policy.set`), the
   * release rules included.
   */
  async set(policy: PeerPolicy): Promise<PeerPolicy> {
    this.check(policy);
    return this.#write({ ...policy, autoAcknowledge: policy.autoAcknowledge || policy.autoAnswer });
  }

  /**
   * Checks a policy as {@link set} would, without storing it (a change that waits for approval is
   * checked when drafted). Throws INVALID_FIELD.
   */
  check(policy: PeerPolicy): void {
    for (const [field, value] of [
      ['policy.acknowledge_within_ms', policy.acknowledgeWithinMs],
      ['policy.answer_within_ms', policy.answerWithinMs],
    ] as const) {
      if (value < 0)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${field} cannot be negative`, {
          field,
          rule: 'non_negative',
        });
    }
    validateReleaseRules(policy.releaseRules, 'policy.release_rules');
    // The node-wide policy only carries release rules (docs/protocol.md 12.11).
    if (policy.participantId === NODE_POLICY_ID && !onlyReleaseRules(policy))
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'the node-wide policy "*" has release rules only; set the other fields per peer',
        { field: 'policy.participant_id', rule: 'node_policy_release_only' },
      );
  }

  async #write(stored: PeerPolicy): Promise<PeerPolicy> {
    await this.deps.journal.write(
      [this.deps.store.peers.policies.put(stored.participantId, stored)],
      [
        {
          type: 'policy.set',
          fields: {
            peer: stored.participantId,
            acceptRequests: stored.acceptRequests,
            autoAcknowledge: stored.autoAcknowledge,
            autoAnswer: stored.autoAnswer,
            autoAnswerNoRecord: stored.autoAnswerNoRecord,
            acknowledgeWithinMs: stored.acknowledgeWithinMs,
            answerWithinMs: stored.answerWithinMs,
            allowLookups: stored.allowLookups,
            lookupsPerMinute: stored.lookupsPerMinute,
            releaseRules: JSON.stringify(stored.releaseRules.map((r) => ReleaseRule.toJSON(r))),
          },
        },
      ],
    );
    this.#policies.set(stored.participantId, stored);
    return stored;
  }
}
