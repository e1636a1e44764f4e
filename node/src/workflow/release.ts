import {
  ErrorCode,
  type FieldViolation,
  ReleaseAction,
  type ReleaseRule,
  TraceOutcome,
  type TraceAnswer,
  TracenetError,
  type WeaponEvent,
  WeaponEventType,
  type WithheldField,
} from '@tracenet/proto';
import { Violations, violationError } from '../util/violations.js';
import {
  RELEASABLE_EVENT_FIELDS,
  type ReleasableEventField,
  MAX_WITHHELD_REASON,
  TEXT_FIELDS,
  WITHHELD_PATH,
} from '../messages/withheld.js';
import { deriveAnswer } from './auto-answer.js';

/** The participant id of the node-wide policy, whose release rules apply to every peer (12.11). */
export const NODE_POLICY_ID = '*';

/** The rule fields: "history.<event field>", the answer texts and "referral.basis". */
export const RELEASE_RULE_FIELDS: readonly string[] = [
  ...Object.keys(RELEASABLE_EVENT_FIELDS).map((f) => `history.${f}`),
  ...Object.keys(TEXT_FIELDS),
  'referral.basis',
];

/** At most this many rules in one policy. */
const MAX_RELEASE_RULES = 200;

/** An answer as it is given, before the policy applies (the node sets `withheld`). */
type AnswerParts = Omit<TraceAnswer, 'traceId' | 'automatic' | 'withheld'>;

/** The rules that apply to the answers to one peer: its own, and the node-wide ones. */
export interface ReleasePolicy {
  /** The peer's participant id, to name a rule ("FRA release_rules[0]"). */
  readonly peer: string;
  readonly peerRules: readonly ReleaseRule[];
  readonly nodeRules: readonly ReleaseRule[];
}

/** A value the policy releases only with an officer's approval, which was not given. */
export interface PendingApproval {
  /** Where the value is, e.g. "history[2].end_user". */
  readonly field: string;
  /** The rule, e.g. "FRA release_rules[0]" or "* release_rules[1]". */
  readonly rule: string;
  readonly reason: string;
}

/** What the policy made of an answer. */
export interface Released<T extends AnswerParts> {
  /** The answer with the withheld values emptied and listed in `withheld`. */
  readonly answer: T & { withheld: WithheldField[] };
  /** APPROVAL values the officer did not confirm: the answer MUST NOT be sent while any remains. */
  readonly pending: readonly PendingApproval[];
}

interface Options {
  /**
   * The texts last_legal_record, point_of_diversion and referral.basis were derived from the
   * history (an automatic answer, 12.8): they are built again from the released events.
   */
  readonly derived: boolean;
  /** Fields the officer confirms for release: rule fields ("history.end_user") or paths. */
  readonly confirmed: readonly string[];
  /** The path of the answer in errors: "answer" (the default) or "partial_answer". */
  readonly prefix?: string;
}

/** The rule deciding one value: the peer's rules for the field, else the node's; the first that matches. */
function decide(
  policy: ReleasePolicy,
  field: string,
  outcome: TraceOutcome,
  eventType: WeaponEventType | undefined,
): { rule: ReleaseRule; name: string } | undefined {
  const own = policy.peerRules.some((r) => r.field === field);
  const [rules, owner] = own ? [policy.peerRules, policy.peer] : [policy.nodeRules, NODE_POLICY_ID];
  const index = rules.findIndex(
    (r) =>
      r.field === field &&
      (r.outcomes.length === 0 || r.outcomes.includes(outcome)) &&
      (eventType === undefined || r.eventTypes.length === 0 || r.eventTypes.includes(eventType)),
  );
  const rule = rules[index];
  return rule ? { rule, name: `${owner} release_rules[${index}]` } : undefined;
}

