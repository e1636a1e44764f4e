import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  ERROR_CODES,
  ErrorCode,
  EnvelopeHeader,
  Notice,
  type Receipt,
  PeerCardBody,
  ReceiptBody,
  ReceiptStatus,
  STATUS_DETAILS_KEY,
  TracenetError,
} from '@tracenet/proto';
import { verifyAuditLog } from '../src/audit/verify.js';
import { decryptEnvelope, parseEnvelope, sealWithHeader } from '../src/envelope/envelope.js';
import { verifyDeliveryReceipt, verifyReceipt } from '../src/envelope/receipt.js';
import type { InboxMessage } from '../src/federation/receiver.js';
import type { TracenetNode } from '../src/node.js';
import { ManualClock } from '../src/util/clock.js';
import { startNode, testConfig, type TestNode } from './support/nodes.js';
import {
  flipHeaderByte,
  headerFrom,
  makeParty,
  newMessageId,
  notice,
  pairKeyOf,
  type Party,
  RawFederationClient,
  reencode,
  rejectionOf,
  sealFrom,
  sealHeader,
  storeCounts,
} from './support/parties.js';

const MAX_BYTES = 16 * 1024;
const WINDOW_MS = 5 * 60_000;

let clock: ManualClock;
let bel: TestNode;
/** Pinned on BEL. */
let fra: Party;
/** Pinned on BEL; plays the forwarder. */
let ken: Party;
/** Not pinned on BEL. */
let deu: Party;
/** Claims to be FRA with other keys. */
let fraOtherKeys: Party;
let client: RawFederationClient;
const accepted: InboxMessage[] = [];

beforeAll(async () => {
  clock = new ManualClock();
  bel = await startNode('BEL', { clock, config: testConfig({ envelope: { maxBytes: MAX_BYTES } }) });
  [fra, ken, deu, fraOtherKeys] = await Promise.all([
    makeParty('FRA', clock.now()),
    makeParty('KEN', clock.now()),
    makeParty('DEU', clock.now()),
    makeParty('FRA', clock.now()),
  ]);
  await bel.node.peers.pin(fra.card, clock.now());
  await bel.node.peers.pin(ken.card, clock.now());
  bel.node.receiver.on('accepted', (m) => accepted.push(m));
  client = new RawFederationClient(bel.node.federationAddress, bel.node.identity.tlsCertificatePem, fra.identity.tls);
});

afterAll(async () => {
  client.close();
  await bel.cleanup();
  await Promise.all([fra, ken, deu, fraOtherKeys].map((p) => p.cleanup()));
});

const self = () => bel.node.identity;

/** Seen records of the node, key → status. */
async function seenRecords(node: TracenetNode): Promise<Map<string, string>> {
  const records = new Map<string, string>();
  for await (const [key, value] of node.store.sub.seen.iterator()) records.set(key, String(value.status));
  return records;
}

/** The last audit entry as its parsed line. */
async function lastAudit(node: TracenetNode): Promise<Record<string, unknown>> {
  for await (const [, value] of node.store.sub.audit.iterator({ reverse: true, limit: 1 })) return JSON.parse(String(value.line)) as Record<string, unknown>;
  throw new Error('empty audit log');
}

