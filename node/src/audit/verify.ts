import type { AuditVerification } from '@tracenet/proto';
import { sodium } from '../crypto/sodium.js';
import { describeDamage, type StoreDamage } from '../store/leveldb-files.js';
import { padNumber, type Store } from '../store/store.js';
import {
  checkpointSignedBytes,
  entryHash,
  GENESIS_HASH,
  signedHeadVerifies,
  type StoredCheckpoint,
  type StoredSignedHead,
} from './audit-log.js';
import { readSignedHeadFile, type HeadFileContent } from './head-file.js';

/**
 * The node's signing public keys: one key, or the key of a key id (the current one and those it
 * rotated away from, docs/protocol.md 15), since checkpoints and heads name the key that signed them.
 */
export type SigningKeys = Uint8Array | ((keyId: string) => Uint8Array | undefined);

/**
 * The records a verification reads, from the live store ({@link checkAuditLog}) or from the
 * store's files read without LevelDB (`checkStoredAudit`).
 */
export interface AuditRecords {
  /** The audit sublevel in key order: key (the zero-padded `seq`) and stored value. */
  readonly entries: AsyncIterable<readonly [string, unknown]> | Iterable<readonly [string, unknown]>;
  /** Every stored checkpoint. */
  readonly checkpoints: readonly unknown[];
  /** The store's signed head (`meta/audit-head`), undefined when there is none. */
  readonly head: unknown;
}

/**
 * What is wrong, as the metric `tracenet_audit_damaged` labels it: `storage` (a store file does not
 * read back as written), `truncated` (the log ends before a signed head or checkpoint), `changed`
 * (an entry, link, checkpoint or head does not match, or the node recorded damage nobody accepted).
 */
export type AuditDamageKind = 'storage' | 'truncated' | 'changed';

/** Damage the operator has not accepted. */
export interface AuditDamage {
  readonly kind: AuditDamageKind;
  readonly reason: string;
}

/** A verification, and what of it is new damage. */
export interface AuditFindings {
  readonly verification: AuditVerification;
  /**
   * Damage found after the operator's last acceptance (`audit.damage_accepted`, 8.6), or in the
   * store's files; undefined when the log is intact or all its damage was accepted before.
   */
  readonly damage: AuditDamage | undefined;
  /** The last entry: its `seq` and stored hash (0 and the genesis hash for an empty log). */
  readonly last: { readonly seq: number; readonly hash: string };
}

/** Evidence beyond the store's audit sublevels. */
export interface AuditEvidence {
  /** `<data>/audit-head.json` (8.4); leave out where there is no data directory (unit tests). */
  readonly headFile?: HeadFileContent;
  /** Damage found in the store's files (ADR 0010); leave out when they were not read. */
  readonly storage?: readonly StoreDamage[];
}

/**
 * Checks the whole audit chain (docs/protocol.md 8.6) of a live store, on one consistent view of it.
 * See {@link checkAuditLog}.
 */
export async function verifyAuditLog(
  store: Store,
  signingKeys: SigningKeys,
  headFilePath?: string,
): Promise<AuditVerification> {
  return (await checkAuditLog(store, signingKeys, headFilePath)).verification;
}

/**
 * {@link checkAuditRecords} on a live store that the journal may be writing to (a running node,
 * docs/protocol.md 8.6): the head kept outside the store (`headFilePath`, `<data>/audit-head.json`)
 * is read first, then entries, checkpoints and the store's head from one snapshot taken after it.
 *
 * That order is what keeps concurrent commits from looking like damage. The journal writes the file
 * only after the batch it names is committed, so the file read first names the snapshot's last
 * entry or an earlier one, never a later one; a commit landing meanwhile is in neither. Read the
 * other way round, the file can name a commit the snapshot lacks ("truncated"); reading the entries
 * and the store's head at different moments makes a commit look appended after the head.
 */
