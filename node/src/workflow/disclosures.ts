import {
  ApprovalStep,
  type Case,
  CaseRole,
  CaseState,
  DecideConsentRequest,
  type DisclosureNotice,
  ErrorCode,
  MessageKind,
  NodeEventType,
  OnwardDisclosure,
  ShareCaseRequest,
  type SharedInformation,
  type TraceAnswer,
  TracenetError,
  type UseRestrictions,
} from '@tracenet/proto';
import type { AuditEvent } from '../audit/audit-log.js';
import { isParticipantId } from '../identity/participant-id.js';
import type { CommitInbound, InboundMessage } from '../ports/inbound.js';
import {
  type CaseBook,
  caseAudit,
  caseEvent,
  emptyCase,
  newId,
  putCases,
  traceKey,
  type WorkflowDeps,
  stepBy,
} from './case-book.js';
import { type DisclosureBody, encodeDisclosureBody } from '../messages/bodies.js';
import { DAY_MS, disclosureBasis, onwardName, receivedRestrictions } from '../messages/restrictions.js';
import { kindName, stateName } from './state-machine.js';
import { requireText } from '../messages/validation.js';
import type { StepDraft } from './approvals.js';

const S = CaseState;
const K = MessageKind;

/**
 * Use restrictions, consent and disclosure (docs/protocol.md section 14): an officer shares a
 * received answer or asks or decides consent, and a peer's consent request, consent decision,
 * disclosure notice or shared information is taken onto its case. None of them moves the state.
 */
