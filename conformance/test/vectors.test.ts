import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EnvelopeHeader, Notice, ReceiptBody, ReceiptStatus, RosterBody } from '@tracenet/proto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  auditEntryHash,
  bodyDigest,
  checkpointSignedBytes,
  envelopeDigest,
  envelopeSignedBytes,
  initCodec,
  keyIdOf,
  keysDigest,
  open,
  pairKey,
  participantKeys,
  seal,
  signCheckpoint,
  signEnvelope,
  signReceipt,
  signRoster,
  sodium,
  verifyReceipt,
} from '../src/codec/index.js';
import { VECTORS as V } from '../src/vectors.js';

const PROTOCOL = fileURLToPath(new URL('../../docs/protocol.md', import.meta.url));
const hex = (value: string) => Buffer.from(value, 'hex');
const keysOf = (p: typeof V.fra | typeof V.bel) => participantKeys(hex(p.signingSeed), hex(p.encryptionSecretKey));

/** One subsection of protocol.md with all white space removed (hex blocks wrap over lines). */
function sectionText(section: string): string {
  const text = readFileSync(PROTOCOL, 'utf8');
  const start = text.indexOf(`\n### ${section} `);
  const end = text.indexOf('\n### ', start + 1);
  expect(start, `protocol.md has a section ${section}`).toBeGreaterThan(0);
  return text.slice(start, end).replace(/\s+/g, '');
}

/**
 * Known answers: the suite's own codec (conformance/src/codec, written from the spec) rebuilds
 * every value of the protocol.md 3.8 vectors (and the roster vector of 15.4) byte for byte, and
 * the values it uses are the ones protocol.md prints.
 */
