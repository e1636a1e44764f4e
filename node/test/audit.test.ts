import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  checkpointSignedBytes,
  entryHash,
  GENESIS_HASH,
  headSignedBytes,
  Journal,
  type StoredAuditEntry,
  type StoredCheckpoint,
  type StoredSignedHead,
} from '../src/audit/audit-log.js';
import { encodeSlot, type HeadFileContent, readSignedHeadFile } from '../src/audit/head-file.js';
import { type AuditRecords, checkAuditLog, checkAuditRecords, verifyAuditLog } from '../src/audit/verify.js';
import { initSodium, sodium } from '../src/crypto/sodium.js';
import { generateKeyPairs, keyIdOf, type KeyPairs } from '../src/crypto/key-pairs.js';
import { describeDamage } from '../src/store/leveldb-files.js';
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

function journalOf(store: Store, clock: ManualClock, headFile?: string): Journal {
  return new Journal({
    store,
    clock,
    logger: testLogger(),
    keyId: keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey),
    signingSecretKey: keys.signingSecretKey,
    checkpointEvery: CHECKPOINT_EVERY,
    ...(headFile ? { headFile: { path: headFile, sync: true } } : {}),
  });
}

/** A real LevelDB store with an audit chain of ENTRIES entries (checkpoints at 5 and 10), its head also in `<dir>/audit-head.json`. */
async function chain(): Promise<{ store: Store; journal: Journal; dir: string; clock: ManualClock }> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-audit-'));
  const store = await openStore(join(dir, 'store'));
  opened.push({ store, dir });
  const clock = new ManualClock();
  const journal = journalOf(store, clock, join(dir, 'audit-head.json'));
  await journal.init();
  for (let i = 1; i <= ENTRIES; i += 1) {
    clock.advance(1000);
    await journal.write([], [{ type: 'message.received', fields: { peer: 'FRA', messageId: `message-${i}`, n: i } }]);
  }
  return { store, journal, dir, clock };
}

async function entry(store: Store, seq: number): Promise<StoredAuditEntry> {
  return (await store.audit.entries.get(padNumber(seq))) as unknown as StoredAuditEntry;
}

async function put(store: Store, seq: number, value: StoredAuditEntry): Promise<void> {
  await store.batch([store.audit.entries.put(padNumber(seq), { ...value })]);
}

/** Rewrites entry `seq` with `change` applied to its parsed line, recomputing its hash as an informed attacker would. */
async function rewrite(
  store: Store,
  seq: number,
  prev: string,
  change: (line: Record<string, unknown>) => void,
): Promise<string> {
  const line = JSON.parse((await entry(store, seq)).line) as Record<string, unknown>;
  change(line);
  line.prev = prev;
  const text = JSON.stringify(line);
  const hash = entryHash(prev, text);
  await put(store, seq, { line: text, hash });
  return hash;
}

const verify = (store: Store) => verifyAuditLog(store, keys.signingPublicKey);

/**
 * Known answers for what an independent verifier of a stored log computes (docs/protocol.md 8.2,
 * 8.3): the expected values were computed outside the node (Python's hashlib.blake2b and the
 * layouts written out by hand), so a changed domain label, order or encoding fails here even
 * though every other audit test would still agree with itself.
 */
describe('audit known answers (8.2, 8.3)', () => {
  const zeros = '0'.repeat(64);
  const line = `{"seq":1,"at":1767225600000,"type":"node.started","fields":{},"prev":"${zeros}"}`;

  it('hash(1) = BLAKE2b-256(D("tracenet.v1/audit-entry") || 32 zero bytes || line)', () => {
    expect(entryHash(zeros, line)).toBe('17713bc1c4befeb423a2ebc3047d9bc52df3ba50e0a80182929ddb10351b7073');
  });

  it('a checkpoint signs D("tracenet.v1/audit-checkpoint") || u64be(seq) || hash || u64be(at); a signed head the same under D("tracenet.v1/audit-head")', () => {
    const hash = 'ab'.repeat(32);
    const seq = '0000000000000007';
    const at = '0000019b76daa800'; // 1767225600000
    const ascii = (label: string) => Buffer.from(`${label}\0`, 'latin1').toString('hex');
    expect(checkpointSignedBytes(7, hash, 1767225600000).toString('hex')).toBe(
      `${ascii('tracenet.v1/audit-checkpoint')}${seq}${hash}${at}`,
    );
    expect(headSignedBytes(7, hash, 1767225600000).toString('hex')).toBe(
      `${ascii('tracenet.v1/audit-head')}${seq}${hash}${at}`,
    );
  });
});

