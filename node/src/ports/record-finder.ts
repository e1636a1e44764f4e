import type { IncompleteRecord, RecordQuery, WeaponRecord } from '@tracenet/proto';

/**
 * Everything the registry holds that may be the weapon of a query (docs/records.md 2.3): the
 * complete records that are it, the weapons held but incomplete whose readable identity does not
 * contradict it, and the near matches — records that are it but for a type close to the query's
 * (a carbine for a rifle). An automatic answer is given only from exactly one record, no
 * incomplete one and no near match; anything else waits for an officer, with the reason.
 */
export interface Identification {
  readonly records: WeaponRecord[];
  readonly incomplete: IncompleteRecord[];
  /** Records whose type is close to the query's, not the same (docs/records.md 2.3, "close types"). */
  readonly near: WeaponRecord[];
}

/** Whether one source of records can answer now (`Registry.health`). */
export interface SourceHealth {
  readonly kind: string;
  readonly ok: boolean;
  readonly problem?: string;
}

/** What the workflow needs from the records for auto-answer. */
export interface RecordFinder {
  identify(query: RecordQuery): Promise<Identification>;
  /**
   * Whether each source of records can answer now. An automatic "no record" is given only when
   * every one can; a finder without it never gives one.
   */
  health?(): Promise<readonly SourceHealth[]>;
}
