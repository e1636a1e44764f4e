import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI_PATH, startLocalFederation } from '@tracenet/node/dev';
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
  const federation = await startLocalFederation({ participants: ['BEL'], baseDir: dir }).catch(
    async (error: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    },
  );
  try {
    const bel = federation.node('BEL');
    await settle(2000);
    const idle = residentMiB(bel.runtime.pid);
    const t0 = performance.now();
    const stopSampling = sampleResident(bel.runtime.pid);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI_PATH, 'records', 'import', file, '--data', bel.dataDir, '--json'],
      { maxBuffer: 64 * 2 ** 20 },
    );
    const seconds = (performance.now() - t0) / 1000;
    const summary = JSON.parse(stdout) as { rowsImported: number };
    if (summary.rowsImported !== sizes.memoryRows)
      throw new Error(`the node imported ${summary.rowsImported} of ${sizes.memoryRows} rows`);
    await settle(2000);
    const peakParts = stopSampling();
    const after = residentMiB(bel.runtime.pid);
    log(
      `  node RSS idle ${idle.rssMiB} MiB, after importing ${sizes.memoryRows.toLocaleString('en')} records ${after.rssMiB} MiB (peak ${after.peakMiB} MiB; largest parts sampled: anonymous ${peakParts.anonMiB}, file-backed ${peakParts.fileMiB} MiB); API import ${round(summary.rowsImported / seconds, 0)} records/s`,
    );
    return {
      rows: sizes.memoryRows,
      idleRssMiB: idle.rssMiB,
      afterImportRssMiB: after.rssMiB,
      peakRssMiB: after.peakMiB,
      peakParts,
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
      ],
    };
  } finally {
    await federation.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
