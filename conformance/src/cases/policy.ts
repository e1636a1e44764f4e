import {
  AnswerCaseRequest,
  CaseRole,
  CaseState,
  type ConsentDecision,
  type ConsentRequest,
  type DisclosureNotice,
  ErrorCode,
  MessageKind,
  OnwardDisclosure,
  ParticipantKind,
  PeerPolicy,
  type SharedInformation,
  type TraceAnswer,
  TraceOutcome,
  type UseRestrictions,
} from '@tracenet/proto';
import type { CaseContext, ConformanceCase } from '../case.js';
import { CaseFailure, ensureEqual, ensureOk, ensureRefused } from '../check.js';
import type { FakePeer } from '../fake-peer.js';
import {
  acknowledgedSentTrace,
  acknowledgedTrace,
  caseWith,
  getCase,
  REASON,
  receivedTrace,
  sendAccepted,
  sendBody,
  sentTrace,
  sleep,
  tracedAnswer,
  traceRequest,
} from '../fixtures.js';

const E = ErrorCode;
const K = MessageKind;
const S = CaseState;
const O = OnwardDisclosure;

/** The node's cases with `peer` that are overdue now (ListCases computes it at the call, protocol 12.7). */
async function overdueWith(ctx: CaseContext, peer: FakePeer): Promise<string[]> {
  const { cases } = await ctx.target.cases.call('listCases', {
    role: 0,
    state: 0,
    peer: peer.participantId,
    overdueOnly: true,
    limit: 10,
    cursor: '',
  });
  return cases.map((c) => c.caseId);
}

/** Waits until the clock reads `atMs`. */
function sleepUntil(atMs: number): Promise<void> {
  return sleep(Math.max(0, atMs - Date.now()));
}

