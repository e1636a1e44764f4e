import { Envelope, EnvelopeHeader, ErrorCode, MessageKind, Receipt, ReceiptBody, ReceiptStatus, TracenetError } from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReceipt } from '../../src/envelope/receipt.js';
import { ManualClock } from '../../src/util/clock.js';
import { startNode, waitFor, type TestNode } from '../support/nodes.js';
import { notice } from '../support/parties.js';
import { RecordingTransport } from '../support/recording-transport.js';

/**
 * Which key signs a receipt while a rotation's grace runs, and what the sender accepts
 * (docs/protocol.md 4.12, 5.4, 15.2), over real nodes: FRA rotates while its announcement to BEL
 * is held back, so that BEL still pins FRA's previous card and keeps sending to the previous keys.
 */

const HOUR = 3_600_000;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What BEL stored for a delivered message: the receipt it verified, and the envelope it sent. */
async function delivered(node: TestNode['node'], messageId: string): Promise<{ receipt: ReceiptBody; signed: Receipt; recipientKeyId: string }> {
  await waitFor(async () => (await node.store.sub.sent.get(messageId)) !== undefined, 10_000, `${messageId} delivered`);
  const sent = await node.store.sub.sent.get(messageId);
  const signed = Receipt.decode(Buffer.from(String(sent?.receipt), 'base64'));
  const header = EnvelopeHeader.decode(Envelope.decode(Buffer.from(String(sent?.envelope), 'base64')).header);
  return { receipt: ReceiptBody.decode(signed.body), signed, recipientKeyId: header.recipientKeyId };
}

/**
 * FRA and BEL pinned on each other, with one notice from BEL delivered, so that BEL's connection to
 * FRA is open (and keeps FRA's certificate when FRA rotates). While `hold` is set, FRA's transport
 * holds back everything to BEL, its key announcement included.
 */
async function startPair(belTransport?: RecordingTransport): Promise<{ fra: TestNode; bel: TestNode; hold: { on: boolean } }> {
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
  return { fra, bel, hold };
}

/** Queues a notice from `node` to FRA; returns its message id. */
function notify(node: TestNode['node']): Promise<string> {
  return node.outbox.enqueue({ recipient: 'FRA', kind: MessageKind.MESSAGE_KIND_NOTICE, body: notice() });
}

describe('receipts during a rotation grace (protocol 4.12, 5.4, 15.2)', () => {
  it("a receipt is signed with the keys its envelope was sealed to: a sender still pinning the previous card gets one it verifies with that card", async () => {
    const { fra, bel, hold } = await startPair();
    const previous = { keyId: fra.node.identity.keyId, signingPublicKey: Buffer.from(fra.node.identity.keys.signingPublicKey) };
    hold.on = true;
    const rotation = await fra.node.rotateKeys({ graceMs: HOUR });

    // BEL has not heard of the rotation: it seals to FRA's previous keys over its open connection,
    // FRA opens the envelope with its retired keys and signs the receipt with the previous signing
    // key, which BEL verifies with the card it sealed to.
    const inGrace = await notify(bel.node);
    const old = await delivered(bel.node, inGrace);
    expect(old.recipientKeyId).toBe(previous.keyId);
    expect([old.receipt.status, old.receipt.issuerKeyId]).toEqual([ReceiptStatus.RECEIPT_STATUS_ACCEPTED, previous.keyId]);
    const expected = { issuer: 'FRA', sender: 'BEL', messageId: inGrace };
    expect(verifyReceipt(old.signed, { ...expected, issuerKeyId: previous.keyId, issuerSigningPublicKey: previous.signingPublicKey }).issuerKeyId).toBe(previous.keyId);
    expect(() => verifyReceipt(old.signed, { ...expected, issuerKeyId: rotation.keyId, issuerSigningPublicKey: fra.node.identity.keys.signingPublicKey })).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_BAD_SIGNATURE }),
    );

    // Once BEL has processed the rotation it seals to the new keys, and the receipts name them.
    hold.on = false;
    await waitFor(() => bel.node.peers.get('FRA')?.body.keyId === rotation.keyId, 10_000, 'BEL pins the new card of FRA');
    const after = await delivered(bel.node, await notify(bel.node));
    expect([after.recipientKeyId, after.receipt.issuerKeyId]).toEqual([rotation.keyId, rotation.keyId]);
    expect(await bel.node.store.sub.failed.get(inGrace)).toBeUndefined();
  });

  // Known deviation (protocol 4.14): a remembered receipt keeps the key that signed it, and the
  // outbox verifies every receipt with the card it sealed to. Remove `.fails` once it is mended.
  it.fails('a DUPLICATE whose original was signed with the previous key proves delivery to a sender that has pinned the new card since', async () => {
    const belTransport = new RecordingTransport();
    const { fra, bel, hold } = await startPair(belTransport);
    hold.on = true;
    const rotation = await fra.node.rotateKeys({ graceMs: HOUR });
    const rotated = () => bel.node.peers.get('FRA')?.body.keyId === rotation.keyId;
    // FRA accepts the message under its previous key, but the receipt is lost on the way back;
    // BEL tries again only once it has pinned FRA's new card (every attempt re-seals).
    let lost = false;
    belTransport.alterReceipt = (receipt) => {
      if (lost) return receipt;
      lost = true;
      throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'receipt lost by the test');
    };
    belTransport.beforeAttempt = async () => {
      if (lost && !rotated()) throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'waiting for the rotation');
    };
    const message = await notify(bel.node);
    await waitFor(() => lost, 10_000, 'receipt lost');
    hold.on = false;
    await waitFor(rotated, 10_000, 'BEL pins the new card of FRA');
    // FRA answers DUPLICATE, signed with its new key, carrying the ACCEPTED original signed with the previous one.
    const answered = () => belTransport.attemptsOf(message).filter((a) => a.outcome === 'receipt').length;
    await waitFor(async () => (await bel.node.store.sub.sent.get(message)) !== undefined || answered() >= 3, 10_000, 'delivered, or answered three times');
    expect(await bel.node.store.sub.sent.get(message)).toBeDefined();
  });
});
