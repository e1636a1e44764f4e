import { CaseRole, CaseState, ErrorCode, MessageKind, TracenetError } from '@tracenet/proto';

/**
 * The ITI case state machine of both sides (docs/protocol.md section 12.3), as data.
 *
 * Each role sends some kinds and receives the others, so a step is fully named by
 * (role, state, message kind): the requester sends the request, clarification replies, the
 * withdrawal and the closure; the requested side sends the acknowledgement, clarification
 * requests, the answer, delay, restriction and refusal. Everything not in the table is illegal.
 */
type Table = ReadonlyMap<CaseState, ReadonlyMap<MessageKind, CaseState>>;

const S = CaseState;
const K = MessageKind;

function table(rows: ReadonlyArray<[CaseState[], MessageKind, CaseState]>): Table {
  const map = new Map<CaseState, Map<MessageKind, CaseState>>();
  for (const [from, kind, to] of rows) {
    for (const state of from) {
      const row = map.get(state) ?? new Map<MessageKind, CaseState>();
      row.set(kind, to);
      map.set(state, row);
    }
  }
  return map;
}

const OPEN_REQUESTER = [S.CASE_STATE_SENT, S.CASE_STATE_ACKNOWLEDGED, S.CASE_STATE_DELAYED, S.CASE_STATE_CLARIFICATION];
const OPEN_REQUESTED = [
  S.CASE_STATE_RECEIVED,
  S.CASE_STATE_ACKNOWLEDGED,
  S.CASE_STATE_DELAYED,
  S.CASE_STATE_CLARIFICATION,
];
const AWAITING_ANSWER = [S.CASE_STATE_ACKNOWLEDGED, S.CASE_STATE_DELAYED];
const ANSWERED = [S.CASE_STATE_ANSWERED, S.CASE_STATE_RESTRICTED, S.CASE_STATE_REFUSED];

/** Steps both sides share once the request is acknowledged; only who sends each kind differs. */
const STEPS: ReadonlyArray<[CaseState[], MessageKind, CaseState]> = [
  [AWAITING_ANSWER, K.MESSAGE_KIND_CLARIFICATION_REQUEST, S.CASE_STATE_CLARIFICATION],
  [[S.CASE_STATE_CLARIFICATION], K.MESSAGE_KIND_CLARIFICATION_REPLY, S.CASE_STATE_ACKNOWLEDGED],
  [AWAITING_ANSWER, K.MESSAGE_KIND_TRACE_ANSWER, S.CASE_STATE_ANSWERED],
  [AWAITING_ANSWER, K.MESSAGE_KIND_TRACE_RESTRICTION, S.CASE_STATE_RESTRICTED],
  [AWAITING_ANSWER, K.MESSAGE_KIND_TRACE_DELAY, S.CASE_STATE_DELAYED],
  [AWAITING_ANSWER, K.MESSAGE_KIND_TRACE_REFUSAL, S.CASE_STATE_REFUSED],
  [ANSWERED, K.MESSAGE_KIND_TRACE_CLOSURE, S.CASE_STATE_CLOSED],
];

const REQUESTER: Table = table([
  [[S.CASE_STATE_DRAFT], K.MESSAGE_KIND_TRACE_REQUEST, S.CASE_STATE_SENT],
  [[S.CASE_STATE_SENT], K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, S.CASE_STATE_ACKNOWLEDGED],
  ...STEPS,
  [[S.CASE_STATE_DRAFT, ...OPEN_REQUESTER], K.MESSAGE_KIND_TRACE_WITHDRAWAL, S.CASE_STATE_WITHDRAWN],
]);

/** The requested side's case begins RECEIVED, created by the request itself. */
const REQUESTED: Table = table([
  [[S.CASE_STATE_RECEIVED], K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, S.CASE_STATE_ACKNOWLEDGED],
  ...STEPS,
  [OPEN_REQUESTED, K.MESSAGE_KIND_TRACE_WITHDRAWAL, S.CASE_STATE_WITHDRAWN],
]);

