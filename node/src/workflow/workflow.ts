import {
  AnswerCaseRequest,
  ApprovalStep,
  type Case,
  DecideConsentRequest,
  type MessageKind,
  type ReasonCode,
  type ReexportFlag,
  RefuseCaseRequest,
  type RequestCheck,
  RestrictCaseRequest,
  ShareCaseRequest,
  type TraceRequest,
  type WeaponDescription,
} from '@tracenet/proto';
import type { CommitInbound, InboundMessage } from '../ports/inbound.js';
import { AutomaticSteps } from './automatic.js';
import { CaseBook, type CaseFilter, type WorkflowDeps } from './case-book.js';
import { DeadlineMonitor } from './deadlines.js';
import { Disclosures } from './disclosures.js';
import { Inbound, workflowHandles } from './inbound.js';
import { type AnswerInput, answerInput, OfficerCommands } from './officer-commands.js';
import { ReexportFlags } from './reexport-flags.js';

export type { CaseFilter, WorkflowDeps } from './case-book.js';
export type { AnswerInput } from './officer-commands.js';

/**
 * The ITI tracing workflow of one node (docs/protocol.md section 12). It keeps cases, applies the
 * state machine to every step, sends the messages a step needs through the outbox in the same
 * batch as the case change, and takes peers' messages from the receiver in the same batch as
 * their acceptance. Per-peer policy decides who may open traces here and what happens
 * automatically; deadlines come from the same policy.
 *
 * One door over the parts along the workflow's seams: officer commands (`officer-commands.ts`),
 * inbound handling (`inbound.ts`), disclosures (`disclosures.ts`, section 14), automatic
 * processing (`automatic.ts`) and the deadline monitor (`deadlines.ts`), over one case book
 * (`case-book.ts`).
 */
export class Workflow {
  readonly #book: CaseBook;
  readonly #commands: OfficerCommands;
  readonly #disclosures: Disclosures;
  readonly #inbound: Inbound;
  readonly #automatic: AutomaticSteps;
  readonly #deadlines: DeadlineMonitor;
  readonly #reexports: ReexportFlags;

