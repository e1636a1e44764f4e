import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  ERROR_CODES,
  ErrorCode,
  EnvelopeHeader,
  MessageKind,
  NodeEvent,
  NodeEventType,
  Notice,
  type Receipt,
  PeerCardBody,
  ReceiptBody,
  ReceiptStatus,
  STATUS_DETAILS_KEY,
  TracenetError,
} from '@tracenet/proto';
import { connectAuthority } from '../src/api/authority-client.js';
import type { Journal } from '../src/audit/audit-log.js';
import { verifyAuditLog } from '../src/audit/verify.js';
import { bodyDigest, decryptEnvelope, parseEnvelope, sealWithHeader } from '../src/envelope/envelope.js';
import { sodium } from '../src/crypto/sodium.js';
import { verifyDeliveryReceipt, verifyReceipt } from '../src/envelope/receipt.js';
import { EnvelopeOpener, preciseReason } from '../src/federation/envelope-opener.js';
import type { PeerRegistry } from '../src/federation/peers.js';
import { type InboxMessage, Receiver } from '../src/federation/receiver.js';
import { readAuthorityToken } from '../src/identity/data-dir.js';
import type { TracenetNode } from '../src/node.js';
import { ManualClock } from '../src/util/clock.js';
import { startNode, testConfig, type TestNode } from './support/nodes.js';
import {
  countEntries,
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
  bel = await startNode('BEL', { clock, memory: true, config: testConfig({ envelope: { maxBytes: MAX_BYTES } }) });
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
  for await (const [key, value] of node.store.messages.seen.entries()) records.set(key, String(value.status));
  return records;
}

/** The last audit entry as its parsed line. */
async function lastAudit(node: TracenetNode): Promise<Record<string, unknown>> {
  for await (const [, value] of node.store.audit.entries.entries({ reverse: true, limit: 1 }))
    return JSON.parse(String(value.line)) as Record<string, unknown>;
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
  return {
    issuer: 'BEL',
    issuerKeyId: self().keyId,
    issuerSigningPublicKey: self().keys.signingPublicKey,
    sender: sender.identity.participantId,
    messageId,
  };
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
  /**
   * For the one public refusal before authentication (docs/protocol.md 4.4, `code` then
   * UNKNOWN_SENDER): the precise reason, which only the audit entry records.
   */
  readonly reason?: { readonly code: ErrorCode; readonly rule: string };
}

const codeName = (code: ErrorCode) => ErrorCode[code].replace('ERROR_CODE_', '');

