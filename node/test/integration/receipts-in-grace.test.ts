import {
  Envelope,
  EnvelopeHeader,
  ErrorCode,
  MessageKind,
  Receipt,
  ReceiptBody,
  ReceiptStatus,
  TraceRequest,
  TracenetError,
} from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/envelope/receipt.js';
import { ManualClock } from '../../src/util/clock.js';
import { startNode, waitFor, type TestNode } from '../support/nodes.js';
import { notice } from '../support/parties.js';
import { RecordingTransport } from '../support/recording-transport.js';
import { traceRequest } from '../support/requests.js';

/**
 * Which key signs a receipt while a rotation's grace runs, and what the sender accepts
 * (docs/protocol.md 4.12, 5.4, 15.2), over real nodes: FRA rotates while its announcement to BEL
 * is held back, so that BEL still pins FRA's previous card and keeps sending to the previous keys;
 * and what BEL accepts of a receipt FRA remembered from before the rotation.
 */

const HOUR = 3_600_000;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What BEL stored for a delivered message: the receipt it verified, and the envelope it sent. */
async function delivered(
  node: TestNode['node'],
  messageId: string,
): Promise<{ receipt: ReceiptBody; signed: Receipt; recipientKeyId: string }> {
  await waitFor(
    async () => (await node.store.outbox.sent.get(messageId)) !== undefined,
    10_000,
    `${messageId} delivered`,
  );
  const sent = await node.store.outbox.sent.get(messageId);
  const signed = Receipt.decode(Buffer.from(String(sent?.receipt), 'base64'));
  const header = EnvelopeHeader.decode(Envelope.decode(Buffer.from(String(sent?.envelope), 'base64')).header);
  return { receipt: ReceiptBody.decode(signed.body), signed, recipientKeyId: header.recipientKeyId };
}

/**
 * FRA and BEL pinned on each other, with one notice from BEL delivered, so that BEL's connection to
 * FRA is open (and keeps FRA's certificate when FRA rotates). While `hold` is set, FRA's transport
 * holds back everything to BEL, its key announcement included.
 */
async function startPair(
  belTransport?: RecordingTransport,
): Promise<{ fra: TestNode; bel: TestNode; hold: { on: boolean }; clock: ManualClock }> {
  const clock = new ManualClock(Date.now());
  const hold = { on: false };
  const fraTransport = new RecordingTransport();
  fraTransport.beforeAttempt = async () => {
    if (hold.on) throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'held back by the test');
  };
  const fra = await startNode('FRA', { clock, transport: fraTransport });
  cleanups.push(() => fra.cleanup());
  const bel = await startNode('BEL', { clock, ...(belTransport ? { transport: belTransport } : {}) });
  cleanups.push(() => bel.cleanup());
  await fra.node.peers.pin(bel.node.card, clock.now());
  await bel.node.peers.pin(fra.node.card, clock.now());
  await delivered(bel.node, await notify(bel.node));
  return { fra, bel, hold, clock };
}

/** Queues a notice from `node` to FRA; returns its message id. */
function notify(node: TestNode['node'], ttlMs?: number): Promise<string> {
  return node.outbox.enqueue({
    recipient: 'FRA',
    kind: MessageKind.MESSAGE_KIND_NOTICE,
    body: notice(),
    ...(ttlMs !== undefined ? { ttlMs } : {}),
  });
}

/**
 * FRA rotates while its announcement to BEL is held back; BEL sends one message (`send`), FRA
 * answers it under its previous keys, and the answer is lost on the way back. BEL tries again only
 * once it has pinned FRA's new card and `ready()` holds: every attempt re-seals, so the retry is
 * sealed to the new keys, and FRA answers it with what it remembered — a DUPLICATE carrying the
 * ACCEPTED original, or the REJECTED receipt — signed with its previous key.
 */
async function answerLostAcrossRotation(
  send: (bel: TestNode['node']) => Promise<string>,
  ready: () => boolean = () => true,
) {
  const transport = new RecordingTransport();
  const { bel, hold, fra, clock } = await startPair(transport);
  hold.on = true;
  const rotation = await fra.node.rotateKeys({ graceMs: HOUR });
  const rotated = () => bel.node.peers.get('FRA')?.body.keyId === rotation.keyId;
  let lost = false;
  const lose = () => {
    lost = true;
    return new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'answer lost by the test');
  };
  transport.alterReceipt = (receipt) => {
    if (lost) return receipt;
    throw lose();
  };
  transport.alterError = (error) => (lost ? error : lose());
  transport.beforeAttempt = async () => {
    if (lost && !(rotated() && ready()))
      throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'waiting for the rotation');
  };
  const messageId = await send(bel.node);
  await waitFor(() => lost, 10_000, 'answer lost');
  hold.on = false;
  await waitFor(rotated, 10_000, 'BEL pins the new card of FRA');
  /** Attempts answered with a receipt since. */
  const answered = () => transport.attemptsOf(messageId).filter((a) => a.outcome === 'receipt').length;
  return { bel, clock, messageId, answered, previousKeyId: rotation.previousKeyId };
}

