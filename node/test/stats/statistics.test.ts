import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessClient,
  type AccessServer,
  AcknowledgeCaseRequest,
  AnswerCaseRequest,
  type Case,
  CaseRole,
  CaseState,
  CasesClient,
  type CasesServer,
  ErrorCode,
  ExportFormat,
  ListCasesRequest,
  PeerPolicy,
  ReasonCode,
  RefuseCaseRequest,
  SdgReport,
  StatisticsClient,
  type StatisticsServer,
  TraceOutcome,
  TraceRequest,
  TracenetError,
  WeaponRecord,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { DEMO_SEIZURES, demoTraceRequest } from '../../src/dev/demo-data.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { unzip } from '../support/unzip.js';
import { ManualClock } from '../../src/util/clock.js';
import { pinAll, startNode, type TestNode, waitFor } from '../support/nodes.js';

/**
 * The Statistics service (docs/protocol.md 20, docs/statistics.md) on real in-process nodes (gRPC,
 * crypto, the in-memory store) sharing one ManualClock: tracing performance from signed receipts
 * and case steps with exactly known times, the SDG exports read back (the XLSX unzipped and its
 * sheets parsed), hostile periods, and who may read and who may export.
 */

const MINUTE = 60_000;
const S = CaseState;

async function failure(promise: Promise<unknown>): Promise<{ code: ErrorCode; field: string; rule: string }> {
  try {
    await promise;
  } catch (error) {
    const e = TracenetError.from(error);
    return { code: e.code, field: e.field, rule: e.rule };
  }
  throw new Error('the call succeeded');
}

function requestFor(serial: string): TraceRequest {
  const base = demoTraceRequest();
  return TraceRequest.fromPartial({
    ...base,
    caseReference: `OCLCO-T-${serial}`,
    weapon: { ...base.weapon, markings: { ...base.weapon?.markings, serialNumber: serial } },
  });
}