/** The answer to every envelope that names this node and does not authenticate: UNKNOWN_SENDER, one text, no field. */
const NOT_AUTHENTICATED = { code: ErrorCode.ERROR_CODE_UNKNOWN_SENDER, receipt: 'none' } as const;

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
  expect(error.codeName).toBe(codeName(refusal.code));
  if (refusal.field !== undefined) expect(error.field).toBe(refusal.field);
  if (refusal.reason)
    expect(error).toMatchObject({
      field: '',
      rule: 'authentication',
      message: 'the envelope could not be authenticated',
      retryable: true,
    });

  const after = await storeCounts(node);
  expect(after.inbox).toBe(before.inbox);
  expect(accepted.length).toBe(acceptedBefore);
  if (refusal.receipt === 'none') {
    // Counted, not written at once: the tally's entry records the precise reason the answer does not carry.
    expect(after.audit).toBe(before.audit);
    await node.refusals.flush({ now: true });
    expect((await storeCounts(node)).audit).toBe(before.audit + 1);
    const precise = refusal.reason
      ? `${codeName(refusal.reason.code)}.${refusal.reason.rule}`
      : `${error.codeName}.${error.rule}`;
    expect(await lastAudit(node)).toMatchObject({
      type: 'refusals.counted',
      source: 'in-process',
      total: 1,
      [`refused.${precise}`]: 1,
    });
  } else {
    expect(after.audit).toBe(before.audit + 1);
    const audit = await lastAudit(node);
    expect(audit.type).toBe('message.rejected');
    expect(audit.code).toBe(error.codeName);
    expect(audit.authenticated).toBe(true);
    if (refusal.receipt === 'again') {
      // protocol 4.6: the remembered code, rule rejected_before, and no field (none of this envelope is at fault).
      expect([audit.rule, error.rule, error.field, error.violations]).toEqual([
        'rejected_before',
        'rejected_before',
        '',
        [],
      ]);
    } else expect(audit.rule).not.toBe('rejected_before');
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
  const aead = { code: ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED, rule: 'aead' };

  it('a flipped byte in the header → not authenticated (HEADER_AUTH_FAILED in the tally)', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    await expectRefused(flipHeaderByte(sealed.envelope), { ...NOT_AUTHENTICATED, reason: aead });
  });

  it('a flipped byte in the ciphertext → not authenticated (HEADER_AUTH_FAILED)', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const bytes = reencode(sealed.envelope, (c) => (c.ciphertext[20] = (c.ciphertext[20] ?? 0) ^ 0x04));
    await expectRefused(bytes, { ...NOT_AUTHENTICATED, reason: aead });
  });

  it('a flipped byte in the nonce → not authenticated (HEADER_AUTH_FAILED)', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const bytes = reencode(sealed.envelope, (c) => (c.nonce[0] = (c.nonce[0] ?? 0) ^ 0x01));
    await expectRefused(bytes, { ...NOT_AUTHENTICATED, reason: aead });
  });

  it('addressed to another participant → WRONG_RECIPIENT', async () => {
    const sealed = sealFrom(fra.identity, ken.identity, clock.now());
    await expectRefused(sealed.bytes, {
      code: ErrorCode.ERROR_CODE_WRONG_RECIPIENT,
      field: 'header.recipient',
      receipt: 'none',
    });
  });

  it('sealed to another key of this participant → not authenticated (WRONG_RECIPIENT, recipient_key in the audit)', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now(), { recipientKeyId: ken.identity.keyId });
    await expectRefused(sealed.bytes, {
      ...NOT_AUTHENTICATED,
      reason: { code: ErrorCode.ERROR_CODE_WRONG_RECIPIENT, rule: 'recipient_key' },
    });
  });

  it('from a participant that is not pinned → not authenticated (UNKNOWN_SENDER, pinned_peer)', async () => {
    const sealed = sealFrom(deu.identity, self(), clock.now());
    await expectRefused(sealed.bytes, {
      ...NOT_AUTHENTICATED,
      reason: { code: ErrorCode.ERROR_CODE_UNKNOWN_SENDER, rule: 'pinned_peer' },
    });
  });

  it('from a pinned participant with another key id → not authenticated (SENDER_KEY_MISMATCH, pinned_key)', async () => {
    const sealed = sealFrom(fraOtherKeys.identity, self(), clock.now());
    expect(fraOtherKeys.identity.keyId).not.toBe(fra.identity.keyId);
    await expectRefused(sealed.bytes, {
      ...NOT_AUTHENTICATED,
      reason: { code: ErrorCode.ERROR_CODE_SENDER_KEY_MISMATCH, rule: 'pinned_key' },
    });
  });

  it('from a sender whose pinned card has expired → not authenticated (UNKNOWN_SENDER, card_validity)', async () => {
    const laterClock = new ManualClock(clock.now());
    const later = await startNode('BEL', { clock: laterClock, memory: true });
    try {
      await later.node.peers.pin(fra.card, laterClock.now());
      const validUntil = PeerCardBody.decode(fra.card.body).validUntilMs;
      laterClock.set(validUntil);
      const auditBefore = (await storeCounts(later.node)).audit;
      const sealed = sealFrom(fra.identity, later.node.identity, laterClock.now());
      const error = TracenetError.from(await rejectionOf(later.node.receiver.deliver(sealed.bytes)));
      expect([error.codeName, error.rule]).toEqual(['UNKNOWN_SENDER', 'authentication']);
      expect(preciseReason(error)).toMatchObject({
        codeName: 'UNKNOWN_SENDER',
        rule: 'card_validity',
        field: 'header.sender',
        message: 'the pinned card of FRA has expired',
      });
      expect(await storeCounts(later.node)).toMatchObject({ inbox: 0, seen: 0, audit: auditBefore });
      await later.node.refusals.flush({ now: true });
      expect(await lastAudit(later.node)).toMatchObject({
        type: 'refusals.counted',
        'refused.UNKNOWN_SENDER.card_validity': 1,
      });
    } finally {
      await later.cleanup();
    }
  });

  it('larger than the limit → ENVELOPE_TOO_LARGE, before parsing', async () => {
    await expectRefused(Buffer.alloc(MAX_BYTES + 1, 0xff), {
      code: ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE,
      receipt: 'none',
    });
    const big = sealFrom(fra.identity, self(), clock.now(), { body: notice('big', 'x'.repeat(MAX_BYTES)) });
    await expectRefused(big.bytes, { code: ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE, receipt: 'none' });
  });

  it('not a protobuf Envelope → MALFORMED', async () => {
    await expectRefused(Buffer.from([0x0a, 0x10, 0x01]), {
      code: ErrorCode.ERROR_CODE_MALFORMED,
      field: 'envelope',
      receipt: 'none',
    });
  });

  it('an empty required field → MISSING_FIELD naming it', async () => {
    const noId = sealHeader(fra.identity, self(), headerFrom(fra.identity, self(), clock.now(), { messageId: '' }));
    await expectRefused(noId.bytes, {
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'header.message_id',
      receipt: 'none',
    });
    const noSender = sealHeader(fra.identity, self(), headerFrom(fra.identity, self(), clock.now(), { sender: '' }));
    await expectRefused(noSender.bytes, {
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'header.sender',
      receipt: 'none',
    });
  });

  it('another envelope version → UNSUPPORTED_VERSION', async () => {
    const sealed = sealHeader(fra.identity, self(), headerFrom(fra.identity, self(), clock.now(), { version: 2 }));
    await expectRefused(sealed.bytes, {
      code: ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION,
      field: 'header.version',
      receipt: 'none',
    });
  });
});

