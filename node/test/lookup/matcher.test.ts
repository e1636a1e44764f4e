import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCode, InterestCategory, type RecordQuery, WeaponType } from '@tracenet/proto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { initSodium } from '../../src/crypto/sodium.js';
import { AliasTable, parseAliasCsv } from '../../src/records/alias-table.js';
import {
  compileLookup,
  lookupQueryViolations,
  matchInterest,
  MAX_HITS,
  throwViolations,
} from '../../src/lookup/matcher.js';
import { MAX_WILDCARDS, serialPattern } from '../../src/records/serial-pattern.js';
import { RateLimiter } from '../../src/lookup/rate-limiter.js';
import type { InterestEntry, RecordStore } from '../../src/records/record-store.js';
import { ManualClock } from '../../src/util/clock.js';

const SAMPLE = fileURLToPath(new URL('../../../docs/examples/manufacturer-aliases.csv', import.meta.url));

beforeAll(() => initSodium());

function query(fields: Partial<RecordQuery>): RecordQuery {
  return { manufacturer: 'FN Herstal', model: '', serialNumber: 'FX-0412-2231', calibre: '', type: 0, ...fields };
}

/** An index entry as the record store writes it for an FN Herstal FAL, 7.62x51mm rifle, serial FX04122231. */
function entry(fields: Partial<InterestEntry> = {}): InterestEntry {
  return {
    recordId: `rec_${'A'.repeat(22)}`,
    serial: 'FX04122231',
    reference: `roi_${'B'.repeat(22)}`,
    manufacturer: 'fn herstal',
    model: 'fal',
    calibre: '7.62x51mm',
    type: WeaponType.WEAPON_TYPE_RIFLE,
    category: InterestCategory.INTEREST_CATEGORY_STOLEN,
    contactPoint: 'NCB Brussels',
    ...fields,
  };
}

describe('serial patterns', () => {
  it('an exact serial is the normalised serial and matches only itself', () => {
    const p = serialPattern(' fx-0412 / 2231 ');
    expect(p).toMatchObject({ pattern: 'FX04122231', partial: false, prefix: 'FX04122231', known: 10 });
    expect(p.test('FX04122231')).toBe(true);
    expect(p.test('FX04122232')).toBe(false);
  });

  it('"?" stands for one letter or digit of the normalised serial, "*" for any run, also none', () => {
    const p = serialPattern('fx-04?2-*');
    expect(p).toMatchObject({ pattern: 'FX04?2*', partial: true, prefix: 'FX04', known: 5 });
    expect(p.test('FX04122231')).toBe(true);
    expect(p.test('FX0412')).toBe(true);
    expect(p.test('FX042')).toBe(false);
    expect(p.test('FX041322')).toBe(false);
    expect(serialPattern('*2231').test('FX04122231')).toBe(true);
    expect(serialPattern('*2231').prefix).toBe('');
    expect(serialPattern('FX**??2231').pattern).toBe('FX*??2231');
  });

  it('separators around wildcards are dropped like any separator', () => {
    expect(serialPattern('FX 04-?? 22.31').test('FX04122231')).toBe(true);
  });

  it('agrees with the rules of 13.4 read literally, on every small pattern and serial', () => {
    // The rule as written: "?" one character, "*" any run, the whole serial covered. Exponential,
    // so only for small inputs; the matcher under test must give the same answer in linear time.
    const reference = (p: readonly string[], s: readonly string[]): boolean => {
      const [c, ...rest] = p;
      if (c === undefined) return s.length === 0;
      if (c === '*') return reference(rest, s) || (s.length > 0 && reference(p, s.slice(1)));
      return s.length > 0 && (c === '?' || c === s[0]) && reference(rest, s.slice(1));
    };
    // A small alphabet so that patterns often match; "𠀀" is a letter outside the BMP (one "?", two UTF-16 units).
    const letters = ['A', 'B', '1', '𠀀'];
    const serial = fc.array(fc.constantFrom(...letters), { maxLength: 12 }).map((cs) => cs.join(''));
    const pattern = fc
      .array(fc.constantFrom(...letters, '?', '*', '-'), { minLength: 1, maxLength: 10 })
      .map((cs) => cs.join(''));
    fc.assert(
      fc.property(pattern, serial, (raw, s) => {
        const p = serialPattern(raw);
        expect(p.test(s)).toBe(reference([...p.pattern], [...s]));
      }),
      { numRuns: 20_000 },
    );
  });

  it('counts each "?" and each run of "*" as one wildcard', () => {
    expect(serialPattern('AB*?**?*').wildcards).toBe(5);
    expect(serialPattern('AB12').wildcards).toBe(0);
  });
});