describe('tracing performance from receipts and case steps (ManualClock)', () => {
  const clock = new ManualClock(Math.max(Date.UTC(2026, 11, 1, 9), Date.now()));
  let fra: TestNode;
  let bel: TestNode;
  let fraCases: UnaryClient<CasesServer>;
  let belCases: UnaryClient<CasesServer>;
  let fraStats: UnaryClient<StatisticsServer>;
  let belStats: UnaryClient<StatisticsServer>;
  const started = clock.now();

  beforeAll(async () => {
    fra = await startNode('FRA', { clock, memory: true });
    bel = await startNode('BEL', { clock, memory: true });
    await pinAll([fra.node, bel.node], clock.now());
    const deadline = { acknowledgeWithinMs: 45 * MINUTE };
    await fra.node.policies.set(PeerPolicy.fromPartial({ participantId: 'BEL', ...deadline }));
    await bel.node.policies.set(PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: true, ...deadline }));
    const token = (t: TestNode) => readAuthorityToken(t.dataDir);
    fraCases = connectUnary<CasesServer>(CasesClient, fra.node.authorityAddress, await token(fra));
    belCases = connectUnary<CasesServer>(CasesClient, bel.node.authorityAddress, await token(bel));
    fraStats = connectUnary<StatisticsServer>(StatisticsClient, fra.node.authorityAddress, await token(fra));
    belStats = connectUnary<StatisticsServer>(StatisticsClient, bel.node.authorityAddress, await token(bel));
  }, 60_000);

  afterAll(async () => {
    for (const c of [fraCases, belCases, fraStats, belStats]) c?.close();
    await fra?.cleanup();
    await bel?.cleanup();
  });

  const state = async (node: TestNode, caseId: string, states: readonly CaseState[]): Promise<Case> => {
    let c = await node.node.workflow.get(caseId);
    await waitFor(async () => states.includes((c = await node.node.workflow.get(caseId)).state), 10_000, `${caseId}`);
    return c;
  };

  it('times each request from its signed delivery to the acknowledgement and the answer; p50/p90 by nearest rank', async () => {
    // Minutes to acknowledge, then minutes more to answer; the last request is refused.
    const plan = [
      { ack: 10, answer: 60 },
      { ack: 40, answer: 5 },
      { ack: 20, answer: 120 },
      { ack: 50, answer: 30 },
      { ack: 30, answer: 15, refuse: true },
    ];
    for (const [i, step] of plan.entries()) {
      const { case: sent } = await fraCases.call('createCase', {
        recipient: 'BEL',
        request: requestFor(`PERF-${i}`),
        send: true,
      });
      const caseId = sent?.caseId ?? '';
      const messageId =
        (await fra.node.workflow.get(caseId)).timeline.find((t) => t.toState === S.CASE_STATE_SENT)?.messageId ?? '';
      // Delivered (the receipt kept) and received before the clock moves: both sides start now.
      await waitFor(async () => (await fra.node.store.outbox.sent.get(messageId)) !== undefined, 10_000, 'delivery');
      let belCase: Case | undefined;
      await waitFor(async () => {
        const { cases } = await belCases.call(
          'listCases',
          ListCasesRequest.fromPartial({ role: CaseRole.CASE_ROLE_REQUESTED }),
        );
        belCase = cases.find((c) => c.traceId === sent?.traceId);
        return belCase !== undefined;
      });
      const belId = belCase?.caseId ?? '';
      clock.advance(step.ack * MINUTE);
      await belCases.call('acknowledgeCase', AcknowledgeCaseRequest.fromPartial({ caseId: belId }));
      await state(fra, caseId, [S.CASE_STATE_ACKNOWLEDGED]);
      clock.advance(step.answer * MINUTE);
      if (step.refuse)
        await belCases.call(
          'refuseCase',
          RefuseCaseRequest.fromPartial({
            caseId: belId,
            reason: ReasonCode.REASON_CODE_NATIONAL_SECURITY,
            explanation: 'national security',
          }),
        );
      else
        await belCases.call(
          'answerCase',
          AnswerCaseRequest.fromPartial({
            caseId: belId,
            outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
            details: 'none',
          }),
        );
      await state(fra, caseId, [S.CASE_STATE_ANSWERED, S.CASE_STATE_REFUSED]);
    }
    // Acknowledged after 10, 40, 20, 50, 30 min: sorted 10 20 30 40 50, p50 = rank 3, p90 = rank 5.
    // Answered after 70, 45, 140, 80, 45 min: sorted 45 45 70 80 140.
    const expected = {
      requests: 5,
      acknowledged: 5,
      answered: 5,
      refused: 1,
      overdue: 1,
      acknowledgeP50Ms: 30 * MINUTE,
      acknowledgeP90Ms: 50 * MINUTE,
      answerP50Ms: 70 * MINUTE,
      answerP90Ms: 140 * MINUTE,
      refusedByReason: [{ reason: 'REASON_CODE_NATIONAL_SECURITY', count: 1 }],
    };
    const ours = await fraStats.call('getTracingPerformance', { period: undefined, byPeer: true });
    expect(ours.sent).toMatchObject(expected);
    expect(ours.sent?.caseIds).toHaveLength(5);
    expect(ours.received).toMatchObject({ requests: 0, acknowledgeP50Ms: 0, answerP90Ms: 0 });
    expect(ours.peers.map((p) => p.peer)).toEqual(['BEL']);
    expect(ours.peers[0]?.sent).toMatchObject(expected);
    // BEL's side of the same requests: from acceptance, the same instants.
    const theirs = await belStats.call('getTracingPerformance', { period: undefined, byPeer: false });
    expect(theirs.received).toMatchObject(expected);
    expect(theirs.peers).toEqual([]);
    // The period counts requests by the day they were delivered.
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const inDay = await fraStats.call('getTracingPerformance', {
      period: { fromDate: day(started), toDate: day(started + 86_400_000) },
      byPeer: false,
    });
    expect(inDay.sent?.requests).toBe(5);
    const before = await fraStats.call('getTracingPerformance', {
      period: { fromDate: '2025-01-01', toDate: '2025-12-31' },
      byPeer: false,
    });
    expect(before.sent).toMatchObject({ requests: 0, acknowledged: 0, acknowledgeP50Ms: 0 });
  }, 60_000);

  it('an open request past its deadline is overdue now; one answered in time is not', async () => {
    const { case: sent } = await fraCases.call('createCase', {
      recipient: 'BEL',
      request: requestFor('PERF-OPEN'),
      send: true,
    });
    const messageId =
      (await fra.node.workflow.get(sent?.caseId ?? '')).timeline.find((t) => t.toState === S.CASE_STATE_SENT)
        ?.messageId ?? '';
    await waitFor(async () => (await fra.node.store.outbox.sent.get(messageId)) !== undefined, 10_000, 'delivery');
    const before = (await fraStats.call('getTracingPerformance', { period: undefined, byPeer: false })).sent;
    expect(before).toMatchObject({ requests: 6, acknowledged: 5, overdue: 1 });
    clock.advance(46 * MINUTE);
    const after = (await fraStats.call('getTracingPerformance', { period: undefined, byPeer: false })).sent;
    expect(after).toMatchObject({ requests: 6, acknowledged: 5, overdue: 2 });
  }, 30_000);
});

