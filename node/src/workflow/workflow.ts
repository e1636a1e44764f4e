import type { Logger } from 'pino';
import {
  Case,
  CaseRole,
  CaseState,
  type DisclosureNotice,
  ErrorCode,
  MessageKind,
  NodeEventType,
  OnwardDisclosure,
  ReasonCode,
  type RecordQuery,
  type SharedInformation,
  type TraceAnswer,
  TraceOutcome,
  type TraceRequest,
  TracenetError,
  type UseRestrictions,
  type WeaponDescription,
  type WeaponRecord,
} from '@tracenet/proto';
import type { AuditEvent, Journal, NodeEventInput } from '../audit/audit-log.js';
import { randomBytes } from '../crypto/sodium.js';
import { isParticipantId } from '../identity/participant-id.js';
import { padNumber, type Operation, type Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { KeyedLock } from '../util/keyed-lock.js';
import { answerFromRecord } from './auto-answer.js';
import { decodeDisclosureBody, decodeWorkflowBody, DISCLOSURE_KINDS, type DisclosureBody, encodeDisclosureBody, encodeWorkflowBody, type WorkflowBody } from './messages.js';
import { deadlinesOf, type PolicyStore } from './policy.js';
import { DAY_MS, defaultRestrictions, disclosureBasis, isOrganisation, onwardName, purgedAnswer, receivedRestrictions, tighten } from './restrictions.js';
import { isFinal, kindName, nextState, sends, stateName, WORKFLOW_KINDS } from './state-machine.js';
import { validateAnswer, validateReason, validateTraceRequest, requireText } from './validation.js';

/** A message prepared for the outbox, to be written in the caller's batch. */
export interface PreparedMessage {
  readonly messageId: string;
  readonly operations: Operation[];
  readonly audit: AuditEvent[];
  /** Starts sending; call after the batch is written. */
  schedule(): void;
}

/** A message the outbox gave up on: the peer rejected it (e.g. KIND_NOT_ALLOWED) or it expired. */
export interface OutboundFailure {
  readonly messageId: string;
  readonly recipient: string;
  readonly kind: MessageKind;
  /** Error code name, e.g. KIND_NOT_ALLOWED. */
  readonly code: string;
}

/** What the workflow needs from the outbox. */
export interface OutboundPort {
  prepare(message: { recipient: string; kind: MessageKind; body: Uint8Array; correlationId: string; orderKey: string }): PreparedMessage;
  /**
   * Tells about messages that failed for good, so that the case says so on its timeline instead
   * of waiting for an acknowledgement that cannot come. Optional for fakes.
   */
  on?(event: 'failed', listener: (failure: OutboundFailure) => void): unknown;
}

/** What the workflow needs from the records for auto-answer. */
export interface RecordFinder {
  findExact(query: RecordQuery): Promise<WeaponRecord[]>;
}

/** An accepted inbound message as the receiver hands it over. */
export interface InboundMessage {
  readonly sender: string;
  readonly messageId: string;
  readonly kind: MessageKind;
  readonly body: Uint8Array;
}

/** Writes the receiver's acceptance together with the workflow's changes, atomically. */
export type CommitInbound = (operations: Operation[], audit: AuditEvent[], events: NodeEventInput[]) => Promise<void>;

/** Filters of {@link Workflow.list}. */
export interface CaseFilter {
  readonly role?: CaseRole;
  readonly state?: CaseState;
  readonly peer?: string;
  readonly overdueOnly?: boolean;
  readonly limit?: number;
  readonly cursor?: string;
}

/** An answer as an officer (or the auto-answer) gives it. */
export type AnswerInput = Omit<TraceAnswer, 'traceId' | 'automatic'>;

const S = CaseState;
const K = MessageKind;
/** Kinds that open a case on the receiving node: deny by default (docs/protocol.md 12.5). */
const OPENS_A_CASE: readonly MessageKind[] = [K.MESSAGE_KIND_TRACE_REQUEST, K.MESSAGE_KIND_SHARED_INFORMATION];
const WAITING_FOR_ACK = new Set<CaseState>([S.CASE_STATE_SENT, S.CASE_STATE_RECEIVED]);
const WAITING_FOR_ANSWER = new Set<CaseState>([S.CASE_STATE_SENT, S.CASE_STATE_RECEIVED, S.CASE_STATE_ACKNOWLEDGED, S.CASE_STATE_DELAYED, S.CASE_STATE_CLARIFICATION]);

const traceKey = (requester: string, traceId: string) => `t\u0000${requester}\u0000${traceId}`;
/**
 * Chain index key, scoped by the requester that chose the chain id: another peer naming the same
 * chain id in its own request does not join that chain's listing.
 */
const chainKey = (requester: string, chainId: string, caseId: string) => `c\u0000${requester}\u0000${chainId}\u0000${caseId}`;
/** First and longest wait before an automatic answer is tried again after the registry failed. */
const AUTO_RETRY_FIRST_MS = 5_000;
const AUTO_RETRY_MAX_MS = 300_000;
const newId = () => randomBytes(16).toString('base64url');

function emptyCase(): Case {
  return Case.decode(new Uint8Array());
}

/** End of a calendar day (UTC) in Unix milliseconds. */
function endOfDay(date: string): number {
  return Date.parse(`${date}T23:59:59.999Z`);
}

/**
 * The ITI tracing workflow of one node (docs/protocol.md section 12). It keeps cases, applies the
 * state machine to every step, sends the messages a step needs through the outbox in the same
 * batch as the case change, and takes peers' messages from the receiver in the same batch as
 * their acceptance. Per-peer policy decides who may open traces here and what happens
 * automatically; deadlines come from the same policy.
 */
export class Workflow {
  readonly #locks = new KeyedLock();
  readonly #logger: Logger;
  #caseSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #auto = new Set<Promise<void>>();
  /** Automatic answers waiting for the registry to come back: case id → timer and attempts so far. */
  readonly #retries = new Map<string, { timer: NodeJS.Timeout; attempt: number }>();
  #stopped = false;

  constructor(
    private readonly deps: {
      selfId: string;
      store: Store;
      journal: Journal;
      outbox: OutboundPort;
      policies: PolicyStore;
      records: RecordFinder | undefined;
      isPinned: (participantId: string) => boolean;
      clock: Clock;
      logger: Logger;
      /** How often deadlines are checked; 0 disables the timer (tests call checkDeadlines). */
      deadlineCheckIntervalMs: number;
      /** First wait before an automatic answer is tried again after the records failed (default 5 s). */
      autoAnswerRetryMs?: number;
    },
  ) {
    this.#logger = deps.logger.child({ component: 'workflow' });
    deps.outbox.on?.('failed', (failure) => this.#track(this.#undelivered(failure)));
  }

  /** Loads the case counter, resumes automatic steps interrupted by a stop, starts the deadline timer. */
  async start(): Promise<void> {
    this.#stopped = false;
    // The highest number, not the last key: past case-999999 the ids grow a digit and sort before it.
    for await (const value of this.deps.store.sub.cases.values()) {
      const c = decodeCase(value);
      this.#caseSeq = Math.max(this.#caseSeq, Number(c.caseId.slice('case-'.length)) || 0);
      if (c.role === CaseRole.CASE_ROLE_REQUESTED && (c.state === S.CASE_STATE_RECEIVED || c.state === S.CASE_STATE_ACKNOWLEDGED)) this.#runAuto(c.caseId);
    }
    if (this.deps.deadlineCheckIntervalMs > 0 && !this.#timer) {
      this.#timer = setInterval(() => {
        this.checkDeadlines()
          .then(() => this.purgeExpired())
          .catch((error: unknown) => this.#logger.error({ err: error }, 'deadline check failed'));
      }, this.deps.deadlineCheckIntervalMs);
      this.#timer.unref();
    }
  }

  /** Stops the timer and waits for automatic steps in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const { timer } of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
    await Promise.allSettled([...this.#auto]);
  }

  // ---- requester side -------------------------------------------------------------------

  /** Records a trace request to `recipient` as a draft, or sends it when `send` is set. */
  async createCase(recipient: string, request: TraceRequest, send: boolean): Promise<Case> {
    return this.#create(recipient, request, send, undefined);
  }

  /** Sends a draft. */
  async sendCase(caseId: string): Promise<Case> {
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_REQUEST, (c) => ({
      message: { kind: K.MESSAGE_KIND_TRACE_REQUEST, traceId: c.traceId, body: c.request as TraceRequest },
      summary: `request sent to ${c.peer}`,
      apply: (x) => this.#startDeadlines(x),
    }));
  }

  /** Answers the requested participant's open question. */
  async replyClarification(caseId: string, answer: string, weapon: WeaponDescription | undefined): Promise<Case> {
    requireText(answer, 'answer', 'the answer');
    return this.#sendStep(caseId, K.MESSAGE_KIND_CLARIFICATION_REPLY, (c) => {
      const open = c.clarifications.find((q) => q.answeredAtMs === 0);
      if (!open) throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, 'no clarification is open', { field: 'case_id', rule: 'open_clarification' });
      return {
        message: { kind: K.MESSAGE_KIND_CLARIFICATION_REPLY, traceId: c.traceId, body: { traceId: c.traceId, clarificationId: open.clarificationId, answer, weapon } },
        summary: 'clarification answered',
        apply: (x) => {
          const q = x.clarifications.find((item) => item.clarificationId === open.clarificationId);
          if (q) Object.assign(q, { answer, answeredAtMs: this.deps.clock.now() });
          if (weapon && x.request) x.request.weapon = weapon;
        },
      };
    });
  }

  /** Closes an answered, restricted or refused case with feedback. */
  async close(caseId: string, useful: boolean, feedback: string): Promise<Case> {
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_CLOSURE, (c) => {
      const closure = { traceId: c.traceId, useful, feedback };
      return { message: { kind: K.MESSAGE_KIND_TRACE_CLOSURE, traceId: c.traceId, body: closure }, summary: `closed (${useful ? 'useful' : 'not useful'})`, apply: (x) => (x.closure = closure) };
    });
  }

  /** Withdraws a request; a draft is withdrawn without any message. */
  async withdraw(caseId: string, reason: string): Promise<Case> {
    // Decided under the case lock: a draft being sent at the same moment gets a real withdrawal.
    const draft = await this.#locks.run(caseId, async () => {
      const c = await this.get(caseId);
      if (c.state !== S.CASE_STATE_DRAFT) return undefined;
      const next = nextState(c.role, c.state, K.MESSAGE_KIND_TRACE_WITHDRAWAL, 'send');
      c.withdrawal = { traceId: c.traceId, reason };
      this.#move(c, next, 'draft withdrawn', '', 'local');
      await this.#write([c], [], NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED);
      return c;
    });
    if (draft) return draft;
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_WITHDRAWAL, (c) => {
      const withdrawal = { traceId: c.traceId, reason };
      return { message: { kind: K.MESSAGE_KIND_TRACE_WITHDRAWAL, traceId: c.traceId, body: withdrawal }, summary: 'withdrawn', apply: (x) => (x.withdrawal = withdrawal) };
    });
  }

  /**
   * Opens the follow-on case to the participant that a REFERRED answer names, with the request
   * content copied, linked both ways and in the same chain. ILLEGAL_TRANSITION unless the answer
   * referred; ALREADY_EXISTS when a follow-on that is not withdrawn exists.
   */
  async followOn(caseId: string, changes: { intendedUse?: string; otherInformation?: string }, send: boolean): Promise<Case> {
    const c = await this.get(caseId);
    const referral = c.answer?.referral ?? c.restriction?.partialAnswer?.referral;
    if (c.role !== CaseRole.CASE_ROLE_REQUESTER || !referral || !(c.state === S.CASE_STATE_ANSWERED || c.state === S.CASE_STATE_RESTRICTED || c.state === S.CASE_STATE_CLOSED)) {
      throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, 'a follow-on needs a case of ours whose answer referred the trace to another participant', {
        field: 'case_id',
        rule: 'referred_answer',
      });
    }
    const request = c.request as TraceRequest;
    const weapon = request.weapon ? { ...request.weapon } : undefined;
    if (weapon && changes.otherInformation) weapon.otherInformation = [weapon.otherInformation, changes.otherInformation].filter((s) => s !== '').join('\n');
    return this.#create(
      referral.participant,
      { ...request, weapon, intendedUse: changes.intendedUse || request.intendedUse, previousTraceId: c.traceId, chainId: c.chainId },
      send,
      c,
    );
  }

  // ---- requested side -------------------------------------------------------------------

  /** Acknowledges a received request; assigns a case reference when none is given. */
  async acknowledge(caseId: string, reference = ''): Promise<Case> {
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, (c) => {
      const local = reference || `${this.deps.selfId.replace('org:', '')}-${new Date(this.deps.clock.now()).getUTCFullYear()}-${c.caseId.slice('case-'.length)}`;
      return {
        message: {
          kind: K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
          traceId: c.traceId,
          body: { traceId: c.traceId, requesterCaseReference: c.peerReference, requestedCaseReference: local },
        },
        summary: `acknowledged as ${local}`,
        apply: (x) => (x.localReference = local),
      };
    });
  }

  /** Answers a received request. */
  async answer(caseId: string, input: AnswerInput, automatic = false): Promise<Case> {
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_ANSWER, (c) => {
      const answer: TraceAnswer = { ...input, traceId: c.traceId, automatic, restrictions: this.#answerRestrictions(c, input.restrictions, 'restrictions') };
      validateAnswer(answer, 'answer');
      return { message: { kind: K.MESSAGE_KIND_TRACE_ANSWER, traceId: c.traceId, body: answer }, summary: `answered: ${describeAnswer(answer)}`, apply: (x) => (x.answer = answer) };
    });
  }

  /** Tells the requester the answer will be late, and why. */
  async delay(caseId: string, reason: ReasonCode, explanation: string, expectedBy: string): Promise<Case> {
    validateReason(reason, explanation, 'delay');
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_DELAY, (c) => {
      const delay = { traceId: c.traceId, reason, explanation, expectedBy };
      return { message: { kind: K.MESSAGE_KIND_TRACE_DELAY, traceId: c.traceId, body: delay }, summary: `delayed: ${reasonName(reason)}`, apply: (x) => this.#applyDelay(x, delay) };
    });
  }

  /** Answers with part of the information only, and says why. */
  async restrict(caseId: string, reason: ReasonCode, explanation: string, partial: AnswerInput | undefined): Promise<Case> {
    validateReason(reason, explanation, 'restriction');
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_RESTRICTION, (c) => {
      const partialAnswer = partial
        ? { ...partial, traceId: c.traceId, automatic: false, restrictions: this.#answerRestrictions(c, partial.restrictions, 'partial_answer.restrictions') }
        : undefined;
      if (partialAnswer) validateAnswer(partialAnswer, 'partial_answer');
      const restriction = { traceId: c.traceId, reason, explanation, partialAnswer };
      return { message: { kind: K.MESSAGE_KIND_TRACE_RESTRICTION, traceId: c.traceId, body: restriction }, summary: `restricted: ${reasonName(reason)}`, apply: (x) => (x.restriction = restriction) };
    });
  }

  /** Refuses a received request, with its reason. */
  async refuse(caseId: string, reason: ReasonCode, explanation: string): Promise<Case> {
    validateReason(reason, explanation, 'refusal');
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_REFUSAL, (c) => {
      const refusal = { traceId: c.traceId, reason, explanation };
      return { message: { kind: K.MESSAGE_KIND_TRACE_REFUSAL, traceId: c.traceId, body: refusal }, summary: `refused: ${reasonName(reason)}`, apply: (x) => (x.refusal = refusal) };
    });
  }

  /** Asks the requester a question. */
  async requestClarification(caseId: string, question: string): Promise<Case> {
    requireText(question, 'question', 'the question');
    return this.#sendStep(caseId, K.MESSAGE_KIND_CLARIFICATION_REQUEST, (c) => {
      const clarificationId = newId();
      return {
        message: { kind: K.MESSAGE_KIND_CLARIFICATION_REQUEST, traceId: c.traceId, body: { traceId: c.traceId, clarificationId, question } },
        summary: 'clarification requested',
        apply: (x) => x.clarifications.push({ clarificationId, question, answer: '', askedAtMs: this.deps.clock.now(), answeredAtMs: 0 }),
      };
    });
  }

  // ---- reading ----------------------------------------------------------------------------

  /** One case with its timeline. Throws NOT_FOUND. */
  async get(caseId: string): Promise<Case> {
    const value = await this.deps.store.sub.cases.get(caseId);
    if (!value) throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no case ${caseId}`, { field: 'case_id', rule: 'exists' });
    return this.#withPanel(decodeCase(value));
  }

  /** Cases newest first, filtered; `overdue` is computed at the time of the call. */
  async list(filter: CaseFilter = {}): Promise<{ cases: Case[]; nextCursor: string }> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 500);
    const now = this.deps.clock.now();
    const cases: Case[] = [];
    const range = filter.cursor ? { lt: filter.cursor, reverse: true } : { reverse: true };
    for await (const [key, value] of this.deps.store.sub.cases.iterator(range)) {
      const c = this.#withPanel(decodeCase(value));
      c.overdue = c.overdue || this.#isOverdue(c, now);
      if (filter.role && c.role !== filter.role) continue;
      if (filter.state && c.state !== filter.state) continue;
      if (filter.peer && c.peer !== filter.peer) continue;
      if (filter.overdueOnly && !c.overdue) continue;
      if (cases.length === limit) return { cases, nextCursor: cases.at(-1)?.caseId ?? key };
      c.timeline = [];
      cases.push(c);
    }
    return { cases, nextCursor: '' };
  }

  /** Every case of the chain `caseId` belongs to, in the order they were opened. */
  async chain(caseId: string): Promise<{ chainId: string; cases: Case[] }> {
    const c = await this.get(caseId);
    const cases: Case[] = [];
    const prefix = chainKey(c.role === CaseRole.CASE_ROLE_REQUESTER ? this.deps.selfId : c.peer, c.chainId, '');
    for await (const key of this.deps.store.sub['case-traces'].keys({ gte: prefix, lt: `${prefix}\uffff` })) {
      cases.push(await this.get(key.slice(prefix.length)));
    }
    return { chainId: c.chainId, cases };
  }

  // ---- deadlines ---------------------------------------------------------------------------

  /**
   * Marks cases whose acknowledgement or answer is overdue, with a timeline entry, an audit entry
   * and a CASE_OVERDUE event — once per case. Returns how many became overdue.
   */
  async checkDeadlines(): Promise<number> {
    const now = this.deps.clock.now();
    const late: string[] = [];
    for await (const value of this.deps.store.sub.cases.values()) {
      const c = decodeCase(value);
      if (!c.overdue && this.#isOverdue(c, now)) late.push(c.caseId);
    }
    let marked = 0;
    for (const caseId of late) {
      await this.#locks.run(caseId, async () => {
        const c = await this.get(caseId);
        if (c.overdue || !this.#isOverdue(c, now)) return;
        const what = WAITING_FOR_ACK.has(c.state) && c.acknowledgeDueAtMs > 0 && now > c.acknowledgeDueAtMs ? 'acknowledgement' : 'answer';
        const due = what === 'acknowledgement' ? c.acknowledgeDueAtMs : c.answerDueAtMs;
        c.overdue = true;
        c.timeline.push({ atMs: now, fromState: c.state, toState: c.state, summary: `overdue: ${what} was due ${new Date(due).toISOString()}`, messageId: '', actor: 'local' });
        await this.#write([c], [], NodeEventType.NODE_EVENT_TYPE_CASE_OVERDUE, [], 'case.overdue');
        marked += 1;
      });
    }
    if (marked > 0) this.#logger.warn({ cases: marked }, 'cases overdue');
    return marked;
  }

  // ---- inbound -----------------------------------------------------------------------------

  /** The workflow takes the ITI message kinds; the receiver handles the others itself. */
  handles(kind: MessageKind): boolean {
    return WORKFLOW_KINDS.includes(kind) || DISCLOSURE_KINDS.includes(kind);
  }

  /**
   * Takes a peer's workflow message. Throws (and so rejects the message with a signed receipt)
   * when the content is incomplete, the peer may not open traces here, the case is unknown or
   * closed, or the step is illegal in the case's state. Otherwise commits the acceptance and the
   * case change in one batch.
   */
  async accept(message: InboundMessage, commit: CommitInbound): Promise<void> {
    // Access control before content: a peer that may not open cases here learns nothing more.
    if (OPENS_A_CASE.includes(message.kind)) this.#requireAcceptsRequests(message.sender, message.kind);
    if (DISCLOSURE_KINDS.includes(message.kind)) {
      await this.#acceptDisclosure(message, decodeDisclosureBody(message.kind, message.body), commit);
      return;
    }
    const decoded = decodeWorkflowBody(message.kind, message.body);
    if (decoded.kind === K.MESSAGE_KIND_TRACE_REQUEST) {
      await this.#acceptRequest(message, decoded.body, commit);
      return;
    }
    const fromRequester = sends(CaseRole.CASE_ROLE_REQUESTER, decoded.kind);
    const requester = fromRequester ? message.sender : this.deps.selfId;
    const unknown = () => new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no trace ${decoded.traceId} with ${message.sender}`, { field: 'body.trace_id', rule: 'known_trace' });
    const index = await this.deps.store.sub['case-traces'].get(traceKey(requester, decoded.traceId));
    if (!index) throw unknown();
    const caseId = String(index.caseId);
    await this.#locks.run(caseId, async () => {
      const c = await this.get(caseId);
      if (c.peer !== message.sender) throw unknown();
      const next = nextState(c.role, c.state, decoded.kind, 'receive');
      const summary = this.#applyInbound(c, decoded);
      this.#move(c, next, summary, message.messageId, message.sender);
      await commit([putCase(this.deps.store, c)], [caseAudit('case.changed', c)], [caseEvent(NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED, c, summary, message.messageId)]);
    });
  }

  /** Deny by default: only a peer whose policy says accept_requests may open cases here. */
  #requireAcceptsRequests(sender: string, kind: MessageKind): void {
    if (!this.deps.policies.get(sender).acceptRequests) {
      throw new TracenetError(ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED, `${this.deps.selfId} does not accept ${kindName(kind)} messages from ${sender} (peer policy: requests refused)`, {
        field: 'header.kind',
        rule: 'peer_policy',
      });
    }
  }

  async #acceptRequest(message: InboundMessage, request: TraceRequest, commit: CommitInbound): Promise<void> {
    const key = traceKey(message.sender, request.traceId);
    let created: Case | undefined;
    await this.#locks.run(key, async () => {
      if (await this.deps.store.sub['case-traces'].get(key)) {
        throw new TracenetError(ErrorCode.ERROR_CODE_ALREADY_EXISTS, `trace ${request.traceId} of ${message.sender} exists already`, { field: 'body.trace_id', rule: 'unique_trace' });
      }
      const now = this.deps.clock.now();
      const c = emptyCase();
      Object.assign(c, {
        caseId: this.#nextCaseId(),
        role: CaseRole.CASE_ROLE_REQUESTED,
        traceId: request.traceId,
        peer: message.sender,
        state: S.CASE_STATE_RECEIVED,
        request,
        peerReference: request.caseReference,
        createdAtMs: now,
        updatedAtMs: now,
        chainId: request.chainId || request.traceId,
      });
      this.#startDeadlines(c);
      const summary = `request received from ${message.sender} (${request.caseReference})`;
      c.timeline.push({ atMs: now, fromState: S.CASE_STATE_UNSPECIFIED, toState: c.state, summary, messageId: message.messageId, actor: message.sender });
      await commit(
        [putCase(this.deps.store, c), indexOp(this.deps.store, key, c.caseId), indexOp(this.deps.store, chainKey(message.sender, c.chainId, c.caseId), c.caseId)],
        [caseAudit('case.created', c)],
        [caseEvent(NodeEventType.NODE_EVENT_TYPE_CASE_CREATED, c, summary, message.messageId)],
      );
      created = c;
    });
    if (created) this.#runAuto(created.caseId);
  }

  #applyInbound(c: Case, decoded: Exclude<WorkflowBody, { kind: MessageKind.MESSAGE_KIND_TRACE_REQUEST }>): string {
    switch (decoded.kind) {
      case K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT:
        c.peerReference = decoded.body.requestedCaseReference;
        return `acknowledged by ${c.peer} as ${decoded.body.requestedCaseReference}`;
      case K.MESSAGE_KIND_CLARIFICATION_REQUEST:
        c.clarifications.push({ clarificationId: decoded.body.clarificationId, question: decoded.body.question, answer: '', askedAtMs: this.deps.clock.now(), answeredAtMs: 0 });
        return `clarification requested by ${c.peer}`;
      case K.MESSAGE_KIND_CLARIFICATION_REPLY: {
        const open = c.clarifications.find((q) => q.clarificationId === decoded.body.clarificationId && q.answeredAtMs === 0);
        if (!open) throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'the reply names no open clarification', { field: 'body.clarification_id', rule: 'open_clarification' });
        Object.assign(open, { answer: decoded.body.answer, answeredAtMs: this.deps.clock.now() });
        if (decoded.body.weapon && c.request) c.request.weapon = decoded.body.weapon;
        return `clarification answered by ${c.peer}`;
      }
      case K.MESSAGE_KIND_TRACE_ANSWER:
        c.answer = this.#holdReceived(c, decoded.body);
        return `answer from ${c.peer}: ${describeAnswer(decoded.body)}`;
      case K.MESSAGE_KIND_TRACE_DELAY:
        this.#applyDelay(c, decoded.body);
        return `delayed by ${c.peer}: ${reasonName(decoded.body.reason)}`;
      case K.MESSAGE_KIND_TRACE_RESTRICTION: {
        const partialAnswer = decoded.body.partialAnswer ? this.#holdReceived(c, decoded.body.partialAnswer) : undefined;
        c.restriction = { ...decoded.body, partialAnswer };
        return `restricted by ${c.peer}: ${reasonName(decoded.body.reason)}`;
      }
      case K.MESSAGE_KIND_TRACE_REFUSAL:
        c.refusal = decoded.body;
        return `refused by ${c.peer}: ${reasonName(decoded.body.reason)}`;
      case K.MESSAGE_KIND_TRACE_WITHDRAWAL:
        c.withdrawal = decoded.body;
        return `withdrawn by ${c.peer}`;
      case K.MESSAGE_KIND_TRACE_CLOSURE:
        c.closure = decoded.body;
        return `closed by ${c.peer} (${decoded.body.useful ? 'useful' : 'not useful'})`;
    }
  }

  // ---- use restrictions, consent and disclosure (docs/protocol.md section 14) ---------------

  /**
   * Passes the answer of one of our cases on to `third` (e.g. a UN panel), when the answer's use
   * restrictions list it or the provider granted consent for it; otherwise DISCLOSURE_NOT_ALLOWED
   * and nothing is sent. One batch records the disclosure and sends SharedInformation to the third
   * participant and a DisclosureNotice to the provider.
   */
  async shareCase(caseId: string, third: string, note: string): Promise<Case> {
    this.#requireThird(third, true);
    return this.#sideStep(caseId, (c) => {
      const answer = this.#heldAnswer(c);
      if (third === c.peer) throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${third} gave the information`, { field: 'third_participant', rule: 'third_party' });
      const restrictions = answer.restrictions as UseRestrictions;
      const basis = disclosureBasis(restrictions, c.consents, third, c.peer);
      const now = this.deps.clock.now();
      // The third participant holds the information no longer than we may.
      const left = c.retainUntilMs > 0 ? Math.max(1, Math.ceil((c.retainUntilMs - now) / DAY_MS)) : restrictions.retentionDays;
      const shared: SharedInformation = { provider: c.peer, providerTraceId: c.traceId, answer, restrictions: { ...restrictions, retentionDays: Math.min(left, restrictions.retentionDays) }, note };
      return {
        messages: [
          { recipient: c.peer, message: { kind: K.MESSAGE_KIND_DISCLOSURE_NOTICE, traceId: c.traceId, body: { traceId: c.traceId, thirdParticipant: third, disclosedAtMs: now, basis } } },
          { recipient: third, message: { kind: K.MESSAGE_KIND_SHARED_INFORMATION, traceId: c.traceId, body: shared } },
        ],
        summary: `disclosed to ${third} (${basis}); ${c.peer} notified`,
        apply: (x, ids) => x.disclosures.push({ thirdParticipant: third, disclosedAtMs: now, basis, messageId: ids[1] ?? '' }),
        audit: [{ type: 'case.disclosed', fields: { caseId: c.caseId, traceId: c.traceId, provider: c.peer, third, basis } }],
      };
    });
  }

  /** Asks the provider of an answer to consent to its disclosure to `third` (requester side). */
  async requestConsent(caseId: string, third: string, reason: string): Promise<Case> {
    this.#requireThird(third, false);
    requireText(reason, 'reason', 'the reason', 5000);
    return this.#sideStep(caseId, (c) => {
      this.#heldAnswer(c);
      if (third === c.peer) throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${third} gave the information`, { field: 'third_participant', rule: 'third_party' });
      const consentId = newId();
      return {
        messages: [{ recipient: c.peer, message: { kind: K.MESSAGE_KIND_CONSENT_REQUEST, traceId: c.traceId, body: { traceId: c.traceId, consentId, thirdParticipant: third, reason } } }],
        summary: `consent asked of ${c.peer} to disclose to ${third}`,
        apply: (x) => x.consents.push({ consentId, thirdParticipant: third, reason, requestedAtMs: this.deps.clock.now(), decidedAtMs: 0, granted: false, conditions: '' }),
        audit: [{ type: 'consent.requested', fields: { caseId: c.caseId, traceId: c.traceId, peer: c.peer, consentId, third } }],
      };
    });
  }

  /**
   * Grants or refuses an open consent request of the requester (requested side). An empty
   * `consentId` names the only open request.
   */
  async decideConsent(caseId: string, consentId: string, granted: boolean, conditions: string): Promise<Case> {
    return this.#sideStep(caseId, (c) => {
      if (c.role !== CaseRole.CASE_ROLE_REQUESTED) throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, 'only the provider of an answer decides on consent', { field: 'case_id', rule: 'provider_decides' });
      const open = c.consents.filter((x) => x.decidedAtMs === 0 && (consentId === '' || x.consentId === consentId));
      const consent = open[0];
      if (!consent || (consentId === '' && open.length > 1)) {
        throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, consentId === '' && open.length > 1 ? 'several consent requests are open; name one' : 'no such open consent request', {
          field: 'consent_id',
          rule: 'open_consent',
        });
      }
      const id = consent.consentId;
      return {
        messages: [{ recipient: c.peer, message: { kind: K.MESSAGE_KIND_CONSENT_DECISION, traceId: c.traceId, body: { traceId: c.traceId, consentId: id, granted, conditions } } }],
        summary: `consent ${granted ? 'granted' : 'refused'} to ${c.peer} for ${consent.thirdParticipant}`,
        apply: (x) => {
          const item = x.consents.find((y) => y.consentId === id);
          if (item) Object.assign(item, { decidedAtMs: this.deps.clock.now(), granted, conditions });
        },
        audit: [{ type: 'consent.decided', fields: { caseId: c.caseId, traceId: c.traceId, peer: c.peer, consentId: id, third: consent.thirdParticipant, granted } }],
      };
    });
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
    for await (const value of this.deps.store.sub.cases.values()) {
      const c = decodeCase(value);
      if (c.retainUntilMs > 0 && c.purgedAtMs === 0 && now >= c.retainUntilMs) due.push(c.caseId);
    }
    if (due.length === 0) return 0;
    const inbox = new Map<string, [string, Record<string, unknown>]>();
    for await (const [key, value] of this.deps.store.sub.inbox.iterator()) {
      if (value.body !== '') inbox.set(`${String(value.sender)}\u0000${String(value.messageId)}`, [key, value]);
    }
    let purged = 0;
    for (const caseId of due) {
      await this.#locks.run(caseId, async () => {
        const c = await this.get(caseId);
        if (c.purgedAtMs !== 0 || now < c.retainUntilMs) return;
        const operations: Operation[] = [];
        for (const entry of c.timeline) {
          const stored = entry.actor === c.peer && entry.messageId !== '' ? inbox.get(`${c.peer}\u0000${entry.messageId}`) : undefined;
          if (stored) operations.push({ type: 'put', sublevel: this.deps.store.sub.inbox, key: stored[0], value: { ...stored[1], body: '', purgedAtMs: now } });
        }
        if (c.answer) c.answer = purgedAnswer(c.answer);
        if (c.restriction) c.restriction = { ...c.restriction, explanation: '', partialAnswer: c.restriction.partialAnswer ? purgedAnswer(c.restriction.partialAnswer) : undefined };
        if (c.shared) c.shared = { ...c.shared, answer: c.shared.answer ? purgedAnswer(c.shared.answer) : undefined, note: '' };
        const provider = c.shared?.provider ?? c.peer;
        c.purgedAtMs = now;
        c.updatedAtMs = now;
        c.timeline.push({ atMs: now, fromState: c.state, toState: c.state, summary: `purged: retention of ${provider}'s information ended`, messageId: '', actor: 'local' });
        await this.#write([c], operations, NodeEventType.NODE_EVENT_TYPE_CASE_PURGED, [], 'case.purged');
        purged += 1;
      });
    }
    if (purged > 0) this.#logger.info({ cases: purged }, 'received information purged at the end of its retention');
    return purged;
  }

  /** The restrictions of an answer we give: the policy's defaults for the peer, tightened by the officer. */
  #answerRestrictions(c: Case, change: UseRestrictions | undefined, prefix: string): UseRestrictions {
    return tighten(defaultRestrictions(c.peer, this.deps.policies.get(c.peer), c.request?.intendedUse ?? ''), change, prefix);
  }

  /** A received answer with its restrictions settled, and the case's retention started. */
  #holdReceived(c: Case, answer: TraceAnswer): TraceAnswer {
    const restrictions = receivedRestrictions(answer, c.request?.intendedUse ?? '');
    c.retainUntilMs = this.deps.clock.now() + restrictions.retentionDays * DAY_MS;
    return { ...answer, restrictions };
  }

  /** The answer a requester case holds, which it may ask to share or share. */
  #heldAnswer(c: Case): TraceAnswer {
    const answer = c.answer ?? c.restriction?.partialAnswer;
    const held = c.state === S.CASE_STATE_ANSWERED || c.state === S.CASE_STATE_RESTRICTED || c.state === S.CASE_STATE_CLOSED;
    if (c.role !== CaseRole.CASE_ROLE_REQUESTER || !held || !answer) {
      throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, 'only an answer this node received in one of its traces can be shared', { field: 'case_id', rule: 'answer_received' });
    }
    if (c.purgedAtMs > 0) throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, 'the answer was purged at the end of its retention', { field: 'case_id', rule: 'purged' });
    return answer;
  }

  #requireThird(third: string, pinned: boolean): void {
    if (!isParticipantId(third)) throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'third_participant must be a participant id', { field: 'third_participant', rule: 'participant_id' });
    if (third === this.deps.selfId) throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'a node cannot share with itself', { field: 'third_participant', rule: 'third_party' });
    if (pinned && !this.deps.isPinned(third)) throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${third} is not a pinned peer`, { field: 'third_participant', rule: 'pinned_peer' });
  }

  /** Panel requests are marked in every view of a case: the requester is an organisation. */
  #withPanel(c: Case): Case {
    c.panel = (c.role === CaseRole.CASE_ROLE_REQUESTER && isOrganisation(this.deps.selfId)) || (c.role === CaseRole.CASE_ROLE_REQUESTED && isOrganisation(c.peer));
    return c;
  }

  /** A local step beside the state machine: its messages and the case change in one batch. */
  async #sideStep(
    caseId: string,
    build: (c: Case) => { messages: Array<{ recipient: string; message: DisclosureBody }>; summary: string; apply: (c: Case, messageIds: string[]) => void; audit: AuditEvent[] },
  ): Promise<Case> {
    return this.#locks.run(caseId, async () => {
      const c = await this.get(caseId);
      if (c.state === S.CASE_STATE_WITHDRAWN) throw new TracenetError(ErrorCode.ERROR_CODE_CASE_CLOSED, 'the case is withdrawn', { field: 'case_id', rule: 'case_open' });
      const { messages, summary, apply, audit } = build(c);
      const prepared = messages.map((m) =>
        this.deps.outbox.prepare({ recipient: m.recipient, kind: m.message.kind, body: encodeDisclosureBody(m.message), correlationId: c.traceId, orderKey: c.traceId }),
      );
      apply(
        c,
        prepared.map((p) => p.messageId),
      );
      const now = this.deps.clock.now();
      c.timeline.push({ atMs: now, fromState: c.state, toState: c.state, summary, messageId: prepared[0]?.messageId ?? '', actor: 'local' });
      c.updatedAtMs = now;
      await this.#write([c], prepared.flatMap((p) => p.operations), NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED, [...prepared.flatMap((p) => p.audit), ...audit]);
      for (const p of prepared) p.schedule();
      return c;
    });
  }

  /**
   * A peer's consent request, consent decision, disclosure notice or shared information. They do
   * not move the case's state; each has its own checks: only the requester asks and notifies, only
   * the provider decides, a decision answers an open request, and all need an answered case.
   */
  async #acceptDisclosure(message: InboundMessage, decoded: DisclosureBody, commit: CommitInbound): Promise<void> {
    const now = this.deps.clock.now();
    if (decoded.kind === K.MESSAGE_KIND_SHARED_INFORMATION) {
      const shared = decoded.body;
      const c = emptyCase();
      Object.assign(c, {
        caseId: this.#nextCaseId(),
        role: CaseRole.CASE_ROLE_SHARED,
        traceId: shared.providerTraceId,
        peer: message.sender,
        state: S.CASE_STATE_RECEIVED,
        shared,
        createdAtMs: now,
        updatedAtMs: now,
        retainUntilMs: now + (shared.restrictions?.retentionDays ?? 1) * DAY_MS,
      });
      const summary = `information of ${shared.provider} shared by ${message.sender}`;
      c.timeline.push({ atMs: now, fromState: S.CASE_STATE_UNSPECIFIED, toState: c.state, summary, messageId: message.messageId, actor: message.sender });
      await commit([putCase(this.deps.store, c)], [caseAudit('case.created', c)], [caseEvent(NodeEventType.NODE_EVENT_TYPE_CASE_CREATED, c, summary, message.messageId)]);
      return;
    }
    const fromRequester = decoded.kind !== K.MESSAGE_KIND_CONSENT_DECISION;
    const unknown = () => new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no trace ${decoded.traceId} with ${message.sender}`, { field: 'body.trace_id', rule: 'known_trace' });
    const index = await this.deps.store.sub['case-traces'].get(traceKey(fromRequester ? message.sender : this.deps.selfId, decoded.traceId));
    if (!index) throw unknown();
    const caseId = String(index.caseId);
    await this.#locks.run(caseId, async () => {
      const c = await this.get(caseId);
      if (c.peer !== message.sender) throw unknown();
      // Named like the state machine's refusals (docs/protocol.md 12.3): the field is the case.
      if (c.state === S.CASE_STATE_WITHDRAWN) throw new TracenetError(ErrorCode.ERROR_CODE_CASE_CLOSED, 'the case is withdrawn', { field: 'case_id', rule: 'case_open' });
      if (!(c.state === S.CASE_STATE_ANSWERED || c.state === S.CASE_STATE_RESTRICTED || c.state === S.CASE_STATE_CLOSED)) {
        throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, `a ${kindName(decoded.kind)} needs an answered case; the case is ${stateName(c.state)}`, {
          field: 'case_id',
          rule: `${stateName(c.state)}+${kindName(decoded.kind).replace(/ /g, '_')}`,
        });
      }
      let summary: string;
      let audit: AuditEvent;
      let eventType = NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED;
      const fields = { caseId: c.caseId, traceId: c.traceId, peer: c.peer };
      switch (decoded.kind) {
        case K.MESSAGE_KIND_CONSENT_REQUEST: {
          const b = decoded.body;
          if (c.consents.some((x) => x.consentId === b.consentId)) throw new TracenetError(ErrorCode.ERROR_CODE_ALREADY_EXISTS, `consent request ${b.consentId} exists already`, { field: 'body.consent_id', rule: 'unique_consent' });
          c.consents.push({ consentId: b.consentId, thirdParticipant: b.thirdParticipant, reason: b.reason, requestedAtMs: now, decidedAtMs: 0, granted: false, conditions: '' });
          summary = `${c.peer} asks consent to disclose our answer to ${b.thirdParticipant}`;
          audit = { type: 'consent.requested', fields: { ...fields, consentId: b.consentId, third: b.thirdParticipant } };
          break;
        }
        case K.MESSAGE_KIND_CONSENT_DECISION: {
          const b = decoded.body;
          const open = c.consents.find((x) => x.consentId === b.consentId && x.decidedAtMs === 0);
          if (!open) throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'the decision names no open consent request', { field: 'body.consent_id', rule: 'open_consent' });
          Object.assign(open, { decidedAtMs: now, granted: b.granted, conditions: b.conditions });
          summary = `${c.peer} ${b.granted ? 'granted' : 'refused'} consent to disclose to ${open.thirdParticipant}`;
          audit = { type: 'consent.decided', fields: { ...fields, consentId: b.consentId, third: open.thirdParticipant, granted: b.granted } };
          break;
        }
        default: {
          const b = decoded.body as DisclosureNotice;
          const given = c.answer?.restrictions ?? c.restriction?.partialAnswer?.restrictions;
          // A notice cannot undo a disclosure; one without a basis we gave is recorded as such.
          const authorised =
            (b.basis === 'listed' && given?.onwardDisclosure === OnwardDisclosure.ONWARD_DISCLOSURE_LISTED && given.listedParticipants.includes(b.thirdParticipant)) ||
            c.consents.some((x) => b.basis === `consent:${x.consentId}` && x.granted && x.thirdParticipant === b.thirdParticipant);
          c.disclosures.push({ thirdParticipant: b.thirdParticipant, disclosedAtMs: b.disclosedAtMs, basis: b.basis, messageId: message.messageId });
          summary = `${c.peer} disclosed our answer to ${b.thirdParticipant} (${b.basis}${authorised ? '' : '; not a basis we gave'})`;
          audit = { type: 'disclosure.notified', fields: { ...fields, third: b.thirdParticipant, basis: b.basis, authorised, onward: onwardName(given?.onwardDisclosure ?? 0) } };
          eventType = NodeEventType.NODE_EVENT_TYPE_DISCLOSURE_NOTIFIED;
        }
      }
      c.timeline.push({ atMs: now, fromState: c.state, toState: c.state, summary, messageId: message.messageId, actor: message.sender });
      c.updatedAtMs = now;
      await commit([putCase(this.deps.store, c)], [audit, caseAudit('case.changed', c)], [caseEvent(eventType, c, summary, message.messageId)]);
    });
  }

  // ---- automatic steps ---------------------------------------------------------------------

  #runAuto(caseId: string): void {
    this.#track(this.#autoProcess(caseId).catch((error: unknown) => this.#logger.error({ err: error, caseId }, 'automatic step failed; the case waits for an officer')));
  }

  /** Keeps a background step so that stop() waits for it. */
  #track(run: Promise<void>): void {
    this.#auto.add(run);
    void run.finally(() => this.#auto.delete(run));
  }

  /**
   * Notes on the case that one of its messages failed for good: a request the peer rejected
   * (KIND_NOT_ALLOWED, REQUEST_INCOMPLETE) would otherwise leave the case SENT with no sign why.
   * The state does not change; the officer decides (withdraw, or ask again).
   */
  async #undelivered(failure: OutboundFailure): Promise<void> {
    try {
      if (!this.handles(failure.kind)) return;
      const stored = await this.deps.store.sub.failed.get(failure.messageId);
      if (!stored) return;
      const requester = sends(CaseRole.CASE_ROLE_REQUESTER, failure.kind) ? this.deps.selfId : failure.recipient;
      const index = await this.deps.store.sub['case-traces'].get(traceKey(requester, String(stored.correlationId)));
      if (!index) return;
      const reason = typeof stored.reason === 'string' && stored.reason !== '' ? `: ${stored.reason}` : '';
      await this.#note(String(index.caseId), `${kindName(failure.kind)} not delivered to ${failure.recipient}: ${failure.code}${reason}`);
    } catch (error) {
      this.#logger.warn({ err: error, messageId: failure.messageId }, 'could not note an undelivered message on its case');
    }
  }

  /** Policy-driven steps on a received request: acknowledge, then answer from records. */
  async #autoProcess(caseId: string): Promise<void> {
    let c = await this.get(caseId);
    const policy = this.deps.policies.get(c.peer);
    if (c.state === S.CASE_STATE_RECEIVED && policy.autoAcknowledge) c = await this.acknowledge(caseId);
    if (c.state !== S.CASE_STATE_ACKNOWLEDGED || !policy.autoAnswer || !this.deps.records || c.answer) return;
    const markings = c.request?.weapon?.markings;
    const serial = markings?.serialNumber || c.request?.weapon?.controlComponent?.serialNumber || '';
    let matches: WeaponRecord[] = [];
    try {
      matches = markings ? await this.deps.records.findExact({ manufacturer: markings.manufacturer, model: markings.model, serialNumber: serial, calibre: markings.calibre, type: markings.type }) : [];
    } catch (error) {
      // An unmarked weapon (no manufacturer or serial) has no composite identity to match.
      const failure = TracenetError.from(error);
      if (failure.retryable) {
        await this.#retryAuto(caseId, failure);
        return;
      }
      await this.#note(caseId, `no composite identity to match records (${failure.message}); waiting for an officer`);
      return;
    }
    this.#retries.delete(caseId);
    const answer = matches.length === 1 ? answerFromRecord(matches[0] as WeaponRecord, c.traceId) : undefined;
    if (!answer) {
      await this.#note(caseId, matches.length === 0 ? 'no exact record match; waiting for an officer' : `${matches.length} records match; waiting for an officer`);
      return;
    }
    await this.answer(caseId, answer, true);
  }

  /**
   * The registry could not answer (a PostgreSQL registry down, say): notes it on the case once and
   * tries the automatic answer again after 5 s, doubling up to 5 minutes, until it is given, an
   * officer acts on the case, or the node stops (the next start tries again, 12.5).
   */
  async #retryAuto(caseId: string, failure: TracenetError): Promise<void> {
    if (this.#stopped) return;
    const attempt = (this.#retries.get(caseId)?.attempt ?? 0) + 1;
    const delayMs = Math.min(AUTO_RETRY_MAX_MS, (this.deps.autoAnswerRetryMs ?? AUTO_RETRY_FIRST_MS) * 2 ** (attempt - 1));
    this.#logger.warn({ caseId, code: failure.codeName, attempt, delayMs }, 'registry unavailable for an automatic answer; retrying');
    await this.#note(caseId, `records unavailable (${failure.codeName}); the automatic answer is tried again until they are`);
    const timer = setTimeout(() => this.#runAuto(caseId), delayMs);
    timer.unref();
    this.#retries.set(caseId, { timer, attempt });
  }

  /**
   * Adds a timeline entry without a state change. The same note twice in a row is written once:
   * the automatic steps run again at every start (12.5) and must not repeat their note each time.
   */
  async #note(caseId: string, summary: string): Promise<void> {
    await this.#locks.run(caseId, async () => {
      const c = await this.get(caseId);
      if (c.timeline.at(-1)?.summary === summary) return;
      c.timeline.push({ atMs: this.deps.clock.now(), fromState: c.state, toState: c.state, summary, messageId: '', actor: 'local' });
      await this.#write([c], [], NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED);
    });
  }

  // ---- mechanics ---------------------------------------------------------------------------

  async #create(recipient: string, input: TraceRequest, send: boolean, previous: Case | undefined): Promise<Case> {
    if (!this.deps.isPinned(recipient)) {
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${recipient} is not a pinned peer`, { field: 'recipient', rule: 'pinned_peer' });
    }
    if (recipient === this.deps.selfId) throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'a node cannot trace with itself', { field: 'recipient', rule: 'not_self' });
    const traceId = newId();
    const request: TraceRequest = { ...input, traceId, chainId: input.chainId || traceId };
    validateTraceRequest(request);
    const now = this.deps.clock.now();
    const c = emptyCase();
    Object.assign(c, {
      caseId: this.#nextCaseId(),
      role: CaseRole.CASE_ROLE_REQUESTER,
      traceId,
      peer: recipient,
      state: S.CASE_STATE_DRAFT,
      request,
      localReference: request.caseReference,
      createdAtMs: now,
      updatedAtMs: now,
      chainId: request.chainId,
      previousCaseId: previous?.caseId ?? '',
    });
    const summary = previous ? `follow-on of ${previous.caseId} (referred to ${recipient})` : `draft for ${recipient}`;
    c.timeline.push({ atMs: now, fromState: S.CASE_STATE_UNSPECIFIED, toState: S.CASE_STATE_DRAFT, summary, messageId: '', actor: 'local' });
    const operations = [indexOp(this.deps.store, traceKey(this.deps.selfId, traceId), c.caseId), indexOp(this.deps.store, chainKey(this.deps.selfId, c.chainId, c.caseId), c.caseId)];
    const cases = [c];
    if (previous) {
      await this.#locks.run(previous.caseId, async () => {
        const p = await this.get(previous.caseId);
        await this.#requireNoFollowOn(p);
        p.nextCaseIds.push(c.caseId);
        p.timeline.push({ atMs: now, fromState: p.state, toState: p.state, summary: `follow-on ${c.caseId} opened to ${recipient}`, messageId: '', actor: 'local' });
        cases.push(p);
        await this.#write(cases, operations, NodeEventType.NODE_EVENT_TYPE_CASE_CREATED, [], 'case.created');
      });
    } else {
      await this.#write(cases, operations, NodeEventType.NODE_EVENT_TYPE_CASE_CREATED, [], 'case.created');
    }
    return send ? this.sendCase(c.caseId) : c;
  }

  /**
   * One follow-on per referral: a repeated call (a retry after a timeout) must not send a second
   * request to the next state. A withdrawn follow-on does not count.
   */
  async #requireNoFollowOn(p: Case): Promise<void> {
    for (const id of p.nextCaseIds) {
      const next = await this.get(id);
      if (next.state !== S.CASE_STATE_WITHDRAWN) {
        throw new TracenetError(ErrorCode.ERROR_CODE_ALREADY_EXISTS, `${p.caseId} has the follow-on ${id} (${stateName(next.state)}) already; withdraw it to open another`, {
          field: 'case_id',
          rule: 'one_follow_on',
        });
      }
    }
  }

  /** A local step that sends a message: state check, case change and message in one batch. */
  async #sendStep(
    caseId: string,
    kind: MessageKind,
    build: (c: Case) => { message: WorkflowBody; summary: string; apply: (c: Case) => void },
  ): Promise<Case> {
    return this.#locks.run(caseId, async () => {
      const c = await this.get(caseId);
      const next = nextState(c.role, c.state, kind, 'send');
      const { message, summary, apply } = build(c);
      const prepared = this.deps.outbox.prepare({ recipient: c.peer, kind, body: encodeWorkflowBody(message), correlationId: c.traceId, orderKey: c.traceId });
      apply(c);
      this.#move(c, next, summary, prepared.messageId, 'local');
      await this.#write([c], prepared.operations, NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED, prepared.audit);
      prepared.schedule();
      return c;
    });
  }

  #move(c: Case, to: CaseState, summary: string, messageId: string, actor: string): void {
    const now = this.deps.clock.now();
    c.timeline.push({ atMs: now, fromState: c.state, toState: to, summary, messageId, actor });
    c.state = to;
    c.updatedAtMs = now;
    c.overdue = this.#isOverdue(c, now);
  }

  #startDeadlines(c: Case): void {
    const { acknowledgeWithinMs, answerWithinMs } = deadlinesOf(this.deps.policies.get(c.peer));
    const now = this.deps.clock.now();
    c.acknowledgeDueAtMs = now + acknowledgeWithinMs;
    c.answerDueAtMs = now + answerWithinMs;
  }

  #applyDelay(c: Case, delay: NonNullable<Case['delay']>): void {
    c.delay = delay;
    if (delay.expectedBy) c.answerDueAtMs = Math.max(c.answerDueAtMs, endOfDay(delay.expectedBy));
  }

  #isOverdue(c: Case, now: number): boolean {
    if (isFinal(c.state)) return false;
    return (WAITING_FOR_ACK.has(c.state) && c.acknowledgeDueAtMs > 0 && now > c.acknowledgeDueAtMs) || (WAITING_FOR_ANSWER.has(c.state) && c.answerDueAtMs > 0 && now > c.answerDueAtMs);
  }

  #nextCaseId(): string {
    this.#caseSeq += 1;
    return `case-${padNumber(this.#caseSeq, 6)}`;
  }

  async #write(cases: Case[], operations: Operation[], eventType: NodeEventType, audit: AuditEvent[] = [], auditType: AuditEvent['type'] = 'case.changed'): Promise<void> {
    const first = cases[0] as Case;
    const summary = first.timeline.at(-1)?.summary ?? '';
    await this.deps.journal.write(
      [...operations, ...cases.map((c) => putCase(this.deps.store, c))],
      [...audit, ...cases.map((c, i) => caseAudit(i === 0 ? auditType : 'case.changed', c))],
      cases.map((c, i) => caseEvent(i === 0 ? eventType : NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED, c, c.timeline.at(-1)?.summary ?? summary, c.timeline.at(-1)?.messageId ?? '')),
    );
  }
}

function decodeCase(value: Record<string, unknown>): Case {
  return Case.decode(Buffer.from(String(value.case), 'base64'));
}

function putCase(store: Store, c: Case): Operation {
  return { type: 'put', sublevel: store.sub.cases, key: c.caseId, value: { case: Buffer.from(Case.encode(c).finish()).toString('base64') } };
}

function indexOp(store: Store, key: string, caseId: string): Operation {
  return { type: 'put', sublevel: store.sub['case-traces'], key, value: { caseId } };
}

function caseAudit(type: AuditEvent['type'], c: Case): AuditEvent {
  return { type, fields: { caseId: c.caseId, traceId: c.traceId, peer: c.peer, role: c.role, state: stateName(c.state) } };
}

function caseEvent(type: NodeEventType, c: Case, summary: string, messageId: string): NodeEventInput {
  return { type, caseId: c.caseId, traceId: c.traceId, peer: c.peer, state: c.state, messageId, summary };
}

function reasonName(reason: ReasonCode): string {
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

