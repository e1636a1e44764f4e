import { Level } from 'level';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { META } from './repositories.js';
import type { Store } from './store.js';

/**
 * The store's side of a backup (docs/adr/0013-backup-and-restore.md): every raw key and value of
 * the root database read under one LevelDB snapshot, and a fresh LevelDB written from them. Both
 * work below the sublevels, byte for byte, so a backup holds whatever the store holds (every
 * sublevel, the signed audit head, the schema version) without knowing any of it.
 */

/** One raw entry of the root database: the sublevel prefix (`!name!`) and key, and the encoded value. */
export interface RawEntry {
  readonly key: Buffer;
  readonly value: Buffer;
}

/**
 * The raw key of a key of the `meta` sublevel (the prefix abstract-level gives a sublevel): a
 * backup reads the signed head and the layout version raw, and a restore writes the mark
 * (`META.restored`, `{ backupCreatedAtMs }`) the first start acts on (docs/protocol.md 5.6).
 */
export function rawMetaKey(key: (typeof META)[keyof typeof META]): string {
  return `!meta!${key}`;
}

/**
 * The schema version a raw `meta` value names: a number, or an object with a numeric `version`.
 * An absent value is version 1 (stores written before the version was kept).
 */
export function schemaVersionOf(value: Buffer | undefined): number {
  if (value === undefined) return 1;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as unknown;
    const version = typeof parsed === 'number' ? parsed : (parsed as { version?: unknown } | null)?.version;
    if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 1) return version;
  } catch {
    // Not JSON: reported below.
  }
  throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `the store's ${META.schema} is not a version number`, {
    field: META.schema,
    rule: 'schema_version',
  });
}

/**
 * Every entry of the store, in key order, as it was when the iteration started: the snapshot is
 * taken before the first entry is read and kept until the iteration ends (or is abandoned),
 * whatever the node writes meanwhile.
 *
 * @example
 * ```ts
 * for await (const { key, value } of snapshotEntries(store)) write(key, value);
 * ```
 */
export async function* snapshotEntries(store: Pick<Store, 'root'>): AsyncGenerator<RawEntry> {
  const { root } = store;
  if (!root)
    throw new TracenetError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'a store held in memory cannot be backed up', {
      rule: 'store_engine',
    });
  const snapshot = root.snapshot();
  try {
    const iterator = root.iterator<Buffer, Buffer>({ snapshot, keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      for await (const [key, value] of iterator) yield { key, value };
    } finally {
      await iterator.close();
    }
  } finally {
    await snapshot.close();
  }
}

/** Bytes of one restore batch: LevelDB writes it as one log record. */
const BATCH_BYTES = 4 * 1024 * 1024;

/** A new LevelDB being filled with raw entries; see {@link openFreshStore}. */
export interface FreshStore {
  /** Adds an entry; entries are written in batches of about 4 MiB. */
  put(key: Buffer, value: Buffer): Promise<void>;
  /** Writes the last batch, flushed to disk, and closes the database. */
  close(): Promise<void>;
}

/**
 * Creates a new LevelDB at `location` (refusing one that exists) to be filled with raw entries
 * (a restore): written with batch writes, the last one flushed to disk before {@link FreshStore.close}
 * resolves.
 */
export async function openFreshStore(location: string): Promise<FreshStore> {
  const db = new Level<Buffer, Buffer>(location, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: true,
    errorIfExists: true,
  });
  await db.open();
  let batch = db.batch();
  let bytes = 0;
  return {
    async put(key, value) {
      batch.put(key, value);
      bytes += key.length + value.length;
      if (bytes < BATCH_BYTES) return;
      await batch.write();
      batch = db.batch();
      bytes = 0;
    },
    async close() {
      try {
        await batch.write({ sync: true });
      } finally {
        await db.close();
      }
    },
  };
}
