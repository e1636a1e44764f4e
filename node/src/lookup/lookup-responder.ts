import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  ErrorCode,
  type HitNotice,
  LookupAnswer,
  LookupQuery,
  MessageKind,
  NodeEventType,
  TracenetError,
} from '@tracenet/proto';
import type { AuditEvent, Journal, NodeEventInput } from '../audit/audit-log.js';
import { randomBytes } from '../crypto/sodium.js';
import { bodyDigest, sealEnvelope, type ParsedEnvelope } from '../envelope/envelope.js';
import type { RefusalSource, RefusalTally } from '../federation/refusal-tally.js';
import {
  type AuthenticatedEnvelope,
  countUnauthenticated,
  EnvelopeOpener,
  inboundAuditEvent,
  IN_PROCESS,
  type ReceiverConfig,
  type RefusalReason,
  refusalReason,
} from '../federation/envelope-opener.js';
import type { Peer, PeerRegistry } from '../federation/peers.js';
import type { NodeIdentity } from '../identity/data-dir.js';
import { categoryName } from '../records/interest.js';
import type { RecordStore } from '../records/record-store.js';
import type { Registry } from '../registry/registry.js';
import type { Operation, Store } from '../store/store.js';
import type { Scheduler, Timer } from '../util/scheduler.js';
import { KeyedLock } from '../util/keyed-lock.js';
import { lookupsPerMinuteOf, type PolicyStore } from '../workflow/policy.js';
import type { AliasTable } from '../records/alias-table.js';
import { type HitStore, newHitId } from './hit-store.js';
import { lookupQueryViolations, throwViolations } from './matcher.js';
import { findHits } from './registry-hits.js';
import { RateLimiter } from './rate-limiter.js';
import { recirculationOfHits } from './recirculation-hits.js';

/** How often answered query ids older than the replay window are forgotten. */
const PRUNE_EVERY_MS = 10 * 60_000;

/** What the responder tells about each call it answers or refuses. */
export interface LookupResponderEvents {
  answered: [{ peer: string; queryId: string; hits: number }];
  /** `code` as answered; `unauthenticated`: refused before authentication, with the precise reason the answer does not carry. */
  refused: [{ code: string; peer?: string; unauthenticated?: RefusalReason }];
}

/** What the responder needs. */
export interface LookupResponderDeps {
  readonly identity: NodeIdentity;
  readonly peers: PeerRegistry;
  readonly policies: PolicyStore;
  readonly records: RecordStore;
  /**
   * The registries the node answers from: their own reports of loss and theft are records of
   * interest too (docs/protocol.md 13.2). Without it only the node's index is matched.
   */
  readonly registry?: Pick<Registry, 'findOfInterest'>;
  /** The alias table in force, read at every query. */
  readonly aliases: { readonly table: AliasTable };
  readonly hits: HitStore;
  readonly journal: Journal;
  readonly store: Store;
  /** Time, and the interval of pruning. */
  readonly clock: Scheduler;
  readonly logger: Logger;
  readonly config: ReceiverConfig;
  /** Counts refusals before authentication (docs/protocol.md 4.13). */
  readonly refusals: RefusalTally;
}

const seenKey = (sender: string, messageId: string) => `${sender}\u0000${messageId}`;

/** Every serialized answer is a multiple of this many bytes (docs/protocol.md 13.6). */
export const ANSWER_BUCKET_BYTES = 4096;
/** The least padding: from 128 to 16 383 bytes its length is a two-byte varint, so tag and length take exactly 3 bytes. */
const MIN_PADDING = 128;

/**
 * The serialized answer with its `padding`: zero bytes, at least {@link MIN_PADDING}, up to the
 * next multiple of {@link ANSWER_BUCKET_BYTES}. An answer's size then tells neither whether it
 * hit nor how often, as long as its hits fit the same bucket (one at least, whatever their texts;
 * about forty of usual length).
 */
