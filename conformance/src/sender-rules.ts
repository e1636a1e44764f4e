import {
  type ClarificationReply,
  type ClarificationRequest,
  type DelayNotice,
  IllicitKind,
  MessageKind,
  ReasonCode,
  type Refusal,
  type Restriction,
  type TraceAcknowledgement,
  type TraceAnswer,
  TraceOutcome,
  type TraceRequest,
  WeaponType,
} from '@tracenet/proto';

const TRACE_ID = /^[A-Za-z0-9_-]{16,64}$/;
const PARTICIPANT = /^([A-Z]{3}|org:[A-Za-z0-9][A-Za-z0-9._-]{0,62})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const K = MessageKind;

const blank = (s: string | undefined) => s === undefined || s.trim() === '';
const knownReason = (r: ReasonCode) => r > ReasonCode.REASON_CODE_UNSPECIFIED && r <= ReasonCode.REASON_CODE_OTHER;

function answerProblems(a: TraceAnswer, path: string): string[] {
  const out: string[] = [];
  if (
    !(
      a.outcome > TraceOutcome.TRACE_OUTCOME_UNSPECIFIED &&
      a.outcome <= TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION
    )
  )
    out.push(`${path}.outcome is not a known outcome`);
  if (
    a.outcome === TraceOutcome.TRACE_OUTCOME_REFERRED &&
    (!PARTICIPANT.test(a.referral?.participant ?? '') || blank(a.referral?.basis))
  )
    out.push(`${path}.referral needs a participant and a basis`);
  if (a.outcome === TraceOutcome.TRACE_OUTCOME_TRACED && blank(a.lastLegalRecord))
    out.push(`${path}.last_legal_record is required for TRACED`);
  if (!a.restrictions)
    out.push(`${path}.restrictions missing: a node sets use restrictions on every answer (protocol 14.2)`);
  return out;
}

function requestProblems(r: TraceRequest): string[] {
  const out: string[] = [];
  if (blank(r.requestingAuthority)) out.push('requesting_authority is required');
  if (blank(r.caseReference)) out.push('case_reference is required');
  if (r.priority === 0) out.push('priority is required');
  if (r.illicitCriteria.length === 0) out.push('at least one illicit criterion is required');
  for (const c of r.illicitCriteria)
    if (c.kind === IllicitKind.ILLICIT_KIND_UNSPECIFIED || blank(c.legalBasis))
      out.push('each illicit criterion needs a kind and a legal basis');
  if (
    !r.circumstances ||
    r.circumstances.kind === 0 ||
    !DATE.test(r.circumstances.date) ||
    blank(r.circumstances.place)
  )
    out.push('circumstances need a kind, a date and a place');
  const m = r.weapon?.markings;
  const unmarked = r.illicitCriteria.some((c) => c.kind === IllicitKind.ILLICIT_KIND_NOT_MARKED);
  if (!m) out.push('weapon.markings is required');
  else {
    if (!unmarked && blank(m.serialNumber) && blank(r.weapon?.controlComponent?.serialNumber))
      out.push('a serial number is required');
    if (!unmarked && blank(m.manufacturer)) out.push('the manufacturer is required');
    if (m.type === WeaponType.WEAPON_TYPE_UNSPECIFIED) out.push('the weapon type is required');
  }
  if (blank(r.intendedUse)) out.push('intended_use is required');
  return out;
}

/**
 * What a fake peer checks on every workflow message the node under test sends it (protocol 12.2:
 * "a sender MUST apply the same rules before sending"; 12.4: the correlation id of a workflow
 * message is its trace id). Returns the problems, empty when the message is correct.
 */
export function senderProblems(kind: MessageKind, body: unknown, correlationId: string): string[] {
  const out: string[] = [];
  const traceId = (body as { traceId?: string } | undefined)?.traceId;
  const workflow = kind >= K.MESSAGE_KIND_TRACE_REQUEST && kind <= K.MESSAGE_KIND_TRACE_CLOSURE;
  if (workflow || (kind >= K.MESSAGE_KIND_CONSENT_REQUEST && kind <= K.MESSAGE_KIND_DISCLOSURE_NOTICE)) {
    if (!TRACE_ID.test(traceId ?? '')) out.push(`trace_id ${JSON.stringify(traceId)} is not a trace id`);
    if (workflow && correlationId !== traceId)
      out.push(`correlation_id ${JSON.stringify(correlationId)} is not the trace id (protocol 12.4)`);
  }
  switch (kind) {
    case K.MESSAGE_KIND_TRACE_REQUEST:
      out.push(...requestProblems(body as TraceRequest));
      break;
    case K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT:
      if (blank((body as TraceAcknowledgement).requestedCaseReference))
        out.push('requested_case_reference is required');
      break;
    case K.MESSAGE_KIND_CLARIFICATION_REQUEST:
      if (blank((body as ClarificationRequest).clarificationId) || blank((body as ClarificationRequest).question))
        out.push('a clarification request needs an id and a question');
      break;
    case K.MESSAGE_KIND_CLARIFICATION_REPLY:
      if (blank((body as ClarificationReply).clarificationId) || blank((body as ClarificationReply).answer))
        out.push('a clarification reply needs an id and an answer');
      break;
    case K.MESSAGE_KIND_TRACE_ANSWER:
      out.push(...answerProblems(body as TraceAnswer, 'answer'));
      break;
    case K.MESSAGE_KIND_TRACE_DELAY:
    case K.MESSAGE_KIND_TRACE_RESTRICTION:
    case K.MESSAGE_KIND_TRACE_REFUSAL: {
      const b = body as DelayNotice | Restriction | Refusal;
      if (!knownReason(b.reason))
        out.push(
          'the reason (ReasonCode) is required: a state that delays, restricts or refuses gives its reason (ITI; protocol 12.1)',
        );
      if (blank(b.explanation)) out.push('the explanation is required');
      if (kind === K.MESSAGE_KIND_TRACE_RESTRICTION && (b as Restriction).partialAnswer)
        out.push(...answerProblems((b as Restriction).partialAnswer as TraceAnswer, 'partial_answer'));
      break;
    }
    default:
      break;
  }
  return out.map((p) => `${p} (protocol 12.2)`);
}
