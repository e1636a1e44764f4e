import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  ErrorCode,
  type EnvelopeHeader,
  type MessageKind,
  NodeEventType,
  type PeerCardBody,
  Receipt,
  ReceiptStatus,
  TracenetError,
} from '@tracenet/proto';
import type { Journal, NodeEventInput } from '../audit/audit-log.js';
import { bodyDigest, type ParsedEnvelope } from '../envelope/envelope.js';
import { encodeReceipt, signReceipt } from '../envelope/receipt.js';
import type { NodeIdentity, OwnKeySet } from '../identity/data-dir.js';
import type { InboundHandler } from '../ports/inbound.js';
import { padNumber, type Operation, type Store } from '../store/store.js';
import type { SeenRecord } from '../store/repositories.js';
import type { Clock } from '../util/clock.js';
import { KeyedLock } from '../util/keyed-lock.js';
import type { RefusalSource, RefusalTally } from './refusal-tally.js';
import {
  countUnauthenticated,
  EnvelopeOpener,
  inboundAuditEvent,
  IN_PROCESS,
  type ReceiverConfig,
  type RefusalReason,
  refusalReason,
} from './envelope-opener.js';
import { validateBody } from './message-kinds.js';
import type { Peer, PeerRegistry } from './peers.js';

/** A message accepted into the inbox. */
export interface InboxMessage {
  readonly sender: string;
  readonly messageId: string;
  readonly kind: MessageKind;
  readonly correlationId: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly receivedAtMs: number;
  readonly body: Buffer;
}

export type { ReceiverConfig } from './envelope-opener.js';

/** What is remembered about a (sender, message id) or a (sender, message id, digest). */
/** Rejections that depend on the clock: remembered per envelope, so a fresh seal is judged anew. */
const CLOCK_CODES = new Set<ErrorCode>([ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW, ErrorCode.ERROR_CODE_EXPIRED]);

function seenKey(sender: string, messageId: string, digest?: Buffer): string {
  return digest ? `${sender}\u0000${messageId}\u0000${digest.toString('hex')}` : `${sender}\u0000${messageId}`;
}

/** Inbox key: receipt time first so listings come in arrival order. */
export function inboxKey(receivedAtMs: number, sender: string, messageId: string): string {
  return `${padNumber(receivedAtMs)}\u0000${sender}\u0000${messageId}`;
}

/** What the receiver tells about each envelope it answers. */
export interface ReceiverEvents {
  accepted: [InboxMessage];
  duplicate: [{ sender: string; messageId: string; kind: MessageKind }];
  /** `code` as answered; `unauthenticated`: refused before authentication, with the precise reason the answer does not carry. */
  rejected: [{ code: string; kind?: MessageKind; unauthenticated?: RefusalReason }];
}

/**
 * The receiving side of Deliver (docs/protocol.md section 4). Checks run cheapest first: size,
 * structure, addressing and pinning, then one AEAD check that authenticates header and
 * ciphertext, then the replay rules, then the Ed25519 signature, then the body. Every outcome is
 * audited — refusals before authentication counted per source and interval — ; only an accepted
 * message is stored, together with its receipt, in one batch.
 */
export class Receiver extends EventEmitter<ReceiverEvents> {
  readonly #locks = new KeyedLock();
  readonly #logger: Logger;
  readonly #opener: EnvelopeOpener;
  #handler: InboundHandler | undefined;

  constructor(
    private readonly deps: {
      identity: NodeIdentity;
      peers: PeerRegistry;
      journal: Journal;
      store: Store;
      clock: Clock;
      logger: Logger;
      config: ReceiverConfig;
      /** Counts refusals before authentication (docs/protocol.md 4.13). */
      refusals: RefusalTally;
    },
  ) {
    super();
    // Stryker disable next-line ObjectLiteral,StringLiteral: log context and text, which no test reads
    this.#logger = deps.logger.child({ component: 'receiver' });
    this.#opener = new EnvelopeOpener(deps);
  }

