import { ErrorCode, TracenetError } from '@tracenet/proto';
import { blake2b256, domain, sodium } from '../crypto/sodium.js';

const PAIR_KEY_DOMAIN = domain('tracenet.v1/pair-key');

/**
 * The symmetric key that only two participants share: BLAKE2b-256 over the domain label, the
 * X25519 shared secret and both public keys in byte order. Both sides compute the same key, so
 * the envelope header is authenticated with one AEAD check and no signature work.
 */
export function derivePairKey(mySecretKey: Uint8Array, myPublicKey: Uint8Array, peerPublicKey: Uint8Array): Buffer {
  const s = sodium();
  const lowOrder = (cause?: unknown) =>
    new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, 'encryption key is a low-order point', {
      field: 'card.encryption_public_key',
      rule: 'x25519_low_order',
      cause,
    });
  let shared: Uint8Array;
  try {
    // libsodium refuses low-order points itself ("weak public key"); report it as a bad card.
    shared = s.crypto_scalarmult(mySecretKey, peerPublicKey);
  } catch (cause) {
    throw lowOrder(cause);
  }
  // Stryker disable next-line ConditionalExpression,ArrowFunction: defence in depth, equivalent with this libsodium, which refuses every low-order point itself (above)
  if (shared.every((b) => b === 0)) throw lowOrder();
  // Stryker disable EqualityOperator: equivalent: the two keys compare equal only when they are the same key, and then either order gives the same bytes
  const [low, high] =
    Buffer.compare(Buffer.from(myPublicKey), Buffer.from(peerPublicKey)) <= 0
      ? [myPublicKey, peerPublicKey]
      : [peerPublicKey, myPublicKey];
  // Stryker restore EqualityOperator
  const key = blake2b256(PAIR_KEY_DOMAIN, shared, low, high);
  s.memzero(shared);
  return key;
}

/**
 * Caches pair keys per peer encryption key: one X25519 operation per peer instead of one per
 * message.
 */
export class PairKeyCache {
  readonly #keys = new Map<string, Buffer>();

  constructor(
    private readonly mySecretKey: Uint8Array,
    private readonly myPublicKey: Uint8Array,
  ) {}

  get(peerPublicKey: Uint8Array): Buffer {
    const id = Buffer.from(peerPublicKey).toString('hex');
    let key = this.#keys.get(id);
    if (!key) {
      key = derivePairKey(this.mySecretKey, this.myPublicKey, peerPublicKey);
      this.#keys.set(id, key);
    }
    return key;
  }
}
