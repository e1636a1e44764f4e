import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ErrorCode, type MessageKind, Receipt, ReceiptStatus, TracenetError } from '@tracenet/proto';
import type { Journal } from '../audit/audit-log.js';
import { randomBytes } from '../crypto/sodium.js';
import { sealEnvelope } from '../envelope/envelope.js';
import { verifyDeliveryReceipt, verifyReceipt } from '../envelope/receipt.js';
import type { NodeIdentity } from '../identity/data-dir.js';
import type { Store, StoredValue } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { validateBody } from './message-kinds.js';
import type { Peer, PeerRegistry } from './peers.js';
import type { Transport } from './transport.js';

/** Retry and sending limits of the outbox. */
export interface OutboxConfig {
  /** Attempts in flight to one peer at once. */
  readonly maxInFlightPerPeer: number;
  /** First retry delay after a failed attempt. */
  readonly initialBackoffMs: number;
  /** Cap of the exponential backoff: a peer that comes back is reached within about this time. */
  readonly maxBackoffMs: number;
  /** Deadline of one Deliver call. */
  readonly attemptTimeoutMs: number;
  /** Lifetime of a message when the caller gives none; after it the message fails as EXPIRED. */
  readonly defaultTtlMs: number;
}

/** A message to send. */
export interface OutboundMessage {
  readonly recipient: string;
  readonly kind: MessageKind;
  readonly body: Uint8Array;
  readonly correlationId?: string;
  readonly ttlMs?: number;
}

/** An outbox entry as stored. */
interface OutboxEntry {
  readonly messageId: string;
  readonly recipient: string;
  readonly kind: MessageKind;
  /** Base64 of the body. */
  readonly body: string;
  readonly correlationId: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly attempts: number;
  readonly lastError: string;
}

/** Per-peer sending state, in memory only. */
interface Lane {
  readonly queue: string[];
  readonly inFlight: Set<string>;
  /** The last attempt failed for a reason that concerns the peer, not the message. */
  down: boolean;
  failures: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The outbox. A message is written durably (with its audit entry) before the first attempt and
 * leaves the outbox only when a valid receipt is stored, or when it fails for good (rejected by
 * the recipient, or expired). Each attempt seals the message anew with a fresh creation time, so
 * retries pass the recipient's replay window; the message id stays, so the recipient deduplicates.
 *
 * While a peer is unreachable, only the head of its queue is retried, with capped exponential
 * backoff and jitter; the first success sends everything else at once, without waiting for new
 * traffic. The queue is reloaded from the store on start, so it survives a restart.
 */
export class Outbox extends EventEmitter<{ delivered: [{ messageId: string; recipient: string }]; failed: [{ messageId: string; recipient: string; code: string }] }> {
  readonly #lanes = new Map<string, Lane>();
  readonly #attempts = new Set<Promise<void>>();
  readonly #logger: Logger;
  #running = false;

  constructor(
    private readonly deps: {
      identity: NodeIdentity;
      peers: PeerRegistry;
      transport: Transport;
      journal: Journal;
      store: Store;
      clock: Clock;
      logger: Logger;
      config: OutboxConfig;
    },
  ) {
    super();
    this.#logger = deps.logger.child({ component: 'outbox' });
  }