export function encodePaddedAnswer(answer: Omit<LookupAnswer, 'padding'>): Buffer {
  const bare = LookupAnswer.encode({ ...answer, padding: Buffer.alloc(0) }).finish().length;
  const size = Math.ceil((bare + 3 + MIN_PADDING) / ANSWER_BUCKET_BYTES) * ANSWER_BUCKET_BYTES;
  return Buffer.from(LookupAnswer.encode({ ...answer, padding: Buffer.alloc(size - bare - 3) }).finish());
}

/**
 * The record owner's side of `Federation.Lookup` (docs/protocol.md 13.6). The envelope is opened
 * with the same checks as Deliver (size, structure, addressing and pinning, AEAD); then, in this
 * order: the kind is LOOKUP_QUERY, the time window, a query id not answered before, the peer's
 * policy allows lookups, its rate limit, the signature, the body. The query is matched against the
 * records of interest — the node's index and the registries' own reports ({@link findHits}; a
 * registry that cannot answer refuses the query UNAVAILABLE) — and answered with a LOOKUP_ANSWER envelope sealed to the requester that
 * carries, per hit, only reference, category, owner, contact point and whether it is partial.
 * The hit notices, the node events and the audit entries of query, hits and answer are written
 * in one batch before the answer leaves.
 *
 * @example
 * ```ts
 * const responder = new LookupResponder({ identity, peers, policies, records, aliases, hits, journal, store, clock, logger, config, refusals });
 * const answerBytes = await responder.lookup(requestBytes); // the response of Federation.Lookup
 * ```
 */
export class LookupResponder extends EventEmitter<LookupResponderEvents> {
  readonly #opener: EnvelopeOpener;
  readonly #limiter: RateLimiter;
  readonly #locks = new KeyedLock();
  readonly #logger: Logger;
  #pruneTimer: Timer | undefined;

  constructor(private readonly deps: LookupResponderDeps) {
    super();
    this.#opener = new EnvelopeOpener(deps);
    this.#limiter = new RateLimiter(deps.clock);
    this.#logger = deps.logger.child({ component: 'lookup-responder' });
  }

