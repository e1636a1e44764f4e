import { CERTIFICATE_ID } from '../records/ddr-rules.js';
import { isCalendarDate } from '../messages/calendar-date.js';
import type { Logger } from 'pino';
import {
  ErrorCode,
  InterestCategory,
  LookupAnswer,
  type LookupHit,
  LookupOutcome,
  LookupQuery,
  type LookupRequest,
  type LookupResponse,
  MessageKind,
  type PeerLookupResult,
  TracenetError,
} from '@tracenet/proto';
import type { AuditEvent, Journal } from '../audit/audit-log.js';
import { randomBytes } from '../crypto/sodium.js';
import { sealEnvelope, type SealedEnvelope } from '../envelope/envelope.js';
import {
  EnvelopeOpener,
  NOT_AUTHENTICATED,
  NOT_AUTHENTICATED_HINT,
  preciseReason,
  type ReceiverConfig,
} from '../federation/envelope-opener.js';
import type { Peer, PeerRegistry } from '../federation/peers.js';
import type { Transport } from '../federation/transport.js';
import type { NodeIdentity } from '../identity/data-dir.js';
import type { Scheduler, Timer } from '../util/scheduler.js';
import type { LookupHistory } from './lookup-history.js';
import { lookupQueryViolations, MAX_HITS, throwViolations } from './matcher.js';

/** Deadline per peer when the request gives none, and the largest allowed. */
export const LOOKUP_DEADLINE = { defaultMs: 2_000, maxMs: 60_000 } as const;
/** How long a query envelope is valid: peers refuse it as EXPIRED after this. */
export const QUERY_TTL_MS = 60_000;
/** Slack after the deadline before the client stops waiting for a transport that ignores it. */
const GUARD_MS = 250;

/** What the lookup client needs. */
export interface LookupClientDeps {
  readonly identity: NodeIdentity;
  readonly peers: PeerRegistry;
  readonly transport: Transport;
  readonly history: LookupHistory;
  readonly journal: Journal;
  /** Time, and the guard of each peer's deadline. */
  readonly clock: Scheduler;
  readonly logger: Logger;
  readonly config: ReceiverConfig;
}

/** The verified answer of one peer. */
interface Verified {
  readonly hits: LookupHit[];
}

/**
 * The requester's side of lookups (docs/protocol.md 13.6): seals one LOOKUP_QUERY per peer, asks
 * all of them at once with a deadline each, opens and verifies every answer — sealed to this
 * node, by the peer asked, of kind LOOKUP_ANSWER, answering this query — and reports per peer
 * HIT, NO_HIT, TIMEOUT or ERROR. The queries are audited before they leave; the answers, and the
 * hits (so that a trace can be opened from one), in one batch once all peers are done.
 *
 * @example
 * ```ts
 * const response = await client.lookup({ weapon, purpose: 'seizure in Antwerp, case 12', peers: [], deadlineMs: 2000, requestingAuthority: '' });
 * response.results.filter((r) => r.outcome === LookupOutcome.LOOKUP_OUTCOME_HIT);
 * ```
 */
export class LookupClient {
  readonly #opener: EnvelopeOpener;
  readonly #logger: Logger;

  constructor(private readonly deps: LookupClientDeps) {
    this.#opener = new EnvelopeOpener(deps);
    this.#logger = deps.logger.child({ component: 'lookup-client' });
  }

