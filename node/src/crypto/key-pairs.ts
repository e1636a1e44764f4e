import { sodium, blake2b256, toBuffer } from './sodium.js';

/** A participant's long-term keys: Ed25519 for signatures, X25519 for encryption. */
export interface KeyPairs {
  readonly signingPublicKey: Buffer;
  /** libsodium's 64-byte Ed25519 secret key (seed followed by public key). */
  readonly signingSecretKey: Buffer;
  readonly encryptionPublicKey: Buffer;
  readonly encryptionSecretKey: Buffer;
}

/** Generates fresh signing and encryption key pairs. */
export function generateKeyPairs(): KeyPairs {
  const s = sodium();
  const signing = s.crypto_sign_keypair();
  const encryption = s.crypto_box_keypair();
  return {
    signingPublicKey: toBuffer(signing.publicKey),
    signingSecretKey: toBuffer(signing.privateKey),
    encryptionPublicKey: toBuffer(encryption.publicKey),
    encryptionSecretKey: toBuffer(encryption.privateKey),
  };
}

/** Rebuilds key pairs from the two secret keys (public keys are derived, never stored apart). */
export function keyPairsFromSecrets(signingSecretKey: Uint8Array, encryptionSecretKey: Uint8Array): KeyPairs {
  const s = sodium();
  if (signingSecretKey.length !== s.crypto_sign_SECRETKEYBYTES) throw new Error('signing key must be 64 bytes');
  if (encryptionSecretKey.length !== s.crypto_box_SECRETKEYBYTES) throw new Error('encryption key must be 32 bytes');
  // libsodium's secret key is seed || public key; rebuild from the seed so a damaged file is caught.
  const signing = s.crypto_sign_seed_keypair(signingSecretKey.subarray(0, 32));
  if (!Buffer.from(signing.privateKey).equals(Buffer.from(signingSecretKey)))
    throw new Error('signing key file is damaged');
  return {
    signingPublicKey: toBuffer(signing.publicKey),
    signingSecretKey: toBuffer(signingSecretKey),
    encryptionPublicKey: toBuffer(s.crypto_scalarmult_base(encryptionSecretKey)),
    encryptionSecretKey: toBuffer(encryptionSecretKey),
  };
}

/**
 * Key id: lowercase hex of the first 8 bytes of BLAKE2b-256(signing public key || encryption
 * public key). It names a pair of keys in headers, receipts and cards.
 */
export function keyIdOf(signingPublicKey: Uint8Array, encryptionPublicKey: Uint8Array): string {
  return blake2b256(signingPublicKey, encryptionPublicKey).subarray(0, 8).toString('hex');
}
