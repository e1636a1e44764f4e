import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI_PATH, startLocalFederation } from '@tracenet/node/dev';
import type { FullCollection } from '../gc-probe.js';
import { residentMiB, sampleResident } from '../proc.js';
import type { Sizes } from '../sizes.js';
import { round, target, type Target } from '../stats.js';

export interface MemoryResult {
  readonly rows: number;
  readonly idleRssMiB: number;
  readonly afterImportRssMiB: number;
  readonly peakRssMiB: number;
  /**
   * The largest anonymous (heaps) and file-backed (mapped files: the executable, LevelDB's tables)
   * parts of the RSS seen during the import and the wait after it, sampled every 100 ms: what the
   * peak was made of. Absent in results from before 2026-12-06.
   */
  readonly peakParts?: { readonly anonMiB: number; readonly fileMiB: number };
  /**
   * V8's heap in use after each full collection during the import (bench/src/gc-probe.ts in the
   * node): how many there were, their range, the largest heap before one, and the lowest after one
   * in the import's first and second half — what the node held at least, garbage and the batches
   * in flight aside. Absent in results from before 2026-12-06; null where there was no full
   * collection to measure (smoke sizes).
   */
  readonly liveHeap?: {
    readonly fullCollections: number;
    readonly afterMinMiB: number | null;
    readonly afterMaxMiB: number | null;
    readonly beforeMaxMiB: number | null;
    readonly firstHalfMiB: number | null;
    readonly secondHalfMiB: number | null;
  };
  /** The import through the Authority API (`tracenet records import`, a separate CLI process streaming the file). */
  readonly apiImportSeconds: number;
  readonly apiRecordsPerSecond: number;
  readonly targets: readonly Target[];
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Memory (section 6): resident memory of a real node process (`tracenet start`, default config,
 * store.sync on) idle after start, then after `tracenet records import` of the generated file
 * through its Records API. RSS from /proc/<pid>/status (VmRSS; VmHWM for the peak), and the
 * largest anonymous and file-backed parts sampled during the import ({@link sampleResident}).
 */
export async function benchMemory(
  sizes: Sizes,
  dataset: (rows: number) => Promise<string>,
  log: (line: string) => void,
): Promise<MemoryResult> {
  const file = await dataset(sizes.memoryRows);
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-bench-memory-'));
  const probeOut = join(dir, 'full-collections.json');
  const nodeOptions = [process.env.NODE_OPTIONS, `--import ${new URL('../gc-probe.js', import.meta.url).href}`];
  const federation = await startLocalFederation({
    participants: ['BEL'],
    baseDir: dir,
    nodeEnv: { BEL: { NODE_OPTIONS: nodeOptions.filter(Boolean).join(' '), TRACENET_BENCH_GC_OUT: probeOut } },
  }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  try {
    const bel = federation.node('BEL');
    await settle(2000);
    const idle = residentMiB(bel.runtime.pid);
    const t0 = performance.now();
    const importStartMs = Date.now();
    const stopSampling = sampleResident(bel.runtime.pid);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI_PATH, 'records', 'import', file, '--data', bel.dataDir, '--json'],
      { maxBuffer: 64 * 2 ** 20 },
    );
    const seconds = (performance.now() - t0) / 1000;
    const importEndMs = Date.now();
    const summary = JSON.parse(stdout) as { rowsImported: number };
    if (summary.rowsImported !== sizes.memoryRows)
      throw new Error(`the node imported ${summary.rowsImported} of ${sizes.memoryRows} rows`);
    await settle(2000);
    const peakParts = stopSampling();
    const after = residentMiB(bel.runtime.pid);
    // The probe writes its file as the node exits.
    await federation.stop();
    const liveHeap = fullCollectionsDuring(
      JSON.parse(await readFile(probeOut, 'utf8')) as FullCollection[],
      importStartMs,
      importEndMs,
    );
    const flat =
      liveHeap.firstHalfMiB === null || liveHeap.secondHalfMiB === null
        ? null
        : round(liveHeap.secondHalfMiB / liveHeap.firstHalfMiB, 2);
    log(
      `  node RSS idle ${idle.rssMiB} MiB, after importing ${sizes.memoryRows.toLocaleString('en')} records ${after.rssMiB} MiB (peak ${after.peakMiB} MiB; largest parts sampled: anonymous ${peakParts.anonMiB}, file-backed ${peakParts.fileMiB} MiB); API import ${round(summary.rowsImported / seconds, 0)} records/s`,
    );
    log(
      `  V8 heap after the import's ${liveHeap.fullCollections} full collections ${liveHeap.afterMinMiB ?? '-'}–${liveHeap.afterMaxMiB ?? '-'} MiB (before them up to ${liveHeap.beforeMaxMiB ?? '-'}); lowest in the first half ${liveHeap.firstHalfMiB ?? '-'}, in the second ${liveHeap.secondHalfMiB ?? '-'} MiB`,
    );
    return {
      rows: sizes.memoryRows,
      idleRssMiB: idle.rssMiB,
      afterImportRssMiB: after.rssMiB,
      peakRssMiB: after.peakMiB,
      peakParts,
      liveHeap,
      apiImportSeconds: round(seconds, 2),
      apiRecordsPerSecond: round(summary.rowsImported / seconds, 0),
      targets: [
        target(
          `node RSS after importing ${sizes.memoryRows.toLocaleString('en')} records`,
          after.rssMiB,
          '<',
          300,
          ' MiB',
        ),
        target(`node peak RSS during the import`, after.peakMiB, '<', 300, ' MiB'),
        target(
          `V8 heap after full collections (memory flat): lowest in the import's second half ÷ first half`,
          flat,
          '<=',
          1.1,
          '',
        ),
      ],
    };
  } finally {
    await federation.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The full collections seen between `startMs` and `endMs`: V8's heap after them (what the node
 * holds, garbage gone) and before them, and the lowest after them in each half of that time (the
 * highest ones also hold objects that were in use as the collection began). A node that kept
 * something of every row would show a second half above the first.
 */
export function fullCollectionsDuring(
  collections: readonly FullCollection[],
  startMs: number,
  endMs: number,
): NonNullable<MemoryResult['liveHeap']> {
  const during = collections.filter((c) => c.atMs >= startMs && c.atMs <= endMs);
  const middle = (startMs + endMs) / 2;
  const lowest = (values: readonly number[]) => (values.length === 0 ? null : Math.min(...values));
  const highest = (values: readonly number[]) => (values.length === 0 ? null : Math.max(...values));
  const after = during.map((c) => c.afterMiB);
  return {
    fullCollections: during.length,
    afterMinMiB: lowest(after),
    afterMaxMiB: highest(after),
    beforeMaxMiB: highest(during.map((c) => c.beforeMiB)),
    firstHalfMiB: lowest(during.filter((c) => c.atMs < middle).map((c) => c.afterMiB)),
    secondHalfMiB: lowest(during.filter((c) => c.atMs >= middle).map((c) => c.afterMiB)),
  };
}
