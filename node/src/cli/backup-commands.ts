import { type FileHandle, open, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { type AuthorityClient, type BackupChunk, ErrorCode, type PeerCard, TracenetError } from '@tracenet/proto';
import { connectAuthority } from '../api/authority-client.js';
import { initSodium } from '../crypto/sodium.js';
import { parsePeerCardFile } from '../identity/peer-card.js';
import { type BackupSummary, restoreBackup, verifyBackup } from '../ops/backup.js';
import { connection, dataOption, jsonOption, output, readInput } from './context.js';

/** Lines that describe a verified backup. */
function describe(file: string, summary: BackupSummary): string[] {
  const m = summary.manifest;
  const head = m.auditHead;
  return [
    `Backup ${file}: ${m.participantId} (key ${m.keyId}), taken ${new Date(m.createdAtMs).toISOString()} by version ${m.softwareVersion}`,
    `  store: ${m.storeEntries} entries, schema version ${m.schemaVersion}; files: ${m.files.length}; ${summary.bytes} bytes`,
    `  audit head: ${head ? `entry ${head.seq}, ${head.hash.slice(0, 16)}…, ${summary.auditHeadVerified ? 'signature verified' : `signed by key ${head.keyId} (not checked here)`}` : 'none (no audit entries)'}`,
    `  manifest signature verified${summary.cardChecked ? ' against the given peer card' : ' under the key it names (give --card to check whose key it is)'}; SHA-256 ${m.contentSha256}`,
    `  secret keys: ${m.keysIncluded ? 'INCLUDED (keep this file as secret as the keys)' : 'not included'}`,
  ];
}

async function readCard(file: string | undefined): Promise<PeerCard | undefined> {
  return file === undefined
    ? undefined
    : parsePeerCardFile(await readInput(file, `card file ${file} does not exist`, 'card'));
}

/**
 * Streams a backup from the running node into `file` (created with mode 0600, never over an
 * existing file); a failure removes the partial file.
 */
async function download(dataDir: string, file: string, includeKeys: boolean): Promise<void> {
  const { address, token, channel } = await connection(dataDir);
  const client = connectAuthority(address, token, channel);
  let handle: FileHandle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (cause) {
    client.close();
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST')
      throw new TracenetError(ErrorCode.ERROR_CODE_ALREADY_EXISTS, `${file} exists; choose a new file`, {
        field: 'file',
        rule: 'new_file',
        cause,
      });
    throw cause;
  }
  try {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const stream = (client.client as AuthorityClient).createBackup({ includeKeys }, metadata);
    for await (const chunk of stream as AsyncIterable<BackupChunk>) await handle.write(chunk.data);
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(file, { force: true });
    throw TracenetError.from(error);
  } finally {
    client.close();
  }
}

/**
 * Registers `tracenet backup create|verify|restore` (docs/operations.md section 10;
 * docs/protocol.md 7.5).
 *
 * @example
 * ```ts
 * registerBackupCommands(program);
 * ```
 */
export function registerBackupCommands(program: Command): void {
  const backup = program
    .command('backup')
    .description('online backups: create one from the running node, verify one, restore one into a new data directory');

  backup
    .command('create')
    .description(
      'write a consistent backup of the running node (store, audit head, configuration, cards) into a new file, mode 0600; secret keys only with --include-keys',
    )
    .argument('<file>', 'the backup file to create')
    .option(
      '--include-keys',
      "also copy keys/ (the node's secret keys and Authority token): the file then opens everything the node can",
    )
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (file: string, options: { data: string; includeKeys?: boolean; json?: boolean }) => {
      await initSodium();
      const includeKeys = Boolean(options.includeKeys);
      if (includeKeys)
        process.stderr.write(
          `tracenet: warning: ${file} will hold the node's secret keys; keep it as safe as the keys themselves (it is created with mode 0600)\n`,
        );
      await download(options.data, file, includeKeys);
      const summary = await verifyBackup(file);
      output(Boolean(options.json), { file: resolve(file), ...summary }, () => describe(file, summary));
    });

  backup
    .command('verify')
    .description(
      'check a backup file: structure, manifest signature, SHA-256 and counts, and the signed audit head; exit code 1 when it does not verify',
    )
    .argument('<file>', 'the backup file')
    .option('--card <file>', "the node's peer card: check that the backup is signed by its key")
    .addOption(jsonOption())
    .action(async (file: string, options: { card?: string; json?: boolean }) => {
      await initSodium();
      const card = await readCard(options.card);
      const summary = await verifyBackup(file, card ? { card } : {});
      output(Boolean(options.json), { file: resolve(file), ...summary }, () => describe(file, summary));
    });

  backup
    .command('restore')
    .description('verify a backup and write it into a new, empty data directory that tracenet start can use')
    .argument('<file>', 'the backup file')
    .requiredOption('-d, --data <dir>', 'the new data directory (must not exist or be empty)')
    .option('--card <file>', "the node's peer card: check that the backup is signed by its key first")
    .addOption(jsonOption())
    .action(async (file: string, options: { data: string; card?: string; json?: boolean }) => {
      await initSodium();
      const card = await readCard(options.card);
      const result = await restoreBackup(file, options.data, card ? { card } : {});
      output(Boolean(options.json), { ...result, dataDir: resolve(result.dataDir) }, () => [
        ...describe(file, result),
        `Restored into ${resolve(result.dataDir)}.`,
        ...(result.missingKeyFiles.length > 0
          ? [
              `The backup holds no secret keys: before tracenet start, copy these files of the node into ${options.data} (mode 0600): ${result.missingKeyFiles.join(', ')}`,
              `  (and keys/retired/ if the node rotated its keys within the grace period).`,
            ]
          : []),
        `Next: tracenet start --data ${options.data}`,
      ]);
    });
}