/** The node still accepts a correct envelope from FRA. */
async function expectServing(): Promise<void> {
  const before = accepted.length;
  const sealed = sealFrom(fra.identity, self(), clock.now());
  const receipt = await bel.node.receiver.deliver(sealed.bytes);
  expect(ReceiptBody.decode(receipt.body).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
  expect(accepted.length).toBe(before + 1);
}

function expectedFor(sender: Party, messageId: string) {
  return { issuer: 'BEL', issuerKeyId: self().keyId, issuerSigningPublicKey: self().keys.signingPublicKey, sender: sender.identity.participantId, messageId };
}

interface Refusal {
  readonly code: ErrorCode;
  readonly field?: string;
  /**
   * 'none': refused before the header authenticated; no receipt is given, nothing is written at
   * once, and the refusal is counted for the source's `refusals.counted` entry (4.13). 'new': authenticated and refused; a signed REJECTED receipt is given and
   * remembered in `seen` so that no copy is ever accepted. 'again': a copy of a message refused
   * before; the remembered REJECTED receipt is given again and nothing new is stored.
   */
  readonly receipt: 'none' | 'new' | 'again';
}

/**
 * Delivers `bytes` straight to BEL's receiver and checks the refusal: its specific code and field,
 * that the inbox did not change and no message was processed, the audit entry (at once after
 * authentication; counted and written with the tally before), what `seen` remembers, and that the
 * node keeps serving.
 */
async function expectRefused(bytes: Uint8Array, refusal: Refusal): Promise<TracenetError> {
  const node = bel.node;
  const before = await storeCounts(node);
  const seenBefore = await seenRecords(node);
  const acceptedBefore = accepted.length;
  const thrown = await rejectionOf(node.receiver.deliver(bytes));
  expect(thrown).toBeInstanceOf(TracenetError);
  const error = thrown as TracenetError;
  expect(error.codeName).toBe(ErrorCode[refusal.code].replace('ERROR_CODE_', ''));
  if (refusal.field !== undefined) expect(error.field).toBe(refusal.field);

  const after = await storeCounts(node);
  expect(after.inbox).toBe(before.inbox);
  expect(accepted.length).toBe(acceptedBefore);
  if (refusal.receipt === 'none') {
    expect(after.audit).toBe(before.audit);
    await node.refusals.flush({ now: true });
    expect((await storeCounts(node)).audit).toBe(before.audit + 1);
    const tally = await lastAudit(node);
    expect(tally).toMatchObject({ type: 'refusals.counted', source: 'in-process', total: 1, [`refused.${error.codeName}.${error.rule}`]: 1 });
  } else {
    expect(after.audit).toBe(before.audit + 1);
    const audit = await lastAudit(node);
    expect(audit.type).toBe('message.rejected');
    expect(audit.code).toBe(error.codeName);
    expect(audit.authenticated).toBe(true);
    if (refusal.receipt === 'again') expect(audit.rule).toBe('rejected_before');
    else expect(audit.rule).not.toBe('rejected_before');
  }

  const seenAfter = await seenRecords(node);
  if (refusal.receipt === 'new') {
    expect(after.seen).toBe(before.seen + 1);
    const added = [...seenAfter].filter(([key]) => !seenBefore.has(key));
    expect(added.map(([, status]) => status)).toEqual(['rejected']);
  } else {
    expect(seenAfter).toEqual(seenBefore);
  }
  if (refusal.receipt === 'none') {
    expect(error.receipt).toBeUndefined();
  } else {
    expect(error.receipt).toBeDefined();
    const body = ReceiptBody.decode((error.receipt as Receipt).body);
    expect(body.status).toBe(ReceiptStatus.RECEIPT_STATUS_REJECTED);
    expect(body.errorCode).toBe(refusal.code);
    expect(body.issuer).toBe('BEL');
  }
  await expectServing();
  return error;
}

async function deliverOk(bytes: Uint8Array): Promise<ReceiptBody> {
  return ReceiptBody.decode((await bel.node.receiver.deliver(bytes)).body);
}

describe('refused before authentication: only counted for the audit log', () => {
  it('a flipped byte in the header → HEADER_AUTH_FAILED', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    await expectRefused(flipHeaderByte(sealed.envelope), { code: ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED, receipt: 'none' });
  });

  it('a flipped byte in the ciphertext → HEADER_AUTH_FAILED', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const bytes = reencode(sealed.envelope, (c) => (c.ciphertext[20] = (c.ciphertext[20] ?? 0) ^ 0x04));
    await expectRefused(bytes, { code: ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED, receipt: 'none' });
  });

  it('a flipped byte in the nonce → HEADER_AUTH_FAILED', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const bytes = reencode(sealed.envelope, (c) => (c.nonce[0] = (c.nonce[0] ?? 0) ^ 0x01));
    await expectRefused(bytes, { code: ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED, receipt: 'none' });
  });

  it('addressed to another participant → WRONG_RECIPIENT', async () => {
    const sealed = sealFrom(fra.identity, ken.identity, clock.now());
    await expectRefused(sealed.bytes, { code: ErrorCode.ERROR_CODE_WRONG_RECIPIENT, field: 'header.recipient', receipt: 'none' });
  });

  it('sealed to another key of this participant → WRONG_RECIPIENT', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now(), { recipientKeyId: ken.identity.keyId });
    await expectRefused(sealed.bytes, { code: ErrorCode.ERROR_CODE_WRONG_RECIPIENT, field: 'header.recipient_key_id', receipt: 'none' });
  });

  it('from a participant that is not pinned → UNKNOWN_SENDER', async () => {
    const sealed = sealFrom(deu.identity, self(), clock.now());
    await expectRefused(sealed.bytes, { code: ErrorCode.ERROR_CODE_UNKNOWN_SENDER, field: 'header.sender', receipt: 'none' });
  });

  it('from a pinned participant with another key id → SENDER_KEY_MISMATCH', async () => {
    const sealed = sealFrom(fraOtherKeys.identity, self(), clock.now());
    expect(fraOtherKeys.identity.keyId).not.toBe(fra.identity.keyId);
    await expectRefused(sealed.bytes, { code: ErrorCode.ERROR_CODE_SENDER_KEY_MISMATCH, field: 'header.sender_key_id', receipt: 'none' });
  });

  it("from a sender whose pinned card has expired → UNKNOWN_SENDER", async () => {
    const laterClock = new ManualClock(clock.now());
    const later = await startNode('BEL', { clock: laterClock });
    try {
      await later.node.peers.pin(fra.card, laterClock.now());
      const validUntil = PeerCardBody.decode(fra.card.body).validUntilMs;
      laterClock.set(validUntil);
      const auditBefore = (await storeCounts(later.node)).audit;
      const sealed = sealFrom(fra.identity, later.node.identity, laterClock.now());
      const error = TracenetError.from(await rejectionOf(later.node.receiver.deliver(sealed.bytes)));
      expect(error.codeName).toBe('UNKNOWN_SENDER');
      expect(error.rule).toBe('card_validity');
      expect(await storeCounts(later.node)).toMatchObject({ inbox: 0, seen: 0, audit: auditBefore });
      await later.node.refusals.flush({ now: true });
      expect(await lastAudit(later.node)).toMatchObject({ type: 'refusals.counted', 'refused.UNKNOWN_SENDER.card_validity': 1 });
    } finally {
      await later.cleanup();
    }
  });

  it('larger than the limit → ENVELOPE_TOO_LARGE, before parsing', async () => {
    await expectRefused(Buffer.alloc(MAX_BYTES + 1, 0xff), { code: ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE, receipt: 'none' });
    const big = sealFrom(fra.identity, self(), clock.now(), { body: notice('big', 'x'.repeat(MAX_BYTES)) });
    await expectRefused(big.bytes, { code: ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE, receipt: 'none' });
  });

  it('not a protobuf Envelope → MALFORMED', async () => {
    await expectRefused(Buffer.from([0x0a, 0x10, 0x01]), { code: ErrorCode.ERROR_CODE_MALFORMED, field: 'envelope', receipt: 'none' });
  });

  it('an empty required field → MISSING_FIELD naming it', async () => {
    const noId = sealHeader(fra.identity, self(), headerFrom(fra.identity, self(), clock.now(), { messageId: '' }));
    await expectRefused(noId.bytes, { code: ErrorCode.ERROR_CODE_MISSING_FIELD, field: 'header.message_id', receipt: 'none' });
    const noSender = sealHeader(fra.identity, self(), headerFrom(fra.identity, self(), clock.now(), { sender: '' }));
    await expectRefused(noSender.bytes, { code: ErrorCode.ERROR_CODE_MISSING_FIELD, field: 'header.sender', receipt: 'none' });
  });

  it('another envelope version → UNSUPPORTED_VERSION', async () => {
    const sealed = sealHeader(fra.identity, self(), headerFrom(fra.identity, self(), clock.now(), { version: 2 }));
    await expectRefused(sealed.bytes, { code: ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION, field: 'header.version', receipt: 'none' });
  });
});