describe('query rules', () => {
  const valid = { weapon: query({}), purpose: 'seizure, case 2024/118', requestingAuthority: '' };

  it('a complete query has no violation', () => {
    expect(lookupQueryViolations(valid, '')).toEqual([]);
    expect(lookupQueryViolations({ ...valid, queryId: 'q'.repeat(16) }, 'body')).toEqual([]);
  });

  it('names every missing or invalid field under the prefix', () => {
    const v = lookupQueryViolations(
      {
        weapon: query({ manufacturer: ' ', serialNumber: '' }),
        purpose: '',
        requestingAuthority: '',
        queryId: 'short',
      },
      'body',
    );
    expect(v.map((x) => [x.field, x.rule])).toEqual([
      ['body.query_id', 'query_id'],
      ['body.weapon.manufacturer', 'required'],
      ['body.weapon.serial_number', 'required'],
      ['body.purpose', 'required'],
    ]);
    expect(lookupQueryViolations({ ...valid, weapon: undefined }, '')[0]).toMatchObject({
      field: 'weapon',
      rule: 'required',
    });
  });

  it('a wildcard serial needs at least 3 known characters', () => {
    expect(lookupQueryViolations({ ...valid, weapon: query({ serialNumber: 'A-?-B*' }) }, '')).toEqual([
      expect.objectContaining({ field: 'weapon.serial_number', rule: 'wildcard_known_characters' }),
    ]);
    expect(lookupQueryViolations({ ...valid, weapon: query({ serialNumber: '*?*' }) }, '')[0]?.rule).toBe(
      'wildcard_known_characters',
    );
    expect(lookupQueryViolations({ ...valid, weapon: query({ serialNumber: 'A?B*C' }) }, '')).toEqual([]);
    expect(lookupQueryViolations({ ...valid, weapon: query({ serialNumber: '--' }) }, '')[0]?.rule).toBe('serial');
  });

  it(`a wildcard serial holds at most ${MAX_WILDCARDS} wildcards`, () => {
    const at = (serialNumber: string) => lookupQueryViolations({ ...valid, weapon: query({ serialNumber }) }, 'body');
    expect(at(`${'*?'.repeat(MAX_WILDCARDS / 2)}XYZ`)).toEqual([]);
    expect(at(`FX0${'?'.repeat(MAX_WILDCARDS)}`)).toEqual([]);
    // A run of "*" counts once: these are "*XYZ".
    expect(at(`${'*'.repeat(150)}XYZ`)).toEqual([]);
    expect(at(`${'*?'.repeat(MAX_WILDCARDS / 2)}?XYZ`)).toEqual([
      expect.objectContaining({ field: 'body.weapon.serial_number', rule: 'max_wildcards' }),
    ]);
    expect(at(`${'*?'.repeat(60)}XYZ`)[0]?.message).toContain(`at most ${MAX_WILDCARDS} wildcards`);
  });

  it('refuses texts over their limits and unknown types', () => {
    const v = lookupQueryViolations(
      { ...valid, purpose: 'p'.repeat(501), weapon: query({ model: 'm'.repeat(201), type: 99 as WeaponType }) },
      '',
    );
    expect(v.map((x) => x.field)).toEqual(['weapon.model', 'weapon.type', 'purpose']);
  });

  it('texts may reach their limits exactly; one character more is refused, each under its own field', () => {
    const atLimit = {
      weapon: query({
        manufacturer: 'm'.repeat(200),
        serialNumber: `FX${'1'.repeat(198)}`,
        model: 'm'.repeat(200),
        calibre: 'c'.repeat(200),
      }),
      purpose: 'p'.repeat(500),
      requestingAuthority: 'a'.repeat(500),
    };
    expect(lookupQueryViolations(atLimit, '')).toEqual([]);
    const over = {
      weapon: query({
        manufacturer: 'm'.repeat(201),
        serialNumber: 'F'.repeat(201),
        model: 'm'.repeat(201),
        calibre: 'c'.repeat(201),
      }),
      purpose: 'p'.repeat(501),
      requestingAuthority: 'a'.repeat(501),
    };
    expect(lookupQueryViolations(over, 'body')).toEqual([
      {
        field: 'body.weapon.manufacturer',
        rule: 'max_length',
        message: 'weapon.manufacturer is longer than 200 characters',
      },
      {
        field: 'body.weapon.serial_number',
        rule: 'max_length',
        message: 'weapon.serial_number is longer than 200 characters',
      },
      { field: 'body.weapon.model', rule: 'max_length', message: 'weapon.model is longer than 200 characters' },
      { field: 'body.weapon.calibre', rule: 'max_length', message: 'weapon.calibre is longer than 200 characters' },
      { field: 'body.purpose', rule: 'max_length', message: 'purpose is longer than 500 characters' },
      {
        field: 'body.requesting_authority',
        rule: 'max_length',
        message: 'requesting_authority is longer than 500 characters',
      },
    ]);
    // A manufacturer of separators only is refused as a name, unless it is already too long.
    expect(lookupQueryViolations({ ...valid, weapon: query({ manufacturer: '-.-' }) }, '')).toEqual([
      { field: 'weapon.manufacturer', rule: 'name', message: 'the manufacturer has no letter or digit' },
    ]);
    expect(
      lookupQueryViolations({ ...valid, weapon: query({ manufacturer: '-'.repeat(201) }) }, '').map((x) => x.rule),
    ).toEqual(['max_length']);
    // At exactly the limit, the content rules still apply.
    expect(
      lookupQueryViolations({ ...valid, weapon: query({ manufacturer: '-'.repeat(200) }) }, '').map((x) => x.rule),
    ).toEqual(['name']);
    expect(
      lookupQueryViolations({ ...valid, weapon: query({ serialNumber: '-'.repeat(200) }) }, '').map((x) => x.rule),
    ).toEqual(['serial']);
  });

  it('says in each violation what is wrong', () => {
    const v = lookupQueryViolations(
      {
        weapon: query({ manufacturer: ' ', serialNumber: ' ', type: WeaponType.UNRECOGNIZED }),
        purpose: ' ',
        requestingAuthority: '',
        queryId: 'q',
      },
      '',
    );
    expect(v).toEqual([
      { field: 'query_id', rule: 'query_id', message: 'a query id is 16 to 64 characters of [A-Za-z0-9_-]' },
      {
        field: 'weapon.manufacturer',
        rule: 'required',
        message: 'the manufacturer is required (a serial alone is not an identity)',
      },
      { field: 'weapon.serial_number', rule: 'required', message: 'the serial number is required' },
      { field: 'weapon.type', rule: 'enum', message: 'weapon type -1 is not known' },
      {
        field: 'purpose',
        rule: 'required',
        message: 'the purpose of the lookup is required; the owner of a hit records it',
      },
    ]);
    expect(lookupQueryViolations({ ...valid, weapon: undefined }, '')).toEqual([
      { field: 'weapon', rule: 'required', message: 'the weapon (manufacturer and serial number) is required' },
    ]);
    const serial = (serialNumber: string) =>
      lookupQueryViolations({ ...valid, weapon: query({ serialNumber }) }, '')[0]?.message;
    expect(serial('A?B')).toBe('a serial with wildcards needs at least 3 known letters or digits besides "?" and "*"');
    expect(serial(`XYZ${'?'.repeat(11)}`)).toBe(
      'a serial holds at most 10 wildcards ("?" and each run of "*" count one each), not 11',
    );
    expect(serial('-/-')).toBe('the serial number has no letter or digit');
    // An exact serial needs no 3 known characters: short serials exist.
    expect(lookupQueryViolations({ ...valid, weapon: query({ serialNumber: 'A7' }) }, '')).toEqual([]);
  });

  it('throws MISSING_FIELD when the first violation is a missing field, INVALID_FIELD otherwise, listing them all', () => {
    expect(() => throwViolations([], 'the lookup is not valid')).not.toThrow();
    const missing = { field: 'purpose', rule: 'required', message: 'the purpose is required' };
    const invalid = { field: 'weapon.type', rule: 'enum', message: 'weapon type 99 is not known' };
    expect(() => throwViolations([missing, invalid], 'the lookup is not valid')).toThrow(
      expect.objectContaining({
        code: ErrorCode.ERROR_CODE_MISSING_FIELD,
        message: 'the lookup is not valid: purpose: the purpose is required; weapon.type: weapon type 99 is not known',
        field: 'purpose',
        rule: 'required',
        violations: [missing, invalid],
      }),
    );
    expect(() => throwViolations([invalid, missing], 'x')).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, field: 'weapon.type', rule: 'enum' }),
    );
  });
});

