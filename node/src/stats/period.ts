import { ErrorCode, type Period, type SdgIndicatorRequest, TracenetError } from '@tracenet/proto';
import { isCalendarDate } from '../messages/calendar-date.js';
import { isValidDate } from '../records/validation.js';

/** The longest reporting period: ten years (docs/statistics.md 1). */
export const MAX_PERIOD_DAYS = 3653;

/** A validated reporting period: calendar dates, both included, and their bounds in Unix milliseconds (UTC). */
export interface ReportingPeriod {
  readonly fromDate: string;
  readonly toDate: string;
  /** Start of `fromDate`, 00:00 UTC. */
  readonly fromMs: number;
  /** End of `toDate`: the first millisecond after it. */
  readonly untilMs: number;
}

const DAY_MS = 86_400_000;

function invalid(field: string, rule: string, message: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, message, { field, rule });
}

/** Start of a calendar date "YYYY-MM-DD" in Unix milliseconds, or undefined when it is no date. */
export function dateStartMs(date: string): number | undefined {
  return isCalendarDate(date) ? Date.parse(`${date}T00:00:00Z`) : undefined;
}

/** The calendar date (UTC) of an instant: "YYYY-MM-DD". */
export function dateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function parseDate(value: string, field: string): number {
  if (value === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, `${field} is required`, { field, rule: 'required' });
  const ms = dateStartMs(value);
  if (ms === undefined || ms < Date.UTC(1900, 0, 1))
    throw invalid(field, 'date', `${field} ${shown(value)} is not a calendar date YYYY-MM-DD from 1900 on`);
  return ms;
}

/**
 * Validates a {@link Period} (docs/protocol.md 20.1): two calendar dates, `from_date` ≤ `to_date`,
 * at most {@link MAX_PERIOD_DAYS} days, `from_date` not after today. `prefix` names the fields in
 * errors (`period`). Throws MISSING_FIELD or INVALID_FIELD with the field and the rule.
 *
 * @example
 * ```ts
 * periodOf({ fromDate: '2026-01-01', toDate: '2026-06-30' }, 'period', Date.now()).untilMs; // 2026-07-01T00:00Z
 * ```
 */
export function periodOf(period: Period, prefix: string, nowMs: number): ReportingPeriod {
  const fromMs = parseDate(period.fromDate, `${prefix}.from_date`);
  const toMs = parseDate(period.toDate, `${prefix}.to_date`);
  if (toMs < fromMs)
    throw invalid(
      `${prefix}.to_date`,
      'period_order',
      `the period ends (${period.toDate}) before it begins (${period.fromDate})`,
    );
  if ((toMs - fromMs) / DAY_MS + 1 > MAX_PERIOD_DAYS)
    throw invalid(`${prefix}.to_date`, 'period_span', `a period spans at most ${MAX_PERIOD_DAYS} days (ten years)`);
  if (fromMs > nowMs)
    throw invalid(
      `${prefix}.from_date`,
      'not_future',
      `the period begins (${period.fromDate}) after today (${dateOf(nowMs)})`,
    );
  return { fromDate: period.fromDate, toDate: period.toDate, fromMs, untilMs: toMs + DAY_MS };
}

/**
 * The period of an {@link SdgIndicatorRequest}: `year` ("2026": 1 January to 31 December) or
 * `period`, exactly one of them. Throws MISSING_FIELD (`year`, rule `year_or_period`) when neither
 * is given, INVALID_FIELD for both, a year that is not four digits from 1900 to the current year,
 * or a period {@link periodOf} refuses.
 */
export function sdgPeriodOf(request: SdgIndicatorRequest | undefined, nowMs: number, prefix = ''): ReportingPeriod {
  const year = request?.year ?? '';
  const period = request?.period;
  const given = period !== undefined && (period.fromDate !== '' || period.toDate !== '');
  const name = (field: string) => (prefix === '' ? field : `${prefix}.${field}`);
  if (year !== '' && given) throw invalid(name('year'), 'year_or_period', 'give either year or period, not both');
  if (year !== '') {
    const current = new Date(nowMs).getUTCFullYear();
    if (!/^\d{4}$/.test(year) || Number(year) < 1900 || Number(year) > current)
      throw invalid(name('year'), 'year', `year ${shown(year)} is not a year from 1900 to ${current}`);
    return periodOf({ fromDate: `${year}-01-01`, toDate: `${year}-12-31` }, name('period'), nowMs);
  }
  if (!given)
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'a year or a period is required', {
      field: name('year'),
      rule: 'year_or_period',
    });
  return periodOf(period, name('period'), nowMs);
}

/**
 * Whether the calendar date `date` ("YYYY-MM-DD") lies in the period. Called for every event of
 * every stored record, so the date check is the remembered {@link isValidDate}.
 */
export function inPeriod(date: string, period: ReportingPeriod): boolean {
  return date >= period.fromDate && date <= period.toDate && isValidDate(date);
}

/**
 * The nearest-rank percentile `p` (0 < p ≤ 100) of `values`: the smallest value such that at least
 * p % of the values are at most it — sorted ascending, the value at rank ⌈p/100 · n⌉. 0 for no
 * values (docs/statistics.md 3.3).
 *
 * @example
 * ```ts
 * nearestRank([40, 10, 30, 20], 50); // 20
 * nearestRank([40, 10, 30, 20], 90); // 40
 * ```
 */
export function nearestRank(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return sorted[rank - 1] ?? 0;
}
