import { beforeAll, describe, expect, it } from 'vitest';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  Envelope,
  EnvelopeHeader,
  ErrorCode,
  MessageKind,
  Receipt,
  ReceiptBody,
  ReceiptStatus,
  TracenetError,
} from '@tracenet/proto';
import { initSodium, sodium } from '../src/crypto/sodium.js';
import {
  decryptEnvelope,
  envelopeDigest,
  NONCE_BYTES,
  parseEnvelope,
  sealWithHeader,
  verifyEnvelopeSignature,
} from '../src/envelope/envelope.js';
import { derivePairKey, PairKeyCache } from '../src/envelope/pair-key.js';
import { decodeWithSafeIntegers } from '../src/envelope/safe-integers.js';
import { signReceipt, verifyDeliveryReceipt, verifyReceipt, verifyRememberedReceipt } from '../src/envelope/receipt.js';
import {
  flipHeaderByte,
  headerFrom,
  keysOnly,
  notice,
  pairKeyOf,
  reencode,
  sealFrom,
  sealHeader,
  type Keyed,
} from './support/parties.js';

const MAX = 64 * 1024;
const NOW = Date.UTC(2026, 0, 1);

/** Runs `fn`, expects a TracenetError with `code` (and `field` when given) and returns it. */
function expectCode(fn: () => unknown, code: ErrorCode, field?: string): TracenetError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${ErrorCode[code]}`).toBeInstanceOf(TracenetError);
  const error = thrown as TracenetError;
  expect(ErrorCode[error.code]).toBe(ErrorCode[code]);
  if (field !== undefined) expect(error.field).toBe(field);
  return error;
}

/** Parse, decrypt and verify as the recipient does; returns the body. */
function open(bytes: Uint8Array, from: Keyed, to: Keyed): Buffer {
  const parsed = parseEnvelope(bytes, MAX);
  const sealed = decryptEnvelope(parsed, pairKeyOf(to, from));
  verifyEnvelopeSignature(parsed, sealed, from.keys.signingPublicKey);
  return sealed.body;
}

let fra: Keyed;
let bel: Keyed;
let ken: Keyed;

beforeAll(async () => {
  await initSodium();
  fra = keysOnly('FRA');
  bel = keysOnly('BEL');
  ken = keysOnly('KEN');
});

describe('pair key', () => {
  it('is the same on both sides and differs per pair', () => {
    expect(pairKeyOf(fra, bel).equals(pairKeyOf(bel, fra))).toBe(true);
    expect(pairKeyOf(fra, bel).equals(pairKeyOf(fra, ken))).toBe(false);
    expect(pairKeyOf(fra, bel)).toHaveLength(32);
  });

  it('refuses a low-order peer key', () => {
    const error = expectCode(
      () => derivePairKey(fra.keys.encryptionSecretKey, fra.keys.encryptionPublicKey, Buffer.alloc(32)),
      ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
      'card.encryption_public_key',
    );
    expect([error.rule, error.message]).toEqual(['x25519_low_order', 'encryption key is a low-order point']);
  });

  it('takes a shared secret that merely holds a zero byte (only an all-zero one is refused)', () => {
    // About one X25519 secret in eight holds a zero byte; a check of "some byte is zero" instead
    // of "every byte is zero" would refuse those peers. Draw key pairs until one such secret.
    const s = sodium();
    const mine = s.crypto_box_keypair();
    for (let tries = 0; tries < 1000; tries += 1) {
      const peer = s.crypto_box_keypair();
      if (!s.crypto_scalarmult(mine.privateKey, peer.publicKey).includes(0)) continue;
      expect(derivePairKey(mine.privateKey, mine.publicKey, peer.publicKey)).toHaveLength(32);
      return;
    }
    throw new Error('no shared secret with a zero byte in 1000 key pairs');
  });

  it('is derived once per peer key by the cache, and is the derived key', () => {
    const cache = new PairKeyCache(fra.keys.encryptionSecretKey, fra.keys.encryptionPublicKey);
    const withBel = cache.get(bel.keys.encryptionPublicKey);
    expect(withBel.equals(pairKeyOf(fra, bel))).toBe(true);
    expect(cache.get(bel.keys.encryptionPublicKey)).toBe(withBel);
    expect(cache.get(ken.keys.encryptionPublicKey).equals(pairKeyOf(fra, ken))).toBe(true);
  });
});

describe('seal and open', () => {
  it('round-trips a body and the recipient can read only with the pair key', () => {
    const body = notice('hello', 'first');
    const sealed = sealFrom(fra, bel, NOW, { body });
    expect(open(sealed.bytes, fra, bel).equals(body)).toBe(true);
    expectCode(
      () => decryptEnvelope(parseEnvelope(sealed.bytes, MAX), pairKeyOf(ken, fra)),
      ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED,
    );
  });

  it('uses a fresh nonce per seal', () => {
    const a = sealFrom(fra, bel, NOW, { messageId: 'same-id-0123456789' });
    const b = sealFrom(fra, bel, NOW, { messageId: 'same-id-0123456789' });
    expect(a.envelope.nonce).toHaveLength(NONCE_BYTES);
    expect(Buffer.from(a.envelope.nonce).equals(Buffer.from(b.envelope.nonce))).toBe(false);
    expect(a.digest.equals(b.digest)).toBe(false);
  });

  it('computes the digest from the fields, not from how the protobuf was written', () => {
    const sealed = sealFrom(fra, bel, NOW);
    // Same fields written in reverse order plus an unknown field: other bytes, same envelope.
    const field = (no: number, value: Uint8Array) =>
      Buffer.concat([Buffer.from([(no << 3) | 2]), varint(value.length), value]);
    const other = Buffer.concat([
      field(3, sealed.envelope.ciphertext),
      field(2, sealed.envelope.nonce),
      field(1, sealed.envelope.header),
      field(15, Buffer.from('x')),
    ]);
    expect(other.equals(sealed.bytes)).toBe(false);
    const parsed = parseEnvelope(other, MAX);
    expect(parsed.digest.equals(sealed.digest)).toBe(true);
    expect(envelopeDigest(Envelope.decode(sealed.bytes)).equals(sealed.digest)).toBe(true);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

describe('tampering', () => {
  it('a flipped byte in the header fails the AEAD check', () => {
    const sealed = sealFrom(fra, bel, NOW);
    const bytes = flipHeaderByte(sealed.envelope);
    // The header still parses and passes every field rule: only authentication catches it.
    const parsed = parseEnvelope(bytes, MAX);
    expect(parsed.header.messageId).not.toBe(parseEnvelope(sealed.bytes, MAX).header.messageId);
    expectCode(() => decryptEnvelope(parsed, pairKeyOf(bel, fra)), ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED);
  });

  it('a flipped byte in the ciphertext or the nonce fails the AEAD check', () => {
    const sealed = sealFrom(fra, bel, NOW);
    for (const change of [
      (c: { ciphertext: Buffer }) => (c.ciphertext[0] = (c.ciphertext[0] ?? 0) ^ 0x01),
      (c: { ciphertext: Buffer }) =>
        (c.ciphertext[c.ciphertext.length - 1] = (c.ciphertext[c.ciphertext.length - 1] ?? 0) ^ 0x80),
      (c: { nonce: Buffer }) => (c.nonce[5] = (c.nonce[5] ?? 0) ^ 0x01),
    ]) {
      const bytes = reencode(sealed.envelope, change);
      expectCode(
        () => decryptEnvelope(parseEnvelope(bytes, MAX), pairKeyOf(bel, fra)),
        ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED,
      );
    }
  });

  it('a flipped byte in the inner signature fails the signature check', () => {
    const header = headerFrom(fra, bel, NOW);
    const good = sealHeader(fra, bel, header);
    const { signature } = decryptEnvelope(parseEnvelope(good.bytes, MAX), pairKeyOf(bel, fra));
    const bad = Buffer.from(signature);
    bad[10] = (bad[10] ?? 0) ^ 0x01;
    const headerBytes = parseEnvelope(good.bytes, MAX).envelope.header;
    const sealed = sealWithHeader(headerBytes, notice(), fra.keys.signingSecretKey, pairKeyOf(fra, bel), bad);
    const parsed = parseEnvelope(sealed.bytes, MAX);
    const content = decryptEnvelope(parsed, pairKeyOf(bel, fra));
    expectCode(
      () => verifyEnvelopeSignature(parsed, content, fra.keys.signingPublicKey),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
      'sealed.signature',
    );
    // A signature of the wrong length is refused the same way, not thrown as an internal error.
    const short = sealWithHeader(
      headerBytes,
      notice(),
      fra.keys.signingSecretKey,
      pairKeyOf(fra, bel),
      bad.subarray(0, 10),
    );
    const shortParsed = parseEnvelope(short.bytes, MAX);
    expectCode(
      () =>
        verifyEnvelopeSignature(
          shortParsed,
          decryptEnvelope(shortParsed, pairKeyOf(bel, fra)),
          fra.keys.signingPublicKey,
        ),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
    );
  });

  it('a signature by another key does not verify', () => {
    const sealed = sealFrom(fra, bel, NOW);
    const parsed = parseEnvelope(sealed.bytes, MAX);
    expectCode(
      () => verifyEnvelopeSignature(parsed, decryptEnvelope(parsed, pairKeyOf(bel, fra)), ken.keys.signingPublicKey),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
    );
  });

  it('a body and signature re-sealed under another header do not verify (surreptitious forwarding)', () => {
    // FRA signs for KEN; KEN re-seals the same body and signature to BEL under its own pair key.
    const toKen = sealFrom(fra, ken, NOW);
    const parsedAtKen = parseEnvelope(toKen.bytes, MAX);
    const content = decryptEnvelope(parsedAtKen, pairKeyOf(ken, fra));
    const forwarded = sealWithHeader(
      EnvelopeHeader.encode(headerFrom(fra, bel, NOW, { messageId: parsedAtKen.header.messageId })).finish(),
      content.body,
      ken.keys.signingSecretKey,
      pairKeyOf(ken, bel),
      content.signature,
    );
    // BEL looks up the FRA–BEL key for a header naming FRA: KEN cannot have made it.
    expectCode(
      () => decryptEnvelope(parseEnvelope(forwarded.bytes, MAX), pairKeyOf(bel, fra)),
      ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED,
    );
  });
});

describe('parseEnvelope', () => {
  it('refuses an oversize envelope before parsing it', () => {
    const garbage = Buffer.alloc(MAX + 1, 0xff);
    expectCode(() => parseEnvelope(garbage, MAX), ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE);
    // The same bytes under the limit are refused as MALFORMED: the size check came first.
    expectCode(() => parseEnvelope(garbage, MAX + 1), ErrorCode.ERROR_CODE_MALFORMED);
    const sealed = sealFrom(fra, bel, NOW);
    expect(() => parseEnvelope(sealed.bytes, sealed.bytes.length)).not.toThrow();
    expectCode(() => parseEnvelope(sealed.bytes, sealed.bytes.length - 1), ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE);
  });

  it('refuses bytes that are not an Envelope as MALFORMED', () => {
    expectCode(() => parseEnvelope(Buffer.from([0x0a, 0x10, 0x01]), MAX), ErrorCode.ERROR_CODE_MALFORMED, 'envelope');
    expectCode(() => parseEnvelope(Buffer.from([0xff, 0xff, 0xff]), MAX), ErrorCode.ERROR_CODE_MALFORMED);
    const badHeader = Buffer.from(
      Envelope.encode({
        header: Buffer.from([0x12, 0x40, 0x41]),
        nonce: Buffer.alloc(24),
        ciphertext: Buffer.alloc(32),
      }).finish(),
    );
    expectCode(() => parseEnvelope(badHeader, MAX), ErrorCode.ERROR_CODE_MALFORMED, 'envelope.header');
  });

  it('names each missing envelope field', () => {
    const { envelope } = sealFrom(fra, bel, NOW);
    for (const field of ['header', 'nonce', 'ciphertext'] as const) {
      const bytes = Buffer.from(Envelope.encode({ ...envelope, [field]: Buffer.alloc(0) }).finish());
      expectCode(() => parseEnvelope(bytes, MAX), ErrorCode.ERROR_CODE_MISSING_FIELD, `envelope.${field}`);
    }
    expectCode(() => parseEnvelope(Buffer.alloc(0), MAX), ErrorCode.ERROR_CODE_MISSING_FIELD, 'envelope.header');
  });

  it('names each missing header field', () => {
    const cases: Array<[string, Partial<Parameters<typeof headerFrom>[3]>]> = [
      ['header.sender', { sender: '' }],
      ['header.recipient', { recipient: '' }],
      ['header.message_id', { messageId: '' }],
      ['header.sender_key_id', { senderKeyId: '' }],
      ['header.recipient_key_id', { recipientKeyId: '' }],
      ['header.kind', { kind: MessageKind.MESSAGE_KIND_UNSPECIFIED }],
      ['header.created_at_ms', { createdAtMs: 0 }],
      ['header.expires_at_ms', { expiresAtMs: 0 }],
    ];
    for (const [field, overrides] of cases) {
      const sealed = sealHeader(fra, bel, headerFrom(fra, bel, NOW, overrides));
      expectCode(() => parseEnvelope(sealed.bytes, MAX), ErrorCode.ERROR_CODE_MISSING_FIELD, field);
    }
  });

  it('refuses an unsupported version', () => {
    for (const version of [0, 2]) {
      const sealed = sealHeader(fra, bel, headerFrom(fra, bel, NOW, { version }));
      expectCode(() => parseEnvelope(sealed.bytes, MAX), ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION, 'header.version');
    }
  });

  it('refuses header fields outside their rules', () => {
    const cases: Array<[string, Partial<Parameters<typeof headerFrom>[3]>]> = [
      ['header.sender', { sender: 'france' }],
      ['header.recipient', { recipient: 'BE' }],
      ['header.message_id', { messageId: 'short' }],
      ['header.message_id', { messageId: 'has a space in it!!' }],
      ['header.message_id', { messageId: 'x'.repeat(65) }],
      ['header.kind', { kind: 99 as MessageKind }],
      ['header.expires_at_ms', { createdAtMs: NOW, expiresAtMs: NOW }],
      ['header.correlation_id', { correlationId: 'c'.repeat(65) }],
      ['header.correlation_id', { correlationId: 'trace 42' }],
    ];
    for (const [field, overrides] of cases) {
      const sealed = sealHeader(fra, bel, headerFrom(fra, bel, NOW, overrides));
      expectCode(() => parseEnvelope(sealed.bytes, MAX), ErrorCode.ERROR_CODE_INVALID_FIELD, field);
    }
    const { envelope } = sealFrom(fra, bel, NOW);
    expectCode(
      () => parseEnvelope(Buffer.from(Envelope.encode({ ...envelope, nonce: Buffer.alloc(12) }).finish()), MAX),
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'envelope.nonce',
    );
    expectCode(
      () => parseEnvelope(Buffer.from(Envelope.encode({ ...envelope, ciphertext: Buffer.alloc(15) }).finish()), MAX),
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'envelope.ciphertext',
    );
  });
});

describe('what each refusal says (rule and text)', () => {
  const refusal = (bytes: Uint8Array, max = MAX) => {
    try {
      parseEnvelope(bytes, max);
    } catch (error) {
      const { code, field, rule, message } = TracenetError.from(error);
      return { code: ErrorCode[code], field, rule, message };
    }
    throw new Error('expected a refusal');
  };
  const withHeader = (overrides: Partial<Parameters<typeof headerFrom>[3]>) =>
    sealHeader(fra, bel, headerFrom(fra, bel, NOW, overrides)).bytes;

  it('parseEnvelope names the rule and says what is wrong', () => {
    const { envelope, bytes } = sealFrom(fra, bel, NOW);
    const reencoded = (fields: Partial<Envelope>) => Buffer.from(Envelope.encode({ ...envelope, ...fields }).finish());
    const expected: Array<[Uint8Array, Partial<ReturnType<typeof refusal>>]> = [
      [bytes, { rule: 'max_envelope_bytes', message: `envelope is ${bytes.length} bytes; the limit is 100` }],
      [
        Buffer.from([0xff, 0xff, 0xff]),
        { field: 'envelope', rule: 'protobuf', message: 'envelope is not a valid Envelope message' },
      ],
      [
        reencoded({ nonce: Buffer.alloc(0) }),
        { field: 'envelope.nonce', rule: 'required', message: 'envelope.nonce is required' },
      ],
      [
        reencoded({ header: Buffer.from([0x12, 0x40, 0x41]) }),
        {
          field: 'envelope.header',
          rule: 'protobuf',
          message: 'envelope.header is not a valid EnvelopeHeader message',
        },
      ],
      [
        reencoded({ nonce: Buffer.alloc(12) }),
        { field: 'envelope.nonce', rule: 'length', message: 'nonce must be 24 bytes' },
      ],
      [
        reencoded({ ciphertext: Buffer.alloc(15) }),
        { field: 'envelope.ciphertext', rule: 'length', message: 'ciphertext is shorter than its tag' },
      ],
      [
        withHeader({ version: 2 }),
        { rule: 'version', message: 'envelope version 2 is not supported; this node speaks 1' },
      ],
      [
        withHeader({ sender: 'france' }),
        { field: 'header.sender', rule: 'participant_id', message: 'sender is not a participant id' },
      ],
      [
        withHeader({ recipient: 'BE' }),
        { field: 'header.recipient', rule: 'participant_id', message: 'recipient is not a participant id' },
      ],
      [
        withHeader({ messageId: 'short' }),
        {
          field: 'header.message_id',
          rule: 'message_id',
          message: 'message id must be 16 to 64 characters of [A-Za-z0-9_-]',
        },
      ],
      [
        withHeader({ kind: 99 as MessageKind }),
        { field: 'header.kind', rule: 'known_kind', message: 'message kind 99 is not known to this node' },
      ],
      [
        withHeader({ kind: MessageKind.UNRECOGNIZED }),
        { field: 'header.kind', rule: 'known_kind', message: 'message kind -1 is not known to this node' },
      ],
      [
        withHeader({ createdAtMs: NOW, expiresAtMs: NOW }),
        { field: 'header.expires_at_ms', rule: 'after_created', message: 'expiry must be after creation' },
      ],
      [
        withHeader({ correlationId: 'c'.repeat(65) }),
        { field: 'header.correlation_id', rule: 'max_length', message: 'correlation id is longer than 64 characters' },
      ],
      [
        withHeader({ correlationId: 'two words' }),
        {
          field: 'header.correlation_id',
          rule: 'visible_ascii',
          message:
            'correlation id may hold visible ASCII characters only (! to ~): no space, control character or other script',
        },
      ],
    ];
    for (const [raw, fields] of expected) expect(refusal(raw, raw === bytes ? 100 : MAX)).toMatchObject(fields);
    // A ciphertext exactly as long as its tag is well formed (it seals an empty plaintext).
    expect(() => parseEnvelope(reencoded({ ciphertext: Buffer.alloc(16) }), MAX)).not.toThrow();
  });

  it('decryption and signature failures name their rule; sealed content that authenticates but does not decode is MALFORMED', () => {
    const sealed = sealFrom(fra, bel, NOW);
    const parsed = parseEnvelope(sealed.bytes, MAX);
    expect(() => decryptEnvelope(parsed, Buffer.alloc(32))).toThrow(
      expect.objectContaining({ rule: 'aead', message: 'header or ciphertext failed authentication' }),
    );
    const content = decryptEnvelope(parsed, pairKeyOf(bel, fra));
    expect(() => verifyEnvelopeSignature(parsed, content, ken.keys.signingPublicKey)).toThrow(
      expect.objectContaining({
        field: 'sealed.signature',
        rule: 'ed25519',
        message: 'signature does not verify for this header and body',
      }),
    );
    const junk = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(
      Buffer.from([0xff, 0xff, 0xff]),
      sealed.envelope.header,
      null,
      sealed.envelope.nonce,
      pairKeyOf(fra, bel),
    );
    const authentic = parseEnvelope(
      Buffer.from(Envelope.encode({ ...sealed.envelope, ciphertext: Buffer.from(junk) }).finish()),
      MAX,
    );
    expect(() => decryptEnvelope(authentic, pairKeyOf(bel, fra))).toThrow(
      expect.objectContaining({
        code: ErrorCode.ERROR_CODE_MALFORMED,
        field: 'sealed',
        rule: 'protobuf',
        message: 'sealed content is not a valid SealedContent message',
      }),
    );
  });
});

describe('integers beyond ±(2^53 − 1) are named, not rounded (protocol 0)', () => {
  /** A codec that refuses everything, as the generated decoders refuse an unsafe integer: what is left to say is which field. */
  const refusing = {
    decode: (): never => {
      throw new Error('not a safe integer');
    },
  };
  const named = (write: (w: BinaryWriter) => BinaryWriter, uint64Fields: Record<number, string> = {}) => {
    try {
      decodeWithSafeIntegers(
        refusing,
        write(new BinaryWriter()).finish(),
        'Thing',
        'thing',
        { 6: 'thing.created_at_ms', 7: 'thing.expires_at_ms' },
        { uint64Fields },
      );
    } catch (error) {
      const { code, field, rule, message } = TracenetError.from(error);
      return { code: ErrorCode[code], field, rule, message };
    }
    throw new Error('expected a refusal');
  };
  const MAX_SAFE = 2n ** 53n - 1n;

  it('names the first int64 or uint64 field outside the range, with the rule and why', () => {
    expect(named((w) => w.tag(6, WireType.Varint).int64(MAX_SAFE + 1n))).toEqual({
      code: 'ERROR_CODE_INVALID_FIELD',
      field: 'thing.created_at_ms',
      rule: 'safe_integer',
      message: 'thing.created_at_ms lies outside ±(2^53 − 1), the integers this protocol carries exactly',
    });
    expect(named((w) => w.tag(6, WireType.Varint).int64(-MAX_SAFE - 1n)).field).toBe('thing.created_at_ms');
    // -1 is safe as an int64, though its varint is 2^64 − 1 as a uint64; unknown fields and other wire types are skipped.
    expect(
      named((w) =>
        w
          .tag(6, WireType.Varint)
          .int64(-1n)
          .tag(99, WireType.Varint)
          .uint64(2n ** 60n)
          .tag(6, WireType.LengthDelimited)
          .bytes(Buffer.alloc(3, 0xff))
          .tag(7, WireType.Varint)
          .int64(MAX_SAFE + 1n),
      ).field,
    ).toBe('thing.expires_at_ms');
    expect(named((w) => w.tag(3, WireType.Varint).uint64(2n ** 64n - 1n), { 3: 'thing.serial' }).field).toBe(
      'thing.serial',
    );
  });

  it('the edges of the range are safe: a refusal then is MALFORMED, as any other', () => {
    for (const edge of [MAX_SAFE, -MAX_SAFE]) {
      expect(named((w) => w.tag(6, WireType.Varint).int64(edge))).toEqual({
        code: 'ERROR_CODE_MALFORMED',
        field: 'thing',
        rule: 'protobuf',
        message: 'thing is not a valid Thing message',
      });
    }
    expect(named((w) => w.tag(3, WireType.Varint).uint64(MAX_SAFE), { 3: 'thing.serial' }).code).toBe(
      'ERROR_CODE_MALFORMED',
    );
  });
});

describe('correlation id (docs/protocol.md 3.2)', () => {
  const refused = (correlationId: string) => () =>
    parseEnvelope(sealHeader(fra, bel, headerFrom(fra, bel, NOW, { correlationId })).bytes, MAX);

  it('takes up to 64 visible ASCII characters, or none', () => {
    const visible = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
    for (const correlationId of ['', 'Xq3-trace_id.42', visible.slice(0, 64), visible.slice(30, 94)]) {
      expect(
        parseEnvelope(sealHeader(fra, bel, headerFrom(fra, bel, NOW, { correlationId })).bytes, MAX).header
          .correlationId,
      ).toBe(correlationId);
    }
  });

  it('refuses control characters, bidi overrides, spaces and other scripts with INVALID_FIELD header.correlation_id', () => {
    const forged = [
      'ok\nFRA accepted message 42', // a line break forges a log line
      '\u001b[2Jcleared', // a terminal escape
      'abc\u202Efdp.exe', // right-to-left override
      'abc\u2066x\u2069', // bidi isolates
      'zero\u200Bwidth',
      'nul\u0000',
      'del\u007f',
      'tab\there',
      'two words',
      'caf\u00e9',
      'Ｆullwidth',
    ];
    for (const correlationId of forged) {
      const error = expectCode(refused(correlationId), ErrorCode.ERROR_CODE_INVALID_FIELD, 'header.correlation_id');
      expect([correlationId, error.rule]).toEqual([correlationId, 'visible_ascii']);
    }
  });
});

describe('receipts', () => {
  const digest = Buffer.alloc(32, 7);
  const expected = () => ({
    issuer: 'BEL',
    issuerKeyId: bel.keyId,
    issuerSigningPublicKey: bel.keys.signingPublicKey,
    sender: 'FRA',
    messageId: 'message-id-0123456789',
  });
  const body = (status: ReceiptStatus, overrides: Partial<ReceiptBody> = {}): ReceiptBody => ({
    version: 1,
    issuer: 'BEL',
    issuerKeyId: bel.keyId,
    sender: 'FRA',
    messageId: 'message-id-0123456789',
    envelopeDigest: digest,
    receivedAtMs: NOW,
    status,
    errorCode: ErrorCode.ERROR_CODE_UNSPECIFIED,
    errorMessage: '',
    ...overrides,
  });
  const accepted = () => signReceipt(body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED), bel.keys.signingSecretKey);

  it('accepts a valid ACCEPTED receipt for the digest sent', () => {
    const proof = verifyDeliveryReceipt(accepted(), expected(), digest);
    expect(proof.status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    expect(proof.accepted.messageId).toBe('message-id-0123456789');
  });

  it('accepts a DUPLICATE receipt for the digest sent that carries the ACCEPTED original', () => {
    const firstDigest = Buffer.alloc(32, 1);
    const original = signReceipt(
      body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED, { envelopeDigest: firstDigest, receivedAtMs: NOW - 5000 }),
      bel.keys.signingSecretKey,
    );
    const duplicate: Receipt = {
      ...signReceipt(body(ReceiptStatus.RECEIPT_STATUS_DUPLICATE), bel.keys.signingSecretKey),
      original,
    };
    // As it travels: serialized and parsed again.
    const proof = verifyDeliveryReceipt(Receipt.decode(Receipt.encode(duplicate).finish()), expected(), digest);
    expect(proof.status).toBe(ReceiptStatus.RECEIPT_STATUS_DUPLICATE);
    expect(proof.accepted.receivedAtMs).toBe(NOW - 5000);
    expect(Buffer.from(proof.accepted.envelopeDigest).equals(firstDigest)).toBe(true);
  });

  it('refuses a receipt signed by another key', () => {
    const forged = signReceipt(body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED), ken.keys.signingSecretKey);
    expectCode(() => verifyDeliveryReceipt(forged, expected(), digest), ErrorCode.ERROR_CODE_BAD_SIGNATURE, 'receipt');
    const tampered = accepted();
    tampered.signature[0] = (tampered.signature[0] ?? 0) ^ 1;
    expectCode(() => verifyDeliveryReceipt(tampered, expected(), digest), ErrorCode.ERROR_CODE_BAD_SIGNATURE);
    expectCode(
      () => verifyDeliveryReceipt({ ...accepted(), signature: Buffer.alloc(0) }, expected(), digest),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
    );
  });

  it('refuses a receipt for another digest, message, sender or issuer', () => {
    expectCode(
      () => verifyDeliveryReceipt(accepted(), expected(), Buffer.alloc(32, 8)),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
    );
    for (const overrides of [
      { messageId: 'another-message-id-000' },
      { sender: 'KEN' },
      { issuer: 'KEN' },
      { issuerKeyId: 'ffffffffffffffff' },
      { version: 2 },
    ]) {
      const receipt = signReceipt(body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED, overrides), bel.keys.signingSecretKey);
      expectCode(() => verifyDeliveryReceipt(receipt, expected(), digest), ErrorCode.ERROR_CODE_BAD_SIGNATURE);
    }
  });

  it('refuses a DUPLICATE receipt without an original, or whose original is not an ACCEPTED receipt of this message', () => {
    const duplicate = signReceipt(body(ReceiptStatus.RECEIPT_STATUS_DUPLICATE), bel.keys.signingSecretKey);
    expectCode(() => verifyDeliveryReceipt(duplicate, expected(), digest), ErrorCode.ERROR_CODE_BAD_SIGNATURE);
    const rejectedOriginal = signReceipt(
      body(ReceiptStatus.RECEIPT_STATUS_REJECTED, { errorCode: ErrorCode.ERROR_CODE_BAD_SIGNATURE }),
      bel.keys.signingSecretKey,
    );
    expectCode(
      () => verifyDeliveryReceipt({ ...duplicate, original: rejectedOriginal }, expected(), digest),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
    );
    const otherMessage = signReceipt(
      body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED, { messageId: 'another-message-id-000' }),
      bel.keys.signingSecretKey,
    );
    expectCode(
      () => verifyDeliveryReceipt({ ...duplicate, original: otherMessage }, expected(), digest),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
    );
    const forgedOriginal = signReceipt(body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED), ken.keys.signingSecretKey);
    expectCode(
      () => verifyDeliveryReceipt({ ...duplicate, original: forgedOriginal }, expected(), digest),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
    );
  });

  it('a REJECTED receipt is a valid receipt but never proof of delivery', () => {
    const rejected = signReceipt(
      body(ReceiptStatus.RECEIPT_STATUS_REJECTED, { errorCode: ErrorCode.ERROR_CODE_EXPIRED }),
      bel.keys.signingSecretKey,
    );
    expect(verifyReceipt(rejected, expected()).errorCode).toBe(ErrorCode.ERROR_CODE_EXPIRED);
    expectCode(() => verifyDeliveryReceipt(rejected, expected(), digest), ErrorCode.ERROR_CODE_BAD_SIGNATURE);
  });

  it('a receipt remembered from before a rotation may be signed with a previous key in grace, a new answer only with the key sealed to (protocol 5.4)', () => {
    // BEL's keys before its rotation, still in grace at the sender: `previousIssuerKeys`.
    const before = keysOnly('BEL');
    const inGrace = {
      ...expected(),
      previousIssuerKeys: [{ keyId: before.keyId, signingPublicKey: before.keys.signingPublicKey }],
    };
    const original = signReceipt(
      body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED, { envelopeDigest: Buffer.alloc(32, 1), issuerKeyId: before.keyId }),
      before.keys.signingSecretKey,
    );
    const duplicate: Receipt = {
      ...signReceipt(body(ReceiptStatus.RECEIPT_STATUS_DUPLICATE), bel.keys.signingSecretKey),
      original,
    };
    expect(verifyDeliveryReceipt(duplicate, inGrace, digest).accepted.issuerKeyId).toBe(before.keyId);
    // The grace over (the key no longer listed), the original proves nothing.
    expectCode(
      () => verifyDeliveryReceipt(duplicate, expected(), digest),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
      'receipt',
    );
    // The receipt must name the key that verifies it.
    const misnamed = signReceipt(
      body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED, { envelopeDigest: Buffer.alloc(32, 1) }),
      before.keys.signingSecretKey,
    );
    expectCode(
      () => verifyDeliveryReceipt({ ...duplicate, original: misnamed }, inGrace, digest),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
    );
    // An answer to this attempt (ACCEPTED, or the DUPLICATE itself) is signed with the key sealed to.
    const newUnderOld = signReceipt(
      body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED, { issuerKeyId: before.keyId }),
      before.keys.signingSecretKey,
    );
    expectCode(() => verifyDeliveryReceipt(newUnderOld, inGrace, digest), ErrorCode.ERROR_CODE_BAD_SIGNATURE);
    expectCode(
      () => verifyDeliveryReceipt({ ...newUnderOld, original }, inGrace, digest),
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
    );
    // A REJECTED receipt may be a remembered one.
    const rejected = signReceipt(
      body(ReceiptStatus.RECEIPT_STATUS_REJECTED, {
        issuerKeyId: before.keyId,
        errorCode: ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED,
      }),
      before.keys.signingSecretKey,
    );
    expect(verifyRememberedReceipt(rejected, inGrace).errorCode).toBe(ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED);
    expectCode(() => verifyRememberedReceipt(rejected, expected()), ErrorCode.ERROR_CODE_BAD_SIGNATURE);
    expectCode(() => verifyReceipt(rejected, inGrace), ErrorCode.ERROR_CODE_BAD_SIGNATURE);
  });

  const signedBy = (bytes: Uint8Array) =>
    Buffer.from(
      sodium().crypto_sign_detached(
        Buffer.concat([Buffer.from('tracenet.v1/receipt\0', 'ascii'), bytes]),
        bel.keys.signingSecretKey,
      ),
    );

  it('refuses a receipt whose body is not a ReceiptBody', () => {
    const bytes = Buffer.from([0x0a, 0x10, 0x01]);
    expectCode(
      () => verifyReceipt({ body: bytes, signature: signedBy(bytes), original: undefined }, expected()),
      ErrorCode.ERROR_CODE_MALFORMED,
    );
  });

  it('says why a receipt proves nothing', () => {
    const said = (run: () => unknown) => {
      const { field, rule, message } = expectCode(run, ErrorCode.ERROR_CODE_BAD_SIGNATURE);
      return [field, rule, message];
    };
    const sign = (status: ReceiptStatus, overrides: Partial<ReceiptBody> = {}) =>
      signReceipt(body(status, overrides), bel.keys.signingSecretKey);
    expect(
      said(() =>
        verifyReceipt(signReceipt(body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED), ken.keys.signingSecretKey), expected()),
      ),
    ).toEqual(['receipt', 'receipt', 'receipt signature does not verify']);
    expect(said(() => verifyReceipt(sign(ReceiptStatus.RECEIPT_STATUS_ACCEPTED, { version: 2 }), expected()))).toEqual([
      'receipt',
      'receipt',
      'receipt version 2 is not supported',
    ]);
    expect(
      said(() => verifyReceipt(sign(ReceiptStatus.RECEIPT_STATUS_ACCEPTED, { sender: 'KEN' }), expected()))[2],
    ).toBe('receipt names another message, sender, issuer or issuer key');
    expect(said(() => verifyDeliveryReceipt(accepted(), expected(), Buffer.alloc(32, 8)))[2]).toBe(
      'receipt digest does not match the envelope sent',
    );
    expect(said(() => verifyDeliveryReceipt(sign(ReceiptStatus.RECEIPT_STATUS_DUPLICATE), expected(), digest))[2]).toBe(
      'duplicate receipt without the original receipt',
    );
    const rejectedOriginal = sign(ReceiptStatus.RECEIPT_STATUS_REJECTED);
    expect(
      said(() =>
        verifyDeliveryReceipt(
          { ...sign(ReceiptStatus.RECEIPT_STATUS_DUPLICATE), original: rejectedOriginal },
          expected(),
          digest,
        ),
      )[2],
    ).toBe('original receipt is not ACCEPTED');
    expect(said(() => verifyDeliveryReceipt(rejectedOriginal, expected(), digest))[2]).toBe(
      'receipt status 3 does not prove delivery',
    );
    const bytes = Buffer.from([0x0a, 0x10, 0x01]);
    const malformed = expectCode(
      () => verifyReceipt({ body: bytes, signature: signedBy(bytes), original: undefined }, expected()),
      ErrorCode.ERROR_CODE_MALFORMED,
    );
    expect([malformed.field, malformed.message]).toEqual([
      'receipt.body',
      'receipt.body is not a valid ReceiptBody message',
    ]);
  });

  it('refuses a receipt whose received_at_ms lies beyond 2^53 − 1, naming the field (protocol 0)', () => {
    const bytes = Buffer.from(
      new BinaryWriter()
        .raw(ReceiptBody.encode(body(ReceiptStatus.RECEIPT_STATUS_ACCEPTED, { receivedAtMs: 0 })).finish())
        .tag(7, WireType.Varint)
        .int64(2n ** 53n)
        .finish(),
    );
    const error = expectCode(
      () => verifyReceipt({ body: bytes, signature: signedBy(bytes), original: undefined }, expected()),
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'receipt.body.received_at_ms',
    );
    expect(error.rule).toBe('safe_integer');
  });
});
