import { currentActor } from '../access/actor.js';
import type { Logger } from 'pino';
import {
  Case,
  CaseRole,
  CaseState,
  ErrorCode,
  NodeEventType,
  ReasonCode,
  type RecordsProfile,
  type TraceAnswer,
  TraceOutcome,
  TracenetError,
  type Undelivered,
} from '@tracenet/proto';
import type { AuditEvent, Journal, NodeEventInput } from '../audit/audit-log.js';
import { randomBytes } from '../crypto/sodium.js';
import type { OutboundPort } from '../ports/outbound.js';
import type { RecordFinder } from '../ports/record-finder.js';
import { padNumber, type Operation, type Store } from '../store/store.js';
import { WAITING_FOR_ACK, WAITING_FOR_ANSWER } from '../store/repositories.js';
import type { Scheduler } from '../util/scheduler.js';
import { KeyedLock } from '../util/keyed-lock.js';
import type { Approvals } from './approvals.js';
import { deadlinesOf, type PolicyStore } from './policy.js';
import { isOrganisation } from '../messages/restrictions.js';
import { isFinal, stateName } from './state-machine.js';

/** What the workflow and each of its parts are given. */
export interface WorkflowDeps {
  selfId: string;
  store: Store;
  journal: Journal;
  outbox: OutboundPort;
  policies: PolicyStore;
  /** Four-eyes approval (docs/protocol.md 12.12); absent: no step waits for approval. */
  approvals?: Approvals;
  records: RecordFinder | undefined;
  isPinned: (participantId: string) => boolean;
  /** The records profile of a pinned peer's card (docs/protocol.md 17.3); absent: none known. */
  recordsProfile?: (participantId: string) => RecordsProfile | undefined;
  /** Time, the deadline timer and the retries of automatic answers. */
  clock: Scheduler;
  logger: Logger;
  /** How often deadlines are checked; 0 disables the timer (tests call checkDeadlines). */
  deadlineCheckIntervalMs: number;
  /** First wait before an automatic answer is tried again after the records failed (default 5 s). */
  autoAnswerRetryMs?: number;
  /**
   * An automatic answer waiting this long for the records sends the requester one delay notice
   * (`registry.outageDelayAfterMs`); 0 or absent: never.
   */
  outageDelayAfterMs?: number;
}

/** Filters of {@link CaseBook.list}. */
export interface CaseFilter {
  readonly role?: CaseRole;
  readonly state?: CaseState;
  readonly peer?: string;
  readonly overdueOnly?: boolean;
  readonly limit?: number;
  readonly cursor?: string;
}

// The states in which each deadline runs are the store's: its deadline index follows them.
export { WAITING_FOR_ACK };

export const traceKey = (requester: string, traceId: string) => `t\u0000${requester}\u0000${traceId}`;
/**
 * Chain index key, scoped by the requester that chose the chain id: another peer naming the same
 * chain id in its own request does not join that chain's listing.
 */
export const chainKey = (requester: string, chainId: string, caseId: string) =>
  `c\u0000${requester}\u0000${chainId}\u0000${caseId}`;
export const newId = () => randomBytes(16).toString('base64url');

export function emptyCase(): Case {
  return Case.decode(new Uint8Array());
}

/** End of a calendar day (UTC) in Unix milliseconds. */
function endOfDay(date: string): number {
  return Date.parse(`${date}T23:59:59.999Z`);
}

/**
 * The cases of one node as every part of the workflow sees them: reading, the case lock, case
 * numbers, state moves with their timeline entry, deadlines, and the one batch that writes cases
 * with their audit entries and node events.
 */
export class CaseBook {
  readonly locks = new KeyedLock();
  readonly logger: Logger;
  #caseSeq = 0;

  constructor(private readonly deps: WorkflowDeps) {
    this.logger = deps.logger.child({ component: 'workflow' });
  }

