import { ErrorCode, PeerCard, PeerCardBody, type PeerSummary, TracenetError } from '@tracenet/proto';
import { derivePairKey } from '../envelope/pair-key.js';
import type { IssuerKey } from '../envelope/receipt.js';
import type { NodeIdentity, OwnKeySet } from '../identity/data-dir.js';
import { verifyPeerCard } from '../identity/peer-card.js';
import { derToPem } from '../identity/tls.js';
import type { AuditEvent, Journal } from '../audit/audit-log.js';
import type { Store } from '../store/store.js';
import type { PinRecord } from '../store/repositories.js';
import { keyAuditEvent } from '../keys/key-audit.js';
import type { PeerKeys, PinChange, SenderKeys } from '../keys/peer-keys.js';
import type { RosterGuard } from '../keys/roster.js';

/** A card of a peer's keys before a rotation, accepted until `graceUntilMs` (docs/protocol.md 15.2). */
export interface PreviousCard {
  readonly card: PeerCard;
  readonly body: PeerCardBody;
  readonly graceUntilMs: number;
}

/**
 * A KEY_ROTATION whose new key the roster does not list (yet): stored, not applied, until a roster
 * that lists it is installed (docs/protocol.md 15.2).
 */
export interface HeldRotation {
  readonly card: PeerCard;
  readonly body: PeerCardBody;
  /** End of the previous keys' grace as granted when the rotation arrived (capped by `keys.maxGraceMs`). */
  readonly graceUntilMs: number;
  readonly receivedAtMs: number;
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
  /** A rotation waiting for the roster to list its key. */
  readonly held: HeldRotation | undefined;
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
    heldKeyId: peer.held?.body.keyId ?? '',
  };
}

/** Result of pinning a card. */
export interface PinResult {
  readonly peer: Peer;
  /** A pinned card was replaced (a newer card of the same keys, or other keys with `replaceKeys`). */
  readonly replaced: boolean;
}

/** What the store keeps per participant; without `card`, a removed peer's revoked key ids. */
type StoredPin = PinRecord;

/** The parts of a pin that a change carries over or replaces. */
interface PinState {
  readonly previous: readonly PreviousCard[];
  readonly revokedKeyIds: readonly string[];
  readonly held: HeldRotation | undefined;
}

const encodeCard = (card: PeerCard) => Buffer.from(PeerCard.encode(card).finish()).toString('base64');
const decodeCard = (text: string) => {
  const card = PeerCard.decode(Buffer.from(text, 'base64'));
  return { card, body: PeerCardBody.decode(card.body) };
};

/**
 * The pinned peers of a node. Deny by default: an envelope from a participant that is not pinned
 * here is refused. Pins are stored in the `peers` sublevel and cached in memory. A pin holds the
 * peer's current card, the cards it rotated away from while their grace lasts, the key ids it
 * revoked, and a rotation held until the roster lists its key (docs/protocol.md section 15).
 */
export class PeerRegistry implements PeerKeys<Peer> {
  readonly #peers = new Map<string, Peer>();
  readonly #pairKeys = new Map<string, Buffer>();
  /** Key ids revoked by participants that were pinned and removed: still refused if they come back. */
  readonly #removed = new Map<string, readonly string[]>();

  constructor(private readonly deps: { store: Store; journal: Journal; identity: NodeIdentity; roster?: RosterGuard }) {
    deps.roster?.afterInstall((nowMs) => this.applyHeldRotations(nowMs));
  }

