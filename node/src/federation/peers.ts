import { ErrorCode, PeerCard, PeerCardBody, type PeerSummary, TracenetError } from '@tracenet/proto';
import { derivePairKey } from '../envelope/pair-key.js';
import type { NodeIdentity, OwnKeySet } from '../identity/data-dir.js';
import { verifyPeerCard } from '../identity/peer-card.js';
import { derToPem } from '../identity/tls.js';
import type { AuditEvent, Journal } from '../audit/audit-log.js';
import type { Operation, Store } from '../store/store.js';
import { keyAuditEvent } from './key-audit.js';
import type { RosterGuard } from './roster.js';

/** A card of a peer's keys before a rotation, accepted until `graceUntilMs` (docs/protocol.md 15.2). */
export interface PreviousCard {
  readonly card: PeerCard;
  readonly body: PeerCardBody;
  readonly graceUntilMs: number;
}

/** A pinned peer with everything needed to talk to it. */
export interface Peer {
  readonly participantId: string;
  readonly card: PeerCard;
  readonly body: PeerCardBody;
  /** Symmetric key shared with this peer under this node's current keys (header authentication and encryption). */
  readonly pairKey: Buffer;
  /** The peer's TLS certificate as PEM, used as the only trust anchor for its port. */
  readonly tlsCertificatePem: string;
  /** Cards of keys the peer rotated away from, still accepted until their grace ends. */
  readonly previous: readonly PreviousCard[];
  /** Key ids the peer revoked itself (KEY_REVOCATION): refused for ever. */
  readonly revokedKeyIds: readonly string[];
}

/** Summary of a pinned peer for listings. */
export function summarisePeer(peer: Peer): PeerSummary {
  return {
    participantId: peer.participantId,
    kind: peer.body.kind,
    displayName: peer.body.displayName,
    endpoints: peer.body.endpoints,
    keyId: peer.body.keyId,
    validUntilMs: peer.body.validUntilMs,
    tlsFingerprint: peer.body.tlsCertificateSha256.toString('hex'),
  };
}

/** Result of pinning a card. */
export interface PinResult {
  readonly peer: Peer;
  /** A pinned card was replaced (a newer card of the same keys, or other keys with `replaceKeys`). */
  readonly replaced: boolean;
}

/** A change of a pin that the caller writes in its own batch, then applies. */
export interface PinChange {
  readonly operations: Operation[];
  readonly audit: AuditEvent[];
  /** Makes the change visible in memory; call after the batch was written. */
  apply(): void;
}

/** The keys a sender signed and sealed with, or why they are refused (ErrorDetail.rule). */
export type SenderKeys = { readonly body: PeerCardBody } | { readonly refused: 'pinned_key' | 'rotation_grace' | 'revoked_key' };

interface StoredPin {
  readonly card: string;
  readonly pinnedAt: number;
  readonly previous?: ReadonlyArray<{ readonly card: string; readonly graceUntilMs: number }>;
  readonly revokedKeyIds?: readonly string[];
}

const encodeCard = (card: PeerCard) => Buffer.from(PeerCard.encode(card).finish()).toString('base64');
const decodeCard = (text: string) => PeerCard.decode(Buffer.from(text, 'base64'));

/**
 * The pinned peers of a node. Deny by default: an envelope from a participant that is not pinned
 * here is refused. Pins are stored in the `peers` sublevel and cached in memory. A pin holds the
 * peer's current card, the cards it rotated away from while their grace lasts, and the key ids it
 * revoked (docs/protocol.md section 15).
 */
export class PeerRegistry {
  readonly #peers = new Map<string, Peer>();
  readonly #pairKeys = new Map<string, Buffer>();

  constructor(
    private readonly deps: { store: Store; journal: Journal; identity: NodeIdentity; roster?: RosterGuard },
  ) {}

  /** Loads the pins from the store. */
  async load(): Promise<void> {
    for await (const [id, value] of this.deps.store.sub.peers.iterator()) {
      const stored = value as unknown as StoredPin;
      const card = decodeCard(stored.card);
      const previous = (stored.previous ?? []).map((p) => {
        const previousCard = decodeCard(p.card);
        return { card: previousCard, body: PeerCardBody.decode(previousCard.body), graceUntilMs: p.graceUntilMs };
      });
      this.#peers.set(id, this.#toPeer(card, PeerCardBody.decode(card.body), previous, stored.revokedKeyIds ?? []));
    }
  }

