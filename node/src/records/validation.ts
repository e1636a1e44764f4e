import {
  type FieldViolation,
  type ImportMarking,
  TracenetError,
  WeaponEventType,
  type WeaponEvent,
  type WeaponRecord,
} from '@tracenet/proto';
import { dayAfter, isCalendarDate } from '../messages/calendar-date.js';
import { Violations as SharedViolations, violationError as listError } from '../util/violations.js';
import { ddrViolations } from './ddr-rules.js';
import { normaliseSerial } from './normalise.js';
import { undertakingViolations } from '../messages/undertaking-rules.js';
import {
  COMPONENT_KIND,
  enumShortName,
  EVENT_TYPE,
  isEnumMember,
  MANUFACTURE_METHOD,
  type EnumSpec,
  WEAPON_STATUS,
  WEAPON_TYPE,
} from './record-json.js';

/** Record ids the node assigns: "rec_" and 22 base64url characters (16 random bytes). */
export const RECORD_ID = /^rec_[A-Za-z0-9_-]{22}$/;
const COUNTRY = /^[A-Z]{3}$/;
const MIN_YEAR = 1500;

/** Size limits of one record; they keep a record far below the gRPC message limit. */
export const RECORD_LIMITS = {
  shortText: 200,
  details: 2_000,
  notes: 10_000,
  imports: 100,
  components: 100,
  secondaryMarks: 100,
  events: 1_000,
} as const;

/** Which event fields each type needs, and which it may carry beyond date, place, agency and details. */
type EventField = 'place' | 'agency' | 'destination' | 'origin' | 'licence' | 'end_user';
interface EventRule {
  readonly required: readonly EventField[];
  readonly optional: readonly EventField[];
}
const COMMON: readonly EventField[] = ['place', 'agency'];
const EVENT_RULES: Readonly<Record<number, EventRule>> = {
  [WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED]: { required: [], optional: COMMON },
  [WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED]: {
    required: ['destination'],
    optional: [...COMMON, 'licence', 'end_user'],
  },
  [WeaponEventType.WEAPON_EVENT_TYPE_IMPORTED]: { required: ['origin'], optional: [...COMMON, 'licence'] },
  [WeaponEventType.WEAPON_EVENT_TYPE_TRANSFERRED]: { required: ['end_user'], optional: [...COMMON, 'licence'] },
  [WeaponEventType.WEAPON_EVENT_TYPE_SEIZED]: { required: ['place', 'agency'], optional: [] },
  [WeaponEventType.WEAPON_EVENT_TYPE_FOUND]: { required: ['place', 'agency'], optional: [] },
  [WeaponEventType.WEAPON_EVENT_TYPE_SURRENDERED]: { required: ['place', 'agency'], optional: [] },
  [WeaponEventType.WEAPON_EVENT_TYPE_LOST]: { required: [], optional: COMMON },
  [WeaponEventType.WEAPON_EVENT_TYPE_STOLEN]: { required: [], optional: COMMON },
  [WeaponEventType.WEAPON_EVENT_TYPE_DEACTIVATED]: { required: [], optional: COMMON },
  [WeaponEventType.WEAPON_EVENT_TYPE_REACTIVATED]: { required: [], optional: COMMON },
  [WeaponEventType.WEAPON_EVENT_TYPE_CONVERTED]: { required: [], optional: COMMON },
  [WeaponEventType.WEAPON_EVENT_TYPE_DESTROYED]: { required: [], optional: COMMON },
};
const EVENT_FIELD_TEXT: Readonly<Record<EventField, { readonly prop: keyof WeaponEvent; readonly what: string }>> = {
  place: { prop: 'place', what: 'place' },
  agency: { prop: 'agency', what: 'agency' },
  destination: { prop: 'destination', what: 'destination country' },
  origin: { prop: 'origin', what: 'country of origin' },
  licence: { prop: 'licence', what: 'licence' },
  end_user: { prop: 'endUser', what: 'end user' },
};
const EVENT_FIELDS = Object.entries(EVENT_FIELD_TEXT) as [EventField, (typeof EVENT_FIELD_TEXT)[EventField]][];

