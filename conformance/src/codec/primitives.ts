import { randomFillSync } from 'node:crypto';
import sodiumModule from 'libsodium-wrappers';

/**
 * The primitives of docs/protocol.md section 0, on libsodium-wrappers, written for the suite from
 * the spec alone: the suite judges a node with its own code, so that a change to a domain label,
 * an associated datum or a digest in the node cannot pass unnoticed on both sides.
 */

let ready = false;

/** Loads libsodium's WASM once; every codec function needs it. */
export async function initCodec(): Promise<void> {
  if (ready) return;
  await sodiumModule.ready;
  ready = true;
}

/** The initialised libsodium API (after {@link initCodec}). */
export function sodium(): typeof sodiumModule {
  if (!ready) throw new Error('the conformance codec is not initialised: await initCodec() first');
  return sodiumModule;
}

/** `D(label)`: the ASCII bytes of `label` followed by one 0x00 byte (protocol 0). */
export function domainLabel(label: string): Buffer {
  return Buffer.concat([Buffer.from(label, 'ascii'), Buffer.from([0])]);
}

/** `u32be(n)` (protocol 0). */
export function u32be(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
}

/** `u64be(n)` (protocol 0), for non-negative safe integers. */
export function u64be(n: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(n));
  return out;
}

/** `BLAKE2b-256(parts…)`: unkeyed BLAKE2b with a 32-byte output length parameter (protocol 0). */
export function blake2b256(...parts: Uint8Array[]): Buffer {
  return Buffer.from(sodium().crypto_generichash(32, Buffer.concat(parts), null));
}

/** Random bytes from Node's CSPRNG (nonces, ids). */
export function randomBytes(length: number): Buffer {
  return randomFillSync(Buffer.alloc(length));
}

/** Ed25519 detached signature of `message` (RFC 8032, libsodium `crypto_sign_detached`). */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Buffer {
  return Buffer.from(sodium().crypto_sign_detached(message, secretKey));
}

/** Whether `signature` is 64 bytes and verifies `message` under `publicKey` (libsodium's rules). */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return sodium().crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}
