import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const SECTIONS = ['delivery', 'envelope', 'records', 'chain', 'fanout', 'memory', 'console'];

// CI runs every section at smoke size (seconds), so that the benchmark code cannot rot; the real
// measurement is `npm run bench` (docs/benchmarks.md). Needs the build (`tsc -b`), as `npm test` does.
describe('npm run bench -- --smoke', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('runs every section and writes a well-formed results object', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-bench-smoke-'));
    dirs.push(dir);
    const out = join(dir, 'results.json');
    await promisify(execFile)(process.execPath, [MAIN, '--smoke', '--out', out], {
      timeout: 200_000,
      maxBuffer: 16 * 2 ** 20,
    });
    const results = JSON.parse(await readFile(out, 'utf8'));

    expect(results.schema).toBe(1);
    expect(results.run).toBe('smoke');
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(Object.keys(results.sections).sort()).toEqual([...SECTIONS].sort());
    for (const name of SECTIONS)
      expect({ name, ok: results.sections[name].ok, error: results.sections[name].error }).toEqual({
        name,
        ok: true,
        error: undefined,
      });

    const {
      delivery,
      envelope,
      records,
      chain,
      fanout,
      memory,
      console: web,
    } = Object.fromEntries(SECTIONS.map((s) => [s, results.sections[s].result]));
    expect(delivery.levels.map((l: { concurrency: number }) => l.concurrency)).toEqual([1, 16, 64]);
    for (const level of delivery.levels) {
      for (const side of [level.raw, level.secure]) {
        expect(side.errors).toBe(0);
        expect(side.requestsPerSecond).toBeGreaterThan(0);
        expect(side.latency.p99Ms).toBeGreaterThan(0);
        expect(side.serverCpuUsPerRequest).toBeGreaterThanOrEqual(0);
      }
      expect(level.ratio).toBeGreaterThan(0);
    }
    expect(envelope.sealPerSecond).toBeGreaterThan(0);
    expect(envelope.openPerSecond).toBeGreaterThan(0);
    expect(records.runs.map((r: { rows: number; storeSync: boolean }) => [r.rows, r.storeSync])).toEqual([
      [2000, false],
      [2000, true],
      [4000, false],
    ]);
    for (const run of records.runs) {
      expect(run.rowsImported).toBe(run.rows);
      expect(run.rowsRejected).toBe(0);
      expect(run.pointLookup.count).toBeGreaterThan(0);
      expect(run.pointLookupAfterImport.count).toBe(run.pointLookup.count);
      // The store alone writes back every record the import wrote.
      expect(run.storeCeiling.records).toBe(run.rows);
      expect(run.importCpuPerRecord.mainThread).toBeGreaterThan(0);
    }
    expect(records.sideBySide).toMatchObject({
      smallRows: 2000,
      largeRows: 4000,
      warmup: 100,
      small: { count: 200 },
      large: { count: 200 },
    });
    expect(records.sideBySide.p99Ratio).toBeGreaterThan(0);
    for (const line of chain.lines) {
      expect(line.wall.count).toBe(chain.chains);
      expect(line.trace.length).toBeGreaterThan(0);
    }
    expect(fanout.runs[0].notAnswered).toBe(0);
    expect(fanout.runs[0].hitsPerLookup).toBeGreaterThan(0);
    // The same lookup through the latency proxies: every participant answered, a round trip later.
    expect(fanout.runs[1]).toMatchObject({ addedRttMs: 150, notAnswered: 0 });
    expect(fanout.runs[1].allAnswered.p50Ms).toBeGreaterThan(150);
    expect(memory.afterImportRssMiB).toBeGreaterThan(0);
    // The peak's parts were sampled: each is there, and neither is more than the peak itself.
    expect(memory.peakParts?.anonMiB).toBeGreaterThan(0);
    expect(memory.peakParts?.fileMiB).toBeGreaterThan(0);
    expect(memory.peakParts?.anonMiB).toBeLessThanOrEqual(memory.peakRssMiB);
    expect(memory.peakParts?.fileMiB).toBeLessThanOrEqual(memory.peakRssMiB);
    // The GC probe ran in the node and its file was read (a smoke import may see no full collection).
    expect(memory.liveHeap).toEqual(expect.objectContaining({ fullCollections: expect.any(Number) }));
    // The console over the emulated slow link: it became usable, and its files came compressed.
    expect(web.inboxCold.usable.count).toBe(1);
    expect(web.inboxCold.usable.p50Ms).toBeGreaterThan(web.link.latency);
    expect(web.inboxCold.bytes).toBeGreaterThan(0);
    expect(web.signInCold.bytes).toBeGreaterThan(0);
    // Every target is reported with a verdict; none is asserted (benchmarks report, CI does not fail on them).
    expect(results.targets.length).toBeGreaterThan(0);
    for (const t of results.targets) expect(typeof t.met === 'boolean' || t.met === null).toBe(true);
  }, 210_000);
});
