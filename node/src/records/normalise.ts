import type { WeaponRecord } from '@tracenet/proto';

/**
 * Normalisation of markings for matching (docs/records.md, "Normalisation"). Records keep what
 * was marked, exactly as entered; only index keys and comparisons use the normalised forms.
 */

/**
 * Name aliases, keyed by the normalised variant and giving the normalised canonical name, e.g.
 * `new Map([['fabrique nationale', 'fn herstal']])`. The node's manufacturer alias table
 * (`AliasTable`, docs/protocol.md 13.5) is one; index keys are built without it, and matching maps
 * both names through it when it compares — identity searches, automatic answers and lookups alike.
 */
export interface NameAliases {
  readonly manufacturers?: ReadonlyMap<string, string>;
  readonly models?: ReadonlyMap<string, string>;
  /** Calibre designations, keyed by the calibre form of a variant, giving the canonical calibre form. */
  readonly calibres?: ReadonlyMap<string, string>;
}

const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{N}]+/gu;
const NOT_ASCII_LETTER_OR_DIGIT = /[^A-Z0-9]+/g;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const COMBINING_MARK = /\p{M}+/gu;
/** Marks that join the parts of one word: `F.N.` → `FN`, `Colt's` → `Colts`. */
const JOINING_PUNCTUATION = /[.'\u2019\u02bc`´]+/gu;
const SEPARATOR_PUNCTUATION = /[\p{P}\p{S}]+/gu;
const WHITESPACE = /\s+/gu;

/**
 * Serial number as compared and indexed: Unicode NFKC (full-width `１２３` → `123`), upper case,
 * and only letters and digits kept — spaces, dashes, dots, slashes, underscores and every other
 * separator are dropped. Letters that look alike are NOT conflated: `O` ≠ `0`, `I` ≠ `1`, Cyrillic
 * `А` ≠ Latin `A`, because each is a different mark on the metal.
 *
 * @example
 * ```ts
 * normaliseSerial(' ab-12 345/c '); // 'AB12345C'
 * normaliseSerial('O0I1');          // 'O0I1'
 * ```
 */
export function normaliseSerial(serial: string): string {
  // Printable ASCII, by far the common case, is its own NFKC form.
  if (PRINTABLE_ASCII.test(serial)) return serial.toUpperCase().replace(NOT_ASCII_LETTER_OR_DIGIT, '');
  return serial.normalize('NFKC').toUpperCase().replace(NOT_LETTER_OR_DIGIT, '');
}

/**
 * Manufacturer or other name as compared: NFKD with accents removed (`Česká` → `ceska`), lower
 * case, dots and apostrophes dropped (`F.N.` → `fn`), other punctuation and symbols read as spaces
 * (`Heckler&Koch` → `heckler koch`), whitespace collapsed and trimmed.
 *
 * @example
 * ```ts
 * normaliseName('  F.N.  Herstal, S.A. '); // 'fn herstal sa'
 * ```
 */
export function normaliseName(name: string): string {
  let normal = nameCache.get(name);
  if (normal === undefined) {
    normal = foldName(name);
    // Manufacturer and model names repeat across a registry; the cache is bounded all the same.
    if (nameCache.size >= 10_000) nameCache.clear();
    nameCache.set(name, normal);
  }
  return normal;
}

const nameCache = new Map<string, string>();

function foldName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(COMBINING_MARK, '')
    .toLowerCase()
    .replace(JOINING_PUNCTUATION, '')
    .replace(SEPARATOR_PUNCTUATION, ' ')
    .replace(WHITESPACE, ' ')
    .trim();
}

/**
 * Manufacturer as indexed: {@link normaliseName}, then the alias table when one is given.
 *
 * @example
 * ```ts
 * normaliseManufacturer('Heckler & Koch');                                    // 'heckler koch'
 * normaliseManufacturer('H&K', { manufacturers: new Map([['h k', 'heckler koch']]) }); // 'heckler koch'
 * ```
 */
export function normaliseManufacturer(manufacturer: string, aliases?: NameAliases): string {
  const name = normaliseName(manufacturer);
  return aliases?.manufacturers?.get(name) ?? name;
}

/**
 * Model as indexed: {@link normaliseName} without any spaces, so that `AK-47`, `AK 47` and
 * `ak47` compare equal (model designations are codes whose separators are a matter of style),
 * then the alias table when one is given.
 *
 * @example
 * ```ts
 * normaliseModel('AK-47'); // 'ak47'
 * normaliseModel('Glock 17 Gen 5'); // 'glock17gen5'
 * ```
 */
export function normaliseModel(model: string, aliases?: NameAliases): string {
  const name = normaliseName(model).replace(/ /g, '');
  return aliases?.models?.get(name) ?? name;
}

/**
 * Calibre as compared (docs/protocol.md 11.2): Unicode NFKC, lower case, `×` read as `x`, `,` as
 * `.`, all white space removed, and `mm` removed where it follows a digit — so `7,62 × 39 mm`,
 * `7.62x39mm` and `7.62×39` are all `7.62x39`. Different designations of one calibre
 * (`.30-06 Springfield` and `.30-06`, `9mm Parabellum` and `9x19mm`) are not merged here; that is
 * the calibre alias table's job, given as `aliases`. The form is idempotent, and an index key
 * built by an earlier version of this rule normalises again to the current form.
 *
 * @example
 * ```ts
 * normaliseCalibre('7,62 × 39 mm');   // '7.62x39'
 * normaliseCalibre('5.56×45mm NATO'); // '5.56x45nato'
 * normaliseCalibre('.30-06 Springfield', { calibres: new Map([['.30-06springfield', '.30-06']]) }); // '.30-06'
 * ```
 */
export function normaliseCalibre(calibre: string, aliases?: NameAliases): string {
  let normal = calibreCache.get(calibre);
  if (normal === undefined) {
    normal = calibre
      .normalize('NFKC')
      .toLowerCase()
      .replace(/×/g, 'x')
      .replace(/,/g, '.')
      .replace(WHITESPACE, '')
      .replace(MM_AFTER_DIGIT, '$1');
    if (calibreCache.size >= 10_000) calibreCache.clear();
    calibreCache.set(calibre, normal);
  }
  return aliases?.calibres?.get(normal) ?? normal;
}

const calibreCache = new Map<string, string>();
/** `mm` after a digit: the unit of a metric designation, written or not. */
const MM_AFTER_DIGIT = /(\p{N})(?:mm)+/gu;

/**
 * The serials a record is found by, normalised and without repeats: the manufacture serial and
 * the control component's serial (docs/records.md 2.3); serials of other components are not.
 */
export function indexedSerials(record: WeaponRecord): string[] {
  return [
    ...new Set(
      [record.manufacture?.serialNumber ?? '', record.controlComponent?.serialNumber ?? '']
        .map(normaliseSerial)
        .filter((s) => s !== ''),
    ),
  ];
}