/** Deadlines set by per-peer policy (protocol 12.5, 12.7), made short so that they pass during the case. */
export const DEADLINE_CASES: ConformanceCase[] = [
  {
    id: 'deadlines.acknowledgement-overdue',
    section: '12.7',
    feature: 'deadlines',
    title:
      'a received request not acknowledged within the policy deadline (500 ms) is overdue; acknowledge_due_at_ms = start + deadline',
    async run(ctx) {
      const trace = await receivedTrace(ctx, { acknowledgeWithinMs: 500, answerWithinMs: 86_400_000 });
      const c = await getCase(ctx, trace.caseId);
      const span = c.acknowledgeDueAtMs - c.createdAtMs;
      if (span < 500 || span > 600)
        throw new CaseFailure(
          'acknowledge_due_at_ms = the time the request was accepted + 500 ms',
          `${span} ms after created_at_ms`,
        );
      await sleepUntil(c.acknowledgeDueAtMs + 150);
      const overdue = await overdueWith(ctx, trace.peer);
      if (!overdue.includes(trace.caseId))
        throw new CaseFailure(`${trace.caseId} listed with overdue_only`, 'not listed', 'protocol 12.7');
    },
  },
  {
    id: 'deadlines.acknowledged-in-time',
    section: '12.7',
    feature: 'deadlines',
    title: 'a request acknowledged before its acknowledgement deadline is not overdue once that deadline passes',
    async run(ctx) {
      const trace = await receivedTrace(ctx, {
        autoAcknowledge: true,
        acknowledgeWithinMs: 1000,
        answerWithinMs: 86_400_000,
      });
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT);
      await sleepUntil((await getCase(ctx, trace.caseId)).acknowledgeDueAtMs + 150);
      ensureEqual(await overdueWith(ctx, trace.peer), [], 'overdue cases');
    },
  },
  {
    id: 'deadlines.answer-overdue-requester',
    section: '12.7',
    feature: 'deadlines',
    title:
      "the policy's answer deadline also runs on the requester side: an acknowledged request without answer becomes overdue",
    async run(ctx) {
      const trace = await sentTrace(ctx, { answerWithinMs: 1000, acknowledgeWithinMs: 86_400_000 });
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
        { traceId: trace.traceId, requestedCaseReference: 'R-1' },
        'protocol 12.3',
      );
      const c = await getCase(ctx, trace.caseId);
      if (Date.now() < c.answerDueAtMs - 50)
        ensureEqual(await overdueWith(ctx, trace.peer), [], 'overdue cases before the deadline');
      await sleepUntil(c.answerDueAtMs + 150);
      const overdue = await overdueWith(ctx, trace.peer);
      if (!overdue.includes(trace.caseId))
        throw new CaseFailure(`${trace.caseId} listed with overdue_only`, 'not listed', 'protocol 12.7');
    },
  },
  {
    id: 'deadlines.policy-change-keeps-deadlines',
    section: '12.5',
    feature: 'deadlines',
    title: 'changing the policy does not change the deadlines of existing cases',
    async run(ctx) {
      const trace = await receivedTrace(ctx, { acknowledgeWithinMs: 86_400_000 });
      const before = await getCase(ctx, trace.caseId);
      await ctx.setPolicy(trace.peer, { acceptRequests: true, acknowledgeWithinMs: 100 });
      await sleep(250);
      const after = await getCase(ctx, trace.caseId);
      ensureEqual(after.acknowledgeDueAtMs, before.acknowledgeDueAtMs, 'acknowledge_due_at_ms');
      ensureEqual(await overdueWith(ctx, trace.peer), [], 'overdue cases');
    },
  },
  {
    id: 'deadlines.delay-never-shortens',
    section: '12.7',
    feature: 'deadlines',
    title: 'a delay whose expected_by is earlier than the answer deadline leaves the deadline as it was',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const before = await getCase(ctx, trace.caseId);
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_TRACE_DELAY,
        { traceId: trace.traceId, ...REASON, expectedBy: '2001-01-01' },
        'protocol 12.3',
      );
      ensureEqual((await getCase(ctx, trace.caseId)).answerDueAtMs, before.answerDueAtMs, 'answer_due_at_ms');
    },
  },
  {
    id: 'deadlines.negative-refused',
    section: '7.2',
    feature: 'deadlines',
    title:
      'SetPeerPolicy with a negative acknowledgement or answer deadline is INVALID_FIELD (non_negative) naming that deadline, and the policy stays as it was',
    async run(ctx) {
      const peer = await ctx.peer();
      const policyNow = async () =>
        ensureOk(
          await ctx.call(ctx.target.authority.call('getPeerPolicy', { participantId: peer.participantId })),
          'GetPeerPolicy',
        );
      const before = await policyNow();
      for (const [field, policy] of [
        ['policy.acknowledge_within_ms', { acknowledgeWithinMs: -1 }],
        ['policy.answer_within_ms', { answerWithinMs: -1 }],
      ] as const) {
        const outcome = await ctx.call(
          ctx.target.authority.call('setPeerPolicy', {
            policy: PeerPolicy.fromPartial({ participantId: peer.participantId, acceptRequests: true, ...policy }),
          }),
        );
        ensureRefused(outcome, { code: E.ERROR_CODE_INVALID_FIELD, field, rule: 'non_negative' });
      }
      ensureEqual(await policyNow(), before, 'the policy after the refused changes');
    },
  },
];

/** A requester case of the node holding an answer with `restrictions`, and a pinned third participant. */
async function answeredWith(
  ctx: CaseContext,
  restrictions: Partial<UseRestrictions> | ((third: string) => Partial<UseRestrictions>),
) {
  const third = await ctx.peer();
  const trace = await acknowledgedSentTrace(ctx);
  const r = typeof restrictions === 'function' ? restrictions(third.participantId) : restrictions;
  await sendAccepted(
    trace.peer,
    K.MESSAGE_KIND_TRACE_ANSWER,
    tracedAnswer(trace.traceId, {
      restrictions: {
        purpose: 'investigation',
        listedParticipants: [],
        retentionDays: 365,
        onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT,
        ...r,
      },
    }),
    'protocol 14.2',
  );
  return { trace, third };
}

