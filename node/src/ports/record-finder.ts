import type { RecordQuery, WeaponRecord } from '@tracenet/proto';

/** What the workflow needs from the records for auto-answer. */
export interface RecordFinder {
  findExact(query: RecordQuery): Promise<WeaponRecord[]>;
}
