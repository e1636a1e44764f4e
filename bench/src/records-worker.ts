/**
 * Child process of the records benchmark (section 3): one real node's record store and registry
 * (`TracenetNode.open`, real LevelDB, no ports), so that each import starts from an empty store
 * and a fresh heap. Args: <csv file> <rows> <sync on|off> <lookups> <wildcards> [<keep>]: with
 * <keep>, the node's data directory is created there and left for the side-by-side lookups
 * (lookup-compare-worker.ts). Sends one `{ type: 'result' }` message.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importRecords, loadConfig, initDataDir, initSodium, type NodeConfig, TracenetNode } from '@tracenet/node';
import { serialOf } from './dataset.js';
import { compactionSettled, pickRow, pointLookups, readCompactionsSettled } from './lookups.js';
import { latency, round, type Latency } from './stats.js';
import { cpuTimeMs, mainThreadCpuMs } from './proc.js';

export interface RecordsRun {
  readonly rows: number;
  readonly storeSync: boolean;
  readonly rowsImported: number;
  readonly rowsRejected: number;
  readonly importSeconds: number;
  readonly recordsPerSecond: number;
  /** CPU time (user + system) of the import process: records per CPU second depends less on the machine's load than records/s. */
  readonly importCpuSeconds: number;
  readonly recordsPerCpuSecond: number;
  /**
   * The import's CPU per record on the main thread (its JavaScript) and on the process's other
   * threads (LevelDB's, V8's, the pool's). Absent from results of runs before 2026-12-06.
   */
  readonly importCpuPerRecord?: ThreadCpu;
  /**
   * findExact (manufacturer + serial), awaited one at a time, random rows, in steady state: once
   * LevelDB's background compaction after the import has settled, and after warm-up lookups on
   * other rows until the compactions that reads set off have ended too (a registry in service is
   * read continuously, so its caches are warm and its tables compacted).
   */
  readonly pointLookup: Latency;
  /** The warm-up lookups before {@link pointLookup}, and whether LevelDB compacted nothing in the last round of them. */
  readonly readWarmup: { readonly lookups: number; readonly quiet: boolean };
  /** The same lookups right after the import, while LevelDB still compacts what the import wrote. */
  readonly pointLookupAfterImport: Latency;
  /** Seconds from the end of the import until LevelDB's compaction statistics stopped changing. */
  readonly settleSeconds: number;
  /** Serial-only search with a wildcard after a 7-character literal prefix (index range scan). */
  readonly prefixWildcard: Latency;
  /** Serial-only search with a leading wildcard: scans the serial index from its start, at most 100,000 entries. */
  readonly leadingWildcard: Latency & { readonly found: number };
  readonly storeMiB: number;
  /**
   * The ceiling under the import at this moment: the LevelDB writes the import made — its record
   * values, serial index entries, audit entry and signed head of each batch of 1,000, same keys,
   * same sync — written one after another through the node's Store into a fresh store, with no
   * parsing, validation, record building, encoding or signing ({@link ceiling}). Up to 1,000,000
   * records (all of the default run).
   */
  readonly storeCeiling: {
    readonly records: number;
    readonly recordsPerSecond: number;
    /** As {@link RecordsRun.importCpuPerRecord}, for the store alone's writes. */
    readonly cpuPerRecord?: ThreadCpu;
  };
  readonly rssAfterOpenMiB: number;
  readonly rssAfterImportMiB: number;
}

/** Microseconds of CPU per record on the main thread and on the others (user + system, 10 ms ticks). */
export interface ThreadCpu {
  readonly mainThread: number;
  readonly otherThreads: number;
}

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

/** Measures the CPU per record of what runs from here until the returned function is called with the records. */
function threadCpu(): (records: number) => ThreadCpu {
  const process0 = cpuTimeMs(process.pid);
  const main0 = mainThreadCpuMs();
  return (records) => {
    const main = mainThreadCpuMs() - main0;
    const all = cpuTimeMs(process.pid) - process0;
    const perRecord = (ms: number) => round((ms * 1000) / Math.max(1, records), 1);
    return { mainThread: perRecord(main), otherThreads: perRecord(all - main) };
  };
}

