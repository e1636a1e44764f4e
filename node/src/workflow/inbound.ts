import {
  type Case,
  CaseRole,
  CaseState,
  ErrorCode,
  MessageKind,
  NodeEventType,
  type TraceRequest,
  TracenetError,
} from '@tracenet/proto';
import type { CommitInbound, InboundMessage } from '../ports/inbound.js';
import { traceStep } from '../util/step-trace.js';
import {
  type CaseBook,
  caseAudit,
  caseEvent,
  chainKey,
  describeAnswer,
  emptyCase,
  indexOp,
  reasonName,
  traceKey,
  type WorkflowDeps,
} from './case-book.js';
import type { Disclosures } from './disclosures.js';
import type { ReexportFlags } from './reexport-flags.js';
import type { StepBatch } from './officer-commands.js';
import { decodeDisclosureBody, decodeWorkflowBody, DISCLOSURE_KINDS, type WorkflowBody } from '../messages/bodies.js';
import { kindName, nextState, sends, WORKFLOW_KINDS } from './state-machine.js';
import { recirculationEntries, recirculationOfAnswer, recirculationOfRequest } from './recirculation.js';

const S = CaseState;
const K = MessageKind;
/** Kinds that open a case on the receiving node: deny by default (docs/protocol.md 12.5). */
const OPENS_A_CASE: readonly MessageKind[] = [K.MESSAGE_KIND_TRACE_REQUEST, K.MESSAGE_KIND_SHARED_INFORMATION];

/** The workflow takes the ITI message kinds; the receiver handles the others itself. */
export function workflowHandles(kind: MessageKind): boolean {
  return WORKFLOW_KINDS.includes(kind) || DISCLOSURE_KINDS.includes(kind) || kind === K.MESSAGE_KIND_REEXPORT_NOTICE;
}

/**
 * Peers' workflow messages as the receiver hands them over (docs/protocol.md 12.4, 12.5): access
 * control, then the trace and the state machine, then the case change in the receiver's batch.
 */
export class Inbound {
  constructor(
    private readonly deps: WorkflowDeps,
    private readonly book: CaseBook,
    private readonly disclosures: Disclosures,
    /** Called with each case a peer's request opened, as committed. */
    private readonly opened: (c: Case) => void,
    /** Re-export flags (docs/protocol.md 18): raised on answers, received as notices. */
    private readonly reexports: ReexportFlags,
    /** The automatic acknowledgement of a request, stored with its acceptance (12.5). */
    private readonly acknowledge: (c: Case) => StepBatch | undefined,
  ) {}