  /** Forgets stale query ids now and every ten minutes. Idempotent. */
  async start(): Promise<void> {
    if (this.#pruneTimer) return;
    this.#pruneTimer = this.deps.clock
      .setInterval(
        () =>
          void this.prune().catch((error: unknown) =>
            this.#logger.warn({ err: error }, 'could not prune answered query ids'),
          ),
        PRUNE_EVERY_MS,
      )
      .unref();
    await this.prune();
  }

  /** Stops the pruning timer. Idempotent. */
  stop(): void {
    this.#pruneTimer?.cancel();
    this.#pruneTimer = undefined;
  }

  /**
   * Deletes the remembered query ids whose envelopes can no longer pass the time check (created
   * more than the replay window ago): a copy of them is refused as OUTSIDE_TIME_WINDOW anyway.
   */
  async prune(): Promise<number> {
    const before = this.deps.clock.now() - this.deps.config.replayWindowMs;
    const { answered } = this.deps.store.lookups;
    const stale: Operation[] = [];
    for await (const [key, value] of answered.entries()) if (value.createdAtMs < before) stale.push(answered.del(key));
    if (stale.length > 0) await this.deps.journal.write(stale, []);
    return stale.length;
  }

  /**
   * Answers one `Federation.Lookup` request: resolves with the serialized answer envelope, or
   * throws a TracenetError (KIND_NOT_ALLOWED, RATE_LIMITED, the envelope codes of Deliver, ...).
   * `source` is the caller, counted with a refusal before authentication.
   */
  async lookup(raw: Uint8Array, source: RefusalSource = IN_PROCESS): Promise<Buffer> {
    let parsed: ParsedEnvelope | undefined;
    let peer: Peer | undefined;
    try {
      parsed = this.#opener.parse(raw);
      const authenticated = this.#opener.authenticate(parsed);
      peer = authenticated.peer;
      return await this.#locks.run(seenKey(parsed.header.sender, parsed.header.messageId), () =>
        this.#answer(authenticated),
      );
    } catch (error) {
      const failure = TracenetError.from(error);
      if (!peer) countUnauthenticated({ refusals: this.deps.refusals, logger: this.#logger }, source, failure, parsed);
      else if (parsed && failure.code !== ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE)
        await this.#auditRefusal(parsed, failure);
      this.emit('refused', {
        code: failure.codeName,
        ...(peer ? { peer: peer.participantId } : { unauthenticated: refusalReason(failure) }),
      });
      throw failure;
    }
  }

  async #answer(opened: AuthenticatedEnvelope): Promise<Buffer> {
    const { parsed, sealed, peer, own, senderBody } = opened;
    const { header } = parsed;
    if (header.kind !== MessageKind.MESSAGE_KIND_LOOKUP_QUERY) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `Federation.Lookup takes LOOKUP_QUERY envelopes, not kind ${MessageKind[header.kind] ?? header.kind}`,
        {
          field: 'header.kind',
          rule: 'lookup_kind',
        },
      );
    }
    this.#opener.checkTime(header);
    if ((await this.deps.store.lookups.answered.get(seenKey(header.sender, header.messageId))) !== undefined) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED,
        `message id ${header.messageId} of ${header.sender} was answered already; a lookup is answered once`,
        {
          field: 'header.message_id',
          rule: 'unique_message_id',
        },
      );
    }
    const policy = this.deps.policies.get(header.sender);
    if (!policy.allowLookups) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED,
        `${header.sender} may not look up records of ${this.deps.identity.participantId} (peer policy)`,
        {
          field: 'header.kind',
          rule: 'peer_policy',
        },
      );
    }
    const perMinute = lookupsPerMinuteOf(policy);
    if (!this.#limiter.take(header.sender, perMinute)) {
      const wait = this.#limiter.waitMs(header.sender, perMinute);
      throw new TracenetError(
        ErrorCode.ERROR_CODE_RATE_LIMITED,
        `${header.sender} may make ${perMinute} lookups per minute; try again in ${Math.ceil(wait / 1000)} s`,
        {
          rule: 'lookups_per_minute',
        },
      );
    }
    this.#opener.verifySignature(parsed, sealed, peer, senderBody);
    let query: LookupQuery;
    try {
      query = LookupQuery.decode(sealed.body);
    } catch (cause) {
      throw new TracenetError(ErrorCode.ERROR_CODE_MALFORMED, 'body is not a valid LookupQuery message', {
        field: 'body',
        rule: 'protobuf',
        cause,
      });
    }
    throwViolations(lookupQueryViolations(query, 'body'), 'the lookup query is not valid');
    const weapon = query.weapon;
    if (!weapon)
      throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'body.weapon is required', {
        field: 'body.weapon',
        rule: 'required',
      });

    const matches = await findHits(
      { records: this.deps.records, registry: this.deps.registry, logger: this.#logger },
      weapon,
      this.deps.aliases.table,
    );
    const self = this.deps.identity;
    const now = this.deps.clock.now();
    const answer = {
      queryId: query.queryId,
      // Only these fields: never the record (docs/protocol.md 13.6, 19.5).
      hits: matches.map(({ entry, partial }) => ({
        reference: entry.reference,
        category: entry.category,
        owner: self.participantId,
        contactPoint: entry.contactPoint,
        partial,
        // A weapon recorded as destroyed that is looked up has turned up again (docs/protocol.md 19.5).
        recordedDestroyed: entry.destroyedDate !== undefined,
        destroyedDate: entry.destroyedDate ?? '',
        certificateId: entry.certificateId ?? '',
      })),
    };
    const body = encodePaddedAnswer(answer);
    const answerId = randomBytes(16).toString('base64url');
    // Between the keys of the query (13.6 step 14): from this node's keys it was sealed to, to the
    // sender's keys that sealed it, so that a requester on either side of a rotation verifies it.
    const out = sealEnvelope({
      sender: self.participantId,
      senderKeyId: own.keyId,
      senderSigningSecretKey: own.keys.signingSecretKey,
      recipient: header.sender,
      recipientKeyId: senderBody.keyId,
      pairKey: this.deps.peers.pairKey(senderBody.encryptionPublicKey, own),
      messageId: answerId,
      kind: MessageKind.MESSAGE_KIND_LOOKUP_ANSWER,
      body,
      createdAtMs: now,
      expiresAtMs: now + this.deps.config.replayWindowMs,
      correlationId: header.messageId,
    });

    const notices: HitNotice[] = matches.map(({ entry, partial }) => ({
      hitId: newHitId(),
      atMs: now,
      askedBy: header.sender,
      purpose: query.purpose,
      requestingAuthority: query.requestingAuthority,
      queryId: query.queryId,
      recordId: entry.recordId,
      reference: entry.reference,
      category: entry.category,
      partial,
    }));
    const operations: Operation[] = [
      this.deps.store.lookups.answered.put(seenKey(header.sender, header.messageId), {
        createdAtMs: header.createdAtMs,
        queryId: query.queryId,
      }),
      ...notices.map((n) => this.deps.hits.putOperation(n)),
    ];
    const audit: AuditEvent[] = [
      inboundAuditEvent('lookup.query', parsed, {
        queryId: query.queryId,
        bodyDigest: bodyDigest(header.kind, sealed.body),
      }),
      ...notices.map(
        (n): AuditEvent => ({
          type: 'lookup.hit',
          fields: {
            peer: n.askedBy,
            queryId: n.queryId,
            hitId: n.hitId,
            recordId: n.recordId,
            reference: n.reference,
            category: categoryName(n.category),
            partial: n.partial,
          },
        }),
      ),
      {
        type: 'lookup.answer',
        fields: {
          direction: 'out',
          peer: header.sender,
          messageId: answerId,
          correlationId: header.messageId,
          kind: MessageKind.MESSAGE_KIND_LOOKUP_ANSWER,
          queryId: query.queryId,
          hits: answer.hits.length,
          digest: out.digest.toString('hex'),
        },
      },
    ];
    const events: NodeEventInput[] = notices.map((n, i) => ({
      type: NodeEventType.NODE_EVENT_TYPE_LOOKUP_HIT,
      caseId: '',
      traceId: '',
      peer: n.askedBy,
      state: 0,
      messageId: header.messageId,
      summary: `lookup hit by ${n.askedBy} on ${n.recordId} (${matches[i]?.entry.destroyedDate !== undefined && n.category === 0 ? 'recorded destroyed' : categoryName(n.category)}${n.partial ? ', partial' : ''}): ${n.hitId}`,
    }));
    const recirculated = recirculationOfHits(matches, notices, header.sender, now);
    await this.deps.journal.write(operations, [...audit, ...recirculated.audit], [...events, ...recirculated.events]);
    this.#logger.info({ peer: header.sender, queryId: query.queryId, hits: answer.hits.length }, 'lookup answered');
    this.emit('answered', { peer: header.sender, queryId: query.queryId, hits: answer.hits.length });
    return out.bytes;
  }

  async #auditRefusal(parsed: ParsedEnvelope, failure: TracenetError): Promise<void> {
    try {
      await this.deps.journal.write(
        [],
        [
          inboundAuditEvent('lookup.refused', parsed, {
            code: failure.codeName,
            rule: failure.rule,
            authenticated: true,
          }),
        ],
      );
    } catch (error) {
      this.#logger.error({ err: error }, 'could not audit a refused lookup');
    }
    this.#logger.warn(
      { peer: parsed.header.sender, messageId: parsed.header.messageId, code: failure.codeName, rule: failure.rule },
      'lookup refused',
    );
  }
}