describe('refused after authentication: a signed REJECTED receipt, remembered', () => {
  it('a flipped byte in the inner signature → BAD_SIGNATURE', async () => {
    const header = EnvelopeHeader.encode(headerFrom(fra.identity, self(), clock.now())).finish();
    const good = sealWithHeader(header, notice(), fra.identity.keys.signingSecretKey, pairKeyOf(fra.identity, self()));
    const signature = Buffer.from(decryptEnvelope(parseEnvelope(good.bytes, MAX_BYTES), pairKeyOf(self(), fra.identity)).signature);
    signature[0] = (signature[0] ?? 0) ^ 0x01;
    const bad = sealWithHeader(header, notice(), fra.identity.keys.signingSecretKey, pairKeyOf(fra.identity, self()), signature);
    const error = await expectRefused(bad.bytes, { code: ErrorCode.ERROR_CODE_BAD_SIGNATURE, field: 'sealed.signature', receipt: 'new' });
    const body = verifyReceipt(error.receipt as Receipt, expectedFor(fra, EnvelopeHeader.decode(header).messageId));
    expect(Buffer.from(body.envelopeDigest).equals(bad.digest)).toBe(true);
  });

  it('a Notice with an empty subject → MISSING_FIELD body.subject', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now(), { body: Buffer.from(Notice.encode({ subject: '', text: 'no subject' }).finish()) });
    await expectRefused(sealed.bytes, { code: ErrorCode.ERROR_CODE_MISSING_FIELD, field: 'body.subject', receipt: 'new' });
  });

  it('a body that is not a Notice → MALFORMED', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now(), { body: Buffer.from([0x0a, 0x10, 0x01]) });
    await expectRefused(sealed.bytes, { code: ErrorCode.ERROR_CODE_MALFORMED, field: 'body', receipt: 'new' });
  });

  it('expired → EXPIRED', async () => {
    const now = clock.now();
    const sealed = sealFrom(fra.identity, self(), now, { createdAtMs: now - 10_000, expiresAtMs: now });
    await expectRefused(sealed.bytes, { code: ErrorCode.ERROR_CODE_EXPIRED, field: 'header.expires_at_ms', receipt: 'new' });
  });

  it('created beyond the window in the future or in the past → OUTSIDE_TIME_WINDOW; the edges are inside', async () => {
    const now = clock.now();
    const future = sealFrom(fra.identity, self(), now, { createdAtMs: now + WINDOW_MS + 1 });
    await expectRefused(future.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, field: 'header.created_at_ms', receipt: 'new' });
    const past = sealFrom(fra.identity, self(), now, { createdAtMs: now - WINDOW_MS - 1 });
    await expectRefused(past.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, field: 'header.created_at_ms', receipt: 'new' });
    expect((await deliverOk(sealFrom(fra.identity, self(), now, { createdAtMs: now + WINDOW_MS }).bytes)).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    expect((await deliverOk(sealFrom(fra.identity, self(), now, { createdAtMs: now - WINDOW_MS }).bytes)).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
  });

  it('the window is configurable', async () => {
    const narrowClock = new ManualClock(clock.now());
    const narrow = await startNode('BEL', { clock: narrowClock, config: testConfig({ envelope: { replayWindowMs: 60_000 } }) });
    try {
      await narrow.node.peers.pin(fra.card, narrowClock.now());
      const now = narrowClock.now();
      const twoMinutesOld = sealFrom(fra.identity, narrow.node.identity, now, { createdAtMs: now - 120_000 });
      const error = TracenetError.from(await rejectionOf(narrow.node.receiver.deliver(twoMinutesOld.bytes)));
      expect(error.codeName).toBe('OUTSIDE_TIME_WINDOW');
      const fiftySecondsOld = sealFrom(fra.identity, narrow.node.identity, now, { createdAtMs: now - 50_000 });
      expect(ReceiptBody.decode((await narrow.node.receiver.deliver(fiftySecondsOld.bytes)).body).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
      // The default window of the main node takes a two-minute-old envelope.
      expect((await deliverOk(sealFrom(fra.identity, self(), clock.now(), { createdAtMs: clock.now() - 120_000 }).bytes)).status).toBe(
        ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
      );
    } finally {
      await narrow.cleanup();
    }
  });
});

