import { ErrorCode, TracenetError } from '@tracenet/proto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { describeDamage, scanStore, type StoreDamage } from '../store/leveldb-files.js';
import { rebuildStore } from '../store/rebuild.js';
import { padNumber, type Operation, type Store } from '../store/store.js';
import type { Journal, StoredSignedHead } from './audit-log.js';
import { rawMetaKey } from '../store/backup.js';
import { META } from '../store/repositories.js';
import { readSignedHeadFile } from './head-file.js';
import { checkAuditRecords, type AuditDamage, type AuditFindings, type SigningKeys } from './verify.js';

/** Where a node keeps its store and the signed head outside it (`dataPaths`). */
export interface AuditPaths {
  readonly store: string;
  readonly auditHead: string;
  /** `<data>/node.json`, which names the process of a running node. */
  readonly runtime?: string;
}

/** A verification of a stopped node's audit log from the store's files, with what the files showed. */
export interface StoredAuditCheck extends AuditFindings {
  /** Damage in the store's files (checksums, missing files). */
  readonly storage: readonly StoreDamage[];
  /** The newest signed head: the one kept outside the store, else the store's own; undefined when neither verifies. */
  readonly signedHead: { readonly seq: number; readonly hash: string } | undefined;
}

/** Damage found at start that the operator accepted, to be recorded once the store is open. */
export interface AcceptedDamage {
  readonly damage: AuditDamage;
  readonly check: StoredAuditCheck;
  /** Where the damaged store was kept when it was rebuilt (name inside the data directory); '' when it was not. */
  readonly setAside: string;
}

/** The store's key of its signed head (the `meta` sublevel's `audit-head`). */
const HEAD_KEY = rawMetaKey(META.signedHead);

/**
 * Verifies a stopped node's audit log without opening the store (docs/protocol.md 8.6,
 * ADR 0010): reads the store's files directly, checking every checksum, together with
 * `<data>/audit-head.json`. Writes nothing: every file is opened read-only, so the store stays
 * byte for byte as it was — opening LevelDB would replay and rewrite its log, dropping damaged
 * records without a word.
 *
 * @example
 * ```ts
 * const check = await checkStoredAudit(dataPaths(dataDir), (keyId) => identity.signingPublicKeyOf(keyId));
 * if (check.damage) console.error(check.verification.reason);
 * ```
 */
export async function checkStoredAudit(paths: AuditPaths, signingKeys: SigningKeys): Promise<StoredAuditCheck> {
  const scan = await scanStore(paths.store);
  const headFile = await readSignedHeadFile(paths.auditHead);
  const checkpoints: unknown[] = [];
  let head: unknown;
  for await (const [key, text] of scan.entries(['!checkpoints!', HEAD_KEY])) {
    if (key === HEAD_KEY) head = parsed(text);
    else checkpoints.push(parsed(text));
  }
  // The entries are read as the verification walks them: memory does not grow with the log.
  async function* entries(): AsyncGenerator<[string, unknown]> {
    for await (const [key, text] of scan.entries(['!audit!'])) yield [key.slice('!audit!'.length), parsed(text)];
  }
  const findings = await checkAuditRecords({ entries: entries(), checkpoints, head }, signingKeys, {
    headFile,
    storage: scan.damage,
  });
  const fileHead = headFile.state === 'present' ? headFile.head : undefined;
  const named = [fileHead, head as Partial<StoredSignedHead> | undefined].find(
    (h) => typeof h?.seq === 'number' && typeof h.hash === 'string',
  );
  return {
    ...findings,
    storage: scan.damage,
    signedHead: named ? { seq: named.seq as number, hash: named.hash as string } : undefined,
  };
}

/** A stored JSON value, or its text when it is not JSON (verification then reports it). */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * What a node does before it opens its store: checks the audit log ({@link checkStoredAudit}).
 * Damage nobody accepted yet is logged at error level and, unless `accept` is set (`tracenet start
 * --accept-audit-damage`), refused with STORAGE_UNAVAILABLE (rule `audit_damaged`), the store left
 * exactly as it was. With `accept`, a store whose files are damaged is rebuilt from what is intact
 * (the damaged one kept beside it as `store.damaged-<time>`), and the damage is returned, to be
 * recorded with {@link recordAcceptedDamage} once the journal is open.
 */