describe('refused after authentication: a signed REJECTED receipt, remembered', () => {
  it('a flipped byte in the inner signature → BAD_SIGNATURE', async () => {
    const header = EnvelopeHeader.encode(headerFrom(fra.identity, self(), clock.now())).finish();
    const good = sealWithHeader(header, notice(), fra.identity.keys.signingSecretKey, pairKeyOf(fra.identity, self()));
    const signature = Buffer.from(
      decryptEnvelope(parseEnvelope(good.bytes, MAX_BYTES), pairKeyOf(self(), fra.identity)).signature,
    );
    signature[0] = (signature[0] ?? 0) ^ 0x01;
    const bad = sealWithHeader(
      header,
      notice(),
      fra.identity.keys.signingSecretKey,
      pairKeyOf(fra.identity, self()),
      signature,
    );
    const error = await expectRefused(bad.bytes, {
      code: ErrorCode.ERROR_CODE_BAD_SIGNATURE,
      field: 'sealed.signature',
      receipt: 'new',
    });
    const body = verifyReceipt(error.receipt as Receipt, expectedFor(fra, EnvelopeHeader.decode(header).messageId));
    expect(Buffer.from(body.envelopeDigest).equals(bad.digest)).toBe(true);
  });

  it("sealed by KEN under the KEN–BEL key but signed with FRA's key, also pinned → BAD_SIGNATURE (protocol 4.9 step 8)", async () => {
    // The AEAD check ties the envelope to the KEN–BEL pair; only the signature says who wrote it, and only KEN's key may.
    const header = EnvelopeHeader.encode(headerFrom(ken.identity, self(), clock.now())).finish();
    const signedByFra = sealWithHeader(
      header,
      notice(),
      fra.identity.keys.signingSecretKey,
      pairKeyOf(ken.identity, self()),
    );
    const error = await expectRefused(signedByFra.bytes, {
      code: ErrorCode.ERROR_CODE_BAD_SIGNATURE,
      field: 'sealed.signature',
      receipt: 'new',
    });
    const body = verifyReceipt(error.receipt as Receipt, expectedFor(ken, EnvelopeHeader.decode(header).messageId));
    expect(body.errorCode).toBe(ErrorCode.ERROR_CODE_BAD_SIGNATURE);
  });

  it('a Notice with an empty subject → MISSING_FIELD body.subject', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now(), {
      body: Buffer.from(Notice.encode({ subject: '', text: 'no subject' }).finish()),
    });
    await expectRefused(sealed.bytes, {
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'body.subject',
      receipt: 'new',
    });
  });

  it('a Notice whose subject or text is only white space → MISSING_FIELD, as an empty one (protocol 0, 6.2)', async () => {
    for (const [subject, text, field] of [
      [' \t\u3000', 'text', 'body.subject'],
      ['subject', '\n\u00a0\r\n', 'body.text'],
    ] as const) {
      const sealed = sealFrom(fra.identity, self(), clock.now(), { body: notice(subject, text) });
      const error = await expectRefused(sealed.bytes, {
        code: ErrorCode.ERROR_CODE_MISSING_FIELD,
        field,
        receipt: 'new',
      });
      expect(error.rule).toBe('required');
    }
    // The sender applies the same rule: the outbox does not queue it.
    expect(() =>
      bel.node.outbox.prepare({ recipient: 'FRA', kind: MessageKind.MESSAGE_KIND_NOTICE, body: notice('  ', 'text') }),
    ).toThrow(expect.objectContaining({ field: 'body.subject', rule: 'required' }));
  });

  it('a body that is not a Notice → MALFORMED', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now(), { body: Buffer.from([0x0a, 0x10, 0x01]) });
    await expectRefused(sealed.bytes, { code: ErrorCode.ERROR_CODE_MALFORMED, field: 'body', receipt: 'new' });
  });

  it('expired → EXPIRED', async () => {
    const now = clock.now();
    const sealed = sealFrom(fra.identity, self(), now, { createdAtMs: now - 10_000, expiresAtMs: now });
    await expectRefused(sealed.bytes, {
      code: ErrorCode.ERROR_CODE_EXPIRED,
      field: 'header.expires_at_ms',
      receipt: 'new',
    });
  });

  it('created beyond the window in the future or in the past → OUTSIDE_TIME_WINDOW; the edges are inside', async () => {
    const now = clock.now();
    const future = sealFrom(fra.identity, self(), now, { createdAtMs: now + WINDOW_MS + 1 });
    await expectRefused(future.bytes, {
      code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW,
      field: 'header.created_at_ms',
      receipt: 'new',
    });
    const past = sealFrom(fra.identity, self(), now, { createdAtMs: now - WINDOW_MS - 1 });
    await expectRefused(past.bytes, {
      code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW,
      field: 'header.created_at_ms',
      receipt: 'new',
    });
    expect((await deliverOk(sealFrom(fra.identity, self(), now, { createdAtMs: now + WINDOW_MS }).bytes)).status).toBe(
      ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
    );
    expect((await deliverOk(sealFrom(fra.identity, self(), now, { createdAtMs: now - WINDOW_MS }).bytes)).status).toBe(
      ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
    );
  });

  it('the window is configurable', async () => {
    const narrowClock = new ManualClock(clock.now());
    const narrow = await startNode('BEL', {
      clock: narrowClock,
      memory: true,
      config: testConfig({ envelope: { replayWindowMs: 60_000 } }),
    });
    try {
      await narrow.node.peers.pin(fra.card, narrowClock.now());
      const now = narrowClock.now();
      const twoMinutesOld = sealFrom(fra.identity, narrow.node.identity, now, { createdAtMs: now - 120_000 });
      const error = TracenetError.from(await rejectionOf(narrow.node.receiver.deliver(twoMinutesOld.bytes)));
      expect(error.codeName).toBe('OUTSIDE_TIME_WINDOW');
      const fiftySecondsOld = sealFrom(fra.identity, narrow.node.identity, now, { createdAtMs: now - 50_000 });
      expect(ReceiptBody.decode((await narrow.node.receiver.deliver(fiftySecondsOld.bytes)).body).status).toBe(
        ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
      );
      // The default window of the main node takes a two-minute-old envelope.
      expect(
        (await deliverOk(sealFrom(fra.identity, self(), clock.now(), { createdAtMs: clock.now() - 120_000 }).bytes))
          .status,
      ).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
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
    const forwarded = sealWithHeader(
      EnvelopeHeader.encode(header).finish(),
      content.body,
      ken.identity.keys.signingSecretKey,
      pairKeyOf(ken.identity, self()),
      content.signature,
    );
    await expectRefused(forwarded.bytes, { code: ErrorCode.ERROR_CODE_BAD_SIGNATURE, receipt: 'new' });
  });

  it('re-sealed by KEN under the KEN–BEL key with sender FRA → not authenticated (HEADER_AUTH_FAILED)', async () => {
    const { parsed, content } = signedForKen();
    const header = headerFrom(fra.identity, self(), clock.now(), { messageId: parsed.header.messageId });
    const forwarded = sealWithHeader(
      EnvelopeHeader.encode(header).finish(),
      content.body,
      ken.identity.keys.signingSecretKey,
      pairKeyOf(ken.identity, self()),
      content.signature,
    );
    await expectRefused(forwarded.bytes, {
      ...NOT_AUTHENTICATED,
      reason: { code: ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED, rule: 'aead' },
    });
  });

  it("re-sealed by KEN with FRA's original header bytes → WRONG_RECIPIENT", async () => {
    const { parsed, content } = signedForKen();
    const forwarded = sealWithHeader(
      parsed.envelope.header,
      content.body,
      ken.identity.keys.signingSecretKey,
      pairKeyOf(ken.identity, self()),
      content.signature,
    );
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

  it('the same answers while the store cannot read synchronously (reopening): one getMany of both seen-set keys', async () => {
    const { seen } = bel.node.store.messages;
    const unavailable = vi.spyOn(seen, 'getSync').mockReturnValue(undefined);
    const getMany = vi.spyOn(seen, 'getMany');
    try {
      const sealed = sealFrom(fra.identity, self(), clock.now());
      const messageId = EnvelopeHeader.decode(sealed.envelope.header).messageId;
      const first = await bel.node.receiver.deliver(sealed.bytes);
      const second = await bel.node.receiver.deliver(sealed.bytes);
      expect(verifyDeliveryReceipt(first, expectedFor(fra, messageId), sealed.digest).status).toBe(
        ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
      );
      expect(verifyDeliveryReceipt(second, expectedFor(fra, messageId), sealed.digest).status).toBe(
        ReceiptStatus.RECEIPT_STATUS_DUPLICATE,
      );
      expect(getMany).toHaveBeenCalledTimes(2);
      expect(getMany.mock.calls[0]?.[0]).toHaveLength(2);
    } finally {
      unavailable.mockRestore();
      getMany.mockRestore();
    }
  });

  it('concurrent copies are processed once', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const before = accepted.length;
    const receipts = await Promise.all(Array.from({ length: 8 }, () => bel.node.receiver.deliver(sealed.bytes)));
    const statuses = receipts.map((r) => ReceiptBody.decode(r.body).status).sort();
    expect(statuses).toEqual([
      ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
      ...Array<ReceiptStatus>(7).fill(ReceiptStatus.RECEIPT_STATUS_DUPLICATE),
    ]);
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
    await expectRefused(other.bytes, {
      code: ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED,
      field: 'header.message_id',
      receipt: 'new',
    });
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
    for await (const [, value] of bel.node.store.messages.inbox.entries())
      if (value.messageId === messageId) inbox += 1;
    expect(inbox).toBe(2);
  });
});

