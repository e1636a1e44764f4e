import type { Logger } from 'pino';
import { MessageKind, ResendRequest } from '@tracenet/proto';
import type { Journal } from '../audit/audit-log.js';
import type { InboundHandler } from '../ports/inbound.js';
import type { Store } from '../store/store.js';
import { decodeResendRequest } from './message-kinds.js';
import type { Outbox } from './outbox.js';
import type { PeerRegistry } from './peers.js';

/**
 * Re-delivery after a restore (docs/protocol.md 5.6, docs/adr/0013-backup-and-restore.md). A node
 * restored from a backup has lost what it receipted after the backup, while its peers hold those
 * receipts and consider the messages delivered. On its first start it asks each pinned peer, with
 * a RESEND_REQUEST, to deliver again what the peer sent it since the backup; the peer re-queues
 * those messages under their original ids, and the restored node's seen-set answers DUPLICATE for
 * the ones it still has. Nothing is lost and nothing is processed twice.
 */

/** Answers RESEND_REQUESTs by re-queueing sent messages; every other kind goes to `next`. */
export class ResendRequests implements InboundHandler {
  constructor(private readonly deps: { outbox: Outbox; logger: Logger; next: InboundHandler }) {}

  handles(kind: MessageKind): boolean {
    return kind === MessageKind.MESSAGE_KIND_RESEND_REQUEST || this.deps.next.handles(kind);
  }

  async accept(
    message: Parameters<InboundHandler['accept']>[0],
    commit: Parameters<InboundHandler['accept']>[1],
  ): Promise<void> {
    if (message.kind !== MessageKind.MESSAGE_KIND_RESEND_REQUEST) return this.deps.next.accept(message, commit);
    const { sinceMs } = decodeResendRequest(message.body);
    const resend = await this.deps.outbox.prepareResend(message.sender, sinceMs);
    await commit(
      resend.operations,
      [
        {
          type: 'messages.resent',
          fields: {
            peer: message.sender,
            requestId: message.messageId,
            sinceMs,
            count: resend.count,
            skipped: resend.skipped,
          },
        },
      ],
      [],
    );
    resend.schedule();
    this.deps.logger.info(
      { peer: message.sender, sinceMs, count: resend.count, skipped: resend.skipped },
      'delivering again what a restored peer lost',
    );
  }
}

/**
 * On the first start after a restore: queues a RESEND_REQUEST to every pinned peer, since the
 * backup's time less `clockToleranceMs` (peers date their receipts on their own clocks), and
 * removes the restore's mark in the same batch, so the requests are made once. Returns the peers
 * asked (none when the store was not restored).
 */
export async function requestResendAfterRestore(deps: {
  store: Store;
  journal: Journal;
  outbox: Outbox;
  peers: PeerRegistry;
  clockToleranceMs: number;
  logger: Logger;
}): Promise<string[]> {
  const mark = await deps.store.meta.restored.get();
  if (!mark) return [];
  const sinceMs = Math.max(0, mark.backupCreatedAtMs - deps.clockToleranceMs);
  const peers = deps.peers.list().map((peer) => peer.participantId);
  const prepared = peers.map((recipient) =>
    deps.outbox.prepare({
      recipient,
      kind: MessageKind.MESSAGE_KIND_RESEND_REQUEST,
      body: ResendRequest.encode({ sinceMs }).finish(),
      urgent: true,
    }),
  );
  await deps.journal.write(
    [...prepared.flatMap((p) => p.operations), deps.store.meta.restored.del()],
    prepared.flatMap((p) => p.audit),
  );
  for (const p of prepared) p.schedule();
  deps.logger.warn(
    { peers, sinceMs },
    'restored from a backup: asked every peer to deliver again what it sent since the backup',
  );
  return peers;
}
