import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, Journal, type StoredAuditEntry, type StoredCheckpoint } from '../src/audit/audit-log.js';
import { verifyAuditLog } from '../src/audit/verify.js';
import { initSodium } from '../src/crypto/sodium.js';
import { generateKeyPairs, keyIdOf, type KeyPairs } from '../src/identity/keys.js';
import { openStore, padNumber, type Store } from '../src/store/store.js';
import { ManualClock } from '../src/util/clock.js';
import { testLogger } from './support/nodes.js';

const ENTRIES = 12;
const CHECKPOINT_EVERY = 5;

let keys: KeyPairs;
const opened: Array<{ store: Store; dir: string }> = [];

beforeAll(async () => {
  await initSodium();
  keys = generateKeyPairs();
});

afterEach(async () => {
  for (const { store, dir } of opened.splice(0)) {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

function journalOf(store: Store, clock: ManualClock): Journal {
  return new Journal({
    store,
    clock,
    logger: testLogger(),
    keyId: keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey),
    signingSecretKey: keys.signingSecretKey,
    checkpointEvery: CHECKPOINT_EVERY,
  });
}

/** A real LevelDB store with an audit chain of ENTRIES entries (checkpoints at 5 and 10). */
async function chain(): Promise<{ store: Store; journal: Journal; dir: string; clock: ManualClock }> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-audit-'));
  const store = await openStore(join(dir, 'store'));
  opened.push({ store, dir });
  const clock = new ManualClock();
  const journal = journalOf(store, clock);
  await journal.init();
  for (let i = 1; i <= ENTRIES; i += 1) {
    clock.advance(1000);
    await journal.write([], [{ type: 'message.received', fields: { peer: 'FRA', messageId: `message-${i}`, n: i } }]);
  }
  return { store, journal, dir, clock };
}

async function entry(store: Store, seq: number): Promise<StoredAuditEntry> {
  return (await store.sub.audit.get(padNumber(seq))) as unknown as StoredAuditEntry;
}

async function put(store: Store, seq: number, value: StoredAuditEntry): Promise<void> {
  await store.sub.audit.put(padNumber(seq), { ...value });
}

/** Rewrites entry `seq` with `change` applied to its parsed line, recomputing its hash as an informed attacker would. */
async function rewrite(store: Store, seq: number, prev: string, change: (line: Record<string, unknown>) => void): Promise<string> {
  const line = JSON.parse((await entry(store, seq)).line) as Record<string, unknown>;
  change(line);
  line.prev = prev;
  const text = JSON.stringify(line);
  const hash = entryHash(prev, text);
  await put(store, seq, { line: text, hash });
  return hash;
}

const verify = (store: Store) => verifyAuditLog(store, keys.signingPublicKey);

describe('audit chain', () => {
  it('verifies an intact chain with its signed checkpoints', async () => {
    const { store, journal } = await chain();
    const result = await verify(store);
    expect(result).toMatchObject({ ok: true, entries: ENTRIES, checkpoints: 2, firstBrokenSeq: 0, headSeq: ENTRIES, headHash: journal.head.hash });
    await journal.checkpoint();
    expect((await verify(store)).checkpoints).toBe(3);
  });

  it('continues the chain after the store is opened again', async () => {
    const { store, dir, clock } = await chain();
    await store.close();
    const reopened = await openStore(join(dir, 'store'));
    opened.push({ store: reopened, dir });
    const journal = journalOf(reopened, clock);
    await journal.init();
    expect(journal.head.seq).toBe(ENTRIES);
    await journal.write([], [{ type: 'node.started', fields: {} }]);
    const result = await verify(reopened);
    expect(result).toMatchObject({ ok: true, entries: ENTRIES + 1 });
    const line = JSON.parse((await entry(reopened, ENTRIES + 1)).line) as { seq: number; prev: string; type: string };
    expect(line).toMatchObject({ seq: ENTRIES + 1, prev: (await entry(reopened, ENTRIES)).hash, type: 'node.started' });
  });

  it('writes the audit entry in the same batch as the data it records', async () => {
    const { store, journal } = await chain();
    await journal.write([{ type: 'put', sublevel: store.sub.inbox, key: 'k', value: { a: 1 } }], [{ type: 'message.received', fields: { messageId: 'k' } }]);
    expect(await store.sub.inbox.get('k')).toEqual({ a: 1 });
    expect(journal.head.seq).toBe(ENTRIES + 1);
    // A batch the store refuses writes neither the data nor the entry, and the chain stays usable.
    await expect(
      journal.write([{ type: 'put', sublevel: store.sub.inbox, key: 'bad', value: undefined as unknown as Record<string, unknown> }], [{ type: 'message.received', fields: {} }]),
    ).rejects.toThrow();
    expect(await store.sub.inbox.get('bad')).toBeUndefined();
    expect(await store.sub.audit.get(padNumber(ENTRIES + 2))).toBeUndefined();
    await journal.write([], [{ type: 'node.stopped', fields: {} }]);
    expect(await verify(store)).toMatchObject({ ok: true, entries: ENTRIES + 2 });
  });

  it('detects a modified entry whose hash was left alone', async () => {
    const { store } = await chain();
    const seven = await entry(store, 7);
    await put(store, 7, { ...seven, line: seven.line.replace('message-7', 'message-X') });
    const result = await verify(store);
    expect(result.ok).toBe(false);
    expect(result.firstBrokenSeq).toBe(7);
    expect(result.reason).toMatch(/hash/);
  });

  it('detects a modified entry whose hash was recomputed, at that entry', async () => {
    const { store } = await chain();
    await rewrite(store, 7, (await entry(store, 6)).hash, (line) => (line.messageId = 'message-X'));
    const result = await verify(store);
    expect(result.ok).toBe(false);
    expect(result.firstBrokenSeq).toBe(7);
  });

  it('detects a changed checkpointed entry through its checkpoint', async () => {
    const { store } = await chain();
    await rewrite(store, 10, (await entry(store, 9)).hash, (line) => (line.messageId = 'message-X'));
    const result = await verify(store);
    expect(result.ok).toBe(false);
    // The checkpoint at 10 no longer matches: something in 6..10 changed; 1..5 are proven by the checkpoint at 5.
    expect(result.firstBrokenSeq).toBe(6);
    expect(result.reason).toMatch(/checkpoint/);
    expect(result.entries).toBe(5);
  });

  it('detects a rewritten link right after a checkpoint at the rewritten entry', async () => {
    const { store } = await chain();
    // Entry 6 claims another predecessor; entry 5 is proven by its checkpoint, so 6 is the culprit.
    const six = JSON.parse((await entry(store, 6)).line) as Record<string, unknown>;
    six.prev = 'f'.repeat(64);
    const text = JSON.stringify(six);
    await put(store, 6, { line: text, hash: entryHash('f'.repeat(64), text) });
    const result = await verify(store);
    expect(result).toMatchObject({ ok: false, firstBrokenSeq: 6 });
  });

  it('detects a rewritten tail at the first entry no checkpoint vouches for', async () => {
    const { store } = await chain();
    // Entries 7..12 rewritten with consistent hashes: only the checkpoint at 10 can tell.
    let prev = (await entry(store, 6)).hash;
    for (let seq = 7; seq <= ENTRIES; seq += 1) prev = await rewrite(store, seq, prev, (line) => (line.messageId = `forged-${seq}`));
    const result = await verify(store);
    expect(result.ok).toBe(false);
    // Entries up to the checkpoint at 5 are proven; anything after it may be forged.
    expect(result.firstBrokenSeq).toBe(6);
    expect(result.reason).toMatch(/checkpoint/);
  });

  it('detects a deleted entry', async () => {
    const { store } = await chain();
    await store.sub.audit.del(padNumber(7));
    const result = await verify(store);
    expect(result.ok).toBe(false);
    expect(result.firstBrokenSeq).toBe(7);
    expect(result.entries).toBe(6);
  });

  it('detects reordered entries', async () => {
    const { store } = await chain();
    const [seven, eight] = [await entry(store, 7), await entry(store, 8)];
    await put(store, 7, eight);
    await put(store, 8, seven);
    const result = await verify(store);
    expect(result.ok).toBe(false);
    expect(result.firstBrokenSeq).toBe(7);
  });

  it('detects a truncation below a checkpoint', async () => {
    const { store } = await chain();
    for (let seq = 8; seq <= ENTRIES; seq += 1) await store.sub.audit.del(padNumber(seq));
    const result = await verify(store);
    expect(result.ok).toBe(false);
    expect(result.firstBrokenSeq).toBe(8);
    expect(result.reason).toMatch(/truncated/);
    expect(result.entries).toBe(7);
  });

  it('detects a tampered checkpoint signature, time or signer', async () => {
    const cases: Array<(c: StoredCheckpoint) => StoredCheckpoint> = [
      (c) => {
        const signature = Buffer.from(c.signature, 'base64');
        signature[3] = (signature[3] ?? 0) ^ 1;
        return { ...c, signature: signature.toString('base64') };
      },
      (c) => ({ ...c, signature: Buffer.from(c.signature, 'base64').subarray(0, 40).toString('base64') }),
      (c) => ({ ...c, signature: '' }),
      (c) => ({ ...c, at: c.at + 1 }),
    ];
    for (const change of cases) {
      const { store } = await chain();
      const checkpoint = (await store.sub.checkpoints.get(padNumber(5))) as unknown as StoredCheckpoint;
      await store.sub.checkpoints.put(padNumber(5), { ...change(checkpoint) });
      const result = await verify(store);
      expect(result.ok).toBe(false);
      expect(result.firstBrokenSeq).toBe(5);
      expect(result.reason).toMatch(/signature/);
    }
    // Verified with another participant's key, a genuine checkpoint does not verify either.
    const { store } = await chain();
    const result = await verifyAuditLog(store, generateKeyPairs().signingPublicKey);
    expect(result).toMatchObject({ ok: false, firstBrokenSeq: 5 });
  });

  it('reports entries that are not audit entries instead of throwing', async () => {
    for (const value of [{ line: 'not json', hash: 'x' }, { line: 'null', hash: 'x' }, { nothing: true }]) {
      const { store } = await chain();
      await store.sub.audit.put(padNumber(4), value as unknown as Record<string, unknown>);
      const result = await verify(store);
      expect(result.ok).toBe(false);
      expect(result.firstBrokenSeq).toBe(4);
    }
  });
});