/** What {@link recordViolations} checks against. */
export interface RecordValidationOptions {
  /** Now, Unix ms: dates after tomorrow (UTC) and years after this one are refused. */
  readonly nowMs?: number;
  /** Root of the field paths; `record` unless given. */
  readonly prefix?: string;
}

/** The record rules on top of the shared collector. */
class Violations extends SharedViolations {
  override maxLength(field: string, value: string, what: string, max: number = RECORD_LIMITS.shortText): void {
    super.maxLength(field, value, what, max);
  }
  required(field: string, value: string, what: string, max: number = RECORD_LIMITS.shortText): void {
    this.text(field, value, what, max);
  }
  country(field: string, value: string, what: string, required: boolean): void {
    if (value === '') {
      if (required) this.missing(field, `${what} is required (ISO 3166-1 alpha-3, e.g. BEL)`);
    } else if (!COUNTRY.test(value))
      this.invalid(
        field,
        'country',
        `${what} must be an ISO 3166-1 alpha-3 code in capitals, e.g. BEL, not ${JSON.stringify(value)}`,
      );
  }
  year(field: string, value: number, what: string, maxYear: number): void {
    if (value !== 0 && (value < MIN_YEAR || value > maxYear))
      this.invalid(field, 'year', `${what} must be from ${MIN_YEAR} to ${maxYear} (0 when unknown), not ${value}`);
  }
  enumValue(field: string, spec: EnumSpec, value: number, required: boolean): void {
    if (value === 0) {
      if (required) this.missing(field, `the ${spec.what} is required`);
    } else if (!isEnumMember(spec, value)) this.invalid(field, 'enum', `${value} is not a known ${spec.what}`);
  }
  count(field: string, items: readonly unknown[], what: string, max: number): void {
    if (items.length > max) this.invalid(field, 'max_items', `at most ${max} ${what} per record`);
  }
}

const dateCache = new Map<string, boolean>();
/**
 * {@link isCalendarDate}, remembered: an import of 100,000 rows checks a few thousand distinct
 * dates hundreds of thousands of times, and building a Date for each was a fifth of its time.
 */
export function isValidDate(value: string): boolean {
  let valid = dateCache.get(value);
  if (valid === undefined) {
    valid = isCalendarDate(value);
    if (dateCache.size >= 50_000) dateCache.clear();
    dateCache.set(value, valid);
  }
  return valid;
}

let lastYearNow = Number.NaN;
let lastYear = 0;
function yearOf(nowMs: number): number {
  if (nowMs !== lastYearNow) {
    lastYear = new Date(nowMs).getUTCFullYear();
    lastYearNow = nowMs;
  }
  return lastYear;
}

function checkEvent(v: Violations, event: WeaponEvent, at: string, latestDate: string | undefined): void {
  if (event.type === 0 || !isEnumMember(EVENT_TYPE, event.type))
    v.enumValue(`${at}.type`, EVENT_TYPE, event.type, true);
  if (event.date === '') v.missing(`${at}.date`, 'the date of the event is required (YYYY-MM-DD)');
  else if (!isValidDate(event.date))
    v.invalid(`${at}.date`, 'date', `the date must be a calendar date YYYY-MM-DD, not ${JSON.stringify(event.date)}`);
  else if (latestDate !== undefined && event.date > latestDate)
    v.invalid(`${at}.date`, 'not_in_future', `the date ${event.date} is in the future`);
  const rule = EVENT_RULES[event.type];
  const name = () => enumShortName(EVENT_TYPE, event.type);
  for (const [key, { prop, what }] of EVENT_FIELDS) {
    const value = event[prop] as string;
    const required = rule?.required.includes(key) === true;
    // An empty field that the type does not require breaks no rule: skip building its path.
    if (value === '' && !required) continue;
    const path = `${at}.${key}`;
    if (required) v.required(path, value, `the ${what} of a ${name()} event`);
    else if (value !== '' && rule && !rule.optional.includes(key))
      v.invalid(path, 'not_applicable', `a ${name()} event has no ${what}`);
    else v.maxLength(path, value, what);
    if ((key === 'destination' || key === 'origin') && value !== '') v.country(path, value, `the ${what}`, false);
  }
  if (event.details.length > RECORD_LIMITS.details)
    v.maxLength(`${at}.details`, event.details, 'details', RECORD_LIMITS.details);
}

