import { forkScript, nextMessage } from '../child.js';
import type { RecordsRun } from '../records-worker.js';
import type { Sizes } from '../sizes.js';
import { round, target, type Target } from '../stats.js';

export interface RecordsResult {
  readonly dataset: string;
  readonly runs: readonly RecordsRun[];
  readonly targets: readonly Target[];
}

/**
 * Records (section 3): for each size, a generated CSV file imported through `importRecords` into
 * a real node's RecordStore on LevelDB, with store.sync off and (at the default size) on, each in
 * a fresh child process; then point lookups and wildcard searches through the node's Registry.
 */
export async function benchRecords(sizes: Sizes, dataset: (rows: number) => Promise<string>, log: (line: string) => void): Promise<RecordsResult> {
  const runs: RecordsRun[] = [];
  for (const rows of sizes.records.rows) {
    const file = await dataset(rows);
    // 10M rows are imported once, sync off: the scale question is whether lookups stay fast.
    const modes = rows > 1_000_000 || !sizes.records.syncOn ? ['off'] : ['off', 'on'];
    for (const mode of modes) {
      const child = forkScript('records-worker.js', [file, String(rows), mode, String(sizes.records.lookups), String(sizes.records.wildcards)], {
        execArgv: process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [],
      });
      const { result } = await nextMessage<{ type: 'result'; result: RecordsRun }>(child, 'result', 3 * 3600_000);
      runs.push(result);
      log(
        `  ${rows.toLocaleString('en')} rows, sync ${mode}: ${result.recordsPerSecond.toLocaleString('en')} records/s (${result.importSeconds} s, ${result.recordsPerCpuSecond.toLocaleString('en')}/CPU-s; store alone ${result.storeCeiling.recordsPerSecond.toLocaleString('en')}/s), ` +
          `lookup after import p50 ${result.pointLookupAfterImport.p50Ms} ms p99 ${result.pointLookupAfterImport.p99Ms} ms, settled (${result.settleSeconds} s) p50 ${result.pointLookup.p50Ms} ms p99 ${result.pointLookup.p99Ms} ms, prefix wildcard p50 ${result.prefixWildcard.p50Ms} ms, ` +
          `leading wildcard p50 ${result.leadingWildcard.p50Ms} ms, store ${result.storeMiB} MiB, RSS ${result.rssAfterImportMiB} MiB`,
      );
    }
  }
  const at = (rows: number, sync: boolean) => runs.find((r) => r.rows === rows && r.storeSync === sync);
  const base = sizes.records.rows[0] ?? 0;
  const off = at(base, false);
  const on = at(base, true);
  const big = at(10_000_000, false);
  const targets: Target[] = [
    target(`import of ${base.toLocaleString('en')} records, store.sync off (records/s)`, off?.recordsPerSecond, '>=', 50_000, ''),
    target(`import of ${base.toLocaleString('en')} records, store.sync on (records/s)`, on?.recordsPerSecond, '>=', 50_000, ''),
    target(`point lookup p99 at ${base.toLocaleString('en')}, settled (ms)`, off?.pointLookup.p99Ms, '<', 1, ' ms'),
  ];
  if (big && off) targets.push(target('point lookup p99 at 10M ÷ p99 at 1M', round(big.pointLookup.p99Ms / off.pointLookup.p99Ms, 2), '<=', 2, '×'));
  return { dataset: 'generated CSV: 4 manufacturers in turn, unique serial per row, 1 import marking, 2 events (manufactured, exported), 10 % with a quoted note', runs, targets };
}
