import { describe, expect, it } from 'vitest';
import {
  normaliseCalibre,
  normaliseManufacturer,
  normaliseModel,
  normaliseName,
  normaliseSerial,
} from '../../src/records/normalise.js';

describe('normaliseSerial', () => {
  it.each([
    ['ab-12 345/c', 'AB12345C', 'upper case; dashes, spaces and slashes dropped'],
    ['  FN.1998_0042  ', 'FN19980042', 'dots, underscores and surrounding spaces dropped'],
    ['12:34;56|78\\90#1', '12345678901', 'any other separator dropped'],
    ['\t12\n34\u00a056', '123456', 'tabs, line breaks and no-break spaces dropped'],
    ['O0I1', 'O0I1', 'O and 0, I and 1 are NOT conflated'],
    ['0O1I', '0O1I', 'not in the other direction either'],
    ['１２３ＡＢ', '123AB', 'full-width characters become ASCII (NFKC)'],
    ['бж 1234', 'БЖ1234', 'Cyrillic letters are kept and upper-cased'],
    ['АВ1', 'АВ1', 'Cyrillic А and В stay Cyrillic (not the look-alike Latin letters)'],
    ['Ⅻ-7', 'XII7', 'compatibility characters fold to their letters'],
    ['---', '', 'no letter or digit leaves nothing'],
  ])('%j → %j (%s)', (input, expected) => {
    expect(normaliseSerial(input)).toBe(expected);
  });

  it('distinguishes Latin from Cyrillic look-alikes', () => {
    expect(normaliseSerial('AB1')).not.toBe(normaliseSerial('АВ1'));
  });
});

describe('normaliseName and normaliseManufacturer', () => {
  it.each([
    ['FN Herstal', 'fn herstal'],
    ['  F.N.   HERSTAL ', 'fn herstal'],
    ['F.N. Herstal, S.A.', 'fn herstal sa'],
    ['Heckler & Koch', 'heckler koch'],
    ['Heckler&Koch', 'heckler koch'],
    ['Heckler-Koch GmbH', 'heckler koch gmbh'],
    ["Colt's Manufacturing", 'colts manufacturing'],
    ['Colt’s Manufacturing', 'colts manufacturing'],
    ['Česká zbrojovka', 'ceska zbrojovka'],
    ['IŻMASZ', 'izmasz'],
    ['Sturm, Ruger & Co.', 'sturm ruger co'],
    ['\tSmith\n&\u00a0Wesson ', 'smith wesson'],
  ])('%j → %j', (input, expected) => {
    expect(normaliseName(input)).toBe(expected);
    expect(normaliseManufacturer(input)).toBe(expected);
  });

  it('applies an alias table after normalising, when one is given', () => {
    const aliases = { manufacturers: new Map([['fabrique nationale', 'fn herstal']]) };
    expect(normaliseManufacturer('Fabrique Nationale', aliases)).toBe('fn herstal');
    expect(normaliseManufacturer('FN Herstal', aliases)).toBe('fn herstal');
    expect(normaliseManufacturer('Fabrique Nationale')).toBe('fabrique nationale');
  });
});

describe('normaliseModel', () => {
  it.each([
    ['AK-47', 'ak47'],
    ['AK 47', 'ak47'],
    ['ak47', 'ak47'],
    ['Glock 17 Gen 5', 'glock17gen5'],
    ['vz. 58', 'vz58'],
    ['M16A2', 'm16a2'],
  ])('%j → %j', (input, expected) => {
    expect(normaliseModel(input)).toBe(expected);
  });

  it('applies a model alias table', () => {
    expect(normaliseModel('Kalashnikov 47', { models: new Map([['kalashnikov47', 'ak47']]) })).toBe('ak47');
  });
});

describe('normaliseCalibre', () => {
  it.each([
    ['9x19mm', '9x19'],
    ['9 × 19 mm', '9x19'],
    ['7,62X51 MM', '7.62x51'],
    ['7,62x39', '7.62x39'],
    ['7.62×39mm', '7.62x39'],
    ['７.６２×３９ｍｍ', '7.62x39'],
    ['5.56×45mm NATO', '5.56x45nato'],
    ['9 mm Luger', '9luger'],
    ['.30-06 Springfield', '.30-06springfield'],
    ['12.7x108mmmm', '12.7x108'],
    ['.22 LR', '.22lr'],
    ['  ', ''],
  ])('%j → %j', (input, expected) => {
    expect(normaliseCalibre(input)).toBe(expected);
  });
});