  /** Sets the handler of workflow messages (the node's Workflow). */
  setInboundHandler(handler: InboundHandler): void {
    this.#handler = handler;
  }

  /**
   * Handles one envelope as received on the wire. Resolves with an ACCEPTED or DUPLICATE receipt;
   * throws a TracenetError otherwise (with a signed REJECTED receipt when the header authenticated).
   * `source` is the caller (address and pinned peer of its connection), counted with a refusal
   * before authentication.
   */
  async deliver(raw: Uint8Array, source: RefusalSource = IN_PROCESS): Promise<Receipt> {
    const receivedAtMs = this.deps.clock.now();
    let parsed: ParsedEnvelope | undefined;
    let headerAuthenticated = false;
    try {
      parsed = this.#opener.parse(raw);
      const { peer, sealed, own, senderBody } = this.#opener.authenticate(parsed);
      headerAuthenticated = true;
      const authenticated = parsed;
      return await this.#locks.run(seenKey(parsed.header.sender, parsed.header.messageId), () =>
        this.#deliverAuthenticated(
          authenticated,
          sealed.body,
          sealed.signature,
          { peer, own, senderBody },
          receivedAtMs,
        ),
      );
    } catch (error) {
      const failure = TracenetError.from(error);
      // Every refusal before authentication is counted, retryable ones (UNKNOWN_SENDER) included;
      // later failures without a receipt (STORAGE_UNAVAILABLE) wrote nothing and are not.
      // Stryker disable next-line ConditionalExpression: `failure.receipt === undefined` → true is equivalent: no receipt exists before the header authenticated; the line's other mutants are killed in receiver.test.ts
      const unauthenticated = failure.receipt === undefined && !headerAuthenticated;
      if (unauthenticated)
        countUnauthenticated({ refusals: this.deps.refusals, logger: this.#logger }, source, failure, parsed);
      this.emit('rejected', {
        code: failure.codeName,
        ...(parsed ? { kind: parsed.header.kind } : {}),
        ...(unauthenticated ? { unauthenticated: refusalReason(failure) } : {}),
      });
      throw failure;
    }
  }

  async #deliverAuthenticated(
    parsed: ParsedEnvelope,
    body: Buffer,
    signature: Buffer,
    keys: { peer: Peer; own: OwnKeySet; senderBody: PeerCardBody },
    receivedAtMs: number,
  ): Promise<Receipt> {
    const { header, digest } = parsed;
    const { peer, own, senderBody } = keys;
    const { seen, inbox } = this.deps.store.messages;
    // Both looked up at once — the envelope always: one rejected stays rejected even after its id was accepted.
    const read = this.#seen(header.sender, header.messageId, digest);
    const [byId, byEnvelope] = read instanceof Promise ? await read : read;
    const rejected = byEnvelope ?? (byId?.status === 'rejected' ? byId : undefined);
    if (rejected) {
      // A copy of a rejected message is rejected again with the same code, never accepted.
      const again = new TracenetError(
        rejected.code ?? ErrorCode.ERROR_CODE_UNSPECIFIED,
        'this message was rejected before; it is not processed again',
        {
          rule: 'rejected_before',
          receipt: Receipt.decode(Buffer.from(rejected.receipt, 'base64')),
        },
      );
      await this.deps.journal.write(
        [],
        [
          inboundAuditEvent('message.rejected', parsed, {
            code: again.codeName,
            rule: again.rule,
            authenticated: true,
          }),
        ],
      );
      throw again;
    }
    const thisBody = bodyDigest(header.kind, body);
    try {
      this.#opener.checkTime(header);
      if (byId) {
        if (byId.bodyDigest !== thisBody) {
          throw new TracenetError(
            ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED,
            `message id ${header.messageId} was already used by ${header.sender} for other content`,
            {
              field: 'header.message_id',
              rule: 'unique_message_id',
            },
          );
        }
        return await this.#duplicate(parsed, byId, receivedAtMs, own);
      }
      this.#opener.verifySignature(parsed, { body, signature }, peer, senderBody);
      // Workflow kinds are decoded and checked by their handler, against the case.
      if (!this.#handler?.handles(header.kind)) validateBody(header.kind, body);
    } catch (error) {
      const failure = TracenetError.from(error);
      // A passing failure (storage) is neither receipted nor remembered: the sender retries.
      if (failure.retryable) throw failure;
      throw await this.#reject(parsed, failure, receivedAtMs, byId !== undefined, own);
    }
    const receipt = this.#receipt(header, digest, receivedAtMs, ReceiptStatus.RECEIPT_STATUS_ACCEPTED, own);
    const message: InboxMessage = {
      sender: header.sender,
      messageId: header.messageId,
      kind: header.kind,
      correlationId: header.correlationId,
      createdAtMs: header.createdAtMs,
      expiresAtMs: header.expiresAtMs,
      receivedAtMs,
      body,
    };
    // Stryker disable next-line StringLiteral: equivalent: a seen record's status is only ever compared with 'rejected'
    const record: SeenRecord = { status: 'accepted', bodyDigest: thisBody, receipt: encodeReceipt(receipt) };
    const operations: Operation[] = [
      seen.put(seenKey(header.sender, header.messageId), record),
      // Header bytes and signature are kept as evidence of origin (non-repudiation).
      inbox.put(inboxKey(receivedAtMs, header.sender, header.messageId), {
        ...message,
        body: body.toString('base64'),
        digest: digest.toString('hex'),
        header: parsed.envelope.header.toString('base64'),
        signature: signature.toString('base64'),
      }),
    ];
    const audit = [inboundAuditEvent('message.received', parsed, { bodyDigest: thisBody })];
    const event: NodeEventInput = {
      type: NodeEventType.NODE_EVENT_TYPE_MESSAGE_RECEIVED,
      caseId: '',
      traceId: '',
      peer: header.sender,
      state: 0,
      messageId: header.messageId,
      summary: `message received from ${header.sender}`,
    };
    const handler = this.#handler?.handles(header.kind) ? this.#handler : undefined;
    if (handler) {
      let committed = false;
      try {
        await handler.accept(
          {
            sender: header.sender,
            messageId: header.messageId,
            kind: header.kind,
            body,
            senderKeyId: header.senderKeyId,
          },
          async (more, moreAudit, events) => {
            await this.deps.journal.write([...operations, ...more], [...audit, ...moreAudit], [event, ...events]);
            committed = true;
          },
        );
        if (!committed)
          throw new TracenetError(
            ErrorCode.ERROR_CODE_INTERNAL,
            'the workflow neither accepted nor refused the message',
          );
      } catch (error) {
        const failure = TracenetError.from(error);
        if (committed || failure.retryable) throw failure;
        throw await this.#reject(parsed, failure, receivedAtMs, false, own);
      }
    } else {
      await this.deps.journal.write(operations, audit, [event]);
    }
    // Stryker disable ObjectLiteral,StringLiteral: log context and text, which no test reads
    this.#logger.info(
      { peer: header.sender, messageId: header.messageId, correlationId: header.correlationId, kind: header.kind },
      'message accepted',
    );
    // Stryker restore ObjectLiteral,StringLiteral
    this.emit('accepted', message);
    return receipt;
  }

  /**
   * What the seen-set remembers of this message id and of this very envelope. One read of both
   * keys, synchronous where the store can (two point reads take LevelDB a few microseconds, less
   * than one round trip to a libuv thread: ADR 0005), else one `getMany`. The keyed lock held
   * around the whole delivery keeps them current until this delivery has written.
   */
  #seen(
    sender: string,
    messageId: string,
    digest: Buffer,
  ): [SeenRecord | undefined, SeenRecord | undefined] | Promise<Array<SeenRecord | undefined>> {
    const { seen } = this.deps.store.messages;
    const keys = [seenKey(sender, messageId), seenKey(sender, messageId, digest)] as const;
    const byId = seen.getSync(keys[0]);
    const byEnvelope = byId && seen.getSync(keys[1]);
    return byId && byEnvelope ? [byId.value, byEnvelope.value] : seen.getMany(keys);
  }

  async #duplicate(
    parsed: ParsedEnvelope,
    original: SeenRecord,
    receivedAtMs: number,
    own: OwnKeySet,
  ): Promise<Receipt> {
    const receipt = this.#receipt(
      parsed.header,
      parsed.digest,
      receivedAtMs,
      ReceiptStatus.RECEIPT_STATUS_DUPLICATE,
      own,
    );
    receipt.original = Receipt.decode(Buffer.from(original.receipt, 'base64'));
    await this.deps.journal.write([], [inboundAuditEvent('message.duplicate', parsed, {})]);
    this.emit('duplicate', {
      sender: parsed.header.sender,
      messageId: parsed.header.messageId,
      kind: parsed.header.kind,
    });
    // Stryker disable ObjectLiteral,StringLiteral: log context and text, which no test reads
    this.#logger.info(
      { peer: parsed.header.sender, messageId: parsed.header.messageId },
      'duplicate answered with the original receipt',
    );
    // Stryker restore ObjectLiteral,StringLiteral
    return receipt;
  }

  /**
   * Rejects an authenticated envelope: signs a REJECTED receipt and remembers it, so that no copy
   * of this message is ever accepted. Returns the error to throw.
   */
  async #reject(
    parsed: ParsedEnvelope,
    failure: TracenetError,
    receivedAtMs: number,
    idAccepted: boolean,
    own: OwnKeySet,
  ): Promise<TracenetError> {
    const { header, digest } = parsed;
    const receipt = this.#receipt(header, digest, receivedAtMs, ReceiptStatus.RECEIPT_STATUS_REJECTED, own, failure);
    const record: SeenRecord = { status: 'rejected', receipt: encodeReceipt(receipt), code: failure.code };
    // The id stays accepted when it was; clock rejections are remembered for this envelope only.
    const remember =
      idAccepted || CLOCK_CODES.has(failure.code)
        ? seenKey(header.sender, header.messageId, digest)
        : seenKey(header.sender, header.messageId);
    await this.deps.journal.write(
      [this.deps.store.messages.seen.put(remember, record)],
      [
        inboundAuditEvent('message.rejected', parsed, {
          code: failure.codeName,
          rule: failure.rule,
          authenticated: true,
        }),
      ],
    );
    // Stryker disable ObjectLiteral,StringLiteral: log context and text, which no test reads
    this.#logger.warn(
      { peer: header.sender, messageId: header.messageId, code: failure.codeName, rule: failure.rule },
      'message rejected',
    );
    // Stryker restore ObjectLiteral,StringLiteral
    return new TracenetError(failure.code, failure.message, {
      field: failure.field,
      rule: failure.rule,
      violations: failure.violations,
      receipt,
      cause: failure,
    });
  }

  /**
   * A receipt signed with the keys the envelope was addressed to: during the grace after a
   * rotation, a peer that still pins the previous card can verify it (docs/protocol.md 15.2).
   */
  #receipt(
    header: EnvelopeHeader,
    digest: Buffer,
    receivedAtMs: number,
    status: ReceiptStatus,
    own: OwnKeySet,
    failure?: TracenetError,
  ): Receipt {
    const self = this.deps.identity;
    return signReceipt(
      {
        version: 1,
        issuer: self.participantId,
        issuerKeyId: own.keyId,
        sender: header.sender,
        messageId: header.messageId,
        envelopeDigest: digest,
        receivedAtMs,
        status,
        errorCode: failure?.code ?? ErrorCode.ERROR_CODE_UNSPECIFIED,
        errorMessage: failure?.message ?? '',
      },
      own.keys.signingSecretKey,
    );
  }
}
