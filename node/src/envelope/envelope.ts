import { Envelope, EnvelopeHeader, ErrorCode, MessageKind, SealedContent, TracenetError } from '@tracenet/proto';
import { signDetached } from '../crypto/ed25519.js';
import { blake2b256, domain, randomBytes, sodium, toBuffer, u32be } from '../crypto/sodium.js';
import { isParticipantId } from '../identity/participant-id.js';
import { decodeWithSafeIntegers } from './safe-integers.js';

/** Envelope format version of tracenet.v1. */
export const ENVELOPE_VERSION = 1;
/** XChaCha20-Poly1305 nonce length. */
export const NONCE_BYTES = 24;
/** Poly1305 tag length. */
const TAG_BYTES = 16;

const SIGNATURE_DOMAIN = domain('tracenet.v1/envelope');
const DIGEST_DOMAIN = domain('tracenet.v1/envelope-digest');
const MESSAGE_ID = /^[A-Za-z0-9_-]{16,64}$/;
/** The int64 fields of EnvelopeHeader, by field number. */
const HEADER_INT64_FIELDS = { 6: 'header.created_at_ms', 7: 'header.expires_at_ms' };
/** Visible ASCII, U+0021 to U+007E: no space, no control or format character, nothing a terminal or log reader could be fooled by. */
const VISIBLE_ASCII = /^[!-~]*$/;

/**
 * Why `value` cannot be a correlation id (docs/protocol.md 3.2: at most 64 characters of visible
 * ASCII, empty allowed), or undefined when it can. It appears in both sides' logs and travels as
 * gRPC metadata (`x-correlation-id`), whose values are ASCII.
 */
export function correlationIdProblem(value: string): { rule: string; message: string } | undefined {
  if (value.length > 64) return { rule: 'max_length', message: 'correlation id is longer than 64 characters' };
  if (!VISIBLE_ASCII.test(value))
    return {
      rule: 'visible_ascii',
      message:
        'correlation id may hold visible ASCII characters only (! to ~): no space, control character or other script',
    };
  return undefined;
}

/** What a sender puts into an envelope. */
export interface SealInput {
  readonly sender: string;
  readonly senderKeyId: string;
  readonly senderSigningSecretKey: Uint8Array;
  readonly recipient: string;
  readonly recipientKeyId: string;
  /** Pair key of sender and recipient ({@link derivePairKey}). */
  readonly pairKey: Uint8Array;
  readonly messageId: string;
  readonly kind: MessageKind;
  readonly body: Uint8Array;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly correlationId?: string;
}

/** A sealed envelope with its wire bytes and digest. */
export interface SealedEnvelope {
  readonly envelope: Envelope;
  readonly bytes: Buffer;
  readonly digest: Buffer;
}

/** The bytes an envelope signature covers: domain || u32be(len(header)) || header || body. */
function signedBytes(header: Uint8Array, body: Uint8Array): Buffer {
  return Buffer.concat([SIGNATURE_DOMAIN, u32be(header.length), header, body]);
}

/**
 * Sign-then-encrypt: signs header and body with the sender's Ed25519 key, then encrypts body and
 * signature with XChaCha20-Poly1305 under the pair key, with the header as associated data.
 *
 * @example
 * ```ts
 * const { bytes } = sealEnvelope({ sender: 'FRA', recipient: 'BEL', kind: MessageKind.MESSAGE_KIND_NOTICE, ... });
 * ```
 */
export function sealEnvelope(input: SealInput): SealedEnvelope {
  const header = Buffer.from(
    EnvelopeHeader.encode({
      version: ENVELOPE_VERSION,
      sender: input.sender,
      recipient: input.recipient,
      messageId: input.messageId,
      kind: input.kind,
      createdAtMs: input.createdAtMs,
      expiresAtMs: input.expiresAtMs,
      senderKeyId: input.senderKeyId,
      recipientKeyId: input.recipientKeyId,
      correlationId: input.correlationId ?? '',
    }).finish(),
  );
  return sealWithHeader(header, input.body, input.senderSigningSecretKey, input.pairKey);
}

/**
 * Seals given header bytes and body. Exposed for tests and the conformance suite, which need to
 * build envelopes that a correct sender would never build.
 */
export function sealWithHeader(
  header: Uint8Array,
  body: Uint8Array,
  signingSecretKey: Uint8Array,
  pairKey: Uint8Array,
  signature: Uint8Array = signDetached(signedBytes(header, body), signingSecretKey),
): SealedEnvelope {
  const plaintext = SealedContent.encode({ body: toBuffer(body), signature: toBuffer(signature) }).finish();
  const nonce = randomBytes(NONCE_BYTES);
  const ciphertext = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, null, nonce, pairKey);
  const envelope: Envelope = { header: toBuffer(header), nonce, ciphertext: toBuffer(ciphertext) };
  return { envelope, bytes: Buffer.from(Envelope.encode(envelope).finish()), digest: envelopeDigest(envelope) };
}

/**
 * Envelope digest: BLAKE2b-256 over the domain label and the three fields, each length-prefixed.
 * It does not depend on how the protobuf was serialized, so sender and recipient agree on it.
 */
export function envelopeDigest(envelope: Envelope): Buffer {
  return blake2b256(
    DIGEST_DOMAIN,
    u32be(envelope.header.length),
    envelope.header,
    u32be(envelope.nonce.length),
    envelope.nonce,
    u32be(envelope.ciphertext.length),
    envelope.ciphertext,
  );
}

/** An envelope whose structure and header fields are valid; nothing is authenticated yet. */
export interface ParsedEnvelope {
  readonly envelope: Envelope;
  readonly header: EnvelopeHeader;
  readonly digest: Buffer;
}

