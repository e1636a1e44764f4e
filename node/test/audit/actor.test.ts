/**
 * An audit that names who (docs/protocol.md 8.1): the journal stamps every entry with the actor of
 * the write — the officer or client and the session of a local action, the node for its own steps —
 * inside the hashed line, so that the hash chain, checkpoints and signed heads cover it; entries
 * written before accounts existed (the committed store-v1 fixture) carry none and stay valid.
 * Real LevelDB throughout.
 */
import { chmod, cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { TracenetError } from '@tracenet/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, currentActor, runAs } from '../../src/access/actor.js';
import { actorOfLine, entryHash, Journal, type StoredAuditEntry } from '../../src/audit/audit-log.js';
import {
  AUDIT_PAGE_MAX,
  AUDIT_SCAN_BUDGET,
  type AuditQuery,
  listAuditEntries,
  scanAuditEntries,
  storeAuditEntries,
} from '../../src/audit/audit-query.js';
import { checkStoredAudit } from '../../src/audit/store-check.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { generateKeyPairs, keyIdOf, type KeyPairs } from '../../src/crypto/key-pairs.js';
import { initSodium } from '../../src/crypto/sodium.js';
import { TracenetNode } from '../../src/node.js';
import { openStore, padNumber, type Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler, systemScheduler } from '../../src/util/scheduler.js';
import { rejectionOf } from '../support/parties.js';
import { testConfig, testLogger } from '../support/nodes.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/store-v1', import.meta.url));
const ANA: Actor = { kind: 'officer', id: 'o-ana', roles: ['officer'], session: 's-ana-1' };
const BOB: Actor = { kind: 'officer', id: 'o-bob', roles: ['supervisor'], session: 's-bob-7' };
const CASES: Actor = { kind: 'client', id: 'c-case-system', roles: ['officer'], session: 'k-4f2a' };
const BOOTSTRAP: Actor = { kind: 'bootstrap', id: '', roles: ['administrator'], session: '' };

let keys: KeyPairs;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  await initSodium();
  keys = generateKeyPairs();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-audit-actor-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A real LevelDB store in `dir/store` and its journal, checkpoint every 4 entries, head also in `dir/audit-head.json`. */
async function journalIn(dir: string, clock = new ManualClock()): Promise<{ store: Store; journal: Journal }> {
  const store = await openStore(join(dir, 'store'));
  let closed = false;
  const close = async () => {
    if (!closed) await store.close();
    closed = true;
  };
  cleanups.push(close);
  const journal = new Journal({
    store,
    clock,
    logger: testLogger(),
    keyId: keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey),
    signingSecretKey: keys.signingSecretKey,
    checkpointEvery: 4,
    headFile: { path: join(dir, 'audit-head.json'), sync: true },
  });
  await journal.init();
  return { store, journal };
}

async function lines(store: Store): Promise<Array<Record<string, unknown>>> {
  const all: Array<Record<string, unknown>> = [];
  for await (const value of store.audit.entries.values()) all.push(JSON.parse(value.line) as Record<string, unknown>);
  return all;
}

const event = (type: 'case.changed' | 'policy.set' | 'message.received', n: number) => ({
  type,
  fields: { caseId: `case-${n}`, peer: 'FRA' },
});