describe('surreptitious forwarding: FRA signs for KEN, KEN passes it on to BEL', () => {
  /** FRA's envelope to KEN as KEN opens it. */
  function signedForKen() {
    const sealed = sealFrom(fra.identity, ken.identity, clock.now());
    const parsed = parseEnvelope(sealed.bytes, MAX_BYTES);
    const content = decryptEnvelope(parsed, pairKeyOf(ken.identity, fra.identity));
    return { parsed, content };
  }

  it('re-sealed by KEN under the KEN–BEL key with sender KEN → BAD_SIGNATURE', async () => {
    const { parsed, content } = signedForKen();
    const header = headerFrom(ken.identity, self(), clock.now(), { messageId: parsed.header.messageId });
    const forwarded = sealWithHeader(EnvelopeHeader.encode(header).finish(), content.body, ken.identity.keys.signingSecretKey, pairKeyOf(ken.identity, self()), content.signature);
    await expectRefused(forwarded.bytes, { code: ErrorCode.ERROR_CODE_BAD_SIGNATURE, receipt: 'new' });
  });

  it('re-sealed by KEN under the KEN–BEL key with sender FRA → HEADER_AUTH_FAILED', async () => {
    const { parsed, content } = signedForKen();
    const header = headerFrom(fra.identity, self(), clock.now(), { messageId: parsed.header.messageId });
    const forwarded = sealWithHeader(EnvelopeHeader.encode(header).finish(), content.body, ken.identity.keys.signingSecretKey, pairKeyOf(ken.identity, self()), content.signature);
    await expectRefused(forwarded.bytes, { code: ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED, receipt: 'none' });
  });

  it("re-sealed by KEN with FRA's original header bytes → WRONG_RECIPIENT", async () => {
    const { parsed, content } = signedForKen();
    const forwarded = sealWithHeader(parsed.envelope.header, content.body, ken.identity.keys.signingSecretKey, pairKeyOf(ken.identity, self()), content.signature);
    await expectRefused(forwarded.bytes, { code: ErrorCode.ERROR_CODE_WRONG_RECIPIENT, receipt: 'none' });
  });
});

