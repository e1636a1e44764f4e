import { describe, expect, it } from 'vitest';
import { CaseRole, CaseState, ErrorCode, MessageKind, TracenetError } from '@tracenet/proto';
import { nextState, sends, WORKFLOW_KINDS } from '../../src/workflow/state-machine.js';

const S = CaseState;
const K = MessageKind;
const STATES = Object.values(CaseState).filter((v): v is CaseState => typeof v === 'number' && v > 0);

/**
 * The expected state machine written out independently of the implementation's table: for each
 * role, the legal (state, kind) → next state steps. Every other pair must be refused.
 */
const REQUESTER: Record<string, CaseState> = {
  [`${S.CASE_STATE_DRAFT}:${K.MESSAGE_KIND_TRACE_REQUEST}`]: S.CASE_STATE_SENT,
  [`${S.CASE_STATE_SENT}:${K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT}`]: S.CASE_STATE_ACKNOWLEDGED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_CLARIFICATION_REQUEST}`]: S.CASE_STATE_CLARIFICATION,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_CLARIFICATION_REQUEST}`]: S.CASE_STATE_CLARIFICATION,
  [`${S.CASE_STATE_CLARIFICATION}:${K.MESSAGE_KIND_CLARIFICATION_REPLY}`]: S.CASE_STATE_ACKNOWLEDGED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_ANSWER}`]: S.CASE_STATE_ANSWERED,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_ANSWER}`]: S.CASE_STATE_ANSWERED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_RESTRICTION}`]: S.CASE_STATE_RESTRICTED,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_RESTRICTION}`]: S.CASE_STATE_RESTRICTED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_DELAY}`]: S.CASE_STATE_DELAYED,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_DELAY}`]: S.CASE_STATE_DELAYED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_REFUSAL}`]: S.CASE_STATE_REFUSED,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_REFUSAL}`]: S.CASE_STATE_REFUSED,
  [`${S.CASE_STATE_DRAFT}:${K.MESSAGE_KIND_TRACE_WITHDRAWAL}`]: S.CASE_STATE_WITHDRAWN,
  [`${S.CASE_STATE_SENT}:${K.MESSAGE_KIND_TRACE_WITHDRAWAL}`]: S.CASE_STATE_WITHDRAWN,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_WITHDRAWAL}`]: S.CASE_STATE_WITHDRAWN,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_WITHDRAWAL}`]: S.CASE_STATE_WITHDRAWN,
  [`${S.CASE_STATE_CLARIFICATION}:${K.MESSAGE_KIND_TRACE_WITHDRAWAL}`]: S.CASE_STATE_WITHDRAWN,
  [`${S.CASE_STATE_ANSWERED}:${K.MESSAGE_KIND_TRACE_CLOSURE}`]: S.CASE_STATE_CLOSED,
  [`${S.CASE_STATE_RESTRICTED}:${K.MESSAGE_KIND_TRACE_CLOSURE}`]: S.CASE_STATE_CLOSED,
  [`${S.CASE_STATE_REFUSED}:${K.MESSAGE_KIND_TRACE_CLOSURE}`]: S.CASE_STATE_CLOSED,
};

