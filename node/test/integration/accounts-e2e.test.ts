import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessClient,
  type AccessServer,
  AnswerCaseRequest,
  ApprovalResponse,
  ApprovalState,
  AuthorityClient,
  type AuthorityServer,
  type Case,
  CasesClient,
  type CasesServer,
  CaseState,
  ErrorCode,
  ListApprovalsRequest,
  ListAuditRequest,
  ListCasesRequest,
  PeerPolicy,
  TraceOutcome,
  TracenetError,
  WeaponEventType as E,
} from '@tracenet/proto';
import { base32Decode, totp } from '../../src/access/totp.js';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/local-federation.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { traceRequest } from '../support/requests.js';
import { isAlive, ProcessBed, requireBuiltCli } from './processes.js';

/**
 * The "Done when" of issue 17, section 2, between two node processes (FRA asks, BEL answers): on
 * BEL an officer drafts an answer, a supervisor approves it, an auditor lists both actions in the
 * audit log and can change nothing, and a client's revoked API key is refused.
 */

const S = CaseState;
const PASSWORD = 'correct horse battery staple 17';

async function failure(work: Promise<unknown>): Promise<TracenetError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => TracenetError.from(e),
  );
  if (!error) throw new Error('the call was not refused');
  return error;
}

/** The role refusal of the permission table (docs/protocol.md 7.1). */
const FORBIDDEN = { code: ErrorCode.ERROR_CODE_FORBIDDEN, field: 'authorization', rule: 'role' };

