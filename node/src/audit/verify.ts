import type { AuditVerification } from '@tracenet/proto';
import { sodium } from '../crypto/sodium.js';
import { padNumber, type Store } from '../store/store.js';
import { checkpointSignedBytes, entryHash, GENESIS_HASH, type StoredAuditEntry, type StoredCheckpoint } from './audit-log.js';

/**
 * Checks the whole audit chain: every entry's sequence number, link to its predecessor and hash,
 * then every checkpoint's signature and that the chain still reaches it with the same hash.
 * Reports the first broken entry. Detects a modified, deleted, reordered or inserted entry, and a
 * truncation up to the last checkpoint.
 *
 * `firstBrokenSeq` is the first entry the log can no longer vouch for; entries before it are
 * intact. A broken link between two entries means that either of them was rewritten, so the
 * earlier one is reported unless a checkpoint proves it; a checkpoint that the chain no longer
 * reaches means that some entry after the previous good checkpoint was rewritten.
 */
export async function verifyAuditLog(store: Store, signingPublicKey: Uint8Array): Promise<AuditVerification> {
  const checkpoints = new Map<number, StoredCheckpoint>();
  for await (const [, value] of store.sub.checkpoints.iterator()) {
    const checkpoint = value as unknown as StoredCheckpoint;
    checkpoints.set(checkpoint.seq, checkpoint);
  }
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
    let parsed: { seq?: unknown; prev?: unknown } | null;
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
    const checkpoint = checkpoints.get(expected);
    if (checkpoint) {
      const s = sodium();
      const signature = Buffer.from(typeof checkpoint.signature === 'string' ? checkpoint.signature : '', 'base64');
      const signed = checkpointSignedBytes(checkpoint.seq, checkpoint.hash, checkpoint.at);
      // A signature of the wrong length makes libsodium throw; it is reported like any bad signature.
      if (signature.length !== s.crypto_sign_BYTES || !s.crypto_sign_verify_detached(signature, signed, signingPublicKey)) {
        return broken(expected, 'checkpoint signature does not verify');
      }
      if (checkpoint.hash !== hash) {
        return broken(proven + 1, `the chain no longer reaches the signed checkpoint at entry ${expected}: an entry after ${proven} was changed`);
      }
      checked += 1;
      proven = expected;
    }
    prev = hash;
    expected += 1;
  }
  const last = expected - 1;
  const beyond = [...checkpoints.keys()].filter((seq) => seq > last);
  if (beyond.length > 0) {
    return broken(last + 1, `truncated: a signed checkpoint covers entry ${Math.max(...beyond)} but the log ends at ${last}`);
  }
  return { ok: true, entries: last, checkpoints: checked, firstBrokenSeq: 0, reason: '', headSeq: last, headHash: prev };
}
