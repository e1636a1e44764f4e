import { Level } from 'level';
import type { AbstractBatchOperation, AbstractSnapshot, AbstractSublevel } from 'abstract-level';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { type Scheduler, systemScheduler, type Timer } from '../util/scheduler.js';

/** JSON values kept in the store. Binary fields are base64 strings. */
export type StoredValue = Record<string, unknown>;

/**
 * The root database. It holds nothing under its own keys: every value lives in a sublevel (JSON).
 * Its own encodings are utf8 so that {@link Store.batch} can hand it keys already prefixed with
 * their sublevel and values already JSON-encoded (see `writeBatch`).
 */
type Db = Level<string, string>;
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
  /**
   * The root database under the sublevels: raw keys and values, byte for byte. Only
   * `store/backup.ts` reads it (a backup copies the whole store under one snapshot).
   */
  readonly root: Level<string, string>;
  /**
   * Writes all operations atomically or none. Throws STORAGE_UNAVAILABLE on failure. After a
   * failure the store recovers by itself (see {@link openStore}); until then every batch throws.
   */
  batch(operations: Operation[]): Promise<void>;
  /** False from a refused write until the store has recovered. */
  readonly writable: boolean;
  /**
   * Calls `listener` whenever {@link Store.writable} changes (false on a refused write, true once
   * recovered). Returns a function that removes the listener.
   */
  watchWritable(listener: (writable: boolean) => void): () => void;
  /**
   * Runs `work` on one consistent view of the store: reads that pass `{ snapshot }` see the store as
   * it was when `work` started, whatever is written meanwhile (a verification of the audit log while
   * the node writes).
   */
  snapshot<T>(work: (options: { readonly snapshot: AbstractSnapshot }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** How {@link openStore} opens and writes. */
export interface StoreOptions {
  /** Flush every write to disk before it resolves (default true). */
  readonly sync?: boolean;
  /** How often a store whose write failed tries to recover by itself (default 1000 ms). */
  readonly recoverEveryMs?: number;
  /** Timers of the recovery (the system's unless given). */
  readonly scheduler?: Scheduler;
  /**
   * Test seam: called before every LevelDB batch (probes included); an error it returns fails
   * that batch as if LevelDB had refused it. Production code never sets it.
   */
  readonly writeFault?: () => Error | undefined;
}

/**
 * Table files LevelDB keeps open (`max_open_files`; its default of 1,000 covers about 2 GiB of its
 * 2 MiB tables, and a bigger store keeps closing and reopening them: ADR 0003). An open table costs
 * its index and filter blocks in memory (roughly 1 % of the file, by estimate); file descriptors
 * are bounded by LevelDB itself whatever this number is.
 */
const OPEN_TABLES = 16_384;

/** Key of the recovery probe in the `meta` sublevel. */
const PROBE_KEY = 'store-probe';

/**
 * Opens (creating if needed) the LevelDB store in `location`. Writes are flushed to disk before
 * they resolve unless `sync` is false.
 *
 * **Write failures** (a full disk, an I/O error) fail the batch with STORAGE_UNAVAILABLE and put
 * the store in a *failed* state: LevelDB may have left a partial record at the end of its log, and
 * a record written after it would be acknowledged now but dropped by LevelDB's recovery at the
 * next open (seen on a full tmpfs). So no further batch is written to that log: every batch first
 * tries to recover, and so does a timer every `recoverEveryMs`. Recovering = one probe write
 * (is there room again?), then closing and reopening the database, which replays the log (dropping
 * the partial record, which was never acknowledged) and starts a new log. Reads keep working in the
 * failed state; during the reopen itself they fail.
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  const writeOptions = { sync: options.sync ?? true };
  const recoverEveryMs = options.recoverEveryMs ?? 1000;
  const scheduler = options.scheduler ?? systemScheduler;
  const db: Db = new Level<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8', maxOpenFiles: OPEN_TABLES });
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

  let writable = true;
  let closing = false;
  let recovering: Promise<void> | undefined;
  let timer: Timer | undefined;
  const listeners = new Set<(writable: boolean) => void>();
  const setWritable = (next: boolean) => {
    if (next === writable) return;
    writable = next;
    for (const listener of listeners) listener(next);
  };
  const prefixes = new Map<Sublevel, string>(Object.values(sub).map((s) => [s, s.prefix]));
  const write = async (operations: Operation[]) => {
    const fault = options.writeFault?.();
    if (fault) throw fault;
    await writeBatch(db, prefixes, operations, writeOptions);
  };
  const refused = (cause: unknown, rule: string, message: string) => new TracenetError(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, message, { rule, cause });

  const recover = async () => {
    if (db.status === 'open') {
      // Room again? This probe may itself land after a partial record; the reopen below makes that harmless.
      await write([{ type: 'put', sublevel: sub.meta, key: PROBE_KEY, value: { at: Date.now() } }]);
      await db.close();
    }
    // A reopen that fails (no room for LevelDB's recovery yet) leaves the database closed; the next
    // attempt opens it again.
    await db.open();
    await Promise.all(Object.values(sub).map((s) => s.open()));
    stopTimer();
    setWritable(true);
  };
  /** One recovery at a time; rejects while the store still fails. */
  const tryRecover = (): Promise<void> => {
    recovering ??= recover().finally(() => {
      recovering = undefined;
    });
    return recovering;
  };
  const stopTimer = () => {
    timer?.cancel();
    timer = undefined;
  };
  const fail = () => {
    setWritable(false);
    if (timer || closing) return;
    timer = scheduler
      .setInterval(() => {
        tryRecover().catch(() => undefined);
      }, recoverEveryMs)
      .unref();
  };

  return {
    sub,
    root: db,
    get writable() {
      return writable;
    },
    watchWritable(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async snapshot(work) {
      const snapshot = db.snapshot();
      try {
        return await work({ snapshot });
      } finally {
        await snapshot.close();
      }
    },
    async batch(operations) {
      if (operations.length === 0) return;
      // The root's encodings are utf8 (see `writeBatch`): a value put on the root itself would be
      // stored as "[object Object]". A programming error, refused before the store is touched.
      if (operations.some((op) => op.sublevel === undefined)) throw new TypeError('every operation of a store batch names one of its sublevels');
      if (!writable) {
        try {
          await tryRecover();
        } catch (cause) {
          throw refused(cause, 'store_write', 'the store refused a write and has not recovered yet');
        }
      }
      try {
        await write(operations);
      } catch (cause) {
        fail();
        throw refused(cause, 'store_write', 'the store refused a write');
      }
    },
    async close() {
      closing = true;
      stopTimer();
      await recovering?.catch(() => undefined);
      if (db.status === 'open' || db.status === 'opening') await db.close();
    },
  };
}

/**
 * Writes `operations` as one atomic LevelDB batch. abstract-level's array batch clones every
 * operation and resolves its sublevel's encodings one by one, which cost about two thirds of a
 * record import's store time (bench section 3). Here each operation is encoded once, as the
 * sublevel would encode it (its prefix `!name!` and the key; `JSON.stringify` of the value, which is
 * the `json` encoding), and added to a chained batch of the root database, whose encodings are
 * utf8 and so pass both through unchanged: the same bytes, written in one batch.
 *
 * A batch that holds anything else (a sublevel that is not one of this store's, a key that is
 * not a string), or a database that is not open (it is reopening after a failure: the array
 * batch waits for it), goes through the array batch unchanged. {@link Store.batch} has already
 * refused an operation without a sublevel.
 */
async function writeBatch(db: Db, prefixes: ReadonlyMap<Sublevel, string>, operations: Operation[], writeOptions: { sync: boolean }): Promise<void> {
  const plain = db.status === 'open' && operations.every((op) => typeof op.key === 'string' && prefixes.has(op.sublevel as Sublevel));
  if (!plain) {
    await db.batch(operations as unknown as AbstractBatchOperation<Db, string, string>[], writeOptions);
    return;
  }
  const batch = db.batch();
  try {
    for (const op of operations) {
      const key = (prefixes.get(op.sublevel as Sublevel) as string) + op.key;
      if (op.type === 'put') {
        // Like abstract-level's batch: a null or undefined value (or one JSON cannot represent) fails the batch.
        const value = op.value === null ? undefined : (JSON.stringify(op.value) as string | undefined);
        if (value === undefined) throw new TypeError(`the value of ${key} cannot be stored`);
        batch.put(key, value);
      } else batch.del(key);
    }
  } catch (error) {
    await batch.close();
    throw error;
  }
  await batch.write(writeOptions);
}

/** Zero-padded decimal, so that numbers sort as strings. */
export function padNumber(value: number, width = 16): string {
  return String(value).padStart(width, '0');
}
