import type { MessageKind } from '@tracenet/proto';
import type { AuditEvent, NodeEventInput } from '../audit/audit-log.js';
import type { Operation } from '../store/store.js';

/** An accepted inbound message as the receiver hands it over. */
export interface InboundMessage {
  readonly sender: string;
  readonly messageId: string;
  readonly kind: MessageKind;
  readonly body: Uint8Array;
}

/** Writes the receiver's acceptance together with the workflow's changes, atomically. */
export type CommitInbound = (operations: Operation[], audit: AuditEvent[], events: NodeEventInput[]) => Promise<void>;