describe('the journal names the actor of every entry (8.1)', () => {
  it('an entry written inside runAs(officer) names the officer and the session; outside any, the node', async () => {
    const { store, journal } = await journalIn(await tempDir());
    await runAs(ANA, () => journal.write([], [event('case.changed', 1)]));
    await journal.write([], [event('case.changed', 2)]);
    await runAs(CASES, () => journal.write([], [event('case.changed', 3)]));
    await runAs(BOOTSTRAP, () => journal.write([], [event('policy.set', 4)]));
    const [a, b, c, d] = await lines(store);
    expect(a?.actor).toEqual({ kind: 'officer', id: 'o-ana', session: 's-ana-1' });
    expect(b?.actor).toEqual({ kind: 'node', id: '', session: '' });
    expect(c?.actor).toEqual({ kind: 'client', id: 'c-case-system', session: 'k-4f2a' });
    expect(d?.actor).toEqual({ kind: 'bootstrap', id: '', session: '' });
    // Ids only: the roles are not the entry's business, and nothing else of the actor is written.
    expect(JSON.stringify(a)).not.toContain('roles');
    expect(await verifyAuditLog(store, keys.signingPublicKey)).toMatchObject({ ok: true, entries: 4 });
  });

  it('writes of different actors grouped into one commit each name their own actor', async () => {
    const { store, journal } = await journalIn(await tempDir());
    // Issued together, so that one drain (started in ANA's context) commits all of them in one batch.
    await Promise.all([
      runAs(ANA, () => journal.write([], [event('case.changed', 1)])),
      runAs(BOB, () => journal.write([], [event('case.changed', 2), event('case.changed', 3)])),
      journal.write([], [event('message.received', 4)]),
      runAs(CASES, () => journal.write([], [event('case.changed', 5)])),
    ]);
    const all = await lines(store);
    expect(new Set(all.map((l) => l.at)).size).toBe(1);
    expect(all.map((l) => [l.caseId, actorOfLine(l)?.id, actorOfLine(l)?.kind])).toEqual([
      ['case-1', 'o-ana', 'officer'],
      ['case-2', 'o-bob', 'officer'],
      ['case-3', 'o-bob', 'officer'],
      ['case-4', '', 'node'],
      ['case-5', 'c-case-system', 'client'],
    ]);
  });

  it('an event field named like the actor or a chain member cannot stand in for them', async () => {
    const { store, journal } = await journalIn(await tempDir());
    await runAs(ANA, () =>
      journal.write([], [{ type: 'policy.set', fields: { actor: 'o-bob', seq: 99, peer: 'FRA' } }]),
    );
    const [line] = await lines(store);
    expect(line?.actor).toEqual({ kind: 'officer', id: 'o-ana', session: 's-ana-1' });
    expect(line?.seq).toBe(1);
  });

  it("the stamped members follow the event's fields: actor, then the chain members (8.1)", async () => {
    const { store, journal } = await journalIn(await tempDir());
    await runAs(ANA, () => journal.write([], [event('case.changed', 1)]));
    const [line] = await lines(store);
    expect(Object.keys(line ?? {})).toEqual(['caseId', 'peer', 'actor', 'seq', 'at', 'type', 'prev']);
  });

  it("a timer set during an officer's request fires as the node: an automatic step is the node's", async () => {
    const { store, journal } = await journalIn(await tempDir());
    const manual = new ManualScheduler();
    const seen: string[] = [];
    let wrote: Promise<void> = Promise.resolve();
    runAs(ANA, () => {
      manual.setTimeout(() => {
        seen.push(currentActor().kind);
        wrote = journal.write([], [event('case.changed', 1)]);
      }, 60_000);
    });
    const fired = new Promise<string>((resolve) => {
      runAs(BOB, () => systemScheduler.setTimeout(() => resolve(currentActor().kind), 0));
    });
    await manual.advance(60_000);
    await wrote;
    expect(seen).toEqual(['node']);
    expect(await fired).toBe('node');
    expect((await lines(store))[0]?.actor).toEqual({ kind: 'node', id: '', session: '' });
  });
});

