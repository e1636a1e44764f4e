import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Approval,
  type ApprovalActor,
  type ApprovalPolicy,
  ApprovalState,
  ApprovalStep,
  type Case,
  ErrorCode,
  type TraceAnswer,
  TracenetError,
} from '@tracenet/proto';
import { type Actor, currentActor } from '../access/actor.js';
import type { AuditEvent, Journal } from '../audit/audit-log.js';
import { padNumber, type Operation, type Store } from '../store/store.js';
import type { ApprovalPolicyRecord, ApprovalRecord } from '../store/repositories.js';
import type { Clock } from '../util/clock.js';
import { unsafeCharacter } from '../util/unsafe-text.js';

/** The policy of a node that never set one: no step waits (docs/protocol.md 12.12). */
export const NO_APPROVALS: ApprovalPolicyRecord = Object.freeze({
  answers: false,
  disclosures: false,
  refusals: false,
  policyChanges: false,
  automaticAnswers: false,
});

/** At most this many characters of an approver's note or a rejection's reason. */
const MAX_NOTE = 2000;

/** What a step that may need approval says about itself, built once its input is checked. */
export interface StepDraft {
  readonly step: ApprovalStep;
  readonly caseId: string;
  readonly participantId: string;
  /** What the step does, shown in the queue ("answer: traced: ..."). */
  readonly summary: string;
  /** Why it must wait; empty: it need not. */
  readonly reasons: readonly string[];
  /** The step's input as JSON, carried out on approval. */
  readonly input: string;
  /** Values the release policy releases only with approval (paths such as history[1].end_user). */
  readonly release?: readonly string[];
  readonly automatic?: boolean;
}

/** What a step carried out on approval adds to its own batch. */
export interface Carried {
  readonly approval: ApprovalRecord;
  readonly operations: Operation[];
  readonly audit: AuditEvent[];
  /** Appended to the step's timeline summary: " (drafted by officer o-1, approved by officer s-1)". */
  readonly suffix: string;
}

/** What a held step writes in its own batch: the queued approval, its audit entry and the case note. */
export interface Held {
  readonly approval: ApprovalRecord;
  readonly operations: Operation[];
  readonly audit: AuditEvent[];
  /** The timeline note of the case: "answer drafted by officer o-1; waits for approval apr-000001 (...)". */
  readonly note: string;
}

/** Carries out an approved step of one kind: it runs inside {@link Approvals.approve}. */
export type Executor = (approval: ApprovalRecord) => Promise<Case | undefined>;

interface Carrying {
  readonly approval: ApprovalRecord;
  consumed: boolean;
}

/** The name of a step in texts and audit entries: "answer", "peer_policy". */
export function stepName(step: ApprovalStep): string {
  return (ApprovalStep[step] ?? 'UNSPECIFIED').replace('APPROVAL_STEP_', '').toLowerCase();
}

/** "officer o-1", "client cms", "the node", "the bootstrap token". */
export function actorName(actor: { readonly kind: string; readonly id: string }): string {
  if (actor.kind === 'node') return 'the node';
  if (actor.kind === 'bootstrap') return 'the bootstrap token';
  return `${actor.kind} ${actor.id}`;
}

/** Whether an answer releases record information: a history, a last legal record, a diversion or a referral. */
export function releasesRecordInformation(
  answer: Pick<TraceAnswer, 'history' | 'lastLegalRecord' | 'pointOfDiversion' | 'referral'>,
): boolean {
  return (
    answer.history.length > 0 ||
    answer.lastLegalRecord !== '' ||
    answer.pointOfDiversion !== '' ||
    answer.referral !== undefined
  );
}

function stored(actor: Actor): { kind: string; id: string; session: string } {
  return { kind: actor.kind, id: actor.id, session: actor.session };
}

/** The API view of a queued step. */
export function toApproval(r: ApprovalRecord): Approval {
  const actor = (a: ApprovalRecord['drafter'] | undefined): ApprovalActor | undefined =>
    a ? { kind: a.kind, id: a.id, session: a.session } : undefined;
  return {
    approvalId: r.approvalId,
    step: r.step as ApprovalStep,
    caseId: r.caseId,
    summary: r.summary,
    reasons: [...r.reasons],
    drafter: actor(r.drafter),
    draftedAtMs: r.draftedAtMs,
    state:
      r.state === 'pending'
        ? ApprovalState.APPROVAL_STATE_PENDING
        : r.state === 'approved'
          ? ApprovalState.APPROVAL_STATE_APPROVED
          : ApprovalState.APPROVAL_STATE_REJECTED,
    approver: actor(r.approver),
    decidedAtMs: r.decidedAtMs ?? 0,
    note: r.note ?? '',
    participantId: r.participantId,
    // The step's input is the protobuf JSON of its request (12.12 item 6); none holds a secret.
    heldRequestJson: r.input,
  };
}

