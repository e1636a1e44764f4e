import {
  type AskFirst,
  type CompletenessItem,
  IllicitKind,
  Likelihood,
  type Reason,
  RecordKind,
  type RecordsProfile,
  type RequestCheck,
  type TraceRequest,
} from '@tracenet/proto';
import { EARLIEST_RECORD_YEAR, RECORD_KIND_WORDS } from '../identity/records-profile.js';

/**
 * The completeness items of a request (docs/protocol.md 17.1), heaviest first; among equal
 * weights the order of the table is the order of `missing`. The weights sum to 100.
 */
export const COMPLETENESS_ITEMS: readonly CompletenessItem[] = [
  { item: 'control_serial', field: 'request.weapon.markings.serial_number', weight: 25 },
  { item: 'manufacturer', field: 'request.weapon.markings.manufacturer', weight: 15 },
  { item: 'photos', field: 'request.weapon.photos', weight: 15 },
  { item: 'model', field: 'request.weapon.markings.model', weight: 10 },
  { item: 'calibre', field: 'request.weapon.markings.calibre', weight: 10 },
  { item: 'country_of_manufacture', field: 'request.weapon.markings.country_of_manufacture', weight: 10 },
  { item: 'import_marks', field: 'request.weapon.imports', weight: 10 },
  { item: 'serial_obliterated', field: 'request.weapon.serial_obliterated', weight: 5 },
];

/** ITI para 12: manufacturing records at least 30 years, all others at least 20 (17.2). */
export const RETENTION_YEARS: Readonly<Record<number, number>> = {
  [RecordKind.RECORD_KIND_MANUFACTURE]: 30,
  [RecordKind.RECORD_KIND_IMPORT]: 20,
  [RecordKind.RECORD_KIND_EXPORT]: 20,
  [RecordKind.RECORD_KIND_TRANSFER]: 20,
};

const COUNTRY = /^[A-Z]{3}$/;

/** Whether a serial as marked gives at least one legible character (not only `?`, `*` and spaces). */
function legible(serial: string): boolean {
  return /[^?*\s]/.test(serial);
}

/** Whether a legible serial is complete: no `?` or `*` in it. */
function complete(serial: string): boolean {
  return legible(serial) && !/[?*]/.test(serial);
}

/** The items present in a request's description (17.1). */
function presentItems(request: TraceRequest): Set<string> {
  const weapon = request.weapon;
  const m = weapon?.markings;
  const serials = [m?.serialNumber ?? '', weapon?.controlComponent?.serialNumber ?? ''];
  const present = new Set<string>();
  if (serials.some(legible)) present.add('control_serial');
  if ((m?.manufacturer.trim() ?? '') !== '') present.add('manufacturer');
  if ((m?.model.trim() ?? '') !== '') present.add('model');
  if ((m?.calibre.trim() ?? '') !== '') present.add('calibre');
  if (COUNTRY.test(m?.countryOfManufacture ?? '')) present.add('country_of_manufacture');
  if ((weapon?.imports ?? []).some((i) => COUNTRY.test(i.country))) present.add('import_marks');
  if ((weapon?.photos.length ?? 0) > 0) present.add('photos');
  const unmarked = request.illicitCriteria.some((c) => c.kind === IllicitKind.ILLICIT_KIND_NOT_MARKED);
  if (serials.some(complete) || weapon?.serialObliterated === true || unmarked) present.add('serial_obliterated');
  return present;
}

/** What the officer may rely on about one reason's wording: its code, values and English text. */
function reason(code: string, values: Record<string, string | number>, text: string): Reason {
  return {
    code,
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])),
    text,
  };
}

const RANK: Readonly<Record<number, number>> = {
  [Likelihood.LIKELIHOOD_LIKELY]: 0,
  [Likelihood.LIKELIHOOD_POSSIBLE]: 1,
  [Likelihood.LIKELIHOOD_UNLIKELY]: 2,
  [Likelihood.LIKELIHOOD_UNKNOWN]: 3,
};

const KIND_TEXT: Readonly<Record<number, string>> = {
  [RecordKind.RECORD_KIND_MANUFACTURE]: 'manufacturing',
  [RecordKind.RECORD_KIND_IMPORT]: 'import',
  [RecordKind.RECORD_KIND_EXPORT]: 'export',
  [RecordKind.RECORD_KIND_TRANSFER]: 'transfer',
};

/** A point along the line of supply that the markings name. */
interface Candidate {
  readonly participant: string;
  readonly kind: RecordKind;
  /** Place along the line of supply: 0 manufacture, 1 import, 2 transfer to civilian use (later is asked first among equals). */
  readonly order: number;
  /** The year of the event, 0 when not marked. */
  readonly year: number;
  readonly origin: Reason;
}

