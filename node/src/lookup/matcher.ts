import {
  ErrorCode,
  type FieldViolation,
  type LookupQuery,
  type RecordQuery,
  TracenetError,
  WeaponType,
} from '@tracenet/proto';
import type { AliasTable } from '../records/alias-table.js';
import { normaliseModel, normaliseName } from '../records/normalise.js';
import type { InterestEntry, RecordStore } from '../records/record-store.js';
import { type SerialPattern, serialPattern, serialViolation } from '../records/serial-pattern.js';

/** Most hits one answer carries; a broader query is cut here (docs/protocol.md 13.6). */
export const MAX_HITS = 100;
/** Query ids: 16 to 64 characters of [A-Za-z0-9_-], like message ids. */
export const QUERY_ID = /^[A-Za-z0-9_-]{16,64}$/;
/** Length limits of the texts of a query. */
export const QUERY_LIMITS = { name: 200, purpose: 500, requestingAuthority: 500 } as const;

/**
 * Every violation of the rules of a lookup query (docs/protocol.md 13.3), with paths under
 * `prefix` (`body` for a received query, '' for the Authority API's LookupRequest): the weapon
 * with manufacturer and serial (a wildcard serial with at least `WILDCARD_MIN_KNOWN` known
 * characters), a known type, the purpose, and — when `queryId` is checked — a query id.
 */
export function lookupQueryViolations(
  query: Pick<LookupQuery, 'weapon' | 'purpose' | 'requestingAuthority'> & { queryId?: string },
  prefix: string,
): FieldViolation[] {
  const at = (name: string) => (prefix === '' ? name : `${prefix}.${name}`);
  const list: FieldViolation[] = [];
  const required = (field: string, message: string) => list.push({ field: at(field), rule: 'required', message });
  const invalid = (field: string, rule: string, message: string) => list.push({ field: at(field), rule, message });
  const tooLong = (field: string, value: string, max: number) => {
    if (value.length > max) invalid(field, 'max_length', `${field} is longer than ${max} characters`);
  };
  if (query.queryId !== undefined && !QUERY_ID.test(query.queryId))
    invalid('query_id', 'query_id', 'a query id is 16 to 64 characters of [A-Za-z0-9_-]');
  const w = query.weapon;
  if (!w) required('weapon', 'the weapon (manufacturer and serial number) is required');
  else {
    if (w.manufacturer.trim() === '')
      required('weapon.manufacturer', 'the manufacturer is required (a serial alone is not an identity)');
    else if (w.manufacturer.length <= QUERY_LIMITS.name && normaliseName(w.manufacturer) === '')
      invalid('weapon.manufacturer', 'name', 'the manufacturer has no letter or digit');
    tooLong('weapon.manufacturer', w.manufacturer, QUERY_LIMITS.name);
    if (w.serialNumber.trim() === '') required('weapon.serial_number', 'the serial number is required');
    else if (w.serialNumber.length > QUERY_LIMITS.name)
      tooLong('weapon.serial_number', w.serialNumber, QUERY_LIMITS.name);
    else {
      const problem = serialViolation(serialPattern(w.serialNumber));
      if (problem) invalid('weapon.serial_number', problem.rule, problem.message);
    }
    tooLong('weapon.model', w.model, QUERY_LIMITS.name);
    tooLong('weapon.calibre', w.calibre, QUERY_LIMITS.name);
    // Stryker disable next-line ConditionalExpression: `w.type !== 0` → true is equivalent (0 is a member of WeaponType and not UNRECOGNIZED); the other conditions of this line are killed by the type -1 and 99 cases of matcher.test.ts
    if (w.type !== 0 && (!(w.type in WeaponType) || w.type === WeaponType.UNRECOGNIZED))
      invalid('weapon.type', 'enum', `weapon type ${w.type} is not known`);
  }
  if (query.purpose.trim() === '')
    required('purpose', 'the purpose of the lookup is required; the owner of a hit records it');
  tooLong('purpose', query.purpose, QUERY_LIMITS.purpose);
  tooLong('requesting_authority', query.requestingAuthority, QUERY_LIMITS.requestingAuthority);
  return list;
}

/** Throws MISSING_FIELD (first rule `required`) or INVALID_FIELD with every violation; returns when there is none. */
export function throwViolations(violations: readonly FieldViolation[], summary: string): void {
  const first = violations[0];
  if (!first) return;
  const code = first.rule === 'required' ? ErrorCode.ERROR_CODE_MISSING_FIELD : ErrorCode.ERROR_CODE_INVALID_FIELD;
  throw new TracenetError(code, `${summary}: ${violations.map((v) => `${v.field}: ${v.message}`).join('; ')}`, {
    field: first.field,
    rule: first.rule,
    violations: [...violations],
  });
}

/** A query made ready to run against the records-of-interest index. */
export interface LookupMatcher {
  readonly serial: SerialPattern;
  /** Whether an index entry is the weapon asked for (docs/protocol.md 13.4). */
  accepts(entry: InterestEntry): boolean;
}

/**
 * Compiles the weapon of a (valid) query. An entry matches when its serial matches (equal, or the
 * wildcard pattern), its manufacturer and its calibre are the same after aliases (both sides
 * mapped through `aliases` when the query runs: the index holds them without, so a new table
 * applies without re-indexing), and the model, calibre and type equal the query's where the query
 * gives them. A close type (11.3) is not a hit: lookups compare types exactly.
 *
 * @example
 * ```ts
 * const m = compileLookup({ manufacturer: 'FN', model: '', serialNumber: 'FX-0412', calibre: '', type: 0 }, table);
 * m.accepts(entry); // true for an FN Herstal record with serial FX0412 when the table says FN = FN Herstal
 * ```
 */
export function compileLookup(weapon: RecordQuery, aliases: AliasTable): LookupMatcher {
  const serial = serialPattern(weapon.serialNumber);
  const manufacturer = aliases.canonical(weapon.manufacturer);
  const model = normaliseModel(weapon.model);
  const calibre = aliases.canonicalCalibre(weapon.calibre);
  const type = weapon.type;
  return {
    serial,
    // The equalities first: most entries fail one of them, and cost less than the serial.
    accepts: (entry) =>
      (aliases.manufacturers.get(entry.manufacturer) ?? entry.manufacturer) === manufacturer &&
      (model === '' || entry.model === model) &&
      // The entry's calibre is normalised again: an index written by an earlier calibre rule reads as today's.
      (calibre === '' || aliases.canonicalCalibre(entry.calibre) === calibre) &&
      (type === 0 || entry.type === type) &&
      serial.test(entry.serial),
  };
}

/** One record of interest a query matched. */
export interface InterestMatch {
  readonly entry: InterestEntry;
  readonly partial: boolean;
}

/**
 * Runs a (valid) query against the node's records of interest: an exact serial reads its own
 * index range; a wildcard serial reads the range of its literal prefix (every entry when it
 * starts with a wildcard). At most {@link MAX_HITS} records, one match per record.
 */
export async function matchInterest(
  records: RecordStore,
  weapon: RecordQuery,
  aliases: AliasTable,
  limit = MAX_HITS,
): Promise<InterestMatch[]> {
  const matcher = compileLookup(weapon, aliases);
  const entries = await records.findInterest(
    { serial: matcher.serial.prefix, exact: !matcher.serial.partial },
    matcher.accepts,
    limit,
  );
  return entries.map((entry) => ({ entry, partial: matcher.serial.partial }));
}
