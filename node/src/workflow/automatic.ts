import {
  type Case,
  CaseRole,
  CaseState,
  ReasonCode,
  type TimelineEntry,
  TracenetError,
  type WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import { NODE_ACTOR, runAs } from '../access/actor.js';
import type { OutboundFailure } from '../ports/outbound.js';
import type { Identification, SourceHealth } from '../ports/record-finder.js';
import type { Timer } from '../util/scheduler.js';
import { traceStep } from '../util/step-trace.js';
import { answerFromRecord, noRecordAnswer, requestQuery } from './auto-answer.js';
import { type CaseBook, traceKey, type WorkflowDeps } from './case-book.js';
import { workflowHandles } from './inbound.js';
import type { OfficerCommands } from './officer-commands.js';
import { kindName, sends } from './state-machine.js';

const S = CaseState;
/** First and longest wait before an automatic answer is tried again after the registry failed. */
const AUTO_RETRY_FIRST_MS = 5_000;
const AUTO_RETRY_MAX_MS = 300_000;

/**
 * The explanation of the delay notice the node sends, once per case, when an automatic answer has
 * waited `registry.outageDelayAfterMs` for the records (docs/protocol.md 12.8). A case the node
 * delayed so is still answered automatically once the records are back; a delay of an officer
 * hands the case to officers.
 */
export const RECORDS_UNAVAILABLE_DELAY = 'the records are temporarily unavailable; the answer follows when they are';

/** How the note of an outage starts: "records unavailable (UNAVAILABLE); …". */
const UNAVAILABLE_NOTE = 'records unavailable';

/**
 * The steps the per-peer policy takes without an officer (docs/protocol.md 12.5): acknowledge a
 * received request and answer it from the records, retried while the registry is down; and the
 * note on a case whose message the outbox gave up on. Each runs in the background; stop() waits.
 */
export class AutomaticSteps {
  #auto = new Set<Promise<void>>();
  /** Automatic answers waiting for the registry to come back: case id → timer and attempts so far. */
  readonly #retries = new Map<string, { timer: Timer; attempt: number }>();
  #stopped = false;

  constructor(
    private readonly deps: WorkflowDeps,
    private readonly book: CaseBook,
    private readonly commands: OfficerCommands,
  ) {
    deps.outbox.on?.('failed', (failure) => this.#track(this.#undelivered(failure)));
  }

  /** Lets retries be scheduled again after a stop. */
  start(): void {
    this.#stopped = false;
  }

  /** Runs the automatic steps of a case left waiting by a stop: a received or acknowledged request. */
  resume(c: Case): void {
    if (c.role === CaseRole.CASE_ROLE_REQUESTED && (c.state === S.CASE_STATE_RECEIVED || awaitsAutomaticAnswer(c)))
      this.run(c.caseId);
  }

  /** Cancels the retries and waits for automatic steps in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const { timer } of this.#retries.values()) timer.cancel();
    this.#retries.clear();
    await Promise.allSettled([...this.#auto]);
  }

  /**
   * Runs the automatic steps of a case in the background, as the node (docs/protocol.md 8.1), whoever
   * set them off. `stored`: the case as just committed, when the caller holds it (not read again).
   */
  run(caseId: string, stored?: Case): void {
    this.#track(
      runAs(NODE_ACTOR, () => this.#autoProcess(caseId, stored)).catch((error: unknown) =>
        this.book.logger.error({ err: error, caseId }, 'automatic step failed; the case waits for an officer'),
      ),
    );
  }

  /** Keeps a background step so that stop() waits for it. */
  #track(run: Promise<void>): void {
    this.#auto.add(run);
    void run.finally(() => this.#auto.delete(run));
  }

  /**
   * Notes on the case that one of its messages failed for good: a request the peer rejected
   * (KIND_NOT_ALLOWED, REQUEST_INCOMPLETE) would otherwise leave the case SENT with no sign why.
   * The state does not change; the officer decides (withdraw, or ask again); `Case.undelivered`
   * keeps the failure, which `tracenet trace list` shows beside the state.
   */
  async #undelivered(failure: OutboundFailure): Promise<void> {
    try {
      if (!workflowHandles(failure.kind)) return;
      const stored = await this.deps.store.outbox.failed.get(failure.messageId);
      if (!stored) return;
      const requester = sends(CaseRole.CASE_ROLE_REQUESTER, failure.kind) ? this.deps.selfId : failure.recipient;
      const caseId = await this.deps.store.cases.traced(traceKey(requester, stored.correlationId));
      if (caseId === undefined) return;
      const reason = stored.reason !== '' ? `: ${stored.reason}` : '';
      await this.book.noteUndelivered(
        caseId,
        `${kindName(failure.kind)} not delivered to ${failure.recipient}: ${failure.code}${reason}`,
        {
          what: kindName(failure.kind),
          recipient: failure.recipient,
          code: failure.code,
          reason: stored.reason,
          atMs: this.deps.clock.now(),
          messageId: failure.messageId,
        },
      );
    } catch (error) {
      this.book.logger.warn(
        { err: error, messageId: failure.messageId },
        'could not note an undelivered message on its case',
      );
    }
  }

  /** Policy-driven steps on a received request: acknowledge, then answer from records. */
  async #autoProcess(caseId: string, stored: Case | undefined): Promise<void> {
    // Every step below reads the case again under its lock: one an officer changed meanwhile is seen there.
    let c = stored ?? (await this.book.get(caseId));
    const step = () => ({ caseId, traceId: c.traceId });
    traceStep(this.book.logger, 'auto.start', step);
    const policy = this.deps.policies.get(c.peer);
    const records = this.deps.records;
    const query = requestQuery(c.request);
    const acknowledging = c.state === S.CASE_STATE_RECEIVED && policy.autoAcknowledge;
    // The search does not wait for the acknowledgement: it runs while that is stored and sent.
    const searching =
      records && query && policy.autoAnswer && !c.answer && (acknowledging || awaitsAutomaticAnswer(c))
        ? (async () => records.identify(query))()
        : undefined;
    // Awaited below only while the answer is still to be made; its failure is handled there.
    searching?.catch(() => undefined);
    if (acknowledging) c = await this.commands.acknowledge(caseId);
    if (!awaitsAutomaticAnswer(c) || !policy.autoAnswer || !records || c.answer) return;
    let found: Identification = { records: [], incomplete: [], near: [] };
    try {
      if (query) found = await (searching ?? records.identify(query));
      traceStep(this.book.logger, 'auto.searched', step);
    } catch (error) {
      const failure = TracenetError.from(error);
      if (failure.retryable) {
        await this.#retryAuto(caseId, failure);
        return;
      }
      // An unmarked weapon (no manufacturer or serial) has no composite identity to match. Any other
      // refusal comes from a registry (a mapping it refuses at its first use): not the request's fault,
      // and its text may name the registry's tables, so the note names the code and field only.
      await this.book.note(
        caseId,
        failure.field.startsWith('query.')
          ? `no composite identity to match records (${failure.message}); waiting for an officer`
          : `the records cannot be searched (${failure.codeName}${failure.field === '' ? '' : ` ${failure.field}`}); waiting for an officer`,
      );
      return;
    }
    this.#retries.delete(caseId);
    const { records: matches, incomplete, near } = found;
    if (incomplete.length > 0) {
      // A weapon the registry holds but cannot describe fully is never answered as "no record".
      const held = incomplete.map((h) => `${h.recordId} (${h.problems.map((p) => p.field).join(', ')})`);
      await this.book.note(caseId, `held but incomplete: ${held.join('; ')}; waiting for an officer`);
      return;
    }
    if (near.length > 0) {
      // A close type (a carbine for a rifle) is for an officer to judge, even beside an exact match.
      const asked = typeName(query?.type ?? 0);
      const close = near.map(
        (r) => `${r.recordId} is ${withArticle(typeName(r.manufacture?.type ?? 0))}, the request says ${asked}`,
      );
      const exact = matches.length > 0 ? ` (and ${matches.length} exact match${matches.length > 1 ? 'es' : ''})` : '';
      await this.book.note(caseId, `near match: ${close.join('; ')}${exact}; waiting for an officer`);
      return;
    }
    if (matches.length === 0) {
      // "No record" is an officer's answer unless the peer's policy opts in and every registry answers.
      const searched = policy.autoAnswerNoRecord && query ? await this.#allHealthy() : { problem: '' };
      if ('sources' in searched) {
        await this.commands.answer(caseId, noRecordAnswer(c.traceId, searched.sources), true, c.peer);
        return;
      }
      const why = searched.problem === '' ? '' : `; no automatic "no record" while ${searched.problem}`;
      await this.book.note(caseId, `no exact record match${why}; waiting for an officer`);
      return;
    }
    const answer = matches.length === 1 ? answerFromRecord(matches[0] as WeaponRecord, c.traceId) : undefined;
    if (!answer) {
      await this.book.note(caseId, `${matches.length} records match; waiting for an officer`);
      return;
    }
    await this.commands.answer(caseId, answer, true, c.peer);
  }

  /**
   * Whether every source of records answers its health check now (the condition of an automatic
   * "no record", 12.8): the sources searched, or the problem that prevents it.
   */
  async #allHealthy(): Promise<{ sources: string[] } | { problem: string }> {
    const records = this.deps.records;
    if (!records?.health) return { problem: 'the records cannot report their health' };
    let sources: readonly SourceHealth[];
    try {
      sources = await records.health();
    } catch (error) {
      return { problem: `the registry health cannot be read (${TracenetError.from(error).codeName})` };
    }
    // Only the kinds: an adapter's problem text may name hosts, which a case note does not keep.
    const down = sources.filter((s) => !s.ok).map((s) => s.kind);
    if (down.length > 0) return { problem: `the ${down.join(', ')} registry cannot answer` };
    return { sources: sources.map((s) => s.kind) };
  }

  /**
   * The registry could not answer (a PostgreSQL registry down, say): notes it on the case once per
   * outage — not at every attempt, nor at every start — and tries the automatic answer again after
   * 5 s, doubling up to 5 minutes, until it is given, an officer acts on the case, or the node stops
   * (the next start tries again, 12.5). Once the case has waited `outageDelayAfterMs` since the
   * note, the requester gets one delay notice ({@link RECORDS_UNAVAILABLE_DELAY}).
   */
  async #retryAuto(caseId: string, failure: TracenetError): Promise<void> {
    if (this.#stopped) return;
    const attempt = (this.#retries.get(caseId)?.attempt ?? 0) + 1;
    let delayMs = Math.min(
      AUTO_RETRY_MAX_MS,
      (this.deps.autoAnswerRetryMs ?? AUTO_RETRY_FIRST_MS) * 2 ** (attempt - 1),
    );
    const c = await this.book.noteUnless(
      caseId,
      `${UNAVAILABLE_NOTE} (${failure.codeName}); the automatic answer is tried again until they are`,
      (x) => outageNote(x) !== undefined,
    );
    const waitingSinceMs = outageNote(c)?.atMs ?? this.deps.clock.now();
    const delayAfterMs = this.deps.outageDelayAfterMs ?? 0;
    if (delayAfterMs > 0 && !c.delay && c.state === S.CASE_STATE_ACKNOWLEDGED) {
      const dueInMs = waitingSinceMs + delayAfterMs - this.deps.clock.now();
      if (dueInMs <= 0) await this.#delayForRecords(caseId, waitingSinceMs);
      // The next attempt comes no later than the delay is due, so that it is sent on time.
      else delayMs = Math.min(delayMs, dueInMs);
    }
    this.book.logger.warn(
      { caseId, code: failure.codeName, attempt, delayMs, waitingMs: this.deps.clock.now() - waitingSinceMs },
      'registry unavailable for an automatic answer; retrying',
    );
    // A stop may have come while the note was written: it cancelled the timers it saw.
    if (this.#stopped) return;
    const timer = this.deps.clock.setTimeout(() => this.run(caseId), delayMs).unref();
    this.#retries.set(caseId, { timer, attempt });
  }

  /** Tells the requester that the answer waits for the records (once per case: the case keeps its delay). */
  async #delayForRecords(caseId: string, waitingSinceMs: number): Promise<void> {
    try {
      await this.commands.delay(caseId, ReasonCode.REASON_CODE_OTHER, RECORDS_UNAVAILABLE_DELAY, '');
      this.book.logger.warn(
        { caseId, waitingMs: this.deps.clock.now() - waitingSinceMs },
        'the records are still unavailable: the requester was sent a delay notice',
      );
    } catch (error) {
      // An officer acted meanwhile (the state changed): the next attempt sees it and stops.
      this.book.logger.warn({ err: error, caseId }, 'could not send the delay notice for unavailable records');
    }
  }
}

