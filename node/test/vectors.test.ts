/**
 * Known answers (docs/protocol.md 3.8): the node's own envelope, receipt, key id, pair key and
 * audit code must reproduce the vectors the spec prints, byte for byte. Without this, a change to a
 * domain label, the associated data, the signed bytes or a digest would pass every other node test,
 * because the node's tests seal and open with the same code on both sides.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EnvelopeHeader, MessageKind, Notice, ReceiptBody, ReceiptStatus, SealedContent } from '@tracenet/proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointSignedBytes, entryHash, GENESIS_HASH } from '../src/audit/audit-log.js';
import { initSodium, sodium } from '../src/crypto/sodium.js';
import {
  bodyDigest,
  decryptEnvelope,
  envelopeDigest,
  parseEnvelope,
  sealWithHeader,
  verifyEnvelopeSignature,
} from '../src/envelope/envelope.js';
import { derivePairKey } from '../src/envelope/pair-key.js';
import { signReceipt } from '../src/envelope/receipt.js';
import { keyIdOf, keyPairsFromSecrets } from '../src/crypto/key-pairs.js';

const PROTOCOL = fileURLToPath(new URL('../../docs/protocol.md', import.meta.url));

/** Section 3.8 of protocol.md, as printed. */
function section38(): string {
  const text = readFileSync(PROTOCOL, 'utf8');
  const start = text.indexOf('\n### 3.8 ');
  expect(start, 'protocol.md has section 3.8').toBeGreaterThan(0);
  return text.slice(start, text.indexOf('\n## ', start + 1));
}

/** The value printed after `label` on its own line (one hex word, or a quoted string). */
function valueAfter(text: string, label: string): string {
  const line = text.split('\n').find((l) => l.startsWith(label));
  expect(line, `3.8 prints "${label}"`).toBeDefined();
  return (line ?? '')
    .slice(label.length)
    .trim()
    .replace(/^"(.*)"$/, '$1');
}

/** A hex block: the indented lines after the line that starts with `label`, joined. */
function blockAfter(text: string, label: string): Buffer {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(label));
  expect(at, `3.8 prints a block "${label}"`).toBeGreaterThanOrEqual(0);
  const hex: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (!/^ {2}[0-9a-f ]+$/.test(line)) break;
    hex.push(line.replace(/\s+/g, ''));
  }
  return Buffer.from(hex.join(''), 'hex');
}