function missing(field: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, `${field} is required`, { field, rule: 'required' });
}

function invalidField(field: string, rule: string, message: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, message, { field, rule });
}

/**
 * Step 1 of opening (docs/protocol.md 3.5): size limit before parsing, then structure and header
 * field rules. Cheap; no cryptography except the digest.
 */
export function parseEnvelope(raw: Uint8Array, maxEnvelopeBytes: number): ParsedEnvelope {
  if (raw.length > maxEnvelopeBytes) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE,
      `envelope is ${raw.length} bytes; the limit is ${maxEnvelopeBytes}`,
      { rule: 'max_envelope_bytes' },
    );
  }
  let envelope: Envelope;
  try {
    envelope = Envelope.decode(raw);
  } catch (cause) {
    throw new TracenetError(ErrorCode.ERROR_CODE_MALFORMED, 'envelope is not a valid Envelope message', {
      field: 'envelope',
      rule: 'protobuf',
      cause,
    });
  }
  if (envelope.header.length === 0) throw missing('envelope.header');
  if (envelope.nonce.length === 0) throw missing('envelope.nonce');
  if (envelope.ciphertext.length === 0) throw missing('envelope.ciphertext');
  if (envelope.nonce.length !== NONCE_BYTES)
    throw invalidField('envelope.nonce', 'length', `nonce must be ${NONCE_BYTES} bytes`);
  if (envelope.ciphertext.length < TAG_BYTES)
    throw invalidField('envelope.ciphertext', 'length', 'ciphertext is shorter than its tag');
  const header = decodeWithSafeIntegers(
    EnvelopeHeader,
    envelope.header,
    'EnvelopeHeader',
    'envelope.header',
    HEADER_INT64_FIELDS,
  );
  if (header.version !== ENVELOPE_VERSION) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION,
      `envelope version ${header.version} is not supported; this node speaks ${ENVELOPE_VERSION}`,
      {
        field: 'header.version',
        rule: 'version',
      },
    );
  }
  const required: Array<[string, string]> = [
    ['header.sender', header.sender],
    ['header.recipient', header.recipient],
    ['header.message_id', header.messageId],
    ['header.sender_key_id', header.senderKeyId],
    ['header.recipient_key_id', header.recipientKeyId],
  ];
  for (const [field, value] of required) if (value === '') throw missing(field);
  if (header.kind === MessageKind.MESSAGE_KIND_UNSPECIFIED) throw missing('header.kind');
  if (header.createdAtMs === 0) throw missing('header.created_at_ms');
  if (header.expiresAtMs === 0) throw missing('header.expires_at_ms');
  if (!isParticipantId(header.sender))
    throw invalidField('header.sender', 'participant_id', 'sender is not a participant id');
  if (!isParticipantId(header.recipient))
    throw invalidField('header.recipient', 'participant_id', 'recipient is not a participant id');
  if (!MESSAGE_ID.test(header.messageId))
    throw invalidField('header.message_id', 'message_id', 'message id must be 16 to 64 characters of [A-Za-z0-9_-]');
  if (!(header.kind in MessageKind) || header.kind === MessageKind.UNRECOGNIZED) {
    throw invalidField('header.kind', 'known_kind', `message kind ${header.kind} is not known to this node`);
  }
  if (header.expiresAtMs <= header.createdAtMs)
    throw invalidField('header.expires_at_ms', 'after_created', 'expiry must be after creation');
  const correlation = correlationIdProblem(header.correlationId);
  if (correlation) throw invalidField('header.correlation_id', correlation.rule, correlation.message);
  return { envelope, header, digest: envelopeDigest(envelope) };
}

/**
 * Step 2: the AEAD check under the pair key. This authenticates header and ciphertext together
 * for the cost of one MAC; failure means the envelope did not come from the pair.
 */
export function decryptEnvelope(parsed: ParsedEnvelope, pairKey: Uint8Array): SealedContent {
  let plaintext: Uint8Array;
  try {
    plaintext = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      parsed.envelope.ciphertext,
      parsed.envelope.header,
      parsed.envelope.nonce,
      pairKey,
    );
  } catch (cause) {
    throw new TracenetError(ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED, 'header or ciphertext failed authentication', {
      rule: 'aead',
      cause,
    });
  }
  try {
    return SealedContent.decode(plaintext);
  } catch (cause) {
    throw new TracenetError(ErrorCode.ERROR_CODE_MALFORMED, 'sealed content is not a valid SealedContent message', {
      field: 'sealed',
      rule: 'protobuf',
      cause,
    });
  }
}

/** Step 3: the sender's Ed25519 signature over exactly the header bytes received and the body. */
export function verifyEnvelopeSignature(
  parsed: ParsedEnvelope,
  sealed: SealedContent,
  signingPublicKey: Uint8Array,
): void {
  const s = sodium();
  const ok =
    sealed.signature.length === s.crypto_sign_BYTES &&
    s.crypto_sign_verify_detached(sealed.signature, signedBytes(parsed.envelope.header, sealed.body), signingPublicKey);
  if (!ok) {
    throw new TracenetError(ErrorCode.ERROR_CODE_BAD_SIGNATURE, 'signature does not verify for this header and body', {
      field: 'sealed.signature',
      rule: 'ed25519',
    });
  }
}

/** Digest of a body, used to tell a retry of a message from a reuse of its id. */
export function bodyDigest(kind: MessageKind, body: Uint8Array): string {
  return blake2b256(u32be(kind), body).toString('hex');
}
