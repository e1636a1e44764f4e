import {
  AnswerCaseRequest,
  ApprovalStep,
  type Case,
  CaseRole,
  CaseState,
  ErrorCode,
  MessageKind,
  NodeEventType,
  type ReasonCode,
  type RequestCheck,
  type TraceAnswer,
  type TraceRequest,
  RefuseCaseRequest,
  RestrictCaseRequest,
  TracenetError,
  type UseRestrictions,
  type WeaponDescription,
} from '@tracenet/proto';
import { releasesRecordInformation, type StepDraft } from './approvals.js';
import { checkRequest } from './request-check.js';
import {
  type CaseBook,
  caseAudit,
  caseEvent,
  chainKey,
  describeAnswer,
  emptyCase,
  indexOp,
  newId,
  reasonName,
  traceKey,
  type WorkflowDeps,
  stepBy,
} from './case-book.js';
import { encodeWorkflowBody, type WorkflowBody } from '../messages/bodies.js';
import type { PreparedMessage } from '../ports/outbound.js';
import type { Operation } from '../store/store.js';
import type { AuditEvent, NodeEventInput } from '../audit/audit-log.js';
import { defaultRestrictions, tighten } from '../messages/restrictions.js';
import { kindName, nextState, stateName } from './state-machine.js';
import { traceStep } from '../util/step-trace.js';
import { validateAnswer, validateReason, validateTraceRequest, requireText } from '../messages/validation.js';
import { applyRelease, approvalError, NODE_POLICY_ID, type PendingApproval, type ReleasePolicy } from './release.js';

/**
 * An answer as an officer (or the auto-answer) gives it; `release` lists the fields the officer
 * confirms for release against the release policy (docs/protocol.md 12.11).
 */
export type AnswerInput = Omit<TraceAnswer, 'traceId' | 'automatic' | 'withheld'> & { release?: readonly string[] };

const S = CaseState;
const K = MessageKind;

/** The answer an AnswerCaseRequest gives (the API's, and an approval's stored input). */
export function answerInput(request: AnswerCaseRequest): AnswerInput {
  return {
    outcome: request.outcome,
    lastLegalRecord: request.lastLegalRecord,
    pointOfDiversion: request.pointOfDiversion,
    referral: request.referral,
    history: request.history,
    details: request.details,
    restrictions: request.restrictions,
    release: request.release,
  };
}

/** The JSON an approval keeps of an answer (AnswerCaseRequest's JSON form). */
function answerJson(caseId: string, input: AnswerInput): unknown {
  return AnswerCaseRequest.toJSON(
    AnswerCaseRequest.fromPartial({ ...input, caseId, release: [...(input.release ?? [])] }),
  );
}

/** Why an answer waits for a value the release policy releases only with approval (12.12 item 5). */
function releaseReason(p: PendingApproval): string {
  return `release policy: ${p.field} (${p.rule}${p.reason ? `: ${p.reason}` : ''})`;
}

/** What a step adds to a batch written by someone else, and what to call once that batch is stored. */
export interface StepBatch {
  readonly operations: Operation[];
  readonly audit: AuditEvent[];
  readonly events: NodeEventInput[];
  readonly stored: () => void;
}

/** A step's approval draft; the case and peer are the step's. */
type Draft = Omit<StepDraft, 'caseId' | 'participantId'>;

/**
 * The steps an officer takes on a case (docs/protocol.md 12.2 to 12.4, 12.9): each checks the
 * state machine, changes the case and queues its message in the outbox in one batch.
 */
export class OfficerCommands {
  constructor(
    private readonly deps: WorkflowDeps,
    private readonly book: CaseBook,
  ) {}

  // ---- requester side -------------------------------------------------------------------

  /** Records a trace request to `recipient` as a draft, or sends it when `send` is set. */
  async createCase(recipient: string, request: TraceRequest, send: boolean): Promise<Case> {
    return this.#create(recipient, request, send, undefined);
  }

  /** Sends a draft; the request's check is made again as it leaves (docs/protocol.md 17.3). */
  async sendCase(caseId: string): Promise<Case> {
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_REQUEST, (c) => this.#requestStep(c));
  }

