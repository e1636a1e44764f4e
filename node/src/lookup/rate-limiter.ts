import type { Clock } from '../util/clock.js';

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * Token buckets, one per peer: a bucket holds up to `perMinute` tokens, refills continuously at
 * `perMinute` per minute, and each request takes one. A peer may therefore burst its whole
 * minute's allowance, then goes at the steady rate. Buckets live in memory: a restart refills
 * them (docs/protocol.md 13.8). The rate is read at every call, so a policy change applies at once.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter(clock);
 * if (!limiter.take('FRA', 60)) throw rateLimited();
 * ```
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(private readonly clock: Clock) {}

  /** Takes a token from `key`'s bucket; false when it is empty. */
  take(key: string, perMinute: number): boolean {
    const now = this.clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: perMinute, atMs: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (Math.max(0, now - bucket.atMs) * perMinute) / 60_000);
    bucket.atMs = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Milliseconds until `key`'s bucket holds a token again (0 when it holds one). */
  waitMs(key: string, perMinute: number): number {
    const bucket = this.#buckets.get(key);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.ceil(((1 - bucket.tokens) * 60_000) / perMinute);
  }
}