describe('replay protection', () => {
  it('the same bytes again → DUPLICATE with the first ACCEPTED receipt; processed once', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const messageId = EnvelopeHeader.decode(sealed.envelope.header).messageId;
    const before = accepted.length;
    const inboxBefore = (await storeCounts(bel.node)).inbox;
    const first = await bel.node.receiver.deliver(sealed.bytes);
    clock.advance(30_000);
    const second = await bel.node.receiver.deliver(sealed.bytes);
    const third = await bel.node.receiver.deliver(sealed.bytes);

    const firstProof = verifyDeliveryReceipt(first, expectedFor(fra, messageId), sealed.digest);
    expect(firstProof.status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    for (const duplicate of [second, third]) {
      const proof = verifyDeliveryReceipt(duplicate, expectedFor(fra, messageId), sealed.digest);
      expect(proof.status).toBe(ReceiptStatus.RECEIPT_STATUS_DUPLICATE);
      expect(Buffer.from(duplicate.original?.body ?? []).equals(Buffer.from(first.body))).toBe(true);
      expect(Buffer.from(duplicate.original?.signature ?? []).equals(Buffer.from(first.signature))).toBe(true);
    }
    expect(accepted.slice(before).map((m) => m.messageId)).toEqual([messageId]);
    expect((await storeCounts(bel.node)).inbox).toBe(inboxBefore + 1);
    expect((await lastAudit(bel.node)).type).toBe('message.duplicate');
  });

  it('concurrent copies are processed once', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const before = accepted.length;
    const receipts = await Promise.all(Array.from({ length: 8 }, () => bel.node.receiver.deliver(sealed.bytes)));
    const statuses = receipts.map((r) => ReceiptBody.decode(r.body).status).sort();
    expect(statuses).toEqual([ReceiptStatus.RECEIPT_STATUS_ACCEPTED, ...Array<ReceiptStatus>(7).fill(ReceiptStatus.RECEIPT_STATUS_DUPLICATE)]);
    expect(accepted.length).toBe(before + 1);
  });

  it('a re-seal of the same message id with a fresh time → DUPLICATE', async () => {
    const messageId = newMessageId();
    const body = notice('retry', 'same content');
    const first = sealFrom(fra.identity, self(), clock.now(), { messageId, body });
    const firstReceipt = await bel.node.receiver.deliver(first.bytes);
    clock.advance(60_000);
    const before = accepted.length;
    const retry = sealFrom(fra.identity, self(), clock.now(), { messageId, body });
    expect(retry.digest.equals(first.digest)).toBe(false);
    const receipt = await bel.node.receiver.deliver(retry.bytes);
    const proof = verifyDeliveryReceipt(receipt, expectedFor(fra, messageId), retry.digest);
    expect(proof.status).toBe(ReceiptStatus.RECEIPT_STATUS_DUPLICATE);
    expect(Buffer.from(proof.accepted.envelopeDigest).equals(first.digest)).toBe(true);
    expect(Buffer.from(receipt.original?.body ?? []).equals(Buffer.from(firstReceipt.body))).toBe(true);
    expect(accepted.length).toBe(before);
  });

  it('the same message id with another body → MESSAGE_ID_REUSED; the first message stays accepted', async () => {
    const messageId = newMessageId();
    const first = sealFrom(fra.identity, self(), clock.now(), { messageId, body: notice('one', 'first body') });
    await bel.node.receiver.deliver(first.bytes);
    const other = sealFrom(fra.identity, self(), clock.now(), { messageId, body: notice('two', 'second body') });
    await expectRefused(other.bytes, { code: ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED, field: 'header.message_id', receipt: 'new' });
    await expectRefused(other.bytes, { code: ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED, receipt: 'again' });
    expect((await deliverOk(first.bytes)).status).toBe(ReceiptStatus.RECEIPT_STATUS_DUPLICATE);
  });

  it('the same message id from another sender is another message', async () => {
    const messageId = newMessageId();
    const before = accepted.length;
    const fromFra = await deliverOk(sealFrom(fra.identity, self(), clock.now(), { messageId }).bytes);
    const fromKen = await deliverOk(sealFrom(ken.identity, self(), clock.now(), { messageId }).bytes);
    expect(fromFra.status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    expect(fromKen.status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    expect(accepted.slice(before).map((m) => [m.sender, m.messageId])).toEqual([
      ['FRA', messageId],
      ['KEN', messageId],
    ]);
    let inbox = 0;
    for await (const [, value] of bel.node.store.sub.inbox.iterator()) if (value.messageId === messageId) inbox += 1;
    expect(inbox).toBe(2);
  });
});

describe('a copy of a rejected message never gets a positive receipt', () => {
  it('rejected for a bad signature, then sent correctly with the same id → still REJECTED BAD_SIGNATURE', async () => {
    const messageId = newMessageId();
    const header = EnvelopeHeader.encode(headerFrom(fra.identity, self(), clock.now(), { messageId })).finish();
    const bad = sealWithHeader(header, notice(), fra.identity.keys.signingSecretKey, pairKeyOf(fra.identity, self()), Buffer.alloc(64, 1));
    await expectRefused(bad.bytes, { code: ErrorCode.ERROR_CODE_BAD_SIGNATURE, receipt: 'new' });
    const correct = sealFrom(fra.identity, self(), clock.now(), { messageId });
    const error = await expectRefused(correct.bytes, { code: ErrorCode.ERROR_CODE_BAD_SIGNATURE, receipt: 'again' });
    expect(ReceiptBody.decode((error.receipt as Receipt).body).status).toBe(ReceiptStatus.RECEIPT_STATUS_REJECTED);
    await expectRefused(bad.bytes, { code: ErrorCode.ERROR_CODE_BAD_SIGNATURE, receipt: 'again' });
  });

  it('dated in the future, then the same bytes once the clock is inside the window → still rejected', async () => {
    const messageId = newMessageId();
    const start = clock.now();
    const future = sealFrom(fra.identity, self(), start, { messageId, createdAtMs: start + 10 * 60_000 });
    await expectRefused(future.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, receipt: 'new' });
    clock.advance(10 * 60_000);
    await expectRefused(future.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, receipt: 'again' });
  });

  it('a clock rejection binds that envelope only: a fresh seal is accepted, the old bytes stay rejected', async () => {
    const messageId = newMessageId();
    const start = clock.now();
    const future = sealFrom(fra.identity, self(), start, { messageId, createdAtMs: start + 10 * 60_000 });
    await expectRefused(future.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, receipt: 'new' });
    const fresh = sealFrom(fra.identity, self(), start, { messageId });
    expect((await deliverOk(fresh.bytes)).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    clock.advance(10 * 60_000);
    // The old envelope got a REJECTED receipt: it must never get a DUPLICATE (positive) one.
    await expectRefused(future.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, receipt: 'again' });
  });

  it('a rejected envelope that reuses an accepted id stays rejected when sent again', async () => {
    const messageId = newMessageId();
    const first = sealFrom(fra.identity, self(), clock.now(), { messageId, body: notice('one', 'a') });
    await deliverOk(first.bytes);
    const stale = sealFrom(fra.identity, self(), clock.now(), { messageId, body: notice('one', 'a'), createdAtMs: clock.now() - WINDOW_MS - 1 });
    await expectRefused(stale.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, receipt: 'new' });
    await expectRefused(stale.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, receipt: 'again' });
  });
});

