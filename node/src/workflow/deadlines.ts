import { NodeEventType } from '@tracenet/proto';
import type { Operation } from '../store/store.js';
import type { InboxRecord } from '../store/repositories.js';
import type { Timer } from '../util/scheduler.js';
import { type CaseBook, WAITING_FOR_ACK, type WorkflowDeps, stepBy } from './case-book.js';
import { purgedAnswer } from '../messages/restrictions.js';

/**
 * The deadline monitor: marks cases whose acknowledgement or answer is overdue (docs/protocol.md
 * 12.7) and purges received information whose retention ended (14.5), on a timer while the node
 * runs.
 */
export class DeadlineMonitor {
  #timer: Timer | undefined;

  constructor(
    private readonly deps: WorkflowDeps,
    private readonly book: CaseBook,
  ) {}

  /** Starts the deadline timer, unless its interval is 0 (tests call checkDeadlines). */
  start(): void {
    if (this.deps.deadlineCheckIntervalMs > 0 && !this.#timer) {
      this.#timer = this.deps.clock
        .setInterval(() => {
          this.checkDeadlines()
            .then(() => this.purgeExpired())
            .catch((error: unknown) => this.book.logger.error({ err: error }, 'deadline check failed'));
        }, this.deps.deadlineCheckIntervalMs)
        .unref();
    }
  }

  /** Stops the timer; a sweep in progress finishes on its own. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /**
   * Marks cases whose acknowledgement or answer is overdue, with a timeline entry, an audit entry
   * and a CASE_OVERDUE event — once per case. Returns how many became overdue.
   */
  async checkDeadlines(): Promise<number> {
    const now = this.deps.clock.now();
    const late: string[] = [];
    // The cases whose next deadline has come, from the store's deadline index: not every case.
    const { items } = await this.deps.store.cases.due(now);
    for (const c of items) if (!c.overdue && this.book.isOverdue(c, now)) late.push(c.caseId);
    let marked = 0;
    for (const caseId of late) {
      await this.book.locks.run(caseId, async () => {
        const c = await this.book.get(caseId);
        if (c.overdue || !this.book.isOverdue(c, now)) return;
        const what =
          WAITING_FOR_ACK.has(c.state) && c.acknowledgeDueAtMs > 0 && now > c.acknowledgeDueAtMs
            ? 'acknowledgement'
            : 'answer';
        const due = what === 'acknowledgement' ? c.acknowledgeDueAtMs : c.answerDueAtMs;
        c.overdue = true;
        c.timeline.push({
          atMs: now,
          fromState: c.state,
          toState: c.state,
          summary: `overdue: ${what} was due ${new Date(due).toISOString()}`,
          messageId: '',
          actor: 'local',
          by: stepBy('local'),
        });
        await this.book.write([c], [], NodeEventType.NODE_EVENT_TYPE_CASE_OVERDUE, [], 'case.overdue');
        marked += 1;
      });
    }
    if (marked > 0) this.book.logger.warn({ cases: marked }, 'cases overdue');
    return marked;
  }

  /**
   * Purges received information whose retention ended (docs/protocol.md 14.5): the answer,
   * restriction and shared bodies lose their content (outcome and restrictions stay), the inbox
   * copies of the case's inbound messages lose their bodies (digest, header and signature stay as
   * evidence), and a timeline entry, a `case.purged` audit entry and a CASE_PURGED event record it.
   * Runs with the deadline sweep. Returns how many cases were purged.
   */
  async purgeExpired(): Promise<number> {
    const now = this.deps.clock.now();
    const due: string[] = [];
    for await (const c of this.deps.store.cases.all()) {
      if (c.retainUntilMs > 0 && c.purgedAtMs === 0 && now >= c.retainUntilMs) due.push(c.caseId);
    }
    if (due.length === 0) return 0;
    const inbox = new Map<string, [string, InboxRecord]>();
    for await (const [key, value] of this.deps.store.messages.inbox.entries()) {
      if (value.body !== '') inbox.set(`${value.sender}\u0000${value.messageId}`, [key, value]);
    }
    let purged = 0;
    for (const caseId of due) {
      await this.book.locks.run(caseId, async () => {
        const c = await this.book.get(caseId);
        if (c.purgedAtMs !== 0 || now < c.retainUntilMs) return;
        const operations: Operation[] = [];
        for (const entry of c.timeline) {
          const stored =
            entry.actor === c.peer && entry.messageId !== ''
              ? inbox.get(`${c.peer}\u0000${entry.messageId}`)
              : undefined;
          if (stored)
            operations.push(this.deps.store.messages.inbox.put(stored[0], { ...stored[1], body: '', purgedAtMs: now }));
        }
        if (c.answer) c.answer = purgedAnswer(c.answer);
        if (c.restriction)
          c.restriction = {
            ...c.restriction,
            explanation: '',
            partialAnswer: c.restriction.partialAnswer ? purgedAnswer(c.restriction.partialAnswer) : undefined,
          };
        if (c.shared)
          c.shared = { ...c.shared, answer: c.shared.answer ? purgedAnswer(c.shared.answer) : undefined, note: '' };
        const provider = c.shared?.provider ?? c.peer;
        c.purgedAtMs = now;
        c.updatedAtMs = now;
        c.timeline.push({
          atMs: now,
          fromState: c.state,
          toState: c.state,
          summary: `purged: retention of ${provider}'s information ended`,
          messageId: '',
          actor: 'local',
          by: stepBy('local'),
        });
        await this.book.write([c], operations, NodeEventType.NODE_EVENT_TYPE_CASE_PURGED, [], 'case.purged');
        purged += 1;
      });
    }
    if (purged > 0) this.book.logger.info({ cases: purged }, 'received information purged at the end of its retention');
    return purged;
  }
}
