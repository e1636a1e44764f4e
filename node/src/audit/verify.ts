import type { AuditVerification } from '@tracenet/proto';
import { sodium } from '../crypto/sodium.js';
import { padNumber, type Store } from '../store/store.js';
import {
  checkpointSignedBytes,
  entryHash,
  GENESIS_HASH,
  SIGNED_HEAD_KEY,
  signedHeadVerifies,
  type StoredAuditEntry,
  type StoredCheckpoint,
  type StoredSignedHead,
} from './audit-log.js';

/**
 * The node's signing public keys: one key, or the key of a key id (the current one and those it
 * rotated away from, docs/protocol.md 15), since checkpoints and heads name the key that signed them.
 */
export type SigningKeys = Uint8Array | ((keyId: string) => Uint8Array | undefined);

/**
 * Checks the whole audit chain: every entry's sequence number, link to its predecessor and hash,
 * every checkpoint's signature and that the chain still reaches it with the same hash, and that the
 * chain ends exactly at the signed head of the last commit (docs/protocol.md 8.6). Reports the first
 * broken entry. Detects a modified, deleted, reordered, inserted or appended entry, a truncation
 * (also after the last checkpoint), and a change the node itself found at start (`audit.broken`).
 *
 * `firstBrokenSeq` is the first entry the log can no longer vouch for; entries before it are
 * intact. A broken link between two entries means that either of them was rewritten, so the
 * earlier one is reported unless a checkpoint proves it; a checkpoint that the chain no longer
 * reaches means that some entry after the previous good checkpoint was rewritten.
 */
export async function verifyAuditLog(store: Store, signingKeys: SigningKeys): Promise<AuditVerification> {
  const keyOf = (keyId: unknown): Uint8Array | undefined => (typeof signingKeys === 'function' ? (typeof keyId === 'string' ? signingKeys(keyId) : undefined) : signingKeys);
  const checkpoints = new Map<number, StoredCheckpoint>();
  for await (const [, value] of store.sub.checkpoints.iterator()) {
    const checkpoint = value as unknown as StoredCheckpoint;
    checkpoints.set(checkpoint.seq, checkpoint);
  }
  const head = (await store.sub.meta.get(SIGNED_HEAD_KEY)) as Partial<StoredSignedHead> | undefined;
  const headKey = head === undefined ? undefined : keyOf(head.keyId);
  const headVerifies = head !== undefined && headKey !== undefined && signedHeadVerifies(head, headKey);
  let expected = 1;
  let prev = GENESIS_HASH;
  let checked = 0;
  /** The last entry that a valid checkpoint proves. */
  let proven = 0;
  const broken = (seq: number, reason: string): AuditVerification => ({
    ok: false,
    entries: seq - 1,
    checkpoints: checked,
    firstBrokenSeq: seq,
    reason,
    headSeq: expected - 1,
    headHash: prev,
  });
  for await (const [key, value] of store.sub.audit.iterator()) {
    const entry = value as unknown as Partial<StoredAuditEntry>;
    if (typeof entry.line !== 'string' || typeof entry.hash !== 'string') return broken(expected, 'entry is not an audit entry');
    let parsed: { seq?: unknown; prev?: unknown; type?: unknown; reason?: unknown; headSeq?: unknown; foundSeq?: unknown } | null;
    try {
      parsed = JSON.parse(entry.line) as typeof parsed;
    } catch {
      return broken(expected, 'entry line is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null) return broken(expected, 'entry line is not a JSON object');
    if (key !== padNumber(expected) || parsed.seq !== expected) {
      return broken(expected, `sequence gap or reorder: expected entry ${expected}, found key ${Number(key)} with seq ${String(parsed.seq)}`);
    }
    if (parsed.prev !== prev) {
      const suspect = expected > 1 && proven < expected - 1 ? expected - 1 : expected;
      return broken(suspect, `entry ${expected} does not link to entry ${expected - 1}: one of them was changed`);
    }
    const hash = entryHash(prev, entry.line);
    if (hash !== entry.hash) return broken(expected, 'hash mismatch: the entry was changed');
    if (parsed.type === 'audit.broken') {
      // The node found its log changed while it was stopped and said so here, under its key.
      return broken(
        proven + 1,
        `entry ${expected}: at start the node found its log changed (${String(parsed.reason)}): it ended at entry ${String(parsed.foundSeq)}, the signed head named ${String(parsed.headSeq)}`,
      );
    }
    const checkpoint = checkpoints.get(expected);
    if (checkpoint) {
      const s = sodium();
      const signature = Buffer.from(typeof checkpoint.signature === 'string' ? checkpoint.signature : '', 'base64');
      const signed = checkpointSignedBytes(checkpoint.seq, checkpoint.hash, checkpoint.at);
      const key = keyOf(checkpoint.keyId);
      // A signature of the wrong length makes libsodium throw; it is reported like any bad signature.
      if (key === undefined || signature.length !== s.crypto_sign_BYTES || !s.crypto_sign_verify_detached(signature, signed, key)) {
        return broken(expected, 'checkpoint signature does not verify');
      }
      if (checkpoint.hash !== hash) {
        return broken(proven + 1, `the chain no longer reaches the signed checkpoint at entry ${expected}: an entry after ${proven} was changed`);
      }
      checked += 1;
      proven = expected;
    }
    if (head !== undefined && head.seq === expected) {
      if (!headVerifies) return broken(proven + 1, 'signed head signature does not verify');
      if (head.hash !== hash) return broken(proven + 1, `the chain no longer reaches the signed head at entry ${expected}: an entry after ${proven} was changed`);
    }
    prev = hash;
    expected += 1;
  }
  const last = expected - 1;
  if (head === undefined) {
    if (last > 0) return broken(proven + 1, `no signed head: the end of the log cannot be checked (entries after ${proven} may have been removed)`);
  } else if (!headVerifies) {
    return broken(Math.min(proven + 1, last + 1), 'signed head signature does not verify');
  } else if ((head.seq ?? 0) > last) {
    return broken(last + 1, `truncated: the signed head names entry ${String(head.seq)} but the log ends at ${last}`);
  } else if ((head.seq ?? 0) < last) {
    return broken((head.seq ?? 0) + 1, `entries after the signed head: it names entry ${String(head.seq)} but the log goes on to ${last}`);
  }
  const beyond = [...checkpoints.keys()].filter((seq) => seq > last);
  if (beyond.length > 0) {
    return broken(last + 1, `truncated: a signed checkpoint covers entry ${Math.max(...beyond)} but the log ends at ${last}`);
  }
  return { ok: true, entries: last, checkpoints: checked, firstBrokenSeq: 0, reason: '', headSeq: last, headHash: prev };
}
