import { ErrorCode, MessageKind, Notice, ResendRequest, TracenetError } from '@tracenet/proto';
import { decodeWithSafeIntegers } from '../envelope/safe-integers.js';
import { decodeDisclosureBody, decodeWorkflowBody, DISCLOSURE_KINDS } from '../messages/bodies.js';
import { decodeKeyRevocation, decodeKeyRotation } from '../keys/key-messages.js';
import { checkReexportNoticeBody } from '../messages/reexport-notice.js';

/** A required text: empty or only white space is MISSING_FIELD (docs/protocol.md 6.2), too long INVALID_FIELD. */
function requiredText(name: string, value: string, max: number): void {
  if (value.trim() === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, `${name} is required`, {
      field: name,
      rule: 'required',
    });
  if (value.length > max)
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${name} must be 1 to ${max} characters`, {
      field: name,
      rule: 'length',
    });
}

/** Validates a Notice (MESSAGE_KIND_NOTICE). */
export function validateNotice(notice: Notice): void {
  requiredText('body.subject', notice.subject, 200);
  requiredText('body.text', notice.text, 100_000);
}

/** Decodes a ResendRequest (MESSAGE_KIND_RESEND_REQUEST, docs/protocol.md 5.6): `since_ms` a safe, non-negative integer. */
export function decodeResendRequest(body: Uint8Array): ResendRequest {
  const request = decodeWithSafeIntegers(ResendRequest, body, 'ResendRequest', 'body', { 1: 'body.since_ms' });
  if (request.sinceMs < 0)
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'body.since_ms must not be negative', {
      field: 'body.since_ms',
      rule: 'non_negative',
    });
  return request;
}

/**
 * Decodes and validates the body of a message of `kind` (docs/protocol.md section 6). Throws
 * MALFORMED, MISSING_FIELD or INVALID_FIELD naming the field; the lookup kinds, which never travel
 * with Deliver or the outbox, are INVALID_FIELD on `header.kind` (rule `deliverable_kind`).
 */
export function validateBody(kind: MessageKind, body: Uint8Array): void {
  switch (kind) {
    case MessageKind.MESSAGE_KIND_NOTICE: {
      validateNotice(decodeWithSafeIntegers(Notice, body, 'Notice', 'body', {}));
      return;
    }
    case MessageKind.MESSAGE_KIND_KEY_ROTATION:
      decodeKeyRotation(body);
      return;
    case MessageKind.MESSAGE_KIND_KEY_REVOCATION:
      decodeKeyRevocation(body);
      return;
    case MessageKind.MESSAGE_KIND_RESEND_REQUEST:
      decodeResendRequest(body);
      return;
    case MessageKind.MESSAGE_KIND_REEXPORT_NOTICE:
      checkReexportNoticeBody(body);
      return;
    case MessageKind.MESSAGE_KIND_LOOKUP_QUERY:
    case MessageKind.MESSAGE_KIND_LOOKUP_ANSWER:
      // A lookup is asked and answered within one Federation/Lookup call (docs/protocol.md 13.1).
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `message kind ${kind} (${kind === MessageKind.MESSAGE_KIND_LOOKUP_QUERY ? 'lookup query' : 'lookup answer'}) is not delivered with Deliver: lookups travel with Federation.Lookup`,
        { field: 'header.kind', rule: 'deliverable_kind' },
      );
    default:
      // Use restrictions (docs/protocol.md 14), then the ITI workflow kinds; an unknown kind is refused there.
      if (DISCLOSURE_KINDS.includes(kind)) decodeDisclosureBody(kind, body);
      else decodeWorkflowBody(kind, body);
  }
}