  /**
   * Takes a peer's workflow message. Throws (and so rejects the message with a signed receipt)
   * when the content is incomplete, the peer may not open traces here, the case is unknown or
   * closed, or the step is illegal in the case's state. Otherwise commits the acceptance and the
   * case change in one batch.
   */
  async accept(message: InboundMessage, store: CommitInbound): Promise<void> {
    const logger = this.book.logger;
    const step = () => ({ messageId: message.messageId, peer: message.sender, kind: message.kind });
    traceStep(logger, 'inbound.received', step);
    const commit: CommitInbound = async (...batch) => {
      await store(...batch);
      traceStep(logger, 'inbound.stored', step);
    };
    // Access control before content: a peer that may not open cases here learns nothing more.
    if (OPENS_A_CASE.includes(message.kind)) this.#requireAcceptsRequests(message.sender, message.kind);
    if (message.kind === K.MESSAGE_KIND_REEXPORT_NOTICE) return this.reexports.accept(message, commit);
    if (DISCLOSURE_KINDS.includes(message.kind)) {
      await this.disclosures.accept(message, decodeDisclosureBody(message.kind, message.body), commit);
      return;
    }
    const decoded = decodeWorkflowBody(message.kind, message.body);
    if (decoded.kind === K.MESSAGE_KIND_TRACE_REQUEST) {
      await this.#acceptRequest(message, decoded.body, commit);
      return;
    }
    const fromRequester = sends(CaseRole.CASE_ROLE_REQUESTER, decoded.kind);
    const requester = fromRequester ? message.sender : this.deps.selfId;
    const unknown = () =>
      new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no trace ${decoded.traceId} with ${message.sender}`, {
        field: 'body.trace_id',
        rule: 'known_trace',
      });
    const caseId = await this.deps.store.cases.traced(traceKey(requester, decoded.traceId));
    if (caseId === undefined) throw unknown();
    await this.book.locks.run(caseId, async () => {
      const c = await this.book.get(caseId);
      // What the stored version's index entries name (state, peer, deadline: fields the step
      // replaces, never changes in place): indexed against it, the case is not read a second time.
      const asStored: Case = { ...c };
      if (c.peer !== message.sender) throw unknown();
      const next = nextState(c.role, c.state, decoded.kind, 'receive');
      const summary = this.#applyInbound(c, decoded);
      this.book.move(c, next, summary, message.messageId, message.sender);
      const recirculation = this.#recirculationOfAnswer(c, decoded, message.messageId);
      const withFlags = await this.reexports.withFlags(c, decoded.kind, commit);
      await withFlags(
        this.deps.store.cases.indexed(c, asStored),
        [caseAudit('case.changed', c), ...recirculation.audit],
        [caseEvent(NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED, c, summary, message.messageId), ...recirculation.events],
      );
    });
  }

  /** Deny by default: only a peer whose policy says accept_requests may open cases here. */
  #requireAcceptsRequests(sender: string, kind: MessageKind): void {
    if (!this.deps.policies.get(sender).acceptRequests) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_KIND_NOT_ALLOWED,
        `${this.deps.selfId} does not accept ${kindName(kind)} messages from ${sender} (peer policy: requests refused)`,
        {
          field: 'header.kind',
          rule: 'peer_policy',
        },
      );
    }
  }

  async #acceptRequest(message: InboundMessage, request: TraceRequest, commit: CommitInbound): Promise<void> {
    const key = traceKey(message.sender, request.traceId);
    let created: Case | undefined;
    await this.book.locks.run(key, async () => {
      if ((await this.deps.store.cases.traced(key)) !== undefined) {
        throw new TracenetError(
          ErrorCode.ERROR_CODE_ALREADY_EXISTS,
          `trace ${request.traceId} of ${message.sender} exists already`,
          { field: 'body.trace_id', rule: 'unique_trace' },
        );
      }
      const now = this.deps.clock.now();
      const c = emptyCase();
      Object.assign(c, {
        caseId: this.book.nextCaseId(),
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
      this.book.startDeadlines(c);
      c.recirculation = await recirculationOfRequest(this.deps.records, request, {
        selfId: this.deps.selfId,
        requester: message.sender,
        nowMs: now,
        logger: this.deps.logger,
      });
      const flagged = c.recirculation
        ? recirculationEntries(c, c.recirculation, message.messageId)
        : { audit: [], events: [] };
      const summary = `request received from ${message.sender} (${request.caseReference})`;
      c.timeline.push({
        atMs: now,
        fromState: S.CASE_STATE_UNSPECIFIED,
        toState: c.state,
        summary,
        messageId: message.messageId,
        actor: message.sender,
        by: '',
      });
      const audit = [caseAudit('case.created', c), ...flagged.audit];
      const events = [
        caseEvent(NodeEventType.NODE_EVENT_TYPE_CASE_CREATED, c, summary, message.messageId),
        ...flagged.events,
      ];
      // Acknowledged at once (12.5): in the same batch, not in a commit of its own after this one.
      const acknowledged = this.deps.policies.get(message.sender).autoAcknowledge ? this.acknowledge(c) : undefined;
      await commit(
        [
          // A new case: nothing stored before it to reindex.
          ...this.deps.store.cases.indexed(c, undefined),
          indexOp(this.deps.store, key, c.caseId),
          indexOp(this.deps.store, chainKey(message.sender, c.chainId, c.caseId), c.caseId),
          ...(acknowledged?.operations ?? []),
        ],
        [...audit, ...(acknowledged?.audit ?? [])],
        [...events, ...(acknowledged?.events ?? [])],
      );
      acknowledged?.stored();
      created = c;
    });
    if (created) this.opened(created);
  }

  /** A received answer showing the weapon destroyed before its seizure sets the case's finding (19.5). */
  #recirculationOfAnswer(c: Case, decoded: WorkflowBody, messageId: string): ReturnType<typeof recirculationEntries> {
    if (decoded.kind !== K.MESSAGE_KIND_TRACE_ANSWER || c.recirculation) return { audit: [], events: [] };
    const finding = recirculationOfAnswer(c, decoded.body, { selfId: this.deps.selfId, nowMs: this.deps.clock.now() });
    if (!finding) return { audit: [], events: [] };
    c.recirculation = finding;
    return recirculationEntries(c, finding, messageId);
  }

  #applyInbound(c: Case, decoded: Exclude<WorkflowBody, { kind: MessageKind.MESSAGE_KIND_TRACE_REQUEST }>): string {
    switch (decoded.kind) {
      case K.MESSAGE_KIND_TRACE_ACKNOWLEDGEMENT:
        c.peerReference = decoded.body.requestedCaseReference;
        return `acknowledged by ${c.peer} as ${decoded.body.requestedCaseReference}`;
      case K.MESSAGE_KIND_CLARIFICATION_REQUEST:
        c.clarifications.push({
          clarificationId: decoded.body.clarificationId,
          question: decoded.body.question,
          answer: '',
          askedAtMs: this.deps.clock.now(),
          answeredAtMs: 0,
        });
        return `clarification requested by ${c.peer}`;
      case K.MESSAGE_KIND_CLARIFICATION_REPLY: {
        const open = c.clarifications.find(
          (q) => q.clarificationId === decoded.body.clarificationId && q.answeredAtMs === 0,
        );
        if (!open)
          throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'the reply names no open clarification', {
            field: 'body.clarification_id',
            rule: 'open_clarification',
          });
        Object.assign(open, { answer: decoded.body.answer, answeredAtMs: this.deps.clock.now() });
        if (decoded.body.weapon && c.request) c.request.weapon = decoded.body.weapon;
        return `clarification answered by ${c.peer}`;
      }
      case K.MESSAGE_KIND_TRACE_ANSWER:
        c.answer = this.disclosures.holdReceived(c, decoded.body);
        return `answer from ${c.peer}: ${describeAnswer(decoded.body)}`;
      case K.MESSAGE_KIND_TRACE_DELAY:
        this.book.applyDelay(c, decoded.body);
        return `delayed by ${c.peer}: ${reasonName(decoded.body.reason)}`;
      case K.MESSAGE_KIND_TRACE_RESTRICTION: {
        const partialAnswer = decoded.body.partialAnswer
          ? this.disclosures.holdReceived(c, decoded.body.partialAnswer)
          : undefined;
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
}
