import type { MessageKind } from '@tracenet/proto';
import type { AuditEvent } from '../audit/audit-log.js';
import type { Operation } from '../store/store.js';

/** A message prepared for the outbox, to be written in the caller's batch. */
export interface PreparedMessage {
  readonly messageId: string;
  readonly operations: Operation[];
  readonly audit: AuditEvent[];
  /** Starts sending; call after the batch is written. */
  schedule(): void;
}

/** A message the outbox gave up on: the peer rejected it (e.g. KIND_NOT_ALLOWED) or it expired. */
export interface OutboundFailure {
  readonly messageId: string;
  readonly recipient: string;
  readonly kind: MessageKind;
  /** Error code name, e.g. KIND_NOT_ALLOWED. */
  readonly code: string;
}

/** What the workflow needs from the outbox. */
export interface OutboundPort {
  prepare(message: {
    recipient: string;
    kind: MessageKind;
    body: Uint8Array;
    correlationId: string;
    orderKey: string;
  }): PreparedMessage;
  /**
   * Tells about messages that failed for good, so that the case says so on its timeline instead
   * of waiting for an acknowledgement that cannot come. Optional for fakes.
   */
  on?(event: 'failed', listener: (failure: OutboundFailure) => void): unknown;
}
