import { Level } from 'level';
import type { AbstractSublevel, AbstractBatchOperation } from 'abstract-level';
import { ErrorCode, TracenetError } from '@tracenet/proto';

/** JSON values kept in the store. Binary fields are base64 strings. */
export type StoredValue = Record<string, unknown>;

type Db = Level<string, StoredValue>;
/** One named key space of the store (a LevelDB sublevel with JSON values). */
export type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, string, StoredValue>;

/** The sublevels of a node's store; see docs/adr/0003-storage-layout.md. */
export const SUBLEVELS = [
  'meta',
  'peers',
  'policies',
  'inbox',
  'seen',
  'outbox',
  'sent',
  'failed',
  'audit',
  'checkpoints',
  'records',
  'record-serials',
  'record-identities',
  'cases',
  'case-traces',
  'events',
  // Lookups (docs/protocol.md section 13): the index of records of interest, hit notices on
  // this node's records, this node's own lookups, and the query ids it has answered.
  'interest',
  'hits',
  'lookups',
  'lookup-seen',
] as const;
export type SublevelName = (typeof SUBLEVELS)[number];

/** A write to a sublevel, collected into one atomic batch. */
export type Operation = AbstractBatchOperation<Db, string, StoredValue>;

/**
 * The storage port over LevelDB. Writes that belong together go through {@link Store.batch} as one
 * atomic LevelDB batch; reads go to the sublevels directly.
 */
export interface Store {
  readonly sub: Readonly<Record<SublevelName, Sublevel>>;
  /** Writes all operations atomically or none. Throws STORAGE_UNAVAILABLE on failure. */
  batch(operations: Operation[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) the LevelDB store in `location`. Writes are flushed to disk before
 * they resolve unless `sync` is false.
 */
export async function openStore(location: string, options: { sync?: boolean } = {}): Promise<Store> {
  const writeOptions = { sync: options.sync ?? true };
  const db: Db = new Level<string, StoredValue>(location, { valueEncoding: 'json' });
  try {
    await db.open();
  } catch (cause) {
    const locked = (cause as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
    throw new TracenetError(
      ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE,
      locked ? `the store in ${location} is in use by a running node` : `cannot open the store in ${location}`,
      { rule: locked ? 'store_locked' : 'store_open', cause },
    );
  }
  const sub = Object.fromEntries(SUBLEVELS.map((name) => [name, db.sublevel<string, StoredValue>(name, { valueEncoding: 'json' })])) as unknown as Record<
    SublevelName,
    Sublevel
  >;
  return {
    sub,
    async batch(operations) {
      if (operations.length === 0) return;
      try {
        await db.batch(operations, writeOptions);
      } catch (cause) {
        throw new TracenetError(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, 'the store refused a write', { rule: 'store_write', cause });
      }
    },
    async close() {
      if (db.status === 'open' || db.status === 'opening') await db.close();
    },
  };
}

/** Zero-padded decimal, so that numbers sort as strings. */
export function padNumber(value: number, width = 16): string {
  return String(value).padStart(width, '0');
}
