/**
 * `Store.batch` writes its operations through one chained batch of the root database, with keys
 * and values encoded once by their repository (node/src/store/store.ts, `writeBatch`). These tests hold it to the
 * layout of docs/adr/0003-storage-layout.md: the same bytes as abstract-level's own sublevel batch.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { operation, type SpaceName } from '../../src/store/space.js';

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

type Write =
  | { type: 'put'; sub: SpaceName; key: string; value: Record<string, unknown> }
  | { type: 'del'; sub: SpaceName; key: string };

/** A value with nested JSON and non-ASCII text. */
const NESTED = { nested: { list: [1, 'two', null, true] }, text: 'ünïcode 🙂' };

const WRITES: Write[][] = [
  [
    {
      type: 'put',
      sub: 'records',
      key: 'rec_A',
      value: { v: 1, record: 'AAEC', retainUntilMs: 2_000_000_000_000, retainReason: 'r', serialKeys: ['SN1\0rec_A'] },
    },
    { type: 'put', sub: 'record-serials', key: 'SN1\0rec_A', value: { recordId: 'rec_A' } },
    {
      type: 'put',
      sub: 'audit',
      key: '0000000000000001',
      value: { line: '{"seq":1,"note":"é ✓ \\" \\n"}', hash: 'ab' },
    },
    { type: 'put', sub: 'meta', key: 'k', value: NESTED },
  ],
  [
    { type: 'del', sub: 'record-serials', key: 'SN1\0rec_A' },
    { type: 'put', sub: 'record-serials', key: 'SN2\0rec_A', value: { recordId: 'rec_A' } },
    {
      type: 'put',
      sub: 'records',
      key: 'rec_A',
      value: { v: 1, record: 'AAED', retainUntilMs: 2_000_000_000_000, retainReason: 'r', serialKeys: ['SN2\0rec_A'] },
    },
    { type: 'del', sub: 'meta', key: 'absent' },
  ],
];

describe('Store.batch', () => {
  it('writes exactly the bytes of a sublevel batch: the same keys under the same prefixes, the same JSON', async () => {
    const dir = await tempDir();
    const store = await openStore(join(dir, 'store'), { sync: false });
    for (const writes of WRITES) {
      // The operations a repository makes: its space, its key and the JSON text of its value.
      await store.batch(
        writes.map((w) =>
          w.type === 'put' ? operation('put', w.sub, w.key, JSON.stringify(w.value)) : operation('del', w.sub, w.key),
        ),
      );
    }
    expect(await store.records.records.get('rec_A')).toEqual({
      v: 1,
      record: 'AAED',
      retainUntilMs: 2_000_000_000_000,
      retainReason: 'r',
      serialKeys: ['SN2\0rec_A'],
    });
    const serials: string[] = [];
    for await (const key of store.records.serials.keys()) serials.push(key);
    expect(serials).toEqual(['SN2\0rec_A']);
    await store.close();

    // The reference: the same writes through abstract-level's own array batch on sublevels.
    const reference = new Level<string, Record<string, unknown>>(join(dir, 'reference'), { valueEncoding: 'json' });
    const subs = new Map<SpaceName, ReturnType<typeof reference.sublevel<string, Record<string, unknown>>>>();
    const sub = (name: SpaceName) =>
      subs.get(name) ??
      subs.set(name, reference.sublevel<string, Record<string, unknown>>(name, { valueEncoding: 'json' })).get(name)!;
    for (const writes of WRITES) {
      await reference.batch(
        writes.map((w) =>
          w.type === 'put'
            ? { type: 'put' as const, sublevel: sub(w.sub), key: w.key, value: w.value }
            : { type: 'del' as const, sublevel: sub(w.sub), key: w.key },
        ),
      );
    }
    await reference.close();

    // The store's own layout version (meta/schema, ADR 0011) is the one key the reference lacks.
    const written = await rawEntries(join(dir, 'store'));
    expect(written.find(([key]) => key === '!meta!schema')).toEqual(['!meta!schema', '{"version":2}']);
    expect(written.filter(([key]) => key !== '!meta!schema')).toEqual(await rawEntries(join(dir, 'reference')));
    expect(written.map(([key]) => key)).toContain('!records!rec_A');
    expect(written.find(([key]) => key === '!meta!k')?.[1]).toBe(JSON.stringify(NESTED));
  });

  it.each([undefined, null])(
    'refuses a %s value when the operation is made, before anything is written, and stays writable',
    async (value) => {
      const dir = await tempDir();
      const store = await openStore(join(dir, 'store'), { sync: false });
      try {
        const good = store.messages.seen.put('good', { status: 'accepted', receipt: '' });
        expect(() => [good, store.messages.seen.put('bad', value as never)]).toThrow(TypeError);
        expect(await store.messages.seen.get('good')).toBeUndefined();
        expect(store.writable).toBe(true);
        await store.batch([good]);
        expect(await store.messages.seen.get('good')).toEqual({ status: 'accepted', receipt: '' });
      } finally {
        await store.close();
      }
      expect((await rawEntries(join(dir, 'store'))).map(([key]) => key)).not.toContain('!seen!bad');
    },
  );
});
