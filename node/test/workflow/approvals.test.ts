import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AnswerCaseRequest,
  ApprovalState,
  ApprovalStep,
  AuthorityClient,
  type AuthorityServer,
  type Case,
  CasesClient,
  type CasesServer,
  CaseState as S,
  ErrorCode,
  ListApprovalsRequest,
  PeerPolicy,
  PROTO_FILES,
  PROTO_ROOT,
  ReasonCode,
  ReleaseAction as A,
  SetPeerPolicyRequest,
  TraceOutcome,
  TracenetError,
  WeaponEventType as E,
  WeaponStatus,
  type WeaponRecord,
} from '@tracenet/proto';
import { type Actor, runAs } from '../../src/access/actor.js';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import type { TracenetNode } from '../../src/node.js';
import { ManualClock } from '../../src/util/clock.js';
import { Approvals } from '../../src/workflow/approvals.js';
import { event, weapon } from '../records/support.js';
import { pinAll, startNode, type TestNode, waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';

/**
 * Four-eyes approval between two real nodes on LevelDB (docs/protocol.md 12.12): BEL's approval
 * policy holds answers, refusals, automatic answers and policy changes for a supervisor other than
 * the drafter; FRA asks.
 */

const BUYER = 'Jean Martin, rue des Fossés 3, Namur';
const officer: Actor = { kind: 'officer', id: 'o-anna', roles: ['officer'], session: 'sess-anna' };
/** An officer who is also a supervisor: she still cannot approve what she drafted. */
const chief: Actor = { kind: 'officer', id: 'o-chief', roles: ['officer', 'supervisor'], session: 'sess-chief' };
const supervisor: Actor = { kind: 'officer', id: 's-bruno', roles: ['supervisor'], session: 'sess-bruno' };

function pistol(serialNumber: string): WeaponRecord {
  return weapon(
    {
      imports: [],
      status: WeaponStatus.WEAPON_STATUS_REGISTERED,
      events: [
        event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2011-05-17', { place: 'Herstal', agency: 'FN Herstal' }),
        event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2016-04-08', { place: 'Namur', endUser: BUYER }),
      ],
    },
    {
      manufacturer: 'FN Herstal',
      serialNumber,
      model: 'FNX-45',
      type: traceRequest().weapon?.markings?.type ?? 0,
      calibre: '.45 ACP',
      year: 2011,
    },
  );
}

async function failure(work: Promise<unknown>): Promise<TracenetError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => TracenetError.from(e),
  );
  if (!error) throw new Error('the step was not refused');
  return error;
}

