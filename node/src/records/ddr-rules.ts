import {
  DestructionState,
  type FieldViolation,
  ItemCategory,
  type WeaponEvent,
  WeaponEventType,
  type WeaponRecord,
  WeaponStatus,
} from '@tracenet/proto';
import { dayAfter, isCalendarDate } from '../messages/calendar-date.js';
import { unsafeCharacter } from '../util/unsafe-text.js';
import { DESTRUCTION_STATE, isEnumMember, ITEM_CATEGORY, SEIZURE_CIRCUMSTANCE } from './record-json.js';

/**
 * The record rules of docs/protocol.md 19.1: item category and quantity, the circumstance of a
 * seizure, an illicit origin established otherwise than by a trace, a DDR or conflict-setting
 * collection, and a designation for destruction. {@link ddrViolations} checks one version of a
 * record; {@link ddrChangeViolations} what PutRecord may change of a stored one (19.2).
 */

/** Size limits of the fields of 19.1. */
export const DDR_LIMITS = {
  text: 200,
  basis: 2_000,
  witnesses: 50,
  /** Items one record of parts, accessories or ammunition stands for (rounds for ammunition). */
  quantity: 10_000_000,
} as const;

/** Certificate ids: "dc_" and 22 base64url characters (16 random bytes), docs/protocol.md 19.3. */
export const CERTIFICATE_ID = /^dc_[A-Za-z0-9_-]{22}$/;
/** A unique mark applied at collection (ITI para 9): letters, digits, space and `-/._`, 1 to 64. */
const UNIQUE_MARK = /^[A-Za-z0-9][A-Za-z0-9 \-/._]{0,63}$/;

/** The types of event that take a circumstance (SDG 16.4.2's seized, found, surrendered). */
export const RETRIEVAL_EVENTS: readonly WeaponEventType[] = [
  WeaponEventType.WEAPON_EVENT_TYPE_SEIZED,
  WeaponEventType.WEAPON_EVENT_TYPE_FOUND,
  WeaponEventType.WEAPON_EVENT_TYPE_SURRENDERED,
];

class Rules {
  readonly list: FieldViolation[] = [];
  constructor(readonly latest: string | undefined) {}

  add(field: string, rule: string, message: string): void {
    this.list.push({ field, rule, message });
  }

  /** Optional free text: length and no control or format character. */
  text(field: string, value: string, what: string, max: number, required: boolean): void {
    if (value.trim() === '') {
      if (required) this.add(field, 'required', `${what} is required`);
      return;
    }
    if (value.length > max) this.add(field, 'max_length', `${what} is longer than ${max} characters`);
    else {
      const unsafe = unsafeCharacter(value);
      if (unsafe) this.add(field, 'control_character', `${what} contains ${unsafe}, a control or format character`);
    }
  }

  date(field: string, value: string, what: string, required: boolean): void {
    if (value === '') {
      if (required) this.add(field, 'required', `${what} is required (YYYY-MM-DD)`);
    } else if (!isCalendarDate(value))
      this.add(field, 'date', `${what} must be a calendar date YYYY-MM-DD, not ${JSON.stringify(value.slice(0, 40))}`);
    else if (this.latest !== undefined && value > this.latest)
      this.add(field, 'not_in_future', `${what} ${value} is in the future`);
  }
}

/** What {@link ddrViolations} checks against. */
export interface DdrRuleOptions {
  /** Now, Unix ms: dates after tomorrow (UTC) are refused. */
  readonly nowMs?: number;
  readonly prefix: string;
}

function checkEventCircumstance(r: Rules, event: WeaponEvent, p: string, i: number): void {
  if (event.circumstance === 0) return;
  const at = `${p}.events[${i}]`;
  if (!isEnumMember(SEIZURE_CIRCUMSTANCE, event.circumstance))
    r.add(`${at}.circumstance`, 'enum', `${event.circumstance} is not a known circumstance of seizure`);
  else if (!RETRIEVAL_EVENTS.includes(event.type))
    r.add(
      `${at}.circumstance`,
      'not_applicable',
      'only a SEIZED, FOUND or SURRENDERED event has a circumstance of seizure',
    );
}

/**
 * Every violation of the rules of docs/protocol.md 19.1 in one version of a record, with field
 * paths under `prefix` (`record.destruction.witnesses`). The undertaking of an EXPORTED event is
 * checked by its own rules (18).
 *
 * @example
 * ```ts
 * ddrViolations({ ...record, quantity: 5 }, { prefix: 'record' });
 * // [{ field: 'record.quantity', rule: 'not_applicable', message: 'a firearm record is one weapon: …' }]
 * ```
 */