  /** The step that sends a draft's request. */
  #requestStep(c: Case): { message: WorkflowBody; summary: string; apply: (c: Case) => void } {
    return {
      message: { kind: K.MESSAGE_KIND_TRACE_REQUEST, traceId: c.traceId, body: c.request as TraceRequest },
      summary: `request sent to ${c.peer}`,
      apply: (x) => {
        this.book.startDeadlines(x);
        x.check = this.#check(x.peer, x.request as TraceRequest);
      },
    };
  }

  /**
   * The completeness and traceability of a draft request to `recipient` (docs/protocol.md 17),
   * storing nothing. NOT_FOUND (`recipient`, `pinned_peer`) unless the recipient is pinned.
   */
  checkRequest(recipient: string, request: TraceRequest): RequestCheck {
    this.#requirePinned(recipient);
    return this.#check(recipient, request);
  }

  #check(recipient: string, request: TraceRequest): RequestCheck {
    const profileOf = this.deps.recordsProfile ?? (() => undefined);
    return checkRequest({ request, recipient, profileOf, nowMs: this.deps.clock.now() });
  }

  #requirePinned(recipient: string): void {
    if (!this.deps.isPinned(recipient)) {
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${recipient} is not a pinned peer`, {
        field: 'recipient',
        rule: 'pinned_peer',
      });
    }
  }

  /** Answers the requested participant's open question. */
  async replyClarification(caseId: string, answer: string, weapon: WeaponDescription | undefined): Promise<Case> {
    requireText(answer, 'answer', 'the answer');
    return this.#sendStep(caseId, K.MESSAGE_KIND_CLARIFICATION_REPLY, (c) => {
      const open = c.clarifications.find((q) => q.answeredAtMs === 0);
      if (!open)
        throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, 'no clarification is open', {
          field: 'case_id',
          rule: 'open_clarification',
        });
      return {
        message: {
          kind: K.MESSAGE_KIND_CLARIFICATION_REPLY,
          traceId: c.traceId,
          body: { traceId: c.traceId, clarificationId: open.clarificationId, answer, weapon },
        },
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
      return {
        message: { kind: K.MESSAGE_KIND_TRACE_CLOSURE, traceId: c.traceId, body: closure },
        summary: `closed (${useful ? 'useful' : 'not useful'})`,
        apply: (x) => (x.closure = closure),
      };
    });
  }

  /** Withdraws a request; a draft is withdrawn without any message. */
  async withdraw(caseId: string, reason: string): Promise<Case> {
    // Decided under the case lock: a draft being sent at the same moment gets a real withdrawal.
    const draft = await this.book.locks.run(caseId, async () => {
      const c = await this.book.get(caseId);
      if (c.state !== S.CASE_STATE_DRAFT) return undefined;
      const next = nextState(c.role, c.state, K.MESSAGE_KIND_TRACE_WITHDRAWAL, 'send');
      c.withdrawal = { traceId: c.traceId, reason };
      this.book.move(c, next, 'draft withdrawn', '', 'local');
      await this.book.write([c], [], NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED);
      return c;
    });
    if (draft) return draft;
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_WITHDRAWAL, (c) => {
      const withdrawal = { traceId: c.traceId, reason };
      return {
        message: { kind: K.MESSAGE_KIND_TRACE_WITHDRAWAL, traceId: c.traceId, body: withdrawal },
        summary: 'withdrawn',
        apply: (x) => (x.withdrawal = withdrawal),
      };
    });
  }

  /**
   * Opens the follow-on case to the participant that a REFERRED answer names, with the request
   * content copied, linked both ways and in the same chain. ILLEGAL_TRANSITION unless the answer
   * referred; ALREADY_EXISTS when a follow-on that is not withdrawn exists.
   */
  async followOn(
    caseId: string,
    changes: { intendedUse?: string; otherInformation?: string },
    send: boolean,
  ): Promise<Case> {
    // Under the case's lock from the start: the case is read once, checked and changed as read.
    return this.book.locks.run(caseId, async () => {
      const c = await this.book.get(caseId);
      return this.#followOn(c, { ...c }, changes, send);
    });
  }

  async #followOn(
    c: Case,
    stored: Case,
    changes: { intendedUse?: string; otherInformation?: string },
    send: boolean,
  ): Promise<Case> {
    const referral = c.answer?.referral ?? c.restriction?.partialAnswer?.referral;
    if (
      c.role !== CaseRole.CASE_ROLE_REQUESTER ||
      !referral ||
      !(c.state === S.CASE_STATE_ANSWERED || c.state === S.CASE_STATE_RESTRICTED || c.state === S.CASE_STATE_CLOSED)
    ) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
        'a follow-on needs a case of ours whose answer referred the trace to another participant',
        {
          field: 'case_id',
          rule: 'referred_answer',
        },
      );
    }
    const request = c.request as TraceRequest;
    const weapon = request.weapon ? { ...request.weapon } : undefined;
    if (weapon && changes.otherInformation)
      weapon.otherInformation = [weapon.otherInformation, changes.otherInformation].filter((s) => s !== '').join('\n');
    return this.#create(
      referral.participant,
      {
        ...request,
        weapon,
        intendedUse: changes.intendedUse || request.intendedUse,
        previousTraceId: c.traceId,
        chainId: c.chainId,
      },
      send,
      { case: c, stored },
    );
  }

  // ---- requested side -------------------------------------------------------------------

  /** Acknowledges a received request; assigns a case reference when none is given. */
  async acknowledge(caseId: string, reference = ''): Promise<Case> {
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT, (c) => this.#acknowledgementStep(c, reference));
  }

  #acknowledgementStep(
    c: Case,
    reference: string,
  ): { message: WorkflowBody; summary: string; apply: (c: Case) => void } {
    const local =
      reference ||
      `${this.deps.selfId.replace('org:', '')}-${new Date(this.deps.clock.now()).getUTCFullYear()}-${c.caseId.slice('case-'.length)}`;
    return {
      message: {
        kind: K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT,
        traceId: c.traceId,
        body: { traceId: c.traceId, requesterCaseReference: c.peerReference, requestedCaseReference: local },
      },
      summary: `acknowledged as ${local}`,
      apply: (x) => (x.localReference = local),
    };
  }

  /**
   * The automatic acknowledgement of a request being received (12.5: "acknowledged at once"),
   * for the batch that accepts the request, so that it is one commit and not two: moves `c` (the
   * new case, RECEIVED) to ACKNOWLEDGED as {@link acknowledge} would, and returns what the batch
   * adds — the message, the audit entries and the node event of the step, after those of the
   * case's creation — and what to call once it is stored. Undefined, with `c` unchanged, when the
   * acknowledgement cannot be queued: the automatic steps then acknowledge as before.
   */
  acknowledgeOnReceipt(c: Case): StepBatch | undefined {
    const kind = K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT;
    const step = this.#acknowledgementStep(c, '');
    let prepared: PreparedMessage;
    try {
      prepared = this.#prepare(c, kind, step.message);
    } catch (error) {
      this.book.logger.warn(
        { err: error, caseId: c.caseId },
        'the acknowledgement could not be queued with the request',
      );
      return undefined;
    }
    return this.#stepBatch(c, kind, step, prepared);
  }

  /** A step's message to the case's peer, in the trace's order; throws when it cannot be queued (too large). */
  #prepare(c: Case, kind: MessageKind, message: WorkflowBody): PreparedMessage {
    return this.deps.outbox.prepare({
      recipient: c.peer,
      kind,
      body: encodeWorkflowBody(message),
      correlationId: c.traceId,
      orderKey: c.traceId,
    });
  }

  /**
   * Moves `c` as the step whose message is `prepared` does, as a case read back to take the step
   * would be; returns what the batch that stores `c` adds (the message, the step's audit entries
   * and node event) and what to call once it is stored.
   */
  #stepBatch(
    c: Case,
    kind: MessageKind,
    step: { summary: string; apply: (c: Case) => void },
    prepared: PreparedMessage,
  ): StepBatch {
    const next = nextState(c.role, c.state, kind, 'send');
    this.book.withPanel(c);
    step.apply(c);
    this.book.move(c, next, step.summary, prepared.messageId, 'local');
    return {
      operations: prepared.operations,
      audit: [...prepared.audit, caseAudit('case.changed', c)],
      events: [caseEvent(NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED, c, step.summary, prepared.messageId)],
      stored: () => this.#scheduled(c, kind, prepared),
    };
  }

  /** Sends a stored step's message, and logs the step (docs/operations.md, "Where a trace's time goes"). */
  #scheduled(c: Case, kind: MessageKind, prepared: PreparedMessage): void {
    traceStep(this.book.logger, 'case.stored', () => ({
      caseId: c.caseId,
      traceId: c.traceId,
      kind: kindName(kind),
      messageId: prepared.messageId,
    }));
    prepared.schedule();
  }

  /**
   * Answers a received request, after the release policy (docs/protocol.md 12.11): withheld values
   * are emptied and listed. A manual answer that would release an APPROVAL value the officer did not
   * confirm in `input.release` is refused (INVALID_FIELD, `release_policy`); an automatic one is not
   * sent: the case gets a note naming the values and rules, and waits for an officer. When the
   * approval policy holds answers (12.12: `answers` for a manual answer that releases record
   * information, `automatic_answers` for an automatic one), the answer waits in the approvals queue
   * instead, and the approval releases the APPROVAL values. `peer`: the case's peer, when the caller
   * holds the case (the automatic steps), so that it is not read for the release check.
   */
  async answer(caseId: string, input: AnswerInput, automatic = false, peer?: string): Promise<Case> {
    const { release = [], ...parts } = input;
    const carried = this.deps.approvals?.carrying(ApprovalStep.APPROVAL_STEP_ANSWER, caseId);
    const confirmed = [...(automatic ? [] : release), ...(carried?.release ?? [])];
    const options = { derived: automatic, confirmed };
    const rules = this.deps.approvals?.policy();
    const holds = automatic ? rules?.automaticAnswers === true : rules?.answers === true;
    if (automatic && !carried && !holds) {
      // The peer of a case never changes: the automatic steps, which hold the case, name it.
      const { pending } = applyRelease(parts, this.#releasePolicy(peer ?? (await this.book.get(caseId)).peer), options);
      if (pending.length > 0) {
        const named = pending.map((p) => `${p.field} (${p.rule}${p.reason ? `: ${p.reason}` : ''})`);
        await this.book.note(caseId, `release needs approval: ${named.join('; ')}; waiting for an officer`);
        return this.book.get(caseId);
      }
    }
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_ANSWER, (c) => {
      const { answer: released, pending } = applyRelease(parts, this.#releasePolicy(c.peer), options);
      if (pending.length > 0 && !holds) throw approvalError(pending, 'answer');
      const answer: TraceAnswer = {
        ...released,
        traceId: c.traceId,
        automatic,
        restrictions: this.#answerRestrictions(c, input.restrictions, 'restrictions'),
      };
      validateAnswer(answer, 'answer');
      const reasons = [
        ...(holds && (automatic || releasesRecordInformation(answer))
          ? [`approval policy: ${automatic ? 'automatic answers' : 'answers releasing record information'}`]
          : []),
        ...pending.map(releaseReason),
      ];
      const summary = `answered: ${describeAnswer(answer)}`;
      return {
        message: { kind: K.MESSAGE_KIND_TRACE_ANSWER, traceId: c.traceId, body: answer },
        summary,
        apply: (x) => (x.answer = answer),
        approval: {
          step: ApprovalStep.APPROVAL_STEP_ANSWER,
          summary: `answer: ${describeAnswer(answer)}`,
          reasons,
          input: JSON.stringify(answerJson(caseId, input)),
          release: pending.map((p) => p.field),
          automatic,
        },
      };
    });
  }

  /** Tells the requester the answer will be late, and why. */
  async delay(caseId: string, reason: ReasonCode, explanation: string, expectedBy: string): Promise<Case> {
    validateReason(reason, explanation, 'delay');
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_DELAY, (c) => {
      const delay = { traceId: c.traceId, reason, explanation, expectedBy };
      return {
        message: { kind: K.MESSAGE_KIND_TRACE_DELAY, traceId: c.traceId, body: delay },
        summary: `delayed: ${reasonName(reason)}`,
        apply: (x) => this.book.applyDelay(x, delay),
      };
    });
  }

  /** Answers with part of the information only, and says why. */
  async restrict(
    caseId: string,
    reason: ReasonCode,
    explanation: string,
    partial: AnswerInput | undefined,
  ): Promise<Case> {
    validateReason(reason, explanation, 'restriction');
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_RESTRICTION, (c) => {
      let partialAnswer: TraceAnswer | undefined;
      const carried = this.deps.approvals?.carrying(ApprovalStep.APPROVAL_STEP_RESTRICTION, caseId);
      const holds = this.deps.approvals?.policy().answers === true;
      let pendingValues: readonly PendingApproval[] = [];
      if (partial) {
        const { release = [], ...parts } = partial;
        const { answer: released, pending } = applyRelease(parts, this.#releasePolicy(c.peer), {
          derived: false,
          confirmed: [...release, ...(carried?.release ?? [])],
          prefix: 'partial_answer',
        });
        if (pending.length > 0 && !holds) throw approvalError(pending, 'partial_answer');
        pendingValues = pending;
        partialAnswer = {
          ...released,
          traceId: c.traceId,
          automatic: false,
          restrictions: this.#answerRestrictions(c, partial.restrictions, 'partial_answer.restrictions'),
        };
      }
      if (partialAnswer) validateAnswer(partialAnswer, 'partial_answer');
      const restriction = { traceId: c.traceId, reason, explanation, partialAnswer };
      const reasons = [
        ...(holds && partialAnswer && releasesRecordInformation(partialAnswer)
          ? ['approval policy: answers releasing record information']
          : []),
        ...pendingValues.map(releaseReason),
      ];
      const input = RestrictCaseRequest.fromPartial({
        caseId,
        reason,
        explanation,
        partialAnswer: partial
          ? AnswerCaseRequest.fromPartial({ ...partial, caseId, release: [...(partial.release ?? [])] })
          : undefined,
      });
      return {
        message: { kind: K.MESSAGE_KIND_TRACE_RESTRICTION, traceId: c.traceId, body: restriction },
        summary: `restricted: ${reasonName(reason)}`,
        apply: (x) => (x.restriction = restriction),
        approval: {
          step: ApprovalStep.APPROVAL_STEP_RESTRICTION,
          summary: `restriction: ${reasonName(reason)}${partialAnswer ? `, partial answer ${describeAnswer(partialAnswer)}` : ''}`,
          reasons,
          input: JSON.stringify(RestrictCaseRequest.toJSON(input)),
          release: pendingValues.map((p) => p.field),
        },
      };
    });
  }

  /** Refuses a received request, with its reason. */
  async refuse(caseId: string, reason: ReasonCode, explanation: string): Promise<Case> {
    validateReason(reason, explanation, 'refusal');
    return this.#sendStep(caseId, K.MESSAGE_KIND_TRACE_REFUSAL, (c) => {
      const refusal = { traceId: c.traceId, reason, explanation };
      return {
        message: { kind: K.MESSAGE_KIND_TRACE_REFUSAL, traceId: c.traceId, body: refusal },
        summary: `refused: ${reasonName(reason)}`,
        apply: (x) => (x.refusal = refusal),
        approval: {
          step: ApprovalStep.APPROVAL_STEP_REFUSAL,
          summary: `refusal: ${reasonName(reason)}`,
          reasons: this.deps.approvals?.policy().refusals ? ['approval policy: refusals'] : [],
          input: JSON.stringify(RefuseCaseRequest.toJSON({ caseId, reason, explanation })),
        },
      };
    });
  }

  /** Asks the requester a question. */
  async requestClarification(caseId: string, question: string): Promise<Case> {
    requireText(question, 'question', 'the question');
    return this.#sendStep(caseId, K.MESSAGE_KIND_CLARIFICATION_REQUEST, (c) => {
      const clarificationId = newId();
      return {
        message: {
          kind: K.MESSAGE_KIND_CLARIFICATION_REQUEST,
          traceId: c.traceId,
          body: { traceId: c.traceId, clarificationId, question },
        },
        summary: 'clarification requested',
        apply: (x) =>
          x.clarifications.push({
            clarificationId,
            question,
            answer: '',
            askedAtMs: this.deps.clock.now(),
            answeredAtMs: 0,
          }),
      };
    });
  }

  // ---- mechanics ---------------------------------------------------------------------------

  /** The release rules of the answers to `peer`: its policy's, then the node-wide policy's (12.11). */
  #releasePolicy(peer: string): ReleasePolicy {
    return {
      peer,
      peerRules: this.deps.policies.get(peer).releaseRules,
      nodeRules: this.deps.policies.get(NODE_POLICY_ID).releaseRules,
    };
  }

  /** The restrictions of an answer we give: the policy's defaults for the peer, tightened by the officer. */
  #answerRestrictions(c: Case, change: UseRestrictions | undefined, prefix: string): UseRestrictions {
    return tighten(
      defaultRestrictions(c.peer, this.deps.policies.get(c.peer), c.request?.intendedUse ?? ''),
      change,
      prefix,
    );
  }

  /**
   * A new case; `previous`: the case it follows on, read under its lock by the caller, and a copy of
   * it as stored (what its index entries name).
   */
  async #create(
    recipient: string,
    input: TraceRequest,
    send: boolean,
    previous: { case: Case; stored: Case } | undefined,
  ): Promise<Case> {
    this.#requirePinned(recipient);
    if (recipient === this.deps.selfId)
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'a node cannot trace with itself', {
        field: 'recipient',
        rule: 'not_self',
      });
    const traceId = newId();
    const request: TraceRequest = { ...input, traceId, chainId: input.chainId || traceId };
    validateTraceRequest(request);
    const now = this.deps.clock.now();
    const c = emptyCase();
    Object.assign(c, {
      caseId: this.book.nextCaseId(),
      role: CaseRole.CASE_ROLE_REQUESTER,
      traceId,
      peer: recipient,
      state: S.CASE_STATE_DRAFT,
      request,
      localReference: request.caseReference,
      createdAtMs: now,
      updatedAtMs: now,
      chainId: request.chainId,
      previousCaseId: previous?.case.caseId ?? '',
      check: this.#check(recipient, request),
    });
    const summary = previous
      ? `follow-on of ${previous.case.caseId} (referred to ${recipient})`
      : `draft for ${recipient}`;
    c.timeline.push({
      atMs: now,
      fromState: S.CASE_STATE_UNSPECIFIED,
      toState: S.CASE_STATE_DRAFT,
      summary,
      messageId: '',
      actor: 'local',
      by: stepBy('local'),
    });
    const operations = [
      indexOp(this.deps.store, traceKey(this.deps.selfId, traceId), c.caseId),
      indexOp(this.deps.store, chainKey(this.deps.selfId, c.chainId, c.caseId), c.caseId),
    ];
    if (!previous) return this.#store([c], operations, send);
    const p = previous.case;
    await this.#requireNoFollowOn(p);
    p.nextCaseIds.push(c.caseId);
    p.timeline.push({
      atMs: now,
      fromState: p.state,
      toState: p.state,
      summary: `follow-on ${c.caseId} opened to ${recipient}`,
      messageId: '',
      actor: 'local',
      by: stepBy('local'),
    });
    return this.#store([c, p], operations, send, previous.stored);
  }

  /**
   * Stores a new case (`cases[0]`, with the cases it changes), and when `send` is set sends its
   * request in the same batch: the draft and its sending are one commit, with the audit entries
   * and node events of both steps in their order (created as a draft, then sent). When the request
   * cannot be queued (an envelope too large), the draft is stored alone and the error thrown, as a
   * draft sent later would be.
   */
  async #store(cases: Case[], operations: Operation[], send: boolean, previousStored?: Case): Promise<Case> {
    const c = cases[0] as Case;
    const created = {
      audit: cases.map((x, i) => caseAudit(i === 0 ? 'case.created' : 'case.changed', x)),
      events: cases.map((x, i) =>
        caseEvent(
          i === 0 ? NodeEventType.NODE_EVENT_TYPE_CASE_CREATED : NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
          x,
          x.timeline.at(-1)?.summary ?? '',
          x.timeline.at(-1)?.messageId ?? '',
        ),
      ),
    };
    const kind = K.MESSAGE_KIND_TRACE_REQUEST;
    const step = send ? this.#requestStep(c) : undefined;
    let prepared: PreparedMessage | undefined;
    let failure: unknown;
    try {
      prepared = step && this.#prepare(c, kind, step.message);
    } catch (error) {
      failure = error;
    }
    const sent = step && prepared ? this.#stepBatch(c, kind, step, prepared) : undefined;
    // Only the case as it ends up is stored: a new one, with nothing stored before it to reindex.
    await this.deps.journal.write(
      [
        ...operations,
        ...(sent?.operations ?? []),
        ...this.deps.store.cases.indexed(c, undefined),
        ...(cases[1] && previousStored ? this.deps.store.cases.indexed(cases[1], previousStored) : []),
      ],
      [...created.audit, ...(sent?.audit ?? [])],
      [...created.events, ...(sent?.events ?? [])],
    );
    traceStep(this.book.logger, 'case.created', () => ({ caseId: c.caseId, traceId: c.traceId }));
    if (failure !== undefined) throw failure;
    sent?.stored();
    return c;
  }

  /**
   * One follow-on per referral: a repeated call (a retry after a timeout) must not send a second
   * request to the next state. A withdrawn follow-on does not count.
   */
  async #requireNoFollowOn(p: Case): Promise<void> {
    for (const id of p.nextCaseIds) {
      const next = await this.book.get(id);
      if (next.state !== S.CASE_STATE_WITHDRAWN) {
        throw new TracenetError(
          ErrorCode.ERROR_CODE_ALREADY_EXISTS,
          `${p.caseId} has the follow-on ${id} (${stateName(next.state)}) already; withdraw it to open another`,
          {
            field: 'case_id',
            rule: 'one_follow_on',
          },
        );
      }
    }
  }

  /**
   * A local step that sends a message: state check, case change and message in one batch. A step
   * the approval policy holds is not carried out: the case gets a note and the approval is queued
   * in the same batch (12.12); carried out on approval, the decision joins the step's batch.
   */
  async #sendStep(
    caseId: string,
    kind: MessageKind,
    build: (c: Case) => { message: WorkflowBody; summary: string; apply: (c: Case) => void; approval?: Draft },
  ): Promise<Case> {
    return this.book.locks.run(caseId, async () => {
      const c = await this.book.get(caseId);
      const next = nextState(c.role, c.state, kind, 'send');
      const { message, summary, apply, approval } = build(c);
      const decision =
        approval && this.deps.approvals
          ? await this.deps.approvals.decide({ ...approval, caseId, participantId: c.peer })
          : {};
      if (decision.duplicate) return c;
      if (decision.held) {
        const now = this.deps.clock.now();
        c.timeline.push({
          atMs: now,
          fromState: c.state,
          toState: c.state,
          summary: decision.held.note,
          messageId: '',
          actor: 'local',
          by: stepBy('local'),
        });
        c.updatedAtMs = now;
        await this.book.write(
          [c],
          decision.held.operations,
          NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
          decision.held.audit,
        );
        return c;
      }
      const prepared = this.#prepare(c, kind, message);
      apply(c);
      const carried = decision.carried;
      this.book.move(c, next, `${summary}${carried?.suffix ?? ''}`, prepared.messageId, 'local');
      await this.book.write(
        [c],
        [...prepared.operations, ...(carried?.operations ?? [])],
        NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
        [...prepared.audit, ...(carried?.audit ?? [])],
      );
      this.#scheduled(c, kind, prepared);
      return c;
    });
  }
}
