import type { Logger } from 'pino';
import { ErrorCode, type EnvelopeHeader, type PeerCardBody, type SealedContent, TracenetError } from '@tracenet/proto';
import type { AuditEvent, AuditType } from '../audit/audit-log.js';
import type { RefusalSource, RefusalTally } from './refusal-tally.js';
import { decryptEnvelope, parseEnvelope, verifyEnvelopeSignature, type ParsedEnvelope } from '../envelope/envelope.js';
import type { NodeIdentity, OwnKeySet } from '../identity/data-dir.js';
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
  /** This node's keys the envelope is addressed to (current, or retired in grace): they sign the receipt. */
  readonly own: OwnKeySet;
  /** The sender's card whose keys sealed and signed: the pinned one, or a previous one in grace. */
  readonly senderBody: PeerCardBody;
}

const SENDER_REFUSALS = {
  pinned_key: (sender: string, pinned: string, used: string) => `${sender} is pinned with key ${pinned}, not ${used}`,
  rotation_grace: (sender: string, pinned: string, used: string) =>
    `${sender} rotated key ${used} to ${pinned} and the grace for the old key has ended`,
  revoked_key: (sender: string, _pinned: string, used: string) => `key ${used} of ${sender} is revoked`,
} as const;

const RECIPIENT_REFUSALS = {
  recipient_key: (self: string, used: string, current: string) =>
    `envelope is sealed to key ${used}, this node's key is ${current}`,
  rotation_grace: (self: string, used: string, current: string) =>
    `${self} rotated key ${used} to ${current} and the grace for the old key has ended`,
  revoked_key: (self: string, used: string) => `${self} revoked key ${used}; it opens nothing any more`,
} as const;

/**
 * The one answer to every envelope that names this node but does not authenticate (docs/protocol.md
 * 4.4): unpinned sender, unknown or retired key ids, expired card, roster, failed AEAD check. One
 * code, one text, no field: whoever sends junk learns nothing about whom this node works with or
 * which keys it holds. The code is retryable, so that a peer whose new card is not pinned yet keeps
 * retrying. The precise reason is the error's `cause`, for the audit log and the metrics only.
 */
export const NOT_AUTHENTICATED = {
  code: ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
  message: 'the envelope could not be authenticated',
  rule: 'authentication',
} as const;

/**
 * What a sender's operator is told when a recipient answers {@link NOT_AUTHENTICATED}: the sender
 * knows what it sent, the recipient does not say why it refused.
 */
export const NOT_AUTHENTICATED_HINT =
  'the recipient did not authenticate the envelope: check that it pinned our current card and that the card we pinned for it is its current one';

/** The public refusal with `precise` as its cause. */
function notAuthenticated(precise: TracenetError): TracenetError {
  return new TracenetError(NOT_AUTHENTICATED.code, NOT_AUTHENTICATED.message, {
    rule: NOT_AUTHENTICATED.rule,
    cause: precise,
  });
}

/** The precise reason of a refusal: the cause of a {@link NOT_AUTHENTICATED} refusal, any other refusal itself. */
export function preciseReason(failure: TracenetError): TracenetError {
  return failure.rule === NOT_AUTHENTICATED.rule && failure.cause instanceof TracenetError ? failure.cause : failure;
}

/** The precise code and rule of a refusal, as the metrics count refusals before authentication. */
export interface RefusalReason {
  readonly code: string;
  readonly rule: string;
}

/** The {@link RefusalReason} of `failure`: that of its precise reason. */
export function refusalReason(failure: TracenetError): RefusalReason {
  const precise = preciseReason(failure);
  return { code: precise.codeName, rule: precise.rule };
}

