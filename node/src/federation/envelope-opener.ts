import type { Logger } from 'pino';
import { ErrorCode, type EnvelopeHeader, type SealedContent, TracenetError } from '@tracenet/proto';
import type { AuditEvent, AuditType, Journal } from '../audit/audit-log.js';
import { blake2b256 } from '../crypto/sodium.js';
import { decryptEnvelope, parseEnvelope, verifyEnvelopeSignature, type ParsedEnvelope } from '../envelope/envelope.js';
import type { NodeIdentity } from '../identity/data-dir.js';
import type { Clock } from '../util/clock.js';
import type { Peer, PeerRegistry } from './peers.js';

/** Limits applied to every envelope a node opens (Deliver and Lookup). */
export interface ReceiverConfig {
  readonly maxEnvelopeBytes: number;
  /** Largest allowed difference between an envelope's creation time and the receiver's clock. */
  readonly replayWindowMs: number;
}

/** An envelope that passed steps 1–4 of docs/protocol.md section 4: it came from the pair. */
export interface AuthenticatedEnvelope {
  readonly parsed: ParsedEnvelope;
  /** The pinned sender. */
  readonly peer: Peer;
  readonly sealed: SealedContent;
}

/**
 * The checks every peer-facing RPC that takes an envelope applies, in the order of
 * docs/protocol.md section 4: size and structure (steps 1–2), addressing and pinning (step 3),
 * the AEAD check under the pair key (step 4), the time window (step 6) and the signature
 * (step 8). `Federation.Deliver` (the {@link Receiver}) and `Federation.Lookup` (the lookup
 * responder) share them, so a bad envelope gets the same code from both. Nothing here writes.
 *
 * @example
 * ```ts
 * const opener = new EnvelopeOpener({ identity, peers, clock, config: { maxEnvelopeBytes, replayWindowMs } });
 * const parsed = opener.parse(raw);
 * const { peer, sealed } = opener.authenticate(parsed);
 * opener.checkTime(parsed.header);
 * opener.verifySignature(parsed, sealed, peer);
 * ```
 */
export class EnvelopeOpener {
  constructor(
    private readonly deps: {
      identity: NodeIdentity;
      peers: PeerRegistry;
      clock: Clock;
      config: ReceiverConfig;
    },
  ) {}

  /** The limits in force. */
  get config(): ReceiverConfig {
    return this.deps.config;
  }

  /** Steps 1–2: size before parsing, then structure and header field rules. */
  parse(raw: Uint8Array): ParsedEnvelope {
    return parseEnvelope(raw, this.deps.config.maxEnvelopeBytes);
  }

  /**
   * Steps 3–4: addressed to this node and its current key, from a pinned sender with its pinned
   * key and a card still valid, then one AEAD check that authenticates header and ciphertext.
   */
  authenticate(parsed: ParsedEnvelope): { peer: Peer; sealed: SealedContent } {
    const peer = this.#authorise(parsed.header);
    return { peer, sealed: decryptEnvelope(parsed, peer.pairKey) };
  }

  /** Step 6: created inside the replay window, not expired. */
  checkTime(header: EnvelopeHeader): void {
    const now = this.deps.clock.now();
    const window = this.deps.config.replayWindowMs;
    if (Math.abs(header.createdAtMs - now) > window) {
      const future = header.createdAtMs > now;
      throw new TracenetError(
        ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW,
        `envelope was created ${Math.round(Math.abs(header.createdAtMs - now) / 1000)} s ${future ? 'in the future' : 'ago'}; the window is ±${window / 1000} s`,
        { field: 'header.created_at_ms', rule: 'replay_window' },
      );
    }
    if (header.expiresAtMs <= now) {
      throw new TracenetError(ErrorCode.ERROR_CODE_EXPIRED, 'envelope has expired', { field: 'header.expires_at_ms', rule: 'expiry' });
    }
  }

  /** Step 8: the sender's Ed25519 signature under its pinned signing key. */
  verifySignature(parsed: ParsedEnvelope, sealed: SealedContent, peer: Peer): void {
    verifyEnvelopeSignature(parsed, sealed, peer.body.signingPublicKey);
  }

  #authorise(header: EnvelopeHeader): Peer {
    const self = this.deps.identity;
    if (header.recipient !== self.participantId) {
      throw new TracenetError(ErrorCode.ERROR_CODE_WRONG_RECIPIENT, `envelope is addressed to ${header.recipient}, this node is ${self.participantId}`, {
        field: 'header.recipient',
        rule: 'recipient',
      });
    }
    if (header.recipientKeyId !== self.keyId) {
      throw new TracenetError(ErrorCode.ERROR_CODE_WRONG_RECIPIENT, `envelope is sealed to key ${header.recipientKeyId}, this node's key is ${self.keyId}`, {
        field: 'header.recipient_key_id',
        rule: 'recipient_key',
      });
    }
    const peer = this.deps.peers.get(header.sender);
    if (!peer) {
      throw new TracenetError(ErrorCode.ERROR_CODE_UNKNOWN_SENDER, `${header.sender} is not a pinned peer of ${self.participantId}`, {
        field: 'header.sender',
        rule: 'pinned_peer',
      });
    }
    if (header.senderKeyId !== peer.body.keyId) {
      throw new TracenetError(ErrorCode.ERROR_CODE_SENDER_KEY_MISMATCH, `${header.sender} is pinned with key ${peer.body.keyId}, not ${header.senderKeyId}`, {
        field: 'header.sender_key_id',
        rule: 'pinned_key',
      });
    }
    if (this.deps.clock.now() >= peer.body.validUntilMs) {
      throw new TracenetError(ErrorCode.ERROR_CODE_UNKNOWN_SENDER, `the pinned card of ${header.sender} has expired`, {
        field: 'header.sender',
        rule: 'card_validity',
      });
    }
    return peer;
  }
}

/** An audit entry about a received envelope: its header fields and digest, plus `extra`. */
export function inboundAuditEvent(type: AuditType, parsed: ParsedEnvelope, extra: Record<string, string | number | boolean>): AuditEvent {
  const { header, digest } = parsed;
  return {
    type,
    fields: {
      direction: 'in',
      peer: header.sender,
      recipient: header.recipient,
      messageId: header.messageId,
      kind: header.kind,
      digest: digest.toString('hex'),
      ...extra,
    },
  };
}

/**
 * Audits a refusal before authentication (steps 1–4): with the header fields when the header
 * decoded, otherwise with the request size and the BLAKE2b-256 of the raw bytes. A failure to
 * write is logged and does not change the answer.
 */
export async function auditUnauthenticated(
  deps: { journal: Journal; logger: Logger },
  parsed: ParsedEnvelope | undefined,
  raw: Uint8Array,
  failure: TracenetError,
  extra: Record<string, string | number | boolean> = {},
): Promise<void> {
  const fields = { ...extra, code: failure.codeName, rule: failure.rule, authenticated: false };
  const event: AuditEvent = parsed
    ? inboundAuditEvent('message.rejected', parsed, fields)
    : { type: 'message.rejected', fields: { direction: 'in', bytes: raw.length, rawDigest: blake2b256(raw).toString('hex'), ...fields } };
  try {
    await deps.journal.write([], [event]);
  } catch (error) {
    deps.logger.error({ err: error }, 'could not audit a rejected envelope');
  }
  deps.logger.warn({ peer: parsed?.header.sender, messageId: parsed?.header.messageId, code: failure.codeName, rule: failure.rule }, 'envelope refused');
}
