import { createPrivateKey, type KeyObject, sign } from 'node:crypto';

/** DER prefix of a PKCS #8 Ed25519 private key (RFC 8410) before its 32-byte seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Node key objects of the secret keys signed with, by the array that holds the key. */
const privateKeys = new WeakMap<Uint8Array, KeyObject>();

/**
 * The Node key object of a libsodium Ed25519 secret key (64 bytes: the seed, then the public
 * key). Made once per key array: a node signs with the few arrays of its own key sets.
 */
function privateKeyOf(secretKey: Uint8Array): KeyObject {
  let key = privateKeys.get(secretKey);
  if (!key) {
    if (secretKey.length !== 64) throw new RangeError('an Ed25519 secret key is 64 bytes');
    const der = Buffer.concat([PKCS8_ED25519_PREFIX, secretKey.subarray(0, 32)]);
    key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    privateKeys.set(secretKey, key);
  }
  return key;
}

/**
 * Ed25519 signature of `message` with a libsodium secret key, computed by Node's own `crypto`
 * (OpenSSL). Ed25519 is deterministic (RFC 8032): the signature is byte for byte the one
 * libsodium's `crypto_sign_detached` makes from the same seed — a test compares the two on many
 * random keys and messages — at about two thirds of the CPU time of the WASM build
 * (libsodium-wrappers), which a node pays for every receipt and every audit group commit.
 *
 * @example
 * ```ts
 * const signature = signDetached(Buffer.concat([RECEIPT_DOMAIN, bytes]), own.keys.signingSecretKey);
 * ```
 */
export function signDetached(message: Uint8Array, secretKey: Uint8Array): Buffer {
  return sign(null, message, privateKeyOf(secretKey));
}
