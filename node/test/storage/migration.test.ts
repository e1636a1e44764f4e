/**
 * The store's layout version (docs/adr/0011-typed-repositories.md): a store written before the
 * version was recorded (the committed fixture, written by commit a79a564 with
 * scripts/make-store-fixture.mjs) is copied aside and migrated when the node opens it, and keeps its
 * cases, messages, records and an intact audit log; a store of a later layout is refused by name.
 */
import { chmod, cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { CaseState, MessageKind } from '@tracenet/proto';
import { afterEach, expect, it } from 'vitest';
import { TracenetNode } from '../../src/node.js';
import { openStore, STORE_SCHEMA_VERSION, StoreVersionError } from '../../src/store/store.js';
import { testConfig } from '../support/nodes.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/store-v1', import.meta.url));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function copyOfFixture(): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'tracenet-migration-'));
  cleanups.push(() => rm(base, { recursive: true, force: true }));
  const dataDir = join(base, 'BEL');
  await cp(FIXTURE, dataDir, { recursive: true });
  // Git keeps no file modes beyond the executable bit; the node refuses key files others can read.
  for (const name of await readdir(join(dataDir, 'keys'))) await chmod(join(dataDir, 'keys', name), 0o600);
  return dataDir;
}

it('migrates a store of layout 1 at open, after copying it aside, and keeps everything in it', async () => {
  const dataDir = await copyOfFixture();
  const node = await TracenetNode.open({ dataDir, config: testConfig(), logger: pino({ level: 'silent' }) });
  cleanups.push(() => node.stop());
  const { store } = node;

  expect(store.opened.foundVersion).toBe(1);
  expect(await store.meta.schema.get()).toEqual({ version: STORE_SCHEMA_VERSION });
  const backups = (await readdir(dataDir)).filter((name) => name.startsWith('store.backup-v1-'));
  expect(backups).toHaveLength(1);
  expect(store.opened.backup).toBe(join(dataDir, backups[0] as string));

  // The case FRA's request opened, answered automatically, now listed through the new indexes.
  const all = await store.cases.page({ limit: 10 });
  expect(all.items).toHaveLength(1);
  const [answered] = all.items;
  expect(answered).toMatchObject({ peer: 'FRA', state: CaseState.CASE_STATE_ANSWERED });
  expect(
    (await store.cases.page({ state: CaseState.CASE_STATE_ANSWERED, limit: 10 })).items.map((c) => c.caseId),
  ).toEqual([answered?.caseId]);
  expect((await store.cases.page({ peer: 'FRA', limit: 10 })).items.map((c) => c.caseId)).toEqual([answered?.caseId]);
  expect((await store.cases.page({ peer: 'KEN', limit: 10 })).items).toEqual([]);
  expect((await node.workflow.list({ state: CaseState.CASE_STATE_ANSWERED })).cases.map((c) => c.caseId)).toEqual([
    answered?.caseId,
  ]);

  // Messages: the request received; the answer and the notice delivered with their receipts.
  const inbox = await store.messagePage('inbox', { limit: 10 });
  expect(inbox.items.map((m) => m.record.kind)).toContain(MessageKind.MESSAGE_KIND_TRACE_REQUEST);
  const sent = await store.messagePage('sent', { limit: 10 });
  expect(sent.items.map((m) => m.record.kind)).toEqual(
    expect.arrayContaining([MessageKind.MESSAGE_KIND_TRACE_ANSWER, MessageKind.MESSAGE_KIND_NOTICE]),
  );
  for (const m of sent.items) if (m.direction === 'sent') expect(m.record.receipt).not.toBe('');
  expect(await store.outbox.queue.count()).toBe(0);

  // The record, found by its serial.
  const records = [];
  for await (const [id, value] of store.records.records.entries()) records.push({ id, value });
  expect(records).toHaveLength(1);
  expect(await store.records.serials.count()).toBe(1);

  // The audit log is intact, and the node writes on after the migration.
  expect(await node.verifyAudit()).toMatchObject({ ok: true });
  await node.journal.write([], [{ type: 'policy.set', fields: { peer: 'FRA' } }]);
  expect(await node.verifyAudit()).toMatchObject({ ok: true });
  await node.stop();

  // Opened again: nothing more to migrate, no second copy.
  const again = await openStore(join(dataDir, 'store'));
  expect(again.opened).toEqual({ foundVersion: STORE_SCHEMA_VERSION });
  await again.close();
  expect((await readdir(dataDir)).filter((name) => name.startsWith('store.backup-'))).toHaveLength(1);
});

it('refuses a store of a later layout, naming both versions, and leaves it as it was', async () => {
  const base = await mkdtemp(join(tmpdir(), 'tracenet-migration-'));
  cleanups.push(() => rm(base, { recursive: true, force: true }));
  const location = join(base, 'store');
  const store = await openStore(location);
  expect(store.opened).toEqual({ foundVersion: 0 });
  await store.batch([store.meta.schema.put({ version: STORE_SCHEMA_VERSION + 1 })]);
  await store.close();

  const refused = openStore(location);
  await expect(refused).rejects.toBeInstanceOf(StoreVersionError);
  await expect(openStore(location)).rejects.toMatchObject({
    found: STORE_SCHEMA_VERSION + 1,
    supported: STORE_SCHEMA_VERSION,
    rule: 'store_version',
    message: expect.stringContaining(
      `layout version ${STORE_SCHEMA_VERSION + 1}, but this node reads versions up to ${STORE_SCHEMA_VERSION}`,
    ),
  });
  expect(await readdir(base)).toEqual(['store']);
});