/**
 * Four-eyes approval (docs/protocol.md 12.12): the approval policy, the queue of steps waiting for
 * a supervisor, and the carrying out of an approved step. A step the policy names is not carried
 * out when drafted: it waits in the queue (with a note on its case) while the case's deadlines keep
 * running; a supervisor who is not the drafter approves it — the step is then carried out, in one
 * batch with the approval's record — or rejects it. Drafter and approver are both in the audit log
 * and in the case timeline.
 */
export class Approvals {
  #policy: ApprovalPolicyRecord = NO_APPROVALS;
  #seq = 0;
  readonly #carrying = new AsyncLocalStorage<Carrying>();
  readonly #held = new AsyncLocalStorage<{ approval?: ApprovalRecord }>();
  readonly #executors = new Map<ApprovalStep, Executor>();
  /** Approvals being decided now: a second decision of the same one waits for none, it is refused. */
  readonly #deciding = new Set<string>();
  /** Writes a note without a state change on a case, with extra writes in its batch (the case book's). */
  #noteCase:
    | ((caseId: string, summary: string, operations: Operation[], audit: AuditEvent[]) => Promise<void>)
    | undefined;

  constructor(private readonly deps: { store: Store; journal: Journal; clock: Clock }) {}

  /** Reads the policy and the last approval id. */
  async load(): Promise<void> {
    this.#policy = (await this.deps.store.approvals.policy.get()) ?? NO_APPROVALS;
    for await (const key of this.deps.store.approvals.queue.keys({ reverse: true, limit: 1 }))
      this.#seq = Number(key.slice('apr-'.length)) || 0;
  }