  /** Loads the pins from the store. */
  async load(): Promise<void> {
    for await (const [id, stored] of this.deps.store.peers.pins.entries()) {
      if (stored.card === undefined) {
        this.#removed.set(id, stored.revokedKeyIds ?? []);
        continue;
      }
      const { card, body } = decodeCard(stored.card);
      const previous = (stored.previous ?? []).map((p) => ({ ...decodeCard(p.card), graceUntilMs: p.graceUntilMs }));
      const held = stored.held
        ? {
            ...decodeCard(stored.held.card),
            graceUntilMs: stored.held.graceUntilMs,
            receivedAtMs: stored.held.receivedAtMs,
          }
        : undefined;
      this.#peers.set(id, this.#toPeer(card, body, { previous, revokedKeyIds: stored.revokedKeyIds ?? [], held }));
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
    if (this.#isRevoked(peer, keyId)) return { refused: 'revoked_key' };
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
      [peer.body, ...peer.previous.map((p) => p.body)].some(
        (body) => body.tlsCertificateSha256.equals(fingerprint) && 'body' in this.senderKeys(peer, body.keyId, nowMs),
      ),
    );
  }

  /**
   * The signing keys of `peer`'s previous cards that are still accepted at `nowMs` (in grace, not
   * revoked), for a receipt the peer remembered from before its rotation (docs/protocol.md 5.4).
   */
  previousKeys(peer: Peer, nowMs: number): IssuerKey[] {
    return peer.previous
      .filter((p) => 'body' in this.senderKeys(peer, p.body.keyId, nowMs))
      .map((p) => ({ keyId: p.body.keyId, signingPublicKey: p.body.signingPublicKey }));
  }

  #isRevoked(peer: Peer, keyId: string): boolean {
    return peer.revokedKeyIds.includes(keyId) || (this.deps.roster?.isRevoked(peer.participantId, keyId) ?? false);
  }

  /** The roster's word on a sender (15.5): throws when it refuses `participantId` sending with `keyId` now. */
  checkRoster(participantId: string, keyId: string, nowMs: number): void {
    this.deps.roster?.checkSender(participantId, keyId, nowMs);
  }

