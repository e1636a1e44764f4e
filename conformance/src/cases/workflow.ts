import {
  AnswerCaseRequest,
  CaseRole,
  CaseState,
  ClarificationRequest,
  CreateCaseRequest,
  ErrorCode,
  MessageKind,
  ReasonCode,
  type Refusal,
  RefuseCaseRequest,
  type Restriction,
  RestrictCaseRequest,
  type TraceAcknowledgement,
  TraceOutcome,
  type TraceAnswer,
  type TraceRequest,
  Priority,
  DelayCaseRequest,
  FollowOnRequest,
  WeaponRecord,
} from '@tracenet/proto';
import type { ConformanceCase } from '../case.js';
import { CaseFailure, ensureEqual, ensureOk, ensureRefused } from '../check.js';
import {
  acknowledgedSentTrace,
  acknowledgedTrace,
  answeredSentTrace,
  ensureState,
  getCase,
  newTraceId,
  REASON,
  receivedTrace,
  sendAccepted,
  sendBody,
  sentTrace,
  traceRequest,
  tracedAnswer,
  weaponRecord,
} from '../fixtures.js';

const E = ErrorCode;
const K = MessageKind;
const S = CaseState;

/** Access control of the workflow (protocol 6.3, 12.4, 12.5): deny by default, traces are per peer. */
export const ACCESS_CASES: ConformanceCase[] = [
  {
    id: 'access.request-denied-by-default',
    section: '12.5',
    feature: 'access',
    title:
      'a trace request from a pinned peer without a policy is KIND_NOT_ALLOWED (header.kind, peer_policy) with a receipt; no case is opened',
    async run(ctx) {
      const peer = await ctx.peer();
      const { sealed, outcome } = await sendBody(peer, K.MESSAGE_KIND_TRACE_REQUEST, traceRequest());
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_KIND_NOT_ALLOWED, field: 'header.kind', rule: 'peer_policy', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
      const { cases } = await ctx.target.cases.call('listCases', {
        role: 0,
        state: 0,
        peer: peer.participantId,
        overdueOnly: false,
        limit: 10,
        cursor: '',
      });
      ensureEqual(cases.length, 0, 'cases opened by a refused request');
    },
  },
  {
    id: 'access.policy-before-content',
    section: '12.4',
    feature: 'access',
    title:
      'an incomplete request from a peer that may not open traces is KIND_NOT_ALLOWED, not REQUEST_INCOMPLETE: it learns nothing more',
    async run(ctx) {
      const peer = await ctx.peer();
      const { sealed, outcome } = await sendBody(peer, K.MESSAGE_KIND_TRACE_REQUEST, { traceId: 'x' });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_KIND_NOT_ALLOWED, rule: 'peer_policy', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'access.notice-without-policy',
    section: '6.3',
    feature: 'access',
    title:
      'a peer without a policy may still send notices (every kind but TRACE_REQUEST is accepted from any pinned peer)',
    async run(ctx) {
      const peer = await ctx.peer();
      await sendAccepted(peer, K.MESSAGE_KIND_NOTICE, { subject: 'hello', text: 'a notice' }, 'protocol 6.3');
    },
  },
  {
    id: 'access.unknown-trace',
    section: '12.4',
    feature: 'access',
    title:
      'a workflow message naming a trace the node does not have is NOT_FOUND (body.trace_id, known_trace) with a receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const { sealed, outcome } = await sendBody(peer, K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, {
        traceId: 'AAAAAAAAAAAAAAAAAAAAAA',
        requestedCaseReference: 'REF-1',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_NOT_FOUND, field: 'body.trace_id', rule: 'known_trace', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'access.other-peers-trace',
    section: '12.4',
    feature: 'access',
    title: "a peer naming another peer's trace gets the same NOT_FOUND (known_trace) as for an unknown trace",
    async run(ctx) {
      const trace = await sentTrace(ctx);
      const intruder = await ctx.peer();
      const { sealed, outcome } = await sendBody(intruder, K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, {
        traceId: trace.traceId,
        requestedCaseReference: 'HIJACK',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_NOT_FOUND, field: 'body.trace_id', rule: 'known_trace', receipt: 'rejected' },
        intruder.receiptOf(sealed.header.messageId, sealed.digest),
      );
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_SENT, 'protocol 12.4: the trace is unchanged');
    },
  },
];