describe('matching', () => {
  const none = AliasTable.EMPTY;

  it('matches manufacturer and serial; model, calibre and type narrow when given', () => {
    expect(compileLookup(query({}), none).accepts(entry())).toBe(true);
    expect(compileLookup(query({ model: 'F.A.L.' }), none).accepts(entry())).toBe(true);
    expect(compileLookup(query({ model: 'FNC' }), none).accepts(entry())).toBe(false);
    expect(compileLookup(query({ calibre: '7.62 × 51 mm' }), none).accepts(entry())).toBe(true);
    expect(compileLookup(query({ calibre: '5.56x45mm' }), none).accepts(entry())).toBe(false);
    expect(compileLookup(query({ type: WeaponType.WEAPON_TYPE_RIFLE }), none).accepts(entry())).toBe(true);
    expect(compileLookup(query({ type: WeaponType.WEAPON_TYPE_PISTOL }), none).accepts(entry())).toBe(false);
    // A record without a model does not match a query that names one.
    expect(compileLookup(query({ model: 'FAL' }), none).accepts(entry({ model: '' }))).toBe(false);
  });

  it('a serial alone is not an identity: another manufacturer with the same serial does not match', () => {
    expect(compileLookup(query({ manufacturer: 'Glock' }), none).accepts(entry())).toBe(false);
  });

  it('without aliases, other spellings of the maker do not match; with the table they do, on either side', () => {
    const table = parseAliasCsv(readFileSync(SAMPLE));
    expect(compileLookup(query({ manufacturer: 'Fabrique Nationale' }), none).accepts(entry())).toBe(false);
    for (const spelling of ['FN', 'Fabrique Nationale', "Fabrique Nationale d'Herstal", 'F.N. Herstal', 'fn herstal']) {
      expect(compileLookup(query({ manufacturer: spelling }), table).accepts(entry()), spelling).toBe(true);
    }
    // The record was entered under an alias and the query names the canonical maker.
    expect(
      compileLookup(query({ manufacturer: 'Heckler & Koch' }), table).accepts(entry({ manufacturer: 'h k' })),
    ).toBe(true);
    expect(
      compileLookup(query({ manufacturer: 'HK' }), table).accepts(entry({ manufacturer: 'heckler und koch' })),
    ).toBe(true);
    expect(compileLookup(query({ manufacturer: 'Norinco' }), table).accepts(entry())).toBe(false);
  });

  it('wildcard serials match candidates and combine with the other rules', () => {
    const m = compileLookup(query({ serialNumber: 'FX-04?2-*' }), none);
    expect(m.serial.partial).toBe(true);
    expect(m.accepts(entry())).toBe(true);
    expect(m.accepts(entry({ serial: 'FY04122231' }))).toBe(false);
    expect(
      compileLookup(query({ serialNumber: 'FX-04?2-*', type: WeaponType.WEAPON_TYPE_PISTOL }), none).accepts(entry()),
    ).toBe(false);
  });
});

