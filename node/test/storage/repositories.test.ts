/**
 * The typed repositories (docs/adr/0011-typed-repositories.md) on both engines: what one writes in
 * a batch is there or none of it is, values come back as written, the case indexes answer the
 * listings by state, peer and deadline with paging tokens, and a snapshot does not move.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { Case, CaseRole, CaseState, TracenetError } from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { openMemoryStore } from '../../src/store/memory-store.js';
import { openStore, type Store } from '../../src/store/store.js';
import type { InboxRecord } from '../../src/store/repositories.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function levelStore(options: { writeFault?: () => Error | undefined } = {}): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-repos-'));
  const store = await openStore(join(dir, 'store'), { sync: false, recoverEveryMs: 60_000, ...options });
  cleanups.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

async function memoryStore(options: { writeFault?: () => Error | undefined } = {}): Promise<Store> {
  return openMemoryStore(options);
}

const aCase = (caseId: string, fields: Partial<Case> = {}): Case => ({
  ...Case.decode(new Uint8Array()),
  caseId,
  role: CaseRole.CASE_ROLE_REQUESTED,
  ...fields,
});
const inbox = (n: number): InboxRecord => ({
  sender: 'FRA',
  messageId: `m${n}`,
  kind: 1,
  correlationId: '',
  createdAtMs: n,
  expiresAtMs: n + 1000,
  receivedAtMs: n,
  body: '',
  digest: '00',
});

describe.each([
  ['LevelDB', levelStore],
  ['memory', memoryStore],
])('%s store', (_name, open) => {
  it('writes a batch across repositories at once, and nothing of a refused one', async () => {
    let fail = false;
    const store = await open({ writeFault: () => (fail ? new Error('disk full') : undefined) });
    await store.batch([
      store.messages.inbox.put('k1', inbox(1)),
      store.messages.seen.put('FRA\u0000m1', { status: 'accepted', bodyDigest: 'd', receipt: 'cg==' }),
    ]);
    expect(await store.messages.inbox.get('k1')).toEqual(inbox(1));
    expect(await store.messages.seen.get('FRA\u0000m1')).toEqual({
      status: 'accepted',
      bodyDigest: 'd',
      receipt: 'cg==',
    });

    fail = true;
    const refused = store.batch([store.messages.inbox.put('k2', inbox(2)), store.messages.seen.del('FRA\u0000m1')]);
    await expect(refused).rejects.toMatchObject({ codeName: 'STORAGE_UNAVAILABLE' });
    expect(store.writable).toBe(false);
    expect(await store.messages.inbox.get('k2')).toBeUndefined();
    expect(await store.messages.seen.get('FRA\u0000m1')).toBeDefined();
  });

  it('lists cases by state and by peer through their indexes, a page at a time, and moves them when a case changes', async () => {
    const store = await open();
    const cases = [
      aCase('case-000001', { state: CaseState.CASE_STATE_RECEIVED, peer: 'FRA' }),
      aCase('case-000002', { state: CaseState.CASE_STATE_ANSWERED, peer: 'FRA' }),
      aCase('case-000003', { state: CaseState.CASE_STATE_RECEIVED, peer: 'KEN' }),
      aCase('case-000004', { state: CaseState.CASE_STATE_RECEIVED, peer: 'FRA' }),
    ];
    for (const c of cases) await store.batch(await store.cases.put(c));
    const ids = (page: { items: Case[] }) => page.items.map((c) => c.caseId);

    const first = await store.cases.page({ state: CaseState.CASE_STATE_RECEIVED, limit: 2 });
    expect(ids(first)).toEqual(['case-000004', 'case-000003']);
    expect(first.next).not.toBe('');
    const second = await store.cases.page({ state: CaseState.CASE_STATE_RECEIVED, limit: 2, token: first.next });
    expect(ids(second)).toEqual(['case-000001']);
    expect(second.next).toBe('');
    expect(ids(await store.cases.page({ peer: 'FRA', limit: 10 }))).toEqual([
      'case-000004',
      'case-000002',
      'case-000001',
    ]);
    expect(ids(await store.cases.page({ state: CaseState.CASE_STATE_RECEIVED, peer: 'FRA', limit: 10 }))).toEqual([
      'case-000004',
      'case-000001',
    ]);
    expect(ids(await store.cases.page({ limit: 3 }))).toEqual(['case-000004', 'case-000003', 'case-000002']);

    // The case moves: it leaves the index of its old state and peer in the same batch.
    await store.batch(
      await store.cases.put({ ...(cases[3] as Case), state: CaseState.CASE_STATE_CLOSED, peer: 'KEN' }),
    );
    expect(ids(await store.cases.page({ state: CaseState.CASE_STATE_RECEIVED, limit: 10 }))).toEqual([
      'case-000003',
      'case-000001',
    ]);
    expect(ids(await store.cases.page({ state: CaseState.CASE_STATE_CLOSED, limit: 10 }))).toEqual(['case-000004']);
    expect(ids(await store.cases.page({ peer: 'FRA', limit: 10 }))).toEqual(['case-000002', 'case-000001']);
  });

  it('finds the cases whose deadline has come, earliest first, and the next deadline', async () => {
    const store = await open();
    await store.batch([
      ...(await store.cases.put(
        aCase('case-000001', { state: CaseState.CASE_STATE_RECEIVED, acknowledgeDueAtMs: 300, answerDueAtMs: 900 }),
      )),
      ...(await store.cases.put(
        aCase('case-000002', { state: CaseState.CASE_STATE_ACKNOWLEDGED, acknowledgeDueAtMs: 100, answerDueAtMs: 500 }),
      )),
      ...(await store.cases.put(
        aCase('case-000003', { state: CaseState.CASE_STATE_CLOSED, acknowledgeDueAtMs: 50, answerDueAtMs: 60 }),
      )),
    ]);
    // case-000002 is acknowledged: its acknowledgement deadline no longer runs; a closed case has none.
    expect(await store.cases.nextDeadline()).toEqual({ caseId: 'case-000001', atMs: 300 });
    expect((await store.cases.due(499)).items.map((c) => c.caseId)).toEqual(['case-000001']);
    const page = await store.cases.due(1000, { limit: 1 });
    expect(page.items.map((c) => c.caseId)).toEqual(['case-000001']);
    expect((await store.cases.due(1000, { token: page.next })).items.map((c) => c.caseId)).toEqual(['case-000002']);

    await store.batch(
      await store.cases.put(
        aCase('case-000001', { state: CaseState.CASE_STATE_ACKNOWLEDGED, acknowledgeDueAtMs: 300, answerDueAtMs: 900 }),
      ),
    );
    expect(await store.cases.nextDeadline()).toEqual({ caseId: 'case-000002', atMs: 500 });
  });

  it('pages messages by direction with opaque tokens', async () => {
    const store = await open();
    await store.batch([1, 2, 3].map((n) => store.messages.inbox.put(`k${n}`, inbox(n))));
    const first = await store.messagePage('inbox', { limit: 2 });
    expect(first.items.map((m) => m.record.messageId)).toEqual(['m1', 'm2']);
    const second = await store.messagePage('inbox', { limit: 2, token: first.next });
    expect(second.items.map((m) => m.record.messageId)).toEqual(['m3']);
    expect(second.next).toBe('');
    expect((await store.messagePage('sent', { limit: 2 })).items).toEqual([]);
  });

  it('reads a snapshot as it was when it was taken', async () => {
    const store = await open();
    await store.batch([store.messages.inbox.put('k1', inbox(1))]);
    const seen = await store.snapshot(async ({ snapshot }) => {
      await store.batch([store.messages.inbox.put('k2', inbox(2)), store.messages.inbox.del('k1')]);
      const keys: string[] = [];
      for await (const key of store.messages.inbox.keys({ snapshot })) keys.push(key);
      return { keys, k1: await store.messages.inbox.get('k1', { snapshot }) };
    });
    expect(seen).toEqual({ keys: ['k1'], k1: inbox(1) });
  });
});

describe('LevelDB store', () => {
  it('refuses a stored value that is not what its repository wrote, naming where it is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-repos-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const location = join(dir, 'store');
    await (await openStore(location)).close();
    const db = new Level<string, string>(location);
    await db.put('!seen!FRA\u0000m1', JSON.stringify({ status: 'maybe', receipt: '' }));
    await db.put('!outbox!m2', 'not json');
    await db.close();
    const store = await openStore(location);
    cleanups.push(() => store.close());
    const read = store.messages.seen.get('FRA\u0000m1');
    await expect(read).rejects.toBeInstanceOf(TracenetError);
    await expect(store.messages.seen.get('FRA\u0000m1')).rejects.toMatchObject({
      rule: 'store_value',
      message: expect.stringMatching(/seen\/FRA\\u0000m1\.status is not one of accepted, rejected/),
    });
    await expect(store.outbox.queue.get('m2')).rejects.toMatchObject({
      rule: 'store_value',
      message: expect.stringMatching(/outbox\/m2 is not JSON/),
    });
  });
});