export async function checkAuditLog(
  store: Store,
  signingKeys: SigningKeys,
  headFilePath?: string,
): Promise<AuditFindings> {
  const evidence: AuditEvidence =
    headFilePath === undefined ? {} : { headFile: await readSignedHeadFile(headFilePath) };
  return store.snapshot(async (options) => {
    const checkpoints: unknown[] = [];
    for await (const value of store.audit.checkpointEvidence.values(options)) checkpoints.push(value);
    const head = await store.audit.signedHeadEvidence.get(options);
    return checkAuditRecords(
      { entries: store.audit.evidence.entries(options), checkpoints, head },
      signingKeys,
      evidence,
    );
  });
}

/** The chain members of an entry's line (8.1) and the fields verification reads. */
interface ParsedLine {
  readonly seq?: unknown;
  readonly prev?: unknown;
  readonly type?: unknown;
  readonly reason?: unknown;
}

interface Problem {
  readonly seq: number;
  readonly reason: string;
  readonly kind: AuditDamageKind;
  /** The chain position before the problem: the last entry that was checked, and its hash. */
  readonly headSeq: number;
  readonly headHash: string;
}

/**
 * Checks the whole audit chain: every entry's sequence number, link to its predecessor and hash,
 * every checkpoint's signature and that the chain still reaches it with the same hash, that the
 * chain ends exactly at the store's signed head and reaches the signed head of `<data>/audit-head.json`
 * (docs/protocol.md 8.6). Detects a modified, deleted, reordered, inserted or appended entry, a
 * truncation (also after the last checkpoint, also when the store lost its own head), and damage
 * the node itself recorded (`audit.broken`). Damage in the store's files is reported as well.
 *
 * The result names the first problem: `firstBrokenSeq` is the first entry the log can no longer
 * vouch for. A broken link between two entries means that either of them was rewritten, so the
 * earlier one is reported unless a checkpoint proves it; a checkpoint that the chain no longer
 * reaches means that some entry after the previous good checkpoint was rewritten. The walk goes
 * on after a problem: damage that the operator accepted (an `audit.damage_accepted` entry, written
 * at a start with `--accept-audit-damage`) stays reported, but only a problem after the last
 * acceptance is new damage ({@link AuditFindings.damage}), and it is then the one reported.
 */
