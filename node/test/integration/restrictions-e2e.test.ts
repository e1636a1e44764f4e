import { type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  type AnswerCaseRequest,
  type Case,
  CaseRole,
  CaseState,
  ErrorCode,
  MessageDirection,
  OnwardDisclosure as O,
  TraceOutcome,
  TracenetError,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/local-federation.js';
import { rejectionOf } from '../support/parties.js';
import { isAlive, requireBuiltCli } from './processes.js';
import { traceRequest } from '../support/requests.js';

/**
 * Use restrictions, consent and panels (docs/protocol.md sections 13 and 14) across four
 * `tracenet start` processes on loopback: FRA, BEL, KEN and the UN panel `org:UN-POE`, driven
 * through their Cases APIs. BEL accepts requests of the panel and of FRA, the panel accepts what
 * FRA shares with it; KEN has no policy and accepts nothing.
 */

const S = CaseState;
const PANEL = 'org:UN-POE';
const LAST_LEGAL = 'exported 2012-03-14 to KEN under licence BE-EXP-2012-0413';

/** A TRACED answer with the policy's default restrictions (the officer tightens nothing). */
const traced = (caseId: string): AnswerCaseRequest => ({
  caseId,
  outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
  lastLegalRecord: LAST_LEGAL,
  pointOfDiversion: '',
  referral: undefined,
  history: [],
  details: 'from our export register',
  restrictions: undefined,
  release: [],
});

/** Polls `read` until `done` holds; fails with the last value's description after the deadline. */
async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 2000)}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

const getCase = async (node: LocalNode, caseId: string): Promise<Case> =>
  (await node.cases.call('getCase', { caseId })).case as Case;
const listCases = async (node: LocalNode, role = CaseRole.CASE_ROLE_UNSPECIFIED): Promise<Case[]> =>
  (await node.cases.call('listCases', { role, state: 0, peer: '', overdueOnly: false, limit: 500, cursor: '' })).cases;
/** The case of `traceId` on `node` (requested side), once it exists. */
const caseOfTrace = async (node: LocalNode, traceId: string): Promise<Case> =>
  (await poll(
    async () => (await listCases(node, CaseRole.CASE_ROLE_REQUESTED)).find((c) => c.traceId === traceId),
    (c) => c !== undefined,
    `the case of ${traceId} on ${node.participantId}`,
  )) as Case;
const until = (node: LocalNode, caseId: string, done: (c: Case) => boolean, what: string) =>
  poll(() => getCase(node, caseId), done, `${node.participantId} ${caseId}: ${what}`);
/** Messages of `node` in one direction (at most 1000). */
const messages = async (node: LocalNode, direction: MessageDirection) =>
  (await node.authority.call('listMessages', { direction, limit: 1000, cursor: '' })).messages;

async function failure(
  promise: Promise<unknown>,
): Promise<{ code: ErrorCode; grpc: number | undefined; rule: string | undefined }> {
  const error = TracenetError.from(await rejectionOf(promise));
  // The Cases API client raises TracenetError; the gRPC status it came with is its cause.
  return { code: error.code, grpc: (error.cause as Partial<ServiceError> | undefined)?.code, rule: error.rule };
}