export async function checkBeforeOpen(options: {
  paths: AuditPaths;
  signingKeys: SigningKeys;
  logger: Logger;
  accept: boolean;
  now: number;
}): Promise<AcceptedDamage | undefined> {
  const check = await checkStoredAudit(options.paths, options.signingKeys);
  if (!check.damage) return undefined;
  // Files that a running node is writing can look damaged (a table compacted away while read):
  // say that it runs (as LevelDB's lock would), and never rebuild a store under it.
  const pid = options.paths.runtime === undefined ? undefined : await otherProcessRunning(options.paths.runtime);
  if (pid !== undefined) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE,
      `the store in ${options.paths.store} is in use by a running node (pid ${pid})`,
      { rule: 'store_locked' },
    );
  }
  const { kind, reason } = check.damage;
  const fields = {
    kind,
    reason,
    firstBrokenSeq: check.verification.firstBrokenSeq,
    lastSeq: check.last.seq,
    signedHeadSeq: check.signedHead?.seq ?? 0,
    storage: check.storage.slice(0, 20).map(describeDamage),
  };
  if (!options.accept) {
    options.logger.error(
      fields,
      'the audit log is damaged; refusing to start (start with --accept-audit-damage to record the damage and go on)',
    );
    throw new TracenetError(
      ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE,
      `the audit log is damaged: ${reason}. Nothing was changed. Find out what happened (tracenet audit verify, backups), then start with --accept-audit-damage to record the damage in the log and go on`,
      { rule: 'audit_damaged' },
    );
  }
  options.logger.error(
    fields,
    'the audit log is damaged; the operator accepted it (--accept-audit-damage): recording it and going on',
  );
  if (check.storage.length === 0) return { damage: check.damage, check, setAside: '' };
  const aside = `${options.paths.store}.damaged-${new Date(options.now).toISOString().replace(/[:.]/g, '-')}`;
  await rebuildStore(options.paths.store, aside);
  options.logger.warn(
    { setAside: aside },
    'the damaged store was set aside and the store rebuilt from what was intact',
  );
  return { damage: check.damage, check, setAside: basename(aside) };
}

/** The pid that `node.json` names when that process is alive and is not this one. */
async function otherProcessRunning(runtime: string): Promise<number | undefined> {
  let pid: unknown;
  try {
    pid = (JSON.parse(await readFile(runtime, 'utf8')) as { pid?: unknown }).pid;
  } catch {
    return undefined;
  }
  if (typeof pid !== 'number' || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * Records damage the operator accepted as the first entries after it (docs/protocol.md 8.5):
 * `audit.broken` (what the check found) and `audit.damage_accepted`, in one commit that also removes
 * checkpoints of entries that are gone and signs a new head, followed by a signed checkpoint.
 */
export async function recordAcceptedDamage(journal: Journal, store: Store, accepted: AcceptedDamage): Promise<void> {
  const { damage, check, setAside } = accepted;
  const end = journal.head;
  const stale: Operation[] = [];
  for await (const key of store.audit.checkpoints.keys({ gt: padNumber(end.seq) }))
    stale.push(store.audit.checkpoints.del(key));
  await journal.write(stale, [
    {
      type: 'audit.broken',
      fields: {
        reason: damage.reason,
        kind: damage.kind,
        firstBrokenSeq: check.verification.firstBrokenSeq,
        headSeq: check.signedHead?.seq ?? 0,
        headHash: check.signedHead?.hash ?? '',
        foundSeq: end.seq,
        foundHash: end.hash,
        storageDamage: check.storage.length,
        staleCheckpoints: stale.length,
      },
    },
    { type: 'audit.damage_accepted', fields: { brokenSeq: end.seq + 1, flag: '--accept-audit-damage', setAside } },
  ]);
  await journal.checkpoint();
}