  /** One case with its timeline. Throws NOT_FOUND. */
  async get(caseId: string): Promise<Case> {
    const c = await this.deps.store.cases.get(caseId);
    if (!c)
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no case ${caseId}`, {
        field: 'case_id',
        rule: 'exists',
      });
    return this.withPanel(c);
  }

  /**
   * Cases newest first, filtered; `overdue` is computed at the time of the call. A state or a peer
   * is read through the store's index of it; role and overdue filter the pages read.
   */
  async list(filter: CaseFilter = {}): Promise<{ cases: Case[]; nextCursor: string }> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 500);
    const now = this.deps.clock.now();
    const cases: Case[] = [];
    let token = filter.cursor ?? '';
    let after = '';
    do {
      const page = await this.deps.store.cases.page({
        ...(filter.state ? { state: filter.state } : {}),
        ...(filter.peer ? { peer: filter.peer } : {}),
        limit,
        ...(token === '' ? {} : { token }),
      });
      for (const [i, found] of page.items.entries()) {
        const c = this.withPanel(found);
        c.overdue = c.overdue || this.isOverdue(c, now);
        if (filter.role && c.role !== filter.role) continue;
        if (filter.overdueOnly && !c.overdue) continue;
        // One more case matches: the listing goes on after the last one kept.
        if (cases.length === limit) return { cases, nextCursor: after };
        c.timeline = [];
        // Photos are up to 1 MiB each (12.3): a list keeps their type and caption, GetCase their bytes.
        for (const photo of c.request?.weapon?.photos ?? []) photo.content = Buffer.alloc(0);
        cases.push(c);
        after = page.tokens[i] ?? '';
      }
      token = page.next;
    } while (token !== '');
    return { cases, nextCursor: '' };
  }

  /** Every case of the chain `caseId` belongs to, in the order they were opened. */
  async chain(caseId: string): Promise<{ chainId: string; cases: Case[] }> {
    return this.chainOf(await this.get(caseId));
  }

  /**
   * Every case of the chain of `c`, in the order they were opened, with `c` itself as given (not
   * read again): a caller that holds the case, possibly changed, sees it as it holds it.
   */
  async chainOf(c: Case): Promise<{ chainId: string; cases: Case[] }> {
    const ids: string[] = [];
    const prefix = chainKey(c.role === CaseRole.CASE_ROLE_REQUESTER ? this.deps.selfId : c.peer, c.chainId, '');
    for await (const key of this.deps.store.cases.traces.keys({ gte: prefix, lt: `${prefix}\uffff` }))
      ids.push(key.slice(prefix.length));
    // Read side by side, not one after another: a five-hop chain is read at every answer.
    const cases = await Promise.all(ids.map((caseId) => (caseId === c.caseId ? c : this.get(caseId))));
    return { chainId: c.chainId, cases };
  }

  /** Counts a stored case, so that new case ids follow the highest one. */
  countExisting(caseId: string): void {
    this.#caseSeq = Math.max(this.#caseSeq, Number(caseId.slice('case-'.length)) || 0);
  }

  nextCaseId(): string {
    this.#caseSeq += 1;
    return `case-${padNumber(this.#caseSeq, 6)}`;
  }

  move(c: Case, to: CaseState, summary: string, messageId: string, actor: string): void {
    const now = this.deps.clock.now();
    c.timeline.push({ atMs: now, fromState: c.state, toState: to, summary, messageId, actor, by: stepBy(actor) });
    c.state = to;
    c.updatedAtMs = now;
    c.overdue = this.isOverdue(c, now);
  }

  startDeadlines(c: Case): void {
    const { acknowledgeWithinMs, answerWithinMs } = deadlinesOf(this.deps.policies.get(c.peer));
    const now = this.deps.clock.now();
    c.acknowledgeDueAtMs = now + acknowledgeWithinMs;
    c.answerDueAtMs = now + answerWithinMs;
  }

  applyDelay(c: Case, delay: NonNullable<Case['delay']>): void {
    c.delay = delay;
    if (delay.expectedBy) c.answerDueAtMs = Math.max(c.answerDueAtMs, endOfDay(delay.expectedBy));
  }

  isOverdue(c: Case, now: number): boolean {
    if (isFinal(c.state)) return false;
    return (
      (WAITING_FOR_ACK.has(c.state) && c.acknowledgeDueAtMs > 0 && now > c.acknowledgeDueAtMs) ||
      (WAITING_FOR_ANSWER.has(c.state) && c.answerDueAtMs > 0 && now > c.answerDueAtMs)
    );
  }

  /** Panel requests are marked in every view of a case: the requester is an organisation. */
  withPanel(c: Case): Case {
    c.panel =
      (c.role === CaseRole.CASE_ROLE_REQUESTER && isOrganisation(this.deps.selfId)) ||
      (c.role === CaseRole.CASE_ROLE_REQUESTED && isOrganisation(c.peer));
    return c;
  }

  /**
   * Adds a timeline entry without a state change. The same note twice in a row is written once:
   * the automatic steps run again at every start (12.5) and must not repeat their note each time.
   */
  async note(caseId: string, summary: string): Promise<void> {
    await this.noteUnless(caseId, summary, () => false);
  }

  /**
   * Notes on the case that one of its messages failed for good and keeps it in
   * `Case.undelivered`, so that a list of cases shows it beside the state.
   */
  async noteUndelivered(caseId: string, summary: string, undelivered: Undelivered): Promise<void> {
    await this.locks.run(caseId, async () => {
      const c = await this.get(caseId);
      c.undelivered = undelivered;
      c.timeline.push({
        atMs: undelivered.atMs,
        fromState: c.state,
        toState: c.state,
        summary,
        messageId: undelivered.messageId,
        actor: 'local',
        by: stepBy('local'),
      });
      await this.write([c], [], NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED);
    });
  }

  /**
   * Adds a timeline entry without a state change unless `noted(c)` says the case already has it
   * (decided under the case lock, so that two steps never both write it). Returns the case as it
   * is afterwards.
   */
  async noteUnless(
    caseId: string,
    summary: string,
    noted: (c: Case) => boolean,
    extra: { operations: Operation[]; audit: AuditEvent[] } = { operations: [], audit: [] },
  ): Promise<Case> {
    return this.locks.run(caseId, async () => {
      const c = await this.get(caseId);
      if (noted(c) || c.timeline.at(-1)?.summary === summary) return c;
      c.timeline.push({
        atMs: this.deps.clock.now(),
        fromState: c.state,
        toState: c.state,
        summary,
        messageId: '',
        actor: 'local',
        by: stepBy('local'),
      });
      await this.write([c], extra.operations, NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED, extra.audit);
      return c;
    });
  }

  async write(
    cases: Case[],
    operations: Operation[],
    eventType: NodeEventType,
    audit: AuditEvent[] = [],
    auditType: AuditEvent['type'] = 'case.changed',
  ): Promise<void> {
    const first = cases[0] as Case;
    const summary = first.timeline.at(-1)?.summary ?? '';
    await this.deps.journal.write(
      [...operations, ...(await putCases(this.deps.store, cases))],
      [...audit, ...cases.map((c, i) => caseAudit(i === 0 ? auditType : 'case.changed', c))],
      cases.map((c, i) =>
        caseEvent(
          i === 0 ? eventType : NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
          c,
          c.timeline.at(-1)?.summary ?? summary,
          c.timeline.at(-1)?.messageId ?? '',
        ),
      ),
    );
  }
}

/**
 * Who on this node takes a step whose timeline actor is `actor` (TimelineEntry.by): the actor of
 * the request being handled for a local step ("officer:<id>", "client:<id>", "node", "bootstrap"),
 * '' for a peer's step.
 */
export function stepBy(actor: string): string {
  if (actor !== 'local') return '';
  const who = currentActor();
  return who.kind === 'officer' || who.kind === 'client' ? `${who.kind}:${who.id}` : who.kind;
}

/** The writes that store `cases` with their index entries (see `CasesRepository.put`). */
export async function putCases(store: Store, cases: readonly Case[]): Promise<Operation[]> {
  const operations: Operation[] = [];
  for (const c of cases) operations.push(...(await store.cases.put(c)));
  return operations;
}

export function indexOp(store: Store, key: string, caseId: string): Operation {
  return store.cases.traces.put(key, { caseId });
}

export function caseAudit(type: AuditEvent['type'], c: Case): AuditEvent {
  return {
    type,
    fields: { caseId: c.caseId, traceId: c.traceId, peer: c.peer, role: c.role, state: stateName(c.state) },
  };
}

export function caseEvent(type: NodeEventType, c: Case, summary: string, messageId: string): NodeEventInput {
  return { type, caseId: c.caseId, traceId: c.traceId, peer: c.peer, state: c.state, messageId, summary };
}

export function reasonName(reason: ReasonCode): string {
  return (ReasonCode[reason] ?? 'other').replace('REASON_CODE_', '').toLowerCase().replace(/_/g, ' ');
}

/** One line describing an answer: "referred to KEN (exported 2012-03-14 to KEN ...)". */
export function describeAnswer(answer: TraceAnswer): string {
  switch (answer.outcome) {
    case TraceOutcome.TRACE_OUTCOME_REFERRED:
      return `referred to ${answer.referral?.participant ?? '?'} (${answer.referral?.basis ?? ''})`;
    case TraceOutcome.TRACE_OUTCOME_TRACED:
      return `traced: last legal record ${answer.lastLegalRecord}${answer.pointOfDiversion ? `; point of diversion ${answer.pointOfDiversion}` : ''}`;
    case TraceOutcome.TRACE_OUTCOME_NO_RECORD:
      return 'no record';
    case TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION:
      return 'insufficient information';
    default:
      return 'answer';
  }
}
