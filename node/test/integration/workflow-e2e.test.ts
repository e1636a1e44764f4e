import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Case,
  CaseState,
  FindingKind,
  IllicitKind,
  type ManufactureMarking,
  Priority,
  ReasonCode,
  TraceOutcome,
  TraceRequest,
  WeaponEventType as E,
  type WeaponEvent,
  WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/local-federation.js';
import { type CliResult, isAlive, ProcessBed, requireBuiltCli } from './processes.js';
import { exitCodeOf } from '../../src/cli/exit-codes.js';

/**
 * The ITI workflow end to end: FRA, BEL and KEN each run as their own `tracenet start` process on
 * loopback (metrics off), driven through their Authority APIs and the `tracenet trace` CLI.
 */

const S = CaseState;
const FNX: ManufactureMarking = {
  manufacturer: 'FN Herstal',
  countryOfManufacture: 'BEL',
  serialNumber: 'FX-0412-2231',
  model: 'FNX-45',
  type: WeaponType.WEAPON_TYPE_PISTOL,
  calibre: '.45 ACP',
  year: 2011,
};

const event = (type: E, date: string, fields: Partial<WeaponEvent> = {}): WeaponEvent => ({
  type,
  date,
  place: '',
  agency: '',
  destination: '',
  origin: '',
  licence: '',
  endUser: '',
  details: '',
  circumstance: 0,
  undertaking: undefined,
  ...fields,
});
const record = (events: WeaponEvent[], status: WeaponStatus, imports: WeaponRecord['imports'] = []): WeaponRecord =>
  WeaponRecord.fromPartial({ manufacture: FNX, imports, manufactureMethod: 1, status, events });

