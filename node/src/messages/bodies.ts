import {
  ClarificationReply,
  ClarificationRequest,
  Closure,
  ConsentDecision,
  ConsentRequest,
  DelayNotice,
  DisclosureNotice,
  ErrorCode,
  MessageKind,
  Refusal,
  Restriction,
  SharedInformation,
  TraceAcknowledgement,
  TraceAnswer,
  TraceRequest,
  TracenetError,
  Withdrawal,
} from '@tracenet/proto';
import { decodeWithSafeIntegers } from '../envelope/safe-integers.js';
import { isParticipantId } from '../identity/participant-id.js';
import { validateRestrictions } from './restrictions.js';
import { requireDate, requireText, validateAnswer, validateReason, validateTraceRequest } from './validation.js';

/** A decoded, validated workflow message body. */
export type WorkflowBody =
  | { kind: MessageKind.MESSAGE_KIND_TRACE_REQUEST; traceId: string; body: TraceRequest }
  | { kind: MessageKind.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT; traceId: string; body: TraceAcknowledgement }
  | { kind: MessageKind.MESSAGE_KIND_CLARIFICATION_REQUEST; traceId: string; body: ClarificationRequest }
  | { kind: MessageKind.MESSAGE_KIND_CLARIFICATION_REPLY; traceId: string; body: ClarificationReply }
  | { kind: MessageKind.MESSAGE_KIND_TRACE_ANSWER; traceId: string; body: TraceAnswer }
  | { kind: MessageKind.MESSAGE_KIND_TRACE_DELAY; traceId: string; body: DelayNotice }
  | { kind: MessageKind.MESSAGE_KIND_TRACE_RESTRICTION; traceId: string; body: Restriction }
  | { kind: MessageKind.MESSAGE_KIND_TRACE_REFUSAL; traceId: string; body: Refusal }
  | { kind: MessageKind.MESSAGE_KIND_TRACE_WITHDRAWAL; traceId: string; body: Withdrawal }
  | { kind: MessageKind.MESSAGE_KIND_TRACE_CLOSURE; traceId: string; body: Closure };

const TRACE_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** Decodes a body: MALFORMED (`body`) unless it decodes, INVALID_FIELD for an int64 beyond ±(2^53 − 1). */
function decode<T>(
  codec: { decode(bytes: Uint8Array): T },
  bytes: Uint8Array,
  name: string,
  int64Fields: Readonly<Record<number, string>> = {},
): T {
  return decodeWithSafeIntegers(codec, bytes, name, 'body', int64Fields);
}

function traceId(value: string, field = 'body.trace_id'): string {
  if (!TRACE_ID.test(value)) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'trace id must be 16 to 64 characters of [A-Za-z0-9_-]',
      { field, rule: 'trace_id' },
    );
  }
  return value;
}

/**
 * Decodes and validates the body of a workflow message (docs/protocol.md 12.2). Checks content
 * only; whether the step is allowed in the case's state is the workflow's business.
 */
