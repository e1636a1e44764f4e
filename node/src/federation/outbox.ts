import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ErrorCode, type MessageKind, Receipt, type ReceiptBody, ReceiptStatus, TracenetError } from '@tracenet/proto';
import { NODE_ACTOR, runAs } from '../access/actor.js';
import type { Journal } from '../audit/audit-log.js';
import type { PreparedMessage } from '../ports/outbound.js';
import { randomBytes } from '../crypto/sodium.js';
import { sealEnvelope } from '../envelope/envelope.js';
import {
  type DeliveryProof,
  encodeReceipt,
  type ExpectedReceipt,
  verifyDeliveryReceipt,
  verifyRememberedReceipt,
} from '../envelope/receipt.js';
import type { NodeIdentity } from '../identity/data-dir.js';
import type { Operation, Store } from '../store/store.js';
import type { OutboxRecord, SentRecord } from '../store/repositories.js';
import type { Scheduler, Timer } from '../util/scheduler.js';
import { traceStep } from '../util/step-trace.js';
import { NOT_AUTHENTICATED_HINT } from './envelope-opener.js';
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
  /** Largest envelope peers accept (envelope.maxBytes); larger messages are refused when queued. */
  readonly maxEnvelopeBytes: number;
}

/** A message to send. */
export interface OutboundMessage {
  readonly recipient: string;
  readonly kind: MessageKind;
  readonly body: Uint8Array;
  readonly correlationId?: string;
  readonly ttlMs?: number;
  /**
   * Messages with the same order key are delivered one after the other, in the order they were
   * queued (each waits for the previous one's receipt). The workflow uses the trace id, so a
   * peer never receives an answer before the acknowledgement. Empty: no ordering.
   */
  readonly orderKey?: string;
  /**
   * Seal and sign with this key set of the node instead of the current one: a KEY_ROTATION is
   * signed with the keys being replaced (docs/protocol.md 15.2). When those keys are no longer
   * usable (grace over), the message fails as EXPIRED.
   */
  readonly senderKeyId?: string;
  /** Sent before every other queued message to the same peer (key announcements). */
  readonly urgent?: boolean;
}

/** An outbox entry as stored. */
/** A message waiting in the outbox (its stored record). */
type OutboxEntry = OutboxRecord;

/**
 * Most bytes of bodies kept in memory for their first attempt (see `#fresh`): a burst of large
 * requests (each up to `envelope.maxBytes`) does not make the outbox hold them all twice.
 */
const FRESH_BYTES = 8 * 1024 * 1024;

/** Per-peer sending state, in memory only. */
interface Lane {
  readonly queue: string[];
  readonly inFlight: Set<string>;
  /** Order keys with a message in flight: their later messages wait. */
  readonly busy: Set<string>;
  /** The last attempt failed for a reason that concerns the peer, not the message. */
  down: boolean;
  failures: number;
  timer: Timer | undefined;
}

/** What the outbox tells about each message that leaves it. */
export interface OutboxEvents {
  delivered: [{ messageId: string; recipient: string; kind: MessageKind; createdAtMs: number; deliveredAtMs: number }];
  failed: [{ messageId: string; recipient: string; kind: MessageKind; code: string }];
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
export class Outbox extends EventEmitter<OutboxEvents> {
  readonly #lanes = new Map<string, Lane>();
  readonly #attempts = new Set<Promise<void>>();
  /** Order key of every queued or in-flight message. */
  readonly #orderKeys = new Map<string, string>();
  /** Messages sent ahead of the others (key rotations), also when others are put back in front. */
  readonly #urgent = new Set<string>();
  /**
   * Entries just stored and not attempted yet, as stored: their first attempt starts at once
   * instead of reading back what was just written. Later attempts read the store (their
   * attempt count changes there).
   */
  readonly #fresh = new Map<string, OutboxEntry>();
  /** Bytes of the bodies (base64) in `#fresh`. */
  #freshBytes = 0;
  readonly #logger: Logger;
  #running = false;
  #seq = 0;

