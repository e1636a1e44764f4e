import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type Case,
  CaseRole,
  CaseState,
  FindingKind,
  ItemCategory,
  ListCasesRequest,
  RecordQuery,
  type SdgReport,
  SdgStatus,
  SearchRecordsRequest,
  TraceOutcome,
  WeaponEventType as E,
  type WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SEIZURES, demoChainRecords, demoTraceRequest, seedDemoSeizures } from '../../src/dev/demo-data.js';
import {
  CLI_PATH,
  type LocalFederation,
  type LocalNode,
  startLocalFederation,
} from '../../src/dev/local-federation.js';
import { unzip } from '../support/unzip.js';
import { requireBuiltCli, until } from './processes.js';

/**
 * Done when (issue 19, section 4): the demo federation's data yields a 16.4.2 table whose figures
 * a test recomputes from the cases by hand. BEL, KEN and FRA run as `tracenet start` processes
 * with the demo's policies; the demo's chain FRA → BEL → KEN runs and FRA's year of seizures is
 * seeded (node/src/dev/demo-data.ts, as `npm run demo` does). FRA's GetSdgIndicator for 2026 is
 * then checked against counts this file makes itself from FRA's records and cases, and against the
 * literal table of the demo data; and the CLI prints it and exports it.
 */

const S = CaseState;
const run = promisify(execFile);
const ANSWERED = [S.CASE_STATE_ANSWERED, S.CASE_STATE_RESTRICTED, S.CASE_STATE_REFUSED];

