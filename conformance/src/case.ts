import { ParticipantKind, PeerPolicy } from '@tracenet/proto';
import { outcomeOf, type Outcome } from './check.js';
import type { FakePeer, PeerHost } from './fake-peer.js';
import type { Target } from './target.js';

/**
 * What a case is about. A node may declare that it lacks an optional feature
 * (`--without lookups`); the cases of that feature are then skipped, never passed.
 */
export const FEATURES = ['envelope', 'delivery', 'access', 'request', 'workflow', 'deadlines', 'lookups', 'restrictions', 'panels', 'authority', 'outbound'] as const;
export type Feature = (typeof FEATURES)[number];

/** Features a node may lack and still be a Tracenet node; the others are the core of tracenet.v1. */
export const OPTIONAL_FEATURES: readonly Feature[] = ['deadlines', 'lookups', 'restrictions', 'panels'];

/**
 * One black-box check of one rule of docs/protocol.md, run against the node under test over the
 * wire. It throws a {@link CaseFailure} (expected vs got) when the node breaks the rule.
 *
 * @example
 * ```ts
 * const c: ConformanceCase = {
 *   id: 'envelope.tampered-header', section: '4.5', feature: 'envelope',
 *   title: 'a header changed on the path fails the AEAD check',
 *   async run(ctx) { ... },
 * };
 * ```
 */
export interface ConformanceCase {
  /** Stable id, `<area>.<rule>`; expected-failure lists and `--only` name cases by it. */
  readonly id: string;
  /** The section of docs/protocol.md it enforces, e.g. `4.5`. */
  readonly section: string;
  readonly feature: Feature;
  readonly title: string;
  run(ctx: CaseContext): Promise<void>;
}

/** What the suite tells the cases about the node under test beyond its card. */
export interface SuiteSettings {
  /** The node's `max_envelope_bytes` (protocol 4.2); 4 MiB by default. */
  readonly maxEnvelopeBytes: number;
  /** The node's replay window `W` (protocol 4); 5 minutes by default. */
  readonly replayWindowMs: number;
}

/** How a case gets a fake peer: pinned on the node (default) and with a policy, if given. */
export interface PeerOptions {
  readonly policy?: Partial<PeerPolicy>;
  readonly kind?: ParticipantKind;
  /** Pin the peer's card on the node (default true). */
  readonly pin?: boolean;
  /** Validity of the peer's card from now (default one day). */
  readonly validForMs?: number;
}

/** What a case works with. Fake peers it creates belong to it: what they receive unasked fails it. */
export interface CaseContext {
  readonly target: Target;
  readonly host: PeerHost;
  readonly settings: SuiteSettings;
  /** A new fake peer of this case, pinned on the node through `Authority.AddPeer` and given a policy. */
  peer(options?: PeerOptions): Promise<FakePeer>;
  /** Sets the node's whole policy for a peer (`Authority.SetPeerPolicy`, protocol 12.5). */
  setPolicy(peer: FakePeer, policy: Partial<PeerPolicy>): Promise<void>;
  /** Captures a call's answer or error as received. */
  call<T>(promise: Promise<T>): Promise<Outcome<T>>;
  /** The fake peers of this case. */
  readonly peers: readonly FakePeer[];
}

/** Builds the context of one case. */
export function caseContext(target: Target, host: PeerHost, settings: SuiteSettings): CaseContext {
  const peers: FakePeer[] = [];
  const setPolicy = async (peer: FakePeer, policy: Partial<PeerPolicy>) => {
    await target.authority.call('setPeerPolicy', { policy: PeerPolicy.fromPartial({ ...policy, participantId: peer.participantId }) });
  };
  return {
    target,
    host,
    settings,
    peers,
    async peer(options = {}) {
      const peer = host.createPeer({ ...(options.kind ? { kind: options.kind } : {}), ...(options.validForMs ? { validForMs: options.validForMs } : {}) });
      peers.push(peer);
      if (options.pin ?? true) {
        await target.authority.call('addPeer', { card: peer.card, replaceKeys: false });
        if (options.policy) await setPolicy(peer, options.policy);
      }
      return peer;
    },
    setPolicy,
    call: outcomeOf,
  };
}
