import { describe, expect, it } from 'vitest';
import {
  Case,
  CaseRole,
  CaseState,
  FindingKind,
  ItemCategory,
  ReasonCode,
  SdgStatus,
  SeizureCircumstance,
  TraceOutcome,
  WeaponEvent,
  WeaponEventType as E,
  WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import { AliasTable } from '../../src/records/alias-table.js';
import { nearestRank, periodOf } from '../../src/stats/period.js';
import { computePerformance } from '../../src/stats/performance.js';
import { computeSdg } from '../../src/stats/sdg.js';

/**
 * The rules of docs/statistics.md on hand-made records and cases: which items SDG 16.4.2 counts,
 * each status and its edge cases, and where tracing times start.
 */

const S = CaseState;
const NOW = Date.UTC(2026, 11, 1);
const YEAR = periodOf({ fromDate: '2026-01-01', toDate: '2026-12-31' }, 'period', NOW);
const GLOCK = {
  manufacturer: 'Glock',
  serialNumber: 'ABC-123',
  model: '17',
  type: WeaponType.WEAPON_TYPE_PISTOL,
  calibre: '9x19mm',
};

function record(id: string, fields: Partial<WeaponRecord> = {}, date = '2026-03-01'): WeaponRecord {
  return WeaponRecord.fromPartial({
    recordId: id,
    manufacture: { ...GLOCK, serialNumber: id.toUpperCase() },
    events: [{ type: E.WEAPON_EVENT_TYPE_SEIZED, date, circumstance: SeizureCircumstance.SEIZURE_CIRCUMSTANCE_CRIME }],
    ...fields,
  });
}

let seq = 0;
/** A requester case about `serial` in `state`, first of its chain unless `previous`. */
function requested(serial: string, state: CaseState, fields: Partial<Case> = {}, previous?: Case): Case {
  seq += 1;
  const caseId = `case-${String(seq).padStart(6, '0')}`;
  return Case.fromPartial({
    caseId,
    role: CaseRole.CASE_ROLE_REQUESTER,
    peer: 'BEL',
    state,
    chainId: previous?.chainId ?? `chain-${caseId}`,
    previousCaseId: previous?.caseId ?? '',
    createdAtMs: NOW - 1000 + seq,
    request: {
      circumstances: {
        kind: FindingKind.FINDING_KIND_SEIZED,
        date: '2026-05-05',
        circumstance: SeizureCircumstance.SEIZURE_CIRCUMSTANCE_TRAFFICKING,
      },
      weapon: { markings: { ...GLOCK, serialNumber: serial } },
    },
    timeline: [
      { atMs: NOW - 900, toState: S.CASE_STATE_SENT, messageId: `m-${caseId}` },
      ...(state === S.CASE_STATE_DRAFT || state === S.CASE_STATE_SENT ? [] : [{ atMs: NOW - 500, toState: state }]),
    ],
    ...fields,
  });
}

const sdg = (records: WeaponRecord[], cases: Case[]) =>
  computeSdg({ participant: 'FRA', period: YEAR, nowMs: NOW, records, cases, aliases: AliasTable.EMPTY });
const statusOf = (records: WeaponRecord[], cases: Case[]) => sdg(records, cases).items.map((i) => SdgStatus[i.status]);

describe('SDG 16.4.2 items and statuses', () => {
  it('a record with a seizure, finding or surrender in the period is an item; the first such event counts', () => {
    const report = sdg(
      [
        record('in'),
        record('before', {}, '2025-12-31'),
        record('after', {}, '2027-01-01'),
        record('moved', {
          events: [
            { type: E.WEAPON_EVENT_TYPE_MANUFACTURED, date: '2026-01-02' },
            {
              type: E.WEAPON_EVENT_TYPE_FOUND,
              date: '2026-02-02',
              circumstance: SeizureCircumstance.SEIZURE_CIRCUMSTANCE_FOUND,
            },
            { type: E.WEAPON_EVENT_TYPE_SEIZED, date: '2026-04-02' },
          ].map((e) => WeaponEvent.fromPartial(e)),
        }),
      ],
      [],
    );
    expect(report.items.map((i) => [i.recordId, i.finding, i.date])).toEqual([
      ['moved', 'found', '2026-02-02'],
      ['in', 'seized', '2026-03-01'],
    ]);
    expect(report.total).toMatchObject({ seized: 1, found: 1, total: 2, notAttempted: 2, proportion: 0 });
  });

  it('TRACED by an answer or a restriction’s partial answer, anywhere in any chain of the weapon', () => {
    const answered = requested('T1', S.CASE_STATE_CLOSED, {
      answer: { outcome: TraceOutcome.TRACE_OUTCOME_TRACED } as never,
    });
    const partial = requested('T2', S.CASE_STATE_RESTRICTED, {
      restriction: {
        reason: ReasonCode.REASON_CODE_OTHER,
        partialAnswer: { outcome: TraceOutcome.TRACE_OUTCOME_TRACED },
      } as never,
    });
    const referred = requested('T3', S.CASE_STATE_ANSWERED, {
      answer: { outcome: TraceOutcome.TRACE_OUTCOME_REFERRED, referral: { participant: 'KEN' } } as never,
    });
    const followOn = requested(
      'T3',
      S.CASE_STATE_ANSWERED,
      { answer: { outcome: TraceOutcome.TRACE_OUTCOME_TRACED } as never },
      referred,
    );
    referred.nextCaseIds = [followOn.caseId];
    const report = sdg([record('t1'), record('t2'), record('t3')], [answered, partial, referred, followOn]);
    expect(report.items.map((i) => [i.recordId, SdgStatus[i.status], i.caseIds])).toEqual([
      ['t1', 'SDG_STATUS_TRACED', [answered.caseId]],
      ['t2', 'SDG_STATUS_TRACED', [partial.caseId]],
      ['t3', 'SDG_STATUS_TRACED', [referred.caseId, followOn.caseId]],
    ]);
    expect(report.items[2]?.basis).toContain(`case ${followOn.caseId}: BEL answered TRACED`);
  });

  it('edge cases: a referral not followed on is PENDING until closed; withdrawn, refused and no record are NOT_ESTABLISHED; a draft is NOT_ATTEMPTED', () => {
    const referral = {
      answer: { outcome: TraceOutcome.TRACE_OUTCOME_REFERRED, referral: { participant: 'KEN' } } as never,
    };
    const cases = [
      requested('P1', S.CASE_STATE_ANSWERED, referral),
      requested('P2', S.CASE_STATE_DELAYED),
      requested('N1', S.CASE_STATE_CLOSED, referral),
      requested('N2', S.CASE_STATE_WITHDRAWN),
      requested('N3', S.CASE_STATE_REFUSED, { refusal: { reason: ReasonCode.REASON_CODE_NATIONAL_SECURITY } as never }),
      requested('N4', S.CASE_STATE_ANSWERED, { answer: { outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD } as never }),
      requested('D1', S.CASE_STATE_DRAFT),
    ];
    const report = sdg(
      ['p1', 'p2', 'n1', 'n2', 'n3', 'n4', 'd1'].map((id) => record(id)),
      cases,
    );
    expect(report.items.map((i) => [i.recordId, SdgStatus[i.status]])).toEqual([
      ['d1', 'SDG_STATUS_NOT_ATTEMPTED'],
      ['n1', 'SDG_STATUS_NOT_ESTABLISHED'],
      ['n2', 'SDG_STATUS_NOT_ESTABLISHED'],
      ['n3', 'SDG_STATUS_NOT_ESTABLISHED'],
      ['n4', 'SDG_STATUS_NOT_ESTABLISHED'],
      ['p1', 'SDG_STATUS_PENDING'],
      ['p2', 'SDG_STATUS_PENDING'],
    ]);
    expect(report.items.map((i) => i.basis.split('; ')[1])).toEqual([
      `case ${cases[6]?.caseId} is a draft, never sent`,
      `case ${cases[2]?.caseId}: BEL referred the trace, closed without a follow-on`,
      `case ${cases[3]?.caseId}: withdrawn`,
      `case ${cases[4]?.caseId}: BEL refused`,
      `case ${cases[5]?.caseId}: BEL answered no record`,
      `case ${cases[0]?.caseId}: BEL referred the trace to KEN, not yet followed on`,
      `case ${cases[1]?.caseId}: waiting for BEL (delayed)`,
    ]);
  });

  it('a referral whose follow-on is still a draft is pending; once the follow-on is sent, the follow-on decides', () => {
    const referral = {
      answer: { outcome: TraceOutcome.TRACE_OUTCOME_REFERRED, referral: { participant: 'KEN' } } as never,
    };
    const first = requested('F1', S.CASE_STATE_ANSWERED, referral);
    const draft = requested('F1', S.CASE_STATE_DRAFT, {}, first);
    first.nextCaseIds = [draft.caseId];
    expect(statusOf([record('f1')], [first, draft])).toEqual(['SDG_STATUS_PENDING']);
    const refused = { ...draft, state: S.CASE_STATE_REFUSED };
    expect(statusOf([record('f1')], [first, refused])).toEqual(['SDG_STATUS_NOT_ESTABLISHED']);
  });

  it('established otherwise outranks an open or failed trace, a trace outranks it', () => {
    const finding = { illicitOrigin: { date: '2026-06-01', authority: 'Court', basis: 'judgment 1' } };
    const cases = [
      requested('E1', S.CASE_STATE_ACKNOWLEDGED),
      requested('E2', S.CASE_STATE_ANSWERED, { answer: { outcome: TraceOutcome.TRACE_OUTCOME_TRACED } as never }),
    ];
    expect(statusOf([record('e1', finding), record('e2', finding)], cases)).toEqual([
      'SDG_STATUS_ESTABLISHED_OTHERWISE',
      'SDG_STATUS_TRACED',
    ]);
  });

  it('a weapon known only from requests is one item; a request for a record’s weapon is not counted twice; serials repeat across makers', () => {
    const a = requested('R1', S.CASE_STATE_ACKNOWLEDGED);
    const b = requested('R-1', S.CASE_STATE_ANSWERED, {
      answer: { outcome: TraceOutcome.TRACE_OUTCOME_TRACED } as never,
    });
    const ofRecord = requested('K1', S.CASE_STATE_ACKNOWLEDGED);
    const otherMaker = requested('K1', S.CASE_STATE_ACKNOWLEDGED);
    otherMaker.request = {
      ...otherMaker.request,
      weapon: { markings: { ...GLOCK, manufacturer: 'Beretta', serialNumber: 'K1' } },
    } as never;
    const outside = requested('Z9', S.CASE_STATE_ACKNOWLEDGED);
    outside.request = {
      ...outside.request,
      circumstances: { kind: FindingKind.FINDING_KIND_SEIZED, date: '2025-05-05' },
    } as never;
    const report = sdg([record('k1')], [a, b, ofRecord, otherMaker, outside]);
    expect(report.items.map((i) => [i.recordId, i.manufacturer, SdgStatus[i.status], i.caseIds])).toEqual([
      ['k1', 'Glock', 'SDG_STATUS_PENDING', [ofRecord.caseId]],
      // R1 and R-1 normalise to one serial: one weapon, traced by one of its two requests.
      ['', 'Glock', 'SDG_STATUS_TRACED', [a.caseId, b.caseId]],
      ['', 'Beretta', 'SDG_STATUS_PENDING', [otherMaker.caseId]],
    ]);
    expect(report.items[1]).toMatchObject({
      finding: 'seized',
      date: '2026-05-05',
      circumstance: SeizureCircumstance.SEIZURE_CIRCUMSTANCE_TRAFFICKING,
    });
  });

  it('parts, accessories and ammunition are counted apart by quantity; a firearm is always one', () => {
    const report = sdg(
      [
        record('f1', { quantity: 9 }),
        record('p1', { itemCategory: ItemCategory.ITEM_CATEGORY_PART, quantity: 3 }),
        record('a1', { itemCategory: ItemCategory.ITEM_CATEGORY_AMMUNITION, quantity: 0 }),
        record('a2', { itemCategory: ItemCategory.ITEM_CATEGORY_AMMUNITION, quantity: 250 }),
      ],
      [],
    );
    expect(report.total?.total).toBe(1);
    expect(report.otherItems.map((r) => [r.key, r.total, r.itemIndexes.length])).toEqual([
      ['ITEM_CATEGORY_PART', 3, 1],
      ['ITEM_CATEGORY_ACCESSORY', 0, 0],
      ['ITEM_CATEGORY_AMMUNITION', 251, 2],
    ]);
  });
});

describe('tracing performance rules', () => {
  it('nearest rank: the value at rank ⌈p·n/100⌉', () => {
    expect(nearestRank([], 50)).toBe(0);
    expect(nearestRank([7], 90)).toBe(7);
    expect(nearestRank([40, 10, 30, 20], 50)).toBe(20);
    expect(nearestRank([40, 10, 30, 20], 90)).toBe(40);
    // 90 % of 10 is exactly rank 9, not 10 (no floating-point drift).
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
  });

  it('a sent request is timed from the delivery its receipt states, not from the step that queued it', () => {
    const c = Case.fromPartial({
      caseId: 'case-000001',
      role: CaseRole.CASE_ROLE_REQUESTER,
      peer: 'BEL',
      state: S.CASE_STATE_ANSWERED,
      timeline: [
        { atMs: 1_000, toState: S.CASE_STATE_SENT, messageId: 'm1' },
        { atMs: 61_000, toState: S.CASE_STATE_ACKNOWLEDGED },
        { atMs: 121_000, toState: S.CASE_STATE_ANSWERED },
      ],
    });
    const run = (deliveredAt: (id: string) => number | undefined) =>
      computePerformance({ participant: 'FRA', period: undefined, byPeer: false, nowMs: NOW, cases: [c], deliveredAt })
        .sent;
    expect(run((id) => (id === 'm1' ? 31_000 : undefined))).toMatchObject({
      acknowledgeP50Ms: 30_000,
      answerP50Ms: 90_000,
    });
    // Without a kept receipt: the step that sent it.
    expect(run(() => undefined)).toMatchObject({ acknowledgeP50Ms: 60_000, answerP50Ms: 120_000 });
  });

  it('an answer without an acknowledgement step acknowledges too; a draft is no request', () => {
    const answeredOnly = Case.fromPartial({
      caseId: 'case-000002',
      role: CaseRole.CASE_ROLE_REQUESTED,
      peer: 'KEN',
      state: S.CASE_STATE_ANSWERED,
      timeline: [
        { atMs: 0, toState: S.CASE_STATE_RECEIVED },
        { atMs: 5_000, toState: S.CASE_STATE_ANSWERED },
      ],
    });
    const draft = Case.fromPartial({
      caseId: 'case-000003',
      role: CaseRole.CASE_ROLE_REQUESTER,
      state: S.CASE_STATE_DRAFT,
    });
    const p = computePerformance({
      participant: 'FRA',
      period: undefined,
      byPeer: true,
      nowMs: NOW,
      cases: [answeredOnly, draft],
      deliveredAt: () => undefined,
    });
    expect(p.received).toMatchObject({ requests: 1, acknowledged: 1, answered: 1, acknowledgeP50Ms: 5_000 });
    expect(p.sent?.requests).toBe(0);
    expect(p.peers.map((x) => x.peer)).toEqual(['KEN']);
  });
});