describe('audit chain', () => {
  it('verifies an intact chain with its signed checkpoints', async () => {
    const { store, journal } = await chain();
    const result = await verify(store);
    expect(result).toMatchObject({
      ok: true,
      entries: ENTRIES,
      checkpoints: 2,
      firstBrokenSeq: 0,
      headSeq: ENTRIES,
      headHash: journal.head.hash,
    });
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
    const seen = { status: 'accepted', bodyDigest: 'd', receipt: '' } as const;
    await journal.write(
      [store.messages.seen.put('k', seen)],
      [{ type: 'message.received', fields: { messageId: 'k' } }],
    );
    expect(await store.messages.seen.get('k')).toEqual(seen);
    expect(journal.head.seq).toBe(ENTRIES + 1);
    // A batch the store refuses writes neither the data nor the entry, and the chain stays usable.
    const refused = vi.spyOn(store, 'batch').mockRejectedValueOnce(new Error('refused'));
    await expect(
      journal.write([store.messages.seen.put('bad', seen)], [{ type: 'message.received', fields: {} }]),
    ).rejects.toThrow('refused');
    refused.mockRestore();
    expect(await store.messages.seen.get('bad')).toBeUndefined();
    expect(await store.audit.entries.get(padNumber(ENTRIES + 2))).toBeUndefined();
    await journal.write([], [{ type: 'node.stopped', fields: {} }]);
    expect(await verify(store)).toMatchObject({ ok: true, entries: ENTRIES + 2 });
  });

  it('commits the writes asked for in one turn of the event loop as one batch with one signed head, in their order', async () => {
    const { store, journal, dir } = await chain();
    const batch = vi.spyOn(store, 'batch');
    const seen = { status: 'accepted', bodyDigest: 'd', receipt: '' } as const;
    await Promise.all(
      Array.from({ length: 16 }, (_, n) =>
        journal.write(
          [store.messages.seen.put(`m${n}`, seen)],
          [{ type: 'message.received', fields: { messageId: `m${n}`, n } }],
        ),
      ),
    );
    expect(batch).toHaveBeenCalledTimes(1);
    batch.mockRestore();
    for (let n = 0; n < 16; n += 1) {
      expect(JSON.parse((await entry(store, ENTRIES + 1 + n)).line)).toMatchObject({ n, seq: ENTRIES + 1 + n });
      expect(await store.messages.seen.get(`m${n}`)).toEqual(seen);
    }
    // Resolved only once the head is signed in the store and in the file outside it.
    expect(await store.audit.signedHead.get()).toMatchObject({ seq: ENTRIES + 16 });
    expect(await readSignedHeadFile(join(dir, 'audit-head.json'))).toMatchObject({
      state: 'present',
      head: { seq: ENTRIES + 16 },
    });
    await journal.close();
    expect(await verify(store)).toMatchObject({ ok: true, entries: ENTRIES + 16 });
    // A write after close opens the head file again.
    await journal.write([], [{ type: 'node.stopped', fields: {} }]);
    expect(await readSignedHeadFile(join(dir, 'audit-head.json'))).toMatchObject({ head: { seq: ENTRIES + 17 } });
    await journal.close();
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
    for (let seq = 7; seq <= ENTRIES; seq += 1)
      prev = await rewrite(store, seq, prev, (line) => (line.messageId = `forged-${seq}`));
    const result = await verify(store);
    expect(result.ok).toBe(false);
    // Entries up to the checkpoint at 5 are proven; anything after it may be forged.
    expect(result.firstBrokenSeq).toBe(6);
    expect(result.reason).toMatch(/checkpoint/);
  });

  it('detects a deleted entry', async () => {
    const { store } = await chain();
    await store.batch([store.audit.entries.del(padNumber(7))]);
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
    for (let seq = 8; seq <= ENTRIES; seq += 1) await store.batch([store.audit.entries.del(padNumber(seq))]);
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
      const checkpoint = (await store.audit.checkpoints.get(padNumber(5))) as unknown as StoredCheckpoint;
      await store.batch([store.audit.checkpoints.put(padNumber(5), { ...change(checkpoint) })]);
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
      await store.batch([store.audit.evidence.put(padNumber(4), value)]);
      const result = await verify(store);
      expect(result.ok).toBe(false);
      expect(result.firstBrokenSeq).toBe(4);
    }
  });
});

