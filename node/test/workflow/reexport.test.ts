import { describe, expect, it } from 'vitest';
import {
  Case,
  CaseRole,
  CaseState,
  FindingKind,
  ReexportCondition,
  type ReexportFlag,
  ReexportNotice,
  ReleaseAction,
  TraceOutcome,
  TraceRequest,
  TracenetError,
  WeaponEvent,
  WeaponEventType as E,
  WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import { validateReexportNotice } from '../../src/messages/reexport-notice.js';
import { undertakingViolations } from '../../src/messages/undertaking-rules.js';
import { recordViolations } from '../../src/records/validation.js';
import { validateAnswer } from '../../src/messages/validation.js';
import { checkWithheld } from '../../src/messages/withheld.js';
import { Violations } from '../../src/util/violations.js';
import { applyRelease } from '../../src/workflow/release.js';
import { findReexports, reexportReport } from '../../src/workflow/reexport.js';

/** The pure parts of docs/protocol.md section 18: undertaking rules, release, chain analysis, report. */

const ev = (fields: Partial<WeaponEvent>): WeaponEvent => WeaponEvent.fromPartial(fields);
const undertaking = (fields: Partial<NonNullable<WeaponEvent['undertaking']>> = {}) => ({
  condition: ReexportCondition.REEXPORT_CONDITION_PROHIBITED,
  certificateReference: 'EUC-KEN-2016-77',
  endUser: 'Kenya Police Service',
  date: '2016-04-20',
  authorisations: [],
  ...fields,
});
const exported = (destination: string, date: string, u = undertaking()) =>
  ev({ type: E.WEAPON_EVENT_TYPE_EXPORTED, date, destination, licence: `${destination}-LIC`, undertaking: u });

let seq = 0;
/** A requester case of FRA with `peer`'s answer holding `history`. */
function answeredCase(peer: string, history: WeaponEvent[], state = CaseState.CASE_STATE_ANSWERED): Case {
  seq += 1;
  return Case.fromPartial({
    caseId: `case-00000${seq}`,
    role: CaseRole.CASE_ROLE_REQUESTER,
    peer,
    state,
    createdAtMs: seq,
    request: TraceRequest.fromPartial({
      circumstances: { kind: FindingKind.FINDING_KIND_SEIZED, date: '2025-12-02', place: 'Goma', agency: 'MONUSCO' },
    }),
    answer: { outcome: TraceOutcome.TRACE_OUTCOME_REFERRED, history },
  });
}

describe('undertaking rules (18.1)', () => {
  const record = (event: WeaponEvent) =>
    WeaponRecord.fromPartial({
      manufacture: { manufacturer: 'FN Herstal', serialNumber: 'FX-1', type: WeaponType.WEAPON_TYPE_PISTOL },
      events: [ev({ type: E.WEAPON_EVENT_TYPE_MANUFACTURED, date: '2015-01-01' }), event],
    });
  const now = Date.UTC(2026, 11, 5);
  const rules = (event: WeaponEvent) =>
    recordViolations(record(event), { nowMs: now })
      .filter((v) => v.field.includes('undertaking'))
      .map((v) => `${v.field} ${v.rule}`);

  it('accepts a complete undertaking and an export without one', () => {
    expect(rules(exported('KEN', '2016-05-10'))).toEqual([]);
    expect(rules(ev({ type: E.WEAPON_EVENT_TYPE_EXPORTED, date: '2016-05-10', destination: 'KEN' }))).toEqual([]);
  });

  it('names each broken rule of a record', () => {
    expect(
      rules(
        exported(
          'KEN',
          '2016-05-10',
          undertaking({
            condition: ReexportCondition.REEXPORT_CONDITION_UNSPECIFIED,
            certificateReference: ' ',
            endUser: 'x'.repeat(201),
            date: '2027-01-01',
            authorisations: [
              { destination: 'kenya', date: '2016-02-30', reference: 'A\u202eB' },
              { destination: '', date: '', reference: '' },
            ],
          }),
        ),
      ),
    ).toEqual([
      'record.events[1].undertaking.condition required',
      'record.events[1].undertaking.certificate_reference required',
      'record.events[1].undertaking.end_user max_length',
      'record.events[1].undertaking.date not_in_future',
      'record.events[1].undertaking.authorisations[0].destination participant_id',
      'record.events[1].undertaking.authorisations[0].date date',
      'record.events[1].undertaking.authorisations[0].reference control_character',
      'record.events[1].undertaking.authorisations[1].destination required',
    ]);
    expect(rules(exported('KEN', '2016-05-10', undertaking({ condition: 9 as ReexportCondition })))).toEqual([
      'record.events[1].undertaking.condition enum',
    ]);
  });

  it('refuses an undertaking on another event, and more than 100 authorisations', () => {
    expect(
      rules(ev({ type: E.WEAPON_EVENT_TYPE_IMPORTED, date: '2016-05-10', origin: 'BEL', undertaking: undertaking() })),
    ).toEqual(['record.events[1].undertaking not_applicable']);
    const many = Array.from({ length: 101 }, () => ({ destination: 'TZA', date: '', reference: '' }));
    expect(undertakingViolations(exported('KEN', '2016-05-10', undertaking({ authorisations: many })), 'e')).toEqual([
      expect.objectContaining({ field: 'e.undertaking.authorisations', rule: 'max_items' }),
    ]);
  });

  it('checks the undertakings of an answer’s history and referral event', () => {
    const bad = exported('KEN', '2016-05-10', undertaking({ certificateReference: '' }));
    let error: unknown;
    try {
      validateAnswer(
        {
          traceId: 't',
          outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
          lastLegalRecord: '',
          pointOfDiversion: '',
          referral: { participant: 'KEN', basis: 'exported', event: bad },
          history: [bad],
          details: '',
          automatic: false,
          restrictions: undefined,
          withheld: [],
        },
        'body',
      );
    } catch (e) {
      error = e;
    }
    expect((error as { violations: Array<{ field: string }> }).violations.map((v) => v.field)).toEqual([
      'body.history[0].undertaking.certificate_reference',
      'body.referral.event.undertaking.certificate_reference',
    ]);
  });
});

describe('release of an undertaking’s end user (18.2)', () => {
  const rule = (action: ReleaseAction) => [
    { field: 'history.end_user', eventTypes: [], outcomes: [], action, reason: 'personal data' },
  ];
  const parts = (event: WeaponEvent) => ({
    outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
    lastLegalRecord: 'x',
    pointOfDiversion: '',
    referral: undefined,
    history: [event],
    details: '',
    restrictions: undefined,
  });

  it('empties and lists it when the event’s end user is withheld', () => {
    const event = exported('KEN', '2016-05-10');
    event.endUser = 'Kenya Police Service';
    const { answer } = applyRelease(
      parts(event),
      { peer: 'FRA', peerRules: rule(ReleaseAction.RELEASE_ACTION_WITHHOLD), nodeRules: [] },
      { derived: false, confirmed: [] },
    );
    expect(answer.history[0]?.endUser).toBe('');
    expect(answer.history[0]?.undertaking?.endUser).toBe('');
    expect(answer.history[0]?.undertaking?.certificateReference).toBe('EUC-KEN-2016-77');
    expect(answer.withheld.map((w) => [w.field, w.reason])).toEqual([
      ['history[0].end_user', 'personal data'],
      ['history[0].undertaking.end_user', 'personal data'],
    ]);
    // The withheld list is well formed as a receiver checks it.
    const v = new Violations();
    checkWithheld({ ...answer, traceId: 't', automatic: false }, 'body', v);
    expect(v.list).toEqual([]);
  });

  it('keeps it when released, and applies the rule to it when the event names no end user', () => {
    const event = exported('KEN', '2016-05-10');
    event.endUser = 'Kenya Police Service';
    const released = applyRelease(
      parts(event),
      { peer: 'FRA', peerRules: [], nodeRules: [] },
      { derived: false, confirmed: [] },
    );
    expect(released.answer.history[0]?.undertaking?.endUser).toBe('Kenya Police Service');
    const bare = exported('KEN', '2016-05-10');
    const onRequest = applyRelease(
      parts(bare),
      { peer: 'FRA', peerRules: [], nodeRules: rule(ReleaseAction.RELEASE_ACTION_ON_REQUEST) },
      { derived: false, confirmed: [] },
    );
    expect(onRequest.answer.history[0]?.undertaking?.endUser).toBe('');
    expect(onRequest.answer.withheld).toEqual([
      { field: 'history[0].undertaking.end_user', reason: 'personal data', availableOnRequest: true },
    ]);
  });

  it('refuses a received withheld entry whose undertaking end user still carries a value', () => {
    const v = new Violations();
    checkWithheld(
      {
        ...parts(exported('KEN', '2016-05-10')),
        traceId: 't',
        automatic: false,
        withheld: [{ field: 'history[0].undertaking.end_user', reason: '', availableOnRequest: false }],
      },
      'body',
      v,
    );
    expect(v.list.map((x) => x.rule)).toEqual(['withheld_empty']);
  });
});

describe('flags in a chain (18.3)', () => {
  const importKen = ev({ type: E.WEAPON_EVENT_TYPE_IMPORTED, date: '2016-05-20', origin: 'BEL' });
  const kenToUga = ev({ type: E.WEAPON_EVENT_TYPE_EXPORTED, date: '2019-02-11', destination: 'UGA' });

  it('flags a later export to a state without authorisation, with the evidence in chain order', () => {
    const bel = answeredCase('BEL', [exported('KEN', '2016-05-10')]);
    const ken = answeredCase('KEN', [importKen, kenToUga]);
    const flags = findReexports('FRA', 'chain-1', [ken, bel]);
    expect(flags.map((f) => [f.kind, f.exporter, f.undertakingState, f.laterState])).toEqual([
      ['reexported', 'BEL', 'KEN', 'UGA'],
    ]);
    expect(flags[0]?.evidence.map((h) => [h.source, h.caseId, h.event?.type])).toEqual([
      ['BEL', bel.caseId, E.WEAPON_EVENT_TYPE_EXPORTED],
      ['KEN', ken.caseId, E.WEAPON_EVENT_TYPE_IMPORTED],
      ['KEN', ken.caseId, E.WEAPON_EVENT_TYPE_EXPORTED],
    ]);
  });

  it('does not flag an authorised re-export, a return to the exporter, an export dated before, or no undertaking', () => {
    const authorised = undertaking({ authorisations: [{ destination: 'UGA', date: '2018-01-01', reference: 'R' }] });
    expect(
      findReexports('FRA', 'c', [
        answeredCase('BEL', [exported('KEN', '2016-05-10', authorised)]),
        answeredCase('KEN', [kenToUga]),
      ]),
    ).toEqual([]);
    const back = ev({ type: E.WEAPON_EVENT_TYPE_EXPORTED, date: '2019-01-01', destination: 'BEL' });
    expect(
      findReexports('FRA', 'c', [answeredCase('BEL', [exported('KEN', '2016-05-10')]), answeredCase('KEN', [back])]),
    ).toEqual([]);
    const before = ev({ type: E.WEAPON_EVENT_TYPE_EXPORTED, date: '2015-01-01', destination: 'UGA' });
    expect(
      findReexports('FRA', 'c', [answeredCase('BEL', [exported('KEN', '2016-05-10')]), answeredCase('KEN', [before])]),
    ).toEqual([]);
    const plain = ev({ type: E.WEAPON_EVENT_TYPE_EXPORTED, date: '2016-05-10', destination: 'KEN' });
    expect(findReexports('FRA', 'c', [answeredCase('BEL', [plain]), answeredCase('KEN', [kenToUga])])).toEqual([]);
  });

  it('flags a weapon found in the requester’s state once the undertaking state answered without an export', () => {
    const bel = answeredCase('BEL', [
      exported('KEN', '2016-05-10', undertaking({ condition: ReexportCondition.REEXPORT_CONDITION_WITH_CONSENT })),
    ]);
    // KEN not asked yet: nothing.
    expect(findReexports('FRA', 'c', [bel])).toEqual([]);
    const ken = answeredCase('KEN', [importKen, ev({ type: E.WEAPON_EVENT_TYPE_STOLEN, date: '2020-01-01' })]);
    const flags = findReexports('FRA', 'c', [bel, ken]);
    expect(flags.map((f) => [f.kind, f.laterState])).toEqual([['found_in_third_state', 'FRA']]);
    expect(flags[0]?.evidence.at(-1)).toMatchObject({
      source: 'FRA',
      caseId: bel.caseId,
      event: { type: E.WEAPON_EVENT_TYPE_SEIZED, date: '2025-12-02', place: 'Goma', agency: 'MONUSCO' },
    });
    // Not when the requester is the undertaking state, or is authorised.
    expect(findReexports('KEN', 'c', [bel, ken])).toEqual([]);
    const ok = answeredCase('BEL', [
      exported('KEN', '2016-05-10', undertaking({ authorisations: [{ destination: 'FRA', date: '', reference: '' }] })),
    ]);
    expect(findReexports('FRA', 'c', [ok, ken])).toEqual([]);
  });

  it('deduplicates the same export seen twice, and ignores a purged answer', () => {
    const bel = answeredCase('BEL', [exported('KEN', '2016-05-10')]);
    const ken = answeredCase('KEN', [importKen, kenToUga, kenToUga]);
    const again = answeredCase('BEL', [exported('KEN', '2016-05-10')]);
    expect(findReexports('FRA', 'c', [bel, ken, again])).toHaveLength(1);
    const purged = { ...ken, purgedAtMs: 5 };
    expect(findReexports('FRA', 'c', [bel, purged])).toEqual([]);
  });
});

describe('reexportReport (18.6)', () => {
  const flag = (flagId: string, state: string, raisedAt: string, receivedAt = ''): ReexportFlag =>
    ({
      flagId,
      undertakingState: state,
      raisedAtMs: Date.parse(`${raisedAt}T12:00:00Z`),
      notifiedAtMs: receivedAt ? Date.parse(`${receivedAt}T12:00:00Z`) : 0,
    }) as ReexportFlag;

  it('counts flags raised and received in the period by undertaking state', () => {
    const report = reexportReport(
      [flag('rx_a', 'KEN', '2026-03-01'), flag('rx_b', 'KEN', '2025-12-31'), flag('rx_c', 'AGO', '2026-12-31')],
      [flag('rx_d', 'KEN', '2025-12-30', '2026-01-01'), flag('rx_e', 'UGA', '2026-05-01', '2027-01-01')],
      { fromDate: '2026-01-01', toDate: '2026-12-31' },
    );
    expect(report.byState).toEqual([
      { state: 'AGO', raised: 1, received: 0, flagIds: ['rx_c'] },
      { state: 'KEN', raised: 1, received: 1, flagIds: ['rx_a', 'rx_d'] },
    ]);
    expect(reexportReport([flag('rx_b', 'KEN', '2025-12-31')], [], { fromDate: '', toDate: '' }).byState).toHaveLength(
      1,
    );
  });
});

describe('bounded analysis (18.7)', () => {
  it('raises at most 100 flags for a hostile answer of 20,000 exports', () => {
    const origins = Array.from({ length: 200 }, (_, i) =>
      exported('KEN', '2016-05-10', undertaking({ certificateReference: `EUC-${i}` })),
    );
    const later = Array.from({ length: 20_000 }, (_, i) =>
      ev({ type: E.WEAPON_EVENT_TYPE_EXPORTED, date: '2019-01-01', destination: i % 2 ? 'BEL' : 'UGA' }),
    );
    // No wall-clock bound here (a loaded CI machine is not a benchmark): the cap is what is tested.
    const flags = findReexports('FRA', 'c', [answeredCase('BEL', origins), answeredCase('KEN', later)]);
    expect(flags).toHaveLength(100);
  });
});

describe('a restriction’s partial answer is evidence too (18.3)', () => {
  it('flags from a partial answer as from an answer', () => {
    const bel = answeredCase('BEL', [exported('KEN', '2016-05-10')]);
    const ken = answeredCase('KEN', [], CaseState.CASE_STATE_RESTRICTED);
    ken.answer = undefined;
    ken.restriction = {
      traceId: '',
      reason: 1,
      explanation: 'ongoing investigation',
      partialAnswer: {
        traceId: '',
        outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
        lastLegalRecord: '',
        pointOfDiversion: '',
        referral: undefined,
        history: [ev({ type: E.WEAPON_EVENT_TYPE_EXPORTED, date: '2019-02-11', destination: 'UGA' })],
        details: '',
        automatic: false,
        restrictions: undefined,
        withheld: [],
      },
    };
    expect(findReexports('FRA', 'c', [bel, ken]).map((f) => [f.kind, f.laterState])).toEqual([['reexported', 'UGA']]);
  });
});

describe('a hostile re-export notice (18.5)', () => {
  it('names its broken rules without echoing more than 80 characters of the peer’s text', () => {
    const long = `X${'\u202e'.repeat(50)}${'A'.repeat(20_000)}`;
    const notice = ReexportNotice.fromPartial({
      flagId: 'rx_0123456789abcdef',
      flag: {
        flagId: 'rx_0123456789abcdef',
        exporter: long,
        undertakingState: long,
        laterState: 'UGA',
        kind: 'reexported',
        undertaking: undertaking({ authorisations: [{ destination: long, date: long, reference: '' }] }),
        evidence: [{ source: long, caseId: long, event: exported('KEN', '2016-05-10') }],
      },
    });
    const error = TracenetError.from(
      (() => {
        try {
          validateReexportNotice(notice, 'FRA', 'BEL');
        } catch (thrown) {
          return thrown;
        }
        return undefined;
      })(),
    );
    const rules = error.violations.map((v) => `${v.field} ${v.rule}`);
    expect(rules).toEqual(
      expect.arrayContaining([
        'body.flag.exporter recipient_is_exporter',
        'body.flag.undertaking_state participant_id',
        'body.flag.undertaking.authorisations[0].destination participant_id',
        'body.flag.undertaking.authorisations[0].date date',
        'body.flag.evidence[0].source participant_id',
        'body.flag.evidence[0].case_id max_length',
      ]),
    );
    for (const v of error.violations) expect(v.message.length).toBeLessThan(200);
    expect(error.message.length).toBeLessThan(2000);
    expect(error.message).not.toContain('A'.repeat(81));
  });
});