const REQUESTED: Record<string, CaseState> = {
  [`${S.CASE_STATE_RECEIVED}:${K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT}`]: S.CASE_STATE_ACKNOWLEDGED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_CLARIFICATION_REQUEST}`]: S.CASE_STATE_CLARIFICATION,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_CLARIFICATION_REQUEST}`]: S.CASE_STATE_CLARIFICATION,
  [`${S.CASE_STATE_CLARIFICATION}:${K.MESSAGE_KIND_CLARIFICATION_REPLY}`]: S.CASE_STATE_ACKNOWLEDGED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_ANSWER}`]: S.CASE_STATE_ANSWERED,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_ANSWER}`]: S.CASE_STATE_ANSWERED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_RESTRICTION}`]: S.CASE_STATE_RESTRICTED,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_RESTRICTION}`]: S.CASE_STATE_RESTRICTED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_DELAY}`]: S.CASE_STATE_DELAYED,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_DELAY}`]: S.CASE_STATE_DELAYED,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_REFUSAL}`]: S.CASE_STATE_REFUSED,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_REFUSAL}`]: S.CASE_STATE_REFUSED,
  [`${S.CASE_STATE_RECEIVED}:${K.MESSAGE_KIND_TRACE_WITHDRAWAL}`]: S.CASE_STATE_WITHDRAWN,
  [`${S.CASE_STATE_ACKNOWLEDGED}:${K.MESSAGE_KIND_TRACE_WITHDRAWAL}`]: S.CASE_STATE_WITHDRAWN,
  [`${S.CASE_STATE_DELAYED}:${K.MESSAGE_KIND_TRACE_WITHDRAWAL}`]: S.CASE_STATE_WITHDRAWN,
  [`${S.CASE_STATE_CLARIFICATION}:${K.MESSAGE_KIND_TRACE_WITHDRAWAL}`]: S.CASE_STATE_WITHDRAWN,
  [`${S.CASE_STATE_ANSWERED}:${K.MESSAGE_KIND_TRACE_CLOSURE}`]: S.CASE_STATE_CLOSED,
  [`${S.CASE_STATE_RESTRICTED}:${K.MESSAGE_KIND_TRACE_CLOSURE}`]: S.CASE_STATE_CLOSED,
  [`${S.CASE_STATE_REFUSED}:${K.MESSAGE_KIND_TRACE_CLOSURE}`]: S.CASE_STATE_CLOSED,
};

/** Which kinds the requester sends (the requested side receives them), per the ITI workflow. */
const REQUESTER_SENDS = new Set([
  K.MESSAGE_KIND_TRACE_REQUEST,
  K.MESSAGE_KIND_CLARIFICATION_REPLY,
  K.MESSAGE_KIND_TRACE_WITHDRAWAL,
  K.MESSAGE_KIND_TRACE_CLOSURE,
]);

function outcome(
  role: CaseRole,
  state: CaseState,
  kind: MessageKind,
  direction: 'send' | 'receive',
): CaseState | ErrorCode {
  try {
    return nextState(role, state, kind, direction);
  } catch (error) {
    expect(error).toBeInstanceOf(TracenetError);
    return (error as TracenetError).code;
  }
}

const cases: Array<[string, CaseRole, Record<string, CaseState>]> = [
  ['requester', CaseRole.CASE_ROLE_REQUESTER, REQUESTER],
  ['requested', CaseRole.CASE_ROLE_REQUESTED, REQUESTED],
];

describe.each(cases)('case state machine, %s side', (_name, role, expected) => {
  const rows = STATES.flatMap((state) => WORKFLOW_KINDS.map((kind) => [state, kind] as const));

  it.each(rows.map(([state, kind]) => [CaseState[state], MessageKind[kind], state, kind] as const))(
    '%s + %s',
    (_s, _k, state, kind) => {
      const mine = (role === CaseRole.CASE_ROLE_REQUESTER) === REQUESTER_SENDS.has(kind);
      expect(sends(role, kind)).toBe(mine);
      const direction = mine ? 'send' : 'receive';
      const wrongWay = mine ? 'receive' : 'send';
      const want = expected[`${state}:${kind}`];
      const final = state === S.CASE_STATE_CLOSED || state === S.CASE_STATE_WITHDRAWN;
      if (final) {
        expect(outcome(role, state, kind, direction)).toBe(ErrorCode.ERROR_CODE_CASE_CLOSED);
      } else if (want !== undefined) {
        expect(outcome(role, state, kind, direction)).toBe(want);
      } else {
        expect(outcome(role, state, kind, direction)).toBe(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION);
      }
      // A kind travelling the wrong way is never a legal step.
      expect(outcome(role, state, kind, wrongWay)).toBe(
        final ? ErrorCode.ERROR_CODE_CASE_CLOSED : ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
      );
    },
  );

  it('illegal steps carry FAILED_PRECONDITION', () => {
    const error = (() => {
      try {
        nextState(
          role,
          S.CASE_STATE_ANSWERED,
          K.MESSAGE_KIND_TRACE_ANSWER,
          role === CaseRole.CASE_ROLE_REQUESTER ? 'receive' : 'send',
        );
      } catch (e) {
        return e as TracenetError;
      }
      return undefined;
    })();
    expect(error?.grpcStatus).toBe(9);
  });
});