  /** Loads queued messages from the store and starts sending. Idempotent. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    let loaded = 0;
    for await (const [id, value] of this.deps.store.sub.outbox.iterator()) {
      this.#lane(String(value.recipient)).queue.push(id);
      loaded += 1;
    }
    if (loaded > 0) this.#logger.info({ messages: loaded }, 'outbox reloaded');
    for (const lane of this.#lanes.values()) this.#pump(lane);
  }

  /** Stops sending and waits for attempts in flight to settle. Queued messages stay stored. Idempotent. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const lane of this.#lanes.values()) {
      if (lane.timer) clearTimeout(lane.timer);
      lane.timer = undefined;
    }
    await Promise.allSettled([...this.#attempts]);
  }

  /**
   * Queues a message. Resolves with its id once it is durably stored; sending starts at once.
   * Throws NOT_FOUND for a recipient that is not pinned, or the body's validation error.
   */
  async enqueue(message: OutboundMessage): Promise<string> {
    if (!this.deps.peers.get(message.recipient)) {
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${message.recipient} is not a pinned peer`, { field: 'recipient', rule: 'pinned_peer' });
    }
    validateBody(message.kind, message.body);
    const now = this.deps.clock.now();
    const messageId = randomBytes(16).toString('base64url');
    const entry: OutboxEntry = {
      messageId,
      recipient: message.recipient,
      kind: message.kind,
      body: Buffer.from(message.body).toString('base64'),
      correlationId: message.correlationId ?? messageId,
      createdAtMs: now,
      expiresAtMs: now + (message.ttlMs ?? this.deps.config.defaultTtlMs),
      attempts: 0,
      lastError: '',
    };
    await this.deps.journal.write(
      [{ type: 'put', sublevel: this.deps.store.sub.outbox, key: messageId, value: { ...entry } }],
      [{ type: 'message.queued', fields: { direction: 'out', peer: message.recipient, messageId, kind: message.kind, correlationId: entry.correlationId } }],
    );
    const lane = this.#lane(message.recipient);
    lane.queue.push(messageId);
    this.#pump(lane);
    return messageId;
  }

  /** Messages waiting per peer, for metrics and status. */
  depth(): number {
    let total = 0;
    for (const lane of this.#lanes.values()) total += lane.queue.length + lane.inFlight.size;
    return total;
  }

  #lane(recipient: string): Lane {
    let lane = this.#lanes.get(recipient);
    if (!lane) {
      lane = { queue: [], inFlight: new Set(), down: false, failures: 0, timer: undefined };
      this.#lanes.set(recipient, lane);
    }
    return lane;
  }

  #pump(lane: Lane): void {
    if (!this.#running) return;
    if (lane.down) {
      if (!lane.timer && lane.inFlight.size === 0 && lane.queue.length > 0) {
        const cap = Math.min(this.deps.config.maxBackoffMs, this.deps.config.initialBackoffMs * 2 ** Math.min(lane.failures - 1, 30));
        const delay = Math.round(cap * (0.5 + Math.random() / 2));
        lane.timer = setTimeout(() => {
          lane.timer = undefined;
          const probe = lane.queue.shift();
          if (probe !== undefined) this.#track(this.#attempt(lane, probe));
        }, delay);
      }
      return;
    }
    while (lane.inFlight.size < this.deps.config.maxInFlightPerPeer && lane.queue.length > 0) {
      const id = lane.queue.shift();
      if (id !== undefined) this.#track(this.#attempt(lane, id));
    }
  }

  #track(attempt: Promise<void>): void {
    this.#attempts.add(attempt);
    void attempt.finally(() => this.#attempts.delete(attempt));
  }

  async #attempt(lane: Lane, messageId: string): Promise<void> {
    lane.inFlight.add(messageId);
    try {
      const stored = await this.deps.store.sub.outbox.get(messageId);
      if (!stored) return;
      await this.#send(lane, stored as unknown as OutboxEntry);
    } catch (error) {
      this.#logger.error({ err: error, messageId }, 'outbox attempt failed unexpectedly');
      lane.queue.unshift(messageId);
      this.#markDown(lane);
    } finally {
      lane.inFlight.delete(messageId);
      this.#pump(lane);
    }
  }

  async #send(lane: Lane, entry: OutboxEntry): Promise<void> {
    const now = this.deps.clock.now();
    if (now >= entry.expiresAtMs) {
      await this.#fail(entry, ErrorCode.ERROR_CODE_EXPIRED, 'message expired before it could be delivered', undefined);
      return;
    }
    const peer = this.deps.peers.get(entry.recipient);
    if (!peer) {
      lane.queue.unshift(entry.messageId);
      this.#markDown(lane);
      return;
    }
    const identity = this.deps.identity;
    const sealed = sealEnvelope({
      sender: identity.participantId,
      senderKeyId: identity.keyId,
      senderSigningSecretKey: identity.keys.signingSecretKey,
      recipient: peer.participantId,
      recipientKeyId: peer.body.keyId,
      pairKey: peer.pairKey,
      messageId: entry.messageId,
      kind: entry.kind,
      body: Buffer.from(entry.body, 'base64'),
      createdAtMs: now,
      expiresAtMs: entry.expiresAtMs,
      correlationId: entry.correlationId,
    });
    const expected = { issuer: peer.participantId, issuerSigningPublicKey: peer.body.signingPublicKey, sender: identity.participantId, messageId: entry.messageId };
    let receipt: Receipt;
    try {
      receipt = await this.deps.transport.deliver(peer, sealed.bytes, { deadlineMs: this.deps.config.attemptTimeoutMs, correlationId: entry.correlationId });
    } catch (error) {
      await this.#refused(lane, entry, peer, TracenetError.from(error), expected);
      return;
    }
    const proof = verifyDeliveryReceipt(receipt, expected, sealed.digest);
    const deliveredAt = this.deps.clock.now();
    await this.deps.journal.write(
      [
        { type: 'del', sublevel: this.deps.store.sub.outbox, key: entry.messageId },
        {
          type: 'put',
          sublevel: this.deps.store.sub.sent,
          key: entry.messageId,
          value: sentRecord(entry, deliveredAt, proof.status === ReceiptStatus.RECEIPT_STATUS_ACCEPTED ? receipt : (receipt.original ?? receipt)),
        },
      ],
      [
        {
          type: 'message.delivered',
          fields: {
            direction: 'out',
            peer: entry.recipient,
            messageId: entry.messageId,
            kind: entry.kind,
            digest: sealed.digest.toString('hex'),
            receipt: proof.status === ReceiptStatus.RECEIPT_STATUS_ACCEPTED ? 'accepted' : 'duplicate',
            attempts: entry.attempts + 1,
          },
        },
      ],
    );
    lane.down = false;
    lane.failures = 0;
    this.#logger.debug({ peer: entry.recipient, messageId: entry.messageId, correlationId: entry.correlationId }, 'delivered');
    this.emit('delivered', { messageId: entry.messageId, recipient: entry.recipient });
  }

  /** The peer answered with an error, or could not be reached. */
  async #refused(lane: Lane, entry: OutboxEntry, peer: Peer, error: TracenetError, expected: Parameters<typeof verifyReceipt>[1]): Promise<void> {
    if (error.receipt) {
      const body = verifyReceipt(error.receipt, expected);
      if (body.status === ReceiptStatus.RECEIPT_STATUS_REJECTED) {
        await this.#fail(entry, body.errorCode, body.errorMessage, error.receipt);
        return;
      }
    }
    if (!error.retryable) {
      await this.#fail(entry, error.code, error.message, undefined);
      return;
    }
    this.#logger.info({ peer: peer.participantId, messageId: entry.messageId, code: error.codeName, failures: lane.failures + 1 }, 'delivery attempt failed; will retry');
    await this.deps.store.batch([
      { type: 'put', sublevel: this.deps.store.sub.outbox, key: entry.messageId, value: { ...entry, attempts: entry.attempts + 1, lastError: error.codeName } },
    ]);
    lane.queue.unshift(entry.messageId);
    this.#markDown(lane);
  }

  #markDown(lane: Lane): void {
    if (!lane.down) lane.failures = 0;
    lane.down = true;
    lane.failures += 1;
  }

  async #fail(entry: OutboxEntry, code: ErrorCode, message: string, receipt: Receipt | undefined): Promise<void> {
    const name = new TracenetError(code, message).codeName;
    await this.deps.journal.write(
      [
        { type: 'del', sublevel: this.deps.store.sub.outbox, key: entry.messageId },
        {
          type: 'put',
          sublevel: this.deps.store.sub.failed,
          key: entry.messageId,
          value: { ...entry, attempts: entry.attempts + 1, lastError: name, failedAtMs: this.deps.clock.now(), reason: message, receipt: receipt ? encode(receipt) : '' },
        },
      ],
      [{ type: 'message.failed', fields: { direction: 'out', peer: entry.recipient, messageId: entry.messageId, kind: entry.kind, code: name } }],
    );
    this.#logger.warn({ peer: entry.recipient, messageId: entry.messageId, code: name }, 'message failed for good');
    this.emit('failed', { messageId: entry.messageId, recipient: entry.recipient, code: name });
  }
}

function encode(receipt: Receipt): string {
  return Buffer.from(Receipt.encode(receipt).finish()).toString('base64');
}

function sentRecord(entry: OutboxEntry, deliveredAtMs: number, accepted: Receipt): StoredValue {
  return {
    messageId: entry.messageId,
    recipient: entry.recipient,
    kind: entry.kind,
    correlationId: entry.correlationId,
    createdAtMs: entry.createdAtMs,
    deliveredAtMs,
    attempts: entry.attempts + 1,
    receipt: encode(accepted),
  };
}