  /** Runs one federated lookup. INVALID_ARGUMENT codes for a bad request; NOT_FOUND for a peer that is not pinned. */
  async lookup(request: LookupRequest): Promise<LookupResponse> {
    throwViolations(lookupQueryViolations(request, ''), 'the lookup is not valid');
    const deadlineMs = request.deadlineMs === 0 ? LOOKUP_DEADLINE.defaultMs : request.deadlineMs;
    if (deadlineMs > LOOKUP_DEADLINE.maxMs) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `deadline_ms must be at most ${LOOKUP_DEADLINE.maxMs}`,
        { field: 'deadline_ms', rule: 'range' },
      );
    }
    const peers = this.#peersOf(request.peers);
    const query: LookupQuery = {
      queryId: randomBytes(16).toString('base64url'),
      weapon: request.weapon,
      purpose: request.purpose,
      requestingAuthority: request.requestingAuthority,
    };
    const body = Buffer.from(LookupQuery.encode(query).finish());
    const now = this.deps.clock.now();
    const sealed = peers.map((peer) => ({ peer, envelope: this.#seal(peer, body, now) }));
    await this.deps.journal.write(
      [],
      sealed.map(({ peer, envelope }) => ({
        type: 'lookup.query',
        fields: {
          direction: 'out',
          peer: peer.participantId,
          messageId: envelope.messageId,
          kind: MessageKind.MESSAGE_KIND_LOOKUP_QUERY,
          queryId: query.queryId,
          digest: envelope.sealed.digest.toString('hex'),
        },
      })),
    );
    const results = await Promise.all(
      sealed.map(({ peer, envelope }) => this.#ask(peer, envelope, query.queryId, deadlineMs)),
    );
    const hits = results.flatMap((r) =>
      r.hits.map((h) => ({ owner: h.owner, reference: h.reference, partial: h.partial })),
    );
    const audit: AuditEvent[] = results.map((r) => ({
      type: 'lookup.answer',
      fields: {
        direction: 'in',
        peer: r.peer,
        queryId: query.queryId,
        outcome: outcomeName(r.outcome),
        hits: r.hits.length,
        code: r.errorCode,
        elapsedMs: r.elapsedMs,
      },
    }));
    await this.deps.journal.write(await this.deps.history.operations(query, now, hits), audit);
    const notAnswered = results.filter((r) => r.outcome === LookupOutcome.LOOKUP_OUTCOME_TIMEOUT).map((r) => r.peer);
    this.#logger.info({ queryId: query.queryId, peers: results.length, hits: hits.length, notAnswered }, 'lookup done');
    return { queryId: query.queryId, results, notAnswered };
  }

  /** The peers to ask: those named (each pinned, not this node), or every pinned peer. */
  #peersOf(names: readonly string[]): Peer[] {
    if (names.length === 0) return this.deps.peers.list();
    const peers: Peer[] = [];
    for (const name of new Set(names)) {
      if (name === this.deps.identity.participantId) {
        throw new TracenetError(
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'a node does not look up its own records through the federation; use records search',
          { field: 'peers', rule: 'not_self' },
        );
      }
      const peer = this.deps.peers.get(name);
      if (!peer)
        throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${name} is not a pinned peer`, {
          field: 'peers',
          rule: 'pinned_peer',
        });
      peers.push(peer);
    }
    return peers;
  }

  #seal(peer: Peer, body: Buffer, now: number): { messageId: string; sealed: SealedEnvelope } {
    const self = this.deps.identity;
    const messageId = randomBytes(16).toString('base64url');
    const sealed = sealEnvelope({
      sender: self.participantId,
      senderKeyId: self.keyId,
      senderSigningSecretKey: self.keys.signingSecretKey,
      recipient: peer.participantId,
      recipientKeyId: peer.body.keyId,
      pairKey: peer.pairKey,
      messageId,
      kind: MessageKind.MESSAGE_KIND_LOOKUP_QUERY,
      body,
      createdAtMs: now,
      expiresAtMs: now + QUERY_TTL_MS,
    });
    return { messageId, sealed };
  }

  async #ask(
    peer: Peer,
    envelope: { messageId: string; sealed: SealedEnvelope },
    queryId: string,
    deadlineMs: number,
  ): Promise<PeerLookupResult> {
    const started = performance.now();
    const result = (outcome: LookupOutcome, hits: LookupHit[], errorCode = ''): PeerLookupResult => ({
      peer: peer.participantId,
      outcome,
      hits,
      errorCode,
      elapsedMs: Math.round(performance.now() - started),
    });
    const transport = this.deps.transport;
    if (!transport.lookup) return result(LookupOutcome.LOOKUP_OUTCOME_ERROR, [], 'UNIMPLEMENTED');
    let guard: Timer | undefined;
    try {
      const answer = await Promise.race([
        transport.lookup(peer, envelope.sealed.bytes, { deadlineMs, tls: this.deps.identity.tls }),
        new Promise<never>((_, reject) => {
          guard = this.deps.clock.setTimeout(
            () =>
              reject(new TracenetError(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, `no answer within ${deadlineMs} ms`)),
            deadlineMs + GUARD_MS,
          );
        }),
      ]);
      const { hits } = this.#verify(answer, peer, envelope.messageId, queryId);
      return result(hits.length > 0 ? LookupOutcome.LOOKUP_OUTCOME_HIT : LookupOutcome.LOOKUP_OUTCOME_NO_HIT, hits);
    } catch (error) {
      const failure = TracenetError.from(error);
      if (failure.code === ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED)
        return result(LookupOutcome.LOOKUP_OUTCOME_TIMEOUT, []);
      const notAuthenticated = failure.rule === NOT_AUTHENTICATED.rule;
      this.#logger.warn(
        { peer: peer.participantId, queryId, code: failure.codeName, rule: failure.rule },
        notAuthenticated ? `lookup failed: ${NOT_AUTHENTICATED_HINT}` : 'lookup failed',
      );
      return result(LookupOutcome.LOOKUP_OUTCOME_ERROR, [], failure.codeName);
    } finally {
      guard?.cancel();
    }
  }

  /**
   * Opens an answer envelope: the checks of Deliver (3.5, 4.2–4.5), then that it comes from the
   * peer asked, is a LOOKUP_ANSWER correlated with the query envelope, is inside the time window
   * and signed by the peer, and that its body answers this query with hits owned by the peer.
   * Anything else is BAD_SIGNATURE (an answer that is not proof of this peer's answer), or the
   * code of the failed check.
   */
  #verify(raw: Uint8Array, peer: Peer, queryMessageId: string, queryId: string): Verified {
    const parsed = this.#opener.parse(raw);
    let opened: ReturnType<EnvelopeOpener['authenticate']>;
    try {
      opened = this.#opener.authenticate(parsed);
    } catch (error) {
      // Why this node did not authenticate an answer is its own to know: the precise reason.
      throw preciseReason(TracenetError.from(error));
    }
    const { peer: sender, sealed, senderBody } = opened;
    const { header } = parsed;
    const mismatch = (what: string, rule: string) =>
      new TracenetError(ErrorCode.ERROR_CODE_BAD_SIGNATURE, `the answer of ${peer.participantId} ${what}`, {
        field: 'answer',
        rule,
      });
    if (sender.participantId !== peer.participantId)
      throw mismatch(`comes from ${sender.participantId}`, 'answering_peer');
    if (header.kind !== MessageKind.MESSAGE_KIND_LOOKUP_ANSWER)
      throw mismatch(`is of kind ${header.kind}, not LOOKUP_ANSWER`, 'answer_kind');
    if (header.correlationId !== queryMessageId) throw mismatch('answers another query envelope', 'correlation');
    this.#opener.checkTime(header);
    // The owner's previous card in grace when it answered from the keys this query was sealed to (13.6).
    this.#opener.verifySignature(parsed, sealed, sender, senderBody);
    let answer: LookupAnswer;
    try {
      answer = LookupAnswer.decode(sealed.body);
    } catch (cause) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_MALFORMED,
        `the answer of ${peer.participantId} is not a LookupAnswer`,
        { field: 'body', rule: 'protobuf', cause },
      );
    }
    if (answer.queryId !== queryId) throw mismatch('answers another query', 'query_id');
    if (answer.hits.length > MAX_HITS)
      throw mismatch(`has ${answer.hits.length} hits, more than ${MAX_HITS}`, 'max_hits');
    for (const hit of answer.hits) {
      if (hit.owner !== peer.participantId) throw mismatch(`names ${hit.owner} as the owner of a hit`, 'hit_owner');
      if (hit.reference === '' || hit.reference.length > 64)
        throw mismatch('has a hit without a valid reference', 'hit_reference');
      // A weapon recorded as destroyed may be hit without a category (docs/protocol.md 19.5).
      if (
        (hit.category === InterestCategory.INTEREST_CATEGORY_UNSPECIFIED && !hit.recordedDestroyed) ||
        !(hit.category in InterestCategory) ||
        hit.category === InterestCategory.UNRECOGNIZED
      ) {
        throw mismatch('has a hit without a known category', 'hit_category');
      }
      if (hit.recordedDestroyed && (!isCalendarDate(hit.destroyedDate) || !CERTIFICATE_ID.test(hit.certificateId)))
        throw mismatch('has a destroyed hit without a destruction date and certificate id', 'hit_destroyed');
      if (!hit.recordedDestroyed && (hit.destroyedDate !== '' || hit.certificateId !== ''))
        throw mismatch('has a destruction date or certificate id on a hit not recorded destroyed', 'hit_destroyed');
    }
    return { hits: answer.hits };
  }
}

/** `LOOKUP_OUTCOME_HIT` → `hit`. */
export function outcomeName(outcome: LookupOutcome): string {
  return (LookupOutcome[outcome] ?? String(outcome)).replace('LOOKUP_OUTCOME_', '').toLowerCase();
}
