import type { PeerCard, PeerCardBody } from '@tracenet/proto';
import type { AuditEvent } from '../audit/audit-log.js';
import type { OwnKeySet } from '../identity/data-dir.js';
import type { Operation } from '../store/store.js';

/** A change of a pin that the caller writes in its own batch, then applies. */
export interface PinChange {
  readonly operations: Operation[];
  readonly audit: AuditEvent[];
  /** Makes the change visible in memory; call after the batch was written. */
  apply(): void;
}

/** A pinned peer as key management sees it: its pinned card. */
export interface KeyedPeer {
  readonly body: PeerCardBody;
}

/** The keys a sender signed and sealed with, or why they are refused (ErrorDetail.rule). */
export type SenderKeys =
  | { readonly body: PeerCardBody }
  | { readonly refused: 'pinned_key' | 'rotation_grace' | 'revoked_key' };

/**
 * What key management needs of the registry of pinned peers (`federation/peers.ts` implements
 * it): look a peer up, judge a key, and prepare the pin changes of a rotation or revocation.
 */
export interface PeerKeys<P extends KeyedPeer = KeyedPeer> {
  get(participantId: string): P | undefined;
  senderKeys(peer: P, keyId: string, nowMs: number): SenderKeys;
  pairKey(peerEncryptionPublicKey: Uint8Array, own: OwnKeySet): Buffer;
  rosterLists(body: PeerCardBody): boolean;
  rotation(peer: P, card: PeerCard, body: PeerCardBody, graceUntilMs: number, nowMs: number): PinChange;
  holdRotation(peer: P, card: PeerCard, body: PeerCardBody, graceUntilMs: number, nowMs: number): PinChange;
  revocation(peer: P, keyIds: readonly string[], nowMs: number): PinChange;
}
