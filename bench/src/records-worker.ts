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
import { compactionSettled, pickRow, pointLookups } from './lookups.js';
import { latency, round, type Latency } from './stats.js';

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
   * findExact (manufacturer + serial), awaited one at a time, random rows, in steady state: once
   * LevelDB's background compaction after the import has settled, after a warm-up of lookups on
   * other rows (a registry in service is read continuously, so its caches are warm).
   */
  readonly pointLookup: Latency;
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
   * The ceiling under the import at this moment: the same number of records' LevelDB operations
   * (record value of the same size + serial index entry, batches of 1,000, same sync) written
   * straight through the node's Store into a fresh store, with no parsing, validation or audit.
   * Measured on at most 200,000 records.
   */
  readonly storeCeiling: {
    readonly records: number;
    readonly recordsPerSecond: number;
    readonly recordsPerCpuSecond: number;
  };
  readonly rssAfterOpenMiB: number;
  readonly rssAfterImportMiB: number;
}

const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

/** Writes `count` records' worth of operations straight through a fresh node's Store (see {@link RecordsRun.storeCeiling}). */
async function ceiling(count: number, sync: boolean, config: NodeConfig): Promise<RecordsRun['storeCeiling']> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tracenet-bench-ceiling-'));
  try {
    await initDataDir({ dataDir, participantId: 'BEL', endpoints: ['127.0.0.1:1'], nowMs: Date.now() });
    const node = await TracenetNode.open({ dataDir, config: { ...config, store: { ...config.store, sync } } });
    try {
      const { records, serials } = node.store.records;
      // The size of a stored record of the generated data set: about 330 bytes of protobuf, in base64.
      const record = Buffer.alloc(330, 7).toString('base64');
      const started = performance.now();
      const cpuStart = process.cpuUsage();
      for (let start = 0; start < count; start += 1000) {
        const operations: ReturnType<typeof records.put>[] = [];
        for (let i = start; i < Math.min(count, start + 1000); i += 1) {
          const id = `rec_${String(i).padStart(22, 'A')}`;
          const serialKey = `${serialOf(i).replace('-', '')}\0${id}`;
          operations.push(
            records.put(id, {
              v: 1,
              record,
              retainUntilMs: 2_000_000_000_000,
              retainReason: '30 years from its manufacture on 1999-03-02',
              serialKeys: [serialKey],
            }),
          );
          operations.push(serials.put(serialKey, { recordId: id }));
        }
        await node.store.batch(operations);
      }
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      return {
        records: count,
        recordsPerSecond: round(count / seconds, 0),
        recordsPerCpuSecond: round(count / ((cpu.user + cpu.system) / 1e6), 0),
      };
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
      const summary = await importRecords(createReadStream(file ?? ''), {
        format: 'csv',
        records: node.records,
        nowMs: Date.now(),
      });
      const importSeconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      const importCpuSeconds = (cpu.user + cpu.system) / 1e6;
      const rssAfterImport = process.memoryUsage().rss;

      const registry = node.registry;
      const pick = (k: number) => pickRow(k, rows);
      const lookups = Number(lookupsArg);
      const afterImport = await pointLookups(node, rows, 1, lookups);
      const settleSeconds = await compactionSettled();
      await pointLookups(node, rows, 1 + lookups, Math.min(lookups, 1000));
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
      const storeCeiling = await ceiling(Math.min(rows, 200_000), sync, config);
      const storeMiB =
        Number(execFileSync('du', ['-sk', join(dataDir, 'store')], { encoding: 'utf8' }).split('\t')[0]) / 1024;
      return {
        rows,
        storeSync: sync,
        rowsImported: summary.rowsImported,
        rowsRejected: summary.rowsRejected,
        importSeconds: round(importSeconds, 2),
        recordsPerSecond: round(summary.rowsImported / importSeconds, 0),
        importCpuSeconds: round(importCpuSeconds, 2),
        recordsPerCpuSecond: round(summary.rowsImported / importCpuSeconds, 0),
        pointLookup: latency(point),
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
