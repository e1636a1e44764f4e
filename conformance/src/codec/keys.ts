import { blake2b256, randomBytes, sodium } from './primitives.js';

/** A participant's two key pairs (protocol 2.2): Ed25519 to sign, X25519 to encrypt. */
export interface ParticipantKeys {
  /** libsodium's 64-byte Ed25519 secret key (seed || public key). */
  readonly signingSecretKey: Buffer;
  readonly signingPublicKey: Buffer;
  readonly encryptionSecretKey: Buffer;
  readonly encryptionPublicKey: Buffer;
}

/**
 * Key pairs from a 32-byte Ed25519 seed and a 32-byte X25519 secret key (the form the 3.8 test
 * vectors give); fresh random ones without arguments.
 *
 * @example
 * ```ts
 * const fra = participantKeys(Buffer.from('000102…1f', 'hex'), Buffer.from('202122…3f', 'hex'));
 * keyIdOf(fra); // '548fba50e9ffd19c'
 * ```
 */
export function participantKeys(
  signingSeed: Uint8Array = randomBytes(32),
  encryptionSecretKey: Uint8Array = randomBytes(32),
): ParticipantKeys {
  const s = sodium();
  const signing = s.crypto_sign_seed_keypair(signingSeed);
  return {
    signingSecretKey: Buffer.from(signing.privateKey),
    signingPublicKey: Buffer.from(signing.publicKey),
    encryptionSecretKey: Buffer.from(encryptionSecretKey),
    encryptionPublicKey: Buffer.from(s.crypto_scalarmult_base(encryptionSecretKey)),
  };
}

/** `keys_digest` of a roster key (protocol 15.4): BLAKE2b-256(signing public key || encryption public key). */
export function keysDigest(signingPublicKey: Uint8Array, encryptionPublicKey: Uint8Array): Buffer {
  return blake2b256(signingPublicKey, encryptionPublicKey);
}

/** The key id (protocol 2.2): lowercase hex of the first 8 bytes of {@link keysDigest}. */
export function keyId(signingPublicKey: Uint8Array, encryptionPublicKey: Uint8Array): string {
  return keysDigest(signingPublicKey, encryptionPublicKey).subarray(0, 8).toString('hex');
}

/** The key id of a participant's keys. */
export function keyIdOf(keys: Pick<ParticipantKeys, 'signingPublicKey' | 'encryptionPublicKey'>): string {
  return keyId(keys.signingPublicKey, keys.encryptionPublicKey);
}
