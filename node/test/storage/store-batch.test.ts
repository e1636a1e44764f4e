/**
 * `Store.batch` writes its operations through one chained batch of the root database, with keys
 * and values encoded once (node/src/store/store.ts, `writeBatch`). These tests hold it to the
 * layout of docs/adr/0003-storage-layout.md: the same bytes as abstract-level's own sublevel batch.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@tracenet/proto';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Operation, type SublevelName } from '../../src/store/store.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-store-batch-'));
  dirs.push(dir);
  return dir;
}

/** Every key and value of a LevelDB directory, as raw strings. */
async function rawEntries(location: string): Promise<Array<[string, string]>> {
  const db = new Level<string, string>(location, { valueEncoding: 'utf8' });
  try {
    return await db.iterator().all();
  } finally {
    await db.close();
  }
}

type Write = { type: 'put'; sub: SublevelName; key: string; value: Record<string, unknown> } | { type: 'del'; sub: SublevelName; key: string };

/** A value with nested JSON and non-ASCII text. */
const NESTED = { nested: { list: [1, 'two', null, true] }, text: 'ünïcode 🙂' };

const WRITES: Write[][] = [
  [
    { type: 'put', sub: 'records', key: 'rec_A', value: { v: 1, record: 'AAEC', retainUntilMs: 2_000_000_000_000, retainReason: 'r', serialKeys: ['SN1\0rec_A'] } },
    { type: 'put', sub: 'record-serials', key: 'SN1\0rec_A', value: { recordId: 'rec_A' } },
    { type: 'put', sub: 'audit', key: '0000000000000001', value: { line: '{"seq":1,"note":"é ✓ \\" \\n"}', hash: 'ab' } },
    { type: 'put', sub: 'meta', key: 'k', value: NESTED },
  ],
  [
    { type: 'del', sub: 'record-serials', key: 'SN1\0rec_A' },
    { type: 'put', sub: 'record-serials', key: 'SN2\0rec_A', value: { recordId: 'rec_A' } },
    { type: 'put', sub: 'records', key: 'rec_A', value: { v: 1, record: 'AAED', serialKeys: ['SN2\0rec_A'] } },
    { type: 'del', sub: 'meta', key: 'absent' },
  ],
];

describe('Store.batch', () => {
  it('writes exactly the bytes of a sublevel batch: the same keys under the same prefixes, the same JSON', async () => {
    const dir = await tempDir();
    const store = await openStore(join(dir, 'store'), { sync: false });
    for (const writes of WRITES) {
      await store.batch(writes.map((w): Operation => (w.type === 'put' ? { type: 'put', sublevel: store.sub[w.sub], key: w.key, value: w.value } : { type: 'del', sublevel: store.sub[w.sub], key: w.key })));
    }
    expect(await store.sub.records.get('rec_A')).toEqual({ v: 1, record: 'AAED', serialKeys: ['SN2\0rec_A'] });
    expect(await store.sub['record-serials'].keys().all()).toEqual(['SN2\0rec_A']);
    expect(await store.sub.meta.get('k')).toEqual(NESTED);
    await store.close();

    // The reference: the same writes through abstract-level's own array batch on sublevels.
    const reference = new Level<string, Record<string, unknown>>(join(dir, 'reference'), { valueEncoding: 'json' });
    const subs = new Map<SublevelName, ReturnType<typeof reference.sublevel<string, Record<string, unknown>>>>();
    const sub = (name: SublevelName) => subs.get(name) ?? subs.set(name, reference.sublevel<string, Record<string, unknown>>(name, { valueEncoding: 'json' })).get(name)!;
    for (const writes of WRITES) {
      await reference.batch(writes.map((w) => (w.type === 'put' ? { type: 'put' as const, sublevel: sub(w.sub), key: w.key, value: w.value } : { type: 'del' as const, sublevel: sub(w.sub), key: w.key })));
    }
    await reference.close();

    const written = await rawEntries(join(dir, 'store'));
    expect(written).toEqual(await rawEntries(join(dir, 'reference')));
    expect(written.map(([key]) => key)).toContain('!records!rec_A');
  });

  it('refuses an operation without a sublevel before writing anything, and stays writable', async () => {
    const dir = await tempDir();
    const store = await openStore(join(dir, 'store'), { sync: false });
    try {
      const rootPut = { type: 'put', key: 'loose', value: { a: 1 } } as unknown as Operation;
      await expect(store.batch([{ type: 'put', sublevel: store.sub.meta, key: 'good', value: { ok: true } }, rootPut])).rejects.toThrow(TypeError);
      expect(await store.sub.meta.get('good')).toBeUndefined();
      expect(store.writable).toBe(true);
    } finally {
      await store.close();
    }
    expect((await rawEntries(join(dir, 'store'))).map(([key]) => key)).not.toContain('loose');
  });

  it.each([undefined, null])('writes nothing of a batch that holds a %s value, as abstract-level refuses it', async (value) => {
    const dir = await tempDir();
    const store = await openStore(join(dir, 'store'), { sync: false, recoverEveryMs: 20 });
    try {
      const bad = { type: 'put', sublevel: store.sub.meta, key: 'bad', value } as unknown as Operation;
      await expect(store.batch([{ type: 'put', sublevel: store.sub.meta, key: 'good', value: { ok: true } }, bad])).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE,
      });
      expect(await store.sub.meta.get('good')).toBeUndefined();
      expect(await store.sub.meta.get('bad')).toBeUndefined();
      // The store recovers and writes again through the same path.
      await store.batch([{ type: 'put', sublevel: store.sub.meta, key: 'good', value: { ok: true } }]);
      expect(await store.sub.meta.get('good')).toEqual({ ok: true });
    } finally {
      await store.close();
    }
  });
});