describe('running a query against the records of interest', () => {
  /** A record store that records the scan it was asked for and offers `entries` to the matcher. */
  function records(entries: InterestEntry[]) {
    const scans: Array<{ serial: string; exact: boolean; limit: number }> = [];
    const store = {
      findInterest: async (
        scan: { serial: string; exact: boolean },
        accept: (entry: InterestEntry) => boolean,
        limit: number,
      ) => {
        scans.push({ ...scan, limit });
        return entries.filter(accept).slice(0, limit);
      },
    } as unknown as RecordStore;
    return { store, scans };
  }

  it('an exact serial scans its own range; a wildcard serial the range of its prefix, its hits marked partial', async () => {
    const exact = records([entry(), entry({ recordId: `rec_${'C'.repeat(22)}`, serial: 'FX04122232' })]);
    expect(await matchInterest(exact.store, query({}), AliasTable.EMPTY)).toEqual([{ entry: entry(), partial: false }]);
    expect(exact.scans).toEqual([{ serial: 'FX04122231', exact: true, limit: MAX_HITS }]);
    const partial = records([entry()]);
    expect(await matchInterest(partial.store, query({ serialNumber: 'FX-04?2*' }), AliasTable.EMPTY, 5)).toEqual([
      { entry: entry(), partial: true },
    ]);
    expect(partial.scans).toEqual([{ serial: 'FX04', exact: false, limit: 5 }]);
  });
});