describe('the node reproduces the test vectors of protocol 3.8', () => {
  let v: string;
  const hex = (s: string) => Buffer.from(s, 'hex');
  const keys = (who: 'FRA' | 'BEL') => {
    const seed = hex(valueAfter(v, `${who} signing seed (Ed25519)`));
    const signingSecretKey = Buffer.from(sodium().crypto_sign_seed_keypair(seed).privateKey);
    return keyPairsFromSecrets(signingSecretKey, hex(valueAfter(v, `${who} encryption secret key`)));
  };

  beforeAll(async () => {
    await initSodium();
    v = section38();
  });

  it('public keys, key ids and the pair key (2.2, 3.3)', () => {
    for (const who of ['FRA', 'BEL'] as const) {
      const k = keys(who);
      expect(k.signingPublicKey.toString('hex')).toBe(valueAfter(v, `${who} signing public key`));
      expect(k.encryptionPublicKey.toString('hex')).toBe(valueAfter(v, `${who} encryption public key`));
      expect(keyIdOf(k.signingPublicKey, k.encryptionPublicKey)).toBe(valueAfter(v, `${who} key id`));
    }
    const fra = keys('FRA');
    const bel = keys('BEL');
    const pair = valueAfter(v, 'pair key (FRA, BEL)');
    expect(
      derivePairKey(fra.encryptionSecretKey, fra.encryptionPublicKey, bel.encryptionPublicKey).toString('hex'),
    ).toBe(pair);
    expect(
      derivePairKey(bel.encryptionSecretKey, bel.encryptionPublicKey, fra.encryptionPublicKey).toString('hex'),
    ).toBe(pair);
  });

  it('the header and body encode as printed', () => {
    const header = EnvelopeHeader.encode({
      version: 1,
      sender: 'FRA',
      recipient: 'BEL',
      messageId: 'AAECAwQFBgcICQoLDA0ODw',
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      createdAtMs: 1767225600000,
      expiresAtMs: 1768435200000,
      senderKeyId: valueAfter(v, 'FRA key id'),
      recipientKeyId: valueAfter(v, 'BEL key id'),
      correlationId: 'case-2026-0001',
    }).finish();
    expect(Buffer.from(header).toString('hex')).toBe(blockAfter(v, 'header (104 bytes)').toString('hex'));
    expect(Buffer.from(Notice.encode({ subject: 'Test', text: 'Hello from FRA' }).finish()).toString('hex')).toBe(
      blockAfter(v, 'body (Notice)').toString('hex'),
    );
  });

  it('the signature, the sealed content, the envelope digest and the body digest (3.4–3.7)', () => {
    const fra = keys('FRA');
    const header = blockAfter(v, 'header (104 bytes)');
    const body = blockAfter(v, 'body (Notice)');
    // Ed25519 is deterministic: the node's own sealing signs the same bytes the spec prints.
    const sealed = sealWithHeader(header, body, fra.signingSecretKey, hex(valueAfter(v, 'pair key (FRA, BEL)')));
    const parsedOwn = parseEnvelope(sealed.bytes, 1 << 20);
    const content = decryptEnvelope(parsedOwn, hex(valueAfter(v, 'pair key (FRA, BEL)')));
    expect(Buffer.from(content.signature).toString('hex')).toBe(blockAfter(v, 'signature').toString('hex'));
    expect(Buffer.from(SealedContent.encode(content).finish()).toString('hex')).toBe(
      blockAfter(v, 'SealedContent (plaintext)').toString('hex'),
    );

    const envelope = blockAfter(v, 'Envelope (serialized)');
    const parsed = parseEnvelope(envelope, 1 << 20);
    expect(Buffer.from(parsed.envelope.nonce).toString('hex')).toBe(blockAfter(v, 'nonce').toString('hex'));
    expect(Buffer.from(parsed.envelope.ciphertext).toString('hex')).toBe(
      blockAfter(v, 'ciphertext (plaintext + 16-byte tag)').toString('hex'),
    );
    expect(envelopeDigest(parsed.envelope).toString('hex')).toBe(blockAfter(v, 'envelope digest').toString('hex'));
    expect(bodyDigest(MessageKind.MESSAGE_KIND_NOTICE, body)).toBe(blockAfter(v, 'body digest (3.7)').toString('hex'));
  });

  it("BEL opens the printed envelope and verifies FRA's signature; one changed header byte fails the AEAD check", () => {
    const bel = keys('BEL');
    const fra = keys('FRA');
    const pairKey = derivePairKey(bel.encryptionSecretKey, bel.encryptionPublicKey, fra.encryptionPublicKey);
    const parsed = parseEnvelope(blockAfter(v, 'Envelope (serialized)'), 1 << 20);
    const content = decryptEnvelope(parsed, pairKey);
    expect(Buffer.from(content.body).toString('hex')).toBe(blockAfter(v, 'body (Notice)').toString('hex'));
    expect(() => verifyEnvelopeSignature(parsed, content, fra.signingPublicKey)).not.toThrow();
    expect(() => verifyEnvelopeSignature(parsed, content, bel.signingPublicKey)).toThrow();
    const header = Buffer.from(parsed.envelope.header);
    header.writeUInt8(header.readUInt8(header.length - 1) ^ 1, header.length - 1);
    expect(() => decryptEnvelope({ ...parsed, envelope: { ...parsed.envelope, header } }, pairKey)).toThrow();
  });

  it("BEL's receipt (4.12)", () => {
    const body = {
      version: 1,
      issuer: 'BEL',
      issuerKeyId: valueAfter(v, 'BEL key id'),
      sender: 'FRA',
      messageId: 'AAECAwQFBgcICQoLDA0ODw',
      envelopeDigest: blockAfter(v, 'envelope digest'),
      receivedAtMs: 1767225600250,
      status: ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
      errorCode: 0,
      errorMessage: '',
    };
    const receipt = signReceipt(body, keys('BEL').signingSecretKey);
    expect(Buffer.from(receipt.body).toString('hex')).toBe(blockAfter(v, 'ReceiptBody').toString('hex'));
    expect(Buffer.from(receipt.signature).toString('hex')).toBe(
      blockAfter(v, 'signature = Ed25519-Sign(BEL').toString('hex'),
    );
    expect(ReceiptBody.decode(receipt.body)).toMatchObject({
      issuer: 'BEL',
      status: ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
    });
  });

  it('the audit entry hash and the checkpoint signature (8.2, 8.3)', () => {
    const line = valueAfter(v, 'line ');
    const hash = entryHash(GENESIS_HASH, line);
    expect(hash).toBe(valueAfter(v, 'hash '));
    const signed = checkpointSignedBytes(1, hash, 1767225601000);
    expect(signed.toString('hex')).toBe(blockAfter(v, 'checkpoint signed bytes').toString('hex'));
    const signature = Buffer.from(sodium().crypto_sign_detached(signed, keys('FRA').signingSecretKey));
    expect(signature.toString('hex')).toBe(blockAfter(v, 'checkpoint signature').toString('hex'));
  });
});