describe('SDG 16.4.2 of the demo federation', () => {
  let federation: LocalFederation;
  let fra: LocalNode;
  let out: string;

  const stateOf = async (node: LocalNode, caseId: string, states: readonly CaseState[]) => {
    let c: Case | undefined;
    await until(
      async () => states.includes((c = (await node.cases.call('getCase', { caseId })).case)?.state ?? 0),
      `${caseId}`,
    );
    return c as Case;
  };

  beforeAll(async () => {
    requireBuiltCli();
    out = await mkdtemp(join(tmpdir(), 'tracenet-stats-'));
    const autoAnswer = { acceptRequests: true, autoAcknowledge: true, autoAnswer: true };
    federation = await startLocalFederation({
      participants: ['BEL', 'KEN', 'FRA'],
      policies: [
        { of: 'BEL', policy: { participantId: 'FRA', ...autoAnswer } },
        { of: 'KEN', policy: { participantId: 'FRA', ...autoAnswer } },
      ],
    });
    fra = federation.node('FRA');
    const bel = federation.node('BEL');
    const ken = federation.node('KEN');
    // The demo: its records, its chain, then FRA's year of seizures.
    const chain = demoChainRecords();
    await bel.records.call('putRecord', { record: chain.bel });
    await ken.records.call('putRecord', { record: chain.ken });
    const first = (await fra.cases.call('createCase', { recipient: 'BEL', request: demoTraceRequest(), send: true }))
      .case;
    await stateOf(fra, first?.caseId ?? '', ANSWERED);
    const next = (
      await fra.cases.call('followOn', {
        caseId: first?.caseId ?? '',
        intendedUse: '',
        otherInformation: '',
        send: true,
      })
    ).case;
    await stateOf(fra, next?.caseId ?? '', ANSWERED);
    await seedDemoSeizures({ fra, ken });
  }, 120_000);

  afterAll(async () => {
    await federation?.stop();
    if (out) await rm(out, { recursive: true, force: true });
  });

  /** FRA's records of the demo's seizures, as the node lists them, and its requester cases with their steps. */
  async function evidence(): Promise<{ records: WeaponRecord[]; cases: Case[] }> {
    const records: WeaponRecord[] = [];
    for (const seizure of DEMO_SEIZURES) {
      const serialNumber = seizure.record.manufacture?.serialNumber ?? '';
      const found = await fra.records.call(
        'searchRecords',
        SearchRecordsRequest.fromPartial({ query: RecordQuery.fromPartial({ serialNumber }), serialOnly: true }),
      );
      records.push(...found.records);
    }
    const { cases: listed } = await fra.cases.call(
      'listCases',
      ListCasesRequest.fromPartial({ role: CaseRole.CASE_ROLE_REQUESTER, limit: 500 }),
    );
    const cases = await Promise.all(
      listed.map(async (c) => (await fra.cases.call('getCase', { caseId: c.caseId })).case as Case),
    );
    return { records, cases };
  }

  /**
   * The indicator counted by hand (docs/statistics.md 2), in plain code: the firearms with a
   * seizure, finding or surrender in 2026, each with the status its cases give it.
   */
  function byHand(records: WeaponRecord[], cases: Case[]) {
    const findings: Record<number, string> = {
      [E.WEAPON_EVENT_TYPE_SEIZED]: 'seized',
      [E.WEAPON_EVENT_TYPE_FOUND]: 'found',
      [E.WEAPON_EVENT_TYPE_SURRENDERED]: 'surrendered',
    };
    const serialOf = (s: string | undefined) => (s ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '');
    const sameWeapon = (c: Case, manufacturer: string, serial: string) =>
      c.request?.weapon?.markings?.manufacturer === manufacturer &&
      serialOf(c.request?.weapon?.markings?.serialNumber) === serial;
    const statusFrom = (mine: Case[], established: boolean): string => {
      const chains = new Set(mine.map((c) => c.chainId));
      const all = cases.filter((c) => chains.has(c.chainId));
      if (all.some((c) => c.answer?.outcome === TraceOutcome.TRACE_OUTCOME_TRACED)) return 'traced';
      if (established) return 'established';
      if (all.some((c) => [S.CASE_STATE_SENT, S.CASE_STATE_ACKNOWLEDGED, S.CASE_STATE_DELAYED].includes(c.state)))
        return 'pending';
      if (all.length > 0) return 'not established';
      return 'not attempted';
    };
    const items: Array<{
      finding: string;
      type: WeaponType;
      status: string;
      category: ItemCategory;
      quantity: number;
    }> = [];
    for (const r of records) {
      const event = r.events.find((e) => findings[e.type] && e.date.startsWith('2026-'));
      if (!event) continue;
      const mine = cases.filter(
        (c) =>
          c.previousCaseId === '' &&
          sameWeapon(c, r.manufacture?.manufacturer ?? '', serialOf(r.manufacture?.serialNumber)),
      );
      items.push({
        finding: findings[event.type] ?? '',
        type: r.manufacture?.type ?? 0,
        status: statusFrom(mine, r.illicitOrigin !== undefined),
        category: r.itemCategory || ItemCategory.ITEM_CATEGORY_FIREARM,
        quantity: r.itemCategory > ItemCategory.ITEM_CATEGORY_FIREARM ? r.quantity : 1,
      });
    }
    for (const c of cases) {
      const m = c.request?.weapon?.markings;
      if (c.previousCaseId !== '' || !c.request?.circumstances?.date.startsWith('2026-')) continue;
      if (
        records.some(
          (r) =>
            r.manufacture?.manufacturer === m?.manufacturer &&
            serialOf(r.manufacture?.serialNumber) === serialOf(m?.serialNumber),
        )
      )
        continue;
      const kind = c.request.circumstances.kind;
      items.push({
        finding:
          kind === FindingKind.FINDING_KIND_SEIZED
            ? 'seized'
            : kind === FindingKind.FINDING_KIND_FOUND
              ? 'found'
              : 'surrendered',
        type: m?.type ?? 0,
        status: statusFrom([c], false),
        category: ItemCategory.ITEM_CATEGORY_FIREARM,
        quantity: 1,
      });
    }
    const firearms = items.filter((i) => i.category === ItemCategory.ITEM_CATEGORY_FIREARM);
    const count = (list: typeof items, status: string) => list.filter((i) => i.status === status).length;
    return {
      seized: firearms.filter((i) => i.finding === 'seized').length,
      found: firearms.filter((i) => i.finding === 'found').length,
      surrendered: firearms.filter((i) => i.finding === 'surrendered').length,
      total: firearms.length,
      traced: count(firearms, 'traced'),
      establishedOtherwise: count(firearms, 'established'),
      pending: count(firearms, 'pending'),
      notEstablished: count(firearms, 'not established'),
      notAttempted: count(firearms, 'not attempted'),
      pistols: firearms.filter((i) => i.type === WeaponType.WEAPON_TYPE_PISTOL).length,
      ammunition: items
        .filter((i) => i.category === ItemCategory.ITEM_CATEGORY_AMMUNITION)
        .reduce((n, i) => n + i.quantity, 0),
      parts: items.filter((i) => i.category === ItemCategory.ITEM_CATEGORY_PART).reduce((n, i) => n + i.quantity, 0),
    };
  }

  /** Each row as [label, seized, found, surrendered, total, traced, otherwise, pending, not established, not attempted]. */
  const table = (report: SdgReport, rows: SdgReport['byType']) =>
    rows.map((r) => [
      r.label,
      r.seized,
      r.found,
      r.surrendered,
      r.total,
      r.traced,
      r.establishedOtherwise,
      r.pending,
      r.notEstablished,
      r.notAttempted,
    ]);

  it('GetSdgIndicator for 2026 is the table the cases and records give by hand, and the demo data’s table', async () => {
    const report = await fra.statistics.call('getSdgIndicator', { year: '2026', period: undefined });
    const { records, cases } = await evidence();
    const hand = byHand(records, cases);
    expect(report.total).toMatchObject({
      seized: hand.seized,
      found: hand.found,
      surrendered: hand.surrendered,
      total: hand.total,
      traced: hand.traced,
      establishedOtherwise: hand.establishedOtherwise,
      pending: hand.pending,
      notEstablished: hand.notEstablished,
      notAttempted: hand.notAttempted,
    });
    expect(report.byType.find((r) => r.key === 'WEAPON_TYPE_PISTOL')?.total).toBe(hand.pistols);
    expect(report.otherItems.find((r) => r.key === 'ITEM_CATEGORY_AMMUNITION')?.total).toBe(hand.ammunition);
    expect(report.otherItems.find((r) => r.key === 'ITEM_CATEGORY_PART')?.total).toBe(hand.parts);

    // The demo data's table, literally (docs/statistics.md 6).
    expect(table(report, report.total ? [report.total] : [])).toEqual([['All firearms', 4, 1, 2, 7, 2, 1, 1, 1, 2]]);
    expect(report.total?.proportion).toBeCloseTo(3 / 7, 12);
    expect(table(report, report.byType)).toEqual([
      ['Pistol', 3, 0, 0, 3, 2, 1, 0, 0, 0],
      ['Assault rifle', 1, 0, 0, 1, 0, 0, 0, 1, 0],
      ['Revolver', 0, 0, 1, 1, 0, 0, 0, 0, 1],
      ['Shotgun', 0, 0, 1, 1, 0, 0, 0, 0, 1],
      ['Submachine gun', 0, 1, 0, 1, 0, 0, 1, 0, 0],
    ]);
    expect(table(report, report.byCircumstance)).toEqual([
      ['Illicit trafficking', 2, 0, 0, 2, 1, 0, 0, 1, 0],
      ['Used or suspected in a crime', 2, 0, 0, 2, 1, 1, 0, 0, 0],
      ['Voluntary surrender', 0, 0, 2, 2, 0, 0, 0, 0, 2],
      ['Found without an owner', 0, 1, 0, 1, 0, 0, 1, 0, 0],
    ]);
    expect(table(report, report.otherItems)).toEqual([
      ['Parts and components', 3, 0, 0, 3, 0, 0, 0, 0, 3],
      ['Accessories', 0, 0, 0, 0, 0, 0, 0, 0, 0],
      ['Ammunition', 500, 0, 0, 500, 0, 0, 0, 0, 500],
    ]);
    expect(report.byModel.map((r) => [r.label, r.total])).toContainEqual(['FN Herstal FNX-45', 1]);

    // Every figure names its items, and every item its record and cases, which exist.
    for (const row of [
      report.total,
      ...report.byType,
      ...report.byModel,
      ...report.byCircumstance,
      ...report.otherItems,
    ]) {
      const quantities = (row?.itemIndexes ?? []).map((i) => report.items[i]?.quantity ?? 0);
      expect(
        quantities.reduce((a, b) => a + b, 0),
        row?.label,
      ).toBe(row?.total);
    }
    for (const item of report.items) {
      if (item.recordId !== '')
        expect((await fra.records.call('getRecord', { recordId: item.recordId })).record?.recordId).toBe(item.recordId);
      for (const caseId of item.caseIds)
        expect((await fra.cases.call('getCase', { caseId })).case?.caseId).toBe(caseId);
      expect(item.basis).not.toBe('');
    }
    const fnx = report.items.find((i) => i.model === 'FNX-45');
    expect(fnx).toMatchObject({
      recordId: '',
      finding: 'seized',
      date: '2026-10-02',
      status: SdgStatus.SDG_STATUS_TRACED,
    });
    expect(fnx?.caseIds).toHaveLength(2);
    // 2025's seizure is not in 2026; it is in 2025.
    const earlier = await fra.statistics.call('getSdgIndicator', { year: '2025', period: undefined });
    expect(earlier.items.map((i) => [i.manufacturer, i.date])).toEqual([['Glock', '2025-11-20']]);
  });

  it('`tracenet stats sdg` prints the table and exports the questionnaire workbook; `stats tracing --by peer` the times', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, [CLI_PATH, ...args, '--data', fra.dataDir], { encoding: 'utf8' });
    const { stdout } = await cli('stats', 'sdg', '--period', '2026');
    expect(stdout).toContain('traced or established: 3 of 7 (42.9 %)');
    expect(stdout).toMatch(/^ {2}All firearms +4 +1 +2 +7 +2 +1 +1 +1 +2 +42\.9 %$/m);
    expect(stdout).toMatch(/^ {2}Ammunition +500 +0 +0 +500 /m);
    const file = join(out, 'fra.xlsx');
    const exported = await cli('stats', 'sdg', '--period', '2026', '--format', 'xlsx', '--out', file);
    expect(exported.stderr).toContain(`wrote ${file}`);
    const sheets = new Map(unzip(await readFile(file)).map((e) => [e.name, e.data.toString('utf8')]));
    expect(sheets.get('xl/worksheets/sheet1.xml')).toContain(
      '<t xml:space="preserve">All firearms</t></is></c><c r="B7"><v>7</v>',
    );
    const tracing = await cli('stats', 'tracing', '--by', 'peer');
    expect(tracing.stdout).toMatch(/^ {2}Sent \(we asked\) +5 +5 +4 +0 +0 /m);
    expect(tracing.stdout).toMatch(/^ {2}KEN {2}sent +4 +4 +3 /m);
    const json = JSON.parse((await cli('stats', 'tracing', '--json')).stdout) as { sent: { requests: number } };
    expect(json.sent.requests).toBe(5);
    // A period that is none: one line naming the rule, before anything is asked of the node.
    const refused = await cli('stats', 'tracing', '--period', '20x6').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).toBe(3);
    expect(refused?.stderr).toBe(
      'tracenet: INVALID_FIELD: --period "20x6": a year (2026) or two dates (2026-01-01..2026-06-30) (period)\n',
    );
    const impossible = await cli('stats', 'sdg', '--period', '2026-02-30..2026-03-01').catch(
      (e: { stderr: string }) => e,
    );
    expect(impossible.stderr).toContain('INVALID_FIELD: period.from_date "2026-02-30" is not a calendar date');
  });
});