/** Inputs of {@link checkRequest}. */
export interface RequestCheckInput {
  readonly request: TraceRequest;
  /** The participant the request would be sent to. */
  readonly recipient: string;
  /**
   * The records profile of a participant, from its pinned card (17.2); undefined when it is not
   * pinned or declares none. The recipient's is the one the issue is about; the others are used
   * when the markings name a pinned peer.
   */
  readonly profileOf: (participant: string) => RecordsProfile | undefined;
  readonly nowMs: number;
}

/**
 * A request's completeness and traceability (docs/protocol.md section 17), computed from the
 * request alone, the records profiles of pinned peers and the time: nothing is read or written.
 *
 * @example
 * ```ts
 * const check = checkRequest({ request, recipient: 'BEL', profileOf: (p) => peers.get(p)?.body.recordsProfile, nowMs });
 * check.completeness?.score; // 55
 * ```
 */
export function checkRequest(input: RequestCheckInput): RequestCheck {
  const present = presentItems(input.request);
  // The table is in order of non-increasing weight: the missing items come heaviest first.
  const missing = COMPLETENESS_ITEMS.filter((i) => !present.has(i.item)).map((i) => ({ ...i }));
  const score = COMPLETENESS_ITEMS.filter((i) => present.has(i.item)).reduce((sum, i) => sum + i.weight, 0);
  return {
    completeness: { score, missing },
    traceability: traceability(input),
    recipient: input.recipient,
    checkedAtMs: input.nowMs,
  };
}

function traceability(input: RequestCheckInput): NonNullable<RequestCheck['traceability']> {
  const thisYear = new Date(input.nowMs).getUTCFullYear();
  const reasons: Reason[] = [];
  const weapon = input.request.weapon;
  const m = weapon?.markings;
  /** A marked year, or 0; a year outside 1800..this year adds a reason unless `quiet` (one reason for all import marks). */
  const year = (value: number, field: string, quiet = false): number => {
    if (value === 0) return 0;
    if (value >= EARLIEST_RECORD_YEAR && value <= thisYear) return value;
    if (!quiet)
      reasons.push(
        reason(
          'year_out_of_range',
          { field, min: EARLIEST_RECORD_YEAR, max: thisYear },
          `The year in ${field} is not from ${EARLIEST_RECORD_YEAR} to ${thisYear}; it is not used.`,
        ),
      );
    return 0;
  };
  const manufactured = year(m?.year ?? 0, 'request.weapon.markings.year');
  const candidates: Candidate[] = [];
  const country = m?.countryOfManufacture ?? '';
  if (COUNTRY.test(country))
    candidates.push({
      participant: country,
      kind: RecordKind.RECORD_KIND_MANUFACTURE,
      order: 0,
      year: manufactured,
      origin: reason(
        'country_of_manufacture',
        { participant: country },
        `${country} is marked as the country of manufacture.`,
      ),
    });
  else
    reasons.push(
      reason(
        'no_country_of_manufacture',
        {},
        'The country of manufacture is not marked as an ISO 3166-1 alpha-3 code: the manufacturing state cannot be named.',
      ),
    );
  if (manufactured === 0 && (m?.year ?? 0) === 0)
    reasons.push(
      reason(
        'no_year_of_manufacture',
        {},
        'The year of manufacture is not marked: the age of the manufacturing records cannot be estimated.',
      ),
    );
  // The last import: the latest marked year, the later marking among equal years (unknown years count as 0).
  let last: { country: string; year: number; index: number } | undefined;
  let importYearNamed = false;
  for (const [index, mark] of (weapon?.imports ?? []).entries()) {
    if (!COUNTRY.test(mark.country)) continue;
    // However many marks a request holds, one reason names the first year out of range: the check stays small.
    const before = reasons.length;
    const y = year(mark.year, `request.weapon.imports[${index}].year`, importYearNamed);
    importYearNamed ||= reasons.length > before;
    if (!last || y >= last.year) last = { country: mark.country, year: y, index };
  }
  if (last)
    candidates.push({
      participant: last.country,
      kind: RecordKind.RECORD_KIND_IMPORT,
      order: 1,
      year: last.year,
      origin: reason(
        'last_import_mark',
        { participant: last.country },
        `${last.country} is the last importing state the import marks name.`,
      ),
    });
  const transfer = weapon?.governmentTransfer;
  if (transfer && COUNTRY.test(transfer.country))
    candidates.push({
      participant: transfer.country,
      kind: RecordKind.RECORD_KIND_TRANSFER,
      order: 2,
      year: year(transfer.year, 'request.weapon.government_transfer.year'),
      origin: reason(
        'government_transfer_mark',
        { participant: transfer.country },
        `${transfer.country} is marked as the state that transferred the weapon from government stocks to civilian use.`,
      ),
    });

  const askFirst = candidates
    .map((c) => ({ candidate: c, entry: estimate(c, manufactured, thisYear, input.profileOf(c.participant)) }))
    .sort(
      (a, b) =>
        (RANK[a.entry.likelihood] ?? 3) - (RANK[b.entry.likelihood] ?? 3) ||
        Number(b.entry.participant === input.recipient) - Number(a.entry.participant === input.recipient) ||
        b.candidate.order - a.candidate.order,
    )
    .map((x) => x.entry);

  if (askFirst.length === 0)
    reasons.push(
      reason(
        'no_line_of_supply',
        {},
        'No country of manufacture, import mark or government transfer mark names a state to ask.',
      ),
    );
  const first = askFirst[0];
  const recipientEntry = askFirst.find((a) => a.participant === input.recipient);
  if (first && !recipientEntry)
    reasons.push(
      reason(
        'recipient_not_on_line',
        { participant: input.recipient },
        `The markings do not name ${input.recipient} along the line of supply.`,
      ),
    );
  else if (first && recipientEntry && first.participant !== input.recipient)
    reasons.push(
      reason(
        'ask_other_first',
        { participant: input.recipient, first: first.participant },
        `${first.participant} is more likely to hold records than ${input.recipient}: consider asking ${first.participant} first.`,
      ),
    );
  if ((input.profileOf(input.recipient)?.coverage.length ?? 0) === 0)
    reasons.push(
      reason(
        'no_profile',
        { participant: input.recipient },
        `${input.recipient} declares no records profile: the ITI minimum retention periods are assumed.`,
      ),
    );
  return {
    likelihood: first?.likelihood ?? Likelihood.LIKELIHOOD_UNKNOWN,
    askFirst,
    reasons,
  };
}