/**
 * Applies a release policy to an answer (docs/protocol.md 12.11) — the same for automatic and
 * manual answers, whatever registry the record came from, since it works on the answer. Every
 * non-empty value a rule withholds (WITHHOLD; ON_REQUEST unless confirmed) is emptied and listed
 * in `withheld`; APPROVAL values not confirmed are returned in `pending`. Event-field rules
 * ("history.end_user") apply to every event of the answer: `history[i]` and `referral.event`.
 * With `derived`, the texts are then built again from the released events, so that a withheld
 * value never shows in them. Pure: the input is not changed.
 *
 * Throws INVALID_FIELD (`release[i]`, `release_field`) for a confirmation that is not a rule field
 * or a path, and (`answer.<path>`, `release_policy`) for a path confirmed whose value a rule
 * withholds (WITHHOLD). A rule field confirmed never releases a WITHHOLD value.
 *
 * @example
 * ```ts
 * const { answer, pending } = applyRelease(input, { peer: 'FRA', peerRules, nodeRules }, { derived: true, confirmed: [] });
 * if (pending.length > 0) await note(`release needs approval: ${pending.map((p) => p.field).join(', ')}`);
 * ```
 */
export function applyRelease<T extends AnswerParts>(input: T, policy: ReleasePolicy, options: Options): Released<T> {
  const confirmations = new Violations();
  options.confirmed.forEach((c, i) => {
    if (!RELEASE_RULE_FIELDS.includes(c) && !WITHHELD_PATH.test(c))
      confirmations.invalid(
        `release[${i}]`,
        'release_field',
        `"${c.slice(0, 100)}" is neither a release rule field (${RELEASE_RULE_FIELDS.join(', ')}) nor a field path such as history[2].end_user`,
      );
  });
  confirmations.throwIfAny('the fields to release are not fields');

  const withheld: WithheldField[] = [];
  const pending: PendingApproval[] = [];
  const refused: FieldViolation[] = [];
  const prefix = options.prefix ?? 'answer';
  /** Whether the value at `path` (rule field `field`) stays in the answer. */
  const keep = (path: string, field: string, eventType: WeaponEventType | undefined): boolean => {
    const found = decide(policy, field, input.outcome, eventType);
    if (!found) return true;
    const { rule, name } = found;
    const named = options.confirmed.includes(path);
    const confirmed = named || options.confirmed.includes(field);
    switch (rule.action) {
      case ReleaseAction.RELEASE_ACTION_WITHHOLD:
        if (named)
          refused.push({
            field: `${prefix}.${path}`,
            rule: 'release_policy',
            message: `${path} is withheld by ${name}${rule.reason ? ` (${rule.reason})` : ''} and cannot be released`,
          });
        withheld.push({ field: path, reason: rule.reason, availableOnRequest: false });
        return false;
      case ReleaseAction.RELEASE_ACTION_ON_REQUEST:
        if (confirmed) return true;
        withheld.push({ field: path, reason: rule.reason, availableOnRequest: true });
        return false;
      case ReleaseAction.RELEASE_ACTION_APPROVAL:
        if (confirmed) return true;
        pending.push({ field: path, rule: name, reason: rule.reason });
        withheld.push({ field: path, reason: rule.reason, availableOnRequest: true });
        return false;
      default:
        return true;
    }
  };
  const releaseEvent = (event: WeaponEvent, at: string): WeaponEvent => {
    const out = { ...event };
    for (const [name, key] of Object.entries(RELEASABLE_EVENT_FIELDS) as [
      ReleasableEventField,
      (typeof RELEASABLE_EVENT_FIELDS)[ReleasableEventField],
    ][]) {
      if (out[key] !== '' && !keep(`${at}.${name}`, `history.${name}`, event.type)) out[key] = '';
    }
    if (event.undertaking) out.undertaking = releaseUndertakingEndUser(event, out, at, withheld, keep);
    return out;
  };

  const history = input.history.map((e, i) => releaseEvent(e, `history[${i}]`));
  const answer: T & { withheld: WithheldField[] } = { ...input, history, withheld };
  if (input.referral) {
    answer.referral = {
      ...input.referral,
      event: input.referral.event ? releaseEvent(input.referral.event, 'referral.event') : undefined,
    };
  }
  if (options.derived) {
    const texts = deriveAnswer(input.history, history);
    if (texts) {
      answer.lastLegalRecord = texts.lastLegalRecord;
      answer.pointOfDiversion = texts.pointOfDiversion;
      if (answer.referral && texts.referral) answer.referral.basis = texts.referral.basis;
    }
  }
  type TextField = keyof typeof TEXT_FIELDS;
  for (const [name, key] of Object.entries(TEXT_FIELDS) as [TextField, (typeof TEXT_FIELDS)[TextField]][]) {
    if (answer[key] !== '' && !keep(name, name, undefined)) answer[key] = '';
  }
  if (answer.referral && answer.referral.basis !== '' && !keep('referral.basis', 'referral.basis', undefined))
    answer.referral.basis = '';
  if (refused.length > 0)
    throw violationError(refused, 'the release policy forbids it', ErrorCode.ERROR_CODE_INVALID_FIELD);
  return { answer, pending };
}

