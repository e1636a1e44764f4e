/**
 * Ed25519 signatures made by Node's `crypto` (crypto/ed25519.ts) are the ones libsodium makes: the
 * receipts, audit heads and checkpoints a node signs must not change by a byte (docs/protocol.md
 * 3.4, 5.2, 8.4) whichever library computed them.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { signDetached } from '../../src/crypto/ed25519.js';
import { initSodium, sodium } from '../../src/crypto/sodium.js';

beforeAll(initSodium);

it('signs byte for byte as libsodium, on 2,000 random keys and messages of every size up to 4 KiB', () => {
  const s = sodium();
  for (let i = 0; i < 2000; i += 1) {
    const { privateKey, publicKey } = s.crypto_sign_seed_keypair(randomBytes(32));
    const message = randomBytes(i % 7 === 0 ? 0 : (i * 37) % 4097);
    const signature = signDetached(message, privateKey);
    expect(signature.equals(Buffer.from(s.crypto_sign_detached(message, privateKey)))).toBe(true);
    expect(s.crypto_sign_verify_detached(signature, message, publicKey)).toBe(true);
  }
});

it('signs with the key it is given and refuses a key that is not 64 bytes', () => {
  const s = sodium();
  const message = randomBytes(100);
  const first = s.crypto_sign_seed_keypair(randomBytes(32));
  const second = s.crypto_sign_seed_keypair(randomBytes(32));
  expect(signDetached(message, first.privateKey)).toEqual(
    Buffer.from(s.crypto_sign_detached(message, first.privateKey)),
  );
  expect(signDetached(message, second.privateKey)).toEqual(
    Buffer.from(s.crypto_sign_detached(message, second.privateKey)),
  );
  expect(signDetached(message, first.privateKey)).not.toEqual(signDetached(message, second.privateKey));
  expect(() => signDetached(message, first.privateKey.subarray(0, 32))).toThrow(RangeError);
});
