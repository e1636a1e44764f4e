import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ErrorCode, TracenetError } from '@tracenet/proto';

/**
 * Cost of scrypt (RFC 7914), memory-hard: N · r · 128 bytes = 32 MiB per hash with the defaults,
 * so that a stolen store's hashes are slow to guess on any hardware. Tests may lower N.
 */
export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** The cost of new hashes: N = 2^15, r = 8, p = 1 (OWASP's minimum for scrypt). */
export const DEFAULT_SCRYPT_COST: ScryptCost = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

/** Shortest password accepted for an account. */
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_LENGTH,
      { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

/**
 * Throws INVALID_FIELD (`password`, rule `password_length`) for a password that is too short or
 * too long; the message never repeats the password.
 */
export function checkPasswordStrength(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `a password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
      { field, rule: 'password_length' },
    );
}

/**
 * Hashes a password with scrypt and a random 16-byte salt, as
 * `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>` (the parameters travel with the hash, so the
 * cost can be raised later without breaking stored accounts).
 *
 * @example
 * ```ts
 * const stored = await hashPassword('correct horse battery staple');
 * await verifyPassword('correct horse battery staple', stored); // true
 * ```
 */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/** Whether `password` matches `stored` ({@link hashPassword}); compares in constant time. False for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (password.length > MAX_PASSWORD_LENGTH || expected.length !== KEY_LENGTH) return false;
  const actual = await derive(password, salt, { N, r, p });
  return timingSafeEqual(actual, expected);
}
