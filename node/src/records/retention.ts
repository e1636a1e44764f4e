import { ErrorCode, TracenetError, WeaponEventType, type WeaponRecord } from '@tracenet/proto';
import { isValidDate } from './validation.js';

/** ITI para 12: manufacturing records are kept at least 30 years. */
export const MANUFACTURING_RETENTION_YEARS = 30;
/** ITI para 12: all other records (import, export, transfer) at least 20 years. */
export const OTHER_RETENTION_YEARS = 20;
/** Issue 19: DDR collection and destruction records at least 20 years (docs/protocol.md 19.6). */
export const DDR_RETENTION_YEARS = 20;

/** Until when a record must be kept, and which rule says so. */
export interface Retention {
  /** First instant (Unix ms, 00:00 UTC of a day) at which the record may be deleted. */
  readonly untilMs: number;
  /**
   * `manufacturing_record` (30 years), `record` (20 years), or (docs/protocol.md 19.6)
   * `ddr_record` (20 years from a collection) and `destruction_record` (20 years from a
   * designation for destruction or a destruction).
   */
  readonly rule: 'manufacturing_record' | 'record' | 'ddr_record' | 'destruction_record';
  /** Why, in words: "30 years from its manufacture on 1999-03-01". */
  readonly reason: string;
}

/** The UTC day `years` calendar years after `startMs` (29 February rolls to 1 March). */
function addYears(startMs: number, years: number): number {
  const d = new Date(startMs);
  return Date.UTC(d.getUTCFullYear() + years, d.getUTCMonth(), d.getUTCDate());
}

const dayMs = (date: string) => Date.parse(`${date}T00:00:00Z`);

/** Per number of years: date → first instant after that many years. */
const yearsAfterCache = new Map<number, Map<string, number>>();
/**
 * `addYears(dayMs(date), years)`, remembered: an import computes the retention of every row from a
 * few thousand distinct dates, and building Dates for each was a twentieth of its time.
 */
function yearsAfter(date: string, years: number): number {
  let dates = yearsAfterCache.get(years);
  if (!dates) yearsAfterCache.set(years, (dates = new Map()));
  let until = dates.get(date);
  if (until === undefined) {
    until = addYears(dayMs(date), years);
    if (dates.size >= 50_000) dates.clear();
    dates.set(date, until);
  }
  return until;
}

/**
 * The retention period of a record (ITI para 12; docs/records.md, "Retention"), the longest of:
 *
 * - with a MANUFACTURED event: 30 years from its date;
 * - without one but with a year of manufacture: 30 years from 1 January of the following year
 *   (the record still documents manufacture, and the exact day is unknown);
 * - always: 20 years from the latest event date, or from `recorded_at_ms` when there is no event.
 *
 * @example
 * ```ts
 * retentionOf(record).untilMs; // Date.UTC(2029, 2, 1) for a weapon manufactured on 1999-03-01
 * ```
 */
export function retentionOf(record: WeaponRecord): Retention {
  const candidates: Retention[] = [];
  const made = record.events.find(
    (e) => e.type === WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED && isValidDate(e.date),
  );
  if (made) {
    candidates.push({
      untilMs: yearsAfter(made.date, MANUFACTURING_RETENTION_YEARS),
      rule: 'manufacturing_record',
      reason: `${MANUFACTURING_RETENTION_YEARS} years from its manufacture on ${made.date}`,
    });
  } else if ((record.manufacture?.year ?? 0) > 0) {
    const year = record.manufacture?.year ?? 0;
    candidates.push({
      untilMs: Date.UTC(year + 1 + MANUFACTURING_RETENTION_YEARS, 0, 1),
      rule: 'manufacturing_record',
      reason: `${MANUFACTURING_RETENTION_YEARS} years from the end of its year of manufacture ${year}`,
    });
  }
  const dated = record.events.filter((e) => isValidDate(e.date)).map((e) => e.date);
  const latest = dated.length > 0 ? dated.reduce((a, b) => (b > a ? b : a)) : undefined;
  if (latest !== undefined) {
    candidates.push({
      untilMs: yearsAfter(latest, OTHER_RETENTION_YEARS),
      rule: 'record',
      reason: `${OTHER_RETENTION_YEARS} years from its latest event on ${latest}`,
    });
  } else {
    const recorded = new Date(record.recordedAtMs).toISOString().slice(0, 10);
    candidates.push({
      untilMs: addYears(record.recordedAtMs, OTHER_RETENTION_YEARS),
      rule: 'record',
      reason: `${OTHER_RETENTION_YEARS} years from when it was recorded on ${recorded}`,
    });
  }
  // First, so that on the same day the more specific rule is the one named (19.6).
  const ddr: Retention[] = [];
  const collected = record.collection?.date ?? '';
  if (isValidDate(collected))
    ddr.push({
      untilMs: yearsAfter(collected, DDR_RETENTION_YEARS),
      rule: 'ddr_record',
      reason: `${DDR_RETENTION_YEARS} years from its collection on ${collected} (${record.collection?.programme ?? ''})`,
    });
  const d = record.destruction;
  const destructionDate = d ? [d.destroyedDate, d.designatedDate].find((date) => isValidDate(date)) : undefined;
  if (d && destructionDate !== undefined)
    ddr.unshift({
      untilMs: yearsAfter(destructionDate, DDR_RETENTION_YEARS),
      rule: 'destruction_record',
      reason:
        destructionDate === d.destroyedDate
          ? `${DDR_RETENTION_YEARS} years from its destruction on ${destructionDate}`
          : `${DDR_RETENTION_YEARS} years from its designation for destruction on ${destructionDate}`,
    });
  return [...ddr, ...candidates].reduce((a, b) => (b.untilMs > a.untilMs ? b : a));
}

/** `YYYY-MM-DD` of a retention instant. */
export function retentionDate(untilMs: number): string {
  return new Date(untilMs).toISOString().slice(0, 10);
}

/**
 * The refusal to delete a record inside its retention period (RETENTION_PERIOD, naming the first
 * day it may be). Its rule is `retention_period`, or `ddr_retention` / `destruction_retention`
 * when the period that holds the record is that of a DDR collection or a destruction (19.6).
 */
export function retentionRefusal(
  recordId: string,
  reason: string,
  untilMs: number,
  rule: Retention['rule'] | undefined = undefined,
): TracenetError {
  const ddr = rule === 'ddr_record' || rule === 'destruction_record';
  return new TracenetError(
    ErrorCode.ERROR_CODE_RETENTION_PERIOD,
    `record ${recordId} is inside its retention period (${ddr ? 'DDR and destruction records' : 'ITI para 12'}): it is kept ${reason}; it may be deleted from ${retentionDate(untilMs)}`,
    {
      field: 'record_id',
      rule:
        rule === 'ddr_record'
          ? 'ddr_retention'
          : rule === 'destruction_record'
            ? 'destruction_retention'
            : 'retention_period',
    },
  );
}
