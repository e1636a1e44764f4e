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

/**
 * Takes accepted messages of some kinds (the ITI workflow, key messages) and may still refuse
 * them. It must call `commit` exactly once to accept: the receiver's own writes (inbox, seen-set,
 * audit) and the handler's go into one batch. Anything it throws before committing rejects the
 * message.
 */
export interface InboundHandler {
  handles(kind: MessageKind): boolean;
  accept(message: InboundMessage & { readonly senderKeyId?: string }, commit: CommitInbound): Promise<void>;
}