describe('over gRPC: the error detail travels in grpc-status-details-bin', () => {
  async function overWire(bytes: Uint8Array, grpc: GrpcStatus, code: ErrorCode, field?: string): Promise<TracenetError> {
    const auditBefore = (await storeCounts(bel.node)).audit;
    const thrown = (await rejectionOf(client.deliver(bytes))) as ServiceError;
    expect(thrown.code).toBe(grpc);
    expect(thrown.metadata.get(STATUS_DETAILS_KEY)).toHaveLength(1);
    const error = TracenetError.from(thrown);
    expect(error.codeName).toBe(ErrorCode[code].replace('ERROR_CODE_', ''));
    expect(error.grpcStatus).toBe(grpc);
    if (field !== undefined) expect(error.field).toBe(field);
    if (error.receipt === undefined) {
      // Refused before authentication: counted under the address and pinned peer of the connection.
      expect((await storeCounts(bel.node)).audit).toBe(auditBefore);
      await bel.node.refusals.flush({ now: true });
      expect(await lastAudit(bel.node)).toMatchObject({ type: 'refusals.counted', source: '127.0.0.1', peer: 'FRA', total: 1, [`refused.${error.codeName}.${error.rule}`]: 1 });
    } else {
      expect((await storeCounts(bel.node)).audit).toBe(auditBefore + 1);
    }
    // Still serving over the wire.
    const ok = sealFrom(fra.identity, self(), clock.now());
    expect(ReceiptBody.decode((await client.deliver(ok.bytes)).body).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    return error;
  }

  it('accepts, then answers a copy with DUPLICATE and the original', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const messageId = EnvelopeHeader.decode(sealed.envelope.header).messageId;
    const first = await client.deliver(sealed.bytes);
    expect(verifyDeliveryReceipt(first, expectedFor(fra, messageId), sealed.digest).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    const again = await client.deliver(sealed.bytes);
    const proof = verifyDeliveryReceipt(again, expectedFor(fra, messageId), sealed.digest);
    expect(proof.status).toBe(ReceiptStatus.RECEIPT_STATUS_DUPLICATE);
    expect(Buffer.from(proof.accepted.envelopeDigest).equals(sealed.digest)).toBe(true);
  });

  it('HEADER_AUTH_FAILED → UNAUTHENTICATED', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    await overWire(flipHeaderByte(sealed.envelope), GrpcStatus.UNAUTHENTICATED, ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED);
  });

  it('BAD_SIGNATURE → UNAUTHENTICATED with the signed REJECTED receipt in the detail', async () => {
    const header = EnvelopeHeader.encode(headerFrom(fra.identity, self(), clock.now())).finish();
    const bad = sealWithHeader(header, notice(), fra.identity.keys.signingSecretKey, pairKeyOf(fra.identity, self()), Buffer.alloc(64, 2));
    const error = await overWire(bad.bytes, GrpcStatus.UNAUTHENTICATED, ErrorCode.ERROR_CODE_BAD_SIGNATURE, 'sealed.signature');
    expect(error.receipt).toBeDefined();
    const body = verifyReceipt(error.receipt as Receipt, expectedFor(fra, EnvelopeHeader.decode(header).messageId));
    expect(body.status).toBe(ReceiptStatus.RECEIPT_STATUS_REJECTED);
    expect(body.errorCode).toBe(ErrorCode.ERROR_CODE_BAD_SIGNATURE);
    expect(Buffer.from(body.envelopeDigest).equals(bad.digest)).toBe(true);
  });

  it('WRONG_RECIPIENT → INVALID_ARGUMENT', async () => {
    const sealed = sealFrom(fra.identity, ken.identity, clock.now());
    await overWire(sealed.bytes, GrpcStatus.INVALID_ARGUMENT, ErrorCode.ERROR_CODE_WRONG_RECIPIENT, 'header.recipient');
  });

  it('UNKNOWN_SENDER → UNAUTHENTICATED, retryable', async () => {
    const error = await overWire(sealFrom(deu.identity, self(), clock.now()).bytes, GrpcStatus.UNAUTHENTICATED, ErrorCode.ERROR_CODE_UNKNOWN_SENDER);
    expect(error.retryable).toBe(true);
  });

  it('MISSING_FIELD → INVALID_ARGUMENT naming the field', async () => {
    const sealed = sealHeader(fra.identity, self(), headerFrom(fra.identity, self(), clock.now(), { messageId: '' }));
    await overWire(sealed.bytes, GrpcStatus.INVALID_ARGUMENT, ErrorCode.ERROR_CODE_MISSING_FIELD, 'header.message_id');
  });

  it('MALFORMED → INVALID_ARGUMENT', async () => {
    await overWire(Buffer.from([0x0a, 0x10, 0x01]), GrpcStatus.INVALID_ARGUMENT, ErrorCode.ERROR_CODE_MALFORMED, 'envelope');
  });

  it('EXPIRED and OUTSIDE_TIME_WINDOW → FAILED_PRECONDITION', async () => {
    const now = clock.now();
    await overWire(
      sealFrom(fra.identity, self(), now, { createdAtMs: now - 1000, expiresAtMs: now - 1 }).bytes,
      GrpcStatus.FAILED_PRECONDITION,
      ErrorCode.ERROR_CODE_EXPIRED,
    );
    await overWire(
      sealFrom(fra.identity, self(), now, { createdAtMs: now + WINDOW_MS + 1000 }).bytes,
      GrpcStatus.FAILED_PRECONDITION,
      ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW,
    );
  });

  it('MESSAGE_ID_REUSED → ALREADY_EXISTS', async () => {
    const messageId = newMessageId();
    await client.deliver(sealFrom(fra.identity, self(), clock.now(), { messageId, body: notice('a', 'a') }).bytes);
    await overWire(
      sealFrom(fra.identity, self(), clock.now(), { messageId, body: notice('b', 'b') }).bytes,
      GrpcStatus.ALREADY_EXISTS,
      ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED,
    );
  });

  it('ENVELOPE_TOO_LARGE → RESOURCE_EXHAUSTED from the transport limit, which is envelope.maxBytes', async () => {
    // gRPC refuses the message as soon as its length prefix arrives: no detail, the status maps to the code.
    const auditBefore = (await storeCounts(bel.node)).audit;
    const thrown = (await rejectionOf(client.deliver(Buffer.alloc(MAX_BYTES + 1)))) as ServiceError;
    expect(thrown.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(TracenetError.from(thrown).codeName).toBe('ENVELOPE_TOO_LARGE');
    expect((await storeCounts(bel.node)).audit).toBe(auditBefore);
    const ok = sealFrom(fra.identity, self(), clock.now());
    expect(ReceiptBody.decode((await client.deliver(ok.bytes)).body).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
  });
});

describe('audit', () => {
  it('the audit chain of the node verifies after all of the above', async () => {
    const result = await verifyAuditLog(bel.node.store, self().keys.signingPublicKey);
    expect(result).toMatchObject({ ok: true, firstBrokenSeq: 0 });
    expect(result.entries).toBeGreaterThan(100);
    expect(result.headHash).toBe(bel.node.journal.head.hash);
  });
});

describe('error codes', () => {
  it('every ErrorCode has a gRPC status and a retry rule', () => {
    const codes = Object.values(ErrorCode).filter((v): v is ErrorCode => typeof v === 'number' && v !== ErrorCode.UNRECOGNIZED);
    expect(codes.length).toBeGreaterThan(20);
    for (const code of codes) {
      const info = (ERROR_CODES as Record<number, { grpc: number; retryable: boolean } | undefined>)[code];
      expect(info, `ERROR_CODES lacks ${ErrorCode[code]}`).toBeDefined();
      expect(Object.values(GrpcStatus)).toContain(info?.grpc);
      expect(typeof info?.retryable).toBe('boolean');
    }
    expect(Object.keys(ERROR_CODES).map(Number).sort((a, b) => a - b)).toEqual([...codes].sort((a, b) => a - b));
  });

  it('a TracenetError survives the trip through a gRPC status', () => {
    const original = new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'subject is required', { field: 'body.subject', rule: 'required' });
    const status = original.toStatus();
    const serviceError = Object.assign(new Error(status.details), { code: status.code, details: status.details, metadata: status.metadata });
    const back = TracenetError.from(serviceError);
    expect(back.code).toBe(ErrorCode.ERROR_CODE_MISSING_FIELD);
    expect(back.field).toBe('body.subject');
    expect(back.rule).toBe('required');
    expect(back.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT);
  });
});