/** Required content of a trace request (protocol 12.2) on both sides. */
export const REQUEST_CASES: ConformanceCase[] = [
  {
    id: 'request.received-creates-case',
    section: '12.4',
    feature: 'request',
    title:
      'an accepted request opens a RECEIVED case of role REQUESTED with the peer, its reference and chain id = trace id',
    async run(ctx) {
      const request = traceRequest();
      const trace = await receivedTrace(ctx, {}, request);
      const c = await getCase(ctx, trace.caseId);
      ensureState(c, S.CASE_STATE_RECEIVED, 'protocol 12.4 step 3');
      ensureEqual(c.role, CaseRole.CASE_ROLE_REQUESTED, 'role');
      ensureEqual(c.peer, trace.peer.participantId, 'peer');
      ensureEqual(c.traceId, request.traceId, 'trace_id');
      ensureEqual(c.peerReference, request.caseReference, 'peer_reference');
      ensureEqual(c.chainId, request.traceId, 'chain_id');
    },
  },
  {
    id: 'request.incomplete-rejected',
    section: '12.2',
    feature: 'request',
    title:
      'a request without circumstances and intended use is REQUEST_INCOMPLETE listing both violations, with a receipt; no case',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { acceptRequests: true } });
      const request = traceRequest({ circumstances: undefined, intendedUse: '' });
      const { sealed, outcome } = await sendBody(peer, K.MESSAGE_KIND_TRACE_REQUEST, request);
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_REQUEST_INCOMPLETE, field: 'body.circumstances', rule: 'required', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
      const fields = outcome.ok ? [] : (outcome.error.detail?.violations ?? []).map((v) => v.field);
      ensureEqual(fields, ['body.circumstances', 'body.intended_use'], 'ErrorDetail.violations fields');
      const { cases } = await ctx.target.cases.call('listCases', {
        role: 0,
        state: 0,
        peer: peer.participantId,
        overdueOnly: false,
        limit: 10,
        cursor: '',
      });
      ensureEqual(cases.length, 0, 'cases opened by an incomplete request');
    },
  },
  {
    id: 'request.urgent-needs-justification',
    section: '12.2',
    feature: 'request',
    title: 'an URGENT request without urgency_justification is REQUEST_INCOMPLETE (body.urgency_justification)',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { acceptRequests: true } });
      const { sealed, outcome } = await sendBody(
        peer,
        K.MESSAGE_KIND_TRACE_REQUEST,
        traceRequest({ priority: Priority.PRIORITY_URGENT, urgencyJustification: ' ' }),
      );
      ensureRefused(
        outcome,
        {
          code: E.ERROR_CODE_REQUEST_INCOMPLETE,
          field: 'body.urgency_justification',
          rule: 'required',
          receipt: 'rejected',
        },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'request.invalid-trace-id',
    section: '12.2',
    feature: 'request',
    title:
      'a request whose trace id is not 16–64 characters of [A-Za-z0-9_-] is REQUEST_INCOMPLETE (body.trace_id, trace_id)',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { acceptRequests: true } });
      const { sealed, outcome } = await sendBody(
        peer,
        K.MESSAGE_KIND_TRACE_REQUEST,
        traceRequest({ traceId: 'too short' }),
      );
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_REQUEST_INCOMPLETE, field: 'body.trace_id', rule: 'trace_id', receipt: 'rejected' },
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'request.unmarked-weapon',
    section: '12.2',
    feature: 'request',
    title: 'a request for a weapon NOT_MARKED needs no serial number or manufacturer',
    async run(ctx) {
      const base = traceRequest();
      const request = traceRequest({
        illicitCriteria: [{ kind: 3, legalBasis: 'ITI para 8: no marking' }],
        weapon: {
          ...base.weapon,
          markings: { ...base.weapon?.markings, serialNumber: '', manufacturer: '' },
        } as TraceRequest['weapon'],
      });
      await receivedTrace(ctx, {}, request);
    },
  },
  {
    id: 'request.duplicate-trace-id',
    section: '12.4',
    feature: 'request',
    title: 'a second request with a trace id the requester used before is ALREADY_EXISTS (body.trace_id, unique_trace)',
    async run(ctx) {
      const trace = await receivedTrace(ctx);
      const { sealed, outcome } = await sendBody(
        trace.peer,
        K.MESSAGE_KIND_TRACE_REQUEST,
        traceRequest({ traceId: trace.traceId }),
      );
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_ALREADY_EXISTS, field: 'body.trace_id', rule: 'unique_trace', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'request.create-incomplete-not-sent',
    section: '12.10',
    feature: 'request',
    title: 'CreateCase with an incomplete request is REQUEST_INCOMPLETE (request.*) and nothing is sent',
    async run(ctx) {
      const peer = await ctx.peer();
      const { traceId: _t, ...content } = traceRequest({ illicitCriteria: [] });
      const outcome = await ctx.call(
        ctx.target.cases.call(
          'createCase',
          CreateCaseRequest.fromPartial({ recipient: peer.participantId, request: content, send: true }),
        ),
      );
      ensureRefused(outcome, {
        code: E.ERROR_CODE_REQUEST_INCOMPLETE,
        field: 'request.illicit_criteria',
        rule: 'required',
      });
      await peer.expectNothing(300, 'protocol 12.4 sending: nothing is written or sent');
    },
  },
  {
    id: 'request.sent-complete',
    section: '12.4',
    feature: 'request',
    title:
      'a request the node sends carries the full content, a fresh trace id, chain id = trace id and correlation id = trace id; the case is SENT',
    async run(ctx) {
      const trace = await sentTrace(ctx);
      const body = trace.request.body;
      ensureEqual(body.chainId, body.traceId, 'chain_id of a first request');
      const c = await getCase(ctx, trace.caseId);
      ensureState(c, S.CASE_STATE_SENT, 'protocol 12.3: DRAFT + request sent');
      ensureEqual(c.traceId, body.traceId, 'the case trace_id');
    },
  },
];

