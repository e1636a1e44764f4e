import { ErrorCode, PeerCard, PeerCardBody, type PeerSummary, TracenetError } from '@tracenet/proto';
import type { PairKeyCache } from '../envelope/pair-key.js';
import { verifyPeerCard } from '../identity/peer-card.js';
import { derToPem } from '../identity/tls.js';
import type { Journal } from '../audit/audit-log.js';
import type { Store } from '../store/store.js';

/** A pinned peer with everything needed to talk to it. */
export interface Peer {
  readonly participantId: string;
  readonly card: PeerCard;
  readonly body: PeerCardBody;
  /** Symmetric key shared with this peer (header authentication and encryption). */
  readonly pairKey: Buffer;
  /** The peer's TLS certificate as PEM, used as the only trust anchor for its port. */
  readonly tlsCertificatePem: string;
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
  /** A pinned card of the same keys was replaced by this newer one. */
  readonly replaced: boolean;
}

/**
 * The pinned peers of a node. Deny by default: an envelope from a participant that is not pinned
 * here is refused. Pins are stored in the `peers` sublevel and cached in memory.
 */
export class PeerRegistry {
  readonly #peers = new Map<string, Peer>();

  constructor(
    private readonly deps: { store: Store; journal: Journal; pairKeys: PairKeyCache; selfId: string },
  ) {}

  /** Loads the pins from the store. */
  async load(): Promise<void> {
    for await (const [id, value] of this.deps.store.sub.peers.iterator()) {
      const card = PeerCard.decode(Buffer.from(String(value.card), 'base64'));
      this.#peers.set(id, this.#toPeer(card, PeerCardBody.decode(card.body)));
    }
  }

  get(participantId: string): Peer | undefined {
    return this.#peers.get(participantId);
  }

  list(): Peer[] {
    return [...this.#peers.values()].sort((a, b) => a.participantId.localeCompare(b.participantId));
  }

  /**
   * Verifies `card` and pins it. A card for a participant already pinned with other keys is
   * refused (key changes go through rotation); a newer card of the same keys replaces the old one.
   */
  async pin(card: PeerCard, nowMs: number): Promise<PinResult> {
    const body = verifyPeerCard(card, nowMs);
    if (body.participantId === this.deps.selfId) {
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, 'a node cannot pin its own card', { field: 'card.participant_id', rule: 'not_self' });
    }
    const existing = this.#peers.get(body.participantId);
    if (existing && existing.body.keyId !== body.keyId) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
        `${body.participantId} is pinned with key ${existing.body.keyId}; a card with key ${body.keyId} needs a key rotation`,
        { field: 'card.key_id', rule: 'pinned_key' },
      );
    }
    if (existing && existing.body.issuedAtMs >= body.issuedAtMs) return { peer: existing, replaced: false };
    const peer = this.#toPeer(card, body);
    await this.deps.journal.write(
      [{ type: 'put', sublevel: this.deps.store.sub.peers, key: body.participantId, value: { card: Buffer.from(PeerCard.encode(card).finish()).toString('base64'), pinnedAt: nowMs } }],
      [{ type: 'peer.pinned', fields: { peer: body.participantId, keyId: body.keyId, tlsFingerprint: body.tlsCertificateSha256.toString('hex'), replaced: existing !== undefined } }],
    );
    this.#peers.set(body.participantId, peer);
    return { peer, replaced: existing !== undefined };
  }

  #toPeer(card: PeerCard, body: PeerCardBody): Peer {
    return {
      participantId: body.participantId,
      card,
      body,
      pairKey: this.deps.pairKeys.get(body.encryptionPublicKey),
      tlsCertificatePem: derToPem(body.tlsCertificate),
    };
  }
}