describe('SDG 16.4.2 exports, periods and roles', () => {
  let fra: TestNode;
  let bootstrap: string;
  const clients: Array<{ close(): void }> = [];
  const stats = (token: string) => {
    const client = connectUnary<StatisticsServer>(StatisticsClient, fra.node.authorityAddress, token);
    clients.push(client);
    return client;
  };
  const tokens: Record<string, string> = {};
  const HOSTILE_MAKER = '=HYPERLINK("http://evil.example","x")';

  beforeAll(async () => {
    const clock = new ManualClock(Math.max(Date.UTC(2026, 11, 1, 9), Date.now()));
    fra = await startNode('FRA', { clock, memory: true });
    bootstrap = await readAuthorityToken(fra.dataDir);
    for (const seizure of DEMO_SEIZURES)
      await fra.node.records.put(WeaponRecord.fromPartial({ manufactureMethod: 1, ...seizure.record }));
    // A hostile spelling: a spreadsheet would run it as a formula.
    const first = DEMO_SEIZURES[4]?.record;
    await fra.node.records.put(
      WeaponRecord.fromPartial({
        manufactureMethod: 1,
        ...first,
        manufacture: { ...first?.manufacture, manufacturer: HOSTILE_MAKER, serialNumber: 'EVIL-1' },
      }),
    );
    const access = connectUnary<AccessServer>(AccessClient, fra.node.authorityAddress, bootstrap);
    clients.push(access);
    for (const role of ['auditor', 'supervisor', 'administrator'])
      tokens[role] = (
        await access.call('addClient', { clientId: `c-${role}`, roles: [role], expiresAtMs: clock.now() + 86_400_000 })
      ).apiKey;
    await access.call('addOfficer', {
      officerId: 'o-anna',
      displayName: 'Anna',
      roles: ['officer'],
      password: 'a long enough password 1',
      requireTotp: false,
    });
    tokens.officer = (
      await access.call('login', { officerId: 'o-anna', password: 'a long enough password 1', totpCode: '' })
    ).sessionToken;
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await fra?.cleanup();
  });

  const audits = async () => {
    const lines: Array<Record<string, unknown>> = [];
    for await (const value of fra.node.store.audit.entries.values())
      lines.push(JSON.parse(value.line) as Record<string, unknown>);
    return lines.filter((l) => l.type === 'statistics.export');
  };

  it('every role reads; an export is for officers and supervisors, and names the officer, period and format in the audit log', async () => {
    const year = { year: '2026', period: undefined };
    for (const role of ['officer', 'supervisor', 'auditor', 'administrator']) {
      const report = await stats(tokens[role] ?? '').call('getSdgIndicator', year);
      expect(report.total?.total, role).toBe(7);
      await stats(tokens[role] ?? '').call('getTracingPerformance', { period: undefined, byPeer: true });
    }
    const request = { period: year, format: ExportFormat.EXPORT_FORMAT_JSON };
    for (const role of ['auditor', 'administrator'])
      expect(await failure(stats(tokens[role] ?? '').call('exportSdgIndicator', request)), role).toMatchObject({
        code: ErrorCode.ERROR_CODE_FORBIDDEN,
        field: 'authorization',
        rule: 'role',
      });
    expect(await audits()).toEqual([]);
    await stats(tokens.officer ?? '').call('exportSdgIndicator', request);
    await stats(tokens.supervisor ?? '').call('exportSdgIndicator', {
      ...request,
      format: ExportFormat.EXPORT_FORMAT_CSV,
    });
    const entries = await audits();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      type: 'statistics.export',
      indicator: 'sdg-16.4.2',
      from: '2026-01-01',
      to: '2026-12-31',
      format: 'json',
      fileName: 'tracenet-FRA-sdg-16.4.2-2026.json',
      items: 9,
      actor: { kind: 'officer', id: 'o-anna' },
    });
    expect(entries[1]).toMatchObject({ format: 'csv', actor: { kind: 'client', id: 'c-supervisor' } });
    // The auditor reads the re-export report too: no flag on this node, so no state.
    expect(await stats(tokens.auditor ?? '').call('getReexportReport', { period: undefined })).toEqual({
      period: { fromDate: '', toDate: '' },
      byState: [],
    });
    // Its period follows the rules of 20.1.
    expect(
      await failure(
        stats(tokens.auditor ?? '').call('getReexportReport', {
          period: { fromDate: '2026-05-01', toDate: '2026-04-01' },
        }),
      ),
    ).toEqual({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, field: 'period.to_date', rule: 'period_order' });
  });

  it('refuses hostile periods with the field and the rule, and exports nothing', async () => {
    const officer = stats(tokens.officer ?? '');
    const before = (await audits()).length;
    const cases: Array<[Parameters<typeof officer.call<'getSdgIndicator'>>[1], ErrorCode, string, string]> = [
      [{ year: '', period: undefined }, ErrorCode.ERROR_CODE_MISSING_FIELD, 'year', 'year_or_period'],
      [
        { year: '2026', period: { fromDate: '2026-01-01', toDate: '2026-02-01' } },
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'year',
        'year_or_period',
      ],
      [{ year: '26', period: undefined }, ErrorCode.ERROR_CODE_INVALID_FIELD, 'year', 'year'],
      [{ year: '99999', period: undefined }, ErrorCode.ERROR_CODE_INVALID_FIELD, 'year', 'year'],
      [{ year: '2026\n', period: undefined }, ErrorCode.ERROR_CODE_INVALID_FIELD, 'year', 'year'],
      [{ year: '1899', period: undefined }, ErrorCode.ERROR_CODE_INVALID_FIELD, 'year', 'year'],
      [{ year: '3000', period: undefined }, ErrorCode.ERROR_CODE_INVALID_FIELD, 'year', 'year'],
      [{ year: 'x'.repeat(100_000), period: undefined }, ErrorCode.ERROR_CODE_INVALID_FIELD, 'year', 'year'],
      [
        { year: '', period: { fromDate: '2026-02-30', toDate: '2026-03-01' } },
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'period.from_date',
        'date',
      ],
      [
        { year: '', period: { fromDate: '2026-01-01', toDate: '2026-13-01' } },
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'period.to_date',
        'date',
      ],
      [
        { year: '', period: { fromDate: '2026-01-01', toDate: '' } },
        ErrorCode.ERROR_CODE_MISSING_FIELD,
        'period.to_date',
        'required',
      ],
      [
        { year: '', period: { fromDate: '2026-06-01', toDate: '2026-05-31' } },
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'period.to_date',
        'period_order',
      ],
      [
        { year: '', period: { fromDate: '2000-01-01', toDate: '2026-01-01' } },
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'period.to_date',
        'period_span',
      ],
      [
        { year: '', period: { fromDate: '2999-01-01', toDate: '2999-01-02' } },
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'period.from_date',
        'not_future',
      ],
      [
        { year: '', period: { fromDate: '+02026-01-01', toDate: '2026-01-02' } },
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'period.from_date',
        'date',
      ],
    ];
    for (const [request, code, field, rule] of cases) {
      expect(await failure(officer.call('getSdgIndicator', request)), JSON.stringify(request).slice(0, 80)).toEqual({
        code,
        field,
        rule,
      });
      // The export names the same fields under `period`.
      expect(
        await failure(officer.call('exportSdgIndicator', { period: request, format: ExportFormat.EXPORT_FORMAT_CSV })),
      ).toEqual({
        code,
        field: `period.${field}`,
        rule,
      });
    }
    expect(
      await failure(
        officer.call('exportSdgIndicator', {
          period: { year: '2026', period: undefined },
          format: ExportFormat.EXPORT_FORMAT_UNSPECIFIED,
        }),
      ),
    ).toEqual({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'format',
      rule: 'format',
    });
    expect(
      await failure(
        officer.call('getTracingPerformance', {
          period: { fromDate: '2026-01-01', toDate: '2025-01-01' },
          byPeer: false,
        }),
      ),
    ).toEqual({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'period.to_date',
      rule: 'period_order',
    });
    expect((await audits()).length).toBe(before);
  });

  it('exports CSV (BOM, no formulas), JSON (the report) and XLSX (the questionnaire tables) with the same figures', async () => {
    const officer = stats(tokens.officer ?? '');
    const period = { year: '2026', period: undefined };
    const report = await officer.call('getSdgIndicator', period);
    expect(report.total).toMatchObject({ total: 7, establishedOtherwise: 1, notAttempted: 6 });

    const json = await officer.call('exportSdgIndicator', { period, format: ExportFormat.EXPORT_FORMAT_JSON });
    expect(json.mediaType).toBe('application/json');
    const parsed = SdgReport.fromJSON(JSON.parse(Buffer.from(json.content).toString('utf8')));
    expect({ ...parsed, computedAtMs: 0 }).toEqual({ ...report, computedAtMs: 0 });

    const csv = await officer.call('exportSdgIndicator', { period, format: ExportFormat.EXPORT_FORMAT_CSV });
    const bytes = Buffer.from(csv.content);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines[0]).toMatch(/^table,key,label,seized,found,surrendered,total,traced,/);
    expect(lines[1]).toBe(
      `total,FIREARMS,All firearms,3,1,3,7,0,1,0,0,6,0.1429,${report.total?.itemIndexes.map((i) => `#${i + 1}`).join(' ')}`,
    );
    expect(lines.find((l) => l.startsWith('category,ITEM_CATEGORY_AMMUNITION'))).toMatch(
      /^category,ITEM_CATEGORY_AMMUNITION,Ammunition,500,0,0,500,/,
    );
    // The hostile manufacturer is text: no line has a cell that starts a formula.
    expect(lines.some((l) => l.includes(`"'=HYPERLINK(""http://evil.example"",""x"")"`))).toBe(true);
    for (const line of lines) expect(line.split(',').some((cell) => /^[=+@]/.test(cell))).toBe(false);

    const xlsx = await officer.call('exportSdgIndicator', { period, format: ExportFormat.EXPORT_FORMAT_XLSX });
    expect(xlsx.fileName).toBe('tracenet-FRA-sdg-16.4.2-2026.xlsx');
    const entries = new Map(unzip(Buffer.from(xlsx.content)).map((e) => [e.name, e.data.toString('utf8')]));
    expect([...entries.keys()]).toEqual(
      expect.arrayContaining(['[Content_Types].xml', 'xl/workbook.xml', 'xl/styles.xml']),
    );
    const names = [...(entries.get('xl/workbook.xml') ?? '').matchAll(/<sheet name="([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual([
      'Firearms by finding',
      'By type',
      'By circumstance',
      'By model',
      'Parts ammunition',
      'Items',
    ]);
    const sheet = (n: number) => rowsOf(entries.get(`xl/worksheets/sheet${n}.xml`) ?? '');
    // Firearms by finding: Seized, Found, Surrendered, All firearms.
    const finding = sheet(1);
    expect(finding[1]?.slice(0, 8)).toEqual([
      'Finding',
      'Total',
      'Traced',
      'Established otherwise',
      'Pending',
      'Not established',
      'Not attempted',
      'Proportion established',
    ]);
    expect(finding.slice(2).map((r) => r.slice(0, 8))).toEqual([
      ['Seized', '3', '0', '1', '0', '0', '2', String(1 / 3)],
      ['Found', '1', '0', '0', '0', '0', '1', '0'],
      ['Surrendered', '3', '0', '0', '0', '0', '3', '0'],
      ['All firearms', '7', '0', '1', '0', '0', '6', String(1 / 7)],
    ]);
    // By type: each row as the report says it.
    const byType = sheet(2).slice(2);
    expect(byType.map((r) => [r[0], r[4]])).toEqual([
      ...report.byType.map((r) => [r.label, String(r.total)]),
      ['All firearms', String(report.total?.total)],
    ]);
    const items = sheet(6).slice(2);
    expect(items).toHaveLength(report.items.length);
    expect(items.some((r) => r.includes(HOSTILE_MAKER))).toBe(true);
    // The hostile text is an inline string, never a formula cell.
    expect(entries.get('xl/worksheets/sheet6.xml')).not.toContain('<f>');
  });
});

/** The cell texts of a worksheet's rows (inline strings and numbers), row by row. */
function rowsOf(sheetXml: string): string[][] {
  const unescape = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  return [...sheetXml.matchAll(/<row r="\d+">(.*?)<\/row>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<c r="[A-Z]+\d+"[^>]*>(?:<is><t[^>]*>(.*?)<\/t><\/is>|<v>(.*?)<\/v>)<\/c>/g)].map(
      (c) => unescape(c[1] ?? c[2] ?? ''),
    ),
  );
}
