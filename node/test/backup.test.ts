import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, MessageKind, ResendRequest } from '@tracenet/proto';
import { Journal } from '../src/audit/audit-log.js';
import { readSignedHeadFile } from '../src/audit/head-file.js';
import { domain, sodium } from '../src/crypto/sodium.js';
import { decodeResendRequest, validateBody } from '../src/federation/message-kinds.js';
import { dataPaths, loadIdentity, type NodeIdentity } from '../src/identity/data-dir.js';
import { parsePeerCardFile } from '../src/identity/peer-card.js';
import { createBackup, restoreBackup, verifyBackup } from '../src/ops/backup.js';
import { rawMetaKey, snapshotEntries } from '../src/store/backup.js';
import { META } from '../src/store/repositories.js';
import { openStore, STORE_SCHEMA_VERSION, type Store } from '../src/store/store.js';
import type { InboxRecord } from '../src/store/repositories.js';
import { makeDataDir, testLogger } from './support/nodes.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-backup-'));
  dirs.push(dir);
  return dir;
}

/** A data directory with a store holding audit entries (a signed head) and a few messages. */
/** A received message as the inbox keeps it, with a body of `bytes` bytes. */
function inboxRecord(messageId: string, bytes: number): InboxRecord {
  const body = Buffer.alloc(bytes, bytes % 256).toString('base64');
  return {
    sender: 'BEL',
    messageId,
    kind: 1,
    correlationId: '',
    createdAtMs: 0,
    expiresAtMs: 0,
    receivedAtMs: 0,
    body,
    digest: '',
  };
}

async function node(id = 'FRA'): Promise<{ dataDir: string; identity: NodeIdentity; store: Store }> {
  const dataDir = await makeDataDir(id);
  dirs.push(dataDir);
  const identity = await loadIdentity(dataDir);
  const paths = dataPaths(dataDir);
  const store = await openStore(paths.store);
  const journal = new Journal({
    store,
    clock: { now: Date.now },
    logger: testLogger(),
    keyId: identity.keyId,
    signingSecretKey: identity.keys.signingSecretKey,
    checkpointEvery: 1000,
    headFile: { path: paths.auditHead, sync: true },
  });
  await journal.init();
  for (let i = 0; i < 20; i += 1) {
    await journal.write(
      [store.messages.inbox.put(`m${String(i).padStart(3, '0')}`, inboxRecord(`m${i}`, i * 1000))],
      [{ type: 'message.received', fields: { messageId: `m${i}` } }],
    );
  }
  return { dataDir, identity, store };
}

async function backupTo(
  file: string,
  source: { dataDir: string; identity: NodeIdentity; store: Store },
  includeKeys = false,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of createBackup({ ...source, includeKeys, nowMs: Date.now })) chunks.push(chunk);
  await writeFile(file, Buffer.concat(chunks));
}

async function rawEntries(store: Store): Promise<Array<[string, string]>> {
  const entries: Array<[string, string]> = [];
  for await (const { key, value } of snapshotEntries(store)) entries.push([key.toString('hex'), value.toString('hex')]);
  return entries;
}

async function rejection(promise: Promise<unknown>): Promise<{ code: ErrorCode; rule: string }> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code: ErrorCode; rule: string } | undefined;
  if (!error) throw new Error('expected a rejection');
  return error;
}

/** One record of the backup format, as docs/protocol.md 7.5 defines it. */
function record(type: string, key: Buffer, value: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'ascii');
  head.writeUInt32BE(key.length, 1);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return Buffer.concat([head, key, length, value]);
}