export class Disclosures {
  constructor(
    private readonly deps: WorkflowDeps,
    private readonly book: CaseBook,
  ) {}

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
      if (third === c.peer)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${third} gave the information`, {
          field: 'third_participant',
          rule: 'third_party',
        });
      const restrictions = answer.restrictions as UseRestrictions;
      const basis = disclosureBasis(restrictions, c.consents, third, c.peer);
      const now = this.deps.clock.now();
      // The third participant holds the information no longer than we may.
      const left =
        c.retainUntilMs > 0 ? Math.max(1, Math.ceil((c.retainUntilMs - now) / DAY_MS)) : restrictions.retentionDays;
      const shared: SharedInformation = {
        provider: c.peer,
        providerTraceId: c.traceId,
        answer,
        restrictions: { ...restrictions, retentionDays: Math.min(left, restrictions.retentionDays) },
        note,
      };
      return {
        messages: [
          {
            recipient: c.peer,
            message: {
              kind: K.MESSAGE_KIND_DISCLOSURE_NOTICE,
              traceId: c.traceId,
              body: { traceId: c.traceId, thirdParticipant: third, disclosedAtMs: now, basis },
            },
          },
          { recipient: third, message: { kind: K.MESSAGE_KIND_SHARED_INFORMATION, traceId: c.traceId, body: shared } },
        ],
        summary: `disclosed to ${third} (${basis}); ${c.peer} notified`,
        apply: (x, ids) =>
          x.disclosures.push({ thirdParticipant: third, disclosedAtMs: now, basis, messageId: ids[1] ?? '' }),
        audit: [
          { type: 'case.disclosed', fields: { caseId: c.caseId, traceId: c.traceId, provider: c.peer, third, basis } },
        ],
        approval: {
          step: ApprovalStep.APPROVAL_STEP_SHARE,
          summary: `share the answer of ${c.peer} with ${third} (${basis})`,
          reasons: this.#disclosureReasons(),
          input: JSON.stringify(ShareCaseRequest.toJSON({ caseId, thirdParticipant: third, note })),
        },
      };
    });
  }

  /** Asks the provider of an answer to consent to its disclosure to `third` (requester side). */
  async requestConsent(caseId: string, third: string, reason: string): Promise<Case> {
    this.#requireThird(third, false);
    requireText(reason, 'reason', 'the reason', 5000);
    return this.#sideStep(caseId, (c) => {
      this.#heldAnswer(c);
      if (third === c.peer)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${third} gave the information`, {
          field: 'third_participant',
          rule: 'third_party',
        });
      const consentId = newId();
      return {
        messages: [
          {
            recipient: c.peer,
            message: {
              kind: K.MESSAGE_KIND_CONSENT_REQUEST,
              traceId: c.traceId,
              body: { traceId: c.traceId, consentId, thirdParticipant: third, reason },
            },
          },
        ],
        summary: `consent asked of ${c.peer} to disclose to ${third}`,
        apply: (x) =>
          x.consents.push({
            consentId,
            thirdParticipant: third,
            reason,
            requestedAtMs: this.deps.clock.now(),
            decidedAtMs: 0,
            granted: false,
            conditions: '',
          }),
        audit: [
          {
            type: 'consent.requested',
            fields: { caseId: c.caseId, traceId: c.traceId, peer: c.peer, consentId, third },
          },
        ],
      };
    });
  }

  /**
   * Grants or refuses an open consent request of the requester (requested side). An empty
   * `consentId` names the only open request.
   */
  async decideConsent(caseId: string, consentId: string, granted: boolean, conditions: string): Promise<Case> {
    return this.#sideStep(caseId, (c) => {
      if (c.role !== CaseRole.CASE_ROLE_REQUESTED)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
          'only the provider of an answer decides on consent',
          { field: 'case_id', rule: 'provider_decides' },
        );
      const open = c.consents.filter((x) => x.decidedAtMs === 0 && (consentId === '' || x.consentId === consentId));
      const consent = open[0];
      if (!consent || (consentId === '' && open.length > 1)) {
        throw new TracenetError(
          ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
          consentId === '' && open.length > 1
            ? 'several consent requests are open; name one'
            : 'no such open consent request',
          {
            field: 'consent_id',
            rule: 'open_consent',
          },
        );
      }
      const id = consent.consentId;
      return {
        messages: [
          {
            recipient: c.peer,
            message: {
              kind: K.MESSAGE_KIND_CONSENT_DECISION,
              traceId: c.traceId,
              body: { traceId: c.traceId, consentId: id, granted, conditions },
            },
          },
        ],
        summary: `consent ${granted ? 'granted' : 'refused'} to ${c.peer} for ${consent.thirdParticipant}`,
        apply: (x) => {
          const item = x.consents.find((y) => y.consentId === id);
          if (item) Object.assign(item, { decidedAtMs: this.deps.clock.now(), granted, conditions });
        },
        audit: [
          {
            type: 'consent.decided',
            fields: {
              caseId: c.caseId,
              traceId: c.traceId,
              peer: c.peer,
              consentId: id,
              third: consent.thirdParticipant,
              granted,
            },
          },
        ],
        approval: {
          step: ApprovalStep.APPROVAL_STEP_CONSENT_DECISION,
          summary: `consent ${granted ? 'granted' : 'refused'} to ${c.peer} for ${consent.thirdParticipant}`,
          reasons: this.#disclosureReasons(),
          input: JSON.stringify(DecideConsentRequest.toJSON({ caseId, consentId: id, granted, conditions })),
        },
      };
    });
  }

  /** A received answer with its restrictions settled, and the case's retention started. */
  holdReceived(c: Case, answer: TraceAnswer): TraceAnswer {
    const restrictions = receivedRestrictions(answer, c.request?.intendedUse ?? '');
    c.retainUntilMs = this.deps.clock.now() + restrictions.retentionDays * DAY_MS;
    return { ...answer, restrictions };
  }

  /**
   * A peer's consent request, consent decision, disclosure notice or shared information. They do
   * not move the case's state; each has its own checks: only the requester asks and notifies, only
   * the provider decides, a decision answers an open request, and all need an answered case.
   */
  async accept(message: InboundMessage, decoded: DisclosureBody, commit: CommitInbound): Promise<void> {
    const now = this.deps.clock.now();
    if (decoded.kind === K.MESSAGE_KIND_SHARED_INFORMATION) {
      const shared = decoded.body;
      const c = emptyCase();
      Object.assign(c, {
        caseId: this.book.nextCaseId(),
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
      c.timeline.push({
        atMs: now,
        fromState: S.CASE_STATE_UNSPECIFIED,
        toState: c.state,
        summary,
        messageId: message.messageId,
        actor: message.sender,
        by: '',
      });
      await commit(
        await putCases(this.deps.store, [c]),
        [caseAudit('case.created', c)],
        [caseEvent(NodeEventType.NODE_EVENT_TYPE_CASE_CREATED, c, summary, message.messageId)],
      );
      return;
    }
    const fromRequester = decoded.kind !== K.MESSAGE_KIND_CONSENT_DECISION;
    const unknown = () =>
      new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no trace ${decoded.traceId} with ${message.sender}`, {
        field: 'body.trace_id',
        rule: 'known_trace',
      });
    const caseId = await this.deps.store.cases.traced(
      traceKey(fromRequester ? message.sender : this.deps.selfId, decoded.traceId),
    );
    if (caseId === undefined) throw unknown();
    await this.book.locks.run(caseId, async () => {
      const c = await this.book.get(caseId);
      if (c.peer !== message.sender) throw unknown();
      // Named like the state machine's refusals (docs/protocol.md 12.3): the field is the case.
      if (c.state === S.CASE_STATE_WITHDRAWN)
        throw new TracenetError(ErrorCode.ERROR_CODE_CASE_CLOSED, 'the case is withdrawn', {
          field: 'case_id',
          rule: 'case_open',
        });
      if (
        !(c.state === S.CASE_STATE_ANSWERED || c.state === S.CASE_STATE_RESTRICTED || c.state === S.CASE_STATE_CLOSED)
      ) {
        throw new TracenetError(
          ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
          `a ${kindName(decoded.kind)} needs an answered case; the case is ${stateName(c.state)}`,
          {
            field: 'case_id',
            rule: `${stateName(c.state)}+${kindName(decoded.kind).replace(/ /g, '_')}`,
          },
        );
      }
      let summary: string;
      let audit: AuditEvent;
      let eventType = NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED;
      const fields = { caseId: c.caseId, traceId: c.traceId, peer: c.peer };
      switch (decoded.kind) {
        case K.MESSAGE_KIND_CONSENT_REQUEST: {
          const b = decoded.body;
          if (c.consents.some((x) => x.consentId === b.consentId))
            throw new TracenetError(
              ErrorCode.ERROR_CODE_ALREADY_EXISTS,
              `consent request ${b.consentId} exists already`,
              { field: 'body.consent_id', rule: 'unique_consent' },
            );
          c.consents.push({
            consentId: b.consentId,
            thirdParticipant: b.thirdParticipant,
            reason: b.reason,
            requestedAtMs: now,
            decidedAtMs: 0,
            granted: false,
            conditions: '',
          });
          summary = `${c.peer} asks consent to disclose our answer to ${b.thirdParticipant}`;
          audit = {
            type: 'consent.requested',
            fields: { ...fields, consentId: b.consentId, third: b.thirdParticipant },
          };
          break;
        }
        case K.MESSAGE_KIND_CONSENT_DECISION: {
          const b = decoded.body;
          const open = c.consents.find((x) => x.consentId === b.consentId && x.decidedAtMs === 0);
          if (!open)
            throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'the decision names no open consent request', {
              field: 'body.consent_id',
              rule: 'open_consent',
            });
          Object.assign(open, { decidedAtMs: now, granted: b.granted, conditions: b.conditions });
          summary = `${c.peer} ${b.granted ? 'granted' : 'refused'} consent to disclose to ${open.thirdParticipant}`;
          audit = {
            type: 'consent.decided',
            fields: { ...fields, consentId: b.consentId, third: open.thirdParticipant, granted: b.granted },
          };
          break;
        }
        default: {
          const b = decoded.body as DisclosureNotice;
          const given = c.answer?.restrictions ?? c.restriction?.partialAnswer?.restrictions;
          // A notice cannot undo a disclosure; one without a basis we gave is recorded as such.
          const authorised =
            (b.basis === 'listed' &&
              given?.onwardDisclosure === OnwardDisclosure.ONWARD_DISCLOSURE_LISTED &&
              given.listedParticipants.includes(b.thirdParticipant)) ||
            c.consents.some(
              (x) => b.basis === `consent:${x.consentId}` && x.granted && x.thirdParticipant === b.thirdParticipant,
            );
          c.disclosures.push({
            thirdParticipant: b.thirdParticipant,
            disclosedAtMs: b.disclosedAtMs,
            basis: b.basis,
            messageId: message.messageId,
          });
          summary = `${c.peer} disclosed our answer to ${b.thirdParticipant} (${b.basis}${authorised ? '' : '; not a basis we gave'})`;
          audit = {
            type: 'disclosure.notified',
            fields: {
              ...fields,
              third: b.thirdParticipant,
              basis: b.basis,
              authorised,
              onward: onwardName(given?.onwardDisclosure ?? 0),
            },
          };
          eventType = NodeEventType.NODE_EVENT_TYPE_DISCLOSURE_NOTIFIED;
        }
      }
      c.timeline.push({
        atMs: now,
        fromState: c.state,
        toState: c.state,
        summary,
        messageId: message.messageId,
        actor: message.sender,
        by: '',
      });
      c.updatedAtMs = now;
      await commit(
        await putCases(this.deps.store, [c]),
        [audit, caseAudit('case.changed', c)],
        [caseEvent(eventType, c, summary, message.messageId)],
      );
    });
  }

  /** The answer a requester case holds, which it may ask to share or share. */
  #heldAnswer(c: Case): TraceAnswer {
    const answer = c.answer ?? c.restriction?.partialAnswer;
    const held =
      c.state === S.CASE_STATE_ANSWERED || c.state === S.CASE_STATE_RESTRICTED || c.state === S.CASE_STATE_CLOSED;
    if (c.role !== CaseRole.CASE_ROLE_REQUESTER || !held || !answer) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
        'only an answer this node received in one of its traces can be shared',
        { field: 'case_id', rule: 'answer_received' },
      );
    }
    if (c.purgedAtMs > 0)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
        'the answer was purged at the end of its retention',
        { field: 'case_id', rule: 'purged' },
      );
    return answer;
  }

  #requireThird(third: string, pinned: boolean): void {
    if (!isParticipantId(third))
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'third_participant must be a participant id', {
        field: 'third_participant',
        rule: 'participant_id',
      });
    if (third === this.deps.selfId)
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'a node cannot share with itself', {
        field: 'third_participant',
        rule: 'third_party',
      });
    if (pinned && !this.deps.isPinned(third))
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${third} is not a pinned peer`, {
        field: 'third_participant',
        rule: 'pinned_peer',
      });
  }

  /** Why a share or consent decision waits: the approval policy's `disclosures` (12.12). */
  #disclosureReasons(): string[] {
    return this.deps.approvals?.policy().disclosures ? ['approval policy: disclosure decisions'] : [];
  }

  /**
   * A local step beside the state machine: its messages and the case change in one batch. A step
   * the approval policy holds waits in the approvals queue instead (12.12).
   */
  async #sideStep(
    caseId: string,
    build: (c: Case) => {
      messages: Array<{ recipient: string; message: DisclosureBody }>;
      summary: string;
      apply: (c: Case, messageIds: string[]) => void;
      audit: AuditEvent[];
      approval?: Omit<StepDraft, 'caseId' | 'participantId'>;
    },
  ): Promise<Case> {
    return this.book.locks.run(caseId, async () => {
      const c = await this.book.get(caseId);
      if (c.state === S.CASE_STATE_WITHDRAWN)
        throw new TracenetError(ErrorCode.ERROR_CODE_CASE_CLOSED, 'the case is withdrawn', {
          field: 'case_id',
          rule: 'case_open',
        });
      const { messages, summary: built, apply, audit, approval } = build(c);
      const decision =
        approval && this.deps.approvals
          ? await this.deps.approvals.decide({ ...approval, caseId, participantId: c.peer })
          : {};
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
      const carried = decision.carried;
      const summary = `${built}${carried?.suffix ?? ''}`;
      const prepared = messages.map((m) =>
        this.deps.outbox.prepare({
          recipient: m.recipient,
          kind: m.message.kind,
          body: encodeDisclosureBody(m.message),
          correlationId: c.traceId,
          orderKey: c.traceId,
        }),
      );
      apply(
        c,
        prepared.map((p) => p.messageId),
      );
      const now = this.deps.clock.now();
      c.timeline.push({
        atMs: now,
        fromState: c.state,
        toState: c.state,
        summary,
        messageId: prepared[0]?.messageId ?? '',
        actor: 'local',
        by: stepBy('local'),
      });
      c.updatedAtMs = now;
      await this.book.write(
        [c],
        [...prepared.flatMap((p) => p.operations), ...(carried?.operations ?? [])],
        NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
        [...prepared.flatMap((p) => p.audit), ...audit, ...(carried?.audit ?? [])],
      );
      for (const p of prepared) p.schedule();
      return c;
    });
  }
}
