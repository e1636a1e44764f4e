/**
 * Tampering with the audit log of a real node (docs/protocol.md 8.6): a `tracenet start` process
 * writes its log into LevelDB and is killed (so that entries follow the last checkpoint) or stopped;
 * each test changes a copy of that store through `openStore`, as someone with disk access would,
 * and runs the verification. The signed head (ADR 0008) makes a truncation after the last
 * checkpoint, an appended entry and a deleted head detectable. Damage to LevelDB's files
 * themselves is in `storage-damage.test.ts`.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, type StoredAuditEntry, type StoredSignedHead } from '../../src/audit/audit-log.js';
import { verifyAuditLog } from '../../src/audit/verify.js';
import { initSodium } from '../../src/crypto/sodium.js';
import { dataPaths, loadIdentity, type NodeIdentity } from '../../src/identity/data-dir.js';
import { openStore, padNumber, type Store } from '../../src/store/store.js';
import { ProcessBed, readAudit } from '../integration/processes.js';
import { makeParty, RawFederationClient, sealFrom, type Party } from '../support/parties.js';
import { EXIT } from '../../src/cli/exit-codes.js';

const CHECKPOINT_EVERY = 10;
/** Notices a pinned party delivers: each is audited as received (one entry per commit). */
const DELIVERIES = 24;

const bed = new ProcessBed();
let identity: NodeIdentity;
/** Pinned on the node. */
let party: Party;
/** Data directory of the killed node: its log has entries after the last checkpoint. */
let crashed: string;
/** Data directory of a node stopped in order: a checkpoint covers its whole log. */
let stopped: string;
let copies = 0;

/** Starts a node, delivers DELIVERIES notices to it one after the other, and ends it. */
async function writeLog(dataDir: string, end: 'kill' | 'stop'): Promise<void> {
  const node = await bed.start(dataDir, { env: { TRACENET_AUDIT_CHECKPOINT_EVERY: String(CHECKPOINT_EVERY) } });
  const client = new RawFederationClient(node.runtime.federation, identity.tlsCertificatePem, party.identity.tls);
  try {
    for (let i = 0; i < DELIVERIES; i += 1) await client.deliver(sealFrom(party.identity, identity, Date.now()).bytes);
  } finally {
    client.close();
  }
  await (end === 'kill' ? node.kill() : node.stop());
}

beforeAll(async () => {
  await initSodium();
  crashed = await bed.init('KEN');
  identity = await loadIdentity(crashed);
  party = await makeParty('FRA', Date.now());
  await bed.cliOk(['peers', 'add', dataPaths(party.dataDir).card, '--data', crashed]);
  await writeLog(crashed, 'kill');
  stopped = join(await bed.tempDir('stopped'), 'data');
  await cp(crashed, stopped, { recursive: true });
  await writeLog(stopped, 'stop');
}, 60_000);

afterAll(async () => {
  await bed.cleanup();
  await party?.cleanup();
});

/** A copy of `source` to tamper with. */
async function copyOf(source: string): Promise<string> {
  const dir = join(await bed.tempDir(`copy${(copies += 1)}`), 'data');
  await cp(source, dir, { recursive: true });
  return dir;
}

