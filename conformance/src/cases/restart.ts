import { ErrorCode, MessageDirection, MessageKind, Notice, ReceiptStatus, TracenetError } from '@tracenet/proto';
import type { ConformanceCase } from '../case.js';
import { CaseFailure, describe, ensureAccepted, ensureEqual, ensureReceipt, ensureRefused } from '../check.js';
import { newMessageId } from '../fake-peer.js';
import { caseWith, getCase, listedAs, sendAccepted, traceRequest } from '../fixtures.js';

const E = ErrorCode;
const K = MessageKind;
const notice = (subject: string, text: string) => Buffer.from(Notice.encode({ subject, text }).finish());

/**
 * What must survive a restart of the node (the suite stops a node it started and runs its command
 * again on the same data): pins, policies and cases (2.4, 12.5, 12.4), the seen-set with its
 * remembered receipts (4.6, 4.8), and queued outbound messages (5.5).
 */
export const RESTART_CASES: ConformanceCase[] = [
  {
    id: 'restart.pins-policies-cases',
    section: '12.5',
    feature: 'access',
    title:
      'after a restart the pinned peer, its policy and its case are still there: its next request opens a second case',
    async run(ctx) {
      const node = await ctx.node();
      const peer = await node.peer({ policy: { acceptRequests: true } });
      await sendAccepted(peer, K.MESSAGE_KIND_TRACE_REQUEST, traceRequest(), 'protocol 12.4');
      const before = await caseWith(node, peer);
      await node.restart();
      ensureEqual(
        (await node.target.authority.call('listPeers', {})).peers
          .filter((p) => p.participantId === peer.participantId)
          .map((p) => p.keyId),
        [peer.keyId],
        'the pin after the restart (protocol 2.4)',
      );
      ensureEqual((await getCase(node, before.caseId)).traceId, before.traceId, 'the case after the restart');
      // Deny by default would refuse this request if the policy had been lost (12.5).
      await sendAccepted(
        peer,
        K.MESSAGE_KIND_TRACE_REQUEST,
        traceRequest(),
        'protocol 12.5: the policy survives a restart',
      );
    },
  },
  {
    id: 'restart.seen-set',
    section: '4.8',
    cites: ['4.1'],
    feature: 'delivery',
    title:
      'after a restart a copy of an accepted envelope is DUPLICATE with the original receipt, and a rejected message id stays rejected',
    async run(ctx) {
      const node = await ctx.node();
      const peer = await node.peer();
      const accepted = peer.seal();
      const first = ensureAccepted(
        await node.host.deliverRaw(accepted.bytes),
        peer.receiptOf(accepted.header.messageId, accepted.digest),
      );
      const rejectedId = newMessageId();
      const bad = peer.seal({ messageId: rejectedId, body: notice('', 'no subject') });
      ensureRefused(
        await node.host.deliverRaw(bad.bytes),
        { code: E.ERROR_CODE_MISSING_FIELD, receipt: 'rejected' },
        peer.receiptOf(rejectedId, bad.digest),
      );
      await node.restart();
      const copy = await node.host.deliverRaw(accepted.bytes);
      if (!copy.ok) throw new CaseFailure('a DUPLICATE receipt after the restart', describe(copy), 'protocol 4.8');
      ensureReceipt(
        copy.value,
        peer.receiptOf(accepted.header.messageId, accepted.digest),
        ReceiptStatus.RECEIPT_STATUS_DUPLICATE,
      );
      const original = copy.value.original
        ? ensureReceipt(
            copy.value.original,
            peer.receiptOf(accepted.header.messageId, accepted.digest),
            ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
          )
        : undefined;
      if (original?.receivedAtMs !== first.receivedAtMs)
        throw new CaseFailure(
          'Receipt.original = the ACCEPTED receipt given before the restart',
          original ? 'another ACCEPTED receipt' : 'no original',
          'protocol 4.8',
        );
      const corrected = peer.seal({ messageId: rejectedId, body: notice('fixed', 'now complete') });
      ensureRefused(
        await node.host.deliverRaw(corrected.bytes),
        { code: E.ERROR_CODE_MISSING_FIELD, rule: 'rejected_before', receipt: 'rejected' },
        peer.receiptOf(rejectedId),
      );
    },
  },
  {
    id: 'restart.outbox-continues',
    section: '5.5',
    feature: 'outbound',
    title: 'a message queued before a restart is delivered after it, with the same message id and body',
    async run(ctx) {
      const node = await ctx.node();
      const peer = await node.peer();
      let available = false;
      peer.responder = () =>
        available ? 'default' : new TracenetError(E.ERROR_CODE_UNAVAILABLE, 'the fake peer is down for now');
      const { messageId } = await node.target.authority.call('sendNotice', {
        recipient: peer.participantId,
        subject: 'across',
        text: 'a restart',
        correlationId: '',
      });
      const refused = await peer.expect(K.MESSAGE_KIND_NOTICE, { context: 'protocol 5.5: the first attempt' });
      await node.restart();
      peer.inbox.length = 0;
      available = true;
      const delivered = await peer.expect<Notice>(K.MESSAGE_KIND_NOTICE, {
        where: (m) => m.receipt.body.length > 0,
        timeoutMs: 15_000,
        context: 'protocol 5.5: queued messages survive restarts',
      });
      peer.inbox.length = 0;
      ensureEqual(delivered.header.messageId, messageId, 'the message id after the restart');
      ensureEqual(
        Buffer.from(delivered.bodyBytes).equals(Buffer.from(refused.bodyBytes)),
        true,
        'the same body after the restart',
      );
      if (!(await listedAs(node, MessageDirection.MESSAGE_DIRECTION_SENT, messageId)))
        throw new CaseFailure(`${messageId} listed as sent`, 'not listed', 'protocol 5.5');
    },
  },
];