  constructor(private readonly deps: WorkflowDeps) {
    this.#book = new CaseBook(deps);
    this.#commands = new OfficerCommands(deps, this.#book);
    this.#disclosures = new Disclosures(deps, this.#book);
    this.#automatic = new AutomaticSteps(deps, this.#book, this.#commands);
    this.#reexports = new ReexportFlags(deps, this.#book);
    this.#inbound = new Inbound(
      deps,
      this.#book,
      this.#disclosures,
      (c) => this.#automatic.run(c.caseId, c),
      this.#reexports,
      (c) => this.#commands.acknowledgeOnReceipt(c),
    );
    this.#deadlines = new DeadlineMonitor(deps, this.#book);
    if (deps.approvals) this.#carryOut(deps.approvals);
  }

  /** How the approvals queue carries out an approved case step, and notes a rejection (12.12). */
  #carryOut(approvals: NonNullable<WorkflowDeps['approvals']>): void {
    const S = ApprovalStep;
    const json = (input: string): unknown => JSON.parse(input);
    approvals.register(S.APPROVAL_STEP_ANSWER, (a) =>
      this.#commands.answer(a.caseId, answerInput(AnswerCaseRequest.fromJSON(json(a.input))), a.automatic),
    );
    approvals.register(S.APPROVAL_STEP_RESTRICTION, (a) => {
      const r = RestrictCaseRequest.fromJSON(json(a.input));
      return this.#commands.restrict(
        a.caseId,
        r.reason,
        r.explanation,
        r.partialAnswer ? answerInput(r.partialAnswer) : undefined,
      );
    });
    approvals.register(S.APPROVAL_STEP_REFUSAL, (a) => {
      const r = RefuseCaseRequest.fromJSON(json(a.input));
      return this.#commands.refuse(a.caseId, r.reason, r.explanation);
    });
    approvals.register(S.APPROVAL_STEP_SHARE, (a) => {
      const r = ShareCaseRequest.fromJSON(json(a.input));
      return this.#disclosures.shareCase(a.caseId, r.thirdParticipant, r.note);
    });
    approvals.register(S.APPROVAL_STEP_CONSENT_DECISION, (a) => {
      const r = DecideConsentRequest.fromJSON(json(a.input));
      return this.#disclosures.decideConsent(a.caseId, r.consentId, r.granted, r.conditions);
    });
    approvals.setCaseNotes(async (caseId, summary, operations, audit) => {
      await this.#book.noteUnless(caseId, summary, () => false, { operations, audit });
    });
  }

  /** Loads the case counter, resumes automatic steps interrupted by a stop, starts the deadline timer. */
  async start(): Promise<void> {
    this.#automatic.start();
    // The highest number, not the last key: past case-999999 the ids grow a digit and sort before it.
    for await (const c of this.deps.store.cases.all()) {
      this.#book.countExisting(c.caseId);
      this.#automatic.resume(c);
    }
    this.#deadlines.start();
  }

  /** Stops the timer and waits for automatic steps in progress. */
  async stop(): Promise<void> {
    this.#deadlines.stop();
    await this.#automatic.stop();
  }

  // ---- officer commands, requester side ----------------------------------------------------

  /** Records a trace request to `recipient` as a draft, or sends it when `send` is set. */
  createCase(recipient: string, request: TraceRequest, send: boolean): Promise<Case> {
    return this.#commands.createCase(recipient, request, send);
  }

  /** Sends a draft. */
  sendCase(caseId: string): Promise<Case> {
    return this.#commands.sendCase(caseId);
  }

  /** The completeness and traceability of a draft request to `recipient`, storing nothing (17). */
  checkRequest(recipient: string, request: TraceRequest): RequestCheck {
    return this.#commands.checkRequest(recipient, request);
  }

  /** Answers the requested participant's open question. */
  replyClarification(caseId: string, answer: string, weapon: WeaponDescription | undefined): Promise<Case> {
    return this.#commands.replyClarification(caseId, answer, weapon);
  }

  /** Closes an answered, restricted or refused case with feedback. */
  close(caseId: string, useful: boolean, feedback: string): Promise<Case> {
    return this.#commands.close(caseId, useful, feedback);
  }

  /** Withdraws a request; a draft is withdrawn without any message. */
  withdraw(caseId: string, reason: string): Promise<Case> {
    return this.#commands.withdraw(caseId, reason);
  }

  /** Opens the follow-on case to the participant a REFERRED answer names (12.9). */
  followOn(caseId: string, changes: { intendedUse?: string; otherInformation?: string }, send: boolean): Promise<Case> {
    return this.#commands.followOn(caseId, changes, send);
  }

  // ---- officer commands, requested side ----------------------------------------------------

  /** Acknowledges a received request; assigns a case reference when none is given. */
  acknowledge(caseId: string, reference = ''): Promise<Case> {
    return this.#commands.acknowledge(caseId, reference);
  }

  /** Answers a received request. */
  answer(caseId: string, input: AnswerInput, automatic = false): Promise<Case> {
    return this.#commands.answer(caseId, input, automatic);
  }

  /** Tells the requester the answer will be late, and why. */
  delay(caseId: string, reason: ReasonCode, explanation: string, expectedBy: string): Promise<Case> {
    return this.#commands.delay(caseId, reason, explanation, expectedBy);
  }

  /** Answers with part of the information only, and says why. */
  restrict(caseId: string, reason: ReasonCode, explanation: string, partial: AnswerInput | undefined): Promise<Case> {
    return this.#commands.restrict(caseId, reason, explanation, partial);
  }

  /** Refuses a received request, with its reason. */
  refuse(caseId: string, reason: ReasonCode, explanation: string): Promise<Case> {
    return this.#commands.refuse(caseId, reason, explanation);
  }

  /** Asks the requester a question. */
  requestClarification(caseId: string, question: string): Promise<Case> {
    return this.#commands.requestClarification(caseId, question);
  }

  // ---- reading ----------------------------------------------------------------------------

  /** One case with its timeline. Throws NOT_FOUND. */
  get(caseId: string): Promise<Case> {
    return this.#book.get(caseId);
  }

  /** Cases newest first, filtered; `overdue` is computed at the time of the call. */
  list(filter: CaseFilter = {}): Promise<{ cases: Case[]; nextCursor: string }> {
    return this.#book.list(filter);
  }

  /** Every case of the chain `caseId` belongs to, in the order they were opened. */
  chain(caseId: string): Promise<{ chainId: string; cases: Case[] }> {
    return this.#book.chain(caseId);
  }

  // ---- deadline monitor --------------------------------------------------------------------

  /** Marks cases whose acknowledgement or answer is overdue; returns how many became overdue. */
  checkDeadlines(): Promise<number> {
    return this.#deadlines.checkDeadlines();
  }

  /** Purges received information whose retention ended (14.5); returns how many cases were purged. */
  purgeExpired(): Promise<number> {
    return this.#deadlines.purgeExpired();
  }

  // ---- inbound -----------------------------------------------------------------------------

  /** The workflow takes the ITI message kinds; the receiver handles the others itself. */
  handles(kind: MessageKind): boolean {
    return workflowHandles(kind);
  }

  /**
   * Takes a peer's workflow message; throws (and so rejects it with a signed receipt) when it may
   * not be taken, otherwise commits the acceptance and the case change in one batch.
   */
  accept(message: InboundMessage, commit: CommitInbound): Promise<void> {
    return this.#inbound.accept(message, commit);
  }

  // ---- use restrictions, consent and disclosure (docs/protocol.md section 14) ---------------

  /** Passes the answer of one of our cases on to `third`, when its restrictions or a consent allow it. */
  shareCase(caseId: string, third: string, note: string): Promise<Case> {
    return this.#disclosures.shareCase(caseId, third, note);
  }

  /** Asks the provider of an answer to consent to its disclosure to `third` (requester side). */
  requestConsent(caseId: string, third: string, reason: string): Promise<Case> {
    return this.#disclosures.requestConsent(caseId, third, reason);
  }

  /** Grants or refuses an open consent request of the requester (requested side). */
  decideConsent(caseId: string, consentId: string, granted: boolean, conditions: string): Promise<Case> {
    return this.#disclosures.decideConsent(caseId, consentId, granted, conditions);
  }

  // ---- unauthorised re-export (docs/protocol.md section 18) ----------------------------------

  /** Notifies the exporter of a re-export flag of one of our cases, under the answers' restrictions (18.4). */
  notifyReexport(caseId: string, flagId: string): Promise<Case> {
    return this.#reexports.notify(caseId, flagId);
  }

  /** The re-export flags this node raised and received (18.5), newest first. */
  reexportFlags(raised = true, received = true): Promise<{ raised: ReexportFlag[]; received: ReexportFlag[] }> {
    return this.#reexports.list(raised, received);
  }
}