export async function checkAuditRecords(
  records: AuditRecords,
  signingKeys: SigningKeys,
  evidence: AuditEvidence = {},
): Promise<AuditFindings> {
  const keyOf = (keyId: unknown): Uint8Array | undefined =>
    typeof signingKeys === 'function' ? (typeof keyId === 'string' ? signingKeys(keyId) : undefined) : signingKeys;
  const checkpoints = new Map<number, Partial<StoredCheckpoint>>();
  for (const value of records.checkpoints) {
    const checkpoint = value as Partial<StoredCheckpoint>;
    if (typeof checkpoint.seq === 'number') checkpoints.set(checkpoint.seq, checkpoint);
  }
  const heads = [
    { name: 'the signed head', head: records.head as Partial<StoredSignedHead> | undefined },
    {
      name: 'the signed head in audit-head.json',
      head: evidence.headFile?.state === 'present' ? evidence.headFile.head : undefined,
    },
  ].map(({ name, head }) => {
    const signingKey = head === undefined ? undefined : keyOf(head.keyId);
    return {
      name,
      head,
      verifies: head !== undefined && signingKey !== undefined && signedHeadVerifies(head, signingKey),
    };
  });

  let expected = 1;
  /** Hash the next entry must link to; undefined after a gap, where it cannot be known. */
  let prev: string | undefined = GENESIS_HASH;
  let lastHash = GENESIS_HASH;
  let checked = 0;
  /** The last entry that a valid checkpoint proves. */
  let proven = 0;
  let accepted = 0;
  let first: Problem | undefined;
  let sinceAccepted: Problem | undefined;
  let problems = 0;
  const problem = (seq: number, reason: string, kind: AuditDamageKind = 'changed') => {
    const found: Problem = { seq, reason, kind, headSeq: expected - 1, headHash: lastHash };
    first ??= found;
    sinceAccepted ??= found;
    // Stryker disable next-line AssignmentOperator: equivalent: the count is only compared for equality with its value before an entry
    problems += 1;
  };

  for await (const [key, value] of records.entries) {
    const at = Number(key);
    const problemsBefore = problems;
    const entry = (value ?? {}) as { line?: unknown; hash?: unknown };
    let parsed: ParsedLine | null = null;
    try {
      parsed = typeof entry.line === 'string' ? (JSON.parse(entry.line) as ParsedLine | null) : null;
    } catch {
      // Reported below.
    }
    if (
      typeof entry.line !== 'string' ||
      typeof entry.hash !== 'string' ||
      typeof parsed !== 'object' ||
      parsed === null ||
      typeof parsed.prev !== 'string' ||
      !/^[0-9a-f]{64}$/.test(parsed.prev)
    ) {
      problem(
        expected,
        typeof entry.line !== 'string' || typeof entry.hash !== 'string'
          ? 'entry is not an audit entry'
          : 'entry line is not a JSON audit entry',
      );
      // Go on after it, not knowing what the next entry must link to.
      expected = Number.isSafeInteger(at) && at >= expected ? at + 1 : expected + 1;
      prev = undefined;
      continue;
    }
    const line = entry.line;
    if (key !== padNumber(expected) || parsed.seq !== expected) {
      problem(
        expected,
        `sequence gap or reorder: expected entry ${expected}, found key ${at} with seq ${String(parsed.seq)}`,
      );
      if (Number.isSafeInteger(at) && at >= expected) expected = at;
      prev = undefined;
    }
    if (prev !== undefined && parsed.prev !== prev) {
      const suspect = expected > 1 && proven < expected - 1 ? expected - 1 : expected;
      problem(suspect, `entry ${expected} does not link to entry ${expected - 1}: one of them was changed`);
    }
    const hash = entryHash(parsed.prev, line);
    if (hash !== entry.hash) problem(expected, 'hash mismatch: the entry was changed');
    if (parsed.type === 'audit.broken') {
      // Damage the node found at a start and recorded under its key (8.5).
      problem(proven + 1, `entry ${expected}: at start the node found its audit log damaged: ${String(parsed.reason)}`);
    } else if (parsed.type === 'audit.damage_accepted' && problems === problemsBefore) {
      // An intact acceptance: the node's operator accepted what the log had lost or changed before it.
      accepted = expected;
      sinceAccepted = undefined;
    }
    const checkpoint = checkpoints.get(expected);
    if (checkpoint) {
      const s = sodium();
      const signature = Buffer.from(typeof checkpoint.signature === 'string' ? checkpoint.signature : '', 'base64');
      const signingKey = keyOf(checkpoint.keyId);
      // A signature of the wrong length makes libsodium throw; it is reported like any bad signature.
      const verifies =
        signingKey !== undefined &&
        typeof checkpoint.hash === 'string' &&
        /^[0-9a-f]{64}$/.test(checkpoint.hash) &&
        Number.isSafeInteger(checkpoint.at) &&
        signature.length === s.crypto_sign_BYTES &&
        s.crypto_sign_verify_detached(
          signature,
          checkpointSignedBytes(expected, checkpoint.hash, checkpoint.at as number),
          signingKey,
        );
      if (!verifies) problem(expected, 'checkpoint signature does not verify');
      else if (checkpoint.hash !== hash)
        problem(
          proven + 1,
          `the chain no longer reaches the signed checkpoint at entry ${expected}: an entry after ${proven} was changed`,
        );
      else {
        checked += 1;
        proven = expected;
      }
    }
    // A head whose signature does not verify is reported after the walk.
    for (const { name, head, verifies } of heads) {
      if (verifies && head?.seq === expected && head.hash !== hash)
        problem(
          proven + 1,
          `the chain no longer reaches ${name} at entry ${expected}: an entry after ${proven} was changed`,
        );
    }
    // Go on from the stored hash: the next entry links to it unless it was changed too.
    prev = entry.hash;
    lastHash = entry.hash;
    expected += 1;
  }

  const last = expected - 1;
  const [stored, file] = heads as [(typeof heads)[number], (typeof heads)[number]];
  if (stored.head === undefined) {
    if (last > 0)
      problem(
        proven + 1,
        `no signed head: the end of the log cannot be checked (entries after ${proven} may have been removed)`,
      );
  } else if (!stored.verifies) {
    problem(Math.min(proven + 1, last + 1), 'signed head signature does not verify');
  } else if ((stored.head.seq ?? 0) > last) {
    problem(
      last + 1,
      `truncated: the signed head names entry ${String(stored.head.seq)} but the log ends at ${last}`,
      'truncated',
    );
  } else if ((stored.head.seq ?? 0) < last) {
    problem(
      (stored.head.seq ?? 0) + 1,
      `entries after the signed head: it names entry ${String(stored.head.seq)} but the log goes on to ${last}`,
    );
  }
  // The head kept outside the store may lag behind the log (a crash between the two writes), never lead it.
  if (evidence.headFile?.state === 'missing' && last > 0) {
    problem(
      proven + 1,
      `no audit-head.json: the signed head kept outside the store is missing (entries after ${proven} may have been removed)`,
      'truncated',
    );
  } else if (evidence.headFile?.state === 'unreadable') {
    problem(Math.min(proven + 1, last + 1), `audit-head.json is not a signed head (${evidence.headFile.problem})`);
  } else if (file.head !== undefined && !file.verifies) {
    problem(Math.min(proven + 1, last + 1), 'the signed head in audit-head.json signature does not verify');
  } else if (file.head !== undefined && (file.head.seq ?? 0) > last) {
    problem(
      last + 1,
      `truncated: audit-head.json names entry ${String(file.head.seq)} but the log ends at ${last}`,
      'truncated',
    );
  }
  const beyond = [...checkpoints.keys()].filter((seq) => seq > last);
  if (beyond.length > 0)
    problem(
      last + 1,
      `truncated: a signed checkpoint covers entry ${Math.max(...beyond)} but the log ends at ${last}`,
      'truncated',
    );

  const storage = evidence.storage ?? [];
  const storageReason =
    storage.length === 0
      ? ''
      : `the store's files are damaged: ${storage.slice(0, 3).map(describeDamage).join('; ')}${storage.length > 3 ? `; and ${storage.length - 3} more` : ''}`;
  const reported = sinceAccepted ?? first;
  const acceptance =
    accepted === 0
      ? ''
      : sinceAccepted
        ? ` (damage before entry ${accepted} was accepted by the operator)`
        : `; the operator accepted this damage at entry ${accepted} and the log is intact since`;
  const reason = [storageReason, reported ? `${reported.reason}${acceptance}` : '']
    .filter((r) => r !== '')
    .join('; then ');
  const verification: AuditVerification =
    reported || storage.length > 0
      ? {
          ok: false,
          entries: reported ? reported.seq - 1 : last,
          checkpoints: checked,
          firstBrokenSeq: reported?.seq ?? 0,
          reason,
          headSeq: reported ? reported.headSeq : last,
          headHash: reported ? reported.headHash : lastHash,
        }
      : {
          ok: true,
          entries: last,
          checkpoints: checked,
          firstBrokenSeq: 0,
          reason: '',
          headSeq: last,
          headHash: lastHash,
        };
  const damage: AuditDamage | undefined =
    storage.length > 0 ? { kind: 'storage', reason } : sinceAccepted ? { kind: sinceAccepted.kind, reason } : undefined;
  return { verification, damage, last: { seq: last, hash: lastHash } };
}
