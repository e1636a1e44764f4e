import { Envelope, EnvelopeHeader, type Receipt, TracenetError } from '@tracenet/proto';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '../../src/config/config.js';
import type { Peer } from '../../src/federation/peers.js';
import { createGrpcTransport, type DeliverOptions, type Transport } from '../../src/federation/transport.js';

/** One Deliver call made through a {@link RecordingTransport}. */
export interface Attempt {
  /** Wall-clock time of the call (performance.now()). */
  readonly at: number;
  readonly recipient: string;
  readonly messageId: string;
  /** 'receipt' when the call returned one, otherwise the error code name. */
  outcome: string;
}

/**
 * The real gRPC transport with a recorder in front: every Deliver call is logged with its time and
 * outcome, a hook runs before each call, and receipts and errors can be altered on their way back
 * to the outbox (to play a recipient that answers with a bad receipt, or an answer lost).
 */
export class RecordingTransport implements Transport {
  readonly attempts: Attempt[] = [];
  /** Runs before each call is sent. */
  beforeAttempt: ((messageId: string) => Promise<void>) | undefined;
  /** Changes a receipt before the outbox sees it. */
  alterReceipt: ((receipt: Receipt) => Receipt) | undefined;
  /** Changes an error answer before the outbox sees it: returns the error thrown instead. */
  alterError: ((error: TracenetError) => TracenetError) | undefined;
  readonly #inner: Transport;

  constructor(inner: Transport = createGrpcTransport({ maxEnvelopeBytes: DEFAULT_MAX_ENVELOPE_BYTES })) {
    this.#inner = inner;
  }

  async deliver(peer: Peer, envelope: Uint8Array, options: DeliverOptions): Promise<Receipt> {
    const header = EnvelopeHeader.decode(Envelope.decode(envelope).header);
    const attempt: Attempt = {
      at: performance.now(),
      recipient: peer.participantId,
      messageId: header.messageId,
      outcome: 'pending',
    };
    this.attempts.push(attempt);
    await this.beforeAttempt?.(header.messageId);
    try {
      const receipt = await this.#inner.deliver(peer, envelope, options);
      attempt.outcome = 'receipt';
      return this.alterReceipt ? this.alterReceipt(receipt) : receipt;
    } catch (error) {
      const failure = TracenetError.from(error);
      attempt.outcome = failure.codeName;
      throw this.alterError ? this.alterError(failure) : error;
    }
  }

  /** Attempts made for one message. */
  attemptsOf(messageId: string): Attempt[] {
    return this.attempts.filter((a) => a.messageId === messageId);
  }

  close(): void {
    this.#inner.close();
  }
}
