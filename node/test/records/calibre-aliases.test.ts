import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCode, WeaponType } from '@tracenet/proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { initSodium } from '../../src/crypto/sodium.js';
import type { InterestEntry } from '../../src/records/record-store.js';
import { compileLookup } from '../../src/lookup/matcher.js';
import { AliasTable, parseAliasCsv } from '../../src/records/alias-table.js';
import { DEFAULT_CALIBRE_ALIASES_CSV, defaultCalibreAliases } from '../../src/records/calibre-aliases.js';
import { normaliseCalibre } from '../../src/records/normalise.js';

/**
 * Calibres as integrators' data writes them (docs/protocol.md 11.2 and 13.5): what the calibre
 * form merges by itself, what only the calibre alias table merges, and the default table.
 */

const SAMPLE = fileURLToPath(new URL('../../../docs/examples/calibre-aliases.csv', import.meta.url));

beforeAll(async () => {
  await initSodium();
});

describe('the calibre form', () => {
  it('merges comma and dot, x and ×, spaces, case and a unit "mm" after a digit', () => {
    const forms = ['7,62x39', '7.62×39mm', '7.62 × 39 mm', '7,62X39MM', '７.６２×３９'].map((c) => normaliseCalibre(c));
    expect(new Set(forms)).toEqual(new Set(['7.62x39']));
  });

  it('is idempotent, and reads an index key of the earlier rule (which kept "mm") as today', () => {
    for (const calibre of ['9x19mm', '5.56x45mmnato', '12.7x108mmmm', '.30-06springfield', '7.62x54r'])
      expect(normaliseCalibre(normaliseCalibre(calibre))).toBe(normaliseCalibre(calibre));
    // Keys written before this rule hold "mm": the same weapon must still compare equal.
    expect(normaliseCalibre('7.62x51mm')).toBe(normaliseCalibre('7,62 × 51'));
  });

  it('does not merge different designations: that is the alias table', () => {
    expect(normaliseCalibre('.30-06 Springfield')).not.toBe(normaliseCalibre('.30-06'));
    expect(normaliseCalibre('9mm Parabellum')).not.toBe(normaliseCalibre('9x19mm'));
    expect(normaliseCalibre('.223 Remington')).not.toBe(normaliseCalibre('5.56x45'));
  });
});

describe('calibre alias tables', () => {
  it('map every designation of a line to the canonical one, in the calibre form', () => {
    const table = AliasTable.EMPTY.withCalibres(
      parseAliasCsv('.30-06,.30-06 Springfield,30-06 Sprg\n7.62x39,7.62 M43\n', 'calibre'),
    );
    expect(table.canonicalCalibre('.30-06 SPRINGFIELD')).toBe('.30-06');
    expect(table.canonicalCalibre('30-06 sprg')).toBe('.30-06');
    expect(table.canonicalCalibre('7,62 M43')).toBe('7.62x39');
    expect(table.canonicalCalibre('7.62×39mm')).toBe('7.62x39');
    expect(table.canonicalCalibre('.45 ACP')).toBe('.45acp');
    // The manufacturers of a table are untouched by its calibres.
    expect(table.canonical('FN')).toBe('fn');
  });

  it('refuse a designation given to two calibres and one without a letter or digit, with the line', () => {
    expect(() => parseAliasCsv('5.56x45,5.56 NATO\n.223 Remington,"5,56 nato"\n', 'calibre')).toThrow(
      expect.objectContaining({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'aliases[line 2]',
        rule: 'alias_conflict',
      }),
    );
    expect(() => parseAliasCsv('9x19,.\n', 'calibre')).toThrow(
      expect.objectContaining({ field: 'aliases[line 1]', rule: 'name' }),
    );
  });

  it('have a digest of their own kind: the same bytes as a manufacturer table digest differently', () => {
    const csv = 'Alpha,Beta\n';
    expect(parseAliasCsv(csv, 'calibre').digest).not.toBe(parseAliasCsv(csv).digest);
    expect(parseAliasCsv(csv, 'calibre')).toMatchObject({ names: 1, aliases: 1 });
  });
});

describe('the default calibre table', () => {
  it('is the file published as docs/examples/calibre-aliases.csv', () => {
    expect(readFileSync(SAMPLE, 'utf8')).toBe(DEFAULT_CALIBRE_ALIASES_CSV);
  });

  it.each([
    ['.30-06 Springfield', '.30-06'],
    ['7.62x63', '.30-06'],
    ['5.56 NATO', '5.56x45'],
    ['5.56×45mm NATO', '5.56x45'],
    ['7.62 NATO', '7.62x51'],
    ['9mm Parabellum', '9x19'],
    ['9 mm Luger', '9x19'],
    ['7,62x39', '7.62x39'],
    ['7.62x54mmR', '7.62x54r'],
    ['12.7x99 NATO', '.50bmg'],
    ['.223 Remington', '.223remington'],
  ])('%j is %j', (calibre, canonical) => {
    expect(AliasTable.EMPTY.withCalibres(defaultCalibreAliases()).canonicalCalibre(calibre)).toBe(canonical);
  });
});

describe('lookups (compileLookup) with calibre aliases', () => {
  const entry = (calibre: string): InterestEntry =>
    ({
      recordId: 'rec_x',
      serial: 'FX04122231',
      reference: 'r',
      manufacturer: 'fn herstal',
      model: 'fal',
      calibre,
      type: WeaponType.WEAPON_TYPE_RIFLE,
      category: 1,
      contactPoint: '',
    }) as InterestEntry;
  const query = (calibre: string) => ({
    manufacturer: 'FN Herstal',
    model: '',
    serialNumber: 'FX-0412-2231',
    calibre,
    type: 0,
  });

  it('map both the query calibre and the indexed one through the table in force, at query time', () => {
    const springfield = AliasTable.EMPTY.withCalibres(parseAliasCsv('.30-06,.30-06 Springfield\n', 'calibre'));
    // Indexed by the record store without aliases (its calibre form).
    const indexed = entry(normaliseCalibre('.30-06 Springfield'));
    expect(compileLookup(query('.30-06'), AliasTable.EMPTY).accepts(indexed)).toBe(false);
    expect(compileLookup(query('.30-06'), springfield).accepts(indexed)).toBe(true);
    expect(compileLookup(query('30-06'), springfield).accepts(indexed)).toBe(false);
  });

  it('match an entry indexed under the earlier calibre rule ("7.62x51mm") by any spelling', () => {
    for (const calibre of ['7,62x51', '7.62 × 51 mm', '7.62X51MM'])
      expect(compileLookup(query(calibre), AliasTable.EMPTY).accepts(entry('7.62x51mm'))).toBe(true);
    expect(compileLookup(query('7.62x39'), AliasTable.EMPTY).accepts(entry('7.62x51mm'))).toBe(false);
  });
});
