/** How big each section's run is: the default run, the CI smoke run, and the scale runs. */
export interface Sizes {
  readonly name: 'smoke' | 'default';
  /** Secure delivery vs raw gRPC: concurrency levels and requests per level (after warm-up). */
  readonly delivery: {
    readonly levels: readonly number[];
    readonly requests: Readonly<Record<number, number>>;
    readonly warmup: number;
    readonly bodyBytes: number;
  };
  /** Envelope seal/open: milliseconds per operation kind. */
  readonly envelopeMs: number;
  /**
   * Records: rows imported (the first size also with store.sync on when `syncOn`), point lookups,
   * wildcard searches, and the warm-up lookups on each store before the side-by-side lookups of
   * the smallest and largest store (when more than one size is imported).
   */
  readonly records: {
    readonly rows: readonly number[];
    readonly lookups: number;
    readonly wildcards: number;
    readonly syncOn: boolean;
    readonly sideBySideWarmup: number;
  };
  /** Trace chains FRA → BEL (referred) → KEN (traced). */
  readonly chains: number;
  /**
   * Federated lookup: participants asked on loopback, participants asked again through latency
   * proxies adding `addedRttMs` per round trip, lookups measured per run, responder processes.
   */
  readonly fanout: {
    readonly participants: readonly number[];
    readonly delayed: readonly number[];
    readonly addedRttMs: number;
    readonly lookups: number;
    readonly workers: number;
  };
  /** Memory: rows imported into a real node process through the Records API. */
  readonly memoryRows: number;
  /** Console over a slow link: page loads of each kind, and incoming requests in the officer's inbox. */
  readonly console: { readonly runs: number; readonly inboxCases: number };
}

export const DEFAULT_SIZES: Sizes = {
  name: 'default',
  delivery: { levels: [1, 16, 64], requests: { 1: 1500, 16: 6000, 64: 6000 }, warmup: 1500, bodyBytes: 1024 },
  envelopeMs: 2000,
  // 10,000 warm-up lookups read each of a 10M store's ~1,150 record tables about 9 times on average,
  // so all but a table or so of its ~1,400 files have been opened (an estimate, not counted).
  records: { rows: [1_000_000], lookups: 5000, wildcards: 20, syncOn: true, sideBySideWarmup: 10_000 },
  // A p99 of n samples is the maximum when n < 100: 200 chains make it the third slowest.
  chains: 200,
  // 100 lookups: the p99 is the second slowest, not the maximum.
  fanout: { participants: [50], delayed: [], addedRttMs: 150, lookups: 100, workers: 2 },
  memoryRows: 1_000_000,
  console: { runs: 5, inboxCases: 30 },
};

export const SMOKE_SIZES: Sizes = {
  name: 'smoke',
  delivery: { levels: [1, 16, 64], requests: { 1: 40, 16: 160, 64: 160 }, warmup: 20, bodyBytes: 1024 },
  envelopeMs: 100,
  // Two sizes, so that the side-by-side lookups run too.
  records: { rows: [2_000, 4_000], lookups: 200, wildcards: 3, syncOn: true, sideBySideWarmup: 100 },
  chains: 2,
  fanout: { participants: [3], delayed: [3], addedRttMs: 150, lookups: 3, workers: 1 },
  memoryRows: 2_000,
  console: { runs: 1, inboxCases: 3 },
};

/** `--scale 10m` adds a 10,000,000-row import; `--scale 193` a lookup to 193 participants; `--scale` alone both. */
export function withScale(sizes: Sizes, scale: readonly string[]): Sizes {
  const records = scale.includes('10m')
    ? { ...sizes.records, rows: [...sizes.records.rows, 10_000_000] }
    : sizes.records;
  const fanout = scale.includes('193')
    ? { ...sizes.fanout, participants: [...sizes.fanout.participants, 193], delayed: [...sizes.fanout.delayed, 193] }
    : sizes.fanout;
  return { ...sizes, records, fanout };
}