describe('the signed head outside the store, and accepted damage', () => {
  const check = (store: Store, dir: string) =>
    checkAuditLog(store, keys.signingPublicKey, join(dir, 'audit-head.json'));

  it('detects a store rolled back consistently (entries, checkpoint and its own head), which the store alone cannot show', async () => {
    const { store, journal, dir } = await chain();
    const headAt12 = await store.audit.signedHead.get();
    await journal.write([], [{ type: 'message.received', fields: { n: 13 } }]);
    // Entry 13 removed with the head that named it, the head of 12 put back: what losing the newest LevelDB record does.
    await store.batch([store.audit.entries.del(padNumber(13))]);
    await store.batch([store.audit.signedHead.put(headAt12 as NonNullable<typeof headAt12>)]);
    expect(await verify(store)).toMatchObject({ ok: true, entries: ENTRIES });
    const found = await check(store, dir);
    expect(found.verification).toMatchObject({
      ok: false,
      firstBrokenSeq: ENTRIES + 1,
      reason: `truncated: audit-head.json names entry ${ENTRIES + 1} but the log ends at ${ENTRIES}`,
    });
    expect(found.damage?.kind).toBe('truncated');
  });

  it('allows the head outside the store to lag one commit behind (a crash between the two writes), and refuses one it cannot trust', async () => {
    const { store, journal, dir } = await chain();
    const file = join(dir, 'audit-head.json');
    const lagging = await readFile(file);
    await journal.write([], [{ type: 'message.received', fields: { n: 13 } }]);
    await writeFile(file, lagging);
    expect((await check(store, dir)).verification).toMatchObject({ ok: true, entries: ENTRIES + 1 });

    const head = (await readSignedHeadFile(file)) as { head: StoredSignedHead };
    await writeFile(file, encodeSlot(1, { ...head.head, at: head.head.at + 1 }));
    expect((await check(store, dir)).verification.reason).toBe(
      'the signed head in audit-head.json signature does not verify',
    );
    await writeFile(file, 'not json');
    expect((await check(store, dir)).verification.reason).toMatch(/audit-head\.json is not a signed head/);
    await rm(file);
    expect(await check(store, dir)).toMatchObject({
      damage: { kind: 'truncated', reason: expect.stringMatching(/no audit-head\.json/) },
    });
  });

  it('does not see a commit made while it reads: the file is read before the snapshot, so it never names an entry the snapshot lacks (8.6)', async () => {
    const { store, journal, dir } = await chain();
    // A commit, its head file written, right after the snapshot is taken and before anything is read from it.
    const busy: Store = {
      ...store,
      snapshot: (work) =>
        store.snapshot(async (options) => {
          await journal.write([], [{ type: 'message.received', fields: { n: ENTRIES + 1 } }]);
          return work(options);
        }),
    };
    expect((await check(busy, dir)).verification).toMatchObject({ ok: true, entries: ENTRIES });
    expect((await check(store, dir)).verification).toMatchObject({ ok: true, entries: ENTRIES + 1 });
  });

  it('treats damage before an intact acceptance as accepted, and damage after it as new', async () => {
    const { store, journal, dir } = await chain();
    await store.batch([store.audit.entries.del(padNumber(7))]);
    expect((await check(store, dir)).damage).toMatchObject({
      kind: 'changed',
      reason: expect.stringMatching(/sequence gap/),
    });

    // What a start with --accept-audit-damage writes after the damage.
    await journal.write(
      [],
      [
        { type: 'audit.broken', fields: { reason: 'entry 7 is missing' } },
        { type: 'audit.damage_accepted', fields: { brokenSeq: ENTRIES + 1 } },
      ],
    );
    await journal.write([], [{ type: 'message.received', fields: { n: 15 } }]);
    const accepted = await check(store, dir);
    expect(accepted.damage).toBeUndefined();
    expect(accepted.verification).toMatchObject({
      ok: false,
      firstBrokenSeq: 7,
      reason: expect.stringMatching(/accepted this damage at entry 14 and the log is intact since/),
    });

    const fifteen = await entry(store, 15);
    await put(store, 15, { ...fifteen, line: fifteen.line.replace('"n":15', '"n":16') });
    const again = await check(store, dir);
    expect(again.damage).toMatchObject({ kind: 'changed' });
    expect(again.verification).toMatchObject({
      firstBrokenSeq: 15,
      reason: expect.stringMatching(
        /^hash mismatch: the entry was changed \(damage before entry 14 was accepted by the operator\)/,
      ),
    });
  });

  it('does not take a changed acceptance entry as an acceptance', async () => {
    const { store, journal, dir } = await chain();
    await store.batch([store.audit.entries.del(padNumber(7))]);
    await journal.write([], [{ type: 'audit.damage_accepted', fields: { brokenSeq: 13 } }]);
    const acceptance = await entry(store, 13);
    await put(store, 13, { ...acceptance, line: acceptance.line.replace('"brokenSeq":13', '"brokenSeq":7') });
    expect((await check(store, dir)).damage).toMatchObject({
      kind: 'changed',
      reason: expect.stringMatching(/sequence gap/),
    });
  });
});

