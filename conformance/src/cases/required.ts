import {
  Envelope,
  type EnvelopeHeader,
  ErrorCode,
  KeyRevocation,
  KeyRotation,
  LookupQuery,
  MessageKind,
  OnwardDisclosure,
  ReasonCode,
  TraceOutcome,
  type TraceRequest,
} from '@tracenet/proto';
import type { ConformanceCase } from '../case.js';
import { CaseFailure, ensureAccepted, ensureEach, ensureRefused, type ExpectedRefusal } from '../check.js';
import type { FakePeer, SealedEnvelope } from '../fake-peer.js';
import { encodeBody, newTraceId, REASON, tracedAnswer, traceRequest, withInt64 } from '../fixtures.js';

const E = ErrorCode;
const K = MessageKind;

/** One field left out: what is sent, and the refusal the protocol names for it. */
interface Omission {
  readonly what: string;
  readonly kind: MessageKind;
  readonly body: object | Uint8Array;
  readonly expected: ExpectedRefusal;
  /** For a request: the only violation listed. */
  readonly onlyViolation?: boolean;
}

const missing = (field: string, rule = 'required'): ExpectedRefusal => ({
  code: E.ERROR_CODE_MISSING_FIELD,
  field,
  rule,
  receipt: 'rejected',
});
const invalid = (field: string, rule: string): ExpectedRefusal => ({
  code: E.ERROR_CODE_INVALID_FIELD,
  field,
  rule,
  receipt: 'rejected',
});
const incomplete = (field: string, rule = 'required'): ExpectedRefusal => ({
  code: E.ERROR_CODE_REQUEST_INCOMPLETE,
  field,
  rule,
  receipt: 'rejected',
});

/**
 * Sends each omission as its own message from `peer` and collects every answer that is not the
 * refusal named; one failure lists them all.
 */
async function refuseEach(peer: FakePeer, omissions: readonly Omission[], section: string): Promise<void> {
  await ensureEach(
    `each message with one required field left out refused as protocol ${section} names it`,
    omissions,
    (o) => o.what,
    async (o) => {
      const body = o.body instanceof Uint8Array ? o.body : encodeBody(o.kind, o.body);
      const { sealed, outcome } = await peer.send(o.kind, body);
      ensureRefused(outcome, o.expected, peer.receiptOf(sealed.header.messageId, sealed.digest));
      const fields = outcome.ok ? [] : (outcome.error.detail?.violations ?? []).map((v) => v.field);
      if (o.onlyViolation && (fields.length !== 1 || fields[0] !== o.expected.field))
        throw new CaseFailure(`violations = [${o.expected.field}]`, `[${fields.join(', ')}]`);
    },
  );
}

/** A complete request with one change. */
function requestWithout(change: (r: TraceRequest) => void): TraceRequest {
  const r = traceRequest();
  change(r);
  return r;
}

const markings = (r: TraceRequest) => {
  if (!r.weapon?.markings) throw new Error('the fixture request has markings');
  return r.weapon.markings;
};