/** Acknowledgement, clarification, outcomes, delays, restrictions, refusals, closure and illegal steps (protocol 12.3). */
export const WORKFLOW_CASES: ConformanceCase[] = [
  {
    id: 'ack.auto-acknowledge',
    section: '12.8',
    feature: 'workflow',
    title: 'with auto_acknowledge a received request is acknowledged at once with a generated reference',
    async run(ctx) {
      const request = traceRequest();
      const trace = await receivedTrace(ctx, { autoAcknowledge: true }, request);
      const ack = await trace.peer.expect<TraceAcknowledgement>(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT);
      ensureEqual(ack.body.traceId, request.traceId, 'acknowledgement trace_id');
      ensureEqual(ack.body.requesterCaseReference, request.caseReference, 'acknowledgement requester_case_reference');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_ACKNOWLEDGED, 'protocol 12.3');
    },
  },
  {
    id: 'ack.officer-acknowledges',
    section: '12.10',
    feature: 'workflow',
    title: 'AcknowledgeCase with a reference sends it as requested_case_reference; the case is ACKNOWLEDGED',
    async run(ctx) {
      const trace = await receivedTrace(ctx);
      ensureOk(
        await ctx.call(ctx.target.cases.call('acknowledgeCase', { caseId: trace.caseId, reference: 'OFFICER-REF-7' })),
        'AcknowledgeCase',
      );
      const ack = await trace.peer.expect<TraceAcknowledgement>(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT);
      ensureEqual(ack.body.requestedCaseReference, 'OFFICER-REF-7', 'requested_case_reference');
      const c = await getCase(ctx, trace.caseId);
      ensureState(c, S.CASE_STATE_ACKNOWLEDGED, 'protocol 12.3');
      ensureEqual(c.localReference, 'OFFICER-REF-7', 'local_reference');
    },
  },
  {
    id: 'ack.received-by-requester',
    section: '12.3',
    feature: 'workflow',
    title: "the requester's case moves SENT → ACKNOWLEDGED on the acknowledgement and keeps the peer's reference",
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const c = await getCase(ctx, trace.caseId);
      ensureState(c, S.CASE_STATE_ACKNOWLEDGED, 'protocol 12.3');
      ensureEqual(c.peerReference, 'FAKE-REF-1', 'peer_reference');
    },
  },
  {
    id: 'ack.no-answer-before-ack',
    section: '12.3',
    feature: 'workflow',
    title:
      'AnswerCase on a RECEIVED case (not acknowledged) is ILLEGAL_TRANSITION (received+trace_answer); nothing is sent',
    async run(ctx) {
      const trace = await receivedTrace(ctx);
      const outcome = await ctx.call(
        ctx.target.cases.call(
          'answerCase',
          AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
        ),
      );
      ensureRefused(outcome, {
        code: E.ERROR_CODE_ILLEGAL_TRANSITION,
        field: 'case_id',
        rule: 'received+trace_answer',
      });
      await trace.peer.expectNothing(300, 'protocol 12.4 sending step 1: nothing is written or sent');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_RECEIVED, 'protocol 12.3');
    },
  },
  {
    id: 'ack.answer-before-ack-refused',
    section: '12.6',
    feature: 'workflow',
    title:
      'an answer received while the request is SENT (not acknowledged) is ILLEGAL_TRANSITION (sent+trace_answer), for good',
    async run(ctx) {
      const trace = await sentTrace(ctx);
      const answer = tracedAnswer(trace.traceId);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_ANSWER, answer);
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_ILLEGAL_TRANSITION, field: 'case_id', rule: 'sent+trace_answer', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
      // Acknowledged now: the same message (same id) is still refused — it arrived too early (12.6).
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
        { traceId: trace.traceId, requestedCaseReference: 'R' },
        'protocol 12.3',
      );
      const again = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_ANSWER, answer, {
        messageId: sealed.header.messageId,
      });
      ensureRefused(
        again.outcome,
        { code: E.ERROR_CODE_ILLEGAL_TRANSITION, rule: 'rejected_before', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId),
      );
    },
  },
  {
    id: 'ack.answer-waits-for-ack-delivery',
    section: '12.6',
    cites: ['5.5'],
    feature: 'workflow',
    title:
      'an answer given while the acknowledgement of its trace is still in flight (its receipt held back) is not attempted before that receipt was returned: messages of one trace go one after another',
    async run(ctx) {
      const trace = await receivedTrace(ctx);
      const holdMs = 1500;
      let ackReceiptAt = Number.POSITIVE_INFINITY;
      trace.peer.responder = (message) => {
        if (message.kind !== K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT) return 'default';
        ackReceiptAt = Date.now() + holdMs;
        return { delayMs: holdMs, then: 'default' };
      };
      ensureOk(
        await ctx.call(ctx.target.cases.call('acknowledgeCase', { caseId: trace.caseId, reference: '' })),
        'AcknowledgeCase',
      );
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, {
        context: 'protocol 12.4 sending: AcknowledgeCase',
      });
      // The acknowledgement is in flight now: the fake peer holds its receipt back for holdMs.
      ensureOk(
        await ctx.call(
          ctx.target.cases.call(
            'answerCase',
            AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
          ),
        ),
        'AnswerCase',
      );
      const answer = await trace.peer.expect(K.MESSAGE_KIND_TRACE_ANSWER, {
        timeoutMs: holdMs + 8000,
        context: 'protocol 12.6: sent once the acknowledgement is delivered',
      });
      // 50 ms for timers that fire a little early.
      if (answer.receivedAtMs < ackReceiptAt - 50) {
        throw new CaseFailure(
          'the answer attempted only after the receipt of the acknowledgement was returned',
          `the answer arrived ${ackReceiptAt - answer.receivedAtMs} ms before that receipt was returned`,
        );
      }
    },
  },
  {
    id: 'ack.twice',
    section: '12.3',
    feature: 'workflow',
    title: 'a second acknowledgement is ILLEGAL_TRANSITION (acknowledged+trace_acknowledgement)',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, {
        traceId: trace.traceId,
        requestedCaseReference: 'AGAIN',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_ILLEGAL_TRANSITION, rule: 'acknowledged+trace_acknowledgement', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'clarification.requested-side-round-trip',
    section: '12.3',
    feature: 'workflow',
    title:
      'RequestClarification sends the question (case CLARIFICATION); the reply naming it returns the case to ACKNOWLEDGED',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      ensureOk(
        await ctx.call(
          ctx.target.cases.call('requestClarification', { caseId: trace.caseId, question: 'Which calibre exactly?' }),
        ),
        'RequestClarification',
      );
      const question = await trace.peer.expect<ClarificationRequest>(K.MESSAGE_KIND_CLARIFICATION_REQUEST);
      ensureEqual(question.body.question, 'Which calibre exactly?', 'question');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_CLARIFICATION, 'protocol 12.3');
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_CLARIFICATION_REPLY,
        { traceId: trace.traceId, clarificationId: question.body.clarificationId, answer: '9x19mm' },
        'protocol 12.3: CLARIFICATION + reply',
      );
      const c = await getCase(ctx, trace.caseId);
      ensureState(c, S.CASE_STATE_ACKNOWLEDGED, 'protocol 12.3');
      ensureEqual(c.clarifications[0]?.answer, '9x19mm', 'the clarification answer');
    },
  },
  {
    id: 'clarification.reply-to-no-open-question',
    section: '12.4',
    feature: 'workflow',
    title: 'a reply naming another clarification id is INVALID_FIELD (body.clarification_id, open_clarification)',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      await ctx.target.cases.call('requestClarification', { caseId: trace.caseId, question: 'Where was it found?' });
      await trace.peer.expect(K.MESSAGE_KIND_CLARIFICATION_REQUEST);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_CLARIFICATION_REPLY, {
        traceId: trace.traceId,
        clarificationId: 'not-the-open-one',
        answer: 'here',
      });
      ensureRefused(
        outcome,
        {
          code: E.ERROR_CODE_INVALID_FIELD,
          field: 'body.clarification_id',
          rule: 'open_clarification',
          receipt: 'rejected',
        },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'clarification.requester-side',
    section: '12.3',
    feature: 'workflow',
    title:
      'the requester receives a question (CLARIFICATION) and ReplyClarification answers it with the same clarification id',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_CLARIFICATION_REQUEST,
        { traceId: trace.traceId, clarificationId: 'q-1', question: 'Photo of the frame?' },
        'protocol 12.3: ACKNOWLEDGED + clarification request',
      );
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_CLARIFICATION, 'protocol 12.3');
      ensureOk(
        await ctx.call(
          ctx.target.cases.call('replyClarification', { caseId: trace.caseId, answer: 'attached', weapon: undefined }),
        ),
        'ReplyClarification',
      );
      const reply = await trace.peer.expect<{ clarificationId: string; answer: string }>(
        K.MESSAGE_KIND_CLARIFICATION_REPLY,
      );
      ensureEqual(reply.body.clarificationId, 'q-1', 'clarification_id of the reply');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_ACKNOWLEDGED, 'protocol 12.3');
    },
  },
  {
    id: 'clarification.blocks-answer',
    section: '12.3',
    feature: 'workflow',
    title: 'while a clarification is open an answer is ILLEGAL_TRANSITION (clarification+trace_answer)',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_CLARIFICATION_REQUEST,
        { traceId: trace.traceId, clarificationId: 'q-1', question: 'More?' },
        'protocol 12.3',
      );
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_ANSWER, tracedAnswer(trace.traceId));
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_ILLEGAL_TRANSITION, rule: 'clarification+trace_answer', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  ...[
    TraceOutcome.TRACE_OUTCOME_TRACED,
    TraceOutcome.TRACE_OUTCOME_NO_RECORD,
    TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION,
  ].map(
    (outcome): ConformanceCase => ({
      id: `outcome.received-${TraceOutcome[outcome].replace('TRACE_OUTCOME_', '').toLowerCase().replace(/_/g, '-')}`,
      section: '12.3',
      feature: 'workflow',
      title: `an answer with outcome ${TraceOutcome[outcome]} moves the requester's case to ANSWERED and is kept`,
      async run(ctx) {
        const trace = await acknowledgedSentTrace(ctx);
        await sendAccepted(
          trace.peer,
          K.MESSAGE_KIND_TRACE_ANSWER,
          tracedAnswer(trace.traceId, { outcome }),
          'protocol 12.3',
        );
        const c = await getCase(ctx, trace.caseId);
        ensureState(c, S.CASE_STATE_ANSWERED, 'protocol 12.3');
        ensureEqual(c.answer?.outcome, outcome, 'answer.outcome');
      },
    }),
  ),
  {
    id: 'outcome.referred-follow-on',
    section: '12.9',
    feature: 'workflow',
    title:
      'a REFERRED answer allows FollowOn: a new request to the referred participant with previous_trace_id and the same chain id',
    async run(ctx) {
      const next = await ctx.peer();
      const trace = await acknowledgedSentTrace(ctx);
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_TRACE_ANSWER,
        tracedAnswer(trace.traceId, {
          outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
          referral: { participant: next.participantId, basis: `exported to ${next.participantId}`, event: undefined },
        }),
        'protocol 12.3',
      );
      ensureOk(
        await ctx.call(
          ctx.target.cases.call('followOn', FollowOnRequest.fromPartial({ caseId: trace.caseId, send: true })),
        ),
        'FollowOn',
      );
      const request = await next.expect<TraceRequest>(K.MESSAGE_KIND_TRACE_REQUEST);
      ensureEqual(request.body.previousTraceId, trace.traceId, 'previous_trace_id');
      ensureEqual(request.body.chainId, trace.request.body.chainId, 'chain_id');
      const again = await ctx.call(
        ctx.target.cases.call('followOn', FollowOnRequest.fromPartial({ caseId: trace.caseId, send: true })),
      );
      ensureRefused(again, { code: E.ERROR_CODE_ALREADY_EXISTS, field: 'case_id', rule: 'one_follow_on' });
    },
  },
  {
    id: 'outcome.follow-on-needs-referral',
    section: '12.9',
    feature: 'workflow',
    title: 'FollowOn from an answer that does not refer the trace is ILLEGAL_TRANSITION (case_id, referred_answer)',
    async run(ctx) {
      const trace = await answeredSentTrace(ctx);
      ensureRefused(
        await ctx.call(
          ctx.target.cases.call('followOn', FollowOnRequest.fromPartial({ caseId: trace.caseId, send: true })),
        ),
        { code: E.ERROR_CODE_ILLEGAL_TRANSITION, field: 'case_id', rule: 'referred_answer' },
      );
    },
  },
  {
    id: 'outcome.traced-needs-last-legal-record',
    section: '12.2',
    feature: 'workflow',
    title: 'a TRACED answer without last_legal_record is INVALID_FIELD (body.last_legal_record) with a receipt',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const { sealed, outcome } = await sendBody(
        trace.peer,
        K.MESSAGE_KIND_TRACE_ANSWER,
        tracedAnswer(trace.traceId, { lastLegalRecord: ' ' }),
      );
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.last_legal_record', rule: 'required', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'outcome.referred-needs-participant',
    section: '12.2',
    feature: 'workflow',
    title: 'a REFERRED answer without a referral participant is INVALID_FIELD (body.referral.participant)',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const { sealed, outcome } = await sendBody(
        trace.peer,
        K.MESSAGE_KIND_TRACE_ANSWER,
        tracedAnswer(trace.traceId, {
          outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
          referral: { participant: '', basis: 'exported', event: undefined },
        }),
      );
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.referral.participant', rule: 'required', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'outcome.unspecified',
    section: '12.2',
    feature: 'workflow',
    title: 'an answer without outcome is INVALID_FIELD (body.outcome)',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_ANSWER, { traceId: trace.traceId });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.outcome', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'outcome.sent-answer',
    section: '12.10',
    feature: 'workflow',
    title: 'AnswerCase sends the answer (outcome, last legal record, automatic = false) and the case is ANSWERED',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      ensureOk(
        await ctx.call(
          ctx.target.cases.call(
            'answerCase',
            AnswerCaseRequest.fromPartial({
              caseId: trace.caseId,
              outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
              lastLegalRecord: 'sold 2019 to dealer D',
            }),
          ),
        ),
        'AnswerCase',
      );
      const answer = await trace.peer.expect<TraceAnswer>(K.MESSAGE_KIND_TRACE_ANSWER);
      ensureEqual(answer.body.outcome, TraceOutcome.TRACE_OUTCOME_TRACED, 'outcome');
      ensureEqual(answer.body.lastLegalRecord, 'sold 2019 to dealer D', 'last_legal_record');
      ensureEqual(answer.body.automatic, false, 'automatic');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_ANSWERED, 'protocol 12.3');
    },
  },
  {
    id: 'outcome.incomplete-answer-not-sent',
    section: '12.10',
    feature: 'workflow',
    title: 'AnswerCase REFERRED without a referral is INVALID_FIELD (answer.referral.*) and nothing is sent',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      const outcome = await ctx.call(
        ctx.target.cases.call(
          'answerCase',
          AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_REFERRED }),
        ),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_INVALID_FIELD });
      if (!outcome.ok && !(outcome.error.detail?.field ?? '').startsWith('answer.referral')) {
        throw new CaseFailure(
          'field answer.referral.participant or answer.referral.basis',
          `field ${outcome.error.detail?.field ?? ''}`,
          'protocol 12.10',
        );
      }
      await trace.peer.expectNothing(300, 'protocol 12.10');
    },
  },
  {
    id: 'refusal.sent-with-reason',
    section: '12.1',
    feature: 'workflow',
    title: 'RefuseCase sends the refusal with its reason and explanation; the case is REFUSED',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      ensureOk(
        await ctx.call(
          ctx.target.cases.call(
            'refuseCase',
            RefuseCaseRequest.fromPartial({
              caseId: trace.caseId,
              reason: ReasonCode.REASON_CODE_NATIONAL_SECURITY,
              explanation: 'classified stock',
            }),
          ),
        ),
        'RefuseCase',
      );
      const refusal = await trace.peer.expect<Refusal>(K.MESSAGE_KIND_TRACE_REFUSAL);
      ensureEqual(refusal.body.reason, ReasonCode.REASON_CODE_NATIONAL_SECURITY, 'refusal reason');
      ensureEqual(refusal.body.explanation, 'classified stock', 'refusal explanation');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_REFUSED, 'protocol 12.3');
    },
  },
  {
    id: 'refusal.local-without-reason',
    section: '12.10',
    feature: 'workflow',
    title: 'RefuseCase without a reason code is MISSING_FIELD and nothing is sent',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      const outcome = await ctx.call(
        ctx.target.cases.call('refuseCase', RefuseCaseRequest.fromPartial({ caseId: trace.caseId, explanation: 'no' })),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_MISSING_FIELD });
      await trace.peer.expectNothing(300, 'protocol 12.10');
    },
  },
  {
    id: 'refusal.received-without-reason',
    section: '12.2',
    feature: 'workflow',
    title: 'a received refusal without reason is MISSING_FIELD (body.reason) with a receipt',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_REFUSAL, {
        traceId: trace.traceId,
        explanation: 'no reason given',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_MISSING_FIELD, field: 'body.reason', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'refusal.received',
    section: '12.3',
    feature: 'workflow',
    title: 'a refusal with its reason moves the requester case to REFUSED and is kept',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_TRACE_REFUSAL,
        { traceId: trace.traceId, ...REASON },
        'protocol 12.3',
      );
      const c = await getCase(ctx, trace.caseId);
      ensureState(c, S.CASE_STATE_REFUSED, 'protocol 12.3');
      ensureEqual(c.refusal?.reason, REASON.reason, 'refusal.reason');
    },
  },
  {
    id: 'delay.extends-answer-deadline',
    section: '12.7',
    feature: 'workflow',
    title:
      'a delay with expected_by moves the case to DELAYED and extends answer_due_at_ms to the end of that day (UTC)',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const expectedBy = `${new Date().getUTCFullYear() + 2}-06-30`;
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_TRACE_DELAY,
        { traceId: trace.traceId, ...REASON, expectedBy },
        'protocol 12.3',
      );
      const c = await getCase(ctx, trace.caseId);
      ensureState(c, S.CASE_STATE_DELAYED, 'protocol 12.3');
      ensureEqual(c.answerDueAtMs, Date.parse(`${expectedBy}T23:59:59.999Z`), 'answer_due_at_ms');
    },
  },
  {
    id: 'delay.bad-date',
    section: '12.2',
    feature: 'workflow',
    title: 'a delay whose expected_by is not a date is INVALID_FIELD (body.expected_by, date)',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_DELAY, {
        traceId: trace.traceId,
        ...REASON,
        expectedBy: 'next spring',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.expected_by', rule: 'date', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'delay.sent',
    section: '12.10',
    feature: 'workflow',
    title: 'DelayCase sends the delay with reason, explanation and expected date; the case is DELAYED',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      ensureOk(
        await ctx.call(
          ctx.target.cases.call(
            'delayCase',
            DelayCaseRequest.fromPartial({ caseId: trace.caseId, ...REASON, expectedBy: '2031-01-31' }),
          ),
        ),
        'DelayCase',
      );
      const delay = await trace.peer.expect<{ expectedBy: string; reason: number }>(K.MESSAGE_KIND_TRACE_DELAY);
      ensureEqual(delay.body.expectedBy, '2031-01-31', 'expected_by');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_DELAYED, 'protocol 12.3');
    },
  },
  {
    id: 'restriction.received-partial',
    section: '12.3',
    feature: 'workflow',
    title: 'a restriction with a partial answer moves the requester case to RESTRICTED and keeps both',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_TRACE_RESTRICTION,
        { traceId: trace.traceId, ...REASON, partialAnswer: tracedAnswer(trace.traceId) },
        'protocol 12.3',
      );
      const c = await getCase(ctx, trace.caseId);
      ensureState(c, S.CASE_STATE_RESTRICTED, 'protocol 12.3');
      ensureEqual(
        c.restriction?.partialAnswer?.outcome,
        TraceOutcome.TRACE_OUTCOME_TRACED,
        'restriction.partial_answer.outcome',
      );
    },
  },
  {
    id: 'restriction.sent',
    section: '12.10',
    feature: 'workflow',
    title: 'RestrictCase sends the restriction with its reason and the partial answer; the case is RESTRICTED',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      ensureOk(
        await ctx.call(
          ctx.target.cases.call(
            'restrictCase',
            RestrictCaseRequest.fromPartial({
              caseId: trace.caseId,
              ...REASON,
              partialAnswer: { caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD },
            }),
          ),
        ),
        'RestrictCase',
      );
      const restriction = await trace.peer.expect<Restriction>(K.MESSAGE_KIND_TRACE_RESTRICTION);
      ensureEqual(restriction.body.reason, REASON.reason, 'reason');
      ensureEqual(
        restriction.body.partialAnswer?.outcome,
        TraceOutcome.TRACE_OUTCOME_NO_RECORD,
        'partial_answer.outcome',
      );
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_RESTRICTED, 'protocol 12.3');
    },
  },
  {
    id: 'closed.closure-ends-case',
    section: '12.3',
    feature: 'workflow',
    title:
      'CloseCase after an answer sends the closure (case CLOSED); any later message of the trace is CASE_CLOSED (case_open)',
    async run(ctx) {
      const trace = await answeredSentTrace(ctx);
      ensureOk(
        await ctx.call(ctx.target.cases.call('closeCase', { caseId: trace.caseId, useful: true, feedback: 'thanks' })),
        'CloseCase',
      );
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_CLOSURE);
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_CLOSED, 'protocol 12.3');
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_DELAY, {
        traceId: trace.traceId,
        ...REASON,
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_CASE_CLOSED, field: 'case_id', rule: 'case_open', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'closed.withdrawn-by-requester',
    section: '12.3',
    feature: 'workflow',
    title:
      'a received withdrawal ends the requested case (WITHDRAWN); answering it then is CASE_CLOSED and nothing is sent',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_TRACE_WITHDRAWAL,
        { traceId: trace.traceId, reason: 'found the owner' },
        'protocol 12.3',
      );
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_WITHDRAWN, 'protocol 12.3');
      const outcome = await ctx.call(
        ctx.target.cases.call(
          'answerCase',
          AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
        ),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_CASE_CLOSED, field: 'case_id', rule: 'case_open' });
      await trace.peer.expectNothing(300, 'protocol 12.4 sending step 1');
    },
  },
  {
    id: 'illegal.withdraw-after-answer',
    section: '12.3',
    feature: 'workflow',
    title:
      'a withdrawal after the answer is ILLEGAL_TRANSITION (answered+trace_withdrawal): a requester cannot withdraw once answered',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      await ctx.target.cases.call(
        'answerCase',
        AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
      );
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_ANSWER);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_WITHDRAWAL, {
        traceId: trace.traceId,
        reason: 'too late',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_ILLEGAL_TRANSITION, rule: 'answered+trace_withdrawal', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'illegal.wrong-direction',
    section: '12.1',
    feature: 'workflow',
    title:
      'an answer sent by the requester on its own trace names no trace the node requested: NOT_FOUND (known_trace), the case is unchanged',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      // The receiver finds the requester from the kind (12.1): an answer comes from the requested
      // side, so the node looks for a trace it requested itself — there is none.
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_ANSWER, tracedAnswer(trace.traceId));
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_NOT_FOUND, field: 'body.trace_id', rule: 'known_trace', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_ACKNOWLEDGED, 'protocol 12.3: the case is unchanged');
    },
  },
  {
    id: 'illegal.closure-before-answer',
    section: '12.3',
    feature: 'workflow',
    title: 'a closure of a trace that is only acknowledged is ILLEGAL_TRANSITION (acknowledged+trace_closure)',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_CLOSURE, {
        traceId: trace.traceId,
        useful: false,
        feedback: '',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_ILLEGAL_TRANSITION, rule: 'acknowledged+trace_closure', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'ack.reference-too-long',
    section: '12.2',
    feature: 'workflow',
    title:
      'an acknowledgement whose requested_case_reference exceeds 200 characters is MISSING_FIELD (body.requested_case_reference, max_length)',
    async run(ctx) {
      const trace = await sentTrace(ctx);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, {
        traceId: trace.traceId,
        requestedCaseReference: 'R'.repeat(201),
      });
      ensureRefused(
        outcome,
        {
          code: E.ERROR_CODE_MISSING_FIELD,
          field: 'body.requested_case_reference',
          rule: 'max_length',
          receipt: 'rejected',
        },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'delay.without-explanation',
    section: '12.2',
    feature: 'workflow',
    title: 'a received delay without explanation is MISSING_FIELD (body.explanation) with a receipt',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_TRACE_DELAY, {
        traceId: trace.traceId,
        reason: ReasonCode.REASON_CODE_OTHER,
        explanation: '  ',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_MISSING_FIELD, field: 'body.explanation', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'withdraw.sent',
    section: '12.10',
    feature: 'workflow',
    title: 'WithdrawCase on a sent request sends the withdrawal with its reason; the case is WITHDRAWN',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      ensureOk(
        await ctx.call(ctx.target.cases.call('withdrawCase', { caseId: trace.caseId, reason: 'weapon identified' })),
        'WithdrawCase',
      );
      const withdrawal = await trace.peer.expect<{ reason: string }>(K.MESSAGE_KIND_TRACE_WITHDRAWAL);
      ensureEqual(withdrawal.body.reason, 'weapon identified', 'withdrawal reason');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_WITHDRAWN, 'protocol 12.3');
    },
  },
  {
    id: 'withdraw.draft-sends-nothing',
    section: '12.3',
    feature: 'workflow',
    title: 'a draft (CreateCase without send) is withdrawn locally: WITHDRAWN and no message at all',
    async run(ctx) {
      const peer = await ctx.peer();
      const { traceId: _t, ...content } = traceRequest();
      const created = ensureOk(
        await ctx.call(
          ctx.target.cases.call(
            'createCase',
            CreateCaseRequest.fromPartial({ recipient: peer.participantId, request: content, send: false }),
          ),
        ),
        'CreateCase',
      );
      const caseId = created.case?.caseId ?? '';
      ensureState(await getCase(ctx, caseId), S.CASE_STATE_DRAFT, 'protocol 12.3');
      ensureOk(await ctx.call(ctx.target.cases.call('withdrawCase', { caseId, reason: 'not needed' })), 'WithdrawCase');
      ensureState(await getCase(ctx, caseId), S.CASE_STATE_WITHDRAWN, 'protocol 12.3');
      await peer.expectNothing(300, 'protocol 12.3: DRAFT + withdrawal is local only');
    },
  },
  {
    id: 'auto-answer.from-record',
    section: '12.8',
    cites: ['11.1'],
    feature: 'workflow',
    title:
      'with auto_answer and exactly one matching record the node acknowledges, then answers automatically from its events — never its secondary marks or notes',
    async run(ctx) {
      const serial = `AA-${newTraceId()
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 10)}`;
      await ctx.target.records.call('putRecord', { record: WeaponRecord.fromPartial(weaponRecord(serial)) });
      const base = traceRequest();
      const request = traceRequest({
        weapon: {
          ...base.weapon,
          markings: { ...base.weapon?.markings, serialNumber: serial },
        } as TraceRequest['weapon'],
      });
      const trace = await receivedTrace(ctx, { autoAnswer: true }, request);
      const ack = await trace.peer.expect(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT);
      const answer = await trace.peer.expect<TraceAnswer>(K.MESSAGE_KIND_TRACE_ANSWER);
      if (answer.receivedAtMs < ack.receivedAtMs)
        throw new CaseFailure('the acknowledgement delivered before the answer', 'the answer first', 'protocol 12.6');
      ensureEqual(answer.body.automatic, true, 'automatic');
      ensureEqual(answer.body.outcome, TraceOutcome.TRACE_OUTCOME_TRACED, 'outcome (last event STOLEN)');
      ensureEqual(answer.body.history.length, 2, 'history events');
      const text = Buffer.from(answer.bodyBytes).toString('latin1');
      for (const secret of ['COVERT-MARK-77', 'CONFIDENTIAL-NOTE-91']) {
        if (text.includes(secret))
          throw new CaseFailure(
            'no secondary mark or note of the record in the answer',
            `the answer contains ${JSON.stringify(secret)}`,
            'protocol 11.1',
          );
      }
    },
  },
  {
    id: 'auto-answer.no-match-waits',
    section: '12.8',
    feature: 'workflow',
    title: 'with auto_answer but no matching record the node only acknowledges and waits for an officer',
    async run(ctx) {
      const trace = await receivedTrace(ctx, { autoAnswer: true });
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT);
      await trace.peer.expectNothing(400, 'protocol 12.8: nothing is sent without exactly one match');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_ACKNOWLEDGED, 'protocol 12.8');
    },
  },
  {
    id: 'auto-answer.several-matches-wait',
    section: '12.8',
    feature: 'workflow',
    title:
      'with auto_answer and two records matching the requested weapon the node only acknowledges and waits for an officer: an automatic answer needs exactly one match',
    async run(ctx) {
      const serial = `AB-${newTraceId()
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 10)}`;
      // Two records (PutRecord without id creates one each time) of the same weapon.
      for (const notes of ['first record', 'second record'])
        await ctx.target.records.call('putRecord', {
          record: WeaponRecord.fromPartial(weaponRecord(serial, { notes })),
        });
      const base = traceRequest();
      const trace = await receivedTrace(
        ctx,
        { autoAnswer: true },
        traceRequest({
          weapon: {
            ...base.weapon,
            markings: { ...base.weapon?.markings, serialNumber: serial },
          } as TraceRequest['weapon'],
        }),
      );
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT);
      await trace.peer.expectNothing(400, 'protocol 12.8: nothing is sent automatically when two records match');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_ACKNOWLEDGED, 'protocol 12.8');
    },
  },
  {
    id: 'auto-answer.serial-alone-no-match',
    section: '12.8',
    cites: ['11.3'],
    feature: 'workflow',
    title:
      "with auto_answer and a record of the requested serial number but another manufacturer the node only acknowledges: a serial number alone is not a weapon's identity",
    async run(ctx) {
      const serial = `AC-${newTraceId()
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 10)}`;
      const record = weaponRecord(serial);
      await ctx.target.records.call('putRecord', {
        record: WeaponRecord.fromPartial({
          ...record,
          manufacture: { ...record.manufacture, manufacturer: 'Other Works' } as WeaponRecord['manufacture'],
        }),
      });
      const base = traceRequest();
      const trace = await receivedTrace(
        ctx,
        { autoAnswer: true },
        traceRequest({
          weapon: {
            ...base.weapon,
            markings: { ...base.weapon?.markings, serialNumber: serial },
          } as TraceRequest['weapon'],
        }),
      );
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT);
      await trace.peer.expectNothing(400, 'protocol 11.3: the record of another manufacturer is no match');
      ensureState(await getCase(ctx, trace.caseId), S.CASE_STATE_ACKNOWLEDGED, 'protocol 12.8');
    },
  },
  {
    id: 'illegal.local-requester-answers',
    section: '12.3',
    feature: 'workflow',
    title: "AnswerCase on the node's own request is ILLEGAL_TRANSITION (a requester does not answer)",
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const outcome = await ctx.call(
        ctx.target.cases.call(
          'answerCase',
          AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
        ),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_ILLEGAL_TRANSITION, field: 'case_id' });
      await trace.peer.expectNothing(200, 'protocol 12.3');
    },
  },
];