  /** Whether a rotation to the keys of `body` may be applied now: no roster key, or the roster lists them (15.2). */
  rosterLists(body: PeerCardBody): boolean {
    return this.deps.roster?.lists(body) ?? true;
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
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, 'a node cannot pin its own card', {
        field: 'card.participant_id',
        rule: 'not_self',
      });
    }
    const existing = this.#peers.get(body.participantId);
    const revokedKeyIds = existing?.revokedKeyIds ?? this.#removed.get(body.participantId) ?? [];
    if (revokedKeyIds.includes(body.keyId)) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
        `${body.participantId} revoked key ${body.keyId}`,
        { field: 'card.key_id', rule: 'revoked_key' },
      );
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
    // New keys end the old ones' grace and the rotation held from them; a newer card of the same keys keeps both.
    const state: PinState = {
      previous: newKeys ? [] : (existing?.previous ?? []),
      revokedKeyIds,
      held: newKeys ? undefined : existing?.held,
    };
    const change = this.#change(card, body, state, nowMs, [
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
    this.#removed.delete(body.participantId);
    return { peer: this.#peers.get(body.participantId) as Peer, replaced: existing !== undefined };
  }

  /**
   * Unpins a peer (`Authority/RemovePeer`, docs/protocol.md 2.4): its envelopes are refused and
   * nothing is sent to it until a card of it is pinned again. The key ids it revoked stay refused;
   * its policy, cases and messages stay (queued ones wait for a new pin, or expire). Audited as
   * `peer.removed`. Throws NOT_FOUND for a participant that is not pinned.
   */
  async remove(participantId: string, nowMs: number): Promise<{ peer: Peer; queued: number }> {
    const peer = this.#peers.get(participantId);
    if (!peer)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_NOT_FOUND,
        `${participantId || 'participant_id'} is not a pinned peer`,
        { field: 'participant_id', rule: 'pinned_peer' },
      );
    let queued = 0;
    for await (const message of this.deps.store.outbox.queue.values())
      if (message.recipient === participantId) queued += 1;
    const { pins } = this.deps.store.peers;
    const tombstone: StoredPin = { removedAt: nowMs, revokedKeyIds: [...peer.revokedKeyIds] };
    await this.deps.journal.write(
      [peer.revokedKeyIds.length > 0 ? pins.put(participantId, tombstone) : pins.del(participantId)],
      [
        keyAuditEvent('peer.removed', {
          peer: participantId,
          keyId: peer.body.keyId,
          tlsFingerprint: peer.body.tlsCertificateSha256.toString('hex'),
          queued,
        }),
      ],
    );
    this.#peers.delete(participantId);
    if (peer.revokedKeyIds.length > 0) this.#removed.set(participantId, peer.revokedKeyIds);
    return { peer, queued };
  }

  /**
   * The pin change of an accepted KEY_ROTATION (docs/protocol.md 15.2): `card` (verified by the
   * caller) becomes the pinned card; the pinned one stays valid until `graceUntilMs`. `audit`
   * adds fields to the `peer.pinned` entry.
   */
  rotation(
    peer: Peer,
    card: PeerCard,
    body: PeerCardBody,
    graceUntilMs: number,
    nowMs: number,
    audit: Record<string, string | number | boolean> = {},
  ): PinChange {
    const previous = [
      ...peer.previous.filter((p) => nowMs < p.graceUntilMs),
      { card: peer.card, body: peer.body, graceUntilMs },
    ];
    return this.#change(card, body, { previous, revokedKeyIds: peer.revokedKeyIds, held: undefined }, nowMs, [
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
          ...audit,
        },
      },
    ]);
  }

  /**
   * The pin change of a KEY_ROTATION whose new key the roster does not list (15.2): stored with the
   * pin, replacing any rotation held before, and applied by {@link applyHeldRotations}.
   */
  holdRotation(peer: Peer, card: PeerCard, body: PeerCardBody, graceUntilMs: number, nowMs: number): PinChange {
    const held: HeldRotation = { card, body, graceUntilMs, receivedAtMs: nowMs };
    return this.#change(
      peer.card,
      peer.body,
      { previous: peer.previous, revokedKeyIds: peer.revokedKeyIds, held },
      nowMs,
      [
        keyAuditEvent('peer.rotation_held', {
          peer: peer.participantId,
          keyId: body.keyId,
          previousKeyId: peer.body.keyId,
          graceUntilMs,
        }),
      ],
    );
  }

  /**
   * Applies every held rotation whose key the roster now lists, is not revoked and whose card is
   * still valid, in one batch (after a roster is installed, and at start). Returns the peers.
   */
  async applyHeldRotations(nowMs: number): Promise<string[]> {
    const changes: PinChange[] = [];
    const applied: string[] = [];
    for (const peer of this.#peers.values()) {
      const held = peer.held;
      if (!held || !this.rosterLists(held.body) || this.#isRevoked(peer, held.body.keyId)) continue;
      try {
        verifyPeerCard(held.card, nowMs);
      } catch {
        continue; // expired while held: the peer's next rotation, or the operator, replaces it
      }
      changes.push(
        this.rotation(peer, held.card, held.body, Math.max(nowMs, held.graceUntilMs), nowMs, {
          heldSinceMs: held.receivedAtMs,
        }),
      );
      applied.push(peer.participantId);
    }
    if (changes.length === 0) return applied;
    await this.deps.journal.write(
      changes.flatMap((c) => c.operations),
      changes.flatMap((c) => c.audit),
    );
    for (const change of changes) change.apply();
    return applied;
  }

  /** The pin change of an accepted KEY_REVOCATION (docs/protocol.md 15.3): `keyIds` are refused for ever. */
  revocation(peer: Peer, keyIds: readonly string[], nowMs: number): PinChange {
    const revoked = [...new Set([...peer.revokedKeyIds, ...keyIds])];
    const previous = peer.previous.filter((p) => !revoked.includes(p.body.keyId));
    const held = peer.held && !revoked.includes(peer.held.body.keyId) ? peer.held : undefined;
    return this.#change(peer.card, peer.body, { previous, revokedKeyIds: revoked, held }, nowMs, [
      keyAuditEvent('peer.keys_revoked', { peer: peer.participantId, keyIds: keyIds.join(','), via: 'key_revocation' }),
    ]);
  }

  #change(card: PeerCard, body: PeerCardBody, state: PinState, nowMs: number, audit: AuditEvent[]): PinChange {
    const stored: StoredPin = {
      card: encodeCard(card),
      pinnedAt: nowMs,
      ...(state.previous.length > 0
        ? { previous: state.previous.map((p) => ({ card: encodeCard(p.card), graceUntilMs: p.graceUntilMs })) }
        : {}),
      ...(state.revokedKeyIds.length > 0 ? { revokedKeyIds: [...state.revokedKeyIds] } : {}),
      ...(state.held
        ? {
            held: {
              card: encodeCard(state.held.card),
              graceUntilMs: state.held.graceUntilMs,
              receivedAtMs: state.held.receivedAtMs,
            },
          }
        : {}),
    };
    return {
      operations: [this.deps.store.peers.pins.put(body.participantId, stored)],
      audit,
      apply: () => this.#peers.set(body.participantId, this.#toPeer(card, body, state)),
    };
  }

  #toPeer(card: PeerCard, body: PeerCardBody, state: PinState): Peer {
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
      previous: state.previous,
      revokedKeyIds: state.revokedKeyIds,
      held: state.held,
    };
  }
}
