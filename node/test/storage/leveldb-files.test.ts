/**
 * The store's own reader of LevelDB files (ADR 0010): it must return what LevelDB returns, check
 * every checksum LevelDB leaves unchecked, and never write. Stores here are written by the real
 * LevelDB (classic-level); damage is a real byte flipped on disk.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32c, unmaskCrc } from '../../src/store/crc32c.js';
import { readStoreFiles } from '../../src/store/leveldb-files.js';
import { snappyUncompress } from '../../src/store/snappy.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempStore(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-leveldb-'));
  dirs.push(dir);
  return join(dir, 'db');
}

async function withDb<T>(location: string, work: (db: Level<string, string>) => Promise<T>): Promise<T> {
  const db = new Level<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

async function leveldbView(location: string): Promise<Map<string, string>> {
  return withDb(location, async (db) => new Map(await db.iterator().all()));
}

async function hashes(location: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await readdir(location))
    out[name] = createHash('sha256')
      .update(await readFile(join(location, name)))
      .digest('hex');
  return out;
}

const value = (n: number, version: number) =>
  JSON.stringify({ n, version, text: `record ${n} version ${version} `.repeat(4) });

describe('crc32c and snappy', () => {
  it("computes CRC-32C (Castagnoli) and undoes LevelDB's mask", () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    // LevelDB's Mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8.
    const crc = 0xe3069283;
    expect(unmaskCrc((((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0)).toBe(crc);
  });

  it('refuses malformed compressed input with one error, never reading or writing out of bounds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          snappyUncompress(bytes);
        } catch (error) {
          expect((error as Error).message).toBe('corrupted compressed block contents');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('reading a store without LevelDB', () => {
  let location: string;

  beforeAll(async () => {
    location = await tempStore();
    // Several opens (each writes the previous log into a table), overwrites, deletions and a
    // compaction: tables on more than one level, and a log on top.
    for (let round = 0; round < 4; round += 1) {
      await withDb(location, async (db) => {
        for (let n = 0; n < 3000; n += 1)
          if (n % 4 === round) await db.put(`!records!${String(n).padStart(6, '0')}`, value(n, round));
        for (let n = round; n < 3000; n += 97) await db.del(`!records!${String(n).padStart(6, '0')}`);
        await db.put(`!meta!round`, String(round));
        // `level` is classic-level in Node, whose compactRange its types do not declare.
        if (round === 2)
          await (db as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange('!', '~');
      });
    }
  });

  it('returns exactly what LevelDB returns, and writes nothing', async () => {
    const before = await hashes(location);
    const files = await readStoreFiles(location);
    expect(files.damage).toEqual([]);
    expect(await hashes(location)).toEqual(before);
    expect([...files.entries]).toEqual([...(await leveldbView(location))]);
  });

  it('returns only the keys under the prefixes asked for', async () => {
    const files = await readStoreFiles(location, ['!meta!']);
    expect([...files.entries]).toEqual([['!meta!round', '3']]);
  });

  it('reports every byte flipped in a table, wherever it is', async () => {
    const small = await tempStore();
    await withDb(small, async (db) => {
      for (let n = 0; n < 30; n += 1) await db.put(`!audit!${String(n).padStart(16, '0')}`, value(n, 0));
    });
    // Reopened: the log is written into a table, and the new log is empty.
    await withDb(small, async () => undefined);
    const [table] = (await readdir(small)).filter((name) => name.endsWith('.ldb'));
    const path = join(small, table ?? '');
    const original = await readFile(path);
    const missed: number[] = [];
    for (let offset = 0; offset < original.length; offset += 1) {
      const changed = Buffer.from(original);
      changed[offset] = (changed[offset] ?? 0) ^ 0x01;
      await writeFile(path, changed);
      if ((await readStoreFiles(small)).damage.length === 0) missed.push(offset);
    }
    await writeFile(path, original);
    expect(missed).toEqual([]);
  }, 120_000);

  it('reports a byte flipped in a log, or reads the log as cut short there; never a changed value', async () => {
    const small = await tempStore();
    await withDb(small, async (db) => {
      for (let n = 0; n < 8; n += 1) await db.put(`!audit!${String(n).padStart(16, '0')}`, value(n, 0));
    });
    const [log] = (await readdir(small)).filter((name) => name.endsWith('.log'));
    const path = join(small, log ?? '');
    const original = await readFile(path);
    const intact = (await readStoreFiles(small)).entries;
    expect(intact.size).toBe(8);
    let reported = 0;
    for (let offset = 0; offset < original.length; offset += 1) {
      const changed = Buffer.from(original);
      changed[offset] = (changed[offset] ?? 0) ^ 0x01;
      await writeFile(path, changed);
      const files = await readStoreFiles(small);
      if (files.damage.length > 0) {
        reported += 1;
        continue;
      }
      // Unreported only where LevelDB too sees a writer that died: the length of the last record.
      for (const [key, text] of files.entries) expect(intact.get(key)).toBe(text);
      expect(files.entries.size).toBeLessThan(intact.size);
    }
    await writeFile(path, original);
    expect(reported).toBeGreaterThan(original.length - 10);
  }, 120_000);

  it('reports a table or log that the MANIFEST names and that is gone', async () => {
    const small = await tempStore();
    await withDb(small, async (db) => db.put('!audit!1', 'one'));
    await withDb(small, async (db) => db.put('!audit!2', 'two'));
    const names = await readdir(small);
    const table = names.find((name) => name.endsWith('.ldb')) ?? '';
    const log =
      names
        .filter((name) => name.endsWith('.log'))
        .sort()
        .at(-1) ?? '';
    await rm(join(small, log));
    expect((await readStoreFiles(small)).damage).toEqual([
      { file: log, problem: 'missing: the MANIFEST names it as the current log' },
    ]);
    await rm(join(small, table));
    expect((await readStoreFiles(small)).damage).toContainEqual({
      file: table,
      problem: 'missing: the MANIFEST lists this table (level 0)',
    });
  });
});
