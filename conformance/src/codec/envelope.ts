import { Envelope, EnvelopeHeader, SealedContent } from '@tracenet/proto';
import { blake2b256, domainLabel, ed25519Sign, ed25519Verify, randomBytes, sodium, u32be } from './primitives.js';

const PAIR_KEY = domainLabel('tracenet.v1/pair-key');
const SIGNATURE = domainLabel('tracenet.v1/envelope');
const DIGEST = domainLabel('tracenet.v1/envelope-digest');

/** The envelope version of tracenet.v1 (protocol 3.1). */
export const ENVELOPE_VERSION = 1;

/**
 * The pair key of protocol 3.3: BLAKE2b-256(D("tracenet.v1/pair-key") || shared || low || high),
 * where shared is the raw X25519 output and low, high the two public keys in byte order. Throws
 * for a low-order peer key (an all-zero shared secret).
 */
export function pairKey(mySecretKey: Uint8Array, myPublicKey: Uint8Array, peerPublicKey: Uint8Array): Buffer {
  const shared = Buffer.from(sodium().crypto_scalarmult(mySecretKey, peerPublicKey));
  if (shared.every((b) => b === 0)) throw new Error('X25519 shared secret is all zeros (low-order public key)');
  const [low, high] =
    Buffer.compare(Buffer.from(myPublicKey), Buffer.from(peerPublicKey)) <= 0
      ? [myPublicKey, peerPublicKey]
      : [peerPublicKey, myPublicKey];
  const key = blake2b256(PAIR_KEY, shared, low, high);
  shared.fill(0);
  return key;
}

/** The bytes an envelope signature covers (protocol 3.4): D("tracenet.v1/envelope") || u32be(len(header)) || header || body. */
export function envelopeSignedBytes(header: Uint8Array, body: Uint8Array): Buffer {
  return Buffer.concat([SIGNATURE, u32be(header.length), header, body]);
}

/** The sender's signature of protocol 3.4 over exactly these header and body bytes. */
export function signEnvelope(header: Uint8Array, body: Uint8Array, signingSecretKey: Uint8Array): Buffer {
  return ed25519Sign(envelopeSignedBytes(header, body), signingSecretKey);
}

/** The envelope digest of protocol 3.6, over the three fields with their lengths. */
export function envelopeDigest(envelope: { header: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array }): Buffer {
  return blake2b256(
    DIGEST,
    u32be(envelope.header.length),
    envelope.header,
    u32be(envelope.nonce.length),
    envelope.nonce,
    u32be(envelope.ciphertext.length),
    envelope.ciphertext,
  );
}

/** The body digest of protocol 3.7: BLAKE2b-256(u32be(kind) || body), no domain label. */
export function bodyDigest(kind: number, body: Uint8Array): Buffer {
  return blake2b256(u32be(kind), body);
}

/** An envelope as sealed: its three fields, the wire bytes and the digest. */
export interface Sealed {
  readonly envelope: Envelope;
  readonly bytes: Buffer;
  readonly digest: Buffer;
  /** The plaintext that was encrypted: serialized SealedContent. */
  readonly plaintext: Buffer;
  readonly signature: Buffer;
}

/** What to seal. `header` is the exact serialized EnvelopeHeader to send. */
export interface SealInput {
  readonly header: Uint8Array;
  readonly body: Uint8Array;
  readonly signingSecretKey: Uint8Array;
  readonly pairKey: Uint8Array;
  /** 24 bytes; random when absent (test vectors fix it). */
  readonly nonce?: Uint8Array;
  /** A signature to use instead of the sender's own over `header` and `body` (broken envelopes). */
  readonly signature?: Uint8Array;
}

/**
 * Seals an envelope as protocol 3.5 says: sign header and body, serialize SealedContent, encrypt
 * it with XChaCha20-Poly1305-IETF under the pair key with the header bytes as associated data.
 *
 * @example
 * ```ts
 * const { bytes } = seal({ header: EnvelopeHeader.encode(h).finish(), body, signingSecretKey, pairKey });
 * ```
 */
export function seal(input: SealInput): Sealed {
  const header = Buffer.from(input.header);
  const signature = Buffer.from(input.signature ?? signEnvelope(header, input.body, input.signingSecretKey));
  const plaintext = Buffer.from(SealedContent.encode({ body: Buffer.from(input.body), signature }).finish());
  const nonce = Buffer.from(input.nonce ?? randomBytes(24));
  const ciphertext = Buffer.from(
    sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, null, nonce, input.pairKey),
  );
  const envelope: Envelope = { header, nonce, ciphertext };
  return {
    envelope,
    bytes: Buffer.from(Envelope.encode(envelope).finish()),
    digest: envelopeDigest(envelope),
    plaintext,
    signature,
  };
}

/** Why an envelope could not be opened: the step of protocol 4 that failed. */
export class OpenFailure extends Error {
  override readonly name = 'OpenFailure';
  constructor(
    readonly step: 'envelope' | 'header' | 'aead' | 'sealed' | 'signature',
    message: string,
  ) {
    super(message);
  }
}

/** An envelope split into its parts, before decryption. */
export interface Parsed {
  readonly envelope: Envelope;
  readonly header: EnvelopeHeader;
  readonly digest: Buffer;
}

/** Decodes an Envelope and its header (no checks of the header rules). */
export function parse(raw: Uint8Array): Parsed {
  let envelope: Envelope;
  try {
    envelope = Envelope.decode(raw);
  } catch (error) {
    throw new OpenFailure('envelope', `not an Envelope: ${(error as Error).message}`);
  }
  let header: EnvelopeHeader;
  try {
    header = EnvelopeHeader.decode(envelope.header);
  } catch (error) {
    throw new OpenFailure('header', `header is not an EnvelopeHeader: ${(error as Error).message}`);
  }
  return { envelope, header, digest: envelopeDigest(envelope) };
}

/** What an opened envelope holds. */
export interface Opened extends Parsed {
  readonly body: Buffer;
  readonly signature: Buffer;
}

/**
 * Opens an envelope as a receiver does (protocol 4.5 and 4.9 step 8): the AEAD check under the
 * pair key with the received header bytes as associated data, SealedContent, and the Ed25519
 * signature over the received header and body bytes under `signingPublicKey`.
 */
export function open(raw: Uint8Array | Parsed, pairKeyBytes: Uint8Array, signingPublicKey: Uint8Array): Opened {
  const parsed = raw instanceof Uint8Array ? parse(raw) : raw;
  const { header, nonce, ciphertext } = parsed.envelope;
  let plaintext: Uint8Array;
  try {
    plaintext = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, header, nonce, pairKeyBytes);
  } catch {
    throw new OpenFailure('aead', 'the AEAD tag does not verify under the pair key with the header as associated data');
  }
  let sealed: SealedContent;
  try {
    sealed = SealedContent.decode(plaintext);
  } catch (error) {
    throw new OpenFailure('sealed', `the plaintext is not a SealedContent: ${(error as Error).message}`);
  }
  if (!ed25519Verify(sealed.signature, envelopeSignedBytes(header, sealed.body), signingPublicKey)) {
    throw new OpenFailure(
      'signature',
      'the signature does not verify over D("tracenet.v1/envelope") || u32be(len(header)) || header || body',
    );
  }
  return { ...parsed, body: Buffer.from(sealed.body), signature: Buffer.from(sealed.signature) };
}