/**
 * Whether the automatic answer of a requested case is still to be tried: the case is acknowledged,
 * or delayed by the node itself because the records were unavailable ({@link RECORDS_UNAVAILABLE_DELAY}).
 */
function awaitsAutomaticAnswer(c: Case): boolean {
  return (
    c.state === S.CASE_STATE_ACKNOWLEDGED ||
    (c.state === S.CASE_STATE_DELAYED &&
      c.delay?.reason === ReasonCode.REASON_CODE_OTHER &&
      c.delay.explanation === RECORDS_UNAVAILABLE_DELAY)
  );
}

/**
 * The note of the outage the case waits through, read from its timeline, so that it holds across
 * restarts: the last "records unavailable" note, unless an attempt got through since — which ends
 * in a note "…; waiting for an officer" or moves the case (an answer, an officer's step). Notes of
 * other steps (overdue, undelivered) and the move to DELAYED of the node's own delay pass.
 */
function outageNote(c: Case): TimelineEntry | undefined {
  for (let i = c.timeline.length - 1; i >= 0; i -= 1) {
    const entry = c.timeline[i] as TimelineEntry;
    const note = entry.fromState === entry.toState;
    if (note && entry.summary.startsWith(UNAVAILABLE_NOTE)) return entry;
    if (note ? entry.summary.endsWith('waiting for an officer') : entry.toState !== S.CASE_STATE_DELAYED)
      return undefined;
  }
  return undefined;
}

/** `CARBINE` for WEAPON_TYPE_CARBINE; `weapon of unknown type` for none. */
function typeName(type: WeaponType): string {
  return type === 0 ? 'weapon of unknown type' : (WeaponType[type] ?? String(type)).replace('WEAPON_TYPE_', '');
}

/** `a CARBINE`, `an ASSAULT_RIFLE`. */
function withArticle(name: string): string {
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}
