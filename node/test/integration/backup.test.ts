import { cp, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageDirection, MessageKind } from '@tracenet/proto';
import { dataPaths } from '../../src/identity/data-dir.js';
import type { BackupSummary } from '../../src/ops/backup.js';
import { STORE_SCHEMA_VERSION } from '../../src/store/store.js';
import { expectOneLineFailure, type NodeProcess, ProcessBed, readAudit, requireBuiltCli, until } from './processes.js';

const { MESSAGE_DIRECTION_INBOX: INBOX, MESSAGE_DIRECTION_SENT: SENT } = MessageDirection;

/** Exports each node's card and pins it on the other through the running node. */
async function pinEachOther(bed: ProcessBed, a: NodeProcess, b: NodeProcess): Promise<void> {
  const pin = async (from: NodeProcess, to: NodeProcess) => {
    const file = join(dirname(from.dataDir), `${from.runtime.participantId}.card.json`);
    await bed.cliOk(['peers', 'export', '--data', from.dataDir, '--out', file]);
    await bed.cliOk(['peers', 'add', file, '--data', to.dataDir]);
  };
  await Promise.all([pin(a, b), pin(b, a)]);
}

/** Notices from `from` to `to`, four calls in flight, until `stop()`; resolves with the ids queued. */
function traffic(from: NodeProcess, to: string): { stop(): Promise<string[]> } {
  let running = true;
  const ids: string[] = [];
  const worker = async () => {
    for (let i = 0; running; i += 1) {
      const { messageId } = await from.client.call('sendNotice', {
        recipient: to,
        subject: `notice ${i}`,
        text: `traffic ${i}`,
        correlationId: '',
      });
      ids.push(messageId);
    }
  };
  const workers = Promise.all([worker(), worker(), worker(), worker()]);
  return {
    async stop() {
      running = false;
      await workers;
      return ids;
    },
  };
}

