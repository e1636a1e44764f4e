/**
 * Child process of the records benchmark (section 3): point lookups on two stores side by side.
 * Opens the data directories that two records runs left behind (a small and a large store) as two
 * real nodes in this one process, waits for LevelDB's compaction to settle, warms both up until
 * the compactions those reads set off have ended too, then alternates one lookup on each: both
 * stores see the same moments of the machine's load, so the ratio of their p99s measures the
 * store's size rather than the neighbours of a shared VM.
 * Args: <small dir> <small rows> <large dir> <large rows> <lookups> <warm-up lookups>. Sends one
 * `{ type: 'result' }` message.
 */
import { initSodium, loadConfig, TracenetNode } from '@tracenet/node';
import { compactionSettled, pointLookup, pointLookups, readCompactionsSettled } from './lookups.js';
import { latency, round, type Latency } from './stats.js';

export interface LookupComparison {
  readonly smallRows: number;
  readonly largeRows: number;
  /** Lookups on each store before the measured ones (LevelDB opens its table files on first use). */
  readonly warmup: number;
  /** The lookups on each store after those, until the compactions they set off had ended (records-worker.ts). */
  readonly readWarmup: {
    readonly small: { readonly lookups: number; readonly quiet: boolean };
    readonly large: { readonly lookups: number; readonly quiet: boolean };
  };
  /** Seconds from opening both stores until their compaction had settled. */
  readonly settleSeconds: number;
  readonly small: Latency;
  readonly large: Latency;
  /** p99 of the large store ÷ p99 of the small one. */
  readonly p99Ratio: number;
}

async function main(): Promise<LookupComparison> {
  const [smallDir, smallRowsArg, largeDir, largeRowsArg, lookupsArg, warmupArg] = process.argv.slice(2);
  const smallRows = Number(smallRowsArg);
  const largeRows = Number(largeRowsArg);
  const lookups = Number(lookupsArg);
  const warmup = Number(warmupArg);
  await initSodium();
  const config = await loadConfig({ overrides: { 'store.sync': false, 'log.level': 'silent', 'metrics.listen': '' } });
  const small = await TracenetNode.open({ dataDir: smallDir ?? '', config });
  try {
    const large = await TracenetNode.open({ dataDir: largeDir ?? '', config });
    try {
      const settleSeconds = await compactionSettled();
      await pointLookups(small, smallRows, 1, warmup);
      await pointLookups(large, largeRows, 1, warmup);
      // Then until the compactions those reads set off have ended (records-worker.ts does the same).
      const readFrom = 1 + warmup + lookups;
      const readWarmup = {
        small: await readCompactionsSettled(small, smallRows, readFrom, lookups, 12),
        large: await readCompactionsSettled(large, largeRows, readFrom, lookups, 12),
      };
      const smallTimes: number[] = [];
      const largeTimes: number[] = [];
      for (let k = 1 + warmup; k < 1 + warmup + lookups; k += 1) {
        smallTimes.push(await pointLookup(small, smallRows, k));
        largeTimes.push(await pointLookup(large, largeRows, k));
      }
      const s = latency(smallTimes);
      const l = latency(largeTimes);
      return {
        smallRows,
        largeRows,
        warmup,
        readWarmup,
        settleSeconds: round(settleSeconds, 1),
        small: s,
        large: l,
        p99Ratio: round(l.p99Ms / s.p99Ms, 2),
      };
    } finally {
      await large.stop();
    }
  } finally {
    await small.stop();
  }
}

main().then(
  (result) => process.send?.({ type: 'result', result }, () => process.exit(0)),
  (error: unknown) => {
    process.send?.(
      { type: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) },
      () => process.exit(1),
    );
  },
);
