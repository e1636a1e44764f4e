import type { AuditEvent } from '../audit/audit-log.js';

/** Audit entry types of key management (docs/protocol.md 15.6). */
export type KeyAuditType =
  | 'keys.rotated'
  | 'keys.revoked'
  | 'keys.erased'
  | 'peer.keys_revoked'
  | 'peer.rotation_held'
  | 'peer.removed'
  | 'roster.loaded';

/** An audit event of key management. Fields are ids, times and counts, never key material. */
export function keyAuditEvent(type: KeyAuditType, fields: Record<string, string | number | boolean>): AuditEvent {
  return { type, fields };
}
