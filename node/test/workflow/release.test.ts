import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  ReleaseAction as A,
  type ReleaseRule,
  TraceAnswer,
  TraceOutcome as O,
  TracenetError,
  WeaponEventType as E,
  type WeaponRecord,
} from '@tracenet/proto';
import { parseReleaseRule, releaseRuleText } from '../../src/cli/peer-commands.js';
import { validateAnswer } from '../../src/messages/validation.js';
import { answerFromRecord } from '../../src/workflow/auto-answer.js';
import { applyRelease, type ReleasePolicy, validateReleaseRules } from '../../src/workflow/release.js';
import { event, weapon } from '../records/support.js';

/** A rule with every scope empty unless given. */
function rule(field: string, action: A, fields: Partial<ReleaseRule> = {}): ReleaseRule {
  return { field, action, eventTypes: [], outcomes: [], reason: '', ...fields };
}

const policy = (peerRules: ReleaseRule[], nodeRules: ReleaseRule[] = []): ReleasePolicy => ({
  peer: 'FRA',
  peerRules,
  nodeRules,
});

/** Made in Belgium, sold to a dealer, then to a private person, then stolen from them. */
const PRIVATE_SALE: WeaponRecord = weapon({
  events: [
    event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2014-02-01', { place: 'Herstal', agency: 'FN Herstal' }),
    event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2015-06-02', { endUser: 'Armurerie Dupont', licence: 'BE-D-17' }),
    event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2019-03-11', { endUser: 'Jean Martin', place: 'Namur' }),
    event(E.WEAPON_EVENT_TYPE_STOLEN, '2021-09-30', { place: 'Namur', agency: 'Police de Namur' }),
  ],
});

/** Exported to KEN for its police, the last event. */
const EXPORT: WeaponRecord = weapon({
  events: [
    event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2011-01-10'),
    event(E.WEAPON_EVENT_TYPE_EXPORTED, '2012-03-14', {
      destination: 'KEN',
      licence: 'BE-EXP-0413',
      endUser: 'Kenya Police Service',
    }),
  ],
});

const automatic = (record: WeaponRecord) => {
  const answer = answerFromRecord(record, 'trace-0000000000000001');
  if (!answer) throw new Error('no answer');
  return answer;
};
const AUTO = { derived: true, confirmed: [] } as const;

