import type { Logger } from 'pino';
import { ErrorCode, MessageKind, TracenetError } from '@tracenet/proto';
import type { NodeIdentity } from '../identity/data-dir.js';
import { verifyPeerCard } from '../identity/peer-card.js';
import type { Clock } from '../util/clock.js';
import type { InboundHandler } from '../ports/inbound.js';
import { decodeKeyRevocation, decodeKeyRotation, KEY_KINDS } from './key-messages.js';
import type { PeerKeys } from './peer-keys.js';

/** Limits of what a node accepts from peers' key announcements. */
export interface KeyAnnouncementConfig {
  /** Longest grace granted to a peer's previous keys, whatever the peer announces. */
  readonly maxGraceMs: number;
}

function refuse(code: ErrorCode, message: string, field: string, rule: string): TracenetError {
  return new TracenetError(code, message, { field, rule });
}

/**
 * Processes the key messages of peers (docs/protocol.md 15.2, 15.3) inside Deliver: a
 * KEY_ROTATION signed by the pinned keys pins the new card and keeps the old keys for the
 * announced grace (with a roster key, only once the roster lists the new key: until then the
 * rotation is held); a KEY_REVOCATION signed by the pinned keys refuses the named keys for ever.
 * The pin change is written in the receiver's batch, with the message and its audit entry; a
 * refusal is a rejection with a signed receipt. Every other kind goes to `next` (the workflow).
 */
export class KeyAnnouncements implements InboundHandler {
  readonly #logger: Logger;

  constructor(
    private readonly deps: {
      identity: NodeIdentity;
      peers: PeerKeys;
      clock: Clock;
      logger: Logger;
      config: KeyAnnouncementConfig;
      next?: InboundHandler;
    },
  ) {
    this.#logger = deps.logger.child({ component: 'keys' });
  }

  handles(kind: MessageKind): boolean {
    return KEY_KINDS.includes(kind) || (this.deps.next?.handles(kind) ?? false);
  }

  async accept(
    message: Parameters<InboundHandler['accept']>[0],
    commit: Parameters<InboundHandler['accept']>[1],
  ): Promise<void> {
    if (!KEY_KINDS.includes(message.kind)) {
      if (!this.deps.next)
        throw new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, `no handler for kind ${message.kind}`);
      return this.deps.next.accept(message, commit);
    }
    const peer = this.deps.peers.get(message.sender);
    if (!peer)
      throw refuse(
        ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
        `${message.sender} is not pinned`,
        'header.sender',
        'pinned_peer',
      );
    // Only the pinned keys speak for the peer: keys kept for a grace carry messages, not key changes.
    if (message.senderKeyId !== undefined && message.senderKeyId !== peer.body.keyId) {
      throw refuse(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `key messages must be signed with the pinned key ${peer.body.keyId}`,
        'header.sender_key_id',
        'key_message_signer',
      );
    }
    const now = this.deps.clock.now();
    if (message.kind === MessageKind.MESSAGE_KIND_KEY_ROTATION) {
      const rotation = decodeKeyRotation(message.body);
      let body;
      try {
        body = verifyPeerCard(rotation.card, now);
      } catch (error) {
        const failure = TracenetError.from(error);
        throw new TracenetError(failure.code, failure.message, {
          field: `body.${failure.field}`,
          rule: failure.rule,
          cause: failure,
        });
      }
      if (body.participantId !== message.sender) {
        throw refuse(
          ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
          `the new card names ${body.participantId}, not the sender`,
          'body.card.participant_id',
          'rotation_participant',
        );
      }
      if (rotation.previousKeyId !== peer.body.keyId) {
        throw refuse(
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          `previous_key_id ${rotation.previousKeyId} is not the pinned key ${peer.body.keyId}`,
          'body.previous_key_id',
          'rotation_previous_key',
        );
      }
      if (body.keyId === peer.body.keyId)
        throw refuse(
          ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
          'the new card has the pinned keys',
          'body.card.key_id',
          'rotation_new_key',
        );
      if (body.issuedAtMs <= peer.body.issuedAtMs) {
        throw refuse(
          ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
          'the new card is not newer than the pinned card',
          'body.card.issued_at_ms',
          'rotation_newer',
        );
      }
      const verdict = this.deps.peers.senderKeys(peer, body.keyId, now);
      if ('refused' in verdict && verdict.refused === 'revoked_key') {
        throw refuse(
          ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
          `key ${body.keyId} of ${message.sender} is revoked`,
          'body.card.key_id',
          'revoked_key',
        );
      }
      try {
        this.deps.peers.pairKey(body.encryptionPublicKey, this.deps.identity);
      } catch (error) {
        const failure = TracenetError.from(error);
        throw new TracenetError(failure.code, failure.message, {
          field: `body.${failure.field}`,
          rule: failure.rule,
          cause: failure,
        });
      }
      const graceUntilMs = Math.max(now, Math.min(rotation.graceUntilMs, now + this.deps.config.maxGraceMs));
      // With a roster, the pinned key alone cannot bring in a key: a thief holding it would
      // outlive the roster's revocation of it. The rotation waits for a roster that lists the key.
      if (!this.deps.peers.rosterLists(body)) {
        const held = this.deps.peers.holdRotation(peer, rotation.card, body, graceUntilMs, now);
        await commit(held.operations, held.audit, []);
        held.apply();
        this.#logger.warn(
          { peer: message.sender, previousKeyId: peer.body.keyId, keyId: body.keyId },
          'peer rotated to a key the federation roster does not list; the rotation is held until a roster lists it',
        );
        return;
      }
      const change = this.deps.peers.rotation(peer, rotation.card, body, graceUntilMs, now);
      await commit(change.operations, change.audit, []);
      change.apply();
      this.#logger.info(
        {
          peer: message.sender,
          previousKeyId: peer.body.keyId,
          keyId: body.keyId,
          graceUntil: new Date(graceUntilMs).toISOString(),
        },
        'peer rotated its keys; new card pinned',
      );
      return;
    }
    const revocation = decodeKeyRevocation(message.body);
    if (revocation.revokedKeyIds.includes(peer.body.keyId)) {
      throw refuse(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'a revocation cannot revoke the key that signs it',
        'body.revoked_key_ids',
        'not_signing_key',
      );
    }
    const change = this.deps.peers.revocation(peer, revocation.revokedKeyIds, now);
    await commit(change.operations, change.audit, []);
    change.apply();
    this.#logger.warn(
      { peer: message.sender, revoked: revocation.revokedKeyIds },
      'peer revoked keys; they are refused from now on',
    );
  }
}