/** Kinds each role sends; the other role receives them. */
const SENT_BY_REQUESTER = new Set<MessageKind>([
  K.MESSAGE_KIND_TRACE_REQUEST,
  K.MESSAGE_KIND_CLARIFICATION_REPLY,
  K.MESSAGE_KIND_TRACE_WITHDRAWAL,
  K.MESSAGE_KIND_TRACE_CLOSURE,
  // Use restrictions (docs/protocol.md 14), handled beside the table.
  K.MESSAGE_KIND_CONSENT_REQUEST,
  K.MESSAGE_KIND_DISCLOSURE_NOTICE,
  K.MESSAGE_KIND_SHARED_INFORMATION,
]);

/** The workflow message kinds (everything a case can send or receive). */
export const WORKFLOW_KINDS: readonly MessageKind[] = [
  K.MESSAGE_KIND_TRACE_REQUEST,
  K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
  K.MESSAGE_KIND_CLARIFICATION_REQUEST,
  K.MESSAGE_KIND_CLARIFICATION_REPLY,
  K.MESSAGE_KIND_TRACE_ANSWER,
  K.MESSAGE_KIND_TRACE_DELAY,
  K.MESSAGE_KIND_TRACE_RESTRICTION,
  K.MESSAGE_KIND_TRACE_REFUSAL,
  K.MESSAGE_KIND_TRACE_WITHDRAWAL,
  K.MESSAGE_KIND_TRACE_CLOSURE,
];

/** Whether a side sends (rather than receives) messages of `kind`. */
export function sends(role: CaseRole, kind: MessageKind): boolean {
  return (role === CaseRole.CASE_ROLE_REQUESTER) === SENT_BY_REQUESTER.has(kind);
}

/** States after which nothing more may happen. */
export function isFinal(state: CaseState): boolean {
  return state === S.CASE_STATE_CLOSED || state === S.CASE_STATE_WITHDRAWN;
}

/** Short readable name of a state: CASE_STATE_ACKNOWLEDGED → acknowledged. */
export function stateName(state: CaseState): string {
  return (CaseState[state] ?? String(state)).replace('CASE_STATE_', '').toLowerCase();
}

/** Short readable name of a kind: MESSAGE_KIND_TRACE_ANSWER → trace answer. */
export function kindName(kind: MessageKind): string {
  return (MessageKind[kind] ?? String(kind)).replace('MESSAGE_KIND_', '').toLowerCase().replace(/_/g, ' ');
}

/**
 * The state after `kind` is sent or received by a case of `role` in `state`. Throws CASE_CLOSED
 * for a closed or withdrawn case and ILLEGAL_TRANSITION (FAILED_PRECONDITION) for any other step
 * the table does not allow, including a kind travelling in the wrong direction.
 */
export function nextState(
  role: CaseRole,
  state: CaseState,
  kind: MessageKind,
  direction: 'send' | 'receive',
): CaseState {
  if (isFinal(state)) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_CASE_CLOSED,
      `the case is ${stateName(state)}; nothing more can happen in it`,
      { field: 'case_id', rule: 'case_open' },
    );
  }
  if (role !== CaseRole.CASE_ROLE_REQUESTER && role !== CaseRole.CASE_ROLE_REQUESTED) {
    // A SHARED case (docs/protocol.md 14.4) holds information only; no workflow step applies.
    throw new TracenetError(
      ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
      'information shared with this node is not a trace; no workflow step applies to it',
      { field: 'case_id', rule: 'shared_case' },
    );
  }
  const next =
    sends(role, kind) === (direction === 'send')
      ? (role === CaseRole.CASE_ROLE_REQUESTER ? REQUESTER : REQUESTED).get(state)?.get(kind)
      : undefined;
  if (next === undefined) {
    const side = role === CaseRole.CASE_ROLE_REQUESTER ? 'requester' : 'requested participant';
    throw new TracenetError(
      ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
      `a ${kindName(kind)} cannot be ${direction === 'send' ? 'sent' : 'received'} by the ${side} while the case is ${stateName(state)}`,
      { field: 'case_id', rule: `${stateName(state)}+${kindName(kind).replace(/ /g, '_')}` },
    );
  }
  return next;
}