describe('four-eyes approval', () => {
  const clock = new ManualClock(Math.max(Date.UTC(2026, 0, 5, 9), Date.now()));
  let fra: TestNode;
  let bel: TestNode;
  let fraCases: UnaryClient<CasesServer>;
  let belCases: UnaryClient<CasesServer>;
  let belAuthority: UnaryClient<AuthorityServer>;

  beforeAll(async () => {
    fra = await startNode('FRA', { clock });
    bel = await startNode('BEL', { clock });
    await pinAll([fra.node, bel.node], clock.now());
    const token = await readAuthorityToken(bel.dataDir);
    fraCases = connectUnary<CasesServer>(CasesClient, fra.node.authorityAddress, await readAuthorityToken(fra.dataDir));
    belCases = connectUnary<CasesServer>(CasesClient, bel.node.authorityAddress, token);
    belAuthority = connectUnary<AuthorityServer>(AuthorityClient, bel.node.authorityAddress, token);
    await bel.node.policies.set(
      PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: true, answerWithinMs: 60_000 }),
    );
    for (const serial of ['FX-0001', 'FX-0002', 'FX-0003', 'FX-0004']) await bel.node.records.put(pistol(serial));
    await belCases.call('setApprovalPolicy', {
      policy: { answers: true, refusals: true, disclosures: true, policyChanges: true, automaticAnswers: true },
    });
  });
  afterAll(async () => {
    fraCases?.close();
    belCases?.close();
    belAuthority?.close();
    await fra?.cleanup();
    await bel?.cleanup();
  });

  async function trace(serialNumber: string): Promise<{ mine: Case; theirs: Case }> {
    const { case: sent } = await fraCases.call('createCase', {
      recipient: 'BEL',
      request: traceRequest({}, { serialNumber }),
      send: true,
    });
    const mine = sent as Case;
    let theirs: Case | undefined;
    await waitFor(async () => {
      theirs = (await bel.node.workflow.list({ limit: 500 })).cases.find((c) => c.traceId === mine.traceId);
      return theirs !== undefined;
    });
    return { mine, theirs: theirs as Case };
  }

  async function until(node: TracenetNode, caseId: string, state: S): Promise<Case> {
    await waitFor(async () => (await node.workflow.get(caseId)).state === state, 10_000, `${caseId} in ${S[state]}`);
    return node.workflow.get(caseId);
  }

  async function audit(type: string): Promise<Array<Record<string, unknown>>> {
    const found: Array<Record<string, unknown>> = [];
    for await (const value of bel.node.store.audit.entries.values()) {
      const entry = JSON.parse(value.line) as Record<string, unknown>;
      if (entry.type === type) found.push(entry);
    }
    return found;
  }

  it('an officer drafts an answer; it waits while the deadline runs; another supervisor approves it', async () => {
    const { mine, theirs } = await trace('FX-0001');
    await runAs(officer, () => bel.node.workflow.acknowledge(theirs.caseId));
    const input = {
      outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
      lastLegalRecord: 'transferred 2016-04-08 at Namur',
      pointOfDiversion: '',
      referral: undefined,
      history: pistol('FX-0001').events,
      details: '',
      restrictions: undefined,
    };
    const { result: waiting, held } = await bel.node.approvals.collect(() =>
      runAs(officer, () => bel.node.workflow.answer(theirs.caseId, input)),
    );
    expect(waiting.state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(waiting.answer).toBeUndefined();
    expect(held).toMatchObject({
      step: ApprovalStep.APPROVAL_STEP_ANSWER,
      caseId: theirs.caseId,
      state: ApprovalState.APPROVAL_STATE_PENDING,
      drafter: { kind: 'officer', id: 'o-anna', session: 'sess-anna' },
      reasons: ['approval policy: answers releasing record information'],
    });
    const approvalId = held?.approvalId ?? '';
    expect(waiting.timeline.at(-1)?.summary).toBe(
      `answer drafted by officer o-anna; waits for approval ${approvalId} (approval policy: answers releasing record information)`,
    );
    // Nothing went to FRA: its case stays acknowledged.
    await until(fra.node, mine.caseId, S.CASE_STATE_ACKNOWLEDGED);

    // Listed through the Cases API, pending.
    const listed = await belCases.call('listApprovals', ListApprovalsRequest.fromPartial({}));
    expect(listed.approvals.map((a) => a.approvalId)).toContain(approvalId);
    // With the held request: the answer as it would be sent, as AnswerCaseRequest's protobuf JSON.
    const listedAnswer = listed.approvals.find((a) => a.approvalId === approvalId);
    const heldRequest = AnswerCaseRequest.fromJSON(JSON.parse(listedAnswer?.heldRequestJson ?? '{}'));
    expect(heldRequest).toMatchObject({
      caseId: theirs.caseId,
      outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
      lastLegalRecord: 'transferred 2016-04-08 at Namur',
    });
    expect(heldRequest.history.map((e) => [e.type, e.place, e.endUser])).toEqual([
      [E.WEAPON_EVENT_TYPE_MANUFACTURED, 'Herstal', ''],
      [E.WEAPON_EVENT_TYPE_TRANSFERRED, 'Namur', BUYER],
    ]);
    expect(held?.heldRequestJson).toBe(listedAnswer?.heldRequestJson);

    // A second draft of the same step on the case is refused.
    const twice = await failure(runAs(officer, () => bel.node.workflow.answer(theirs.caseId, input)));
    expect(twice).toMatchObject({ code: ErrorCode.ERROR_CODE_ALREADY_EXISTS, rule: 'one_pending_approval' });

    // The deadline keeps running while the answer waits.
    const due = (await bel.node.workflow.get(theirs.caseId)).answerDueAtMs;
    clock.set(due + 1);
    await bel.node.workflow.checkDeadlines();
    expect((await bel.node.workflow.get(theirs.caseId)).overdue).toBe(true);

    // Not by someone without the supervisor role, not by the drafter, not by nobody.
    expect(await failure(runAs(officer, () => bel.node.approvals.approve(approvalId, '')))).toMatchObject({
      code: ErrorCode.ERROR_CODE_FORBIDDEN,
      rule: 'supervisor_role',
    });
    expect(await failure(bel.node.approvals.approve(approvalId, ''))).toMatchObject({ rule: 'supervisor_role' });
    const byChief = await bel.node.approvals.collect(() =>
      runAs(chief, () => bel.node.workflow.refuse(theirs.caseId, ReasonCode.REASON_CODE_OTHER, 'no')),
    );
    const refusalId = byChief.held?.approvalId ?? '';
    expect(await failure(runAs(chief, () => bel.node.approvals.approve(refusalId, '')))).toMatchObject({
      code: ErrorCode.ERROR_CODE_FORBIDDEN,
      rule: 'four_eyes',
    });
    // The refusal is rejected by another supervisor: nothing is sent, the case says so.
    const rejected = await runAs(supervisor, () => bel.node.approvals.reject(refusalId, 'we hold the record'));
    expect(rejected.approval.state).toBe(ApprovalState.APPROVAL_STATE_REJECTED);
    expect((await bel.node.workflow.get(theirs.caseId)).timeline.at(-1)?.summary).toBe(
      `refusal drafted by officer o-chief rejected by officer s-bruno (${refusalId}): we hold the record`,
    );

    // Approved by the supervisor: the answer goes, with both names on the timeline and in the audit.
    const approved = await runAs(supervisor, () => bel.node.approvals.approve(approvalId, 'checked'));
    expect(approved.approval).toMatchObject({
      state: ApprovalState.APPROVAL_STATE_APPROVED,
      approver: { kind: 'officer', id: 's-bruno', session: 'sess-bruno' },
      note: 'checked',
    });
    expect(approved.case?.state).toBe(S.CASE_STATE_ANSWERED);
    expect(approved.case?.timeline.at(-1)?.summary).toMatch(
      new RegExp(`^answered: traced: .* \\(drafted by officer o-anna, approved by officer s-bruno, ${approvalId}\\)$`),
    );
    // Who took each step (TimelineEntry.by): the officer who acknowledged, the supervisor who
    // carried the answer out; nobody of this node for FRA's request.
    const steps = approved.case?.timeline ?? [];
    expect(steps.find((e) => e.actor === 'FRA')?.by).toBe('');
    expect(steps.filter((e) => e.actor === 'local').map((e) => e.by)).toContain('officer:o-anna');
    expect(steps.at(-1)?.by).toBe('officer:s-bruno');
    const received = await until(fra.node, mine.caseId, S.CASE_STATE_ANSWERED);
    expect(received.answer?.history[1]?.endUser).toBe(BUYER);
    expect(await audit('approval.drafted')).toContainEqual(
      expect.objectContaining({ approvalId, step: 'answer', drafterKind: 'officer', drafterId: 'o-anna' }),
    );
    expect(await audit('approval.approved')).toContainEqual(
      expect.objectContaining({
        approvalId,
        drafterId: 'o-anna',
        approverId: 's-bruno',
        approverSession: 'sess-bruno',
      }),
    );
    expect(await audit('approval.rejected')).toContainEqual(
      expect.objectContaining({ approvalId: refusalId, drafterId: 'o-chief', approverId: 's-bruno' }),
    );
    // Decided once.
    expect(await failure(runAs(supervisor, () => bel.node.approvals.approve(approvalId, '')))).toMatchObject({
      code: ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
      rule: 'pending_approval',
    });
    const pending = await belCases.call('listApprovals', ListApprovalsRequest.fromPartial({ caseId: theirs.caseId }));
    expect(pending.approvals).toEqual([]);
    const every = await belCases.call(
      'listApprovals',
      ListApprovalsRequest.fromPartial({ caseId: theirs.caseId, all: true }),
    );
    expect(every.approvals.map((a) => a.approvalId)).toEqual([refusalId, approvalId]);
  });

  it('an automatic answer waits drafted by the node; an APPROVAL value is released by the approval', async () => {
    await bel.node.policies.set(
      PeerPolicy.fromPartial({
        participantId: 'FRA',
        acceptRequests: true,
        autoAnswer: true,
        releaseRules: [{ field: 'history.end_user', action: A.RELEASE_ACTION_APPROVAL, reason: 'supervisor' }],
      }),
    );
    const { mine, theirs } = await trace('FX-0002');
    let approvalId = '';
    await waitFor(async () => {
      const found = await bel.node.approvals.list({ caseId: theirs.caseId });
      approvalId = found.approvals[0]?.approvalId ?? '';
      return approvalId !== '';
    });
    // A restart runs the automatic steps again: the waiting answer is not drafted twice.
    await bel.node.workflow.stop();
    await bel.node.workflow.start();
    const [approval, ...more] = (await bel.node.approvals.list({ caseId: theirs.caseId })).approvals;
    expect(more).toEqual([]);
    expect(approval).toMatchObject({
      approvalId,
      drafter: { kind: 'node', id: '', session: '' },
      reasons: [
        'approval policy: automatic answers',
        'release policy: history[1].end_user (FRA release_rules[0]: supervisor)',
      ],
    });
    expect((await bel.node.workflow.get(theirs.caseId)).state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    await runAs(chief, () => bel.node.approvals.approve(approvalId, ''));
    const received = await until(fra.node, mine.caseId, S.CASE_STATE_ANSWERED);
    expect(received.answer?.automatic).toBe(true);
    expect(received.answer?.history[1]?.endUser).toBe(BUYER);
    expect(received.answer?.withheld).toEqual([]);
  });

  it('a manual answer with an APPROVAL value waits instead of being refused; the approval releases it', async () => {
    await bel.node.policies.set(
      PeerPolicy.fromPartial({
        participantId: 'FRA',
        acceptRequests: true,
        autoAcknowledge: true,
        releaseRules: [{ field: 'history.end_user', action: A.RELEASE_ACTION_APPROVAL, reason: 'supervisor' }],
      }),
    );
    const { mine, theirs } = await trace('FX-0003');
    await until(bel.node, theirs.caseId, S.CASE_STATE_ACKNOWLEDGED);
    const response = await belCases.call(
      'answerCase',
      AnswerCaseRequest.fromPartial({
        caseId: theirs.caseId,
        outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
        lastLegalRecord: 'sold in Namur, 2016',
        history: pistol('FX-0003').events,
      }),
    );
    expect(response.case?.state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(response.pendingApproval?.reasons).toContain(
      'release policy: history[1].end_user (FRA release_rules[0]: supervisor)',
    );
    await runAs(supervisor, () => bel.node.approvals.approve(response.pendingApproval?.approvalId ?? '', ''));
    const received = await until(fra.node, mine.caseId, S.CASE_STATE_ANSWERED);
    expect(received.answer?.history[1]?.endUser).toBe(BUYER);
  });

  it('a restriction with a partial answer and a consent decision wait too; each is carried out on approval', async () => {
    await bel.node.policies.set(
      PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: true, autoAcknowledge: true }),
    );
    const { mine, theirs } = await trace('FX-0004');
    await until(bel.node, theirs.caseId, S.CASE_STATE_ACKNOWLEDGED);
    const partial = {
      outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
      lastLegalRecord: 'manufactured 2011 at Herstal',
      pointOfDiversion: '',
      referral: undefined,
      history: pistol('FX-0004').events.slice(0, 1),
      details: '',
      restrictions: undefined,
    };
    const restricted = await bel.node.approvals.collect(() =>
      runAs(officer, () =>
        bel.node.workflow.restrict(
          theirs.caseId,
          ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION,
          'pending',
          partial,
        ),
      ),
    );
    expect(restricted.result.state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(restricted.held).toMatchObject({
      step: ApprovalStep.APPROVAL_STEP_RESTRICTION,
      reasons: ['approval policy: answers releasing record information'],
    });
    await runAs(supervisor, () => bel.node.approvals.approve(restricted.held?.approvalId ?? '', ''));
    const received = await until(fra.node, mine.caseId, S.CASE_STATE_RESTRICTED);
    expect(received.restriction?.partialAnswer?.history).toHaveLength(1);

    // FRA asks consent to pass the answer on; BEL's officer grants it; it waits for a supervisor.
    await fra.node.workflow.requestConsent(mine.caseId, 'org:un-panel', 'panel of experts, resolution 2345');
    await waitFor(async () => (await bel.node.workflow.get(theirs.caseId)).consents.length === 1);
    const decided = await bel.node.approvals.collect(() =>
      runAs(officer, () => bel.node.workflow.decideConsent(theirs.caseId, '', true, 'for the panel only')),
    );
    expect(decided.held).toMatchObject({
      step: ApprovalStep.APPROVAL_STEP_CONSENT_DECISION,
      reasons: ['approval policy: disclosure decisions'],
    });
    expect((await bel.node.workflow.get(theirs.caseId)).consents[0]?.decidedAtMs).toBe(0);
    await runAs(supervisor, () => bel.node.approvals.approve(decided.held?.approvalId ?? '', ''));
    await waitFor(async () => (await fra.node.workflow.get(mine.caseId)).consents[0]?.granted === true);
    expect((await bel.node.workflow.get(theirs.caseId)).timeline.at(-1)?.summary).toMatch(
      /^consent granted to FRA for org:un-panel \(drafted by officer o-anna, approved by officer s-bruno, apr-\d{6}\)$/,
    );
  });

  it('two supervisors approving at once carry the step out once', async () => {
    const { mine, theirs } = await trace('FX-0099');
    await until(bel.node, theirs.caseId, S.CASE_STATE_ACKNOWLEDGED);
    const { held } = await bel.node.approvals.collect(() =>
      runAs(officer, () => bel.node.workflow.refuse(theirs.caseId, ReasonCode.REASON_CODE_OTHER, 'out of scope')),
    );
    const approvalId = held?.approvalId ?? '';
    const outcomes = await Promise.allSettled([
      runAs(supervisor, () => bel.node.approvals.approve(approvalId, '')),
      runAs(chief, () => bel.node.approvals.approve(approvalId, '')),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const second = outcomes.find((o) => o.status === 'rejected');
    expect(TracenetError.from((second as PromiseRejectedResult).reason)).toMatchObject({
      code: ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
      rule: 'pending_approval',
    });
    await until(fra.node, mine.caseId, S.CASE_STATE_REFUSED);
    const refusals = (await bel.node.workflow.get(theirs.caseId)).timeline.filter(
      (t) => t.toState === S.CASE_STATE_REFUSED,
    );
    expect(refusals).toHaveLength(1);
  });

  it('a peer policy change waits; the queue and the policy survive a new load of the store', async () => {
    const before = bel.node.policies.get('FRA');
    const response = await belAuthority.call('setPeerPolicy', {
      policy: PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: false }),
    });
    const approvalId = response.pendingApproval?.approvalId ?? '';
    expect(response.pendingApproval).toMatchObject({
      step: ApprovalStep.APPROVAL_STEP_PEER_POLICY,
      participantId: 'FRA',
      reasons: ['approval policy: policy and peer changes'],
    });
    expect(bel.node.policies.get('FRA')).toEqual(before);
    // The held change is the SetPeerPolicyRequest itself: the approver sees the new values.
    expect(SetPeerPolicyRequest.fromJSON(JSON.parse(response.pendingApproval?.heldRequestJson ?? '{}'))).toEqual({
      policy: PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: false }),
    });
    // An invalid change is refused when drafted, not queued.
    const bad = await failure(
      belAuthority.call('setPeerPolicy', {
        policy: PeerPolicy.fromPartial({ participantId: 'FRA', answerWithinMs: -1 }),
      }),
    );
    expect(bad).toMatchObject({ field: 'policy.answer_within_ms', rule: 'non_negative' });

    const again = new Approvals({ store: bel.node.store, journal: bel.node.journal, clock });
    await again.load();
    expect(again.policy()).toEqual({
      answers: true,
      refusals: true,
      disclosures: true,
      policyChanges: true,
      automaticAnswers: true,
    });
    expect((await again.list({})).approvals.map((a) => a.approvalId)).toEqual([approvalId]);

    // Removing a peer waits the same way; rejected, the peer stays pinned.
    const removal = await belAuthority.call('removePeer', { participantId: 'FRA' });
    expect(removal.pendingApproval).toMatchObject({
      step: ApprovalStep.APPROVAL_STEP_REMOVE_PEER,
      participantId: 'FRA',
    });
    expect(removal.peer).toBeUndefined();
    const rejected = await runAs(supervisor, () =>
      bel.node.approvals.reject(removal.pendingApproval?.approvalId ?? '', 'FRA is a partner'),
    );
    expect(rejected.approval.state).toBe(ApprovalState.APPROVAL_STATE_REJECTED);
    expect(bel.node.peers.get('FRA')).toBeDefined();
    expect(await audit('approval.rejected')).toContainEqual(
      expect.objectContaining({ step: 'remove_peer', participantId: 'FRA', approverId: 's-bruno' }),
    );

    await runAs(supervisor, () => bel.node.approvals.approve(approvalId, ''));
    expect(bel.node.policies.get('FRA').acceptRequests).toBe(false);
    expect(await audit('policy.set')).toContainEqual(expect.objectContaining({ peer: 'FRA', acceptRequests: false }));
    expect(await audit('approval.approved')).toContainEqual(
      expect.objectContaining({ approvalId, step: 'peer_policy', participantId: 'FRA', approverId: 's-bruno' }),
    );
  });

  it('bad input: an unknown or empty approval id is NOT_FOUND, a long note or a control character INVALID_FIELD; nothing is written', async () => {
    expect(await failure(belCases.call('approveStep', { approvalId: 'apr-999999', note: '' }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
      field: 'approval_id',
      rule: 'exists',
    });
    expect(await failure(belCases.call('rejectStep', { approvalId: '', reason: '' }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
      field: 'approval_id',
      rule: 'required',
    });
    expect(
      await failure(belCases.call('rejectStep', { approvalId: 'apr-000001', reason: 'x'.repeat(2001) })),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, field: 'note', rule: 'max_length' });
    // A note shows in the case timeline and the audit log: no control or bidi character (2.3).
    for (const reason of ['stop\u001b[2J', 'fine\u202egnp.exe'])
      expect(await failure(belCases.call('rejectStep', { approvalId: 'apr-000001', reason }))).toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'note',
        rule: 'control_character',
      });
    expect(
      await failure(belCases.call('listApprovals', ListApprovalsRequest.fromPartial({ limit: 501 }))),
    ).toMatchObject({
      field: 'limit',
      rule: 'max',
    });
  });
});

