/** Point lookups of the records benchmark (section 3), shared by its two kinds of child process. */
import { execFileSync } from 'node:child_process';
import type { TracenetNode } from '@tracenet/node';
import { manufacturerOf, serialOf } from './dataset.js';

/** Row of the generated data set that the `k`-th lookup asks for: spread over all `rows` (Knuth's multiplicative hash). */
export function pickRow(k: number, rows: number): number {
  return Math.floor((((k * 2654435761) % 2 ** 32) / 2 ** 32) * rows);
}

/**
 * One point lookup (`Registry.findExact`, manufacturer + serial) of the `k`-th picked row of a
 * store of `rows` records; its time in ms. Throws unless exactly that record is found.
 */
export async function pointLookup(node: TracenetNode, rows: number, k: number): Promise<number> {
  const i = pickRow(k, rows);
  const started = performance.now();
  const found = await node.registry.findExact({
    manufacturer: manufacturerOf(i),
    serialNumber: serialOf(i),
    model: '',
    calibre: '',
    type: 0,
  });
  const ms = performance.now() - started;
  if (found.length !== 1) throw new Error(`lookup of row ${i} found ${found.length} records`);
  return ms;
}

/** `count` point lookups awaited one at a time, from the `from`-th pick on; their times in ms. */
export async function pointLookups(node: TracenetNode, rows: number, from: number, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let k = from; k < from + count; k += 1) times.push(await pointLookup(node, rows, k));
  return times;
}

/**
 * Waits until LevelDB's background compaction has settled: this process, which does nothing else
 * meanwhile, used less than 20 ms of CPU (2 % of a core) in each of two seconds in a row (at most
 * ten minutes); then until what it wrote is on disk (`sync`: with `store.sync` off, hundreds of
 * megabytes are still in the page cache, and the kernel writing them back stalls reads of the
 * files for milliseconds at a time). Returns the seconds waited. (LevelDB's compaction statistics
 * only change when a compaction ends, so they can stay still for seconds while a large one runs.)
 */
export async function compactionSettled(): Promise<number> {
  const started = performance.now();
  let quietSeconds = 0;
  while (quietSeconds < 2 && performance.now() - started < 600_000) {
    const cpu = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const used = process.cpuUsage(cpu);
    quietSeconds = (used.user + used.system) / 1000 < 20 ? quietSeconds + 1 : 0;
  }
  execFileSync('sync');
  return (performance.now() - started) / 1000 - quietSeconds;
}

/**
 * Warm-up point lookups in rounds of `perRound` (picks from `from` on), each round followed by
 * {@link compactionSettled}, until a round after which LevelDB's compaction statistics
 * (`leveldb.stats`) did not change: reads set off compactions of their own (LevelDB compacts a
 * table once enough lookups had to read past it), and after a bulk import, whose tables overlap,
 * those run on LevelDB's thread for tens of thousands of lookups, taking the second core while the
 * lookups are timed. At most `maxRounds`. Returns the lookups made and whether a round was quiet.
 */
export async function readCompactionsSettled(
  node: TracenetNode,
  rows: number,
  from: number,
  perRound: number,
  maxRounds: number,
): Promise<{ lookups: number; quiet: boolean }> {
  // On Node.js `level` is classic-level, whose getProperty the browser-shared type leaves out.
  const db = node.store.root as unknown as { getProperty?(property: string): string } | undefined;
  const getProperty = db?.getProperty?.bind(db);
  // Without the statistics every round would look quiet: refuse rather than report a warm-up that did not happen.
  if (!getProperty) throw new Error('readCompactionsSettled needs a LevelDB store (no leveldb.stats)');
  const stats = () => getProperty('leveldb.stats');
  for (let round = 0; round < maxRounds; round += 1) {
    const before = stats();
    await pointLookups(node, rows, from + round * perRound, perRound);
    await compactionSettled();
    if (stats() === before) return { lookups: (round + 1) * perRound, quiet: true };
  }
  return { lookups: maxRounds * perRound, quiet: false };
}