describe('a copy of a rejected message never gets a positive receipt', () => {
  it('rejected for a bad signature, then sent correctly with the same id → still REJECTED BAD_SIGNATURE', async () => {
    const messageId = newMessageId();
    const header = EnvelopeHeader.encode(headerFrom(fra.identity, self(), clock.now(), { messageId })).finish();
    const bad = sealWithHeader(
      header,
      notice(),
      fra.identity.keys.signingSecretKey,
      pairKeyOf(fra.identity, self()),
      Buffer.alloc(64, 1),
    );
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
    const stale = sealFrom(fra.identity, self(), clock.now(), {
      messageId,
      body: notice('one', 'a'),
      createdAtMs: clock.now() - WINDOW_MS - 1,
    });
    await expectRefused(stale.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, receipt: 'new' });
    await expectRefused(stale.bytes, { code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, receipt: 'again' });
  });
});

describe('over gRPC: the error detail travels in grpc-status-details-bin', () => {
  /** `precise`: the reason counted for a refusal before authentication, when the answer carries another (4.4). */
  async function overWire(
    bytes: Uint8Array,
    grpc: GrpcStatus,
    code: ErrorCode,
    field?: string,
    precise?: string,
  ): Promise<TracenetError> {
    const auditBefore = (await storeCounts(bel.node)).audit;
    const thrown = (await rejectionOf(client.deliver(bytes))) as ServiceError;
    expect(thrown.code).toBe(grpc);
    expect(thrown.metadata.get(STATUS_DETAILS_KEY)).toHaveLength(1);
    const error = TracenetError.from(thrown);
    expect(error.codeName).toBe(codeName(code));
    expect(error.grpcStatus).toBe(grpc);
    if (field !== undefined) expect(error.field).toBe(field);
    if (error.receipt === undefined) {
      // Refused before authentication: counted under the address and pinned peer of the connection, with the precise reason.
      expect((await storeCounts(bel.node)).audit).toBe(auditBefore);
      await bel.node.refusals.flush({ now: true });
      expect(await lastAudit(bel.node)).toMatchObject({
        type: 'refusals.counted',
        source: '127.0.0.1',
        peer: 'FRA',
        total: 1,
        [`refused.${precise ?? `${error.codeName}.${error.rule}`}`]: 1,
      });
    } else {
      expect((await storeCounts(bel.node)).audit).toBe(auditBefore + 1);
    }
    // Still serving over the wire.
    const ok = sealFrom(fra.identity, self(), clock.now());
    expect(ReceiptBody.decode((await client.deliver(ok.bytes)).body).status).toBe(
      ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
    );
    return error;
  }

  it('accepts, then answers a copy with DUPLICATE and the original', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const messageId = EnvelopeHeader.decode(sealed.envelope.header).messageId;
    const first = await client.deliver(sealed.bytes);
    expect(verifyDeliveryReceipt(first, expectedFor(fra, messageId), sealed.digest).status).toBe(
      ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
    );
    const again = await client.deliver(sealed.bytes);
    const proof = verifyDeliveryReceipt(again, expectedFor(fra, messageId), sealed.digest);
    expect(proof.status).toBe(ReceiptStatus.RECEIPT_STATUS_DUPLICATE);
    expect(Buffer.from(proof.accepted.envelopeDigest).equals(sealed.digest)).toBe(true);
  });

  it('a failed AEAD check → UNKNOWN_SENDER (UNAUTHENTICATED), like every refusal before authentication', async () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    await overWire(
      flipHeaderByte(sealed.envelope),
      GrpcStatus.UNAUTHENTICATED,
      ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
      '',
      'HEADER_AUTH_FAILED.aead',
    );
  });

  it('BAD_SIGNATURE → UNAUTHENTICATED with the signed REJECTED receipt in the detail', async () => {
    const header = EnvelopeHeader.encode(headerFrom(fra.identity, self(), clock.now())).finish();
    const bad = sealWithHeader(
      header,
      notice(),
      fra.identity.keys.signingSecretKey,
      pairKeyOf(fra.identity, self()),
      Buffer.alloc(64, 2),
    );
    const error = await overWire(
      bad.bytes,
      GrpcStatus.UNAUTHENTICATED,
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
      'sealed.signature',
    );
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
    const error = await overWire(
      sealFrom(deu.identity, self(), clock.now()).bytes,
      GrpcStatus.UNAUTHENTICATED,
      ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
      '',
      'UNKNOWN_SENDER.pinned_peer',
    );
    expect(error.retryable).toBe(true);
  });

  it('MISSING_FIELD → INVALID_ARGUMENT naming the field', async () => {
    const sealed = sealHeader(fra.identity, self(), headerFrom(fra.identity, self(), clock.now(), { messageId: '' }));
    await overWire(sealed.bytes, GrpcStatus.INVALID_ARGUMENT, ErrorCode.ERROR_CODE_MISSING_FIELD, 'header.message_id');
  });

  it('MALFORMED → INVALID_ARGUMENT', async () => {
    await overWire(
      Buffer.from([0x0a, 0x10, 0x01]),
      GrpcStatus.INVALID_ARGUMENT,
      ErrorCode.ERROR_CODE_MALFORMED,
      'envelope',
    );
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
    expect(ReceiptBody.decode((await client.deliver(ok.bytes)).body).status).toBe(
      ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
    );
  });
});