describe('the verification covers the actor (8.6)', () => {
  /** A log of 10 entries by ANA, the node and CASES, in `dir`; the store closed again. */
  async function logIn(dir: string): Promise<void> {
    const clock = new ManualClock(Date.UTC(2026, 11, 5));
    const { store, journal } = await journalIn(dir, clock);
    for (let i = 1; i <= 10; i += 1) {
      clock.advance(1000);
      const actor = i % 3 === 0 ? CASES : i % 3 === 1 ? ANA : undefined;
      const write = () => journal.write([], [event('case.changed', i)]);
      await (actor ? runAs(actor, write) : write());
    }
    await store.close();
  }

  async function tamper(dir: string, seq: number, change: (line: Record<string, unknown>) => void, rehash: boolean) {
    const store = await openStore(join(dir, 'store'));
    try {
      const stored = (await store.audit.entries.get(padNumber(seq))) as StoredAuditEntry;
      const line = JSON.parse(stored.line) as Record<string, unknown>;
      change(line);
      const text = JSON.stringify(line);
      let hash = rehash ? entryHash(String(line.prev), text) : stored.hash;
      const batch = [store.audit.entries.put(padNumber(seq), { line: text, hash })];
      if (rehash) {
        // An informed attacker without the signing key relinks every later entry too.
        for await (const [key, later] of store.audit.entries.entries({ gt: padNumber(seq) })) {
          const next = JSON.parse(later.line) as Record<string, unknown>;
          next.prev = hash;
          const nextText = JSON.stringify(next);
          hash = entryHash(hash, nextText);
          batch.push(store.audit.entries.put(key, { line: nextText, hash }));
        }
      }
      await store.batch(batch);
      return (await verifyAuditLog(store, keys.signingPublicKey, join(dir, 'audit-head.json'))).ok
        ? 'ok'
        : (await verifyAuditLog(store, keys.signingPublicKey, join(dir, 'audit-head.json'))).reason;
    } finally {
      await store.close();
    }
  }

  const offline = (dir: string) =>
    checkStoredAudit({ store: join(dir, 'store'), auditHead: join(dir, 'audit-head.json') }, keys.signingPublicKey);

  it('the untouched log verifies, live and from the store files', async () => {
    const dir = await tempDir();
    await logIn(dir);
    expect((await offline(dir)).verification).toMatchObject({ ok: true, entries: 10, checkpoints: 2 });
  });

  it('changing the officer an entry names breaks the chain at that entry: hash mismatch, also offline', async () => {
    const dir = await tempDir();
    await logIn(dir);
    const reason = await tamper(dir, 4, (line) => (line.actor = { ...(line.actor as object), id: 'o-bob' }), false);
    expect(reason).toContain('hash mismatch');
    expect((await offline(dir)).verification).toMatchObject({ ok: false, firstBrokenSeq: 4 });
  });

  it('changing the session, or the kind (a client passed off as the node), breaks it too', async () => {
    for (const change of [
      (line: Record<string, unknown>) => (line.actor = { ...(line.actor as object), session: 's-other' }),
      (line: Record<string, unknown>) => (line.actor = { kind: 'node', id: '', session: '' }),
    ]) {
      const dir = await tempDir();
      await logIn(dir);
      expect(await tamper(dir, 6, change, false)).toContain('hash mismatch');
      expect((await offline(dir)).verification).toMatchObject({ ok: false, firstBrokenSeq: 6 });
    }
  });

  it('removing the actor, to pass an entry off as one written before accounts, breaks it', async () => {
    const dir = await tempDir();
    await logIn(dir);
    expect(await tamper(dir, 10, (line) => delete line.actor, false)).toContain('hash mismatch');
  });

  it('rewriting the actor and relinking every later entry is caught by the signed checkpoints and heads', async () => {
    const dir = await tempDir();
    await logIn(dir);
    const reason = await tamper(dir, 10, (line) => (line.actor = { kind: 'officer', id: 'o-bob', session: 's' }), true);
    expect(reason).toMatch(/no longer reaches the signed (head|checkpoint)/);
    const early = await tempDir();
    await logIn(early);
    expect(await tamper(early, 2, (line) => delete line.actor, true)).toMatch(
      /no longer reaches the signed checkpoint/,
    );
    expect((await offline(early)).verification.ok).toBe(false);
  });
});