describe('applyRelease: actions', () => {
  it('no rule: everything is released, nothing listed', () => {
    const input = automatic(PRIVATE_SALE);
    const { answer, pending } = applyRelease(input, policy([]), AUTO);
    expect(answer.history).toEqual(PRIVATE_SALE.events);
    expect(answer.lastLegalRecord).toBe('transferred 2019-03-11 at Namur, end user Jean Martin');
    expect(answer.withheld).toEqual([]);
    expect(pending).toEqual([]);
  });

  it('WITHHOLD empties every value of the field and lists each, not available on request', () => {
    const { answer, pending } = applyRelease(
      automatic(PRIVATE_SALE),
      policy([rule('history.end_user', A.RELEASE_ACTION_WITHHOLD, { reason: 'loi 78-17 art. 9' })]),
      AUTO,
    );
    expect(answer.history.map((e) => e.endUser)).toEqual(['', '', '', '']);
    // Only values there were: the manufacture and the theft had no end user.
    expect(answer.withheld).toEqual([
      { field: 'history[1].end_user', reason: 'loi 78-17 art. 9', availableOnRequest: false },
      { field: 'history[2].end_user', reason: 'loi 78-17 art. 9', availableOnRequest: false },
    ]);
    expect(pending).toEqual([]);
    // The other fields stay.
    expect(answer.history[2]?.place).toBe('Namur');
    expect(answer.history[1]?.licence).toBe('BE-D-17');
  });

  it('ON_REQUEST withholds and says available on request; an officer confirming it releases it', () => {
    const rules = policy([rule('history.place', A.RELEASE_ACTION_ON_REQUEST)]);
    const { answer } = applyRelease(automatic(PRIVATE_SALE), rules, AUTO);
    expect(answer.withheld.map((w) => [w.field, w.availableOnRequest])).toEqual([
      ['history[0].place', true],
      ['history[2].place', true],
      ['history[3].place', true],
    ]);
    const manual = automatic(PRIVATE_SALE);
    const confirmed = applyRelease(manual, rules, { derived: false, confirmed: ['history[2].place'] }).answer;
    expect(confirmed.history[2]?.place).toBe('Namur');
    expect(confirmed.withheld.map((w) => w.field)).toEqual(['history[0].place', 'history[3].place']);
    const all = applyRelease(manual, rules, { derived: false, confirmed: ['history.place'] }).answer;
    expect(all.withheld).toEqual([]);
  });

  it('APPROVAL leaves the values pending unless confirmed, naming the rule', () => {
    const rules = policy([
      rule('history.licence', A.RELEASE_ACTION_RELEASE),
      rule('history.end_user', A.RELEASE_ACTION_APPROVAL, { reason: 'supervisor' }),
    ]);
    const { pending } = applyRelease(automatic(PRIVATE_SALE), rules, AUTO);
    expect(pending).toEqual([
      { field: 'history[1].end_user', rule: 'FRA release_rules[1]', reason: 'supervisor' },
      { field: 'history[2].end_user', rule: 'FRA release_rules[1]', reason: 'supervisor' },
    ]);
    const confirmed = applyRelease(automatic(PRIVATE_SALE), rules, {
      derived: false,
      confirmed: ['history.end_user'],
    });
    expect(confirmed.pending).toEqual([]);
    expect(confirmed.answer.history[2]?.endUser).toBe('Jean Martin');
    expect(confirmed.answer.withheld).toEqual([]);
  });

  it('RELEASE first in the list wins over a later WITHHOLD for the same values', () => {
    const { answer } = applyRelease(
      automatic(PRIVATE_SALE),
      policy([
        rule('history.end_user', A.RELEASE_ACTION_RELEASE, { eventTypes: [E.WEAPON_EVENT_TYPE_EXPORTED] }),
        rule('history.end_user', A.RELEASE_ACTION_WITHHOLD),
      ]),
      AUTO,
    );
    expect(answer.withheld.map((w) => w.field)).toEqual(['history[1].end_user', 'history[2].end_user']);
    const exported = applyRelease(
      automatic(EXPORT),
      policy([
        rule('history.end_user', A.RELEASE_ACTION_RELEASE, { eventTypes: [E.WEAPON_EVENT_TYPE_EXPORTED] }),
        rule('history.end_user', A.RELEASE_ACTION_WITHHOLD),
      ]),
      AUTO,
    ).answer;
    expect(exported.history[1]?.endUser).toBe('Kenya Police Service');
    expect(exported.withheld).toEqual([]);
  });

  it('a confirmation cannot release a WITHHOLD value: INVALID_FIELD release_policy', () => {
    const rules = policy([rule('history.end_user', A.RELEASE_ACTION_WITHHOLD)]);
    let error: TracenetError | undefined;
    try {
      applyRelease(automatic(PRIVATE_SALE), rules, { derived: false, confirmed: ['history[2].end_user'] });
    } catch (e) {
      error = TracenetError.from(e);
    }
    expect(error?.code).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
    expect(error?.field).toBe('answer.history[2].end_user');
    expect(error?.rule).toBe('release_policy');
  });

  it('a rule field confirmed releases the APPROVAL values it names, never the WITHHOLD ones', () => {
    const rules = policy([
      rule('history.end_user', A.RELEASE_ACTION_WITHHOLD, { eventTypes: [E.WEAPON_EVENT_TYPE_TRANSFERRED] }),
      rule('history.end_user', A.RELEASE_ACTION_APPROVAL),
    ]);
    const mixed = { ...automatic(PRIVATE_SALE), referral: { participant: 'KEN', basis: 'b', event: EXPORT.events[1] } };
    const { answer, pending } = applyRelease(mixed, rules, { derived: false, confirmed: ['history.end_user'] });
    expect(pending).toEqual([]);
    expect(answer.referral?.event?.endUser).toBe('Kenya Police Service');
    expect(answer.withheld.map((w) => w.field)).toEqual(['history[1].end_user', 'history[2].end_user']);
    // Named by its path in a partial answer: refused under that prefix.
    expect(() =>
      applyRelease(mixed, rules, { derived: false, confirmed: ['history[2].end_user'], prefix: 'partial_answer' }),
    ).toThrow(expect.objectContaining({ field: 'partial_answer.history[2].end_user', rule: 'release_policy' }));
  });

  it('a confirmation that is not a field is refused (release[i], release_field)', () => {
    expect(() =>
      applyRelease(automatic(PRIVATE_SALE), policy([]), {
        derived: false,
        confirmed: ['history.end_user', 'Jean Martin'],
      }),
    ).toThrow(expect.objectContaining({ field: 'release[1]', rule: 'release_field' }));
  });

  it('does not change its input', () => {
    const input = automatic(PRIVATE_SALE);
    const before = JSON.stringify(input);
    applyRelease(input, policy([rule('history.end_user', A.RELEASE_ACTION_WITHHOLD)]), AUTO);
    expect(JSON.stringify(input)).toBe(before);
    expect(PRIVATE_SALE.events[2]?.endUser).toBe('Jean Martin');
  });
});