/** Every required field of every body kind that a peer sends with Deliver, and of the envelope and its header, left out one at a time. */
export const REQUIRED_CASES: ConformanceCase[] = [
  {
    id: 'required.header-fields',
    section: '4.3',
    cites: ['3.2'],
    feature: 'envelope',
    title:
      'an envelope without header, nonce or ciphertext, or a header without any one required field, is MISSING_FIELD naming it, without receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const reencode = (sealed: SealedEnvelope, part: 'header' | 'nonce' | 'ciphertext') =>
        Envelope.encode({ ...sealed.envelope, [part]: Buffer.alloc(0) }).finish();
      const fields: Array<[keyof EnvelopeHeader, string, string | number]> = [
        ['sender', 'sender', ''],
        ['recipient', 'recipient', ''],
        ['messageId', 'message_id', ''],
        ['senderKeyId', 'sender_key_id', ''],
        ['recipientKeyId', 'recipient_key_id', ''],
        ['kind', 'kind', 0],
        ['createdAtMs', 'created_at_ms', 0],
        ['expiresAtMs', 'expires_at_ms', 0],
      ];
      const envelopes: Array<[string, Uint8Array, string]> = [
        ...(['header', 'nonce', 'ciphertext'] as const).map((part): [string, Uint8Array, string] => [
          `no ${part}`,
          reencode(peer.seal(), part),
          `envelope.${part}`,
        ]),
        ...fields.map(([name, field, empty]): [string, Uint8Array, string] => [
          `header without ${field}`,
          peer.seal({ header: { [name]: empty } as Partial<EnvelopeHeader> }).bytes,
          `header.${field}`,
        ]),
      ];
      await ensureEach(
        'each required envelope part and header field refused when left out (protocol 3.2, 4.3)',
        envelopes,
        ([what]) => what,
        async ([, bytes, field]) => {
          ensureRefused(await ctx.host.deliverRaw(bytes), {
            code: E.ERROR_CODE_MISSING_FIELD,
            field,
            rule: 'required',
            receipt: 'none',
          });
        },
      );
    },
  },
  {
    id: 'required.notice-fields',
    section: '6.2',
    feature: 'envelope',
    title: 'a Notice without subject, or without text, is MISSING_FIELD naming it, with a receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      await refuseEach(
        peer,
        [
          {
            what: 'no subject',
            kind: K.MESSAGE_KIND_NOTICE,
            body: { subject: '', text: 'text' },
            expected: missing('body.subject'),
          },
          {
            what: 'no text',
            kind: K.MESSAGE_KIND_NOTICE,
            body: { subject: 'subject', text: '' },
            expected: missing('body.text'),
          },
        ],
        '6.2',
      );
    },
  },
  {
    id: 'required.notice-white-space',
    section: '0',
    cites: ['6.2', '7.2'],
    feature: 'envelope',
    title:
      'a Notice whose subject or text is only white space is MISSING_FIELD (body.subject / body.text, required) with a receipt, and SendNotice with such a subject is MISSING_FIELD (subject, required) with nothing sent; white space around other text is kept',
    async run(ctx) {
      const peer = await ctx.peer();
      await refuseEach(
        peer,
        [
          {
            what: 'a subject of spaces, TAB, NO-BREAK SPACE, IDEOGRAPHIC SPACE and U+FEFF',
            kind: K.MESSAGE_KIND_NOTICE,
            body: { subject: ' \t\u00a0\u3000\ufeff ', text: 'text' },
            expected: missing('body.subject'),
          },
          {
            what: 'a text of LF, LINE SEPARATOR and MEDIUM MATHEMATICAL SPACE',
            kind: K.MESSAGE_KIND_NOTICE,
            body: { subject: 'subject', text: '\n\u2028\u205f' },
            expected: missing('body.text'),
          },
        ],
        '0',
      );
      const outcome = await ctx.call(
        ctx.target.authority.call('sendNotice', {
          recipient: peer.participantId,
          subject: ' \t\u00a0 ',
          text: 'text',
          correlationId: '',
        }),
      );
      ensureRefused(outcome, { code: E.ERROR_CODE_MISSING_FIELD, field: 'subject', rule: 'required' });
      await peer.expectNothing(300, 'protocol 6.2: senders apply the same rules before queueing');
      const { sealed, outcome: padded } = await peer.send(
        K.MESSAGE_KIND_NOTICE,
        encodeBody(K.MESSAGE_KIND_NOTICE, { subject: '  padded subject  ', text: ' text ' }),
      );
      ensureAccepted(padded, peer.receiptOf(sealed.header.messageId, sealed.digest));
    },
  },
  {
    id: 'required.request-fields',
    section: '12.2',
    feature: 'request',
    title:
      'a trace request without any one required item is REQUEST_INCOMPLETE naming it (field, rule, the only violation), with a receipt',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { acceptRequests: true } });
      const R = K.MESSAGE_KIND_TRACE_REQUEST;
      const item = (what: string, field: string, change: (r: TraceRequest) => void, rule = 'required'): Omission => ({
        what,
        kind: R,
        body: requestWithout(change),
        expected: incomplete(`body.${field}`, rule),
        onlyViolation: true,
      });
      await refuseEach(
        peer,
        [
          item('no trace id', 'trace_id', (r) => (r.traceId = ''), 'trace_id'),
          item('no requesting authority', 'requesting_authority', (r) => (r.requestingAuthority = '')),
          item('no case reference', 'case_reference', (r) => (r.caseReference = '')),
          item('no priority', 'priority', (r) => (r.priority = 0)),
          item('no illicit criterion', 'illicit_criteria', (r) => (r.illicitCriteria = [])),
          item(
            'a criterion without kind',
            'illicit_criteria[0].kind',
            (r) => ((r.illicitCriteria[0] as { kind: number }).kind = 0),
          ),
          item(
            'a criterion without legal basis',
            'illicit_criteria[0].legal_basis',
            (r) => ((r.illicitCriteria[0] as { legalBasis: string }).legalBasis = ''),
          ),
          item('no circumstances', 'circumstances', (r) => (r.circumstances = undefined)),
          item(
            'circumstances without kind',
            'circumstances.kind',
            (r) => r.circumstances && (r.circumstances.kind = 0),
          ),
          item(
            'circumstances without date',
            'circumstances.date',
            (r) => r.circumstances && (r.circumstances.date = ''),
          ),
          item(
            'circumstances without place',
            'circumstances.place',
            (r) => r.circumstances && (r.circumstances.place = ''),
          ),
          item('no markings', 'weapon.markings', (r) => r.weapon && (r.weapon.markings = undefined)),
          item('no serial number', 'weapon.markings.serial_number', (r) => (markings(r).serialNumber = '')),
          item('no manufacturer', 'weapon.markings.manufacturer', (r) => (markings(r).manufacturer = '')),
          item('no weapon type', 'weapon.markings.type', (r) => (markings(r).type = 0)),
          item('no intended use', 'intended_use', (r) => (r.intendedUse = '')),
        ],
        '12.2',
      );
    },
  },
  {
    id: 'required.workflow-fields',
    section: '12.2',
    feature: 'workflow',
    title:
      'each workflow body (kinds 3–11) without any one required field is refused with the code, field and rule 12.2 names, with a receipt, before its trace is looked up',
    async run(ctx) {
      const peer = await ctx.peer();
      const traceId = newTraceId();
      const noTrace = (kind: MessageKind, body: object): Omission => ({
        what: `${MessageKind[kind]} without trace id`,
        kind,
        body: { ...body, traceId: '' },
        expected: invalid('body.trace_id', 'trace_id'),
      });
      const reasoned = (kind: MessageKind): Omission[] => [
        {
          what: `${MessageKind[kind]} without reason`,
          kind,
          body: { traceId, reason: ReasonCode.REASON_CODE_UNSPECIFIED, explanation: 'why' },
          expected: missing('body.reason'),
        },
        {
          what: `${MessageKind[kind]} without explanation`,
          kind,
          body: { traceId, ...REASON, explanation: '' },
          expected: missing('body.explanation'),
        },
        noTrace(kind, REASON),
      ];
      const answer = { traceId, outcome: TraceOutcome.TRACE_OUTCOME_TRACED, lastLegalRecord: 'exported 2016 to XAA' };
      await refuseEach(
        peer,
        [
          {
            what: 'acknowledgement without reference',
            kind: K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
            body: { traceId, requestedCaseReference: '' },
            expected: missing('body.requested_case_reference'),
          },
          noTrace(K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, { requestedCaseReference: 'REF-1' }),
          {
            what: 'clarification request without id',
            kind: K.MESSAGE_KIND_CLARIFICATION_REQUEST,
            body: { traceId, clarificationId: '', question: 'which?' },
            expected: missing('body.clarification_id'),
          },
          {
            what: 'clarification request without question',
            kind: K.MESSAGE_KIND_CLARIFICATION_REQUEST,
            body: { traceId, clarificationId: 'q-1', question: '' },
            expected: missing('body.question'),
          },
          noTrace(K.MESSAGE_KIND_CLARIFICATION_REQUEST, { clarificationId: 'q-1', question: 'which?' }),
          {
            what: 'clarification reply without id',
            kind: K.MESSAGE_KIND_CLARIFICATION_REPLY,
            body: { traceId, clarificationId: '', answer: 'this' },
            expected: missing('body.clarification_id'),
          },
          {
            what: 'clarification reply without answer',
            kind: K.MESSAGE_KIND_CLARIFICATION_REPLY,
            body: { traceId, clarificationId: 'q-1', answer: '' },
            expected: missing('body.answer'),
          },
          noTrace(K.MESSAGE_KIND_CLARIFICATION_REPLY, { clarificationId: 'q-1', answer: 'this' }),
          {
            what: 'answer without outcome',
            kind: K.MESSAGE_KIND_TRACE_ANSWER,
            body: { ...answer, outcome: TraceOutcome.TRACE_OUTCOME_UNSPECIFIED },
            expected: invalid('body.outcome', 'required'),
          },
          {
            what: 'TRACED answer without last legal record',
            kind: K.MESSAGE_KIND_TRACE_ANSWER,
            body: { ...answer, lastLegalRecord: '' },
            expected: invalid('body.last_legal_record', 'required'),
          },
          {
            what: 'REFERRED answer without participant',
            kind: K.MESSAGE_KIND_TRACE_ANSWER,
            body: {
              ...answer,
              outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
              referral: { participant: '', basis: 'exported' },
            },
            expected: invalid('body.referral.participant', 'required'),
          },
          {
            what: 'REFERRED answer without basis',
            kind: K.MESSAGE_KIND_TRACE_ANSWER,
            body: {
              ...answer,
              outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
              referral: { participant: 'XAA', basis: '' },
            },
            expected: invalid('body.referral.basis', 'required'),
          },
          noTrace(K.MESSAGE_KIND_TRACE_ANSWER, answer),
          ...reasoned(K.MESSAGE_KIND_TRACE_DELAY),
          ...reasoned(K.MESSAGE_KIND_TRACE_RESTRICTION),
          ...reasoned(K.MESSAGE_KIND_TRACE_REFUSAL),
          noTrace(K.MESSAGE_KIND_TRACE_WITHDRAWAL, { reason: '' }),
          noTrace(K.MESSAGE_KIND_TRACE_CLOSURE, { useful: true, feedback: '' }),
        ],
        '12.2',
      );
    },
  },
  {
    id: 'required.use-restriction-fields',
    section: '14.4',
    cites: ['0'],
    feature: 'restrictions',
    title:
      'each body of kinds 14–17 without any one required field, or with a disclosed_at_ms beyond ±(2^53 − 1), is refused with the code, field and rule 14.4 names, with a receipt, before its trace is looked up',
    async run(ctx) {
      // SHARED_INFORMATION opens a case: only a peer that may open cases gets to its body (12.5).
      const peer = await ctx.peer({ policy: { acceptRequests: true } });
      const traceId = newTraceId();
      const third = ctx.host.freshId();
      const consent = {
        traceId,
        consentId: 'consent-1',
        thirdParticipant: third,
        reason: 'the customs of a third state ask',
      };
      const notice = { traceId, thirdParticipant: third, disclosedAtMs: Date.now(), basis: 'listed' };
      const restrictions = {
        purpose: 'p',
        onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_NONE,
        listedParticipants: [],
        retentionDays: 30,
      };
      const shared = {
        provider: ctx.host.freshId(),
        providerTraceId: traceId,
        answer: tracedAnswer(traceId),
        restrictions,
        note: '',
      };
      const noTrace = (kind: MessageKind, body: object): Omission => ({
        what: `${MessageKind[kind]} without trace id`,
        kind,
        body: { ...body, traceId: '' },
        expected: invalid('body.trace_id', 'trace_id'),
      });
      await refuseEach(
        peer,
        [
          {
            what: 'consent request without consent id',
            kind: K.MESSAGE_KIND_CONSENT_REQUEST,
            body: { ...consent, consentId: '' },
            expected: missing('body.consent_id'),
          },
          {
            what: 'consent request with a consent id of white space only',
            kind: K.MESSAGE_KIND_CONSENT_REQUEST,
            body: { ...consent, consentId: ' \t ' },
            expected: missing('body.consent_id'),
          },
          {
            what: 'consent request without third participant',
            kind: K.MESSAGE_KIND_CONSENT_REQUEST,
            body: { ...consent, thirdParticipant: '' },
            expected: invalid('body.third_participant', 'participant_id'),
          },
          {
            what: 'consent request without reason',
            kind: K.MESSAGE_KIND_CONSENT_REQUEST,
            body: { ...consent, reason: '' },
            expected: missing('body.reason'),
          },
          noTrace(K.MESSAGE_KIND_CONSENT_REQUEST, consent),
          {
            what: 'consent decision without consent id',
            kind: K.MESSAGE_KIND_CONSENT_DECISION,
            body: { traceId, consentId: '', granted: true, conditions: '' },
            expected: missing('body.consent_id'),
          },
          noTrace(K.MESSAGE_KIND_CONSENT_DECISION, { consentId: 'consent-1', granted: true, conditions: '' }),
          {
            what: 'disclosure notice without third participant',
            kind: K.MESSAGE_KIND_DISCLOSURE_NOTICE,
            body: { ...notice, thirdParticipant: '' },
            expected: invalid('body.third_participant', 'participant_id'),
          },
          {
            what: 'disclosure notice without basis',
            kind: K.MESSAGE_KIND_DISCLOSURE_NOTICE,
            body: { ...notice, basis: '' },
            expected: missing('body.basis'),
          },
          noTrace(K.MESSAGE_KIND_DISCLOSURE_NOTICE, notice),
          {
            what: 'shared information without provider',
            kind: K.MESSAGE_KIND_SHARED_INFORMATION,
            body: { ...shared, provider: '' },
            expected: invalid('body.provider', 'participant_id'),
          },
          {
            what: 'shared information without answer',
            kind: K.MESSAGE_KIND_SHARED_INFORMATION,
            body: { ...shared, answer: undefined },
            expected: missing('body.answer'),
          },
          {
            what: 'shared information whose answer has no outcome',
            kind: K.MESSAGE_KIND_SHARED_INFORMATION,
            body: { ...shared, answer: tracedAnswer(traceId, { outcome: TraceOutcome.TRACE_OUTCOME_UNSPECIFIED }) },
            expected: invalid('body.answer.outcome', 'required'),
          },
          {
            what: 'shared information without restrictions',
            kind: K.MESSAGE_KIND_SHARED_INFORMATION,
            body: { ...shared, restrictions: undefined },
            expected: missing('body.restrictions'),
          },
          {
            what: 'shared information without provider trace id',
            kind: K.MESSAGE_KIND_SHARED_INFORMATION,
            body: { ...shared, providerTraceId: '' },
            expected: invalid('body.provider_trace_id', 'trace_id'),
          },
          {
            what: 'disclosure notice whose disclosed_at_ms is 2^53',
            kind: K.MESSAGE_KIND_DISCLOSURE_NOTICE,
            body: withInt64(encodeBody(K.MESSAGE_KIND_DISCLOSURE_NOTICE, notice), 3, 2n ** 53n),
            expected: invalid('body.disclosed_at_ms', 'safe_integer'),
          },
        ],
        '14.4',
      );
    },
  },
  {
    id: 'required.key-message-fields',
    section: '15.2',
    feature: 'keys',
    cites: ['15.3'],
    title:
      'a KEY_ROTATION without card (or with a card of empty body) or previous key id, and a KEY_REVOCATION without key ids, are refused naming the field and rule, with a receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const next = peer.rotate();
      const previous = peer.previous[0];
      if (!previous) throw new Error('rotate() keeps the previous key set');
      const rotation = { card: next.card, previousKeyId: previous.keyId, graceUntilMs: Date.now() + 60_000 };
      const items: Array<[string, MessageKind, Uint8Array, ExpectedRefusal]> = [
        [
          'rotation without card',
          K.MESSAGE_KIND_KEY_ROTATION,
          KeyRotation.encode({ ...rotation, card: undefined }).finish(),
          missing('body.card'),
        ],
        [
          'rotation with a card of empty body',
          K.MESSAGE_KIND_KEY_ROTATION,
          KeyRotation.encode({ ...rotation, card: { body: Buffer.alloc(0), signature: next.card.signature } }).finish(),
          missing('body.card'),
        ],
        [
          'rotation without previous key id',
          K.MESSAGE_KIND_KEY_ROTATION,
          KeyRotation.encode({ ...rotation, previousKeyId: '' }).finish(),
          invalid('body.previous_key_id', 'key_id'),
        ],
        [
          'revocation without key ids',
          K.MESSAGE_KIND_KEY_REVOCATION,
          KeyRevocation.encode({ revokedKeyIds: [], revokedAtMs: Date.now(), reason: 'compromised' }).finish(),
          missing('body.revoked_key_ids'),
        ],
      ];
      await ensureEach(
        'each key message with a required field left out refused as protocol 15.2 and 15.3 name it',
        items,
        ([what]) => what,
        async ([, kind, body, expected]) => {
          // The node has not processed the rotation: the peer seals with the keys it pinned.
          const sealed = peer.seal({ kind, body, keySet: previous });
          ensureRefused(
            await ctx.host.deliverRaw(sealed.bytes),
            expected,
            peer.receiptOf(sealed.header.messageId, sealed.digest),
          );
        },
      );
    },
  },
  {
    id: 'required.lookup-fields',
    section: '13.3',
    feature: 'lookups',
    title:
      'a lookup query without any one required field is refused on Federation.Lookup naming it (MISSING_FIELD for required, INVALID_FIELD otherwise), without receipt',
    async run(ctx) {
      const peer = await ctx.peer({ policy: { allowLookups: true } });
      const complete = {
        queryId: newTraceId(),
        weapon: { manufacturer: 'Conformance Arms', serialNumber: 'RQ-12345', model: '', calibre: '', type: 0 },
        purpose: 'border check',
        requestingAuthority: '',
      };
      const items: Array<[string, LookupQuery, string, string]> = [
        ['no query id', { ...complete, queryId: '' }, 'body.query_id', 'query_id'],
        ['no weapon', { ...complete, weapon: undefined }, 'body.weapon', 'required'],
        [
          'no manufacturer',
          { ...complete, weapon: { ...complete.weapon, manufacturer: '' } },
          'body.weapon.manufacturer',
          'required',
        ],
        [
          'no serial number',
          { ...complete, weapon: { ...complete.weapon, serialNumber: '' } },
          'body.weapon.serial_number',
          'required',
        ],
        ['no purpose', { ...complete, purpose: '' }, 'body.purpose', 'required'],
      ];
      await ensureEach(
        'each query with a required field left out refused as protocol 13.3 and 13.6 step 11 name it',
        items,
        ([what]) => what,
        async ([, query, field, rule]) => {
          const sealed = peer.seal({
            kind: K.MESSAGE_KIND_LOOKUP_QUERY,
            body: LookupQuery.encode(query).finish(),
            expiresAtMs: Date.now() + 60_000,
          });
          const code = rule === 'required' ? E.ERROR_CODE_MISSING_FIELD : E.ERROR_CODE_INVALID_FIELD;
          ensureRefused(await ctx.host.lookupRaw(sealed.bytes), { code, field, rule, receipt: 'none' });
        },
      );
    },
  },
];