export function ddrViolations(record: WeaponRecord, options: DdrRuleOptions): FieldViolation[] {
  const latest = options.nowMs === undefined ? undefined : dayAfter(options.nowMs);
  const r = new Rules(latest);
  const p = options.prefix;

  if (record.itemCategory !== 0 && !isEnumMember(ITEM_CATEGORY, record.itemCategory))
    r.add(`${p}.item_category`, 'enum', `${record.itemCategory} is not a known item category`);
  const firearm =
    record.itemCategory === ItemCategory.ITEM_CATEGORY_UNSPECIFIED ||
    record.itemCategory === ItemCategory.ITEM_CATEGORY_FIREARM;
  if (firearm && record.quantity > 1)
    r.add(
      `${p}.quantity`,
      'not_applicable',
      'a firearm record is one weapon: a quantity is given only for parts, accessories and ammunition',
    );
  else if (record.quantity > DDR_LIMITS.quantity)
    r.add(`${p}.quantity`, 'range', `the quantity must be at most ${DDR_LIMITS.quantity.toLocaleString('en')}`);

  record.events.forEach((event, i) => checkEventCircumstance(r, event, p, i));

  const origin = record.illicitOrigin;
  if (origin) {
    const o = `${p}.illicit_origin`;
    r.date(`${o}.date`, origin.date, 'the date of the finding', true);
    r.text(`${o}.authority`, origin.authority, 'the competent authority', DDR_LIMITS.text, true);
    r.text(`${o}.basis`, origin.basis, 'the basis of the finding', DDR_LIMITS.basis, true);
  }

  const collection = record.collection;
  if (collection) {
    const c = `${p}.collection`;
    r.text(`${c}.programme`, collection.programme, 'the programme', DDR_LIMITS.text, true);
    r.text(`${c}.collection_point`, collection.collectionPoint, 'the collection point', DDR_LIMITS.text, true);
    r.date(`${c}.date`, collection.date, 'the date of collection', true);
    if (collection.uniqueMark !== '' && !UNIQUE_MARK.test(collection.uniqueMark))
      r.add(
        `${c}.unique_mark`,
        'unique_mark',
        'a unique mark is 1 to 64 letters, digits, spaces and - / . _, starting with a letter or digit',
      );
  }

  // A record without a destruction may still say DESTROYED: records kept before 19 did.
  if (record.destruction) checkDestruction(r, record, `${p}.destruction`, p);
  return r.list;
}

function checkDestruction(r: Rules, record: WeaponRecord, at: string, p: string): void {
  const d = record.destruction;
  if (!d) return;
  if (d.state === DestructionState.DESTRUCTION_STATE_UNSPECIFIED) {
    r.add(`${at}.state`, 'required', 'the destruction state is required: pending or destroyed');
    return;
  }
  if (!isEnumMember(DESTRUCTION_STATE, d.state)) {
    r.add(`${at}.state`, 'enum', `${d.state} is not a known destruction state`);
    return;
  }
  r.date(`${at}.designated_date`, d.designatedDate, 'the date of the designation for destruction', true);
  if (d.state === DestructionState.DESTRUCTION_STATE_PENDING) {
    const done: Array<[string, boolean]> = [
      ['destroyed_date', d.destroyedDate !== ''],
      ['method', d.method !== ''],
      ['witnesses', d.witnesses.length > 0],
      ['certificate_id', d.certificateId !== ''],
    ];
    for (const [name, set] of done)
      if (set)
        r.add(
          `${at}.${name}`,
          'not_applicable',
          'a weapon pending destruction has no destruction yet: it is recorded with RecordDestruction',
        );
    if (record.status === WeaponStatus.WEAPON_STATUS_DESTROYED)
      r.add(`${p}.status`, 'status_consistent', 'a weapon pending destruction is not DESTROYED');
    return;
  }
  // DESTROYED: as RecordDestruction wrote it (the change rules keep it so).
  r.date(`${at}.destroyed_date`, d.destroyedDate, 'the date of the destruction', true);
  if (d.designatedDate !== '' && d.destroyedDate !== '' && d.destroyedDate < d.designatedDate)
    r.add(`${at}.destroyed_date`, 'chronological', 'the weapon was destroyed before it was designated for destruction');
  r.text(`${at}.method`, d.method, 'the method of destruction', DDR_LIMITS.text, true);
  checkWitnesses(r, d.witnesses, `${at}.witnesses`);
  if (!CERTIFICATE_ID.test(d.certificateId))
    r.add(`${at}.certificate_id`, 'certificate_id', 'a certificate id is "dc_" and 22 characters of [A-Za-z0-9_-]');
  if (record.status !== WeaponStatus.WEAPON_STATUS_DESTROYED)
    r.add(`${p}.status`, 'status_consistent', 'a destroyed weapon has the status DESTROYED');
}