  constructor(
    private readonly deps: {
      identity: NodeIdentity;
      peers: PeerRegistry;
      transport: Transport;
      journal: Journal;
      store: Store;
      /** Time, the backoff timers and their jitter. */
      clock: Scheduler;
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
    // Messages already queued in memory (enqueued before start, or kept from before a stop) are not queued twice.
    const known = new Set<string>();
    for (const lane of this.#lanes.values()) for (const id of [...lane.queue, ...lane.inFlight]) known.add(id);
    const stored: OutboxEntry[] = [];
    for await (const [id, entry] of this.deps.store.outbox.queue.entries()) {
      this.#seq = Math.max(this.#seq, entry.seq ?? 0);
      if (!known.has(id)) stored.push(entry);
    }
    // Keys are message ids; the queue order is the order the messages were queued in.
    stored.sort((a, b) => Number(b.urgent ?? false) - Number(a.urgent ?? false) || (a.seq ?? 0) - (b.seq ?? 0));
    for (const entry of stored)
      this.#queue(entry.recipient, entry.messageId, entry.orderKey ?? '', entry.urgent ?? false);
    if (stored.length > 0) this.#logger.info({ messages: stored.length }, 'outbox reloaded');
    for (const lane of this.#lanes.values()) this.#pump(lane);
  }

  /** Stops sending and waits for attempts in flight to settle. Queued messages stay stored. Idempotent. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const lane of this.#lanes.values()) {
      lane.timer?.cancel();
      lane.timer = undefined;
    }
    await Promise.allSettled([...this.#attempts]);
  }

  /**
   * Queues a message. Resolves with its id once it is durably stored; sending starts at once.
   * Throws NOT_FOUND for a recipient that is not pinned, or the body's validation error.
   */
  async enqueue(message: OutboundMessage): Promise<string> {
    const prepared = this.prepare(message);
    await this.deps.journal.write(prepared.operations, prepared.audit);
    prepared.schedule();
    return prepared.messageId;
  }

  /**
   * Prepares a message without writing it: the caller writes `operations` and `audit` in its own
   * batch (so that, for example, a case change and the message it sends are stored together) and
   * then calls `schedule()`. Throws NOT_FOUND for a recipient that is not pinned, or the body's
   * validation error.
   */
  prepare(message: OutboundMessage): PreparedMessage {
    if (!this.deps.peers.get(message.recipient)) {
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${message.recipient} is not a pinned peer`, {
        field: 'recipient',
        rule: 'pinned_peer',
      });
    }
    validateBody(message.kind, message.body);
    // Header, nonce, signature, tag and framing take well under 1 KiB; the rest is the body.
    if (message.body.length > this.deps.config.maxEnvelopeBytes - 1024) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE,
        `the message is ${message.body.length} bytes; envelopes are limited to ${this.deps.config.maxEnvelopeBytes}`,
        {
          field: 'body',
          rule: 'max_envelope_bytes',
        },
      );
    }
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
      seq: (this.#seq += 1),
      orderKey: message.orderKey ?? '',
      ...(message.senderKeyId !== undefined ? { senderKeyId: message.senderKeyId } : {}),
      ...(message.urgent ? { urgent: true } : {}),
    };
    return {
      messageId,
      operations: [this.deps.store.outbox.queue.put(messageId, entry)],
      audit: [
        {
          type: 'message.queued',
          fields: {
            direction: 'out',
            peer: message.recipient,
            messageId,
            kind: message.kind,
            correlationId: entry.correlationId,
          },
        },
      ],
      schedule: () => {
        traceStep(this.#logger, 'outbox.queued', () => ({
          messageId,
          correlationId: entry.correlationId,
          kind: message.kind,
          peer: message.recipient,
        }));
        // A start() running concurrently may have loaded it from the store already.
        if (!this.#orderKeys.has(messageId)) {
          this.#keepFresh(entry);
          this.#queue(message.recipient, messageId, entry.orderKey, entry.urgent ?? false);
        }
        this.#pump(this.#lane(message.recipient));
      },
    };
  }

  /**
   * Prepares the re-delivery of what this node sent to `recipient` and holds a receipt of since
   * `sinceMs` (its receipt stored then or later), under the original message ids, in the order
   * they were first sent (docs/protocol.md 5.6): the answer to a RESEND_REQUEST of a recipient
   * restored from a backup. Messages already queued again, expired, or delivered before this
   * node kept their bodies are left out (`skipped`). The caller writes `operations` (with the
   * request's receipt) and then calls `schedule()`.
   */
  async prepareResend(
    recipient: string,
    sinceMs: number,
  ): Promise<{ operations: Operation[]; count: number; skipped: number; schedule: () => void }> {
    const now = this.deps.clock.now();
    const found: Array<OutboxEntry & { deliveredAtMs: number }> = [];
    let skipped = 0;
    for await (const value of this.deps.store.outbox.sent.values()) {
      if (value.recipient !== recipient || value.deliveredAtMs < sinceMs) continue;
      const expiresAtMs = value.expiresAtMs ?? 0;
      if (value.body === undefined || expiresAtMs <= now || this.#orderKeys.has(value.messageId)) {
        skipped += 1;
        continue;
      }
      found.push({
        messageId: value.messageId,
        recipient,
        kind: value.kind as MessageKind,
        body: value.body,
        correlationId: value.correlationId,
        createdAtMs: value.createdAtMs,
        expiresAtMs,
        attempts: 0,
        lastError: '',
        seq: 0,
        orderKey: value.orderKey ?? '',
        deliveredAtMs: value.deliveredAtMs,
      });
    }
    found.sort((a, b) => a.deliveredAtMs - b.deliveredAtMs);
    const entries: OutboxEntry[] = found.map(({ deliveredAtMs: _, ...entry }) => ({ ...entry, seq: (this.#seq += 1) }));
    return {
      operations: entries.map((entry) => this.deps.store.outbox.queue.put(entry.messageId, entry)),
      count: entries.length,
      skipped,
      schedule: () => {
        for (const entry of entries) {
          if (this.#orderKeys.has(entry.messageId)) continue;
          this.#keepFresh(entry);
          this.#queue(recipient, entry.messageId, entry.orderKey, false);
        }
        this.#pump(this.#lane(recipient));
      },
    };
  }

  /**
   * Keeps a just-stored entry for its first attempt, unless its peer is down (the attempt waits
   * for the backoff, and reads the store then) or the entries kept already hold `FRESH_BYTES`.
   */
  #keepFresh(entry: OutboxEntry): void {
    if (this.#lanes.get(entry.recipient)?.down === true) return;
    if (this.#freshBytes + entry.body.length > FRESH_BYTES) return;
    this.#fresh.set(entry.messageId, entry);
    this.#freshBytes += entry.body.length;
  }

  /** The entry kept for this first attempt, if any, no longer kept. */
  #takeFresh(messageId: string): OutboxEntry | undefined {
    const entry = this.#fresh.get(messageId);
    if (entry) {
      this.#fresh.delete(messageId);
      this.#freshBytes -= entry.body.length;
    }
    return entry;
  }

  #queue(recipient: string, messageId: string, orderKey: string, urgent: boolean): void {
    this.#orderKeys.set(messageId, orderKey);
    const queue = this.#lane(recipient).queue;
    if (urgent) {
      this.#urgent.add(messageId);
      queue.unshift(messageId);
    } else queue.push(messageId);
  }

  /**
   * Puts a message that was not delivered back at the head of its queue — behind the urgent
   * messages there (a key rotation queued meanwhile), which must not wait behind a message that
   * the peer may refuse until it has them.
   */
  #requeue(lane: Lane, messageId: string): void {
    if (this.#urgent.has(messageId)) {
      lane.queue.unshift(messageId);
      return;
    }
    let at = 0;
    while (at < lane.queue.length && this.#urgent.has(lane.queue[at] as string)) at += 1;
    lane.queue.splice(at, 0, messageId);
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
      lane = { queue: [], inFlight: new Set(), busy: new Set(), down: false, failures: 0, timer: undefined };
      this.#lanes.set(recipient, lane);
    }
    return lane;
  }

  #pump(lane: Lane): void {
    if (!this.#running) return;
    if (lane.down) {
      if (!lane.timer && lane.inFlight.size === 0 && lane.queue.length > 0) {
        const cap = Math.min(
          this.deps.config.maxBackoffMs,
          this.deps.config.initialBackoffMs * 2 ** Math.min(lane.failures - 1, 30),
        );
        const delay = Math.round(cap * (0.5 + this.deps.clock.random() / 2));
        lane.timer = this.deps.clock.setTimeout(() => {
          lane.timer = undefined;
          const probe = lane.queue.shift();
          if (probe !== undefined) this.#track(this.#attempt(lane, probe));
        }, delay);
      }
      return;
    }
    // Take messages in queue order, skipping those whose order key has an earlier message in
    // flight or still waiting in this pass.
    const held = new Set<string>();
    for (let i = 0; i < lane.queue.length && lane.inFlight.size < this.deps.config.maxInFlightPerPeer; ) {
      const id = lane.queue[i] as string;
      const key = this.#orderKeys.get(id) ?? '';
      if (key !== '' && (lane.busy.has(key) || held.has(key))) {
        held.add(key);
        i += 1;
        continue;
      }
      lane.queue.splice(i, 1);
      // A delivery is the node's step, also when an officer's request queued the message (8.1).
      this.#track(runAs(NODE_ACTOR, () => this.#attempt(lane, id)));
    }
  }

  #track(attempt: Promise<void>): void {
    this.#attempts.add(attempt);
    void attempt.finally(() => this.#attempts.delete(attempt));
  }

  async #attempt(lane: Lane, messageId: string): Promise<void> {
    const key = this.#orderKeys.get(messageId) ?? '';
    const probe = lane.down;
    lane.inFlight.add(messageId);
    if (key !== '') lane.busy.add(key);
    let done = false;
    // The next message of the order key may go once the peer holds this one (its receipt verified),
    // while this one's delivery is still being stored: a crash before that store sends this one
    // again, which the peer answers DUPLICATE, so the peer still receives them in order.
    let released = key === '';
    const release = () => {
      if (released) return;
      released = true;
      lane.busy.delete(key);
      this.#pump(lane);
    };
    traceStep(this.#logger, 'outbox.attempt', () => ({ messageId }));
    try {
      const stored = this.#takeFresh(messageId) ?? (await this.deps.store.outbox.queue.get(messageId));
      done = !stored || (await this.#send(lane, stored, probe, release));
    } catch (error) {
      this.#logger.error({ err: error, messageId }, 'outbox attempt failed unexpectedly');
      this.#markDown(lane, probe);
    } finally {
      lane.inFlight.delete(messageId);
      if (!released) lane.busy.delete(key);
      if (done) {
        this.#orderKeys.delete(messageId);
        this.#urgent.delete(messageId);
      } else this.#requeue(lane, messageId);
      this.#pump(lane);
    }
  }

  /**
   * One attempt. Resolves true when the message left the outbox (delivered or failed for good).
   * `delivered` is called as soon as the receipt proves that the peer holds the message.
   */
  async #send(lane: Lane, entry: OutboxEntry, probe: boolean, delivered: () => void): Promise<boolean> {
    const now = this.deps.clock.now();
    if (now >= entry.expiresAtMs) {
      await this.#fail(entry, ErrorCode.ERROR_CODE_EXPIRED, 'message expired before it could be delivered', undefined);
      return true;
    }
    const peer = this.deps.peers.get(entry.recipient);
    if (!peer) {
      this.#markDown(lane, probe);
      return false;
    }
    const identity = this.deps.identity;
    // Every attempt seals with the node's keys of the moment, so a rotation re-seals what is
    // queued; only a key announcement names the keys it must be signed with (15.2).
    const own = entry.senderKeyId === undefined ? identity : identity.keySet(entry.senderKeyId, now);
    if (typeof own === 'string') {
      await this.#fail(
        entry,
        ErrorCode.ERROR_CODE_EXPIRED,
        `the keys ${entry.senderKeyId ?? ''} this message must be sealed with are no longer usable (${own})`,
        undefined,
      );
      return true;
    }
    const sealed = sealEnvelope({
      sender: identity.participantId,
      senderKeyId: own.keyId,
      senderSigningSecretKey: own.keys.signingSecretKey,
      recipient: peer.participantId,
      recipientKeyId: peer.body.keyId,
      pairKey: this.deps.peers.pairKey(peer.body.encryptionPublicKey, own),
      messageId: entry.messageId,
      kind: entry.kind,
      body: Buffer.from(entry.body, 'base64'),
      createdAtMs: now,
      expiresAtMs: entry.expiresAtMs,
      correlationId: entry.correlationId,
    });
    traceStep(this.#logger, 'outbox.sealed', () => ({
      messageId: entry.messageId,
      correlationId: entry.correlationId,
      kind: entry.kind,
      peer: entry.recipient,
    }));
    let receipt: Receipt;
    try {
      // The certificate of the keys that seal: a KEY_ROTATION reaches a peer that still pins the previous card (2.5).
      const tls = own.tls ?? identity.tls;
      receipt = await this.deps.transport.deliver(peer, sealed.bytes, {
        deadlineMs: this.deps.config.attemptTimeoutMs,
        correlationId: entry.correlationId,
        tls,
      });
    } catch (error) {
      return this.#refused(lane, entry, peer, TracenetError.from(error), probe);
    }
    traceStep(this.#logger, 'outbox.receipt', () => ({ messageId: entry.messageId }));
    let proof: DeliveryProof;
    try {
      proof = verifyDeliveryReceipt(receipt, this.#expected(peer, entry.messageId), sealed.digest);
    } catch (error) {
      return this.#unverified(lane, entry, peer, error, probe);
    }
    const deliveredAt = this.deps.clock.now();
    delivered();
    await this.deps.journal.write(
      [
        this.deps.store.outbox.queue.del(entry.messageId),
        this.deps.store.outbox.sent.put(entry.messageId, sentRecord(entry, deliveredAt, receipt, sealed.bytes)),
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
    traceStep(this.#logger, 'outbox.delivered', () => ({
      peer: entry.recipient,
      messageId: entry.messageId,
      correlationId: entry.correlationId,
    }));
    this.emit('delivered', {
      messageId: entry.messageId,
      recipient: entry.recipient,
      kind: entry.kind,
      createdAtMs: entry.createdAtMs,
      deliveredAtMs: deliveredAt,
    });
    return true;
  }

  /**
   * What a receipt from `peer` about `messageId` must say (docs/protocol.md 5.4): signed with the
   * key of the card the attempt was sealed to (`peer` is the pin of that moment) or, for a receipt
   * the peer remembered from before its rotation, with a key of a previous card still in grace.
   */
  #expected(peer: Peer, messageId: string): ExpectedReceipt {
    return {
      issuer: peer.participantId,
      issuerKeyId: peer.body.keyId,
      issuerSigningPublicKey: peer.body.signingPublicKey,
      sender: this.deps.identity.participantId,
      messageId,
      previousIssuerKeys: this.deps.peers.previousKeys(peer, this.deps.clock.now()),
    };
  }

  /** The peer answered with an error, or could not be reached. */
  async #refused(lane: Lane, entry: OutboxEntry, peer: Peer, error: TracenetError, probe: boolean): Promise<boolean> {
    let retry = error.retryable;
    if (error.receipt) {
      let body: ReceiptBody;
      try {
        body = verifyRememberedReceipt(error.receipt, this.#expected(peer, entry.messageId));
      } catch (failure) {
        return this.#unverified(lane, entry, peer, failure, probe);
      }
      // Clock rejections concern this envelope only: a later seal passes once the clocks agree.
      if (
        body.status === ReceiptStatus.RECEIPT_STATUS_REJECTED &&
        body.errorCode === ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW
      ) {
        this.#logger.error(
          { peer: peer.participantId, messageId: entry.messageId },
          'peer refused the creation time: check the clocks of both nodes; will retry',
        );
        retry = true;
      } else if (body.status === ReceiptStatus.RECEIPT_STATUS_REJECTED) {
        await this.#fail(entry, body.errorCode, body.errorMessage, error.receipt);
        return true;
      }
    }
    if (!retry) {
      await this.#fail(entry, error.code, error.message, undefined);
      return true;
    }
    const attempt = {
      peer: peer.participantId,
      messageId: entry.messageId,
      code: error.codeName,
      failures: lane.failures + 1,
    };
    if (error.code === ErrorCode.ERROR_CODE_UNKNOWN_SENDER) {
      // The recipient does not say why (docs/protocol.md 4.4); the key ids we used say what to compare. Said once per outage.
      this.#logger[lane.down ? 'info' : 'warn'](
        { ...attempt, ourKeyId: this.deps.identity.keyId, theirKeyId: peer.body.keyId },
        `${NOT_AUTHENTICATED_HINT}; will retry`,
      );
    } else {
      this.#logger.info(attempt, 'delivery attempt failed; will retry');
    }
    return this.#retry(lane, entry, error.codeName, probe);
  }

  /** The receipt of an answer does not verify (5.4): it proves and ends nothing, and the message is retried. */
  async #unverified(lane: Lane, entry: OutboxEntry, peer: Peer, failure: unknown, probe: boolean): Promise<false> {
    const error = TracenetError.from(failure);
    this.#logger.error(
      { peer: peer.participantId, messageId: entry.messageId, code: error.codeName, reason: error.message },
      'the receipt of the peer does not verify; will retry',
    );
    return this.#retry(lane, entry, error.codeName, probe);
  }

  /** Stores the failed attempt and takes the lane down: the message is retried after the backoff. */
  async #retry(lane: Lane, entry: OutboxEntry, lastError: string, probe: boolean): Promise<false> {
    await this.deps.store.batch([
      this.deps.store.outbox.queue.put(entry.messageId, { ...entry, attempts: entry.attempts + 1, lastError }),
    ]);
    this.#markDown(lane, probe);
    return false;
  }

  /**
   * Records a failure that concerns the peer. Attempts that were in flight when the peer went
   * down count as one failure, so the first retry comes after the shortest backoff; only failed
   * probes (attempts made while down) lengthen it.
   */
  #markDown(lane: Lane, probe: boolean): void {
    if (!lane.down) {
      lane.down = true;
      lane.failures = 1;
    } else if (probe) {
      lane.failures += 1;
    }
  }

  async #fail(entry: OutboxEntry, code: ErrorCode, message: string, receipt: Receipt | undefined): Promise<void> {
    const name = new TracenetError(code, message).codeName;
    await this.deps.journal.write(
      [
        this.deps.store.outbox.queue.del(entry.messageId),
        this.deps.store.outbox.failed.put(entry.messageId, {
          ...entry,
          attempts: entry.attempts + 1,
          lastError: name,
          failedAtMs: this.deps.clock.now(),
          reason: message,
          receipt: receipt ? encodeReceipt(receipt) : '',
        }),
      ],
      [
        {
          type: 'message.failed',
          fields: { direction: 'out', peer: entry.recipient, messageId: entry.messageId, kind: entry.kind, code: name },
        },
      ],
    );
    this.#logger.warn({ peer: entry.recipient, messageId: entry.messageId, code: name }, 'message failed for good');
    this.emit('failed', { messageId: entry.messageId, recipient: entry.recipient, kind: entry.kind, code: name });
  }
}

/**
 * What is kept of a delivered message: the ACCEPTED receipt, and the envelope of the receipted
 * attempt with that attempt's receipt (the same one unless the attempt was a DUPLICATE) —
 * evidence of what was delivered.
 */
function sentRecord(entry: OutboxEntry, deliveredAtMs: number, receipt: Receipt, envelope: Buffer): SentRecord {
  return {
    messageId: entry.messageId,
    recipient: entry.recipient,
    kind: entry.kind,
    correlationId: entry.correlationId,
    createdAtMs: entry.createdAtMs,
    // What a re-delivery to a restored recipient needs (docs/protocol.md 5.6).
    body: entry.body,
    expiresAtMs: entry.expiresAtMs,
    orderKey: entry.orderKey,
    deliveredAtMs,
    attempts: entry.attempts + 1,
    receipt: encodeReceipt(receipt.original ?? receipt),
    envelope: envelope.toString('base64'),
    envelopeReceipt: encodeReceipt(receipt),
  };
}