  /** Which steps wait for approval. */
  policy(): ApprovalPolicy {
    return { ...this.#policy };
  }

  /** Replaces the policy (an administrator's step), audited as `approval_policy.set`. */
  async setPolicy(policy: ApprovalPolicy): Promise<ApprovalPolicy> {
    const record: ApprovalPolicyRecord = {
      answers: policy.answers,
      disclosures: policy.disclosures,
      refusals: policy.refusals,
      policyChanges: policy.policyChanges,
      automaticAnswers: policy.automaticAnswers,
    };
    await this.deps.journal.write(
      [this.deps.store.approvals.policy.put(record)],
      [{ type: 'approval_policy.set', fields: record }],
    );
    this.#policy = record;
    return this.policy();
  }

  /** Sets how a held step of this kind is carried out once approved. */
  register(step: ApprovalStep, executor: Executor): void {
    this.#executors.set(step, executor);
  }

  /** Sets how a note goes on a case (the workflow's case book). */
  setCaseNotes(
    note: (caseId: string, summary: string, operations: Operation[], audit: AuditEvent[]) => Promise<void>,
  ): void {
    this.#noteCase = note;
  }

  /**
   * Runs `work` (an API call) and says which approval it queued, if any: the step it asked for then
   * waits in the queue instead of being carried out.
   */
  async collect<T>(work: () => Promise<T>): Promise<{ result: T; held: Approval | undefined }> {
    const box: { approval?: ApprovalRecord } = {};
    const result = await this.#held.run(box, work);
    return { result, held: box.approval ? toApproval(box.approval) : undefined };
  }

  /** The approval being carried out for this step, if `approve` is running it. */
  carrying(step: ApprovalStep, caseId: string): ApprovalRecord | undefined {
    const c = this.#carrying.getStore();
    return c && c.approval.step === step && c.approval.caseId === caseId ? c.approval : undefined;
  }

  /**
   * Decides a step under its case's lock: when `approve` is carrying it out, the writes of the
   * decision for the step's batch (`carried`); when the policy holds it, the queued approval for the
   * step's batch instead of the step (`held`); else nothing (the step goes ahead as it is). A second
   * held step of the same kind on a case is refused (ALREADY_EXISTS, `one_pending_approval`), but an
   * automatic answer already waiting is simply not drafted again (`duplicate`).
   */
  async decide(draft: StepDraft): Promise<{ carried?: Carried; held?: Held; duplicate?: boolean }> {
    const carrying = this.#carrying.getStore();
    if (carrying && carrying.approval.step === draft.step && carrying.approval.caseId === draft.caseId) {
      carrying.consumed = true;
      const { operations, audit, approval, suffix } = this.#decided(carrying.approval, 'approved', '');
      return { carried: { approval, operations, audit, suffix } };
    }
    if (draft.reasons.length === 0) return {};
    if (draft.caseId !== '') {
      const waiting = await this.#pendingFor(draft.caseId, draft.step);
      if (waiting) {
        if (draft.automatic) return { duplicate: true };
        throw new TracenetError(
          ErrorCode.ERROR_CODE_ALREADY_EXISTS,
          `${waiting.approvalId} (${stepName(draft.step)}) waits for approval on ${draft.caseId}; a supervisor rejects it before another is drafted`,
          { field: 'case_id', rule: 'one_pending_approval' },
        );
      }
    }
    const drafter = draft.automatic ? { kind: 'node', id: '', session: '' } : stored(currentActor());
    this.#seq += 1;
    const approval: ApprovalRecord = {
      approvalId: `apr-${padNumber(this.#seq, 6)}`,
      step: draft.step,
      caseId: draft.caseId,
      participantId: draft.participantId,
      summary: draft.summary,
      reasons: [...draft.reasons],
      input: draft.input,
      release: [...(draft.release ?? [])],
      automatic: draft.automatic ?? false,
      drafter,
      draftedAtMs: this.deps.clock.now(),
      state: 'pending',
    };
    const box = this.#held.getStore();
    if (box) box.approval = approval;
    return {
      held: {
        approval,
        operations: [this.deps.store.approvals.queue.put(approval.approvalId, approval)],
        audit: [{ type: 'approval.drafted', fields: this.#auditFields(approval) }],
        note: `${stepName(draft.step)} drafted by ${actorName(drafter)}; waits for approval ${approval.approvalId} (${draft.reasons.join('; ')})`,
      },
    };
  }

  /**
   * A step that is not a case's (a policy or peer change): when the policy holds it, queues it and
   * returns the approval; when `approve` is carrying it out, or the policy does not hold it,
   * undefined (go ahead).
   */
  async hold(draft: StepDraft): Promise<Approval | undefined> {
    if (this.carrying(draft.step, draft.caseId)) return undefined;
    const { held } = await this.decide(draft);
    if (!held) return undefined;
    await this.deps.journal.write(held.operations, held.audit);
    return toApproval(held.approval);
  }

  /** One approval. Throws NOT_FOUND. */
  async get(approvalId: string): Promise<ApprovalRecord> {
    const found = approvalId === '' ? undefined : await this.deps.store.approvals.queue.get(approvalId);
    if (!found)
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no approval ${approvalId || '(empty id)'}`, {
        field: 'approval_id',
        rule: approvalId === '' ? 'required' : 'exists',
      });
    return found;
  }

  /** The queue, newest first: the pending steps, or every one with `all`. */
  async list(filter: {
    all?: boolean;
    caseId?: string;
    limit?: number;
    cursor?: string;
  }): Promise<{ approvals: Approval[]; nextCursor: string }> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 500);
    const approvals: Approval[] = [];
    let last = '';
    const range = filter.cursor ? { reverse: true, lt: filter.cursor } : { reverse: true };
    for await (const r of this.deps.store.approvals.queue.values(range)) {
      if (!filter.all && r.state !== 'pending') continue;
      if (filter.caseId && r.caseId !== filter.caseId) continue;
      if (approvals.length === limit) return { approvals, nextCursor: last };
      approvals.push(toApproval(r));
      last = r.approvalId;
    }
    return { approvals, nextCursor: '' };
  }

  /**
   * Approves a waiting step and carries it out, in one batch with the decision for a case step.
   * The approver holds `supervisor` and is not the drafter (FORBIDDEN, `supervisor_role` /
   * `four_eyes`). A step that can no longer be carried out (the case moved on) fails with the
   * step's own error and stays pending: reject it.
   */
  async approve(approvalId: string, note: string): Promise<{ approval: Approval; case: Case | undefined }> {
    return this.#once(approvalId, async () => {
      const approval = await this.#decidable(approvalId, note);
      const executor = this.#executors.get(approval.step as ApprovalStep);
      if (!executor)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_UNIMPLEMENTED,
          `no way to carry out a ${stepName(approval.step)} here`,
          {
            field: 'approval_id',
            rule: 'step_kind',
          },
        );
      const withNote = { ...approval, note };
      const carrying: Carrying = { approval: withNote, consumed: false };
      const changed = await this.#carrying.run(carrying, () => executor(withNote));
      const done = this.#decided(withNote, 'approved', note);
      if (!carrying.consumed) await this.deps.journal.write(done.operations, done.audit);
      return { approval: toApproval(done.approval), case: changed };
    });
  }

  /** Rejects a waiting step: nothing of it is carried out; its case gets a note. Same checks as approve. */
  async reject(approvalId: string, reason: string): Promise<{ approval: Approval }> {
    return this.#once(approvalId, async () => {
      const approval = await this.#decidable(approvalId, reason);
      const done = this.#decided(approval, 'rejected', reason);
      const summary = `${stepName(approval.step)} drafted by ${actorName(approval.drafter)} rejected by ${actorName(currentActor())} (${approval.approvalId})${reason ? `: ${reason}` : ''}`;
      if (approval.caseId !== '' && this.#noteCase)
        await this.#noteCase(approval.caseId, summary, done.operations, done.audit);
      else await this.deps.journal.write(done.operations, done.audit);
      return { approval: toApproval(done.approval) };
    });
  }

  /**
   * Runs one decision of `approvalId` at a time: two supervisors approving the same step at once
   * must not carry it out twice (ILLEGAL_TRANSITION, `pending_approval`, for the second).
   */
  async #once<T>(approvalId: string, decide: () => Promise<T>): Promise<T> {
    if (this.#deciding.has(approvalId))
      throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, `${approvalId} is being decided`, {
        field: 'approval_id',
        rule: 'pending_approval',
      });
    this.#deciding.add(approvalId);
    try {
      return await decide();
    } finally {
      this.#deciding.delete(approvalId);
    }
  }

  async #decidable(approvalId: string, note: string): Promise<ApprovalRecord> {
    if (note.length > MAX_NOTE)
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `the note is at most ${MAX_NOTE} characters`, {
        field: 'note',
        rule: 'max_length',
      });
    // The note goes into the case timeline and the audit log: no character that changes how they
    // show (docs/protocol.md 2.3); line breaks and tabs of a multi-line note are kept.
    const unsafe = unsafeCharacter(note.replace(/[\n\t]/g, ' '));
    if (unsafe)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `the note contains ${unsafe}, a control or format character (docs/protocol.md 2.3)`,
        { field: 'note', rule: 'control_character' },
      );
    const approval = await this.get(approvalId);
    if (approval.state !== 'pending')
      throw new TracenetError(ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION, `${approvalId} is ${approval.state} already`, {
        field: 'approval_id',
        rule: 'pending_approval',
      });
    const actor = currentActor();
    if (!actor.roles.includes('supervisor'))
      throw new TracenetError(ErrorCode.ERROR_CODE_FORBIDDEN, 'only a supervisor approves or rejects a step', {
        field: 'authorization',
        rule: 'supervisor_role',
      });
    if (actor.kind === approval.drafter.kind && actor.id === approval.drafter.id)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_FORBIDDEN,
        'the drafter of a step cannot approve or reject it: another supervisor does',
        {
          field: 'authorization',
          rule: 'four_eyes',
        },
      );
    return approval;
  }

  #decided(approval: ApprovalRecord, state: 'approved' | 'rejected', note: string): Carried {
    const approver = currentActor();
    const decided: ApprovalRecord = {
      ...approval,
      state,
      approver: stored(approver),
      decidedAtMs: this.deps.clock.now(),
      note: note || approval.note || '',
    };
    return {
      approval: decided,
      operations: [this.deps.store.approvals.queue.put(decided.approvalId, decided)],
      audit: [
        {
          type: state === 'approved' ? 'approval.approved' : 'approval.rejected',
          fields: {
            ...this.#auditFields(decided),
            approverKind: approver.kind,
            approverId: approver.id,
            approverSession: approver.session,
          },
        },
      ],
      suffix: ` (drafted by ${actorName(approval.drafter)}, approved by ${actorName(approver)}, ${approval.approvalId})`,
    };
  }

  #auditFields(a: ApprovalRecord): Record<string, string> {
    return {
      approvalId: a.approvalId,
      step: stepName(a.step),
      caseId: a.caseId,
      participantId: a.participantId,
      drafterKind: a.drafter.kind,
      drafterId: a.drafter.id,
      drafterSession: a.drafter.session,
    };
  }

  async #pendingFor(caseId: string, step: ApprovalStep): Promise<ApprovalRecord | undefined> {
    for await (const r of this.deps.store.approvals.queue.values())
      if (r.state === 'pending' && r.caseId === caseId && r.step === step) return r;
    return undefined;
  }
}