/**
 * checkAuditRecords on records built by hand, each finding compared in full (position, counts,
 * reason, kind of damage): the tests above show that damage is found, these pin what is said
 * about it (docs/reliability.md 9).
 */
describe('each finding of the verification, in full', () => {
  const sign = (bytes: Buffer) =>
    Buffer.from(sodium().crypto_sign_detached(bytes, keys.signingSecretKey)).toString('base64');

  /** A chain of `n` entries; `type(seq)` sets an entry's type; `from` rewrites the chain's content from that entry on. */
  function chainOf(n: number, options: { type?: (seq: number) => string; from?: number } = {}) {
    const hashes = [GENESIS_HASH];
    const entries: Array<[string, unknown]> = [];
    for (let seq = 1; seq <= n; seq += 1) {
      const prev = hashes[seq - 1] as string;
      const content = options.from !== undefined && seq >= options.from ? 'forged' : 'genuine';
      const line = JSON.stringify({
        seq,
        at: 1000 * seq,
        type: options.type?.(seq) ?? 'message.received',
        content,
        reason: `damage ${seq}`,
        prev,
      });
      const hash = entryHash(prev, line);
      hashes.push(hash);
      entries.push([padNumber(seq), { line, hash }]);
    }
    const hash = (seq: number) => hashes[seq] as string;
    const checkpoint = (seq: number, fields: Record<string, unknown> = {}) => ({
      seq,
      hash: hash(seq),
      at: 5000,
      keyId: 'k1',
      signature: sign(checkpointSignedBytes(seq, hash(seq), 5000)),
      ...fields,
    });
    const head = (seq: number) => ({
      seq,
      hash: hash(seq),
      at: 6000,
      keyId: 'k1',
      signature: sign(headSignedBytes(seq, hash(seq), 6000)),
    });
    return { entries, hash, checkpoint, head };
  }

  const findings = async (
    records: Parameters<typeof checkAuditRecords>[0],
    evidence: Parameters<typeof checkAuditRecords>[2] = {},
    signingKeys: Parameters<typeof checkAuditRecords>[1] = keys.signingPublicKey,
  ) => checkAuditRecords(records, signingKeys, evidence);

  it('an intact chain; an empty log without a head is intact too', async () => {
    const c = chainOf(6);
    expect(
      (await findings({ entries: c.entries, checkpoints: [c.checkpoint(3)], head: c.head(6) })).verification,
    ).toEqual({ ok: true, entries: 6, checkpoints: 1, firstBrokenSeq: 0, reason: '', headSeq: 6, headHash: c.hash(6) });
    expect(await findings({ entries: [], checkpoints: [], head: undefined })).toEqual({
      verification: {
        ok: true,
        entries: 0,
        checkpoints: 0,
        firstBrokenSeq: 0,
        reason: '',
        headSeq: 0,
        headHash: GENESIS_HASH,
      },
      damage: undefined,
      last: { seq: 0, hash: GENESIS_HASH },
    });
  });

  it("the store's head: missing, forged, beyond the log or behind it", async () => {
    const c = chainOf(8);
    const six = c.entries.slice(0, 6);
    expect((await findings({ entries: six, checkpoints: [c.checkpoint(3)], head: undefined })).verification).toEqual({
      ok: false,
      entries: 3,
      checkpoints: 1,
      firstBrokenSeq: 4,
      headSeq: 6,
      headHash: c.hash(6),
      reason: 'no signed head: the end of the log cannot be checked (entries after 3 may have been removed)',
    });
    const forged = { ...c.head(6), at: 6001 };
    expect((await findings({ entries: six, checkpoints: [c.checkpoint(3)], head: forged })).verification).toMatchObject(
      { firstBrokenSeq: 4, reason: 'signed head signature does not verify' },
    );
    expect((await findings({ entries: six, checkpoints: [c.checkpoint(6)], head: forged })).verification).toMatchObject(
      { firstBrokenSeq: 7, entries: 6 },
    );
    const beyond = await findings({ entries: six, checkpoints: [], head: c.head(8) });
    expect(beyond.verification).toMatchObject({
      firstBrokenSeq: 7,
      entries: 6,
      reason: 'truncated: the signed head names entry 8 but the log ends at 6',
    });
    expect(beyond.damage).toEqual({ kind: 'truncated', reason: beyond.verification.reason });
    const behind = await findings({ entries: six, checkpoints: [], head: c.head(4) });
    expect(behind.verification).toMatchObject({
      firstBrokenSeq: 5,
      entries: 4,
      headSeq: 6,
      reason: 'entries after the signed head: it names entry 4 but the log goes on to 6',
    });
    expect(behind.damage?.kind).toBe('changed');
  });

  it('the head in audit-head.json: missing, unreadable, forged or ahead of the log', async () => {
    const c = chainOf(8);
    const six = { entries: c.entries.slice(0, 6), checkpoints: [c.checkpoint(3)], head: c.head(6) };
    const at = async (headFile: HeadFileContent, records: AuditRecords = six) => findings(records, { headFile });
    expect((await at({ state: 'missing' })).verification).toMatchObject({
      firstBrokenSeq: 4,
      reason:
        'no audit-head.json: the signed head kept outside the store is missing (entries after 3 may have been removed)',
    });
    expect((await at({ state: 'missing' }, { entries: [], checkpoints: [], head: undefined })).verification.ok).toBe(
      true,
    );
    expect((await at({ state: 'unreadable', problem: 'no intact slot' })).verification).toMatchObject({
      firstBrokenSeq: 4,
      reason: 'audit-head.json is not a signed head (no intact slot)',
    });
    expect(
      (await at({ state: 'unreadable', problem: 'x' }, { ...six, checkpoints: [c.checkpoint(6)] })).verification
        .firstBrokenSeq,
    ).toBe(7);
    expect((await at({ state: 'present', head: { ...c.head(6), at: 1 } })).verification).toMatchObject({
      firstBrokenSeq: 4,
      reason: 'the signed head in audit-head.json signature does not verify',
    });
    expect(
      (await at({ state: 'present', head: { ...c.head(6), at: 1 } }, { ...six, checkpoints: [c.checkpoint(6)] }))
        .verification.firstBrokenSeq,
    ).toBe(7);
    const ahead = await at({ state: 'present', head: c.head(8) });
    expect(ahead.verification).toMatchObject({
      firstBrokenSeq: 7,
      reason: 'truncated: audit-head.json names entry 8 but the log ends at 6',
    });
    expect(ahead.damage?.kind).toBe('truncated');
  });

  it('checkpoints beyond the log, with the furthest named; checkpoints that cannot verify', async () => {
    const c = chainOf(9);
    const six = c.entries.slice(0, 6);
    const beyond = await findings({
      entries: six,
      checkpoints: [c.checkpoint(3), c.checkpoint(9), c.checkpoint(8)],
      head: c.head(6),
    });
    expect(beyond.verification).toMatchObject({
      firstBrokenSeq: 7,
      entries: 6,
      checkpoints: 1,
      reason: 'truncated: a signed checkpoint covers entry 9 but the log ends at 6',
    });
    expect(beyond.damage?.kind).toBe('truncated');
    const refused = async (
      checkpoint: Record<string, unknown>,
      signingKeys: Parameters<typeof checkAuditRecords>[1] = keys.signingPublicKey,
    ) => (await findings({ entries: six, checkpoints: [checkpoint], head: c.head(6) }, {}, signingKeys)).verification;
    const bad = { firstBrokenSeq: 3, entries: 2, checkpoints: 0, reason: 'checkpoint signature does not verify' };
    expect(await refused(c.checkpoint(3, { signature: 42 }))).toMatchObject(bad);
    // A hash that is not 64 hex digits is refused even under a signature over exactly those bytes.
    for (const hash of [`x${c.hash(3)}`, `${c.hash(3)}x`])
      expect(
        await refused(c.checkpoint(3, { hash, signature: sign(checkpointSignedBytes(3, hash, 5000)) })),
      ).toMatchObject(bad);
    // Keys by key id: an unknown key id, or one that is not a string, verifies nothing.
    expect(await refused(c.checkpoint(3), (id) => (id === 'k2' ? keys.signingPublicKey : undefined))).toMatchObject(
      bad,
    );
    expect(await refused(c.checkpoint(3, { keyId: 7 }), () => keys.signingPublicKey)).toMatchObject(bad);
    expect(await refused(c.checkpoint(3), (id) => (id === 'k1' ? keys.signingPublicKey : undefined))).toMatchObject({
      ok: true,
      checkpoints: 1,
    });
    // A stored checkpoint without a numeric seq is no checkpoint: not checked, not taken as one beyond the log.
    expect(await refused({ ...c.checkpoint(3), seq: '9' })).toMatchObject({ ok: true, checkpoints: 0 });
  });

  it('entries that are not audit entries, broken links, and a rewritten tail that only a head can tell', async () => {
    const c = chainOf(6);
    const head = c.head(6);
    const replaced = async (seq: number, value: unknown) =>
      (
        await findings({
          entries: c.entries.map(([k, v]) => [k, k === padNumber(seq) ? value : v]),
          checkpoints: [],
          head,
        })
      ).verification;
    expect(await replaced(4, { line: 'x', hash: 5 })).toMatchObject({
      firstBrokenSeq: 4,
      entries: 3,
      headSeq: 3,
      headHash: c.hash(3),
      reason: 'entry is not an audit entry',
    });
    expect(await replaced(4, { line: 5, hash: 'x' })).toMatchObject({
      firstBrokenSeq: 4,
      reason: 'entry is not an audit entry',
    });
    expect(await replaced(4, { line: 'not json', hash: 'x' })).toMatchObject({
      firstBrokenSeq: 4,
      reason: 'entry line is not a JSON audit entry',
    });
    expect(await replaced(4, { line: '{"seq":4,"prev":"short"}', hash: 'x' })).toMatchObject({
      firstBrokenSeq: 4,
      reason: 'entry line is not a JSON audit entry',
    });
    // A link that does not hold: the earlier entry is suspected unless a checkpoint proves it.
    const line = JSON.stringify({ seq: 5, at: 1, type: 'message.received', fields: {}, prev: 'f'.repeat(64) });
    expect(await replaced(5, { line, hash: entryHash('f'.repeat(64), line) })).toMatchObject({
      firstBrokenSeq: 4,
      reason: 'entry 5 does not link to entry 4: one of them was changed',
    });
    // Entries 4..6 rewritten consistently: the signed heads of the genuine chain no longer match.
    const forged = chainOf(6, { from: 4 });
    const rewritten = await findings(
      { entries: forged.entries, checkpoints: [c.checkpoint(3)], head },
      { headFile: { state: 'present', head } },
    );
    expect(rewritten.verification).toMatchObject({
      firstBrokenSeq: 4,
      entries: 3,
      reason: 'the chain no longer reaches the signed head at entry 6: an entry after 3 was changed',
    });
  });

  it('damage the node recorded, and damage accepted by an intact acceptance after a bad entry', async () => {
    const broken = chainOf(6, { type: (seq) => (seq === 5 ? 'audit.broken' : 'message.received') });
    expect(
      (await findings({ entries: broken.entries, checkpoints: [broken.checkpoint(3)], head: broken.head(6) }))
        .verification,
    ).toMatchObject({
      firstBrokenSeq: 4,
      reason: 'entry 5: at start the node found its audit log damaged: damage 5',
    });
    // Entry 4 missing and entry 5 not an entry at all; the acceptance right after it is intact: the walk found its place again.
    const c = chainOf(8, { type: (seq) => (seq === 6 ? 'audit.damage_accepted' : 'message.received') });
    const entries = c.entries
      .filter(([key]) => key !== padNumber(4))
      .map(([key, value]): [string, unknown] => [key, key === padNumber(5) ? { nothing: true } : value]);
    const accepted = await findings({ entries, checkpoints: [], head: c.head(8) });
    expect(accepted.damage).toBeUndefined();
    expect(accepted.verification).toMatchObject({
      ok: false,
      firstBrokenSeq: 4,
      reason: expect.stringMatching(/; the operator accepted this damage at entry 6 and the log is intact since$/),
    });
  });

  it("damage in the store's files is reported first, the first three of them by name", async () => {
    const c = chainOf(3);
    const storage = [1, 2, 3, 4, 5].map((n) => ({
      file: `00000${n}.ldb`,
      offset: n * 100,
      problem: 'block checksum mismatch',
    }));
    const found = await findings({ entries: c.entries, checkpoints: [], head: c.head(3) }, { storage });
    const reason = `the store's files are damaged: ${storage.slice(0, 3).map(describeDamage).join('; ')}; and 2 more`;
    expect(found).toEqual({
      verification: {
        ok: false,
        entries: 3,
        checkpoints: 0,
        firstBrokenSeq: 0,
        reason,
        headSeq: 3,
        headHash: c.hash(3),
      },
      damage: { kind: 'storage', reason },
      last: { seq: 3, hash: c.hash(3) },
    });
    expect(
      (await findings({ entries: c.entries, checkpoints: [], head: c.head(3) }, { storage: storage.slice(0, 3) }))
        .verification.reason,
    ).toBe(`the store's files are damaged: ${storage.slice(0, 3).map(describeDamage).join('; ')}`);
  });
});
