const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Whether `value` is a real calendar date written YYYY-MM-DD: messages, records and undertakings
 * all check dates with it, so that a date one accepts the others accept too.
 *
 * @example
 * ```ts
 * isCalendarDate('2024-02-29'); // true
 * isCalendarDate('2023-02-29'); // false
 * ```
 */
export function isCalendarDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(value);
}

const DAY_MS = 86_400_000;
let lastNow = Number.NaN;
let lastDayAfter = '';

/**
 * The UTC calendar day after `nowMs` (YYYY-MM-DD): a date later than it is in the future, for
 * every rule that refuses future dates (a day of slack for the time zones). Remembered for the
 * last `nowMs`: an import checks every row against the same now.
 *
 * @example
 * ```ts
 * dayAfter(Date.parse('2026-12-05T21:00:00Z')); // '2026-12-06'
 * ```
 */
export function dayAfter(nowMs: number): string {
  if (nowMs !== lastNow) {
    lastDayAfter = new Date(nowMs + DAY_MS).toISOString().slice(0, 10);
    lastNow = nowMs;
  }
  return lastDayAfter;
}