/** A complete request for a weapon with serial `serial` (FNX-45 of FN Herstal). */
function request(serial: string, reference: string): TraceRequest {
  return TraceRequest.fromPartial({
    requestingAuthority: 'Office central de lutte contre le crime organisé (OCLCO)',
    caseReference: reference,
    priority: Priority.PRIORITY_ROUTINE,
    illicitCriteria: [
      { kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Code de la sécurité intérieure, art. L317-8' },
    ],
    circumstances: {
      kind: FindingKind.FINDING_KIND_SEIZED,
      date: '2026-10-02',
      place: 'Marseille',
      agency: 'Police judiciaire',
      description: '',
      circumstance: 0,
    },
    weapon: { markings: { ...FNX, serialNumber: serial } },
    intendedUse: 'criminal investigation and prosecution',
  });
}

/** Polls a case until it is in one of `states`. */
async function until(
  node: LocalNode,
  caseId: string,
  done: readonly CaseState[] | ((c: Case) => boolean),
  timeoutMs = 15_000,
): Promise<Case> {
  const ready = typeof done === 'function' ? done : (c: Case) => done.includes(c.state);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = (await node.cases.call('getCase', { caseId })).case as Case;
    if (ready(c)) return c;
    if (Date.now() > deadline)
      throw new Error(
        `${node.participantId} ${caseId} stayed ${S[c.state]}: ${c.timeline.map((t) => t.summary).join(' | ')}`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The case of trace `traceId` on `node`, once it exists, with its timeline. */
async function caseOfTrace(node: LocalNode, traceId: string, states: readonly CaseState[]): Promise<Case> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = (
      await node.cases.call('listCases', { role: 0, state: 0, peer: '', overdueOnly: false, limit: 500, cursor: '' })
    ).cases.find((c) => c.traceId === traceId);
    if (found) return until(node, found.caseId, states);
    if (Date.now() > deadline) throw new Error(`no case of trace ${traceId} on ${node.participantId}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const summaries = (c: Case) => c.timeline.map((t) => t.summary);
const states = (c: Case) => c.timeline.map((t) => t.toState);

/** A failure a person can read: the exit code of CODE and exactly one stderr line `tracenet: CODE: ...`. */
function expectOneLineFailure(result: CliResult, code: string): string {
  expect(result.code, result.stdout + result.stderr).toBe(exitCodeOf(code));
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^tracenet: ${code}: `));
  return lines[0] ?? '';
}

describe('ITI workflow across separate node processes', () => {
  const bed = new ProcessBed();
  let federation: LocalFederation | undefined;
  let fra: LocalNode;
  let bel: LocalNode;
  let ken: LocalNode;
  let pids: number[] = [];

  /** `tracenet trace ...` against the node's data directory; must succeed. */
  const trace = (node: LocalNode, args: readonly string[]) => bed.cliOk(['trace', ...args, '--data', node.dataDir]);
  const traceJson = async (node: LocalNode, args: readonly string[]) =>
    JSON.parse((await trace(node, [...args, '--json'])).stdout) as Record<string, unknown>;
  /** Sends a request from FRA to BEL for a weapon BEL has no record of: BEL acknowledges, then waits for an officer. */
  const waitingAtBel = async (serial: string, reference: string): Promise<{ mine: Case; theirs: Case }> => {
    const { case: c } = await fra.cases.call('createCase', {
      recipient: 'BEL',
      request: request(serial, reference),
      send: true,
    });
    const mine = await until(fra, (c as Case).caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    const acknowledged = await caseOfTrace(bel, mine.traceId, [S.CASE_STATE_ACKNOWLEDGED]);
    // The acknowledgement is stored with the request (12.5); the note follows once the records were searched.
    const note = 'no exact record match; waiting for an officer';
    const theirs = await until(bel, acknowledged.caseId, (c) => summaries(c).includes(note));
    expect(summaries(theirs)).toContain(note);
    return { mine, theirs };
  };

  beforeAll(async () => {
    requireBuiltCli();
    const autoAnswer = { acceptRequests: true, autoAcknowledge: true, autoAnswer: true };
    federation = await startLocalFederation({
      participants: ['FRA', 'BEL', 'KEN'],
      policies: [
        { of: 'BEL', policy: { participantId: 'FRA', ...autoAnswer } },
        { of: 'KEN', policy: { participantId: 'FRA', ...autoAnswer } },
      ],
    });
    fra = federation.node('FRA');
    bel = federation.node('BEL');
    ken = federation.node('KEN');
    pids = [fra, bel, ken].map((n) => n.runtime.pid);
    await bel.records.call('putRecord', {
      record: record(
        [
          event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2011-05-17', { place: 'Herstal', agency: 'FN Herstal' }),
          event(E.WEAPON_EVENT_TYPE_EXPORTED, '2012-03-14', {
            destination: 'KEN',
            licence: 'BE-EXP-2012-0413',
            endUser: 'Kenya Police Service',
          }),
        ],
        WeaponStatus.WEAPON_STATUS_EXPORTED,
      ),
    });
    await ken.records.call('putRecord', {
      record: record(
        [
          event(E.WEAPON_EVENT_TYPE_IMPORTED, '2012-04-02', { origin: 'BEL', licence: 'KE-IMP-2012-117' }),
          event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2012-06-20', { endUser: 'Kenya Police Service, Nairobi armoury' }),
          event(E.WEAPON_EVENT_TYPE_STOLEN, '2019-08-03', { place: 'Nairobi', agency: 'Kenya Police Service' }),
        ],
        WeaponStatus.WEAPON_STATUS_STOLEN,
        [{ country: 'KEN', year: 2012 }],
      ),
    });
  });
  afterEach(async () => {
    await bed.cleanup();
  });
  afterAll(async () => {
    await bed.cleanup();
    const base = federation ? dirname(fra.dataDir) : undefined;
    await federation?.stop();
    for (const pid of pids) expect(isAlive(pid), `node ${pid} outlived the suite`).toBe(false);
    if (base) expect(existsSync(base), `${base} was left behind`).toBe(false);
  });

  it('the demo chain: FRA asks BEL (referred to KEN), follows on to KEN (traced to the theft); both sides agree; `trace chain` shows the line of supply', async () => {
    // Created with the CLI, from flags.
    const created = await traceJson(fra, [
      'create',
      '--to',
      'BEL',
      '--manufacturer',
      'FN Herstal',
      '--model',
      'FNX-45',
      '--serial',
      'FX-0412-2231',
      '--type',
      'pistol',
      '--calibre',
      '.45 ACP',
      '--country',
      'BEL',
      '--criterion',
      'national-law:Code de la sécurité intérieure, art. L317-8',
      '--finding',
      'seized',
      '--date',
      '2026-10-02',
      '--place',
      'Marseille',
      '--intended-use',
      'criminal investigation and prosecution',
      '--authority',
      'OCLCO',
      '--reference',
      'OCLCO-2026-0147',
    ]);
    expect(created.state).toBe('CASE_STATE_SENT');
    const firstId = String(created.caseId);
    const first = await until(fra, firstId, [S.CASE_STATE_ANSWERED]);
    expect(first.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_REFERRED);
    expect(first.answer?.referral?.participant).toBe('KEN');
    expect(first.answer?.automatic).toBe(true);
    expect(states(first)).toEqual([
      S.CASE_STATE_DRAFT,
      S.CASE_STATE_SENT,
      S.CASE_STATE_ACKNOWLEDGED,
      S.CASE_STATE_ANSWERED,
    ]);

    const atBel = await caseOfTrace(bel, first.traceId, [S.CASE_STATE_ANSWERED]);
    expect(atBel.peer).toBe('FRA');
    expect(atBel.peerReference).toBe('OCLCO-2026-0147');
    expect(first.peerReference).toBe(atBel.localReference);
    expect(summaries(atBel)).toEqual([
      'request received from FRA (OCLCO-2026-0147)',
      `acknowledged as ${atBel.localReference}`,
      'answered: referred to KEN (exported 2012-03-14 to KEN under licence BE-EXP-2012-0413, end user Kenya Police Service)',
    ]);

    // One call opens the follow-on to the referred participant.
    const next = await traceJson(fra, [
      'follow-on',
      firstId,
      '--information',
      'referred by BEL: export licence BE-EXP-2012-0413',
    ]);
    expect(next.peer).toBe('KEN');
    expect(next.previousCaseId).toBe(firstId);
    const second = await until(fra, String(next.caseId), [S.CASE_STATE_ANSWERED]);
    expect(second.chainId).toBe(first.traceId);
    expect(second.request?.previousTraceId).toBe(first.traceId);
    expect(second.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_TRACED);
    expect(second.answer?.lastLegalRecord).toBe(
      'transferred 2012-06-20, end user Kenya Police Service, Nairobi armoury',
    );
    expect(second.answer?.pointOfDiversion).toBe('stolen 2019-08-03 at Nairobi by Kenya Police Service');

    const atKen = await caseOfTrace(ken, second.traceId, [S.CASE_STATE_ANSWERED]);
    expect(atKen.chainId).toBe(first.traceId);
    expect(atKen.request?.previousTraceId).toBe(first.traceId);
    expect(atKen.request?.weapon?.otherInformation).toBe('referred by BEL: export licence BE-EXP-2012-0413');
    expect(summaries(atKen).at(-1)).toBe(
      'answered: traced: last legal record transferred 2012-06-20, end user Kenya Police Service, Nairobi armoury; point of diversion stolen 2019-08-03 at Nairobi by Kenya Police Service',
    );

    // The whole line, from either case of the chain.
    const text = (await trace(fra, ['chain', firstId])).stdout;
    const lines = text.split('\n');
    expect(lines[0]).toBe(`trace chain ${first.traceId}: BEL → KEN`);
    expect(text).toContain(`1. ${firstId} → BEL (answered)`);
    expect(text).toContain(`2. ${second.caseId} → KEN (answered)`);
    expect(text.indexOf('referred to KEN')).toBeLessThan(
      text.indexOf('point of diversion stolen 2019-08-03 at Nairobi'),
    );
    const chain = await traceJson(fra, ['chain', second.caseId]);
    expect(chain.chainId).toBe(first.traceId);
    expect((chain.cases as Array<Record<string, unknown>>).map((c) => [c.caseId, c.peer, c.state])).toEqual([
      [firstId, 'BEL', 'CASE_STATE_ANSWERED'],
      [second.caseId, 'KEN', 'CASE_STATE_ANSWERED'],
    ]);

    // FRA closes both; each requested side sees it.
    await trace(fra, ['close', firstId, '--feedback', 'led to KEN']);
    await trace(fra, ['close', second.caseId, '--feedback', 'point of diversion established']);
    expect((await until(bel, atBel.caseId, [S.CASE_STATE_CLOSED])).closure?.feedback).toBe('led to KEN');
    expect((await until(ken, atKen.caseId, [S.CASE_STATE_CLOSED])).closure?.useful).toBe(true);
  });

  it('delay, then answer: the requester sees the reason and the extended deadline, then the answer', async () => {
    const { mine, theirs } = await waitingAtBel('FX-0000-0001', 'OCLCO-2026-0201');
    const delayed = await traceJson(bel, [
      'delay',
      theirs.caseId,
      '--reason',
      'investigation',
      '--explanation',
      'the export file is with the prosecutor',
      '--expected-by',
      '2030-01-31',
    ]);
    expect(delayed.state).toBe('CASE_STATE_DELAYED');
    const waiting = await until(fra, mine.caseId, [S.CASE_STATE_DELAYED]);
    expect(waiting.delay).toEqual({
      traceId: mine.traceId,
      reason: ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION,
      explanation: 'the export file is with the prosecutor',
      expectedBy: '2030-01-31',
    });
    expect(waiting.answerDueAtMs).toBe(Date.parse('2030-01-31T23:59:59.999Z'));
    expect(summaries(waiting).at(-1)).toBe('delayed by BEL: ongoing criminal investigation');

    // The answer, by an officer with the CLI (text output).
    const answered = await trace(bel, [
      'answer',
      theirs.caseId,
      '--outcome',
      'no-record',
      '--details',
      'no record under this serial after all',
    ]);
    expect(answered.stdout).toMatch(/state answered/);
    expect(answered.stdout).toContain('answered: no record');
    const done = await until(fra, mine.caseId, [S.CASE_STATE_ANSWERED]);
    expect(done.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_NO_RECORD);
    expect(done.answer?.details).toBe('no record under this serial after all');
    expect(done.answer?.automatic).toBe(false);
    expect(states(done)).toEqual([
      S.CASE_STATE_DRAFT,
      S.CASE_STATE_SENT,
      S.CASE_STATE_ACKNOWLEDGED,
      S.CASE_STATE_DELAYED,
      S.CASE_STATE_ANSWERED,
    ]);
    const atBel = await until(bel, theirs.caseId, [S.CASE_STATE_ANSWERED]);
    expect(states(atBel)).toEqual([
      S.CASE_STATE_RECEIVED,
      S.CASE_STATE_ACKNOWLEDGED,
      S.CASE_STATE_ACKNOWLEDGED,
      S.CASE_STATE_DELAYED,
      S.CASE_STATE_ANSWERED,
    ]);
  });

  it('refusal with its reason; a refusal without an explanation is refused with one readable line', async () => {
    const { mine, theirs } = await waitingAtBel('FX-0000-0002', 'OCLCO-2026-0202');
    const bad = await bed.cli([
      'trace',
      'refuse',
      theirs.caseId,
      '--reason',
      'security',
      '--explanation',
      ' ',
      '--data',
      bel.dataDir,
    ]);
    expect(expectOneLineFailure(bad, 'MISSING_FIELD')).toContain('refusal.explanation');
    await bel.cases.call('refuseCase', {
      caseId: theirs.caseId,
      reason: ReasonCode.REASON_CODE_NATIONAL_SECURITY,
      explanation: 'the weapon belongs to a classified stock',
    });
    const refused = await until(fra, mine.caseId, [S.CASE_STATE_REFUSED]);
    expect(refused.refusal).toEqual({
      traceId: mine.traceId,
      reason: ReasonCode.REASON_CODE_NATIONAL_SECURITY,
      explanation: 'the weapon belongs to a classified stock',
    });
    expect(summaries(refused).at(-1)).toBe('refused by BEL: national security');
    // After a refusal the requester can only close.
    const followOn = await bed.cli(['trace', 'follow-on', mine.caseId, '--data', fra.dataDir]);
    expectOneLineFailure(followOn, 'ILLEGAL_TRANSITION');
    await fra.cases.call('closeCase', { caseId: mine.caseId, useful: false, feedback: 'refused' });
    await until(bel, theirs.caseId, [S.CASE_STATE_CLOSED]);
  });

  it('a clarification round: BEL asks, FRA replies, BEL answers', async () => {
    const { mine, theirs } = await waitingAtBel('FX-0000-0003', 'OCLCO-2026-0203');
    await trace(bel, [
      'clarify',
      theirs.caseId,
      '--question',
      'Is the serial on the frame FX-0000-0003 or FX-0000-0008?',
    ]);
    const asked = await until(fra, mine.caseId, [S.CASE_STATE_CLARIFICATION]);
    expect(asked.clarifications.map((q) => q.question)).toEqual([
      'Is the serial on the frame FX-0000-0003 or FX-0000-0008?',
    ]);
    await trace(fra, ['reply', mine.caseId, '--answer', 'FX-0000-0003, confirmed on the photo']);
    const replied = await until(bel, theirs.caseId, [S.CASE_STATE_ACKNOWLEDGED]);
    expect(replied.clarifications).toEqual([
      expect.objectContaining({
        question: 'Is the serial on the frame FX-0000-0003 or FX-0000-0008?',
        answer: 'FX-0000-0003, confirmed on the photo',
      }),
    ]);
    expect(replied.clarifications[0]?.answeredAtMs).toBeGreaterThan(0);
    await bel.cases.call('answerCase', {
      caseId: theirs.caseId,
      outcome: TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION,
      lastLegalRecord: '',
      pointOfDiversion: '',
      referral: undefined,
      history: [],
      details: 'not in our production records',
      restrictions: undefined,
      release: [],
    });
    const answered = await until(fra, mine.caseId, [S.CASE_STATE_ANSWERED]);
    expect(answered.answer?.outcome).toBe(TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION);
    expect(summaries(answered).slice(-3)).toEqual([
      'clarification requested by BEL',
      'clarification answered',
      'answer from BEL: insufficient information',
    ]);
  });

  it('a withdrawal: BEL’s case becomes withdrawn and every further step is refused on both sides', async () => {
    const { mine, theirs } = await waitingAtBel('FX-0000-0004', 'OCLCO-2026-0204');
    await fra.cases.call('withdrawCase', { caseId: mine.caseId, reason: 'the suspect confessed the origin' });
    const withdrawn = await until(bel, theirs.caseId, [S.CASE_STATE_WITHDRAWN]);
    expect(withdrawn.withdrawal?.reason).toBe('the suspect confessed the origin');
    expect(summaries(withdrawn).at(-1)).toBe('withdrawn by FRA');
    const shown = await traceJson(bel, ['show', theirs.caseId]);
    expect(shown.state).toBe('CASE_STATE_WITHDRAWN');

    const answer = await bed.cli(['trace', 'answer', theirs.caseId, '--outcome', 'no-record', '--data', bel.dataDir]);
    expectOneLineFailure(answer, 'CASE_CLOSED');
    expect(answer.stdout).toBe('');
    expectOneLineFailure(await bed.cli(['trace', 'close', mine.caseId, '--data', fra.dataDir]), 'CASE_CLOSED');
    const refuse = await bel.cases
      .call('refuseCase', { caseId: theirs.caseId, reason: ReasonCode.REASON_CODE_OTHER, explanation: 'x' })
      .catch((error: unknown) => error);
    expect(refuse).toMatchObject({ codeName: 'CASE_CLOSED' });
    expect((await bel.cases.call('getCase', { caseId: theirs.caseId })).case?.state).toBe(S.CASE_STATE_WITHDRAWN);
    // The listing filters by state with the CLI too.
    const listed = JSON.parse((await trace(bel, ['list', '--state', 'withdrawn', '--json'])).stdout) as Array<
      Record<string, unknown>
    >;
    expect(listed.map((c) => c.caseId)).toEqual([theirs.caseId]);
  });

  it("release rules set with the CLI: KEN withholds transfers' end users from every peer; FRA sees them listed as withheld", async () => {
    const peersPolicy = (args: readonly string[]) => bed.cli(['peers', 'policy', ...args, '--data', ken.dataDir]);
    const set = await peersPolicy([
      '*',
      '--release-rule',
      'history.end_user=on-request;events=transferred;reason=Data Protection Act, s. 25',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(
      '[0] history.end_user=on-request;events=transferred;reason=Data Protection Act, s. 25',
    );
    // The node-wide policy carries release rules only; a rule that is not one is refused before it is sent.
    expectOneLineFailure(await peersPolicy(['*', '--accept-requests']), 'INVALID_FIELD');
    expectOneLineFailure(await peersPolicy(['FRA', '--release-rule', 'history.end_user=hide']), 'INVALID_FIELD');
    expectOneLineFailure(await peersPolicy(['FRA', '--release-rule', 'history.serial=withhold']), 'INVALID_FIELD');

    const { case: c } = await fra.cases.call('createCase', {
      recipient: 'KEN',
      request: request('FX-0412-2231', 'OCLCO-2026-0205'),
      send: true,
    });
    const answered = await until(fra, (c as Case).caseId, [S.CASE_STATE_ANSWERED]);
    expect(answered.answer?.automatic).toBe(true);
    expect(answered.answer?.withheld).toEqual([
      { field: 'history[1].end_user', reason: 'Data Protection Act, s. 25', availableOnRequest: true },
    ]);
    expect(answered.answer?.history[1]?.endUser).toBe('');
    expect(answered.answer?.lastLegalRecord).toBe('transferred 2012-06-20');
    const shown = (await trace(fra, ['show', answered.caseId])).stdout;
    expect(shown).toContain('withheld: history[1].end_user (available on request): Data Protection Act, s. 25');

    const cleared = await peersPolicy(['*', '--clear-release-rules']);
    expect(cleared.stdout).toContain('release rules: none');
  });
});