function checkEvents(v: Violations, record: WeaponRecord, p: string, latestDate: string | undefined): void {
  const events = record.events;
  v.count(`${p}.events`, events, 'events', RECORD_LIMITS.events);
  let previous: { date: string; index: number } | undefined;
  events.forEach((event, i) => {
    const at = `${p}.events[${i}]`;
    checkEvent(v, event, at, latestDate);
    v.list.push(...undertakingViolations(event, at, latestDate));
    if (event.type === WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED && i > 0) {
      v.invalid(
        `${at}.type`,
        'manufactured_first',
        'the MANUFACTURED event must be the first event, and there can be only one',
      );
    }
    if (isValidDate(event.date)) {
      if (previous && event.date < previous.date) {
        v.invalid(
          `${at}.date`,
          'chronological',
          `events are listed in the order they happened, but ${event.date} is before events[${previous.index}].date ${previous.date}`,
        );
      }
      previous = { date: event.date, index: i };
    }
  });
  const made = events[0];
  const year = record.manufacture?.year ?? 0;
  if (
    made?.type === WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED &&
    isValidDate(made.date) &&
    year !== 0 &&
    Number(made.date.slice(0, 4)) !== year
  ) {
    v.invalid(
      `${p}.manufacture.year`,
      'consistent',
      `the year of manufacture ${year} differs from the MANUFACTURED event of ${made.date}`,
    );
  }
}

function checkCountryYears(
  v: Violations,
  items: readonly ImportMarking[],
  at: (i: number) => string,
  what: string,
  maxYear: number,
): void {
  items.forEach((item, i) => {
    v.country(`${at(i)}.country`, item.country, `the ${what} country`, true);
    v.year(`${at(i)}.year`, item.year, `the ${what} year`, maxYear);
  });
}

/**
 * Every violation of the record rules (docs/records.md, "Validation"), with proto field paths such
 * as `record.manufacture.serial_number` or `record.events[2].date`. Empty when the record is valid.
 *
 * @example
 * ```ts
 * recordViolations({ ...record, events: [{ ...event, date: '2021-02-30' }] });
 * // [{ field: 'record.events[0].date', rule: 'date', message: 'the date must be a calendar date YYYY-MM-DD, …' }]
 * ```
 */
