import type { AuditVerification } from '@tracenet/proto';
import { sodium } from '../crypto/sodium.js';
import { padNumber, type Store } from '../store/store.js';
import { checkpointSignedBytes, entryHash, GENESIS_HASH, type StoredAuditEntry, type StoredCheckpoint } from './audit-log.js';

/**
 * Checks the whole audit chain: every entry's sequence number, link to its predecessor and hash,
 * then every checkpoint's signature and that the chain still reaches it with the same hash.
 * Reports the first broken entry. Detects a modified, deleted, reordered or inserted entry, and a
 * truncation up to the last checkpoint.
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
  const broken = (seq: number, reason: string): AuditVerification => ({
    ok: false,
    entries: expected - 1,
    checkpoints: checked,
    firstBrokenSeq: seq,
    reason,
    headSeq: expected - 1,
    headHash: prev,
  });
  for await (const [key, value] of store.sub.audit.iterator()) {
    const entry = value as unknown as Partial<StoredAuditEntry>;
    if (typeof entry.line !== 'string' || typeof entry.hash !== 'string') return broken(expected, 'entry is not an audit entry');
    let parsed: { seq?: unknown; prev?: unknown };
    try {
      parsed = JSON.parse(entry.line) as typeof parsed;
    } catch {
      return broken(expected, 'entry line is not JSON');
    }
    if (key !== padNumber(expected) || parsed.seq !== expected) {
      return broken(expected, `sequence gap or reorder: expected entry ${expected}, found key ${Number(key)} with seq ${String(parsed.seq)}`);
    }
    if (parsed.prev !== prev) return broken(expected, 'entry does not link to the previous entry');
    const hash = entryHash(prev, entry.line);
    if (hash !== entry.hash) return broken(expected, 'hash mismatch: the entry was changed');
    const checkpoint = checkpoints.get(expected);
    if (checkpoint) {
      if (checkpoint.hash !== hash) return broken(expected, 'checkpoint hash differs from the chain');
      const signed = checkpointSignedBytes(checkpoint.seq, checkpoint.hash, checkpoint.at);
      if (!sodium().crypto_sign_verify_detached(Buffer.from(checkpoint.signature, 'base64'), signed, signingPublicKey)) {
        return broken(expected, 'checkpoint signature does not verify');
      }
      checked += 1;
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
