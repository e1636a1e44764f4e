import { ErrorCode, RecordKind, type RecordsProfile, TracenetError } from '@tracenet/proto';

/** The earliest year a records profile or a marking may name (docs/protocol.md 17.2). */
export const EARLIEST_RECORD_YEAR = 1800;

/** The word of each record kind, in reason values and in the `records.profile` configuration key. */
export const RECORD_KIND_WORDS: Readonly<Record<number, string>> = {
  [RecordKind.RECORD_KIND_MANUFACTURE]: 'manufacture',
  [RecordKind.RECORD_KIND_IMPORT]: 'import',
  [RecordKind.RECORD_KIND_EXPORT]: 'export',
  [RecordKind.RECORD_KIND_TRANSFER]: 'transfer',
};

/**
 * Checks the `records_profile` of a card body (docs/protocol.md 2.3 and 17.2): every kind is a
 * known record kind and appears once, every earliest year is from 1800 to the UTC year of the
 * card's `issued_at_ms`. Throws INVALID_PEER_CARD naming the coverage entry and the rule
 * (`record_kind`, `duplicate_kind`, `earliest_year`).
 */
export function verifyRecordsProfile(profile: RecordsProfile, issuedAtMs: number): void {
  const latest = new Date(issuedAtMs).getUTCFullYear();
  const seen = new Set<number>();
  for (const [i, coverage] of profile.coverage.entries()) {
    const field = `card.records_profile.coverage[${i}]`;
    if (RECORD_KIND_WORDS[coverage.kind] === undefined)
      throw invalid(`${field}.kind`, 'record_kind', `record kind ${coverage.kind} is not a known kind of record`);
    if (seen.has(coverage.kind))
      throw invalid(
        `${field}.kind`,
        'duplicate_kind',
        `the records profile names ${RECORD_KIND_WORDS[coverage.kind]} records more than once`,
      );
    seen.add(coverage.kind);
    if (!(coverage.earliestYear >= EARLIEST_RECORD_YEAR && coverage.earliestYear <= latest))
      throw invalid(
        `${field}.earliest_year`,
        'earliest_year',
        `earliest year ${coverage.earliestYear} is not from ${EARLIEST_RECORD_YEAR} to ${latest}, the year the card was issued`,
      );
  }
}

function invalid(field: string, rule: string, message: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, message, { field, rule });
}

/**
 * The records profile a node declares from its `records.profile` configuration (kind word →
 * earliest year, e.g. `{ "manufacture": 1950, "import": 1985 }`), in the order of the kinds;
 * undefined when it declares none. Throws INVALID_FIELD naming the key when a year is later than
 * `nowMs`'s year (the card would be refused by every peer).
 */
export function profileFromConfig(
  profile: Readonly<Record<string, number>>,
  nowMs: number,
): RecordsProfile | undefined {
  const coverage = Object.entries(RECORD_KIND_WORDS)
    .filter(([, word]) => profile[word] !== undefined)
    .map(([kind, word]) => ({ kind: Number(kind) as RecordKind, earliestYear: profile[word] as number }));
  if (coverage.length === 0) return undefined;
  const latest = new Date(nowMs).getUTCFullYear();
  const future = coverage.find((c) => c.earliestYear > latest);
  if (future)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `configuration key records.profile names ${RECORD_KIND_WORDS[future.kind]} records from ${future.earliestYear}, a year still to come`,
      { field: 'records.profile', rule: 'config' },
    );
  return { coverage };
}