describe('the conformance codec rebuilds the protocol test vectors', () => {
  beforeAll(initCodec);

  it('uses the values protocol.md 3.8 and 15.4 print', () => {
    const code = `${sectionText('3.8')}${sectionText('15.4')}`;
    const values: string[] = [];
    const collect = (v: unknown): void => {
      if (typeof v === 'string' && /^[0-9a-f]{16,}$/.test(v)) values.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(collect);
    };
    collect(V);
    expect(values.length).toBeGreaterThan(30);
    for (const value of values) expect(code.includes(value), `protocol.md shows ${value.slice(0, 24)}…`).toBe(true);
    expect(code).toContain(V.audit.line.replace(/\s+/g, ''));
  });

  it('keys, key ids and the pair key (2.2, 3.3)', () => {
    const fra = keysOf(V.fra);
    const bel = keysOf(V.bel);
    expect(fra.signingPublicKey.toString('hex')).toBe(V.fra.signingPublicKey);
    expect(fra.encryptionPublicKey.toString('hex')).toBe(V.fra.encryptionPublicKey);
    expect(bel.signingPublicKey.toString('hex')).toBe(V.bel.signingPublicKey);
    expect(bel.encryptionPublicKey.toString('hex')).toBe(V.bel.encryptionPublicKey);
    expect(keyIdOf(fra)).toBe(V.fra.keyId);
    expect(keyIdOf(bel)).toBe(V.bel.keyId);
    expect(
      Buffer.from(sodium().crypto_scalarmult(fra.encryptionSecretKey, bel.encryptionPublicKey)).toString('hex'),
    ).toBe(V.sharedSecret);
    expect(pairKey(fra.encryptionSecretKey, fra.encryptionPublicKey, bel.encryptionPublicKey).toString('hex')).toBe(
      V.pairKey,
    );
    expect(pairKey(bel.encryptionSecretKey, bel.encryptionPublicKey, fra.encryptionPublicKey).toString('hex')).toBe(
      V.pairKey,
    );
  });

  it('header, body, signature, sealed content, ciphertext, envelope and digests (3.1–3.7)', () => {
    const fra = keysOf(V.fra);
    const header = Buffer.from(EnvelopeHeader.encode({ ...V.header }).finish());
    const body = Buffer.from(Notice.encode(V.notice).finish());
    expect(header.toString('hex')).toBe(V.headerBytes);
    expect(header.length).toBe(104);
    expect(body.toString('hex')).toBe(V.body);
    expect(envelopeSignedBytes(header, body).subarray(0, 25).toString('hex')).toBe(V.signedBytesPrefix);
    expect(signEnvelope(header, body, fra.signingSecretKey).toString('hex')).toBe(V.signature);
    const sealed = seal({
      header,
      body,
      signingSecretKey: fra.signingSecretKey,
      pairKey: hex(V.pairKey),
      nonce: hex(V.nonce),
    });
    expect(sealed.plaintext.toString('hex')).toBe(V.sealedContent);
    expect(Buffer.from(sealed.envelope.ciphertext).toString('hex')).toBe(V.ciphertext);
    expect(sealed.bytes.toString('hex')).toBe(V.envelope);
    expect(sealed.digest.toString('hex')).toBe(V.envelopeDigest);
    expect(envelopeDigest({ header, nonce: hex(V.nonce), ciphertext: hex(V.ciphertext) }).toString('hex')).toBe(
      V.envelopeDigest,
    );
    expect(bodyDigest(V.header.kind, body).toString('hex')).toBe(V.bodyDigest);
    const opened = open(hex(V.envelope), hex(V.pairKey), fra.signingPublicKey);
    expect(opened.body.toString('hex')).toBe(V.body);
    expect(opened.header).toEqual(EnvelopeHeader.fromPartial(V.header));
  });

  it('the receipt (4.12)', () => {
    const bel = keysOf(V.bel);
    const body = ReceiptBody.fromPartial({
      version: 1,
      issuer: 'BEL',
      issuerKeyId: V.bel.keyId,
      sender: 'FRA',
      messageId: V.header.messageId,
      envelopeDigest: hex(V.envelopeDigest),
      receivedAtMs: V.receipt.receivedAtMs,
      status: ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
    });
    const receipt = signReceipt(body, bel.signingSecretKey);
    expect(Buffer.from(receipt.body).toString('hex')).toBe(V.receipt.body);
    expect(Buffer.from(receipt.signature).toString('hex')).toBe(V.receipt.signature);
    const issuer = {
      issuer: 'BEL',
      issuerKeyId: V.bel.keyId,
      issuerSigningPublicKey: bel.signingPublicKey,
      sender: 'FRA',
      messageId: V.header.messageId,
    };
    expect(
      verifyReceipt({ body: hex(V.receipt.body), signature: hex(V.receipt.signature), original: undefined }, issuer),
    ).toEqual(body);
  });

  it('the audit entry hash and checkpoint (8.2, 8.3)', () => {
    const fra = keysOf(V.fra);
    const hash = auditEntryHash('00'.repeat(32), V.audit.line);
    expect(hash.toString('hex')).toBe(V.audit.hash);
    expect(checkpointSignedBytes(1, hash, V.audit.checkpointAtMs).toString('hex')).toBe(V.audit.checkpointSignedBytes);
    expect(signCheckpoint(1, hash, V.audit.checkpointAtMs, fra.signingSecretKey).toString('hex')).toBe(
      V.audit.checkpointSignature,
    );
  });

  it('the roster (15.4)', () => {
    const operator = sodium().crypto_sign_seed_keypair(hex(V.roster.operatorSeed));
    expect(Buffer.from(operator.publicKey).toString('hex')).toBe(V.roster.operatorPublicKey);
    const fra = keysOf(V.fra);
    expect(keysDigest(fra.signingPublicKey, fra.encryptionPublicKey).toString('hex')).toBe(V.roster.fraKeysDigest);
    const body = RosterBody.fromPartial({
      version: 1,
      federation: V.roster.federation,
      serial: V.roster.serial,
      issuedAtMs: V.roster.issuedAtMs,
      expiresAtMs: V.roster.expiresAtMs,
      members: [
        {
          participantId: 'FRA',
          keys: [{ keyId: V.fra.keyId, keysDigest: hex(V.roster.fraKeysDigest) }],
          revokedKeyIds: [],
        },
      ],
    });
    const roster = signRoster(body, operator.privateKey);
    expect(Buffer.from(roster.body).toString('hex')).toBe(V.roster.body);
    expect(Buffer.from(roster.signature).toString('hex')).toBe(V.roster.signature);
  });
});
