import { randomFillSync } from 'node:crypto';
import sodiumModule from 'libsodium-wrappers';

let initialised = false;

/**
 * Loads libsodium's WASM once. Every node, CLI command and test calls it before any crypto;
 * afterwards {@link sodium} is synchronous.
 */
export async function initSodium(): Promise<void> {
  if (initialised) return;
  await sodiumModule.ready;
  initialised = true;
}

/** The initialised libsodium API. Throws if {@link initSodium} has not completed. */
export function sodium(): typeof sodiumModule {
  if (!initialised) throw new Error('libsodium is not initialised: await initSodium() first');
  return sodiumModule;
}

/**
 * Random bytes from Node's CSPRNG. libsodium.js draws randomness one byte at a time through a
 * JavaScript callback (about 11k calls/s); Node's is two orders of magnitude faster.
 */
export function randomBytes(length: number): Buffer {
  return randomFillSync(Buffer.alloc(length));
}

/** BLAKE2b with a 32-byte output over the concatenation of `parts`. */
export function blake2b256(...parts: Uint8Array[]): Buffer {
  const s = sodium();
  const state = s.crypto_generichash_init(null, 32);
  for (const part of parts) s.crypto_generichash_update(state, part);
  return toBuffer(s.crypto_generichash_final(state, 32));
}

/** A Buffer view of a Uint8Array without copying. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Big-endian u32 length prefix, as used in every signed and hashed construction. */
export function u32be(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

/** Domain-separation prefix: the ASCII label followed by one zero byte. */
export function domain(label: string): Buffer {
  return Buffer.concat([Buffer.from(label, 'ascii'), Buffer.alloc(1)]);
}