describe('receipts during a rotation grace (protocol 4.12, 5.4, 15.2)', () => {
  it('a receipt is signed with the keys its envelope was sealed to: a sender still pinning the previous card gets one it verifies with that card', async () => {
    const { fra, bel, hold } = await startPair();
    const previous = {
      keyId: fra.node.identity.keyId,
      signingPublicKey: Buffer.from(fra.node.identity.keys.signingPublicKey),
    };
    hold.on = true;
    const rotation = await fra.node.rotateKeys({ graceMs: HOUR });

    // BEL has not heard of the rotation: it seals to FRA's previous keys over its open connection,
    // FRA opens the envelope with its retired keys and signs the receipt with the previous signing
    // key, which BEL verifies with the card it sealed to.
    const inGrace = await notify(bel.node);
    const old = await delivered(bel.node, inGrace);
    expect(old.recipientKeyId).toBe(previous.keyId);
    expect([old.receipt.status, old.receipt.issuerKeyId]).toEqual([
      ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
      previous.keyId,
    ]);
    const expected = { issuer: 'FRA', sender: 'BEL', messageId: inGrace };
    expect(
      verifyReceipt(old.signed, {
        ...expected,
        issuerKeyId: previous.keyId,
        issuerSigningPublicKey: previous.signingPublicKey,
      }).issuerKeyId,
    ).toBe(previous.keyId);
    expect(() =>
      verifyReceipt(old.signed, {
        ...expected,
        issuerKeyId: rotation.keyId,
        issuerSigningPublicKey: fra.node.identity.keys.signingPublicKey,
      }),
    ).toThrow(expect.objectContaining({ code: ErrorCode.ERROR_CODE_BAD_SIGNATURE }));

    // Once BEL has processed the rotation it seals to the new keys, and the receipts name them.
    hold.on = false;
    await waitFor(
      () => bel.node.peers.get('FRA')?.body.keyId === rotation.keyId,
      10_000,
      'BEL pins the new card of FRA',
    );
    const after = await delivered(bel.node, await notify(bel.node));
    expect([after.recipientKeyId, after.receipt.issuerKeyId]).toEqual([rotation.keyId, rotation.keyId]);
    expect(await bel.node.store.outbox.failed.get(inGrace)).toBeUndefined();
  });

  it('a DUPLICATE whose original was signed with the previous key proves delivery to a sender that has pinned the new card since', async () => {
    const { bel, messageId, previousKeyId } = await answerLostAcrossRotation((node) => notify(node));
    const proof = await delivered(bel.node, messageId);
    // What BEL keeps as proof is the ACCEPTED original, signed with FRA's previous key.
    expect([proof.receipt.status, proof.receipt.issuerKeyId]).toEqual([
      ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
      previousKeyId,
    ]);
  });

  it('a remembered REJECTED receipt signed with the previous key ends the message with its code', async () => {
    // FRA's default policy refuses BEL's trace requests (KIND_NOT_ALLOWED), and remembers the
    // refusal for the message id (4.6): the retry gets the same receipt back.
    const request = (node: TestNode['node']) =>
      node.outbox.enqueue({
        recipient: 'FRA',
        kind: MessageKind.MESSAGE_KIND_TRACE_REQUEST,
        body: TraceRequest.encode({ ...traceRequest(), traceId: 'trace-across-rotation-1' }).finish(),
      });
    const { bel, messageId, previousKeyId } = await answerLostAcrossRotation(request);
    await waitFor(
      async () => (await bel.node.store.outbox.failed.get(messageId)) !== undefined,
      10_000,
      'failed for good',
    );
    const failed = await bel.node.store.outbox.failed.get(messageId);
    expect(failed?.lastError).toBe('KIND_NOT_ALLOWED');
    const receipt = ReceiptBody.decode(Receipt.decode(Buffer.from(String(failed?.receipt), 'base64')).body);
    expect([receipt.status, receipt.errorCode, receipt.issuerKeyId]).toEqual([
      ReceiptStatus.RECEIPT_STATUS_REJECTED,
      ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED,
      previousKeyId,
    ]);
  });

  it('after the grace, a receipt signed with the previous key proves nothing: the message is retried until it expires', async () => {
    let graceOver = false;
    const { bel, clock, messageId, answered } = await answerLostAcrossRotation(
      (node) => notify(node, 2 * HOUR),
      () => graceOver,
    );
    clock.advance(HOUR);
    graceOver = true;
    await waitFor(() => answered() >= 2, 10_000, 'two DUPLICATE answers after the grace');
    expect(await bel.node.store.outbox.sent.get(messageId)).toBeUndefined();
    expect((await bel.node.store.outbox.queue.get(messageId))?.lastError).toBe('BAD_SIGNATURE');
    clock.advance(HOUR);
    await waitFor(async () => (await bel.node.store.outbox.failed.get(messageId)) !== undefined, 10_000, 'expired');
    expect((await bel.node.store.outbox.failed.get(messageId))?.lastError).toBe('EXPIRED');
  });
});