describe('use restrictions, consent and panels across four node processes', () => {
  let federation: LocalFederation | undefined;
  let fra: LocalNode;
  let bel: LocalNode;
  let ken: LocalNode;
  let panel: LocalNode;
  let pids: number[] = [];
  let started = 0;

  beforeAll(async () => {
    requireBuiltCli();
    started = performance.now();
    const accepts = { acceptRequests: true, autoAcknowledge: true };
    federation = await startLocalFederation({
      participants: ['FRA', 'BEL', 'KEN', PANEL],
      policies: [
        { of: 'BEL', policy: { participantId: PANEL, ...accepts } },
        { of: 'BEL', policy: { participantId: 'FRA', ...accepts } },
        // Shared information opens a case at the panel: deny by default applies (protocol 12.5).
        { of: PANEL, policy: { participantId: 'FRA', acceptRequests: true } },
      ],
    });
    fra = federation.node('FRA');
    bel = federation.node('BEL');
    ken = federation.node('KEN');
    panel = federation.node(PANEL);
    pids = [fra, bel, ken, panel].map((n) => n.runtime.pid);
  });

  afterAll(async () => {
    await federation?.stop();
    for (const pid of pids) expect(isAlive(pid), `node ${pid} outlived the suite`).toBe(false);
    console.log(`restrictions-e2e: four node processes, whole suite ${Math.round(performance.now() - started)} ms`);
  });

  it('a panel request: BEL accepts it and lists it as a panel request, KEN refuses it (KIND_NOT_ALLOWED), and the answer carries the strictest defaults', async () => {
    const poe = traceRequest({
      requestingAuthority: 'UN Panel of Experts on the DRC',
      caseReference: 'POE-DRC-2026-12',
    });
    const toBel = (await panel.cases.call('createCase', { recipient: 'BEL', request: poe, send: true })).case as Case;
    const toKen = (await panel.cases.call('createCase', { recipient: 'KEN', request: poe, send: true })).case as Case;
    expect([toBel.panel, toKen.panel]).toEqual([true, true]);

    // KEN's policy does not accept the panel: the request fails for good and the panel's case says why.
    const refused = await until(
      panel,
      toKen.caseId,
      (c) => c.timeline.some((t) => t.summary.includes('not delivered')),
      'refusal noted',
    );
    expect(refused.state).toBe(S.CASE_STATE_SENT);
    expect(refused.timeline.at(-1)?.summary).toMatch(/^trace request not delivered to KEN: KIND_NOT_ALLOWED/);
    const failed = await messages(panel, MessageDirection.MESSAGE_DIRECTION_FAILED);
    expect(failed.filter((m) => m.peer === 'KEN').map((m) => [m.correlationId, m.lastError])).toEqual([
      [toKen.traceId, 'KIND_NOT_ALLOWED'],
    ]);
    expect(await listCases(ken)).toEqual([]);

    // BEL accepts: acknowledged automatically, listed as a panel request.
    const theirs = await caseOfTrace(bel, toBel.traceId);
    expect(theirs.peer).toBe(PANEL);
    expect((await listCases(bel)).find((c) => c.caseId === theirs.caseId)?.panel).toBe(true);
    await until(bel, theirs.caseId, (c) => c.state === S.CASE_STATE_ACKNOWLEDGED, 'acknowledged');
    await bel.cases.call('answerCase', traced(theirs.caseId));
    const mine = await until(panel, toBel.caseId, (c) => c.state === S.CASE_STATE_ANSWERED, 'answered');
    const strictest = {
      purpose: 'criminal investigation and prosecution',
      onwardDisclosure: O.ONWARD_DISCLOSURE_NONE,
      listedParticipants: [],
      retentionDays: 365,
    };
    expect(mine.answer?.restrictions).toEqual(strictest);
    expect((await getCase(bel, theirs.caseId)).answer?.restrictions).toEqual(strictest);
  });

  it("FRA shares BEL's answer with the panel: refused without consent and nothing sent; after BEL grants consent it is shared and BEL is notified", async () => {
    const mine = (await fra.cases.call('createCase', { recipient: 'BEL', request: traceRequest(), send: true }))
      .case as Case;
    const theirs = await caseOfTrace(bel, mine.traceId);
    await until(bel, theirs.caseId, (c) => c.state === S.CASE_STATE_ACKNOWLEDGED, 'acknowledged');
    await bel.cases.call('answerCase', traced(theirs.caseId));
    const answered = await until(fra, mine.caseId, (c) => c.state === S.CASE_STATE_ANSWERED, 'answered');
    expect(answered.answer?.restrictions).toEqual({
      purpose: 'criminal investigation and prosecution',
      onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT,
      listedParticipants: [],
      retentionDays: 1825,
    });
    expect(answered.panel).toBe(false);

    // Without consent: DISCLOSURE_NOT_ALLOWED, nothing queued or sent, nothing at the panel.
    await poll(
      () => messages(fra, MessageDirection.MESSAGE_DIRECTION_OUTBOX),
      (m) => m.length === 0,
      'FRA outbox drained',
    );
    const sentBefore = (await messages(fra, MessageDirection.MESSAGE_DIRECTION_SENT)).length;
    const share = () =>
      fra.cases.call('shareCase', { caseId: mine.caseId, thirdParticipant: PANEL, note: 'for the panel report' });
    expect(await failure(share())).toEqual({
      code: ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED,
      grpc: GrpcStatus.FAILED_PRECONDITION,
      rule: 'use_restrictions',
    });
    expect(await messages(fra, MessageDirection.MESSAGE_DIRECTION_OUTBOX)).toEqual([]);
    expect((await messages(fra, MessageDirection.MESSAGE_DIRECTION_SENT)).length).toBe(sentBefore);
    expect((await getCase(fra, mine.caseId)).disclosures).toEqual([]);
    expect(await listCases(panel, CaseRole.CASE_ROLE_SHARED)).toEqual([]);

    // FRA asks BEL; BEL's officer grants consent through BEL's Cases API.
    await fra.cases.call('requestConsent', {
      caseId: mine.caseId,
      thirdParticipant: PANEL,
      reason: 'the panel investigates embargo breaches',
    });
    const asked = await until(bel, theirs.caseId, (c) => c.consents.length === 1, 'consent asked');
    const consentId = asked.consents[0]?.consentId ?? '';
    expect(asked.consents[0]).toMatchObject({
      thirdParticipant: PANEL,
      decidedAtMs: 0,
      reason: 'the panel investigates embargo breaches',
    });
    await bel.cases.call('decideConsent', {
      caseId: theirs.caseId,
      consentId,
      granted: true,
      conditions: 'for the final report only',
    });
    await until(fra, mine.caseId, (c) => c.consents[0]?.granted === true, 'consent granted');

    const shared = (await share()).case as Case;
    expect(shared.disclosures.map((d) => [d.thirdParticipant, d.basis])).toEqual([[PANEL, `consent:${consentId}`]]);

    // The panel holds the information as SHARED, with BEL's restrictions.
    const [held] = await poll(
      () => listCases(panel, CaseRole.CASE_ROLE_SHARED),
      (l) => l.length === 1,
      'shared information at the panel',
    );
    const atPanel = await getCase(panel, (held as Case).caseId);
    expect(atPanel).toMatchObject({ role: CaseRole.CASE_ROLE_SHARED, peer: 'FRA', traceId: mine.traceId });
    expect(atPanel.shared?.provider).toBe('BEL');
    expect(atPanel.shared?.answer?.lastLegalRecord).toBe(LAST_LEGAL);
    expect(atPanel.shared?.restrictions?.onwardDisclosure).toBe(O.ONWARD_DISCLOSURE_WITH_CONSENT);

    // The provider is notified and its case records the disclosure.
    const notified = await until(bel, theirs.caseId, (c) => c.disclosures.length === 1, 'disclosure notified');
    expect(notified.disclosures[0]).toMatchObject({ thirdParticipant: PANEL, basis: `consent:${consentId}` });
    expect(notified.timeline.at(-1)?.summary).toBe(`FRA disclosed our answer to ${PANEL} (consent:${consentId})`);
  });
});