describe('held_request_json carries no secret', () => {
  // The request type of each step (docs/protocol.md 12.12 item 6), walked field by field through
  // every message it nests: no field may hold a password, a token, a private key or a TOTP secret.
  const HELD: Record<string, string> = {
    answer: 'AnswerCaseRequest',
    restriction: 'RestrictCaseRequest',
    refusal: 'RefuseCaseRequest',
    share: 'ShareCaseRequest',
    consent_decision: 'DecideConsentRequest',
    peer_policy: 'SetPeerPolicyRequest',
    add_peer: 'AddPeerRequest',
    add_peer_card: 'PeerCardBody',
    remove_peer: 'RemovePeerRequest',
  };
  const SECRET = /password|secret|token|private|totp|api_?key|credential|seed/i;

  it('no field of a held request type, nested or not, is named like a secret', () => {
    const definition = loadSync([...PROTO_FILES], { includeDirs: [PROTO_ROOT], keepCase: true });
    // `seen` is the path walked so far: a message nested twice is walked twice, a cycle once.
    const fieldsOf = (name: string, seen = new Set<string>()): string[] => {
      if (seen.has(name)) return [];
      seen.add(name);
      const entry = definition[`tracenet.v1.${name}`] as
        | { type?: { field?: Array<{ name: string; type: string; typeName?: string }> } }
        | undefined;
      expect(entry?.type, name).toBeDefined();
      return (entry?.type?.field ?? []).flatMap((f) => {
        // Same-package types are named short ("WeaponEvent"), others in full.
        const nested = (f.typeName ?? '').replace(/^\.?tracenet\.v1\./, '');
        const inner =
          f.type === 'TYPE_MESSAGE' && definition[`tracenet.v1.${nested}`]
            ? fieldsOf(nested, new Set(seen)).map((n) => `${f.name}.${n}`)
            : [];
        return [f.name, ...inner];
      });
    };
    // Nested messages are walked (the walk is not vacuous).
    expect(fieldsOf('AnswerCaseRequest')).toContain('history.end_user');
    expect(fieldsOf('SetPeerPolicyRequest')).toContain('policy.release_rules.reason');
    for (const [step, type] of Object.entries(HELD)) {
      const fields = fieldsOf(type);
      expect(fields.length, step).toBeGreaterThan(0);
      expect(
        fields.filter((f) => SECRET.test(f)),
        `${step}: ${type}`,
      ).toEqual([]);
    }
  });
});
