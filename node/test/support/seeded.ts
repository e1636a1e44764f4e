/**
 * mulberry32: a small seeded generator of numbers in [0, 1), enough to replay a randomised test
 * from the seed it prints.
 *
 * @example
 * ```ts
 * const next = seeded(42);
 * const roll = Math.floor(next() * 6) + 1;
 * ```
 */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