export function recordViolations(record: WeaponRecord, options: RecordValidationOptions = {}): FieldViolation[] {
  const v = new Violations();
  const p = options.prefix ?? 'record';
  const latestDate = options.nowMs === undefined ? undefined : dayAfter(options.nowMs);
  const maxYear = options.nowMs === undefined ? 9999 : yearOf(options.nowMs);

  if (record.recordId !== '' && !RECORD_ID.test(record.recordId))
    v.invalid(
      `${p}.record_id`,
      'record_id',
      'a record id is "rec_" and 22 characters of [A-Za-z0-9_-], as the node assigned it',
    );

  const m = record.manufacture;
  const control = record.controlComponent;
  const modular = control !== undefined && control.serialNumber.trim() !== '';
  const mp = `${p}.manufacture`;
  const identity = modular ? '' : ' (or, for a modular weapon, control_component.serial_number)';
  if (m === undefined || m.manufacturer.trim() === '') {
    if (!modular) v.missing(`${mp}.manufacturer`, `the manufacturer is required${identity}`);
  } else v.maxLength(`${mp}.manufacturer`, m.manufacturer, 'the manufacturer');
  if (m === undefined || m.serialNumber.trim() === '') {
    if (!modular) v.missing(`${mp}.serial_number`, `the serial number is required${identity}`);
  } else if (normaliseSerial(m.serialNumber) === '')
    v.invalid(`${mp}.serial_number`, 'serial', 'the serial number has no letter or digit');
  else v.maxLength(`${mp}.serial_number`, m.serialNumber, 'the serial number');
  v.enumValue(`${mp}.type`, WEAPON_TYPE, m?.type ?? 0, true);
  if (m) {
    v.country(`${mp}.country_of_manufacture`, m.countryOfManufacture, 'the country of manufacture', false);
    v.maxLength(`${mp}.model`, m.model, 'the model');
    v.maxLength(`${mp}.calibre`, m.calibre, 'the calibre');
    v.year(`${mp}.year`, m.year, 'the year of manufacture', maxYear);
  }

  v.count(`${p}.imports`, record.imports, 'import markings', RECORD_LIMITS.imports);
  checkCountryYears(v, record.imports, (i) => `${p}.imports[${i}]`, 'import', maxYear);
  if (record.governmentTransfer)
    checkCountryYears(v, [record.governmentTransfer], () => `${p}.government_transfer`, 'government transfer', maxYear);

  if (control) {
    const cp = `${p}.control_component`;
    v.enumValue(`${cp}.kind`, COMPONENT_KIND, control.kind, true);
    v.required(`${cp}.serial_number`, control.serialNumber, 'the serial number of the control component');
    if (modular && normaliseSerial(control.serialNumber) === '')
      v.invalid(`${cp}.serial_number`, 'serial', 'the serial number has no letter or digit');
    v.maxLength(`${cp}.marking`, control.marking, 'the marking', RECORD_LIMITS.details);
  }
  v.count(`${p}.components`, record.components, 'components', RECORD_LIMITS.components);
  record.components.forEach((c, i) => {
    const cp = `${p}.components[${i}]`;
    v.enumValue(`${cp}.kind`, COMPONENT_KIND, c.kind, true);
    v.required(`${cp}.serial_number`, c.serialNumber, 'the serial number of the component');
    v.maxLength(`${cp}.marking`, c.marking, 'the marking', RECORD_LIMITS.details);
  });
  v.enumValue(`${p}.manufacture_method`, MANUFACTURE_METHOD, record.manufactureMethod, false);
  v.count(`${p}.secondary_marks`, record.secondaryMarks, 'secondary marks', RECORD_LIMITS.secondaryMarks);
  record.secondaryMarks.forEach((s, i) => {
    v.required(`${p}.secondary_marks[${i}].value`, s.value, 'the value of the secondary mark');
    v.maxLength(`${p}.secondary_marks[${i}].location`, s.location, 'the location of the secondary mark');
  });
  v.enumValue(`${p}.status`, WEAPON_STATUS, record.status, false);
  checkEvents(v, record, p, latestDate);
  v.maxLength(`${p}.notes`, record.notes, 'the notes', RECORD_LIMITS.notes);
  v.list.push(
    ...ddrViolations(record, { prefix: p, ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }) }),
  );
  return v.list;
}

/** The error for a record's violations: MISSING_FIELD or INVALID_FIELD after the first one, listing all. */
export function violationError(
  violations: readonly FieldViolation[],
  summary = 'the record is not valid',
): TracenetError {
  return listError(violations, summary);
}

/**
 * Throws MISSING_FIELD or INVALID_FIELD (code of the first violation) with every violation in
 * `violations` when the record breaks a rule; returns otherwise. Nothing is written before this.
 *
 * @example
 * ```ts
 * validateRecord(record, { nowMs: clock.now() });
 * ```
 */
export function validateRecord(record: WeaponRecord, options: RecordValidationOptions = {}): void {
  const violations = recordViolations(record, options);
  if (violations.length > 0) throw violationError(violations);
}
