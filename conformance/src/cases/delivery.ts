import { ErrorCode, Notice, ReceiptStatus } from '@tracenet/proto';
import type { ConformanceCase } from '../case.js';
import { CaseFailure, describe, ensureAccepted, ensureReceipt, ensureRefused } from '../check.js';
import { newMessageId } from '../fake-peer.js';

const E = ErrorCode;
const notice = (subject: string, text: string) => Buffer.from(Notice.encode({ subject, text }).finish());

/**
 * Duplicates, reuse of message ids and remembered rejections (protocol 4.6–4.8, 4.11, 4.12): a
 * copy is answered with the original receipt and never processed twice; a rejected message never
 * gets a positive receipt.
 */
export const DELIVERY_CASES: ConformanceCase[] = [
  {
    id: 'delivery.duplicate-copy',
    section: '4.8',
    feature: 'delivery',
    title: 'the same envelope delivered twice is answered DUPLICATE, with the original ACCEPTED receipt',
    async run(ctx) {
      const peer = await ctx.peer();
      const sealed = peer.seal();
      const first = ensureAccepted(
        await ctx.host.deliverRaw(sealed.bytes),
        peer.receiptOf(sealed.header.messageId, sealed.digest),
      );
      const again = await ctx.host.deliverRaw(sealed.bytes);
      if (!again.ok) throw new CaseFailure('a DUPLICATE receipt', describe(again));
      ensureReceipt(
        again.value,
        peer.receiptOf(sealed.header.messageId, sealed.digest),
        ReceiptStatus.RECEIPT_STATUS_DUPLICATE,
      );
      if (!again.value.original)
        throw new CaseFailure('Receipt.original = the ACCEPTED receipt', 'no original', 'protocol 4.8');
      const original = ensureReceipt(
        again.value.original,
        peer.receiptOf(sealed.header.messageId, sealed.digest),
        ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
      );
      if (original.receivedAtMs !== first.receivedAtMs)
        throw new CaseFailure('the stored ACCEPTED receipt as original', 'another ACCEPTED receipt', 'protocol 4.8');
    },
  },
  {
    id: 'delivery.duplicate-reseal',
    section: '4.8',
    feature: 'delivery',
    title: 'a retry sealed anew (new time and nonce, same id and body) is DUPLICATE for its own digest',
    async run(ctx) {
      const peer = await ctx.peer();
      const messageId = newMessageId();
      const body = notice('retry', 'the same body');
      const first = peer.seal({ messageId, body });
      ensureAccepted(await ctx.host.deliverRaw(first.bytes), peer.receiptOf(messageId, first.digest));
      const retry = peer.seal({ messageId, body, createdAtMs: Date.now() + 5 });
      const outcome = await ctx.host.deliverRaw(retry.bytes);
      if (!outcome.ok) throw new CaseFailure('a DUPLICATE receipt', describe(outcome));
      ensureReceipt(outcome.value, peer.receiptOf(messageId, retry.digest), ReceiptStatus.RECEIPT_STATUS_DUPLICATE);
    },
  },
  {
    id: 'delivery.message-id-reused',
    section: '4.8',
    feature: 'delivery',
    title: 'the same id with another body is MESSAGE_ID_REUSED with a receipt; copies of the original stay DUPLICATE',
    async run(ctx) {
      const peer = await ctx.peer();
      const messageId = newMessageId();
      const original = peer.seal({ messageId, body: notice('one', 'first content') });
      ensureAccepted(await ctx.host.deliverRaw(original.bytes), peer.receiptOf(messageId, original.digest));
      const other = peer.seal({ messageId, body: notice('two', 'other content') });
      ensureRefused(
        await ctx.host.deliverRaw(other.bytes),
        {
          code: E.ERROR_CODE_MESSAGE_ID_REUSED,
          field: 'header.message_id',
          rule: 'unique_message_id',
          receipt: 'rejected',
        },
        peer.receiptOf(messageId, other.digest),
      );
      const copy = await ctx.host.deliverRaw(original.bytes);
      if (!copy.ok) throw new CaseFailure('the original copied again to be DUPLICATE', describe(copy), 'protocol 4.11');
      ensureReceipt(copy.value, peer.receiptOf(messageId, original.digest), ReceiptStatus.RECEIPT_STATUS_DUPLICATE);
    },
  },
  {
    id: 'delivery.rejected-stays-rejected',
    section: '4.6',
    feature: 'delivery',
    title:
      'after a rejection for good, a corrected message with the same id is refused again with the remembered receipt (rejected_before)',
    async run(ctx) {
      const peer = await ctx.peer();
      const messageId = newMessageId();
      const bad = peer.seal({ messageId, body: notice('', 'no subject') });
      const first = ensureRefused(
        await ctx.host.deliverRaw(bad.bytes),
        { code: E.ERROR_CODE_MISSING_FIELD, receipt: 'rejected' },
        peer.receiptOf(messageId, bad.digest),
      );
      const good = peer.seal({ messageId, body: notice('fixed', 'now complete') });
      const again = await ctx.host.deliverRaw(good.bytes);
      const body = ensureRefused(
        again,
        { code: E.ERROR_CODE_MISSING_FIELD, rule: 'rejected_before', receipt: 'rejected' },
        peer.receiptOf(messageId),
      );
      if (first && body && !Buffer.from(body.envelopeDigest).equals(Buffer.from(first.envelopeDigest))) {
        throw new CaseFailure(
          'the remembered REJECTED receipt unchanged (digest of the first envelope)',
          'a receipt naming another digest',
          'protocol 4.6',
        );
      }
    },
  },
  {
    id: 'delivery.same-id-other-sender',
    section: '4.8',
    feature: 'delivery',
    title: 'the same message id from two senders is two messages: both ACCEPTED',
    async run(ctx) {
      const a = await ctx.peer();
      const b = await ctx.peer();
      const messageId = newMessageId();
      const fromA = a.seal({ messageId });
      const fromB = b.seal({ messageId });
      ensureAccepted(await ctx.host.deliverRaw(fromA.bytes), a.receiptOf(messageId, fromA.digest));
      ensureAccepted(await ctx.host.deliverRaw(fromB.bytes), b.receiptOf(messageId, fromB.digest));
    },
  },
  {
    id: 'delivery.expired-copy-not-duplicate',
    section: '4.7',
    cites: ['4'],
    feature: 'delivery',
    title:
      'a copy of an accepted message sealed outside the window is rejected (OUTSIDE_TIME_WINDOW), not answered DUPLICATE',
    async run(ctx) {
      const peer = await ctx.peer();
      const messageId = newMessageId();
      const body = notice('once', 'accepted once');
      const first = peer.seal({ messageId, body });
      ensureAccepted(await ctx.host.deliverRaw(first.bytes), peer.receiptOf(messageId, first.digest));
      const old = peer.seal({
        messageId,
        body,
        createdAtMs: Date.now() - ctx.settings.replayWindowMs - 60_000,
        expiresAtMs: Date.now() + 3_600_000,
      });
      ensureRefused(
        await ctx.host.deliverRaw(old.bytes),
        { code: E.ERROR_CODE_OUTSIDE_TIME_WINDOW, receipt: 'rejected' },
        peer.receiptOf(messageId, old.digest),
      );
    },
  },
];