describe('applyRelease: scopes', () => {
  it('event types: "end user of a private transfer" withholds TRANSFERRED end users only', () => {
    const rules = policy([
      rule('history.end_user', A.RELEASE_ACTION_ON_REQUEST, { eventTypes: [E.WEAPON_EVENT_TYPE_TRANSFERRED] }),
    ]);
    const transfers = applyRelease(automatic(PRIVATE_SALE), rules, AUTO).answer;
    expect(transfers.withheld.map((w) => w.field)).toEqual(['history[1].end_user', 'history[2].end_user']);
    const exported = applyRelease(automatic(EXPORT), rules, AUTO).answer;
    expect(exported.withheld).toEqual([]);
    expect(exported.referral?.event?.endUser).toBe('Kenya Police Service');
  });

  it('outcomes: a rule for REFERRED answers does not touch a TRACED one', () => {
    const rules = policy([
      rule('history.end_user', A.RELEASE_ACTION_WITHHOLD, { outcomes: [O.TRACE_OUTCOME_REFERRED] }),
    ]);
    expect(applyRelease(automatic(PRIVATE_SALE), rules, AUTO).answer.withheld).toEqual([]);
    const referred = applyRelease(automatic(EXPORT), rules, AUTO).answer;
    expect(referred.withheld.map((w) => w.field)).toEqual(['history[1].end_user', 'referral.event.end_user']);
  });

  it("node-wide rules apply to a field the peer's rules do not name; a peer's rule for the field replaces them", () => {
    const node = [
      rule('history.end_user', A.RELEASE_ACTION_WITHHOLD),
      rule('history.place', A.RELEASE_ACTION_WITHHOLD, { reason: 'node' }),
    ];
    const own = [rule('history.end_user', A.RELEASE_ACTION_RELEASE, { eventTypes: [E.WEAPON_EVENT_TYPE_EXPORTED] })];
    const { answer } = applyRelease(automatic(PRIVATE_SALE), policy(own, node), AUTO);
    // The peer's rule names end_user: the node's end_user rule is not used, and the TRANSFERRED
    // end users match no rule of the peer, so they are released.
    expect(answer.history[2]?.endUser).toBe('Jean Martin');
    expect(answer.withheld.map((w) => w.field)).toEqual(['history[0].place', 'history[2].place', 'history[3].place']);
    const { pending } = applyRelease(
      automatic(PRIVATE_SALE),
      policy([], [rule('history.end_user', A.RELEASE_ACTION_APPROVAL)]),
      AUTO,
    );
    expect(pending[0]?.rule).toBe('* release_rules[0]');
  });
});