describe('officers, a supervisor, an auditor and a client on a node process', () => {
  const bed = new ProcessBed();
  let federation: LocalFederation | undefined;
  let fra: LocalNode;
  let bel: LocalNode;
  let pids: number[] = [];
  const opened: Array<{ close(): void }> = [];

  /** A client of `service` on BEL's Authority port with `token`. */
  function on<TServer>(Ctor: Parameters<typeof connectUnary<TServer>>[0], token: string): UnaryClient<TServer> {
    const client = connectUnary<TServer>(Ctor, bel.runtime.authority, token);
    opened.push(client);
    return client;
  }

  beforeAll(async () => {
    requireBuiltCli();
    federation = await startLocalFederation({
      participants: ['FRA', 'BEL'],
      policies: [{ of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true, autoAcknowledge: true } }],
    });
    fra = federation.node('FRA');
    bel = federation.node('BEL');
    pids = [fra, bel].map((n) => n.runtime.pid);
  });
  afterAll(async () => {
    for (const client of opened) client.close();
    await bed.cleanup();
    const base = federation ? dirname(fra.dataDir) : undefined;
    await federation?.stop();
    for (const pid of pids) expect(isAlive(pid), `node ${pid} outlived the suite`).toBe(false);
    if (base) expect(existsSync(base), `${base} was left behind`).toBe(false);
  });

  it('an officer drafts an answer, a supervisor approves it, the auditor sees both and changes nothing, a revoked key is refused', async () => {
    // Setup mode: the bootstrap token sets the approval policy and creates the accounts.
    const bootstrap = await readAuthorityToken(bel.dataDir);
    const setup = on<AccessServer>(AccessClient, bootstrap);
    await on<CasesServer>(CasesClient, bootstrap).call('setApprovalPolicy', {
      policy: { answers: true, disclosures: true, refusals: true, policyChanges: true, automaticAnswers: false },
    });
    const add = (officerId: string, roles: string[]) =>
      setup.call('addOfficer', { officerId, displayName: officerId, roles, password: PASSWORD, requireTotp: false });
    await add('o-anna', ['officer']);
    const bruno = await add('s-bruno', ['supervisor']);
    await add('a-clara', ['auditor']);
    const { apiKey } = await setup.call('addClient', {
      clientId: 'cms',
      roles: ['officer'],
      expiresAtMs: Date.now() + 86_400_000,
    });
    const admin = await add('x-admin', ['administrator']);
    // The first administrator ends setup mode: the bootstrap token is refused from now on.
    expect(
      await failure(on<CasesServer>(CasesClient, bootstrap).call('listCases', ListCasesRequest.fromPartial({}))),
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHORIZED, rule: 'bootstrap_retired' });

    const login = async (officerId: string, secret = ''): Promise<string> => {
      const code = secret === '' ? '' : totp(base32Decode(secret), Date.now());
      const session = await on<AccessServer>(AccessClient, '').call('login', {
        officerId,
        password: PASSWORD,
        totpCode: code,
      });
      return session.sessionToken;
    };
    const anna = on<CasesServer>(CasesClient, await login('o-anna'));
    const supervisorToken = await login('s-bruno', bruno.totpSecret);
    const claraToken = await login('a-clara');
    const clara = on<CasesServer>(CasesClient, claraToken);
    const claraAuthority = on<AuthorityServer>(AuthorityClient, claraToken);

    // FRA traces a pistol at BEL; BEL acknowledges it on its own policy.
    const { case: sent } = await fra.cases.call('createCase', {
      recipient: 'BEL',
      request: traceRequest({}, { serialNumber: 'FX-0417-0001' }),
      send: true,
    });
    const traceId = (sent as Case).traceId;
    let theirs: Case | undefined;
    for (const deadline = Date.now() + 15_000; !theirs; ) {
      const listed = await anna.call('listCases', ListCasesRequest.fromPartial({ state: S.CASE_STATE_ACKNOWLEDGED }));
      theirs = listed.cases.find((c) => c.traceId === traceId);
      if (!theirs && Date.now() > deadline) throw new Error('BEL never acknowledged the request');
      if (!theirs) await new Promise((r) => setTimeout(r, 25));
    }
    const caseId = theirs.caseId;

    // The officer drafts the answer: it waits for a supervisor; nothing goes to FRA.
    const drafted = await anna.call(
      'answerCase',
      AnswerCaseRequest.fromPartial({
        caseId,
        outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
        lastLegalRecord: 'transferred 2016-04-08 at Namur',
        history: [
          {
            type: E.WEAPON_EVENT_TYPE_TRANSFERRED,
            date: '2016-04-08',
            place: 'Namur',
            agency: 'Armurerie Lecomte',
          },
        ],
      }),
    );
    const approvalId = drafted.pendingApproval?.approvalId ?? '';
    expect(approvalId).toMatch(/^apr-\d{6}$/);
    expect(drafted.case?.state).toBe(S.CASE_STATE_ACKNOWLEDGED);
    expect(drafted.pendingApproval?.drafter).toMatchObject({ kind: 'officer', id: 'o-anna' });
    // The officer cannot approve (not a supervisor); the auditor cannot either.
    expect(await failure(anna.call('approveStep', { approvalId, note: '' }))).toMatchObject(FORBIDDEN);
    expect(await failure(clara.call('approveStep', { approvalId, note: '' }))).toMatchObject(FORBIDDEN);

    // The supervisor lists the queue and approves with the CLI, signed in with her session.
    const brunoToken = supervisorToken;
    const asBruno = { env: { TRACENET_TOKEN: brunoToken } };
    const listed = await bed.cliOk(['approvals', 'list', '--data', bel.dataDir], asBruno);
    expect(listed.stdout).toContain(`${approvalId}  PENDING   answer`);
    expect(listed.stdout).toContain('drafted by officer o-anna');
    const approvedOut = await bed.cliOk(
      ['approvals', 'approve', approvalId, '--note', 'checked', '--data', bel.dataDir, '--json'],
      asBruno,
    );
    const approved = ApprovalResponse.fromJSON(JSON.parse(approvedOut.stdout));
    expect(approved.approval).toMatchObject({
      state: ApprovalState.APPROVAL_STATE_APPROVED,
      drafter: { kind: 'officer', id: 'o-anna' },
      approver: { kind: 'officer', id: 's-bruno' },
      note: 'checked',
    });
    expect(approved.case?.state).toBe(S.CASE_STATE_ANSWERED);
    expect(approved.case?.timeline.at(-1)?.summary).toContain(
      `(drafted by officer o-anna, approved by officer s-bruno, ${approvalId})`,
    );
    for (const deadline = Date.now() + 15_000; ; ) {
      const mine = (await fra.cases.call('getCase', { caseId: (sent as Case).caseId })).case as Case;
      if (mine.state === S.CASE_STATE_ANSWERED) break;
      if (Date.now() > deadline) throw new Error('FRA never received the answer');
      await new Promise((r) => setTimeout(r, 25));
    }

    // The auditor sees who drafted and who approved.
    const decided = await clara.call('listApprovals', ListApprovalsRequest.fromPartial({ all: true, caseId }));
    expect(decided.approvals.map((a) => [a.drafter?.id, a.approver?.id])).toEqual([['o-anna', 's-bruno']]);
    const timeline = (await clara.call('getCase', { caseId })).case?.timeline.map((t) => t.summary) ?? [];
    expect(
      timeline.some((t) => t.startsWith(`answer drafted by officer o-anna; waits for approval ${approvalId}`)),
    ).toBe(true);

    // It reads the approval policy with the CLI; a mistyped limit is a usage error, not INTERNAL.
    const asClara = { env: { TRACENET_TOKEN: claraToken } };
    const shown = await bed.cliOk(['approvals', 'policy', 'show', '--data', bel.dataDir], asClara);
    expect(shown.stdout).toContain('answers releasing record information: approval');
    expect(shown.stdout).toContain('automatic answers:                    no approval');
    const badLimit = await bed.cli(['approvals', 'list', '--limit', 'abc', '--data', bel.dataDir], asClara);
    expect(badLimit.stderr).toMatch(/^tracenet: INVALID_FIELD: --limit must be a whole number from 1 to 500/);

    // ... and can change nothing, through the API or the CLI.
    expect(await failure(clara.call('refuseCase', { caseId, reason: 1, explanation: 'no' }))).toMatchObject(FORBIDDEN);
    expect(
      await failure(
        claraAuthority.call('setPeerPolicy', {
          policy: PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: false }),
        }),
      ),
    ).toMatchObject(FORBIDDEN);
    expect(await failure(clara.call('setApprovalPolicy', { policy: undefined }))).toMatchObject(FORBIDDEN);
    const refused = await bed.cli(['approvals', 'policy', 'set', '--data', bel.dataDir], {
      env: { TRACENET_TOKEN: claraToken },
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^tracenet: FORBIDDEN: /);

    // The case system's API key works until an administrator revokes it.
    const cms = on<CasesServer>(CasesClient, apiKey);
    expect((await cms.call('getCase', { caseId })).case?.state).toBe(S.CASE_STATE_ANSWERED);
    const administrator = on<AccessServer>(AccessClient, await login('x-admin', admin.totpSecret));
    await administrator.call('revokeClient', { clientId: 'cms' });
    expect(await failure(cms.call('getCase', { caseId }))).toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
      rule: 'api_key_revoked',
    });

    // The auditor lists both actions in the audit log, by officer: with the CLI and the API.
    type Listed = { type: string; actor?: { kind: string; id: string }; fields: Record<string, unknown> };
    const auditOf = async (officer: string): Promise<Listed[]> =>
      JSON.parse(
        (await bed.cliOk(['audit', 'list', '--officer', officer, '--all', '--json', '--data', bel.dataDir], asClara))
          .stdout,
      ) as Listed[];
    const byAnna = await auditOf('o-anna');
    expect(byAnna.every((e) => e.actor?.kind === 'officer' && e.actor.id === 'o-anna')).toBe(true);
    expect(byAnna).toContainEqual(
      expect.objectContaining({
        type: 'approval.drafted',
        fields: expect.objectContaining({ approvalId, step: 'answer', caseId, drafterId: 'o-anna' }),
      }),
    );
    expect(byAnna.map((e) => e.type)).not.toContain('message.queued');
    const byBruno = await auditOf('s-bruno');
    expect(byBruno).toContainEqual(
      expect.objectContaining({
        type: 'approval.approved',
        fields: expect.objectContaining({ approvalId, drafterId: 'o-anna', approverId: 's-bruno' }),
      }),
    );
    // The answer itself went out under the approver's name.
    expect(byBruno.map((e) => e.type)).toEqual(expect.arrayContaining(['message.queued', 'case.changed']));
    const fromApi = await claraAuthority.call('listAudit', ListAuditRequest.fromPartial({ officerId: 'o-anna' }));
    expect(fromApi.entries.map((e) => e.type)).toContain('approval.drafted');
  });
});