describe('alias tables', () => {
  it('the shipped sample loads: one line per maker with its spellings', () => {
    const table = parseAliasCsv(readFileSync(SAMPLE));
    expect(table.names).toBe(6);
    expect(table.aliases).toBeGreaterThanOrEqual(15);
    expect(table.canonical('Izhmash')).toBe('kalashnikov concern');
    expect(table.canonical('China North Industries')).toBe('norinco');
    expect(table.canonical('H&K')).toBe('heckler koch');
    expect(table.canonical('CZ')).toBe('ceska zbrojovka');
    expect(table.canonical("Colt's Patent Fire Arms Manufacturing Company")).toBe('colts manufacturing company');
    expect(table.canonical('Glock')).toBe('glock');
    expect(table.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a spelling given to two makers, and a name without a letter, naming the lines', () => {
    let failure: unknown;
    try {
      parseAliasCsv('# makers\nFN Herstal,FN\n\nFabrique Nationale Nouvelle,fn,---\n');
    } catch (error) {
      failure = error;
    }
    expect(failure).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'aliases[line 4]',
      rule: 'alias_conflict',
      violations: [
        expect.objectContaining({ rule: 'alias_conflict' }),
        expect.objectContaining({ rule: 'name', field: 'aliases[line 4]' }),
      ],
    });
  });

  it('refuses a file that is not CSV', () => {
    expect(() => parseAliasCsv('FN,"unclosed\n')).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, rule: 'csv' }),
    );
  });
});

describe('rate limiter', () => {
  it('lets a peer burst its minute, then refills at the steady rate, per peer', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(clock);
    for (let i = 0; i < 3; i += 1) expect(limiter.take('FRA', 3)).toBe(true);
    expect(limiter.take('FRA', 3)).toBe(false);
    expect(limiter.take('KEN', 3)).toBe(true);
    expect(limiter.waitMs('FRA', 3)).toBe(20_000);
    clock.advance(19_999);
    expect(limiter.take('FRA', 3)).toBe(false);
    clock.advance(20_001);
    expect(limiter.take('FRA', 3)).toBe(true);
    clock.advance(3_600_000);
    for (let i = 0; i < 3; i += 1) expect(limiter.take('FRA', 3)).toBe(true);
    expect(limiter.take('FRA', 3)).toBe(false);
  });
});