describe('applyRelease: derived texts', () => {
  it('a TRACED answer: last legal record and point of diversion are built from the released events', () => {
    const { answer } = applyRelease(
      automatic(PRIVATE_SALE),
      policy([
        rule('history.end_user', A.RELEASE_ACTION_WITHHOLD, { eventTypes: [E.WEAPON_EVENT_TYPE_TRANSFERRED] }),
        rule('history.agency', A.RELEASE_ACTION_WITHHOLD),
      ]),
      AUTO,
    );
    expect(answer.outcome).toBe(O.TRACE_OUTCOME_TRACED);
    expect(answer.lastLegalRecord).toBe('transferred 2019-03-11 at Namur');
    expect(answer.pointOfDiversion).toBe('stolen 2021-09-30 at Namur');
    expect(JSON.stringify(answer)).not.toContain('Jean Martin');
    expect(JSON.stringify(answer)).not.toContain('Police de Namur');
  });

  it('a REFERRED answer: the referral event and basis are released ones; the participant stays', () => {
    const { answer } = applyRelease(
      automatic(EXPORT),
      policy([rule('history.end_user', A.RELEASE_ACTION_ON_REQUEST)]),
      AUTO,
    );
    expect(answer.referral).toEqual({
      participant: 'KEN',
      basis: 'exported 2012-03-14 to KEN under licence BE-EXP-0413',
      event: expect.objectContaining({ endUser: '', destination: 'KEN' }),
    });
    expect(answer.lastLegalRecord).toBe('exported 2012-03-14 to KEN under licence BE-EXP-0413');
    expect(answer.withheld.map((w) => w.field)).toEqual(['history[1].end_user', 'referral.event.end_user']);
  });

  it("a manual answer: the officer's texts are not rebuilt, but rules on the texts apply", () => {
    const manual = {
      ...automatic(PRIVATE_SALE),
      lastLegalRecord: 'sold to a private person in 2019',
      details: 'ask our contact point for the buyer',
    };
    const { answer } = applyRelease(
      manual,
      policy([
        rule('history.end_user', A.RELEASE_ACTION_WITHHOLD),
        rule('details', A.RELEASE_ACTION_WITHHOLD, { reason: 'internal' }),
      ]),
      { derived: false, confirmed: [] },
    );
    expect(answer.lastLegalRecord).toBe('sold to a private person in 2019');
    expect(answer.details).toBe('');
    expect(answer.withheld.at(-1)).toEqual({ field: 'details', reason: 'internal', availableOnRequest: false });
  });

  it('the derived texts themselves may be withheld', () => {
    const { answer } = applyRelease(
      automatic(PRIVATE_SALE),
      policy([
        rule('point_of_diversion', A.RELEASE_ACTION_ON_REQUEST),
        rule('referral.basis', A.RELEASE_ACTION_WITHHOLD),
      ]),
      AUTO,
    );
    expect(answer.pointOfDiversion).toBe('');
    expect(answer.withheld).toEqual([{ field: 'point_of_diversion', reason: '', availableOnRequest: true }]);
    const referred = applyRelease(automatic(EXPORT), policy([rule('referral.basis', A.RELEASE_ACTION_WITHHOLD)]), AUTO);
    expect(referred.answer.referral?.basis).toBe('');
    expect(referred.answer.referral?.participant).toBe('KEN');
  });
});

describe('validateReleaseRules', () => {
  const fails = (rules: ReleaseRule[]) => {
    try {
      validateReleaseRules(rules, 'policy.release_rules');
    } catch (e) {
      return TracenetError.from(e).violations.map((v) => `${v.field} ${v.rule}`);
    }
    return [];
  };

  it('accepts the documented fields and scopes', () => {
    expect(
      fails([
        rule('history.end_user', A.RELEASE_ACTION_ON_REQUEST, {
          eventTypes: [E.WEAPON_EVENT_TYPE_TRANSFERRED],
          outcomes: [O.TRACE_OUTCOME_TRACED],
          reason: 'loi 78-17',
        }),
        rule('last_legal_record', A.RELEASE_ACTION_APPROVAL),
        rule('referral.basis', A.RELEASE_ACTION_WITHHOLD),
      ]),
    ).toEqual([]);
  });

  it('refuses unknown fields, event types on a text, unknown enums, long reasons, too many rules', () => {
    expect(
      fails([
        rule('history.serial', A.RELEASE_ACTION_WITHHOLD),
        rule('details', A.RELEASE_ACTION_WITHHOLD, { eventTypes: [E.WEAPON_EVENT_TYPE_TRANSFERRED] }),
        rule('history.place', A.RELEASE_ACTION_UNSPECIFIED),
        rule('history.place', 99 as A, { eventTypes: [0 as E, 77 as E], outcomes: [-1 as O] }),
        rule('history.place', A.RELEASE_ACTION_WITHHOLD, { reason: 'x'.repeat(501) }),
      ]),
    ).toEqual([
      'policy.release_rules[0].field release_field',
      'policy.release_rules[1].event_types event_field_only',
      'policy.release_rules[2].action enum',
      'policy.release_rules[3].event_types[0] enum',
      'policy.release_rules[3].event_types[1] enum',
      'policy.release_rules[3].outcomes[0] enum',
      'policy.release_rules[3].action enum',
      'policy.release_rules[4].reason max_length',
    ]);
    expect(fails(Array.from({ length: 201 }, () => rule('history.place', A.RELEASE_ACTION_RELEASE)))).toEqual([
      'policy.release_rules max_items',
    ]);
  });
});