/** A key no envelope is sealed under: the AEAD pass of a refused header runs with it (see `authenticate`). */
const NO_PAIR_KEY = Buffer.alloc(32);

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
   * An envelope addressed to another participant is WRONG_RECIPIENT; every other refusal is
   * {@link NOT_AUTHENTICATED} with the precise reason as its cause. A refused header still costs
   * one AEAD pass, so that the time of the answer does not tell which check refused it either.
   */
  authenticate(parsed: ParsedEnvelope): AuthenticatedEnvelope {
    this.#checkAddressee(parsed.header);
    let keys: { peer: Peer; own: OwnKeySet; senderBody: PeerCardBody };
    try {
      keys = this.#authorise(parsed.header);
    } catch (error) {
      if (!(error instanceof TracenetError)) throw error;
      // Stryker disable next-line BlockStatement: equivalent in outcome: this AEAD pass only spends the time an accepted header would, so that timing tells nothing (4.4)
      try {
        decryptEnvelope(parsed, NO_PAIR_KEY);
      } catch {
        // Expected: only the time it took matters.
      }
      throw notAuthenticated(error);
    }
    try {
      return {
        parsed,
        ...keys,
        sealed: decryptEnvelope(parsed, this.deps.peers.pairKey(keys.senderBody.encryptionPublicKey, keys.own)),
      };
    } catch (error) {
      // An authenticated SealedContent that does not decode stays MALFORMED: only the pair could send it.
      throw error instanceof TracenetError && error.code === ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED
        ? notAuthenticated(error)
        : error;
    }
  }

  /** Step 6: created inside the replay window, not expired. */
  checkTime(header: EnvelopeHeader): void {
    const now = this.deps.clock.now();
    const window = this.deps.config.replayWindowMs;
    if (Math.abs(header.createdAtMs - now) > window) {
      // Stryker disable next-line EqualityOperator: equivalent: outside the window the creation time is never equal to now
      const future = header.createdAtMs > now;
      throw new TracenetError(
        ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW,
        `envelope was created ${Math.round(Math.abs(header.createdAtMs - now) / 1000)} s ${future ? 'in the future' : 'ago'}; the window is ±${window / 1000} s`,
        { field: 'header.created_at_ms', rule: 'replay_window' },
      );
    }
    if (header.expiresAtMs <= now) {
      throw new TracenetError(ErrorCode.ERROR_CODE_EXPIRED, 'envelope has expired', {
        field: 'header.expires_at_ms',
        rule: 'expiry',
      });
    }
  }

  /** Step 8: the sender's Ed25519 signature under its pinned signing key (or the previous card's, in grace). */
  verifySignature(
    parsed: ParsedEnvelope,
    sealed: SealedContent,
    peer: Peer,
    senderBody: PeerCardBody = peer.body,
  ): void {
    verifyEnvelopeSignature(parsed, sealed, senderBody.signingPublicKey);
  }

  /**
   * Step 3.1, answered precisely: it compares the header with this node's own participant id,
   * which the node publishes (its card, its TLS certificate), so it tells nothing about its peers.
   */
  #checkAddressee(header: EnvelopeHeader): void {
    const self = this.deps.identity.participantId;
    if (header.recipient !== self) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_WRONG_RECIPIENT,
        `envelope is addressed to ${header.recipient}, this node is ${self}`,
        {
          field: 'header.recipient',
          rule: 'recipient',
        },
      );
    }
  }

  /** Steps 3.2–3.5 with their precise refusals (the causes of NOT_AUTHENTICATED). */
  #authorise(header: EnvelopeHeader): { peer: Peer; own: OwnKeySet; senderBody: PeerCardBody } {
    const now = this.deps.clock.now();
    const self = this.deps.identity;
    // The current keys, or keys retired by a rotation while their grace lasts (15.2).
    const own = self.keySet(header.recipientKeyId, now);
    if (typeof own === 'string') {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_WRONG_RECIPIENT,
        RECIPIENT_REFUSALS[own](self.participantId, header.recipientKeyId, self.keyId),
        {
          field: 'header.recipient_key_id',
          rule: own,
        },
      );
    }
    const peer = this.deps.peers.get(header.sender);
    if (!peer) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
        `${header.sender} is not a pinned peer of ${self.participantId}`,
        {
          field: 'header.sender',
          rule: 'pinned_peer',
        },
      );
    }
    // The pinned card, or a card the sender rotated away from while its grace lasts (15.2).
    const keys = this.deps.peers.senderKeys(peer, header.senderKeyId, now);
    if ('refused' in keys) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_SENDER_KEY_MISMATCH,
        SENDER_REFUSALS[keys.refused](header.sender, peer.body.keyId, header.senderKeyId),
        {
          field: 'header.sender_key_id',
          rule: keys.refused,
        },
      );
    }
    this.deps.peers.checkRoster(header.sender, header.senderKeyId, now);
    if (now >= keys.body.validUntilMs) {
      throw new TracenetError(ErrorCode.ERROR_CODE_UNKNOWN_SENDER, `the pinned card of ${header.sender} has expired`, {
        field: 'header.sender',
        rule: 'card_validity',
      });
    }
    return { peer, own, senderBody: keys.body };
  }
}

/** An audit entry about a received envelope: its header fields and digest, plus `extra`. */
export function inboundAuditEvent(
  type: AuditType,
  parsed: ParsedEnvelope,
  extra: Record<string, string | number | boolean>,
): AuditEvent {
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

/** The source of a request handed over in-process (tests, tools), not through a port. */
export const IN_PROCESS: RefusalSource = { address: 'in-process' };

/**
 * Counts a refusal before authentication (steps 1–4) in the refusal tally under its precise
 * reason ({@link preciseReason}, `CODE.rule`), which the answer on the wire does not carry: the
 * audit log gets one entry per source and interval with a count per reason (4.13), not one entry
 * per request, so that junk cannot grow the store without bound. The single request is logged at
 * debug level.
 */
export function countUnauthenticated(
  deps: { refusals: RefusalTally; logger: Logger },
  source: RefusalSource,
  failure: TracenetError,
  parsed: ParsedEnvelope | undefined,
): void {
  const { code, rule } = refusalReason(failure);
  deps.refusals.count(source, rule ? `${code}.${rule}` : code);
  // Stryker disable ObjectLiteral,StringLiteral: log context and text, which no test reads
  deps.logger.debug(
    {
      source: source.address,
      peer: source.peer,
      sender: parsed?.header.sender,
      messageId: parsed?.header.messageId,
      code,
      rule,
    },
    'envelope refused before authentication',
  );
  // Stryker restore ObjectLiteral,StringLiteral
}
