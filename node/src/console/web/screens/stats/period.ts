/**
 * The reporting period of the statistics screen, as the route carries it (`?year=2026` or
 * `?from=2026-01-01&to=2026-06-30`), checked before anything is asked of the node.
 */

/** A period the officer chose: a calendar year, or two calendar dates, both included. */
export type ChosenPeriod =
  | { readonly kind: 'year'; readonly year: string }
  | { readonly kind: 'range'; readonly from: string; readonly to: string };

/** Why a period cannot be asked for: the field and the catalogue key of the reason. */
export interface PeriodProblem {
  readonly field: 'year' | 'from' | 'to';
  readonly rule: 'year' | 'date' | 'order' | 'future' | 'span';
}

/** The longest period the node computes: ten years (docs/statistics.md). */
const MAX_DAYS = 3653;
const DAY_MS = 86_400_000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `value` is a real calendar date "YYYY-MM-DD" (no 2026-02-30). */
export function isCalendarDate(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d && y >= 1900;
}

/** The period of a route's query; the current year when it names none. */
export function periodOf(query: URLSearchParams, now: Date = new Date()): ChosenPeriod {
  const from = query.get('from');
  const to = query.get('to');
  if (from !== null || to !== null) return { kind: 'range', from: from ?? '', to: to ?? '' };
  return { kind: 'year', year: query.get('year') ?? String(now.getUTCFullYear()) };
}

/**
 * What is wrong with `period`, or undefined when it can be asked for: the node's own rules
 * (a year from 1900 to this year; real dates, in order, at most ten years, not starting after
 * today), so that the officer reads why in their language before anything is asked.
 */
export function periodProblem(period: ChosenPeriod, now: Date = new Date()): PeriodProblem | undefined {
  const today = now.toISOString().slice(0, 10);
  if (period.kind === 'year') {
    const year = Number(period.year);
    if (!/^\d{4}$/.test(period.year) || year < 1900) return { field: 'year', rule: 'year' };
    return year > now.getUTCFullYear() ? { field: 'year', rule: 'future' } : undefined;
  }
  if (!isCalendarDate(period.from)) return { field: 'from', rule: 'date' };
  if (!isCalendarDate(period.to)) return { field: 'to', rule: 'date' };
  if (period.from > period.to) return { field: 'to', rule: 'order' };
  if (period.from > today) return { field: 'from', rule: 'future' };
  const days = (Date.parse(`${period.to}T00:00:00Z`) - Date.parse(`${period.from}T00:00:00Z`)) / DAY_MS + 1;
  if (days > MAX_DAYS) return { field: 'to', rule: 'span' };
  return undefined;
}

/** The period as the Statistics API's dates (a year is its first and last day). */
export function periodDates(period: ChosenPeriod): { fromDate: string; toDate: string } {
  return period.kind === 'year'
    ? { fromDate: `${period.year}-01-01`, toDate: `${period.year}-12-31` }
    : { fromDate: period.from, toDate: period.to };
}

/** The period as an SdgIndicatorRequest: the year, or the dates. */
export function sdgRequest(period: ChosenPeriod): { year: string; period?: { fromDate: string; toDate: string } } {
  return period.kind === 'year' ? { year: period.year } : { year: '', period: periodDates(period) };
}

/** The query of a period, for the route. */
export function periodQuery(period: ChosenPeriod): Record<string, string> {
  return period.kind === 'year' ? { year: period.year } : { from: period.from, to: period.to };
}

/**
 * The name a downloaded file is saved under: the node's name with anything that is not a
 * letter, digit, dot, dash or underscore replaced, never empty, never a hidden file.
 */
export function safeFileName(name: string, fallback: string): string {
  const cleaned = name
    .replace(/[^\p{L}\p{N}._-]+/gu, '_')
    .replace(/^[._]+/, '')
    .slice(0, 120);
  return cleaned === '' ? fallback : cleaned;
}