describe('listing by who and when (ListAudit)', () => {
  const T0 = Date.UTC(2026, 11, 5, 9);
  const query = (q: Partial<AuditQuery>): AuditQuery => ({
    officerId: '',
    clientId: '',
    sinceMs: 0,
    untilMs: 0,
    limit: 0,
    cursor: '',
    ...q,
  });

  /** Entries 1..12 at T0 + i minutes: by ANA (1, 4, 7, 10), BOB (2, 5, 8, 11), the case system (3, 6, 9) and the node (12). */
  async function listed(): Promise<Store> {
    const clock = new ManualClock(T0);
    const { store, journal } = await journalIn(await tempDir(), clock);
    const actors = [ANA, BOB, CASES];
    for (let i = 1; i <= 12; i += 1) {
      clock.set(T0 + i * 60_000);
      const actor = i === 12 ? undefined : actors[(i - 1) % 3];
      const write = () => journal.write([], [event('case.changed', i)]);
      await (actor ? runAs(actor, write) : write());
    }
    return store;
  }

  const seqs = (page: { entries: Array<{ seq: number }> }) => page.entries.map((e) => e.seq);

  it('--officer lists the entries of that officer, with actor, time, type and fields', async () => {
    const store = await listed();
    const page = await listAuditEntries(storeAuditEntries(store), query({ officerId: 'o-ana' }));
    expect(seqs(page)).toEqual([1, 4, 7, 10]);
    expect(page.nextCursor).toBe('');
    expect(page.entries[1]).toMatchObject({
      seq: 4,
      atMs: T0 + 4 * 60_000,
      type: 'case.changed',
      actor: { kind: 'officer', id: 'o-ana', session: 's-ana-1' },
    });
    expect(JSON.parse(page.entries[1]?.fieldsJson ?? '')).toEqual({ caseId: 'case-4', peer: 'FRA' });
    expect(page.entries[1]?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('--client lists that client; with --officer, the entries of either; an unknown id lists none', async () => {
    const store = await listed();
    const source = storeAuditEntries(store);
    expect(seqs(await listAuditEntries(source, query({ clientId: 'c-case-system' })))).toEqual([3, 6, 9]);
    expect(seqs(await listAuditEntries(source, query({ officerId: 'o-bob', clientId: 'c-case-system' })))).toEqual([
      2, 3, 5, 6, 8, 9, 11,
    ]);
    // An officer id is not a client id, and the reverse.
    expect(seqs(await listAuditEntries(source, query({ clientId: 'o-ana' })))).toEqual([]);
    expect(seqs(await listAuditEntries(source, query({ officerId: 'c-case-system' })))).toEqual([]);
    expect(seqs(await listAuditEntries(source, query({ officerId: 'o-nobody' })))).toEqual([]);
  });

  it('--since is inclusive, --until exclusive, and both combine with the officer', async () => {
    const store = await listed();
    const source = storeAuditEntries(store);
    const at = (i: number) => T0 + i * 60_000;
    expect(seqs(await listAuditEntries(source, query({ sinceMs: at(10) })))).toEqual([10, 11, 12]);
    expect(seqs(await listAuditEntries(source, query({ untilMs: at(3) })))).toEqual([1, 2]);
    expect(
      seqs(await listAuditEntries(source, query({ officerId: 'o-ana', sinceMs: at(4), untilMs: at(10) }))),
    ).toEqual([4, 7]);
  });

  it('pages with a cursor, to the end, without repeating or skipping an entry', async () => {
    const store = await listed();
    const source = storeAuditEntries(store);
    const first = await listAuditEntries(source, query({ limit: 5 }));
    expect(seqs(first)).toEqual([1, 2, 3, 4, 5]);
    const second = await listAuditEntries(source, query({ limit: 5, cursor: first.nextCursor }));
    expect(seqs(second)).toEqual([6, 7, 8, 9, 10]);
    const third = await listAuditEntries(source, query({ limit: 5, cursor: second.nextCursor }));
    expect(seqs(third)).toEqual([11, 12]);
    expect(third.nextCursor).toBe('');
    const ana = await listAuditEntries(source, query({ officerId: 'o-ana', limit: 2 }));
    expect(seqs(ana)).toEqual([1, 4]);
    expect(
      seqs(await listAuditEntries(source, query({ officerId: 'o-ana', limit: 2, cursor: ana.nextCursor }))),
    ).toEqual([7, 10]);
  });

  it('a page reads at most its budget of entries: it may end early, even empty, with a cursor that goes on', async () => {
    const store = await listed();
    const source = storeAuditEntries(store);
    const filter = { officerId: 'o-ana', clientId: '', sinceMs: 0, untilMs: 0 };
    expect(await scanAuditEntries(source, filter, 0, 100, 5)).toMatchObject({ nextCursor: '5' });
    expect(seqs(await scanAuditEntries(source, filter, 0, 100, 5))).toEqual([1, 4]);
    const nobody = { ...filter, officerId: 'o-nobody' };
    expect(await scanAuditEntries(source, nobody, 5, 100, 5)).toEqual({ entries: [], nextCursor: '10' });
    expect(await scanAuditEntries(source, nobody, 10, 100, 5)).toEqual({ entries: [], nextCursor: '' });
    expect(seqs(await scanAuditEntries(source, filter, 5, 100, 5))).toEqual([7, 10]);
    expect(AUDIT_SCAN_BUDGET).toBeGreaterThanOrEqual(10 * AUDIT_PAGE_MAX);
  });

  it('bad input is INVALID_FIELD naming every problem', async () => {
    const store = await listed();
    const error = TracenetError.from(
      await rejectionOf(
        listAuditEntries(
          storeAuditEntries(store),
          query({ limit: 1001, sinceMs: T0, untilMs: T0 - 1, cursor: 'abc', officerId: 'x'.repeat(201) }),
        ),
      ),
    );
    expect(error.codeName).toBe('INVALID_FIELD');
    expect(error.violations.map((v) => `${v.field}:${v.rule}`)).toEqual([
      'limit:max',
      'until_ms:after_since',
      'officer_id:max_length',
      'cursor:format',
    ]);
  });
});

describe('entries written before accounts existed (the store-v1 fixture)', () => {
  async function copyOfFixture(): Promise<string> {
    const dataDir = join(await tempDir(), 'BEL');
    await cp(FIXTURE, dataDir, { recursive: true });
    for (const name of await readdir(join(dataDir, 'keys'))) await chmod(join(dataDir, 'keys', name), 0o600);
    return dataDir;
  }

  it('carry no actor, verify, and still verify with new entries naming their actor after them', async () => {
    const dataDir = await copyOfFixture();
    const node = await TracenetNode.open({ dataDir, config: testConfig(), logger: pino({ level: 'silent' }) });
    cleanups.push(() => node.stop());
    const before = await listAuditEntries(storeAuditEntries(node.store), {
      officerId: '',
      clientId: '',
      sinceMs: 0,
      untilMs: 0,
      limit: 1000,
      cursor: '',
    });
    expect(before.entries.length).toBeGreaterThan(3);
    // The fixture's entries, older than accounts, name nobody (the node's own migration entries, if any, name the node).
    const old = before.entries.filter((e) => e.actor === undefined);
    expect(old.length).toBeGreaterThan(3);
    expect(old.map((e) => e.type)).toContain('message.received');
    expect(await node.verifyAudit()).toMatchObject({ ok: true });

    await runAs(ANA, () => node.journal.write([], [{ type: 'policy.set', fields: { peer: 'FRA' } }]));
    expect(await node.verifyAudit()).toMatchObject({ ok: true });
    const ana = await listAuditEntries(storeAuditEntries(node.store), {
      officerId: 'o-ana',
      clientId: '',
      sinceMs: 0,
      untilMs: 0,
      limit: 0,
      cursor: '',
    });
    expect(ana.entries.map((e) => [e.type, e.actor?.session])).toEqual([['policy.set', 's-ana-1']]);
  });

  it('the fixture verifies from its files before any node opens it', async () => {
    const dataDir = await copyOfFixture();
    const identity = await (await import('../../src/identity/data-dir.js')).loadIdentity(dataDir);
    const check = await checkStoredAudit(
      { store: join(dataDir, 'store'), auditHead: join(dataDir, 'audit-head.json') },
      (keyId) => identity.signingPublicKeyOf(keyId),
    );
    expect(check.verification).toMatchObject({ ok: true });
    expect(check.verification.entries).toBeGreaterThan(3);
  });
});
