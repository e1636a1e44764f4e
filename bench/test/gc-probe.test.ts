import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { FullCollection } from '../src/gc-probe.js';
import { fullCollectionsDuring } from '../src/sections/memory.js';

const PROBE = new URL('../dist/gc-probe.js', import.meta.url).href;

/**
 * A process that makes a million objects per round for `rounds` rounds, each kept until 200,000
 * later ones have been made (so that V8 promotes them and collects them in full collections, as
 * the batches of an import), and keeps `keptPerRound` of each round for good: a leak unless 0.
 * It yields between rounds, as the node does between chunks, so that the probe reads on time.
 */
const program = (rounds: number, keptPerRound: number) => `
  const kept = [];
  const recent = new Array(200_000);
  for (let round = 0; round < ${rounds}; round++) {
    for (let i = 0; i < 1_000_000; i++) {
      const made = { round, i, text: 'x' + i };
      recent[i % recent.length] = made;
      if (i < ${keptPerRound}) kept.push(made);
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  globalThis.kept = kept;
`;

// The memory section's "memory flat" figure (bench/src/sections/memory.ts) read from real
// processes: the probe sees V8's full collections, and the figure tells a leak from garbage.
describe('the memory section: full collections seen by the GC probe', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  const run = async (rounds: number, keptPerRound: number) => {
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-gc-probe-'));
    dirs.push(dir);
    const out = join(dir, 'collections.json');
    await promisify(execFile)(
      process.execPath,
      ['--import', PROBE, '--input-type=module', '-e', program(rounds, keptPerRound)],
      { env: { ...process.env, TRACENET_BENCH_GC_OUT: out }, timeout: 60_000 },
    );
    const collections = JSON.parse(await readFile(out, 'utf8')) as FullCollection[];
    // From the first collection to the last, so that a slow start on a busy machine leaves no half empty.
    const [first, last] = [collections[0]?.atMs ?? 0, collections.at(-1)?.atMs ?? 0];
    return { collections, measured: fullCollectionsDuring(collections, first, last) };
  };

  it('records the heap before and after each full collection, garbage gone', async () => {
    const { collections, measured } = await run(25, 0);
    expect(collections.length).toBeGreaterThan(1);
    for (const c of collections) expect(c.afterMiB).toBeLessThan(c.beforeMiB);
    expect(measured.fullCollections).toBe(collections.length);
    // Nothing kept: the heap after collections does not grow from one half to the other.
    expect(measured.secondHalfMiB ?? Number.NaN).toBeLessThanOrEqual((measured.firstHalfMiB ?? 0) * 1.1);
  });

  it('shows a process that keeps part of every round as not flat', async () => {
    // About 25 MiB kept over the run, more than the process holds at its start.
    const { measured } = await run(25, 20_000);
    expect(measured.fullCollections).toBeGreaterThan(1);
    expect(measured.secondHalfMiB ?? 0).toBeGreaterThan((measured.firstHalfMiB ?? Number.NaN) * 1.1);
  });

  it('counts only the collections inside the window, and has no figure without one in each half', () => {
    const c = (atMs: number, afterMiB: number): FullCollection => ({ atMs, beforeMiB: afterMiB * 4, afterMiB });
    const all = [c(5, 99), c(10, 30), c(12, 34), c(30, 31), c(40, 33), c(45, 33), c(60, 99)];
    expect(fullCollectionsDuring(all, 10, 50)).toEqual({
      fullCollections: 5,
      afterMinMiB: 30,
      afterMaxMiB: 34,
      beforeMaxMiB: 136,
      firstHalfMiB: 30,
      secondHalfMiB: 31,
    });
    expect(fullCollectionsDuring([c(10, 30), c(20, 31)], 10, 50)).toMatchObject({
      fullCollections: 2,
      firstHalfMiB: 30,
      secondHalfMiB: null,
    });
  });
});
