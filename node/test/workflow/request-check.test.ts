import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  IllicitKind,
  Likelihood as L,
  RecordKind as R,
  type RecordsProfile,
  TracenetError,
} from '@tracenet/proto';
import { loadConfig } from '../../src/config/config.js';
import { profileFromConfig, verifyRecordsProfile } from '../../src/identity/records-profile.js';
import { checkRequest, COMPLETENESS_ITEMS } from '../../src/workflow/request-check.js';
import { traceRequest } from '../support/requests.js';

const NOW = Date.UTC(2026, 5, 1);
const noProfile = () => undefined;

/** The FNX-45 of the fixtures with every item of 17.1 present: serial, markings, an import mark, a photo. */
function full() {
  const request = traceRequest();
  const weapon = request.weapon;
  if (!weapon) throw new Error('fixture without weapon');
  weapon.imports = [{ country: 'COD', year: 2015 }];
  weapon.photos = [{ mediaType: 'image/jpeg', content: Buffer.from([0xff, 0xd8]), caption: 'left side' }];
  return request;
}

function failure(work: () => unknown): TracenetError {
  try {
    work();
  } catch (error) {
    return TracenetError.from(error);
  }
  throw new Error('not refused');
}

describe('completeness (docs/protocol.md 17.1)', () => {
  it('weighs the items to 100', () => {
    expect(COMPLETENESS_ITEMS.reduce((sum, i) => sum + i.weight, 0)).toBe(100);
  });

  it('gives a complete description 100 and nothing missing', () => {
    const check = checkRequest({ request: full(), recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check.completeness).toEqual({ score: 100, missing: [] });
    expect(check.recipient).toBe('BEL');
    expect(check.checkedAtMs).toBe(NOW);
  });

  it('a request missing its frame serial and photos scores 55 and lists them, heaviest first', () => {
    const request = full();
    const weapon = request.weapon as NonNullable<typeof request.weapon>;
    (weapon.markings as NonNullable<typeof weapon.markings>).serialNumber = '';
    // The slide's serial is not the frame's: it does not count.
    weapon.components = [{ kind: 5, serialNumber: 'SL-7781', marking: '' }];
    weapon.photos = [];
    const check = checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check.completeness).toEqual({
      score: 55,
      missing: [
        { item: 'control_serial', field: 'request.weapon.markings.serial_number', weight: 25 },
        { item: 'photos', field: 'request.weapon.photos', weight: 15 },
        { item: 'serial_obliterated', field: 'request.weapon.serial_obliterated', weight: 5 },
      ],
    });
  });

  it('weighs that photos are there, not their bytes: the console sends their first 16 (compose.tsx)', () => {
    const whole = full();
    const cut = full();
    const big = Buffer.alloc(2_000_000, 0xab);
    const photo = { mediaType: 'image/jpeg', caption: 'left side' };
    (whole.weapon as NonNullable<typeof whole.weapon>).photos = [{ ...photo, content: big }];
    (cut.weapon as NonNullable<typeof cut.weapon>).photos = [{ ...photo, content: big.subarray(0, 16) }];
    const check = (request: typeof whole) =>
      checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check(cut)).toEqual(check(whole));
    expect(check(cut).completeness?.missing.map((m) => m.item)).not.toContain('photos');
  });

  it('a frame serial of wildcards only is missing; flagged obliterated, the flag counts', () => {
    const request = full();
    const weapon = request.weapon as NonNullable<typeof request.weapon>;
    (weapon.markings as NonNullable<typeof weapon.markings>).serialNumber = '??? ***';
    weapon.photos = [];
    weapon.serialObliterated = true;
    const check = checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check.completeness?.score).toBe(60);
    expect(check.completeness?.missing.map((m) => m.item)).toEqual(['control_serial', 'photos']);
  });

  it('a partly legible serial counts, but must be flagged obliterated', () => {
    const request = full();
    const markings = request.weapon?.markings as NonNullable<NonNullable<typeof request.weapon>['markings']>;
    markings.serialNumber = 'FX-04??-2231';
    let check = checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check.completeness?.missing.map((m) => m.item)).toEqual(['serial_obliterated']);
    expect(check.completeness?.score).toBe(95);
    (request.weapon as NonNullable<typeof request.weapon>).serialObliterated = true;
    check = checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check.completeness?.score).toBe(100);
  });

  it('the control component serial counts as the frame serial; an unmarked weapon needs no flag', () => {
    const request = full();
    const weapon = request.weapon as NonNullable<typeof request.weapon>;
    (weapon.markings as NonNullable<typeof weapon.markings>).serialNumber = '';
    weapon.controlComponent = { kind: 4, serialNumber: 'LR-1234', marking: '' };
    expect(checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW }).completeness?.score).toBe(100);
    weapon.controlComponent = undefined;
    request.illicitCriteria = [{ kind: IllicitKind.ILLICIT_KIND_NOT_MARKED, legalBasis: 'ITI para 8' }];
    expect(
      checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW }).completeness?.missing.map(
        (m) => m.item,
      ),
    ).toEqual(['control_serial']);
  });

  it('a country that is not ISO alpha-3 counts for nothing, and an empty request scores 0', () => {
    const request = full();
    const weapon = request.weapon as NonNullable<typeof request.weapon>;
    (weapon.markings as NonNullable<typeof weapon.markings>).countryOfManufacture = 'Belgium\u001b[2J';
    weapon.imports = [{ country: 'cod', year: 2015 }];
    const check = checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check.completeness?.missing.map((m) => m.item)).toEqual(['country_of_manufacture', 'import_marks']);
    // Nothing of the hostile text reaches the reasons.
    expect(JSON.stringify(check.traceability)).not.toContain('\u001b');
    const empty = checkRequest({
      request: traceRequest({ weapon: undefined }),
      recipient: 'BEL',
      profileOf: noProfile,
      nowMs: NOW,
    });
    expect(empty.completeness?.score).toBe(0);
    expect(empty.completeness?.missing).toHaveLength(8);
    expect(empty.traceability?.likelihood).toBe(L.LIKELIHOOD_UNKNOWN);
    expect(empty.traceability?.reasons.map((r) => r.code)).toEqual([
      'no_country_of_manufacture',
      'no_year_of_manufacture',
      'no_line_of_supply',
      'no_profile',
    ]);
  });
});