const idsOf = (messages: ReadonlyArray<{ messageId: string }>) => messages.map((m) => m.messageId);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('backup under traffic, restore into a new data directory, start (docs/adr/0013-backup-and-restore.md)', () => {
  const bed = new ProcessBed();
  beforeAll(requireBuiltCli);
  afterAll(() => bed.cleanup());

  it('restores a node whose audit log verifies; peers deliver again what it lost, and no message is lost or processed twice', {
    timeout: 180_000,
  }, async () => {
    const [fraDir, belDir] = await Promise.all([bed.init('FRA'), bed.init('BEL')]);
    const bel = await bed.start(belDir);
    let fra = await bed.start(fraDir);
    await pinEachOther(bed, fra, bel);
    const fraCard = join(dirname(fraDir), 'FRA.card.json');

    // Traffic both ways, and a backup of FRA taken in the middle of it.
    const toBel = traffic(fra, 'BEL');
    const toFra = traffic(bel, 'FRA');
    await until(async () => (await fra.stats()).sent >= 50 && (await bel.stats()).sent >= 50, 'traffic both ways');
    const file = join(await bed.tempDir('backup'), 'fra.backup');
    const created = await bed.cliOk(['backup', 'create', file, '--data', fraDir, '--json']);
    const backup = JSON.parse(created.stdout) as BackupSummary;
    await sleep(500);
    const [fraQueued, belQueued] = await Promise.all([toBel.stop(), toFra.stop()]);
    await until(
      async () => (await fra.stats()).outbox === 0 && (await bel.stats()).outbox === 0,
      'both outboxes drained',
    );
    const fraSentBefore = new Set(idsOf(await fra.listAll(SENT)));
    const belSentToFra = await bel.listAll(SENT);
    expect(fraSentBefore.size).toBe(fraQueued.length);
    expect(belSentToFra).toHaveLength(belQueued.length);

    // The manifest: signed, keys left out, the store's own signed head, taken while both sides sent.
    expect(backup.manifest).toMatchObject({
      participantId: 'FRA',
      keysIncluded: false,
      schemaVersion: STORE_SCHEMA_VERSION,
      auditHead: { keyId: backup.manifest.keyId },
    });
    expect(backup.auditHeadVerified).toBe(true);
    expect(backup.manifest.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['identity.json', 'card.json', 'tls.crt']),
    );
    expect(backup.manifest.files.some((f) => f.path.startsWith('keys/'))).toBe(false);
    const verified = await bed.cliOk(['backup', 'verify', file, '--card', fraCard]);
    expect(verified.stdout).toContain('manifest signature verified against the given peer card');

    // One changed byte anywhere is refused, and nothing is restored from it.
    const bytes = await readFile(file);
    const damaged = join(dirname(file), 'damaged.backup');
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8((bytes.readUInt8(middle) ^ 0x01) & 0xff, middle);
    await writeFile(damaged, bytes);
    expectOneLineFailure(await bed.cli(['backup', 'verify', damaged]), '(INVALID_FIELD|BAD_SIGNATURE)');
    const refusedDir = join(await bed.tempDir('refused'), 'data');
    expectOneLineFailure(
      await bed.cli(['backup', 'restore', damaged, '--data', refusedDir]),
      '(INVALID_FIELD|BAD_SIGNATURE)',
    );
    // A non-empty directory is refused.
    expectOneLineFailure(await bed.cli(['backup', 'restore', file, '--data', belDir]), 'ALREADY_EXISTS', /not empty/);

    // FRA is lost; its backup is restored into a new directory, without its keys.
    const federationListen = fra.runtime.federation;
    expect((await fra.stop()).code).toBe(0);
    const restoredDir = join(await bed.tempDir('restored'), 'data');
    const restored = await bed.cliOk(['backup', 'restore', file, '--data', restoredDir]);
    expect(restored.stdout).toContain('keys/signing.key, keys/encryption.key, keys/tls.key, keys/authority.token');
    expectOneLineFailure(
      await bed.cli([
        'start',
        '--data',
        restoredDir,
        '--federation-listen',
        '127.0.0.1:0',
        '--authority-listen',
        '127.0.0.1:0',
      ]),
      'NOT_FOUND',
      /key files .*signing\.key.*put back/,
    );

    // The operator puts the keys back; the node starts on its old address (peers pin its card).
    await cp(dataPaths(fraDir).keysDir, dataPaths(restoredDir).keysDir, { recursive: true });
    fra = await bed.start(restoredDir, { federationListen });
    const audit = await bed.cliOk(['audit', 'verify', '--data', restoredDir]);
    expect(audit.stdout).toMatch(/^Audit log intact: /);

    // Outbound: the restored FRA re-sends what its outbox held at the snapshot; BEL knows those ids
    // and answers DUPLICATE. What FRA sent after the snapshot reached BEL once and is not sent again.
    await until(async () => (await fra.stats()).outbox === 0, 'the restored outbox drained', 60_000);
    const fraSentAfter = idsOf((await fra.listAll(SENT)).filter((m) => m.kind === MessageKind.MESSAGE_KIND_NOTICE));
    const belInbox = idsOf((await bel.listAll(INBOX)).filter((m) => m.kind === MessageKind.MESSAGE_KIND_NOTICE));
    expect(new Set(belInbox).size).toBe(belInbox.length);
    expect(new Set(belInbox)).toEqual(fraSentBefore);
    for (const id of fraSentAfter) expect(fraSentBefore.has(id)).toBe(true);

    // Inbound: FRA asked BEL for what it sent since the backup (5.6); BEL delivered it again under
    // the same ids, FRA answered DUPLICATE for what the backup held and accepted the rest.
    await until(
      async () => (await bel.stats()).outbox === 0 && (await fra.listAll(INBOX)).length >= belSentToFra.length,
      'BEL delivered again what FRA lost',
      60_000,
    );
    const fraInbox = idsOf((await fra.listAll(INBOX)).filter((m) => m.kind === MessageKind.MESSAGE_KIND_NOTICE));
    expect(new Set(fraInbox).size).toBe(fraInbox.length);
    expect(new Set(fraInbox)).toEqual(new Set(idsOf(belSentToFra)));
    const resent = (await bel.listAll(INBOX)).filter((m) => m.kind === MessageKind.MESSAGE_KIND_RESEND_REQUEST);
    expect(resent.map((m) => m.peer)).toEqual(['FRA']);
    // The backup was taken while BEL sent: some of what FRA receipted is newer than the backup.
    const lostAtRestore = belSentToFra.filter((m) => m.atMs >= backup.manifest.createdAtMs).length;
    expect(lostAtRestore).toBeGreaterThan(0);
    console.info(
      `backup: ${backup.manifest.storeEntries} store entries; FRA->BEL ${fraSentBefore.size} delivered, ${fraSentAfter.length} known to the restored FRA; BEL->FRA ${belSentToFra.length} delivered, ${lostAtRestore} receipted after the backup's time`,
    );

    // A backup with keys: the CLI warns, the file is the owner's only and holds keys/.
    const withKeys = join(dirname(file), 'with-keys.backup');
    const keysBackup = await bed.cliOk([
      'backup',
      'create',
      withKeys,
      '--include-keys',
      '--data',
      restoredDir,
      '--json',
    ]);
    expect(keysBackup.stderr).toMatch(/^tracenet: warning: .* secret keys/);
    expect(((await stat(withKeys)).mode & 0o777).toString(8)).toBe('600');
    expect((JSON.parse(keysBackup.stdout) as BackupSummary).manifest.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['keys/signing.key', 'keys/authority.token']),
    );
    expectOneLineFailure(
      await bed.cli(['backup', 'create', withKeys, '--data', restoredDir]),
      'ALREADY_EXISTS',
      /exists/,
    );

    // Still traffic both ways after the restore.
    const after = await bel.client.call('sendNotice', {
      recipient: 'FRA',
      subject: 'after',
      text: 'after the restore',
      correlationId: '',
    });
    await fra.client.call('sendNotice', {
      recipient: 'BEL',
      subject: 'after',
      text: 'after the restore',
      correlationId: '',
    });
    await until(
      async () => (await fra.stats()).outbox === 0 && (await bel.stats()).outbox === 0,
      'messages after the restore delivered',
    );
    expect(idsOf(await fra.listAll(INBOX))).toContain(after.messageId);

    // Processed once: each audit log records each message id received at most once.
    await Promise.all([fra.stop(), bel.stop()]);
    expectOneLineFailure(
      await bed.cli(['backup', 'create', join(dirname(file), 'stopped.backup'), '--data', restoredDir]),
      'UNAVAILABLE',
      /no node is running/,
    );
    for (const dir of [belDir, restoredDir]) {
      const lines = await readAudit(dir);
      const received = lines.filter((line) => line.type === 'message.received').map((line) => String(line.messageId));
      expect(new Set(received).size).toBe(received.length);
      console.info(
        `${dir === belDir ? 'BEL' : 'restored FRA'}: ${received.length} received, ${lines.filter((line) => line.type === 'message.duplicate').length} answered DUPLICATE, ${lines.filter((line) => line.type === 'messages.resent').length} resend requests answered`,
      );
    }
  });
});