describe('integers beyond ±(2^53 − 1) in the header are refused naming the field, never rounded (protocol 0, 4.3)', () => {
  /** A sealed envelope whose header carries `value` in int64 field `fieldNo`, encoded by hand. */
  function withInt64(fieldNo: 6 | 7, value: bigint): Uint8Array {
    const header = headerFrom(
      fra.identity,
      self(),
      clock.now(),
      fieldNo === 6 ? { createdAtMs: 0 } : { expiresAtMs: 0 },
    );
    const writer = new BinaryWriter();
    writer.raw(EnvelopeHeader.encode(header).finish());
    writer.tag(fieldNo, WireType.Varint).int64(value);
    return sealWithHeader(
      writer.finish(),
      notice(),
      fra.identity.keys.signingSecretKey,
      pairKeyOf(fra.identity, self()),
    ).bytes;
  }
  const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

  it.each([
    ['created_at_ms', 6, SAFE + 1n],
    ['created_at_ms', 6, -SAFE - 1n],
    ['expires_at_ms', 7, SAFE + 2n],
    ['expires_at_ms', 7, 2n ** 63n - 1n],
  ] as const)('%s = %s → INVALID_FIELD (safe_integer), before authentication', async (name, fieldNo, value) => {
    const error = await expectRefused(withInt64(fieldNo, value), {
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: `header.${name}`,
      receipt: 'none',
    });
    expect(error.rule).toBe('safe_integer');
  });

  it('2^53 − 1, the largest safe integer, is carried exactly: an expiry of 2^53 − 1 is accepted', async () => {
    expect((await deliverOk(withInt64(7, SAFE))).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
  });
});

describe('correlation id: visible ASCII only (docs/protocol.md 3.2)', () => {
  it('a correlation id with a right-to-left override or a line break → INVALID_FIELD (header.correlation_id), before authentication', async () => {
    for (const correlationId of ['case\u202E7102', 'ok\nBEL accepted everything']) {
      const sealed = sealFrom(fra.identity, self(), clock.now(), { correlationId });
      const error = await expectRefused(sealed.bytes, {
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'header.correlation_id',
        receipt: 'none',
      });
      expect(error.rule).toBe('visible_ascii');
    }
  });

  it('SendNotice refuses such a correlation id with INVALID_FIELD (correlation_id) and queues nothing', async () => {
    const authority = connectAuthority(bel.node.authorityAddress, await readAuthorityToken(bel.dataDir));
    try {
      const outboxBefore = await countEntries(bel.node.store.outbox.queue);
      const error = TracenetError.from(
        await rejectionOf(
          authority.call('sendNotice', { recipient: 'FRA', subject: 's', text: 't', correlationId: 'x\u001b[31my' }),
        ),
      );
      expect([error.codeName, error.field, error.rule]).toEqual(['INVALID_FIELD', 'correlation_id', 'visible_ascii']);
      expect(await countEntries(bel.node.store.outbox.queue)).toBe(outboxBefore);
    } finally {
      authority.close();
    }
  });
});

describe('no oracle before authentication (docs/protocol.md 4.4)', () => {
  /** A refused Deliver as it travels: gRPC status, grpc-message and the raw detail trailer. */
  async function onTheWire(bytes: Uint8Array): Promise<{ status: number; details: string; trailer: string }> {
    const thrown = (await rejectionOf(client.deliver(bytes))) as ServiceError;
    const [trailer] = thrown.metadata.get(STATUS_DETAILS_KEY);
    return { status: thrown.code, details: thrown.details, trailer: Buffer.from(trailer as Buffer).toString('hex') };
  }

  /** Envelopes an outsider sends to learn whom BEL pins and which keys they and BEL hold. */
  const probes = () => {
    const now = clock.now();
    return {
      // Whom does BEL work with? DEU is not pinned, FRA is (with other keys than the prober's).
      unpinnedSender: sealFrom(deu.identity, self(), now).bytes,
      pinnedSender: sealFrom(fraOtherKeys.identity, self(), now).bytes,
      // Which key of FRA does BEL pin? A wrong key id, then FRA's real one (the prober lacks its keys).
      wrongSenderKeyId: sealFrom(fraOtherKeys.identity, self(), now, { senderKeyId: 'k'.repeat(16) }).bytes,
      rightSenderKeyId: sealFrom(fraOtherKeys.identity, self(), now, { senderKeyId: fra.identity.keyId }).bytes,
      // Which key does BEL hold? Its real key id, then another.
      wrongRecipientKeyId: sealFrom(deu.identity, self(), now, { recipientKeyId: ken.identity.keyId }).bytes,
      rightRecipientKeyId: sealFrom(deu.identity, self(), now, { recipientKeyId: self().keyId }).bytes,
      // A pinned sender's envelope changed on the path.
      tampered: flipHeaderByte(sealFrom(fra.identity, self(), now).envelope),
    };
  };

  it('pinned or not, right key id or wrong: the same status, message and detail, byte for byte', async () => {
    const answers = new Map<string, Awaited<ReturnType<typeof onTheWire>>>();
    for (const [name, bytes] of Object.entries(probes())) answers.set(name, await onTheWire(bytes));
    const first = answers.get('unpinnedSender');
    for (const [name, answer] of answers) expect({ name, ...answer }).toEqual({ name, ...first });
    expect(first?.status).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(first?.details).toBe('UNKNOWN_SENDER: the envelope could not be authenticated');
    const error = TracenetError.from(await rejectionOf(client.deliver(probes().pinnedSender)));
    expect(error.toDetail()).toEqual({
      code: ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
      field: '',
      rule: 'authentication',
      message: 'the envelope could not be authenticated',
      violations: [],
      retryable: true,
      receipt: undefined,
    });
  });

  it('the audit log (the refusal tally) and the metric keep the precise reason', async () => {
    const precise = {
      unpinnedSender: ['UNKNOWN_SENDER', 'pinned_peer'],
      pinnedSender: ['SENDER_KEY_MISMATCH', 'pinned_key'],
      wrongSenderKeyId: ['SENDER_KEY_MISMATCH', 'pinned_key'],
      rightSenderKeyId: ['HEADER_AUTH_FAILED', 'aead'],
      wrongRecipientKeyId: ['WRONG_RECIPIENT', 'recipient_key'],
      rightRecipientKeyId: ['UNKNOWN_SENDER', 'pinned_peer'],
      tampered: ['HEADER_AUTH_FAILED', 'aead'],
    } as const;
    const counted = async () =>
      (
        (await bel.node.metrics.registry.getSingleMetric('tracenet_envelopes_unauthenticated_total')?.get())?.values ??
        []
      ).map((v) => ({ ...v }));
    await bel.node.refusals.flush({ now: true });
    const before = await counted();
    for (const [name, bytes] of Object.entries(probes())) {
      await rejectionOf(client.deliver(bytes));
      // Written with the running interval: one refusals.counted entry for the connection, the precise reason counted once.
      await bel.node.refusals.flush({ now: true });
      const [code, rule] = precise[name as keyof typeof precise];
      const tally = await lastAudit(bel.node);
      expect({ name, ...tally }).toMatchObject({
        name,
        type: 'refusals.counted',
        source: '127.0.0.1',
        peer: 'FRA',
        total: 1,
        [`refused.${code}.${rule}`]: 1,
      });
    }
    const after = await counted();
    const value = (values: typeof after, code: string, rule: string) =>
      values.find((v) => v.labels.rpc === 'deliver' && v.labels.code === code && v.labels.rule === rule)?.value ?? 0;
    const increase = (code: string, rule: string) => value(after, code, rule) - value(before, code, rule);
    expect(increase('SENDER_KEY_MISMATCH', 'pinned_key')).toBe(2);
    expect(increase('HEADER_AUTH_FAILED', 'aead')).toBe(2);
    expect(increase('WRONG_RECIPIENT', 'recipient_key')).toBe(1);
    expect(increase('UNKNOWN_SENDER', 'pinned_peer')).toBe(2);
  });

  it("a misaddressed envelope is told so: this node's participant id is public", async () => {
    const error = TracenetError.from(
      await rejectionOf(client.deliver(sealFrom(deu.identity, ken.identity, clock.now()).bytes)),
    );
    expect(error).toMatchObject({
      codeName: 'WRONG_RECIPIENT',
      field: 'header.recipient',
      rule: 'recipient',
      retryable: false,
    });
  });
});

describe('the envelope opener: what each check says', () => {
  const config = { maxEnvelopeBytes: MAX_BYTES, replayWindowMs: WINDOW_MS };
  const opener = (peers: PeerRegistry = bel.node.peers) =>
    new EnvelopeOpener({ identity: self(), peers, clock, config });
  const refusalOf = (run: () => unknown): TracenetError => {
    try {
      run();
    } catch (error) {
      return error as TracenetError;
    }
    throw new Error('expected a refusal');
  };

  it('the time window and the expiry, with how far off the envelope is', () => {
    expect(opener().config).toBe(config);
    const at =
      (createdAtMs: number, expiresAtMs = createdAtMs + 3_600_000) =>
      () =>
        opener().checkTime(headerFrom(fra.identity, self(), clock.now(), { createdAtMs, expiresAtMs }));
    expect(refusalOf(at(clock.now() + 600_000))).toMatchObject({
      code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW,
      field: 'header.created_at_ms',
      rule: 'replay_window',
      message: 'envelope was created 600 s in the future; the window is ±300 s',
    });
    expect(refusalOf(at(clock.now() - 600_000))).toMatchObject({
      message: 'envelope was created 600 s ago; the window is ±300 s',
    });
    expect(refusalOf(at(clock.now() - 1000, clock.now()))).toMatchObject({
      code: ErrorCode.ERROR_CODE_EXPIRED,
      field: 'header.expires_at_ms',
      rule: 'expiry',
      message: 'envelope has expired',
    });
    expect(at(clock.now() - 1000, clock.now() + 1)).not.toThrow();
  });

  it('precise reasons of refused headers; the refusal of another addressee is public', () => {
    const parsed = (from: Party, overrides: Partial<EnvelopeHeader> = {}) =>
      parseEnvelope(
        sealHeader(from.identity, self(), headerFrom(from.identity, self(), clock.now(), overrides)).bytes,
        MAX_BYTES,
      );
    expect(refusalOf(() => opener().authenticate(parsed(fra, { recipient: 'KEN' })))).toMatchObject({
      code: ErrorCode.ERROR_CODE_WRONG_RECIPIENT,
      field: 'header.recipient',
      message: 'envelope is addressed to KEN, this node is BEL',
    });
    expect(
      preciseReason(refusalOf(() => opener().authenticate(parsed(fra, { recipientKeyId: 'k'.repeat(16) })))),
    ).toMatchObject({ field: 'header.recipient_key_id' });
    expect(preciseReason(refusalOf(() => opener().authenticate(parsed(deu))))).toMatchObject({
      field: 'header.sender',
      rule: 'pinned_peer',
      message: 'DEU is not a pinned peer of BEL',
    });
  });

  it('a precise reason is the cause of NOT_AUTHENTICATED only', () => {
    const cause = new TracenetError(ErrorCode.ERROR_CODE_BAD_SIGNATURE, 'inner');
    const other = new TracenetError(ErrorCode.ERROR_CODE_MALFORMED, 'outer', { rule: 'protobuf', cause });
    expect(preciseReason(other)).toBe(other);
  });

  it('sealed content from the pair that does not decode stays MALFORMED; a fault that is no refusal is passed on as it is', () => {
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const junk = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(
      Buffer.from([0xff, 0xff, 0xff]),
      sealed.envelope.header,
      null,
      sealed.envelope.nonce,
      pairKeyOf(fra.identity, self()),
    );
    const authentic = parseEnvelope(
      reencode(sealed.envelope, (copy) => (copy.ciphertext = Buffer.from(junk))),
      MAX_BYTES,
    );
    expect(refusalOf(() => opener().authenticate(authentic))).toMatchObject({
      code: ErrorCode.ERROR_CODE_MALFORMED,
      field: 'sealed',
    });
    const fault = new Error('the peer registry is broken');
    const broken = {
      get: () => {
        throw fault;
      },
    } as unknown as PeerRegistry;
    expect(refusalOf(() => opener(broken).authenticate(parseEnvelope(sealed.bytes, MAX_BYTES)))).toBe(fault);
  });
});

describe("the receiver's own outcomes: audit entry, node event, listeners, receipts, the handler's decision", () => {
  const ACCEPTED = ReceiptStatus.RECEIPT_STATUS_ACCEPTED;
  const DUPLICATE = ReceiptStatus.RECEIPT_STATUS_DUPLICATE;
  const statusOf = (receipt: Receipt) => ReceiptBody.decode(receipt.body).status;
  const refusalOf = async (promise: Promise<unknown>) => TracenetError.from(await rejectionOf(promise));

  /** The newest node event of BEL. */
  async function lastEvent(): Promise<NodeEvent> {
    for await (const event of bel.node.store.audit.events.values({ reverse: true, limit: 1 })) return event;
    throw new Error('no node event');
  }

  /**
   * A receiver on BEL's identity, peers, store and journal but without BEL's workflow (no handler
   * until a test sets one), whose journal can be made to fail once as a full disk would.
   */
  function bareReceiver(): { receiver: Receiver; failNextWrite: () => void } {
    let fail = false;
    const journal = {
      write: async (...args: Parameters<Journal['write']>) => {
        if (fail) {
          fail = false;
          throw new TracenetError(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, 'the store refused the batch');
        }
        await bel.node.journal.write(...args);
      },
    } as unknown as Journal;
    const receiver = new Receiver({
      identity: self(),
      peers: bel.node.peers,
      journal,
      store: bel.node.store,
      clock,
      logger: bel.node.logger,
      config: { maxEnvelopeBytes: MAX_BYTES, replayWindowMs: WINDOW_MS },
      refusals: bel.node.refusals,
    });
    return { receiver, failNextWrite: () => (fail = true) };
  }

  it('an accepted notice is audited with its body digest and announced as a node event of no case', async () => {
    const body = notice('audited', 'with its body digest');
    const sealed = sealFrom(fra.identity, self(), clock.now(), { body });
    const { messageId } = EnvelopeHeader.decode(sealed.envelope.header);
    expect(await deliverOk(sealed.bytes)).toMatchObject({
      status: ACCEPTED,
      errorCode: ErrorCode.ERROR_CODE_UNSPECIFIED,
      errorMessage: '',
    });
    expect(await lastAudit(bel.node)).toMatchObject({
      type: 'message.received',
      direction: 'in',
      peer: 'FRA',
      messageId,
      bodyDigest: bodyDigest(MessageKind.MESSAGE_KIND_NOTICE, body),
    });
    expect(await lastEvent()).toMatchObject({
      type: NodeEventType.NODE_EVENT_TYPE_MESSAGE_RECEIVED,
      caseId: '',
      traceId: '',
      peer: 'FRA',
      messageId,
      summary: 'message received from FRA',
    });
  });

  it("tells its listeners each duplicate and rejection with the message's kind; a REJECTED receipt carries the error's text", async () => {
    const duplicates: unknown[] = [];
    const rejections: unknown[] = [];
    const onDuplicate = (d: unknown) => duplicates.push(d);
    const onRejected = (r: unknown) => rejections.push(r);
    bel.node.receiver.on('duplicate', onDuplicate);
    bel.node.receiver.on('rejected', onRejected);
    try {
      const messageId = newMessageId();
      const first = sealFrom(fra.identity, self(), clock.now(), { messageId, body: notice('one', 'first body') });
      await deliverOk(first.bytes);
      expect((await deliverOk(first.bytes)).status).toBe(DUPLICATE);
      expect(duplicates).toEqual([{ sender: 'FRA', messageId, kind: MessageKind.MESSAGE_KIND_NOTICE }]);

      const other = sealFrom(fra.identity, self(), clock.now(), { messageId, body: notice('two', 'second body') });
      const reused = await refusalOf(bel.node.receiver.deliver(other.bytes));
      expect(reused).toMatchObject({
        field: 'header.message_id',
        rule: 'unique_message_id',
        message: `message id ${messageId} was already used by FRA for other content`,
      });
      expect(ReceiptBody.decode((reused.receipt as Receipt).body)).toMatchObject({
        errorCode: ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED,
        errorMessage: reused.message,
      });
      const again = await refusalOf(bel.node.receiver.deliver(other.bytes));
      expect(again).toMatchObject({
        rule: 'rejected_before',
        message: 'this message was rejected before; it is not processed again',
      });
      const unparsed = await refusalOf(bel.node.receiver.deliver(Buffer.from([0xff, 0xff, 0xff])));
      expect(rejections).toEqual([
        { code: 'MESSAGE_ID_REUSED', kind: MessageKind.MESSAGE_KIND_NOTICE },
        { code: 'MESSAGE_ID_REUSED', kind: MessageKind.MESSAGE_KIND_NOTICE },
        { code: 'MALFORMED', unauthenticated: { code: 'MALFORMED', rule: unparsed.rule } },
      ]);
    } finally {
      bel.node.receiver.off('duplicate', onDuplicate);
      bel.node.receiver.off('rejected', onRejected);
    }
  });

  it('without a handler every kind is checked by its body rules; a storage failure on a copy is passed on, not remembered', async () => {
    const { receiver, failNextWrite } = bareReceiver();
    const sealed = sealFrom(fra.identity, self(), clock.now());
    expect(statusOf(await receiver.deliver(sealed.bytes))).toBe(ACCEPTED);
    expect(
      (await refusalOf(receiver.deliver(sealFrom(fra.identity, self(), clock.now(), { body: notice('', '') }).bytes)))
        .code,
    ).toBe(ErrorCode.ERROR_CODE_MISSING_FIELD);
    failNextWrite();
    const storage = await refusalOf(receiver.deliver(sealed.bytes));
    expect(storage.code).toBe(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE);
    expect(storage.receipt).toBeUndefined();
    // The sender retries and gets its DUPLICATE: the failure was neither receipted nor remembered.
    expect(statusOf(await receiver.deliver(sealed.bytes))).toBe(DUPLICATE);
  });

  it('the handler decides: it commits, refuses (remembered by message id), fails for a moment, or neither (INTERNAL), and a failure after its commit keeps the message', async () => {
    const { receiver } = bareReceiver();
    let decision: 'commit' | 'refuse' | 'retry' | 'nothing' | 'fail after commit' = 'commit';
    receiver.setInboundHandler({
      handles: (kind) => kind === MessageKind.MESSAGE_KIND_NOTICE,
      async accept(_message, commit) {
        if (decision === 'refuse')
          throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'the case refuses it', {
            field: 'body.trace_id',
            rule: 'known_trace',
          });
        if (decision === 'retry')
          throw new TracenetError(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, 'the case store is busy');
        if (decision === 'nothing') return;
        await commit([], [], []);
        if (decision === 'fail after commit') throw new Error('after the commit');
      },
    });
    const rejections: unknown[] = [];
    receiver.on('rejected', (r) => rejections.push(r));

    // The handler's kinds are judged by the handler alone: a notice the body rules refuse is its to accept.
    expect(
      statusOf(await receiver.deliver(sealFrom(fra.identity, self(), clock.now(), { body: notice('', '') }).bytes)),
    ).toBe(ACCEPTED);

    decision = 'retry';
    const sealed = sealFrom(fra.identity, self(), clock.now());
    const busy = await refusalOf(receiver.deliver(sealed.bytes));
    expect([busy.code, busy.receipt]).toEqual([ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, undefined]);
    // Authenticated, so not counted as a refusal before authentication.
    expect(rejections).toEqual([{ code: 'STORAGE_UNAVAILABLE', kind: MessageKind.MESSAGE_KIND_NOTICE }]);
    decision = 'nothing';
    const internal = await refusalOf(receiver.deliver(sealed.bytes));
    expect(internal).toMatchObject({
      code: ErrorCode.ERROR_CODE_INTERNAL,
      message: 'the workflow neither accepted nor refused the message',
      receipt: undefined,
    });
    decision = 'fail after commit';
    expect((await refusalOf(receiver.deliver(sealed.bytes))).receipt).toBeUndefined();
    decision = 'commit';
    expect(statusOf(await receiver.deliver(sealed.bytes))).toBe(DUPLICATE);

    decision = 'refuse';
    const messageId = newMessageId();
    const refused = await refusalOf(receiver.deliver(sealFrom(fra.identity, self(), clock.now(), { messageId }).bytes));
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, rule: 'known_trace' });
    expect(statusOf(refused.receipt as Receipt)).toBe(ReceiptStatus.RECEIPT_STATUS_REJECTED);
    // Remembered for the message id, not only these bytes: a fresh seal of it is refused as before, unasked.
    decision = 'commit';
    clock.advance(1_000);
    const resealed = await refusalOf(
      receiver.deliver(sealFrom(fra.identity, self(), clock.now(), { messageId }).bytes),
    );
    expect(resealed).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, rule: 'rejected_before' });
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
    const codes = Object.values(ErrorCode).filter(
      (v): v is ErrorCode => typeof v === 'number' && v !== ErrorCode.UNRECOGNIZED,
    );
    expect(codes.length).toBeGreaterThan(20);
    for (const code of codes) {
      const info = (ERROR_CODES as Record<number, { grpc: number; retryable: boolean } | undefined>)[code];
      expect(info, `ERROR_CODES lacks ${ErrorCode[code]}`).toBeDefined();
      expect(Object.values(GrpcStatus)).toContain(info?.grpc);
      expect(typeof info?.retryable).toBe('boolean');
    }
    expect(
      Object.keys(ERROR_CODES)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([...codes].sort((a, b) => a - b));
  });

  it('a TracenetError survives the trip through a gRPC status', () => {
    const original = new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'subject is required', {
      field: 'body.subject',
      rule: 'required',
    });
    const status = original.toStatus();
    const serviceError = Object.assign(new Error(status.details), {
      code: status.code,
      details: status.details,
      metadata: status.metadata,
    });
    const back = TracenetError.from(serviceError);
    expect(back.code).toBe(ErrorCode.ERROR_CODE_MISSING_FIELD);
    expect(back.field).toBe('body.subject');
    expect(back.rule).toBe('required');
    expect(back.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT);
  });
});