describe('traceability (docs/protocol.md 17.2)', () => {
  const profiles =
    (map: Record<string, RecordsProfile>) =>
    (p: string): RecordsProfile | undefined =>
      map[p];

  it('asks the last importer first when its import is within 20 years, then the manufacturer', () => {
    const check = checkRequest({ request: full(), recipient: 'COD', profileOf: noProfile, nowMs: NOW });
    const t = check.traceability;
    expect(t?.likelihood).toBe(L.LIKELIHOOD_LIKELY);
    expect(t?.askFirst.map((a) => [a.participant, a.recordKind, a.likelihood])).toEqual([
      ['COD', R.RECORD_KIND_IMPORT, L.LIKELIHOOD_LIKELY],
      ['BEL', R.RECORD_KIND_MANUFACTURE, L.LIKELIHOOD_LIKELY],
    ]);
    expect(t?.askFirst[0]?.reasons).toEqual([
      {
        code: 'last_import_mark',
        values: { participant: 'COD' },
        text: 'COD is the last importing state the import marks name.',
      },
      {
        code: 'within_retention',
        values: { kind: 'import', year: '2015', age: '11', minimum: '20' },
        text: '2015 is 11 years ago: within the ITI minimum of 20 years for import records.',
      },
    ]);
    expect(t?.askFirst[1]?.reasons.map((r) => r.code)).toEqual(['country_of_manufacture', 'within_retention']);
  });

  it('puts the recipient first among equals, and says so when another is likelier', () => {
    const toBel = checkRequest({ request: full(), recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(toBel.traceability?.askFirst.map((a) => a.participant)).toEqual(['BEL', 'COD']);
    const old = full();
    (old.weapon?.markings as { year: number }).year = 1960;
    const check = checkRequest({ request: old, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check.traceability?.askFirst.map((a) => [a.participant, a.likelihood])).toEqual([
      ['COD', L.LIKELIHOOD_LIKELY],
      ['BEL', L.LIKELIHOOD_POSSIBLE],
    ]);
    expect(check.traceability?.askFirst[1]?.reasons[1]).toMatchObject({
      code: 'beyond_retention',
      values: { kind: 'manufacture', year: '1960', age: '66', minimum: '30' },
    });
    expect(check.traceability?.reasons.find((r) => r.code === 'ask_other_first')?.values).toEqual({
      participant: 'BEL',
      first: 'COD',
    });
  });

  it("follows the recipient's declared profile over the ITI minimums", () => {
    const old = full();
    (old.weapon?.markings as { year: number }).year = 1960;
    const covers = checkRequest({
      request: old,
      recipient: 'BEL',
      profileOf: profiles({ BEL: { coverage: [{ kind: R.RECORD_KIND_MANUFACTURE, earliestYear: 1950 }] } }),
      nowMs: NOW,
    });
    const bel = covers.traceability?.askFirst.find((a) => a.participant === 'BEL');
    expect(bel?.likelihood).toBe(L.LIKELIHOOD_LIKELY);
    expect(bel?.reasons[1]).toEqual({
      code: 'profile_covers',
      values: { participant: 'BEL', kind: 'manufacture', earliest_year: '1950', year: '1960' },
      text: 'BEL declares manufacturing records from 1950; 1960 is covered.',
    });
    expect(covers.traceability?.reasons.map((r) => r.code)).not.toContain('no_profile');
    const recent = checkRequest({
      request: full(),
      recipient: 'COD',
      profileOf: profiles({ COD: { coverage: [{ kind: R.RECORD_KIND_IMPORT, earliestYear: 2020 }] } }),
      nowMs: NOW,
    });
    expect(recent.traceability?.askFirst.map((a) => [a.participant, a.likelihood])).toEqual([
      ['BEL', L.LIKELIHOOD_LIKELY],
      ['COD', L.LIKELIHOOD_UNLIKELY],
    ]);
    expect(recent.traceability?.askFirst[1]?.reasons[1]?.code).toBe('profile_not_covered');
  });

  it('bounds an unmarked import year by the year of manufacture', () => {
    const request = full();
    (request.weapon as { imports: { country: string; year: number }[] }).imports = [{ country: 'COD', year: 0 }];
    const check = checkRequest({ request, recipient: 'COD', profileOf: noProfile, nowMs: NOW });
    const cod = check.traceability?.askFirst.find((a) => a.participant === 'COD');
    expect(cod?.reasons.map((r) => r.code)).toEqual(['last_import_mark', 'year_from_manufacture', 'within_retention']);
    expect(cod?.likelihood).toBe(L.LIKELIHOOD_LIKELY);
  });

  it('takes the latest import as the last, and the government transfer mark as the latest point', () => {
    const request = full();
    const weapon = request.weapon as NonNullable<typeof request.weapon>;
    weapon.imports = [
      { country: 'KEN', year: 2019 },
      { country: 'UGA', year: 2012 },
    ];
    weapon.governmentTransfer = { country: 'KEN', year: 2022 };
    const check = checkRequest({ request, recipient: 'KEN', profileOf: noProfile, nowMs: NOW });
    expect(check.traceability?.askFirst.map((a) => [a.participant, a.recordKind])).toEqual([
      ['KEN', R.RECORD_KIND_TRANSFER],
      ['KEN', R.RECORD_KIND_IMPORT],
      ['BEL', R.RECORD_KIND_MANUFACTURE],
    ]);
  });

  it('does not use years 0 or 99999: unknown, with the field named', () => {
    const request = full();
    const weapon = request.weapon as NonNullable<typeof request.weapon>;
    (weapon.markings as { year: number }).year = 99_999;
    weapon.imports = [{ country: 'COD', year: 4_294_967_295 }];
    const check = checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check.traceability?.likelihood).toBe(L.LIKELIHOOD_UNKNOWN);
    expect(check.traceability?.askFirst.every((a) => a.likelihood === L.LIKELIHOOD_UNKNOWN)).toBe(true);
    expect(check.traceability?.reasons.filter((r) => r.code === 'year_out_of_range').map((r) => r.values)).toEqual([
      { field: 'request.weapon.markings.year', min: '1800', max: '2026' },
      { field: 'request.weapon.imports[0].year', min: '1800', max: '2026' },
    ]);
    (weapon.markings as { year: number }).year = 0;
    const none = checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(none.traceability?.reasons.map((r) => r.code)).toContain('no_year_of_manufacture');
    expect(none.traceability?.askFirst.find((a) => a.participant === 'BEL')?.reasons[1]?.code).toBe('year_unknown');
  });

  it('is bounded whatever the number of import marks', () => {
    const request = full();
    (request.weapon as { imports: { country: string; year: number }[] }).imports = Array.from(
      { length: 100_000 },
      (_, i) => ({ country: 'COD', year: 1900 + (i % 100) }),
    );
    const check = checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(check.traceability?.askFirst).toHaveLength(2);
    // Years out of range in every mark: one reason, naming the first, not one per mark.
    (request.weapon as { imports: { country: string; year: number }[] }).imports = Array.from(
      { length: 100_000 },
      (_, i) => ({ country: 'COD', year: i === 0 ? 1995 : 99_999 }),
    );
    const hostile = checkRequest({ request, recipient: 'BEL', profileOf: noProfile, nowMs: NOW });
    expect(
      hostile.traceability?.reasons.filter((r) => r.code === 'year_out_of_range').map((r) => r.values.field),
    ).toEqual(['request.weapon.imports[1].year']);
    expect(hostile.traceability?.askFirst.find((a) => a.participant === 'COD')?.reasons[1]?.values.year).toBe('1995');
    expect(JSON.stringify(hostile).length).toBeLessThan(4000);
  });
});

describe('records profile (docs/protocol.md 17.2)', () => {
  const issued = Date.UTC(2026, 5, 1);
  it('accepts known, unique kinds with years from 1800 to the year of issue', () => {
    verifyRecordsProfile(
      {
        coverage: [
          { kind: R.RECORD_KIND_MANUFACTURE, earliestYear: 1800 },
          { kind: R.RECORD_KIND_TRANSFER, earliestYear: 2026 },
        ],
      },
      issued,
    );
  });
  it.each([
    [[{ kind: R.RECORD_KIND_UNSPECIFIED, earliestYear: 1990 }], 'card.records_profile.coverage[0].kind', 'record_kind'],
    [[{ kind: 9 as R, earliestYear: 1990 }], 'card.records_profile.coverage[0].kind', 'record_kind'],
    [
      [
        { kind: R.RECORD_KIND_IMPORT, earliestYear: 1990 },
        { kind: R.RECORD_KIND_IMPORT, earliestYear: 1980 },
      ],
      'card.records_profile.coverage[1].kind',
      'duplicate_kind',
    ],
    [
      [{ kind: R.RECORD_KIND_IMPORT, earliestYear: 2027 }],
      'card.records_profile.coverage[0].earliest_year',
      'earliest_year',
    ],
    [
      [{ kind: R.RECORD_KIND_IMPORT, earliestYear: 1799 }],
      'card.records_profile.coverage[0].earliest_year',
      'earliest_year',
    ],
    [
      [{ kind: R.RECORD_KIND_IMPORT, earliestYear: 0 }],
      'card.records_profile.coverage[0].earliest_year',
      'earliest_year',
    ],
  ])('refuses %j as %s %s', (coverage, field, rule) => {
    const error = failure(() => verifyRecordsProfile({ coverage }, issued));
    expect(error.code).toBe(ErrorCode.ERROR_CODE_INVALID_PEER_CARD);
    expect([error.field, error.rule]).toEqual([field, rule]);
  });

  it('is built from the configuration in the order of the kinds, and refuses a year to come', () => {
    expect(profileFromConfig({}, issued)).toBeUndefined();
    expect(profileFromConfig({ import: 1985, manufacture: 1950 }, issued)).toEqual({
      coverage: [
        { kind: R.RECORD_KIND_MANUFACTURE, earliestYear: 1950 },
        { kind: R.RECORD_KIND_IMPORT, earliestYear: 1985 },
      ],
    });
    const error = failure(() => profileFromConfig({ export: 2030 }, issued));
    expect([error.field, error.rule]).toEqual(['records.profile', 'config']);
  });

  it('takes records.profile from the environment as JSON, and refuses unknown kinds and years out of range', async () => {
    const config = await loadConfig({ env: { TRACENET_RECORDS_PROFILE: '{"manufacture":1950,"transfer":2001}' } });
    expect(config.records.profile).toEqual({ manufacture: 1950, transfer: 2001 });
    for (const bad of ['{"making":1950}', '{"import":1799}', '{"import":"1990"}', '[1990]', 'not json']) {
      const error = await loadConfig({ env: { TRACENET_RECORDS_PROFILE: bad } }).then(
        () => undefined,
        (e: unknown) => TracenetError.from(e),
      );
      expect([error?.code, error?.field, error?.rule], bad).toEqual([
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'records.profile',
        'config',
      ]);
    }
  });
});