  get(participantId: string): Peer | undefined {
    return this.#peers.get(participantId);
  }

  list(): Peer[] {
    return [...this.#peers.values()].sort((a, b) => a.participantId.localeCompare(b.participantId));
  }

  /** The pair key of one of this node's key sets and a peer's encryption key (cached). */
  pairKey(peerEncryptionPublicKey: Uint8Array, own: OwnKeySet): Buffer {
    const id = `${own.keyId}:${Buffer.from(peerEncryptionPublicKey).toString('hex')}`;
    let key = this.#pairKeys.get(id);
    if (!key) {
      key = derivePairKey(own.keys.encryptionSecretKey, own.keys.encryptionPublicKey, peerEncryptionPublicKey);
      this.#pairKeys.set(id, key);
    }
    return key;
  }

  /**
   * Which card of `peer` an envelope with `sender_key_id = keyId` is checked against at `nowMs`:
   * the pinned card, or a previous card inside its grace. Revoked keys (by the peer itself or by
   * the roster) are refused first.
   */
  senderKeys(peer: Peer, keyId: string, nowMs: number): SenderKeys {
    if (peer.revokedKeyIds.includes(keyId) || this.deps.roster?.isRevoked(peer.participantId, keyId)) return { refused: 'revoked_key' };
    if (keyId === peer.body.keyId) return { body: peer.body };
    const previous = peer.previous.find((p) => p.body.keyId === keyId);
    if (!previous) return { refused: 'pinned_key' };
    return nowMs < previous.graceUntilMs ? { body: previous.body } : { refused: 'rotation_grace' };
  }

  /**
   * The pinned peer that may connect with the TLS certificate whose SHA-256 is `fingerprint` at
   * `nowMs` (docs/protocol.md 2.5): the certificate of its pinned card, or of a previous card
   * whose keys {@link senderKeys} still accepts (in grace, not revoked).
   */
  byTlsFingerprint(fingerprint: Uint8Array, nowMs: number): Peer | undefined {
    return this.list().find((peer) =>
      [peer.body, ...peer.previous.map((p) => p.body)].some((body) => body.tlsCertificateSha256.equals(fingerprint) && 'body' in this.senderKeys(peer, body.keyId, nowMs)),
    );
  }

  /** The roster's word on a sender (15.5): throws when it refuses `participantId` sending with `keyId` now. */
  checkRoster(participantId: string, keyId: string, nowMs: number): void {
    this.deps.roster?.checkSender(participantId, keyId, nowMs);
  }

  /**
   * Verifies `card` and pins it. A card for a participant already pinned with other keys is
   * refused (key changes go through a rotation message, 15.2) unless `replaceKeys`: the operator
   * confirmed the new card out of band (15.3), and the previous keys are refused at once. A newer
   * card of the same keys replaces the old one. With a roster key, the roster must vouch for the
   * card (15.5).
   */
  async pin(card: PeerCard, nowMs: number, options: { replaceKeys?: boolean } = {}): Promise<PinResult> {
    const body = verifyPeerCard(card, nowMs);
    if (body.participantId === this.deps.identity.participantId) {
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, 'a node cannot pin its own card', { field: 'card.participant_id', rule: 'not_self' });
    }
    const existing = this.#peers.get(body.participantId);
    if (existing?.revokedKeyIds.includes(body.keyId)) {
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, `${body.participantId} revoked key ${body.keyId}`, { field: 'card.key_id', rule: 'revoked_key' });
    }
    const newKeys = existing !== undefined && existing.body.keyId !== body.keyId;
    if (newKeys && !options.replaceKeys) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
        `${body.participantId} is pinned with key ${existing.body.keyId}; a card with key ${body.keyId} comes with a key rotation message, or is pinned with replace_keys after checking it out of band`,
        { field: 'card.key_id', rule: 'pinned_key' },
      );
    }
    if (existing && !newKeys && existing.body.issuedAtMs >= body.issuedAtMs) return { peer: existing, replaced: false };
    // A newer card of the same keys was vouched for when its keys were pinned; new keys need the roster's word.
    if (!existing || newKeys) this.deps.roster?.checkPin(body, nowMs);
    this.pairKey(body.encryptionPublicKey, this.deps.identity); // refuses a low-order key before anything is written
    const previous = newKeys ? [] : (existing?.previous ?? []);
    const change = this.#change(card, body, previous, existing?.revokedKeyIds ?? [], nowMs, [
      {
        type: 'peer.pinned',
        fields: {
          peer: body.participantId,
          keyId: body.keyId,
          tlsFingerprint: body.tlsCertificateSha256.toString('hex'),
          replaced: existing !== undefined,
          ...(newKeys ? { via: 'replace_keys', previousKeyId: existing.body.keyId } : {}),
        },
      },
    ]);
    await this.deps.journal.write(change.operations, change.audit);
    change.apply();
    return { peer: this.#peers.get(body.participantId) as Peer, replaced: existing !== undefined };
  }

  /**
   * The pin change of an accepted KEY_ROTATION (docs/protocol.md 15.2): `card` (verified by the
   * caller) becomes the pinned card; the pinned one stays valid until `graceUntilMs`.
   */
  rotation(peer: Peer, card: PeerCard, body: PeerCardBody, graceUntilMs: number, nowMs: number): PinChange {
    const previous = [...peer.previous.filter((p) => nowMs < p.graceUntilMs), { card: peer.card, body: peer.body, graceUntilMs }];
    return this.#change(card, body, previous, peer.revokedKeyIds, nowMs, [
      {
        type: 'peer.pinned',
        fields: {
          peer: body.participantId,
          keyId: body.keyId,
          tlsFingerprint: body.tlsCertificateSha256.toString('hex'),
          replaced: true,
          via: 'key_rotation',
          previousKeyId: peer.body.keyId,
          graceUntilMs,
        },
      },
    ]);
  }

  /** The pin change of an accepted KEY_REVOCATION (docs/protocol.md 15.3): `keyIds` are refused for ever. */
  revocation(peer: Peer, keyIds: readonly string[], nowMs: number): PinChange {
    const revoked = [...new Set([...peer.revokedKeyIds, ...keyIds])];
    const previous = peer.previous.filter((p) => !revoked.includes(p.body.keyId));
    return this.#change(peer.card, peer.body, previous, revoked, nowMs, [keyAuditEvent('peer.keys_revoked', { peer: peer.participantId, keyIds: keyIds.join(','), via: 'key_revocation' })]);
  }

  #change(card: PeerCard, body: PeerCardBody, previous: readonly PreviousCard[], revokedKeyIds: readonly string[], nowMs: number, audit: AuditEvent[]): PinChange {
    const stored: StoredPin = {
      card: encodeCard(card),
      pinnedAt: nowMs,
      ...(previous.length > 0 ? { previous: previous.map((p) => ({ card: encodeCard(p.card), graceUntilMs: p.graceUntilMs })) } : {}),
      ...(revokedKeyIds.length > 0 ? { revokedKeyIds: [...revokedKeyIds] } : {}),
    };
    return {
      operations: [{ type: 'put', sublevel: this.deps.store.sub.peers, key: body.participantId, value: { ...stored } }],
      audit,
      apply: () => this.#peers.set(body.participantId, this.#toPeer(card, body, previous, revokedKeyIds)),
    };
  }

  #toPeer(card: PeerCard, body: PeerCardBody, previous: readonly PreviousCard[], revokedKeyIds: readonly string[]): Peer {
    const currentPairKey = () => this.pairKey(body.encryptionPublicKey, this.deps.identity);
    return {
      participantId: body.participantId,
      card,
      body,
      // Computed with the node's keys of the moment: after a rotation of this node, with the new ones.
      get pairKey() {
        return currentPairKey();
      },
      tlsCertificatePem: derToPem(body.tlsCertificate),
      previous,
      revokedKeyIds,
    };
  }
}
