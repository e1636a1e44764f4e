import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** HMAC algorithms of RFC 6238 (section 1.2). */
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** How codes are made: authenticator apps use the defaults (SHA-1, 6 digits, 30 s). */
export interface TotpOptions {
  readonly algorithm?: TotpAlgorithm;
  readonly digits?: number;
  readonly stepSeconds?: number;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding, as otpauth:// URIs carry secrets. */
export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case and padding ignored); throws on another character. */
export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/=+$/, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of clean) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new TypeError('not a base32 string');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new random TOTP secret (20 bytes, base32), as RFC 4226 recommends for SHA-1. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

/** The HOTP value (RFC 4226 section 5.3) of `counter`, with `digits` digits, zero-padded. */
export function hotp(key: Uint8Array, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0xf;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step of `atMs` (RFC 6238 section 4.2, T0 = 0). */
export function totpStep(atMs: number, stepSeconds = 30): number {
  return Math.floor(atMs / 1000 / stepSeconds);
}

/**
 * The TOTP code (RFC 6238) of `key` at `atMs`.
 *
 * @example
 * ```ts
 * totp(Buffer.from('12345678901234567890'), 59_000, { digits: 8 }); // '94287082' (RFC 6238 appendix B)
 * ```
 */
export function totp(key: Uint8Array, atMs: number, options: TotpOptions = {}): string {
  return hotp(key, totpStep(atMs, options.stepSeconds), options.digits ?? 6, options.algorithm ?? 'sha1');
}

/**
 * The time step at which `code` is valid for the base32 `secret`, looking one step either side of
 * `atMs` (clock drift, RFC 6238 section 5.2), or undefined. Steps at or before `afterStep` are not
 * accepted, so that an observed code cannot be replayed.
 */
export function matchTotp(
  secret: string,
  code: string,
  atMs: number,
  afterStep: number,
  options: TotpOptions = {},
): number | undefined {
  const digits = options.digits ?? 6;
  if (!new RegExp(`^[0-9]{${digits}}$`).test(code)) return undefined;
  const key = base32Decode(secret);
  const now = totpStep(atMs, options.stepSeconds);
  let found: number | undefined;
  for (const step of [now - 1, now, now + 1]) {
    const expected = Buffer.from(hotp(key, step, digits, options.algorithm ?? 'sha1'));
    // Every candidate is compared, in constant time, whatever matched before.
    if (timingSafeEqual(expected, Buffer.from(code)) && step > afterStep && found === undefined) found = step;
  }
  return found;
}

/** The otpauth:// URI an authenticator app reads (as a QR code) for `secret`. */
export function totpUri(secret: string, account: string, issuer: string): string {
  const label = encodeURIComponent(`${issuer}:${account}`);
  return `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`;
}
