// `node scripts/totp.mjs <secret>`: the code an authenticator app shows now for a TOTP secret
// (base32, RFC 6238: HMAC-SHA-1, 6 digits, 30 s), for the demo's supervisors and administrators.
// `--watch` prints each new code until Ctrl-C. A demo aid: a real officer uses an authenticator app.
import { createHmac } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The bytes of a base32 secret (case, spaces and padding ignored). */
function base32Decode(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.toUpperCase().replace(/[\s=]/g, '')) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new TypeError(`not a base32 secret: ${JSON.stringify(char)} is not one of A-Z 2-7`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of `secret` at `atMs`. */
export function totpCode(secret, atMs = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Seconds until the code of now changes. */
export function secondsLeft(atMs = Date.now()) {
  return 30 - Math.floor((atMs / 1000) % 30);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const secret = args.find((a) => !a.startsWith('--'));
  if (!secret) {
    process.stderr.write('usage: node scripts/totp.mjs <base32 secret> [--watch]\n');
    process.exit(2);
  }
  const line = () => `${totpCode(secret)}  (changes in ${secondsLeft()} s)\n`;
  try {
    process.stdout.write(line());
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  if (args.includes('--watch')) {
    const next = () => setTimeout(() => (process.stdout.write(line()), next()), secondsLeft() * 1000 + 50);
    next();
  }
}