/**
 * The error of a manual answer that would release APPROVAL values the officer did not confirm:
 * INVALID_FIELD naming each value (`answer.history[2].end_user`, rule `release_policy`).
 */
export function approvalError(pending: readonly PendingApproval[], prefix: string): TracenetError {
  return violationError(
    pending.map((p) => ({
      field: `${prefix}.${p.field}`,
      rule: 'release_policy',
      message: `${p.field} is released only with approval (${p.rule}${p.reason ? `: ${p.reason}` : ''}); confirm it with release ${p.field}`,
    })),
    'the answer releases fields that need approval',
    ErrorCode.ERROR_CODE_INVALID_FIELD,
  );
}

/**
 * Checks the release rules of a policy (`prefix` = "policy.release_rules"): a known field, event
 * types only on "history.*" fields, known event types, outcomes and action, a reason of at most
 * 500 characters, at most 200 rules. Throws INVALID_FIELD listing every broken rule.
 */
export function validateReleaseRules(rules: readonly ReleaseRule[], prefix: string): void {
  const v = new Violations();
  if (rules.length > MAX_RELEASE_RULES)
    v.invalid(prefix, 'max_items', `a policy has at most ${MAX_RELEASE_RULES} release rules`);
  rules.slice(0, MAX_RELEASE_RULES).forEach((r, i) => {
    const at = `${prefix}[${i}]`;
    if (!RELEASE_RULE_FIELDS.includes(r.field))
      v.invalid(`${at}.field`, 'release_field', `the field must be one of ${RELEASE_RULE_FIELDS.join(', ')}`);
    if (r.eventTypes.length > 0 && !r.field.startsWith('history.'))
      v.invalid(`${at}.event_types`, 'event_field_only', 'event types scope only "history.*" fields');
    r.eventTypes.forEach((t, j) => {
      if (t === WeaponEventType.WEAPON_EVENT_TYPE_UNSPECIFIED || !(t in WeaponEventType) || t < 0)
        v.invalid(`${at}.event_types[${j}]`, 'enum', 'the event type is not known');
    });
    r.outcomes.forEach((o, j) => {
      if (o === TraceOutcome.TRACE_OUTCOME_UNSPECIFIED || !(o in TraceOutcome) || o < 0)
        v.invalid(`${at}.outcomes[${j}]`, 'enum', 'the outcome is not known');
    });
    if (r.action === ReleaseAction.RELEASE_ACTION_UNSPECIFIED || !(r.action in ReleaseAction) || r.action < 0)
      v.invalid(`${at}.action`, 'enum', 'the action must be RELEASE, WITHHOLD, ON_REQUEST or APPROVAL');
    v.maxLength(`${at}.reason`, r.reason, 'the reason', MAX_WITHHELD_REASON);
  });
  v.throwIfAny('the release rules are not valid', ErrorCode.ERROR_CODE_INVALID_FIELD);
}

/**
 * The end user named in an export's undertaking follows the event's own end user (12.11): when the
 * policy withheld `history[i].end_user`, `history[i].undertaking.end_user` is emptied too and
 * listed as withheld with the same reason; when the event has no end user of its own, the
 * `history.end_user` rule decides on the undertaking's directly.
 */
function releaseUndertakingEndUser(
  event: WeaponEvent,
  released: WeaponEvent,
  at: string,
  withheld: WithheldField[],
  keep: (path: string, field: string, eventType: WeaponEventType | undefined) => boolean,
): WeaponEvent['undertaking'] {
  const undertaking = event.undertaking;
  if (!undertaking || undertaking.endUser === '') return undertaking;
  const path = `${at}.undertaking.end_user`;
  if (event.endUser !== '') {
    if (released.endUser !== '') return undertaking;
    const own = withheld.find((w) => w.field === `${at}.end_user`);
    withheld.push({ field: path, reason: own?.reason ?? '', availableOnRequest: own?.availableOnRequest ?? false });
    return { ...undertaking, endUser: '' };
  }
  return keep(path, 'history.end_user', event.type) ? undertaking : { ...undertaking, endUser: '' };
}
