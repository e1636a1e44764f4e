import { blake2b256, domainLabel, ed25519Sign, u64be } from './primitives.js';

const ENTRY = domainLabel('tracenet.v1/audit-entry');
const CHECKPOINT = domainLabel('tracenet.v1/audit-checkpoint');

/** The hash of an audit entry (protocol 8.2): BLAKE2b-256(D("tracenet.v1/audit-entry") || bytes(prev) || UTF-8(line)). */
export function auditEntryHash(previousHashHex: string, line: string): Buffer {
  return blake2b256(ENTRY, Buffer.from(previousHashHex, 'hex'), Buffer.from(line, 'utf8'));
}

/** The bytes a checkpoint signs (protocol 8.3): D("tracenet.v1/audit-checkpoint") || u64be(seq) || hash || u64be(at). */
export function checkpointSignedBytes(seq: number, hash: Uint8Array, atMs: number): Buffer {
  return Buffer.concat([CHECKPOINT, u64be(seq), hash, u64be(atMs)]);
}

/** A checkpoint signature (protocol 8.3). */
export function signCheckpoint(seq: number, hash: Uint8Array, atMs: number, signingSecretKey: Uint8Array): Buffer {
  return ed25519Sign(checkpointSignedBytes(seq, hash, atMs), signingSecretKey);
}