export function decodeWorkflowBody(kind: MessageKind, bytes: Uint8Array): WorkflowBody {
  const K = MessageKind;
  switch (kind) {
    case K.MESSAGE_KIND_TRACE_REQUEST: {
      const body = decode(TraceRequest, bytes, 'TraceRequest');
      validateTraceRequest(body, 'body');
      return { kind, traceId: body.traceId, body };
    }
    case K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT: {
      const body = decode(TraceAcknowledgement, bytes, 'TraceAcknowledgement');
      requireText(body.requestedCaseReference, 'body.requested_case_reference', 'the requested case reference', 200);
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_CLARIFICATION_REQUEST: {
      const body = decode(ClarificationRequest, bytes, 'ClarificationRequest');
      requireText(body.clarificationId, 'body.clarification_id', 'the clarification id', 64);
      requireText(body.question, 'body.question', 'the question');
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_CLARIFICATION_REPLY: {
      const body = decode(ClarificationReply, bytes, 'ClarificationReply');
      requireText(body.clarificationId, 'body.clarification_id', 'the clarification id', 64);
      requireText(body.answer, 'body.answer', 'the answer');
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_TRACE_ANSWER: {
      const body = decode(TraceAnswer, bytes, 'TraceAnswer');
      validateAnswer(body, 'body');
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_TRACE_DELAY: {
      const body = decode(DelayNotice, bytes, 'DelayNotice');
      validateReason(body.reason, body.explanation, 'body');
      requireDate(body.expectedBy, 'body.expected_by', 'the expected date', false);
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_TRACE_RESTRICTION: {
      const body = decode(Restriction, bytes, 'Restriction');
      validateReason(body.reason, body.explanation, 'body');
      if (body.partialAnswer) validateAnswer(body.partialAnswer, 'body.partial_answer');
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_TRACE_REFUSAL: {
      const body = decode(Refusal, bytes, 'Refusal');
      validateReason(body.reason, body.explanation, 'body');
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_TRACE_WITHDRAWAL: {
      const body = decode(Withdrawal, bytes, 'Withdrawal');
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_TRACE_CLOSURE: {
      const body = decode(Closure, bytes, 'Closure');
      return { kind, traceId: traceId(body.traceId), body };
    }
    default:
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `message kind ${kind} is not a workflow message`, {
        field: 'header.kind',
        rule: 'known_kind',
      });
  }
}

/** Encodes a workflow body for sending. */
export function encodeWorkflowBody(message: WorkflowBody): Uint8Array {
  const K = MessageKind;
  switch (message.kind) {
    case K.MESSAGE_KIND_TRACE_REQUEST:
      return TraceRequest.encode(message.body).finish();
    case K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT:
      return TraceAcknowledgement.encode(message.body).finish();
    case K.MESSAGE_KIND_CLARIFICATION_REQUEST:
      return ClarificationRequest.encode(message.body).finish();
    case K.MESSAGE_KIND_CLARIFICATION_REPLY:
      return ClarificationReply.encode(message.body).finish();
    case K.MESSAGE_KIND_TRACE_ANSWER:
      return TraceAnswer.encode(message.body).finish();
    case K.MESSAGE_KIND_TRACE_DELAY:
      return DelayNotice.encode(message.body).finish();
    case K.MESSAGE_KIND_TRACE_RESTRICTION:
      return Restriction.encode(message.body).finish();
    case K.MESSAGE_KIND_TRACE_REFUSAL:
      return Refusal.encode(message.body).finish();
    case K.MESSAGE_KIND_TRACE_WITHDRAWAL:
      return Withdrawal.encode(message.body).finish();
    case K.MESSAGE_KIND_TRACE_CLOSURE:
      return Closure.encode(message.body).finish();
  }
}

/** A decoded, validated use-restriction message body (docs/protocol.md section 14). */
export type DisclosureBody =
  | { kind: MessageKind.MESSAGE_KIND_CONSENT_REQUEST; traceId: string; body: ConsentRequest }
  | { kind: MessageKind.MESSAGE_KIND_CONSENT_DECISION; traceId: string; body: ConsentDecision }
  | { kind: MessageKind.MESSAGE_KIND_DISCLOSURE_NOTICE; traceId: string; body: DisclosureNotice }
  | { kind: MessageKind.MESSAGE_KIND_SHARED_INFORMATION; traceId: string; body: SharedInformation };

/** The message kinds of use restrictions: handled beside the case state machine. */
export const DISCLOSURE_KINDS: readonly MessageKind[] = [
  MessageKind.MESSAGE_KIND_CONSENT_REQUEST,
  MessageKind.MESSAGE_KIND_CONSENT_DECISION,
  MessageKind.MESSAGE_KIND_DISCLOSURE_NOTICE,
  MessageKind.MESSAGE_KIND_SHARED_INFORMATION,
];

function participant(value: string, field: string): void {
  if (!isParticipantId(value))
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${field} must be a participant id`, {
      field,
      rule: 'participant_id',
    });
}

/** Decodes and validates the body of a use-restriction message (docs/protocol.md 14.6). */
export function decodeDisclosureBody(kind: MessageKind, bytes: Uint8Array): DisclosureBody {
  const K = MessageKind;
  switch (kind) {
    case K.MESSAGE_KIND_CONSENT_REQUEST: {
      const body = decode(ConsentRequest, bytes, 'ConsentRequest');
      requireText(body.consentId, 'body.consent_id', 'the consent id', 64);
      participant(body.thirdParticipant, 'body.third_participant');
      requireText(body.reason, 'body.reason', 'the reason', 5000);
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_CONSENT_DECISION: {
      const body = decode(ConsentDecision, bytes, 'ConsentDecision');
      requireText(body.consentId, 'body.consent_id', 'the consent id', 64);
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_DISCLOSURE_NOTICE: {
      const body = decode(DisclosureNotice, bytes, 'DisclosureNotice', { 3: 'body.disclosed_at_ms' });
      participant(body.thirdParticipant, 'body.third_participant');
      requireText(body.basis, 'body.basis', 'the basis', 200);
      return { kind, traceId: traceId(body.traceId), body };
    }
    case K.MESSAGE_KIND_SHARED_INFORMATION: {
      const body = decode(SharedInformation, bytes, 'SharedInformation');
      participant(body.provider, 'body.provider');
      if (!body.answer)
        throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'shared information carries the answer', {
          field: 'body.answer',
          rule: 'required',
        });
      validateAnswer(body.answer, 'body.answer');
      if (!body.restrictions)
        throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'shared information carries its restrictions', {
          field: 'body.restrictions',
          rule: 'required',
        });
      validateRestrictions(body.restrictions, 'body.restrictions');
      return { kind, traceId: traceId(body.providerTraceId, 'body.provider_trace_id'), body };
    }
    default:
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `message kind ${kind} is not a use-restriction message`,
        { field: 'header.kind', rule: 'known_kind' },
      );
  }
}

/** Encodes a use-restriction body for sending. */
export function encodeDisclosureBody(message: DisclosureBody): Uint8Array {
  const K = MessageKind;
  switch (message.kind) {
    case K.MESSAGE_KIND_CONSENT_REQUEST:
      return ConsentRequest.encode(message.body).finish();
    case K.MESSAGE_KIND_CONSENT_DECISION:
      return ConsentDecision.encode(message.body).finish();
    case K.MESSAGE_KIND_DISCLOSURE_NOTICE:
      return DisclosureNotice.encode(message.body).finish();
    case K.MESSAGE_KIND_SHARED_INFORMATION:
      return SharedInformation.encode(message.body).finish();
  }
}