describe('validateAnswer: the withheld list of a received answer (protocol 12.11 item 7)', () => {
  const base = (changes: Partial<TraceAnswer>): TraceAnswer =>
    TraceAnswer.fromPartial({
      traceId: 'trace-0000000000000001',
      outcome: O.TRACE_OUTCOME_TRACED,
      lastLegalRecord: 'transferred 2019-03-11',
      history: [event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2019-03-11')],
      ...changes,
    });
  const broken = (answer: TraceAnswer) => {
    try {
      validateAnswer(answer, 'body');
    } catch (e) {
      return TracenetError.from(e).violations.map((v) => `${v.field} ${v.rule}`);
    }
    return [];
  };
  const w = (field: string, reason = '') => ({ field, reason, availableOnRequest: false });

  it('accepts what a node writes, and well-formed paths a later version may write', () => {
    expect(
      broken(
        base({
          withheld: [
            w('history[0].end_user'),
            w('history[0].serial_suffix'),
            w('point_of_diversion'),
            w('photos[3].content'),
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('a withheld last legal record or referral basis may be empty; otherwise they are still required', () => {
    expect(broken(base({ lastLegalRecord: '', withheld: [w('last_legal_record')] }))).toEqual([]);
    expect(broken(base({ lastLegalRecord: '', withheld: [w('point_of_diversion')] }))).toEqual([
      'body.last_legal_record required',
    ]);
    const referred = base({
      outcome: O.TRACE_OUTCOME_REFERRED,
      referral: { participant: 'KEN', basis: '', event: undefined },
    });
    expect(broken({ ...referred, withheld: [w('referral.basis')] })).toEqual([]);
    expect(broken(referred)).toEqual(['body.referral.basis required']);
  });

  it('refuses paths out of the grammar, out of the history, listed twice, or naming a value that is there', () => {
    expect(
      broken(
        base({
          history: [event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2019-03-11', { endUser: 'Jean Martin' })],
          referral: {
            participant: 'KEN',
            basis: 'b',
            event: event(E.WEAPON_EVENT_TYPE_EXPORTED, '', { endUser: 'x' }),
          },
          withheld: [
            w(''),
            w('History[0].end_user'),
            w('history[01].end_user'),
            w('history[-1].end_user'),
            w('history[1].end_user'),
            w('history[0].end_user'),
            w('referral.event.end_user'),
            w('details'),
            w('details'),
            w(`x${'y'.repeat(100)}`),
            w('a.b.c.d.e'),
            w('details\n'),
          ],
        }),
      ),
    ).toEqual([
      'body.withheld[0].field field_path',
      'body.withheld[1].field field_path',
      'body.withheld[2].field field_path',
      'body.withheld[3].field field_path',
      'body.withheld[4].field field_path',
      'body.withheld[5].field withheld_empty',
      'body.withheld[6].field withheld_empty',
      'body.withheld[8].field unique',
      'body.withheld[9].field field_path',
      'body.withheld[10].field field_path',
      'body.withheld[11].field field_path',
    ]);
  });

  it('bounds the list and its reasons', () => {
    expect(broken(base({ withheld: [w('details', 'r'.repeat(501))] }))).toEqual(['body.withheld[0].reason max_length']);
    const many = Array.from({ length: 2001 }, (_, i) => w(`extra_${i}`));
    expect(broken(base({ withheld: many }))).toEqual(['body.withheld max_items']);
    expect(broken(base({ withheld: many.slice(0, 2000) }))).toEqual([]);
  });
});

describe('the CLI form of a release rule', () => {
  it('reads what it prints', () => {
    const text = 'history.end_user=on-request;events=transferred,exported;outcomes=traced;reason=Loi 78-17, art. 9';
    const parsed = parseReleaseRule(text);
    expect(parsed).toEqual({
      field: 'history.end_user',
      action: A.RELEASE_ACTION_ON_REQUEST,
      eventTypes: [E.WEAPON_EVENT_TYPE_TRANSFERRED, E.WEAPON_EVENT_TYPE_EXPORTED],
      outcomes: [O.TRACE_OUTCOME_TRACED],
      reason: 'Loi 78-17, art. 9',
    });
    expect(releaseRuleText(parsed)).toBe(text);
  });

  it('refuses another form, an unknown action, event type or key', () => {
    for (const text of [
      'history.end_user',
      'history.end_user=hide',
      'history.end_user=withhold;events=sold',
      'history.end_user=withhold;when=always',
    ])
      expect(() => parseReleaseRule(text), text).toThrow(
        expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_FIELD }),
      );
  });
});