describe('backup files (docs/protocol.md 7.5)', () => {
  it('holds every raw store entry and the snapshot head, leaves keys out, and restores them byte for byte', async () => {
    const source = await node();
    const file = join(await tempDir(), 'fra.backup');
    await backupTo(file, source);
    const summary = await verifyBackup(file, {
      card: parsePeerCardFile(await readFile(dataPaths(source.dataDir).card, 'utf8')),
    });
    const original = await rawEntries(source.store);
    expect(summary).toMatchObject({
      auditHeadVerified: true,
      cardChecked: true,
      manifest: {
        participantId: 'FRA',
        keyId: source.identity.keyId,
        storeEntries: original.length,
        schemaVersion: STORE_SCHEMA_VERSION,
        keysIncluded: false,
        auditHead: { seq: 20 },
      },
    });
    expect(summary.manifest.files.map((f) => f.path).sort()).toEqual(['card.json', 'identity.json', 'tls.crt']);
    expect(summary.manifest.contentSha256).toBe(
      createHash('sha256')
        .update((await readFile(file)).subarray(0, summary.bytes - (await manifestRecordLength(file))))
        .digest('hex'),
    );

    const target = join(await tempDir(), 'restored');
    const restored = await restoreBackup(file, target);
    expect(restored.missingKeyFiles).toEqual([
      'keys/signing.key',
      'keys/encryption.key',
      'keys/tls.key',
      'keys/authority.token',
    ]);
    const copy = await openStore(dataPaths(target).store);
    try {
      const entries = await rawEntries(copy);
      const mark = Buffer.from(rawMetaKey(META.restored)).toString('hex');
      expect(entries.filter(([key]) => key !== mark)).toEqual(original);
      expect(JSON.parse(Buffer.from(entries.find(([key]) => key === mark)?.[1] ?? '', 'hex').toString())).toEqual({
        backupCreatedAtMs: summary.manifest.createdAtMs,
      });
    } finally {
      await copy.close();
    }
    expect(await readSignedHeadFile(dataPaths(target).auditHead)).toEqual({
      state: 'present',
      head: summary.manifest.auditHead,
    });
    expect(await readFile(join(target, 'identity.json'), 'utf8')).toBe(
      await readFile(join(source.dataDir, 'identity.json'), 'utf8'),
    );
    await expect(loadIdentity(target)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
      rule: 'key_files',
    });
    await source.store.close();
  });

  it('is a snapshot: writes made while the backup streams are not in it', async () => {
    const source = await node();
    const file = join(await tempDir(), 'fra.backup');
    const chunks: Buffer[] = [];
    let first = true;
    for await (const chunk of createBackup({ ...source, includeKeys: false, nowMs: Date.now })) {
      chunks.push(chunk);
      if (first) await source.store.batch([source.store.messages.inbox.put('zzz-late', inboxRecord('late', 10))]);
      first = false;
    }
    // The write came while the backup was still reading the store.
    expect(chunks.length).toBeGreaterThan(2);
    await writeFile(file, Buffer.concat(chunks));
    const { manifest } = await verifyBackup(file);
    expect(manifest.storeEntries).toBe((await rawEntries(source.store)).length - 1);
    await source.store.close();
  });

  it("names the store's schema version from meta (1 when absent)", async () => {
    const source = await node();
    await source.store.batch([source.store.meta.schema.put({ version: 3 })]);
    const file = join(await tempDir(), 'fra.backup');
    await backupTo(file, source);
    expect((await verifyBackup(file)).manifest.schemaVersion).toBe(3);
    await source.store.close();
  });

  it('with keys: copies keys/ and restores them with mode 0600', async () => {
    const source = await node();
    const file = join(await tempDir(), 'fra.backup');
    await backupTo(file, source, true);
    const target = join(await tempDir(), 'restored');
    const restored = await restoreBackup(file, target);
    expect(restored.manifest.keysIncluded).toBe(true);
    expect(restored.missingKeyFiles).toEqual([]);
    expect(((await stat(join(target, 'keys', 'signing.key'))).mode & 0o777).toString(8)).toBe('600');
    expect((await loadIdentity(target)).keyId).toBe(source.identity.keyId);
    await source.store.close();
  });

  it('refuses a truncated file, bytes after the manifest, another card, and a non-empty directory, writing nothing', async () => {
    const source = await node();
    const other = await node('BEL');
    const dir = await tempDir();
    const file = join(dir, 'fra.backup');
    await backupTo(file, source);
    const bytes = await readFile(file);
    await writeFile(join(dir, 'cut'), bytes.subarray(0, bytes.length - 10));
    await writeFile(join(dir, 'long'), Buffer.concat([bytes, Buffer.from([0])]));
    await writeFile(join(dir, 'magic'), Buffer.concat([Buffer.from('X'), bytes.subarray(1)]));
    expect(await rejection(verifyBackup(join(dir, 'cut')))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      rule: 'backup_truncated',
    });
    expect(await rejection(verifyBackup(join(dir, 'long')))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      rule: 'backup_trailing',
    });
    expect(await rejection(verifyBackup(join(dir, 'magic')))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      rule: 'backup_magic',
    });
    const belCard = parsePeerCardFile(await readFile(dataPaths(other.dataDir).card, 'utf8'));
    expect(await rejection(verifyBackup(file, { card: belCard }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_BAD_SIGNATURE,
      rule: 'backup_signer',
    });

    const target = join(await tempDir(), 'restored');
    expect(await rejection(restoreBackup(join(dir, 'cut'), target))).toMatchObject({ rule: 'backup_truncated' });
    await expect(readdir(target)).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(target);
    await writeFile(join(target, 'notes.txt'), 'mine');
    expect(await rejection(restoreBackup(file, target))).toMatchObject({
      code: ErrorCode.ERROR_CODE_ALREADY_EXISTS,
      rule: 'empty_directory',
    });
    expect(await readdir(target)).toEqual(['notes.txt']);
    await Promise.all([source.store.close(), other.store.close()]);
  });

  it('refuses a validly signed backup whose file name leaves the data directory, before writing anything', async () => {
    const s = sodium();
    const keys = s.crypto_sign_keypair();
    const content = Buffer.concat([
      Buffer.from('TRACENET-BACKUP/1\n'),
      record('F', Buffer.from('../escaped'), Buffer.from('x')),
    ]);
    const manifest = Buffer.from(
      JSON.stringify({
        format: 'tracenet-backup/1',
        participantId: 'FRA',
        keyId: 'k',
        signingPublicKey: Buffer.from(keys.publicKey).toString('base64'),
        createdAtMs: 1,
        softwareVersion: 'x',
        schemaVersion: 1,
        storeEntries: 0,
        files: [{ path: '../escaped', mode: 0o644, bytes: 1 }],
        keysIncluded: false,
        contentSha256: createHash('sha256').update(content).digest('hex'),
        auditHead: null,
      }),
    );
    const signature = Buffer.from(
      s.crypto_sign_detached(Buffer.concat([domain('tracenet.v1/backup-manifest'), manifest]), keys.privateKey),
    );
    const dir = await tempDir();
    const file = join(dir, 'evil.backup');
    await writeFile(file, Buffer.concat([content, record('M', manifest, signature)]));
    const target = join(dir, 'a', 'data');
    expect(await rejection(restoreBackup(file, target))).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      rule: 'backup_path',
    });
    await expect(stat(join(dir, 'a'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('RESEND_REQUEST bodies (docs/protocol.md 5.6)', () => {
  it('takes a non-negative since_ms and refuses a negative one', () => {
    expect(decodeResendRequest(ResendRequest.encode({ sinceMs: 1234 }).finish())).toEqual({ sinceMs: 1234 });
    expect(() =>
      validateBody(MessageKind.MESSAGE_KIND_RESEND_REQUEST, ResendRequest.encode({ sinceMs: -1 }).finish()),
    ).toThrow(
      expect.objectContaining({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'body.since_ms',
        rule: 'non_negative',
      }),
    );
  });
});

/** Length of the manifest record at the end of a backup file. */
async function manifestRecordLength(file: string): Promise<number> {
  const bytes = await readFile(file);
  // The manifest is the last record: find its start by walking the records from the magic line.
  let at = 'TRACENET-BACKUP/1\n'.length;
  for (;;) {
    const keyLength = bytes.readUInt32BE(at + 1);
    const valueLength = bytes.readUInt32BE(at + 5 + keyLength);
    const end = at + 9 + keyLength + valueLength;
    if (bytes[at] === 0x4d) return end - at;
    at = end;
  }
}
