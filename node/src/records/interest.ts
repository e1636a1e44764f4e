import { type FieldViolation, InterestCategory, type InterestReport } from '@tracenet/proto';
import { dayAfter } from '../messages/calendar-date.js';
import { isValidDate } from './validation.js';

/** Size limits of an interest report. */
export const INTEREST_LIMITS = { agency: 200, reference: 200, contactPoint: 500 } as const;

/** Short lower-case names of the categories, as the CLI and the docs write them. */
export const INTEREST_CATEGORIES: Readonly<Record<string, InterestCategory>> = {
  lost: InterestCategory.INTEREST_CATEGORY_LOST,
  stolen: InterestCategory.INTEREST_CATEGORY_STOLEN,
  trafficked: InterestCategory.INTEREST_CATEGORY_TRAFFICKED,
  smuggled: InterestCategory.INTEREST_CATEGORY_SMUGGLED,
};

/** `INTEREST_CATEGORY_STOLEN` → `stolen`; an unknown value gives its number. */
export function categoryName(category: InterestCategory): string {
  const name = InterestCategory[category] as string | undefined;
  return name ? name.replace('INTEREST_CATEGORY_', '').toLowerCase() : String(category);
}

/** Whether a record with this report is a record of interest (a known category is set). */
export function isOfInterest(report: InterestReport | undefined): report is InterestReport {
  return report !== undefined && report.category !== InterestCategory.INTEREST_CATEGORY_UNSPECIFIED;
}

/**
 * Every violation of the rules of an interest report (docs/protocol.md 13.2): a known category;
 * a calendar date YYYY-MM-DD not after tomorrow (UTC) when `nowMs` is given; the reporting
 * agency; lengths of agency, reference and contact point. Paths start with `prefix`.
 *
 * @example
 * ```ts
 * interestViolations({ category: 0, date: '2024-13-01', agency: '', reference: '', contactPoint: '' }, { prefix: 'report' });
 * // report.category (required), report.date (date), report.agency (required)
 * ```
 */
export function interestViolations(
  report: InterestReport,
  options: { prefix: string; nowMs?: number },
): FieldViolation[] {
  const p = options.prefix;
  const list: FieldViolation[] = [];
  if (report.category === InterestCategory.INTEREST_CATEGORY_UNSPECIFIED) {
    list.push({
      field: `${p}.category`,
      rule: 'required',
      message: 'the category is required: lost, stolen, trafficked or smuggled',
    });
  } else if (!Object.values(INTEREST_CATEGORIES).includes(report.category)) {
    list.push({ field: `${p}.category`, rule: 'enum', message: `category ${report.category} is not known` });
  }
  if (report.date === '')
    list.push({
      field: `${p}.date`,
      rule: 'required',
      message: 'the date of the loss, theft or finding is required (YYYY-MM-DD)',
    });
  else if (!isValidDate(report.date))
    list.push({
      field: `${p}.date`,
      rule: 'date',
      message: `the date must be a calendar date YYYY-MM-DD, not ${JSON.stringify(report.date)}`,
    });
  else if (options.nowMs !== undefined && report.date > dayAfter(options.nowMs)) {
    list.push({ field: `${p}.date`, rule: 'not_in_future', message: `the date ${report.date} is in the future` });
  }
  if (report.agency.trim() === '')
    list.push({ field: `${p}.agency`, rule: 'required', message: 'the reporting agency is required' });
  const lengths: Array<[string, string, number]> = [
    ['agency', report.agency, INTEREST_LIMITS.agency],
    ['reference', report.reference, INTEREST_LIMITS.reference],
    ['contact_point', report.contactPoint, INTEREST_LIMITS.contactPoint],
  ];
  for (const [name, value, max] of lengths) {
    if (value.length > max)
      list.push({
        field: `${p}.${name}`,
        rule: 'max_length',
        message: `the ${name.replace('_', ' ')} is longer than ${max} characters`,
      });
  }
  return list;
}