async function withStore<T>(dataDir: string, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(dataPaths(dataDir).store);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

const verify = (dataDir: string) =>
  withStore(dataDir, (store) => verifyAuditLog(store, identity.keys.signingPublicKey));

async function entry(store: Store, seq: number): Promise<StoredAuditEntry> {
  const value = await store.audit.entries.get(padNumber(seq));
  if (!value) throw new Error(`no entry ${seq}`);
  return value as unknown as StoredAuditEntry;
}

async function lastSeq(store: Store): Promise<number> {
  for await (const key of store.audit.entries.keys({ reverse: true, limit: 1 })) return Number(key);
  return 0;
}

async function lastCheckpoint(store: Store): Promise<number> {
  for await (const key of store.audit.checkpoints.keys({ reverse: true, limit: 1 })) return Number(key);
  return 0;
}

describe('audit verification of a real node store', () => {
  it('verifies the untouched logs, and the CLI agrees', async () => {
    const crash = await verify(crashed);
    expect(crash).toMatchObject({ ok: true, reason: '' });
    // peer.pinned, node.started and the deliveries; the crash left entries after the last checkpoint.
    expect(crash.entries).toBe(DELIVERIES + 2);
    const tail = await withStore(crashed, async (store) => ({
      last: await lastSeq(store),
      checkpoint: await lastCheckpoint(store),
    }));
    expect(tail.checkpoint).toBeGreaterThan(0);
    expect(tail.checkpoint).toBeLessThan(tail.last);
    const stop = await verify(stopped);
    expect(stop.ok).toBe(true);
    const result = await bed.cli(['audit', 'verify', '--data', stopped, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, entries: stop.entries });
  });

  it('detects a modified entry (hash left alone), and the CLI exits 7 (audit broken)', async () => {
    const dir = await copyOf(crashed);
    await withStore(dir, async (store) => {
      const five = await entry(store, 5);
      await store.batch([store.audit.entries.put(padNumber(5), { ...five, line: five.line.replace('"in"', '"out"') })]);
    });
    expect(await verify(dir)).toMatchObject({
      ok: false,
      firstBrokenSeq: 5,
      reason: expect.stringMatching(/hash mismatch/),
    });
    const result = await bed.cli(['audit', 'verify', '--data', dir]);
    expect(result.code).toBe(EXIT.auditBroken);
    expect(result.stdout).toMatch(/BROKEN at entry 5/);
  });

  it('detects a modified tail whose hashes were recomputed, by the checkpoint or the signed head', async () => {
    for (const source of [crashed, stopped]) {
      const dir = await copyOf(source);
      const from = await withStore(dir, async (store) => {
        const last = await lastSeq(store);
        const from = last - 2;
        let prev = (await entry(store, from - 1)).hash;
        for (let seq = from; seq <= last; seq += 1) {
          const line = (await entry(store, seq)).line
            .replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${prev}"`)
            .replace('"in"', '"out"');
          const hash = entryHash(prev, line);
          await store.batch([store.audit.entries.put(padNumber(seq), { line, hash })]);
          prev = hash;
        }
        return from;
      });
      const result = await verify(dir);
      expect(result.ok).toBe(false);
      expect(result.firstBrokenSeq).toBeLessThanOrEqual(from);
      expect(result.reason).toMatch(/checkpoint|signed head/);
    }
  });

  it('detects a deleted entry', async () => {
    const dir = await copyOf(crashed);
    await withStore(dir, (store) => store.batch([store.audit.entries.del(padNumber(7))]));
    expect(await verify(dir)).toMatchObject({
      ok: false,
      firstBrokenSeq: 7,
      entries: 6,
      reason: expect.stringMatching(/gap/),
    });
  });

  it('detects reordered entries', async () => {
    const dir = await copyOf(crashed);
    await withStore(dir, async (store) => {
      const [eight, nine] = [await entry(store, 8), await entry(store, 9)];
      await store.batch([store.audit.entries.put(padNumber(8), { ...nine })]);
      await store.batch([store.audit.entries.put(padNumber(9), { ...eight })]);
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBrokenSeq: 8 });
  });

  it('detects a truncation after the last checkpoint (undetectable before the signed head)', async () => {
    const dir = await copyOf(crashed);
    const { last, checkpoint } = await withStore(dir, async (store) => {
      const tail = { last: await lastSeq(store), checkpoint: await lastCheckpoint(store) };
      for (let seq = tail.checkpoint + 2; seq <= tail.last; seq += 1)
        await store.batch([store.audit.entries.del(padNumber(seq))]);
      return tail;
    });
    expect(last - checkpoint).toBeGreaterThan(1);
    expect(await verify(dir)).toMatchObject({
      ok: false,
      firstBrokenSeq: checkpoint + 2,
      entries: checkpoint + 1,
      reason: expect.stringMatching(/truncated/),
    });
  });

  it('detects a truncation together with the checkpoints that cover it', async () => {
    const dir = await copyOf(stopped);
    await withStore(dir, async (store) => {
      const last = await lastSeq(store);
      for (let seq = 15; seq <= last; seq += 1) {
        await store.batch([store.audit.entries.del(padNumber(seq))]);
        await store.batch([store.audit.checkpoints.del(padNumber(seq))]);
      }
    });
    expect(await verify(dir)).toMatchObject({
      ok: false,
      firstBrokenSeq: 15,
      reason: expect.stringMatching(/truncated/),
    });
  });

  it('detects a deleted head, a forged head and entries appended after the head', async () => {
    const noHead = await copyOf(crashed);
    await withStore(noHead, async (store) => {
      const last = await lastSeq(store);
      await store.batch([store.audit.entries.del(padNumber(last))]);
      await store.batch([store.audit.signedHead.del()]);
    });
    expect(await verify(noHead)).toMatchObject({ ok: false, reason: expect.stringMatching(/no signed head/) });

    // The head moved back to the truncated end: its signature no longer verifies.
    const forged = await copyOf(crashed);
    await withStore(forged, async (store) => {
      const last = await lastSeq(store);
      await store.batch([store.audit.entries.del(padNumber(last))]);
      const head = (await store.audit.signedHead.get()) as unknown as StoredSignedHead;
      await store.batch([
        store.audit.signedHead.put({ ...head, seq: last - 1, hash: (await entry(store, last - 1)).hash }),
      ]);
    });
    expect(await verify(forged)).toMatchObject({ ok: false, reason: expect.stringMatching(/signed head signature/) });

    // A correctly chained entry added at the end: the head does not cover it.
    const appended = await copyOf(crashed);
    const next = await withStore(appended, async (store) => {
      const last = await lastSeq(store);
      const prev = (await entry(store, last)).hash;
      const line = JSON.stringify({ peer: 'FRA', seq: last + 1, at: Date.now(), type: 'peer.pinned', prev });
      await store.batch([store.audit.entries.put(padNumber(last + 1), { line, hash: entryHash(prev, line) })]);
      return last + 1;
    });
    expect(await verify(appended)).toMatchObject({
      ok: false,
      firstBrokenSeq: next,
      reason: expect.stringMatching(/after the signed head/),
    });
  });

  it('a node refuses to start on a truncated log; accepted with --accept-audit-damage, the break is recorded, not signed over', async () => {
    const dir = await copyOf(crashed);
    const last = await withStore(dir, async (store) => {
      const last = await lastSeq(store);
      await store.batch([store.audit.entries.del(padNumber(last))]);
      return last;
    });
    const refused = await bed.cli([
      'start',
      '--data',
      dir,
      '--federation-listen',
      '127.0.0.1:0',
      '--authority-listen',
      '127.0.0.1:0',
    ]);
    expect(refused.code).toBe(EXIT.auditBroken);
    expect(refused.stderr).toMatch(
      new RegExp(
        `the audit log is damaged: truncated: the signed head names entry ${last} but the log ends at ${last - 1}`,
      ),
    );

    const node = await bed.start(dir, { args: ['--accept-audit-damage'] });
    const live = (await node.client.call('verifyAudit', {})).result;
    expect(live).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /at start the node found its audit log damaged: truncated.*the operator accepted this damage/,
      ),
    });
    await node.stop();
    const lines = await readAudit(dir);
    const broken = lines.find((line) => line.type === 'audit.broken');
    expect(broken).toMatchObject({ seq: last, kind: 'truncated', headSeq: last, foundSeq: last - 1 });
    expect(lines.find((line) => line.type === 'audit.damage_accepted')).toMatchObject({
      seq: last + 1,
      brokenSeq: last,
      setAside: '',
    });
    // Stays reported after further commits and a stop: the new signed head covers the record of the break.
    expect(await verify(dir)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/found its audit log damaged/),
    });
    // And the next start needs no flag: the damage is accepted.
    const again = await bed.start(dir);
    await again.stop();
  });
});