/** Use restrictions, consent and disclosure (protocol 14.2–14.4). */
export const RESTRICTION_CASES: ConformanceCase[] = [
  {
    id: 'restrictions.default-on-answer',
    section: '14.2',
    feature: 'restrictions',
    title:
      'an answer without officer restrictions carries the defaults: onward WITH_CONSENT, 1 825 days, purpose = intended use',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      await ctx.target.cases.call(
        'answerCase',
        AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
      );
      const answer = await trace.peer.expect<TraceAnswer>(K.MESSAGE_KIND_TRACE_ANSWER);
      ensureEqual(
        answer.body.restrictions?.onwardDisclosure,
        O.ONWARD_DISCLOSURE_WITH_CONSENT,
        'restrictions.onward_disclosure',
      );
      ensureEqual(answer.body.restrictions?.retentionDays, 1825, 'restrictions.retention_days');
      ensureEqual(answer.body.restrictions?.purpose, trace.request.intendedUse, 'restrictions.purpose');
    },
  },
  {
    id: 'restrictions.policy-defaults',
    section: '14.2',
    feature: 'restrictions',
    title: "an answer carries the peer policy's default restrictions (onward NONE, 30 days)",
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx, {
        defaultRestrictions: {
          purpose: '',
          onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
          listedParticipants: [],
          retentionDays: 30,
        },
      });
      await ctx.target.cases.call(
        'answerCase',
        AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
      );
      const answer = await trace.peer.expect<TraceAnswer>(K.MESSAGE_KIND_TRACE_ANSWER);
      ensureEqual(
        answer.body.restrictions?.onwardDisclosure,
        O.ONWARD_DISCLOSURE_NONE,
        'restrictions.onward_disclosure',
      );
      ensureEqual(answer.body.restrictions?.retentionDays, 30, 'restrictions.retention_days');
    },
  },
  {
    id: 'restrictions.no-loosening',
    section: '14.2',
    feature: 'restrictions',
    title:
      'an officer may only tighten: LISTED over a policy default of NONE, or a retention longer than the default of 30 days, is INVALID_FIELD (no_loosening) naming that restriction; nothing is sent',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx, {
        defaultRestrictions: {
          purpose: '',
          onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
          listedParticipants: [],
          retentionDays: 30,
        },
      });
      const loosened: Array<[string, Partial<UseRestrictions>]> = [
        [
          'restrictions.onward_disclosure',
          { onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED, listedParticipants: ['XAA'] },
        ],
        ['restrictions.retention_days', { onwardDisclosure: O.ONWARD_DISCLOSURE_NONE, retentionDays: 31 }],
      ];
      for (const [field, restrictions] of loosened) {
        const outcome = await ctx.call(
          ctx.target.cases.call(
            'answerCase',
            AnswerCaseRequest.fromPartial({
              caseId: trace.caseId,
              outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
              restrictions,
            }),
          ),
        );
        ensureRefused(outcome, { code: E.ERROR_CODE_INVALID_FIELD, field, rule: 'no_loosening' });
      }
      await trace.peer.expectNothing(300, 'protocol 14.2: nothing is sent');
    },
  },
  {
    id: 'restrictions.share-without-consent-refused',
    section: '14.3',
    feature: 'restrictions',
    title:
      'sharing an answer restricted WITH_CONSENT without a granted consent is DISCLOSURE_NOT_ALLOWED (use_restrictions); nothing is sent to anyone',
    async run(ctx) {
      const { trace, third } = await answeredWith(ctx, {});
      const outcome = await ctx.call(
        ctx.target.cases.call('shareCase', {
          caseId: trace.caseId,
          thirdParticipant: third.participantId,
          note: 'for the panel',
        }),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_DISCLOSURE_NOT_ALLOWED, rule: 'use_restrictions' });
      await third.expectNothing(300, 'protocol 14.3: nothing is sent to the third participant');
      await trace.peer.expectNothing(0, 'protocol 14.3: nothing is sent to the provider');
    },
  },
  {
    id: 'restrictions.share-unlisted-refused',
    section: '14.3',
    feature: 'restrictions',
    title:
      'sharing an answer restricted to LISTED participants with one it does not list is DISCLOSURE_NOT_ALLOWED (use_restrictions); nothing is sent',
    async run(ctx) {
      const listed = await ctx.peer();
      const { trace, third } = await answeredWith(ctx, {
        onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
        listedParticipants: [listed.participantId],
      });
      const outcome = await ctx.call(
        ctx.target.cases.call('shareCase', {
          caseId: trace.caseId,
          thirdParticipant: third.participantId,
          note: 'not listed',
        }),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_DISCLOSURE_NOT_ALLOWED, rule: 'use_restrictions' });
      await third.expectNothing(300, 'protocol 14.3: nothing is sent to the third participant');
      await trace.peer.expectNothing(0, 'protocol 14.3: nothing is sent to the provider');
      await listed.expectNothing(0, 'protocol 14.3: nothing is sent to the listed participant');
    },
  },
  {
    id: 'restrictions.share-before-answer',
    section: '14.3',
    feature: 'restrictions',
    title: 'ShareCase on a case without an answer is ILLEGAL_TRANSITION; nothing is sent',
    async run(ctx) {
      const third = await ctx.peer();
      const trace = await acknowledgedSentTrace(ctx);
      ensureRefused(
        await ctx.call(
          ctx.target.cases.call('shareCase', { caseId: trace.caseId, thirdParticipant: third.participantId, note: '' }),
        ),
        { code: E.ERROR_CODE_ILLEGAL_TRANSITION },
      );
      await third.expectNothing(300, 'protocol 14.3');
    },
  },
  {
    id: 'restrictions.share-listed',
    section: '14.3',
    feature: 'restrictions',
    title:
      'sharing with a participant the answer LISTS sends SharedInformation to it and a DisclosureNotice (basis listed) to the provider',
    async run(ctx) {
      const { trace, third } = await answeredWith(ctx, (id) => ({
        onwardDisclosure: O.ONWARD_DISCLOSURE_LISTED,
        listedParticipants: [id],
      }));
      ensureOk(
        await ctx.call(
          ctx.target.cases.call('shareCase', {
            caseId: trace.caseId,
            thirdParticipant: third.participantId,
            note: 'listed',
          }),
        ),
        'ShareCase',
      );
      const shared = await third.expect<SharedInformation>(K.MESSAGE_KIND_SHARED_INFORMATION);
      ensureEqual(shared.body.provider, trace.peer.participantId, 'shared provider');
      if ((shared.body.restrictions?.retentionDays ?? 0) > 365)
        throw new CaseFailure(
          'retention_days cut to what the sharer has left (≤ 365)',
          String(shared.body.restrictions?.retentionDays),
        );
      const notice = await trace.peer.expect<DisclosureNotice>(K.MESSAGE_KIND_DISCLOSURE_NOTICE);
      ensureEqual(notice.body.basis, 'listed', 'disclosure basis');
      ensureEqual(notice.body.thirdParticipant, third.participantId, 'third_participant');
    },
  },
  {
    id: 'restrictions.consent-then-share',
    section: '14.4',
    feature: 'restrictions',
    title:
      'RequestConsent reaches the provider; once it grants, sharing is allowed with basis consent:<id> — with the participant the consent names only',
    async run(ctx) {
      const { trace, third } = await answeredWith(ctx, { onwardDisclosure: O.ONWARD_DISCLOSURE_NONE });
      const other = await ctx.peer();
      ensureOk(
        await ctx.call(
          ctx.target.cases.call('requestConsent', {
            caseId: trace.caseId,
            thirdParticipant: third.participantId,
            reason: 'panel report',
          }),
        ),
        'RequestConsent',
      );
      const request = await trace.peer.expect<ConsentRequest>(K.MESSAGE_KIND_CONSENT_REQUEST);
      ensureEqual(request.body.thirdParticipant, third.participantId, 'consent request third_participant');
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_CONSENT_DECISION,
        { traceId: trace.traceId, consentId: request.body.consentId, granted: true, conditions: '' },
        'protocol 14.4',
      );
      // The consent names `third`: it allows nothing towards another participant (14.3).
      const elsewhere = await ctx.call(
        ctx.target.cases.call('shareCase', { caseId: trace.caseId, thirdParticipant: other.participantId, note: '' }),
      );
      ensureRefused(elsewhere, { code: E.ERROR_CODE_DISCLOSURE_NOT_ALLOWED, rule: 'use_restrictions' });
      await other.expectNothing(300, 'protocol 14.3: nothing is sent to a participant the consent does not name');
      ensureOk(
        await ctx.call(
          ctx.target.cases.call('shareCase', { caseId: trace.caseId, thirdParticipant: third.participantId, note: '' }),
        ),
        'ShareCase after consent',
      );
      await third.expect(K.MESSAGE_KIND_SHARED_INFORMATION);
      const notice = await trace.peer.expect<DisclosureNotice>(K.MESSAGE_KIND_DISCLOSURE_NOTICE);
      ensureEqual(notice.body.basis, `consent:${request.body.consentId}`, 'disclosure basis');
    },
  },
  {
    id: 'restrictions.decision-from-other-peer',
    section: '14.4',
    feature: 'restrictions',
    title:
      'a consent decision from a pinned peer that is not the provider is NOT_FOUND (body.trace_id, known_trace) with a receipt, and grants nothing: sharing stays DISCLOSURE_NOT_ALLOWED',
    async run(ctx) {
      const { trace, third } = await answeredWith(ctx, {});
      const intruder = await ctx.peer();
      ensureOk(
        await ctx.call(
          ctx.target.cases.call('requestConsent', {
            caseId: trace.caseId,
            thirdParticipant: third.participantId,
            reason: 'panel report',
          }),
        ),
        'RequestConsent',
      );
      const request = await trace.peer.expect<ConsentRequest>(K.MESSAGE_KIND_CONSENT_REQUEST);
      const { sealed, outcome } = await sendBody(intruder, K.MESSAGE_KIND_CONSENT_DECISION, {
        traceId: trace.traceId,
        consentId: request.body.consentId,
        granted: true,
        conditions: '',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_NOT_FOUND, field: 'body.trace_id', rule: 'known_trace', receipt: 'rejected' },
        intruder.receiptOf(sealed.header.messageId, sealed.digest),
      );
      ensureRefused(
        await ctx.call(
          ctx.target.cases.call('shareCase', { caseId: trace.caseId, thirdParticipant: third.participantId, note: '' }),
        ),
        { code: E.ERROR_CODE_DISCLOSURE_NOT_ALLOWED, rule: 'use_restrictions' },
      );
      await third.expectNothing(300, 'protocol 14.3');
    },
  },
  {
    id: 'restrictions.consent-refused',
    section: '14.3',
    feature: 'restrictions',
    title: 'a refused consent does not allow sharing: DISCLOSURE_NOT_ALLOWED',
    async run(ctx) {
      const { trace, third } = await answeredWith(ctx, {});
      await ctx.target.cases.call('requestConsent', {
        caseId: trace.caseId,
        thirdParticipant: third.participantId,
        reason: 'panel report',
      });
      const request = await trace.peer.expect<ConsentRequest>(K.MESSAGE_KIND_CONSENT_REQUEST);
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_CONSENT_DECISION,
        { traceId: trace.traceId, consentId: request.body.consentId, granted: false, conditions: 'no' },
        'protocol 14.4',
      );
      ensureRefused(
        await ctx.call(
          ctx.target.cases.call('shareCase', { caseId: trace.caseId, thirdParticipant: third.participantId, note: '' }),
        ),
        { code: E.ERROR_CODE_DISCLOSURE_NOT_ALLOWED, rule: 'use_restrictions' },
      );
      await third.expectNothing(300, 'protocol 14.3');
    },
  },
  {
    id: 'restrictions.decision-without-request',
    section: '14.4',
    feature: 'restrictions',
    title: 'a consent decision naming no open request is INVALID_FIELD (body.consent_id, open_consent) with a receipt',
    async run(ctx) {
      const { trace } = await answeredWith(ctx, {});
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_CONSENT_DECISION, {
        traceId: trace.traceId,
        consentId: 'never-asked',
        granted: true,
        conditions: '',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_INVALID_FIELD, field: 'body.consent_id', rule: 'open_consent', receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'restrictions.consent-request-before-answer',
    section: '14.4',
    feature: 'restrictions',
    title: 'a consent request on a trace that is not answered yet is ILLEGAL_TRANSITION',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      const third = ctx.host.freshId();
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_CONSENT_REQUEST, {
        traceId: trace.traceId,
        consentId: 'c-1',
        thirdParticipant: third,
        reason: 'x',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_ILLEGAL_TRANSITION, receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'restrictions.provider-decides',
    section: '14.4',
    feature: 'restrictions',
    title: "the provider records a peer's consent request and DecideConsent sends the decision",
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      await ctx.target.cases.call(
        'answerCase',
        AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
      );
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_ANSWER);
      const third = ctx.host.freshId();
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_CONSENT_REQUEST,
        { traceId: trace.traceId, consentId: 'consent-1', thirdParticipant: third, reason: 'panel' },
        'protocol 14.4',
      );
      const c = await getCase(ctx, trace.caseId);
      ensureEqual(
        c.consents.map((x) => x.consentId),
        ['consent-1'],
        'consents on the case',
      );
      ensureOk(
        await ctx.call(
          ctx.target.cases.call('decideConsent', {
            caseId: trace.caseId,
            consentId: 'consent-1',
            granted: true,
            conditions: 'cite us',
          }),
        ),
        'DecideConsent',
      );
      const decision = await trace.peer.expect<ConsentDecision>(K.MESSAGE_KIND_CONSENT_DECISION);
      ensureEqual(decision.body.granted, true, 'granted');
      ensureEqual(decision.body.consentId, 'consent-1', 'consent_id');
    },
  },
  {
    id: 'restrictions.consent-id-reused',
    section: '14.4',
    feature: 'restrictions',
    title: 'a consent request reusing a consent id of the trace is ALREADY_EXISTS',
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      await ctx.target.cases.call(
        'answerCase',
        AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
      );
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_ANSWER);
      const body = {
        traceId: trace.traceId,
        consentId: 'consent-x',
        thirdParticipant: ctx.host.freshId(),
        reason: 'r',
      };
      await sendAccepted(trace.peer, K.MESSAGE_KIND_CONSENT_REQUEST, body, 'protocol 14.4');
      const { sealed, outcome } = await sendBody(trace.peer, K.MESSAGE_KIND_CONSENT_REQUEST, {
        ...body,
        reason: 'again',
      });
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_ALREADY_EXISTS, receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'restrictions.disclosure-notice-recorded',
    section: '14.4',
    feature: 'restrictions',
    title: "the provider records a requester's disclosure notice on its case, also one whose basis it never gave",
    async run(ctx) {
      const trace = await acknowledgedTrace(ctx);
      await ctx.target.cases.call(
        'answerCase',
        AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
      );
      await trace.peer.expect(K.MESSAGE_KIND_TRACE_ANSWER);
      const third = ctx.host.freshId();
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_DISCLOSURE_NOTICE,
        { traceId: trace.traceId, thirdParticipant: third, disclosedAtMs: Date.now(), basis: 'consent:never-given' },
        'protocol 14.4',
      );
      const c = await getCase(ctx, trace.caseId);
      ensureEqual(
        c.disclosures.map((d) => [d.thirdParticipant, d.basis]),
        [[third, 'consent:never-given']],
        'Case.disclosures',
      );
    },
  },
  {
    id: 'restrictions.invalid-received',
    section: '14.2',
    feature: 'restrictions',
    title: 'an answer whose restrictions keep it longer than 36 500 days is INVALID_FIELD with a receipt',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const { sealed, outcome } = await sendBody(
        trace.peer,
        K.MESSAGE_KIND_TRACE_ANSWER,
        tracedAnswer(trace.traceId, {
          restrictions: {
            purpose: 'p',
            onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
            listedParticipants: [],
            retentionDays: 40_000,
          },
        }),
      );
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_INVALID_FIELD, receipt: 'rejected' },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'restrictions.unspecified-onward-received',
    section: '14.2',
    feature: 'restrictions',
    title:
      'an answer whose restrictions leave the onward disclosure UNSPECIFIED is INVALID_FIELD (body.restrictions.onward_disclosure, enum) with a receipt: the receiver cannot know what it may do with it; the case stays acknowledged',
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const { sealed, outcome } = await sendBody(
        trace.peer,
        K.MESSAGE_KIND_TRACE_ANSWER,
        tracedAnswer(trace.traceId, {
          restrictions: {
            purpose: 'p',
            onwardDisclosure: O.ONWARD_DISCLOSURE_UNSPECIFIED,
            listedParticipants: [],
            retentionDays: 30,
          },
        }),
      );
      ensureRefused(
        outcome,
        {
          code: E.ERROR_CODE_INVALID_FIELD,
          field: 'body.restrictions.onward_disclosure',
          rule: 'enum',
          receipt: 'rejected',
        },
        trace.peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
      ensureEqual((await getCase(ctx, trace.caseId)).state, S.CASE_STATE_ACKNOWLEDGED, 'state (protocol 14.2)');
    },
  },
  {
    id: 'restrictions.retention-from-receipt',
    section: '14.2',
    feature: 'restrictions',
    title:
      "the requester keeps a received answer for the answer's retention_days from its receipt: GetCase's retain_until_ms is receipt time + 30 days for an answer restricted to 30 days",
    async run(ctx) {
      const trace = await acknowledgedSentTrace(ctx);
      const before = Date.now();
      await sendAccepted(
        trace.peer,
        K.MESSAGE_KIND_TRACE_ANSWER,
        tracedAnswer(trace.traceId, {
          restrictions: {
            purpose: 'p',
            onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
            listedParticipants: [],
            retentionDays: 30,
          },
        }),
        'protocol 14.2',
      );
      const after = Date.now();
      const kept = (await getCase(ctx, trace.caseId)).retainUntilMs;
      const days = 30 * 86_400_000;
      // The node's clock may differ from the suite's by the replay window's tolerance at most.
      const slack = 60_000;
      if (!(kept >= before + days - slack && kept <= after + days + slack)) {
        throw new CaseFailure(
          `retain_until_ms between ${new Date(before + days).toISOString()} and ${new Date(after + days).toISOString()}`,
          kept === 0 ? 'none' : new Date(kept).toISOString(),
          'protocol 14.2',
        );
      }
    },
  },
  {
    id: 'restrictions.shared-information-received',
    section: '14.4',
    feature: 'restrictions',
    title:
      'SharedInformation from a peer whose policy accepts requests becomes a SHARED case, to which no workflow step applies',
    async run(ctx) {
      const sharer = await ctx.peer({ policy: { acceptRequests: true } });
      const provider = ctx.host.freshId();
      await sendAccepted(
        sharer,
        K.MESSAGE_KIND_SHARED_INFORMATION,
        {
          provider,
          providerTraceId: 'PPPPPPPPPPPPPPPPPPPPPP',
          answer: tracedAnswer('PPPPPPPPPPPPPPPPPPPPPP'),
          restrictions: {
            purpose: 'p',
            onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
            listedParticipants: [],
            retentionDays: 30,
          },
          note: 'fyi',
        },
        'protocol 14.4',
      );
      const c = await caseWith(ctx, sharer);
      ensureEqual(c.role, CaseRole.CASE_ROLE_SHARED, 'role');
      ensureEqual(c.shared?.provider, provider, 'shared.provider');
      const outcome = await ctx.call(
        ctx.target.cases.call('closeCase', { caseId: c.caseId, useful: true, feedback: '' }),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_ILLEGAL_TRANSITION });
    },
  },
  {
    id: 'restrictions.shared-information-denied-by-default',
    section: '12.5',
    feature: 'restrictions',
    title:
      'SharedInformation from a peer whose policy does not accept requests is KIND_NOT_ALLOWED (peer_policy) with a REJECTED receipt, and opens no case',
    async run(ctx) {
      const sharer = await ctx.peer();
      const body = {
        provider: ctx.host.freshId(),
        providerTraceId: 'QQQQQQQQQQQQQQQQQQQQQQ',
        answer: tracedAnswer('QQQQQQQQQQQQQQQQQQQQQQ'),
        restrictions: {
          purpose: 'p',
          onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
          listedParticipants: [],
          retentionDays: 30,
        },
        note: 'fyi',
      };
      const { sealed, outcome } = await sendBody(sharer, K.MESSAGE_KIND_SHARED_INFORMATION, body);
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_KIND_NOT_ALLOWED, field: 'header.kind', rule: 'peer_policy', receipt: 'rejected' },
        sharer.receiptOf(sealed.header.messageId, sealed.digest),
      );
      const { cases } = await ctx.target.cases.call('listCases', {
        role: CaseRole.CASE_ROLE_UNSPECIFIED,
        state: 0,
        peer: sharer.participantId,
        overdueOnly: false,
        limit: 10,
        cursor: '',
      });
      ensureEqual(cases.length, 0, `cases with ${sharer.participantId}`);
    },
  },
];

