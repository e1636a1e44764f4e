import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkScript, nextMessage, stopChild } from '../child.js';
import type { LookupComparison } from '../lookup-compare-worker.js';
import type { RecordsRun } from '../records-worker.js';
import type { Sizes } from '../sizes.js';
import { round, target, type Target } from '../stats.js';

export interface RecordsResult {
  readonly dataset: string;
  readonly runs: readonly RecordsRun[];
  /** Point lookups on the smallest and the largest store side by side (when more than one size ran). */
  readonly sideBySide?: LookupComparison;
  readonly targets: readonly Target[];
}

/**
 * Records (section 3): for each size, a generated CSV file imported through `importRecords` into
 * a real node's RecordStore on LevelDB, with store.sync off and (at the default size) on, each in
 * a fresh child process; then point lookups and wildcard searches through the node's Registry.
 * With more than one size, the stores of the smallest and the largest (sync off) are kept and
 * their point lookups are then measured side by side in one process (lookup-compare-worker.ts).
 */
export async function benchRecords(
  sizes: Sizes,
  dataset: (rows: number) => Promise<string>,
  log: (line: string) => void,
): Promise<RecordsResult> {
  const sizesRun = sizes.records.rows;
  const [smallest, largest] = [Math.min(...sizesRun), Math.max(...sizesRun)];
  const kept = smallest < largest ? await mkdtemp(join(tmpdir(), 'tracenet-bench-stores-')) : undefined;
  const keptDir = (rows: number) => (kept === undefined ? undefined : join(kept, String(rows)));
  try {
    const runs: RecordsRun[] = [];
    for (const rows of sizesRun) {
      const file = await dataset(rows);
      // Larger sizes are imported once, sync off: the scale question is whether lookups stay fast.
      const modes = rows !== sizesRun[0] || !sizes.records.syncOn ? ['off'] : ['off', 'on'];
      for (const mode of modes) {
        const keep = mode === 'off' && (rows === smallest || rows === largest) ? keptDir(rows) : undefined;
        const args = [
          file,
          String(rows),
          mode,
          String(sizes.records.lookups),
          String(sizes.records.wildcards),
          ...(keep === undefined ? [] : [keep]),
        ];
        const execArgv = process.env.BENCH_CPU_PROF
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
          : [];
        const result = await workerResult<RecordsRun>('records-worker.js', args, 3 * 3600_000, execArgv);
        runs.push(result);
        log(
          `  ${rows.toLocaleString('en')} rows, sync ${mode}: ${result.recordsPerSecond.toLocaleString('en')} records/s (${result.importSeconds} s, ${result.recordsPerCpuSecond.toLocaleString('en')}/CPU-s; store alone ${result.storeCeiling.recordsPerSecond.toLocaleString('en')}/s, ratio ${importRatio(result)}; CPU µs/record, main + other threads: import / store alone ${threadCpuText(result)}), ` +
            `lookup after import p50 ${result.pointLookupAfterImport.p50Ms} ms p99 ${result.pointLookupAfterImport.p99Ms} ms, settled (${result.settleSeconds} s, then ${readWarmupText([result.readWarmup])}) p50 ${result.pointLookup.p50Ms} ms p99 ${result.pointLookup.p99Ms} ms, prefix wildcard p50 ${result.prefixWildcard.p50Ms} ms, ` +
            `leading wildcard p50 ${result.leadingWildcard.p50Ms} ms, store ${result.storeMiB} MiB, RSS ${result.rssAfterImportMiB} MiB`,
        );
      }
    }
    let sideBySide: LookupComparison | undefined;
    if (kept !== undefined) {
      const args = [
        keptDir(smallest),
        smallest,
        keptDir(largest),
        largest,
        sizes.records.lookups,
        sizes.records.sideBySideWarmup,
      ].map(String);
      sideBySide = await workerResult<LookupComparison>('lookup-compare-worker.js', args, 3600_000);
      log(
        `  side by side (settled ${sideBySide.settleSeconds} s, then ${sideBySide.warmup.toLocaleString('en')} + ${readWarmupText([sideBySide.readWarmup.small, sideBySide.readWarmup.large])}): ${smallest.toLocaleString('en')} p50 ${sideBySide.small.p50Ms} ms p99 ${sideBySide.small.p99Ms} ms, ` +
          `${largest.toLocaleString('en')} p50 ${sideBySide.large.p50Ms} ms p99 ${sideBySide.large.p99Ms} ms: ${sideBySide.p99Ratio}×`,
      );
    }
    return {
      dataset:
        'generated CSV: 4 manufacturers in turn, unique serial per row, 1 import marking, 2 events (manufactured, exported), 10 % with a quoted note',
      runs,
      ...(sideBySide ? { sideBySide } : {}),
      targets: targets(sizesRun[0] ?? 0, runs, sideBySide),
    };
  } finally {
    if (kept !== undefined) await rm(kept, { recursive: true, force: true });
  }
}

/** What a worker sends as its result. A worker that fails or times out is stopped first, so that the store it may have kept can be removed. */
async function workerResult<T>(
  script: string,
  args: readonly string[],
  timeoutMs: number,
  execArgv: string[] = [],
): Promise<T> {
  const child = forkScript(script, args, { execArgv });
  try {
    return (await nextMessage<{ type: 'result'; result: T }>(child, 'result', timeoutMs)).result;
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** The import's records/s over the store alone's in the same run (issue 20: at least 0.6). */
export function importRatio(run: RecordsRun | undefined): number | undefined {
  return run === undefined ? undefined : round(run.recordsPerSecond / run.storeCeiling.recordsPerSecond, 2);
}

/**
 * CPU per record of the import and of the store alone, on the main thread (JavaScript) + the
 * process's other threads (LevelDB's compaction above all); empty for results of earlier runs.
 */
export function threadCpuText(run: RecordsRun): string {
  const i = run.importCpuPerRecord;
  const c = run.storeCeiling.cpuPerRecord;
  if (i === undefined || c === undefined) return '';
  return `${i.mainThread} + ${i.otherThreads} / ${c.mainThread} + ${c.otherThreads}`;
}

/** Warm-up lookups until reads compacted nothing (per store), and a note when the rounds ran out first. */
export function readWarmupText(warmups: ReadonlyArray<{ readonly lookups: number; readonly quiet: boolean }>): string {
  const counts = warmups.map((w) => w.lookups.toLocaleString('en')).join(' and ');
  return `${counts} lookups${warmups.every((w) => w.quiet) ? '' : ', reads still compacting'}`;
}

function targets(base: number, runs: readonly RecordsRun[], sideBySide: LookupComparison | undefined): Target[] {
  const at = (sync: boolean) => runs.find((r) => r.rows === base && r.storeSync === sync);
  const list: Target[] = [
    target(
      `import of ${base.toLocaleString('en')} records ÷ store alone in the same run, store.sync off`,
      importRatio(at(false)),
      '>=',
      0.6,
      '',
    ),
    target(
      `import of ${base.toLocaleString('en')} records ÷ store alone in the same run, store.sync on`,
      importRatio(at(true)),
      '>=',
      0.6,
      '',
    ),
    target(
      `point lookup p99 at ${base.toLocaleString('en')}, settled (ms)`,
      at(false)?.pointLookup.p99Ms,
      '<',
      1,
      ' ms',
    ),
  ];
  if (sideBySide?.largeRows === 10_000_000)
    list.push(
      target(
        `point lookup p99 at 10M ÷ p99 at ${round(sideBySide.smallRows / 1e6, 1)}M, side by side`,
        sideBySide.p99Ratio,
        '<=',
        2,
        '×',
      ),
    );
  return list;
}
