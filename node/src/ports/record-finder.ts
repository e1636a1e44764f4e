import type { IncompleteRecord, RecordQuery, WeaponRecord } from '@tracenet/proto';

/**
 * Everything the registry holds that may be the weapon of a query (docs/records.md 2.3): the
 * complete records that are it, and the weapons held but incomplete whose readable identity does
 * not contradict it. An automatic answer is given only from exactly one record and no incomplete
 * one; anything else waits for an officer, with the reason.
 */
export interface Identification {
  readonly records: WeaponRecord[];
  readonly incomplete: IncompleteRecord[];
}

/** What the workflow needs from the records for auto-answer. */
export interface RecordFinder {
  identify(query: RecordQuery): Promise<Identification>;
}