/** Organisations (UN panels) as requesters (protocol 14.6). */
export const PANEL_CASES: ConformanceCase[] = [
  {
    id: 'panels.denied-without-policy',
    section: '14.6',
    feature: 'panels',
    title: 'a trace request from an organisation without accept_requests is KIND_NOT_ALLOWED',
    async run(ctx) {
      const panel = await ctx.peer({ kind: ParticipantKind.PARTICIPANT_KIND_ORGANISATION });
      const { sealed, outcome } = await sendBody(panel, K.MESSAGE_KIND_TRACE_REQUEST, traceRequest());
      ensureRefused(
        outcome,
        { code: E.ERROR_CODE_KIND_NOT_ALLOWED, rule: 'peer_policy', receipt: 'rejected' },
        panel.receiptOf(sealed.header.messageId, sealed.digest),
      );
    },
  },
  {
    id: 'panels.case-and-strict-defaults',
    section: '14.6',
    feature: 'panels',
    title:
      "a panel's accepted request is a case with panel set, answered with the strictest defaults (onward NONE, 365 days)",
    async run(ctx) {
      const panel = await ctx.peer({
        kind: ParticipantKind.PARTICIPANT_KIND_ORGANISATION,
        policy: { acceptRequests: true },
      });
      const trace = await receivedTrace(ctx, {}, traceRequest(), panel);
      const c = await getCase(ctx, trace.caseId);
      ensureEqual(c.panel, true, 'Case.panel');
      await ctx.target.cases.call('acknowledgeCase', { caseId: trace.caseId, reference: '' });
      await panel.expect(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT);
      await ctx.target.cases.call(
        'answerCase',
        AnswerCaseRequest.fromPartial({ caseId: trace.caseId, outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD }),
      );
      const answer = await panel.expect<TraceAnswer>(K.MESSAGE_KIND_TRACE_ANSWER);
      ensureEqual(
        answer.body.restrictions?.onwardDisclosure,
        O.ONWARD_DISCLOSURE_NONE,
        'restrictions.onward_disclosure',
      );
      ensureEqual(answer.body.restrictions?.retentionDays, 365, 'restrictions.retention_days');
      ensureEqual((await getCase(ctx, trace.caseId)).state, S.CASE_STATE_ANSWERED, 'state');
    },
  },
];
