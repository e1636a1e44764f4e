import { ErrorCode, MessageKind, Notice, TracenetError } from '@tracenet/proto';
import { decodeDisclosureBody, decodeWorkflowBody, DISCLOSURE_KINDS } from '../workflow/messages.js';
import { decodeKeyRevocation, decodeKeyRotation } from './key-messages.js';

function field(name: string, value: string, min: number, max: number): void {
  if (value.length === 0 && min > 0) {
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, `${name} is required`, { field: name, rule: 'required' });
  }
  if (value.length < min || value.length > max) {
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${name} must be ${min} to ${max} characters`, { field: name, rule: 'length' });
  }
}

/** Validates a Notice (MESSAGE_KIND_NOTICE). */
export function validateNotice(notice: Notice): void {
  field('body.subject', notice.subject, 1, 200);
  field('body.text', notice.text, 1, 100_000);
}

/**
 * Decodes and validates the body of a message of `kind` (docs/protocol.md section 6). Throws
 * MALFORMED, MISSING_FIELD or INVALID_FIELD naming the field; the lookup kinds, which never travel
 * with Deliver or the outbox, are INVALID_FIELD on `header.kind` (rule `deliverable_kind`).
 */
export function validateBody(kind: MessageKind, body: Uint8Array): void {
  switch (kind) {
    case MessageKind.MESSAGE_KIND_NOTICE: {
      let notice: Notice;
      try {
        notice = Notice.decode(body);
      } catch (cause) {
        throw new TracenetError(ErrorCode.ERROR_CODE_MALFORMED, 'body is not a valid Notice message', { field: 'body', rule: 'protobuf', cause });
      }
      validateNotice(notice);
      return;
    }
    case MessageKind.MESSAGE_KIND_KEY_ROTATION:
      decodeKeyRotation(body);
      return;
    case MessageKind.MESSAGE_KIND_KEY_REVOCATION:
      decodeKeyRevocation(body);
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