/**
 * `du -sk` of a directory. LevelDB may still be compacting the store: du then fails on a table file
 * removed while it ran, and still prints the total of what it found, which is what is kept.
 */
function duKiB(dir: string): number {
  let out: string;
  try {
    out = execFileSync('du', ['-sk', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (error) {
    out = String((error as { stdout?: unknown }).stdout ?? '');
  }
  return Number(out.split('\t')[0]);
}

/** Records the store-alone ceiling replays at most (the whole import at the default size). */
const CEILING_MAX = 1_000_000;

/**
 * The store alone (see {@link RecordsRun.storeCeiling}): the LevelDB writes the import just made,
 * replayed into a fresh node's Store with nothing else done. The import's serial index, read in key
 * order, is the file's order (serials are zero-padded and ascending); for each 1,000 of its
 * entries the records are read back from the imported store, with the import's audit entry of
 * that batch and its signed head — so the same keys (the import's random record ids, not
 * ascending ones, which LevelDB would append without merging), the same values and index entries,
 * the same batches of 1,000 and the same sync mode.
 *
 * Every batch is read and encoded before the clock starts, and once the imported store's
 * compaction has settled the batches are written one after another with nothing between them,
 * timed as a whole: an import writes without pause, and LevelDB compacts what it wrote on its own
 * thread meanwhile. Reading each batch between timed writes, as this did until 2026-12-06, gave
 * that compaction two thirds of the replay's time outside the clock. The batches of 1,000,000
 * records take about 0.9 GiB of heap (RSS 198 → 1,584 MiB in a scratch run), after this worker's
 * own memory and lookups were measured.
 */
async function ceiling(
  source: TracenetNode,
  count: number,
  sync: boolean,
  config: NodeConfig,
): Promise<RecordsRun['storeCeiling']> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tracenet-bench-ceiling-'));
  try {
    await initDataDir({ dataDir, participantId: 'BEL', endpoints: ['127.0.0.1:1'], nowMs: Date.now() });
    const node = await TracenetNode.open({ dataDir, config: { ...config, store: { ...config.store, sync } } });
    try {
      const { records, serials } = node.store.records;
      const { evidence, signedHeadEvidence } = node.store.audit;
      const head = await source.store.audit.signedHeadEvidence.get();
      // The import's audit entries, one per batch of 1,000 records, in order (a few hundred kilobytes).
      const audit: [string, unknown][] = [];
      for await (const [key, value] of source.store.audit.evidence.entries())
        if (JSON.stringify(value).includes('records.imported')) audit.push([key, value]);
      const serialKeys = source.store.records.serials.keys({ limit: count });
      const batches: ReturnType<typeof records.put>[][] = [];
      let written = 0;
      while (written < count) {
        const keys: string[] = [];
        while (keys.length < 1000) {
          const next = await serialKeys.next();
          if (next.done === true) break;
          keys.push(next.value);
        }
        if (keys.length === 0) break;
        const values = await source.store.records.records.getMany(keys.map((key) => key.slice(key.indexOf('\0') + 1)));
        const entry = audit[batches.length];
        const operations: ReturnType<typeof records.put>[] = [];
        keys.forEach((serialKey, i) => {
          const value = values[i];
          if (value === undefined) throw new Error(`no record for ${serialKey}`);
          const id = serialKey.slice(serialKey.indexOf('\0') + 1);
          operations.push(records.put(id, value));
          for (const key of value.serialKeys) operations.push(serials.put(key, { recordId: id }));
        });
        if (entry) operations.push(evidence.put(entry[0], entry[1]));
        if (head !== undefined) operations.push(signedHeadEvidence.put(head));
        batches.push(operations);
        written += keys.length;
      }
      await serialKeys.return(undefined);
      // Reading set off compactions of the imported store, on the LevelDB thread the replay uses too.
      await compactionSettled();
      const t0 = performance.now();
      const threads = threadCpu();
      for (const operations of batches) await node.store.batch(operations);
      const cpuPerRecord = threads(written);
      const seconds = (performance.now() - t0) / 1000;
      return { records: written, recordsPerSecond: round(written / seconds, 0), cpuPerRecord };
    } finally {
      await node.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<RecordsRun> {
  const [file, rowsArg, syncArg, lookupsArg, wildcardsArg, keep] = process.argv.slice(2);
  const rows = Number(rowsArg);
  const sync = syncArg === 'on';
  await initSodium();
  const dataDir = keep ?? (await mkdtemp(join(tmpdir(), 'tracenet-bench-records-')));
  if (keep !== undefined) await mkdir(keep, { recursive: true });
  try {
    await initDataDir({ dataDir, participantId: 'BEL', endpoints: ['127.0.0.1:1'], nowMs: Date.now() });
    const config = await loadConfig({ overrides: { 'store.sync': sync, 'log.level': 'silent', 'metrics.listen': '' } });
    const node = await TracenetNode.open({ dataDir, config });
    try {
      const rssAfterOpen = process.memoryUsage().rss;
      const started = performance.now();
      const cpuStart = process.cpuUsage();
      const threads = threadCpu();
      const summary = await importRecords(createReadStream(file ?? ''), {
        format: 'csv',
        records: node.records,
        nowMs: Date.now(),
      });
      const importSeconds = (performance.now() - started) / 1000;
      const importCpuPerRecord = threads(summary.rowsImported);
      const cpu = process.cpuUsage(cpuStart);
      const importCpuSeconds = (cpu.user + cpu.system) / 1e6;
      const rssAfterImport = process.memoryUsage().rss;

      const registry = node.registry;
      const pick = (k: number) => pickRow(k, rows);
      const lookups = Number(lookupsArg);
      const afterImport = await pointLookups(node, rows, 1, lookups);
      const settleSeconds = await compactionSettled();
      // Picks after those of the measured lookups, so that none of them is warmed up.
      const readWarmup = await readCompactionsSettled(node, rows, 1 + 3 * lookups, lookups, 12);
      const point = await pointLookups(node, rows, 1 + 2 * lookups, lookups);
      const wildcards = Number(wildcardsArg);
      const prefix: number[] = [];
      const leading: number[] = [];
      let leadingFound = 0;
      for (let k = 0; k < wildcards; k += 1) {
        const i = pick(k + 7);
        // SN-0012345? … : the literal prefix SN00123 (7 characters), then one unknown digit, then "4*".
        const serial = serialOf(i);
        const t0 = performance.now();
        await registry.search(
          {
            manufacturer: '',
            serialNumber: `${serial.slice(0, 8)}?${serial.slice(9, 10)}*`,
            model: '',
            calibre: '',
            type: 0,
          },
          { serialOnly: true, limit: 100 },
        );
        prefix.push(performance.now() - t0);
        const t1 = performance.now();
        leadingFound += (
          await registry.search(
            { manufacturer: '', serialNumber: `*${serial.slice(-5)}`, model: '', calibre: '', type: 0 },
            { serialOnly: true, limit: 100 },
          )
        ).length;
        leading.push(performance.now() - t1);
      }
      const storeCeiling = await ceiling(node, Math.min(summary.rowsImported, CEILING_MAX), sync, config);
      const storeMiB = duKiB(join(dataDir, 'store')) / 1024;
      return {
        rows,
        storeSync: sync,
        rowsImported: summary.rowsImported,
        rowsRejected: summary.rowsRejected,
        importSeconds: round(importSeconds, 2),
        recordsPerSecond: round(summary.rowsImported / importSeconds, 0),
        importCpuSeconds: round(importCpuSeconds, 2),
        recordsPerCpuSecond: round(summary.rowsImported / importCpuSeconds, 0),
        importCpuPerRecord,
        pointLookup: latency(point),
        readWarmup,
        pointLookupAfterImport: latency(afterImport),
        settleSeconds: round(settleSeconds, 1),
        prefixWildcard: latency(prefix),
        leadingWildcard: { ...latency(leading), found: round(leadingFound / Math.max(1, wildcards), 1) },
        storeMiB: round(storeMiB, 1),
        storeCeiling,
        rssAfterOpenMiB: mib(rssAfterOpen),
        rssAfterImportMiB: mib(rssAfterImport),
      };
    } finally {
      await node.stop();
    }
  } finally {
    if (keep === undefined) await rm(dataDir, { recursive: true, force: true });
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