function checkWitnesses(r: Rules, witnesses: readonly string[], at: string): void {
  if (witnesses.length === 0) r.add(at, 'required', 'at least one witness is required');
  else if (witnesses.length > DDR_LIMITS.witnesses) r.add(at, 'max_items', `at most ${DDR_LIMITS.witnesses} witnesses`);
  else witnesses.forEach((w, i) => r.text(`${at}[${i}]`, w, 'the witness', DDR_LIMITS.text, true));
}

/** Rule checks of one field with the same messages, for RecordDestruction's request. */
export function destructionRequestViolations(
  request: { destroyedDate: string; method: string; witnesses: readonly string[] },
  nowMs: number,
): FieldViolation[] {
  const r = new Rules(new Date(nowMs).toISOString().slice(0, 10));
  r.date('destroyed_date', request.destroyedDate, 'the date of the destruction', true);
  r.text('method', request.method, 'the method of destruction', DDR_LIMITS.text, true);
  checkWitnesses(r, request.witnesses, 'witnesses');
  return r.list;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What PutRecord and an import may not do to the stored version `previous` of a record
 * (docs/protocol.md 19.2, tamper evidence), under `prefix`:
 *
 * - `destruction_recorded`: a DESTROYED destruction stays exactly as RecordDestruction wrote it,
 *   with its DESTROYED event of the same date;
 * - `record_destruction`: a version may not become DESTROYED (only RecordDestruction, which signs);
 * - `collection_recorded`: a collection, once recorded, stays unchanged.
 *
 * A PENDING designation may be changed or withdrawn (the audit log keeps each version's digest).
 */
export function ddrChangeViolations(
  previous: WeaponRecord | undefined,
  input: WeaponRecord,
  prefix = 'record',
): FieldViolation[] {
  const list: FieldViolation[] = [];
  const was = previous?.destruction;
  const now = input.destruction;
  const destroyed = DestructionState.DESTRUCTION_STATE_DESTROYED;
  if (was?.state === destroyed) {
    const event = input.events.find(
      (e) => e.type === WeaponEventType.WEAPON_EVENT_TYPE_DESTROYED && e.date === was.destroyedDate,
    );
    if (!same(was, now))
      list.push({
        field: `${prefix}.destruction`,
        rule: 'destruction_recorded',
        message: `the destruction of ${was.destroyedDate} (certificate ${was.certificateId}) is recorded and cannot be changed or removed`,
      });
    else if (!event)
      list.push({
        field: `${prefix}.events`,
        rule: 'destruction_recorded',
        message: `the DESTROYED event of ${was.destroyedDate} is part of the recorded destruction and cannot be removed`,
      });
  } else if (now?.state === destroyed) {
    list.push({
      field: `${prefix}.destruction.state`,
      rule: 'record_destruction',
      message:
        'a destruction is recorded with RecordDestruction (tracenet records destroy), which signs its certificate',
    });
  }
  if (previous?.collection && !same(previous.collection, input.collection))
    list.push({
      field: `${prefix}.collection`,
      rule: 'collection_recorded',
      message: 'the collection is recorded and cannot be changed or removed',
    });
  return list;
}

/**
 * The SEIZED, FOUND or SURRENDERED events of `input` dated after the recorded destruction of
 * `previous` that `previous` did not have: a destroyed weapon turned up again (19.5).
 */
export function recirculatedEvents(previous: WeaponRecord | undefined, input: WeaponRecord): WeaponEvent[] {
  const d = previous?.destruction ?? input.destruction;
  if (d?.state !== DestructionState.DESTRUCTION_STATE_DESTROYED) return [];
  const known = new Set((previous?.events ?? []).map((e) => JSON.stringify(e)));
  return input.events.filter(
    (e) => RETRIEVAL_EVENTS.includes(e.type) && e.date > d.destroyedDate && !known.has(JSON.stringify(e)),
  );
}