/** The likelihood that `c`'s records exist, with its reasons (17.2, "Estimate"). */
function estimate(c: Candidate, manufactured: number, thisYear: number, profile: RecordsProfile | undefined): AskFirst {
  const reasons = [c.origin];
  const kind = KIND_TEXT[c.kind] ?? '';
  const kindWord = RECORD_KIND_WORDS[c.kind] ?? '';
  // An event after manufacture is no earlier than it: the year of manufacture bounds an unmarked year.
  let year = c.year;
  let bound = false;
  if (year === 0 && c.kind !== RecordKind.RECORD_KIND_MANUFACTURE && manufactured !== 0) {
    year = manufactured;
    bound = true;
    reasons.push(
      reason(
        'year_from_manufacture',
        { kind: kindWord, year },
        `The year of the ${kind} is not marked; it is no earlier than the year of manufacture, ${year}.`,
      ),
    );
  }
  const entry = (likelihood: Likelihood): AskFirst => ({
    participant: c.participant,
    recordKind: c.kind,
    likelihood,
    reasons,
  });
  if (year === 0) {
    reasons.push(
      reason('year_unknown', { kind: kindWord }, `No year is marked for the ${kind}: its records cannot be dated.`),
    );
    return entry(Likelihood.LIKELIHOOD_UNKNOWN);
  }
  const earliest = profile?.coverage.find((x) => x.kind === c.kind)?.earliestYear;
  if (earliest !== undefined) {
    if (year >= earliest) {
      reasons.push(
        reason(
          'profile_covers',
          { participant: c.participant, kind: kindWord, earliest_year: earliest, year },
          `${c.participant} declares ${kind} records from ${earliest}; ${year} is covered.`,
        ),
      );
      return entry(Likelihood.LIKELIHOOD_LIKELY);
    }
    reasons.push(
      reason(
        'profile_not_covered',
        { participant: c.participant, kind: kindWord, earliest_year: earliest, year },
        `${c.participant} declares ${kind} records from ${earliest} only; ${year} is earlier.`,
      ),
    );
    return entry(bound ? Likelihood.LIKELIHOOD_POSSIBLE : Likelihood.LIKELIHOOD_UNLIKELY);
  }
  const minimum = RETENTION_YEARS[c.kind] ?? 20;
  const age = thisYear - year;
  if (age <= minimum) {
    reasons.push(
      reason(
        'within_retention',
        { kind: kindWord, year, age, minimum },
        `${year} is ${age} years ago: within the ITI minimum of ${minimum} years for ${kind} records.`,
      ),
    );
    return entry(Likelihood.LIKELIHOOD_LIKELY);
  }
  reasons.push(
    reason(
      'beyond_retention',
      { kind: kindWord, year, age, minimum },
      `${year} is ${age} years ago: beyond the ITI minimum of ${minimum} years for ${kind} records, which may have been kept longer.`,
    ),
  );
  return entry(Likelihood.LIKELIHOOD_POSSIBLE);
}
