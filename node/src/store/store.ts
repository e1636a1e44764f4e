import { cp } from 'node:fs/promises';
import { Level } from 'level';
import type { AbstractBatchOperation, AbstractSnapshot, AbstractSublevel } from 'abstract-level';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { type Scheduler, systemScheduler, type Timer } from '../util/scheduler.js';
import { createRepositories, type StoreRepositories } from './repositories.js';
import {
  operation,
  SPACES,
  type Engine,
  type Operation,
  type Range,
  type Snapshot,
  type Space,
  type SpaceName,
} from './space.js';

export { padNumber, type Operation, type Snapshot } from './space.js';

/**
 * The root database. It holds nothing under its own keys: every value lives in a sublevel.
 * Its own encodings are utf8 and so are the sublevels': the repositories' codecs make the text
 * (JSON), and {@link Store.batch} hands the root keys already prefixed with their sublevel.
 */
type Db = Level<string, string>;
type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, string, string>;

/**
 * Layout version of the store this code writes (ADR 0011). 1: every store written before the
 * version was recorded (no `meta/schema`); 2: adds the case indexes by state, peer and deadline.
 */
export const STORE_SCHEMA_VERSION = 2;

/** A store written by a later version of the node: this one refuses to open it. */
export class StoreVersionError extends TracenetError {
  constructor(
    readonly location: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION,
      `the store in ${location} has layout version ${found}, but this node reads versions up to ${supported}: run a node of the version that wrote it`,
      { rule: 'store_version' },
    );
  }
}

/**
 * The storage port: one typed repository per aggregate (see {@link StoreRepositories}); writes that
 * belong together are collected as {@link Operation}s and written by {@link Store.batch} as one
 * atomic batch. Two engines: LevelDB ({@link openStore}) and memory (`openMemoryStore`).
 */
export interface Store extends StoreRepositories {
  /**
   * The root database under the sublevels: raw keys and values, byte for byte; absent on a
   * memory store. Only `store/backup.ts` reads it (a backup copies the whole store under one
   * snapshot), and the benchmarks, for LevelDB's compaction statistics.
   */
  readonly root?: Level<string, string>;
  /**
   * Writes all operations atomically or none. Throws STORAGE_UNAVAILABLE on failure. After a
   * failure the store recovers by itself (see {@link openStore}); until then every batch throws.
   */
  batch(operations: readonly Operation[]): Promise<void>;
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
  snapshot<T>(work: (options: { readonly snapshot: Snapshot }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** What opening did to the layout: the version found and, after a migration, where the backup is. */
  readonly opened: { readonly foundVersion: number; readonly backup?: string };
}

/** The store over an engine. */
export function createStore(
  engine: Engine,
  opened: { readonly foundVersion: number; readonly backup?: string },
): Store {
  return {
    ...createRepositories(engine),
    batch: async (operations) => {
      if (operations.length > 0) await engine.write(operations);
    },
    get writable() {
      return engine.writable;
    },
    watchWritable: (listener) => engine.watchWritable(listener),
    snapshot: (work) => engine.snapshot(work),
    close: () => engine.close(),
    ...(engine.root ? { root: engine.root } : {}),
    opened,
  };
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
/** Keys per batch of a migration. */
const MIGRATION_BATCH = 1000;

/**
 * Opens (creating if needed) the LevelDB store in `location`, and brings its layout to
 * {@link STORE_SCHEMA_VERSION}: a store of an older layout is copied aside first
 * (`<location>.backup-v<old>-<time>`, closed, so the copy is consistent) and then migrated; a
 * store of a newer layout is refused with {@link StoreVersionError}. Writes are flushed to disk
 * before they resolve unless `sync` is false.
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
  let engine = await openLevel(location, options);
  const found = await layoutVersion(engine);
  if (found === STORE_SCHEMA_VERSION) return createStore(engine, { foundVersion: found });
  if (found > STORE_SCHEMA_VERSION) {
    await engine.close();
    throw new StoreVersionError(location, found, STORE_SCHEMA_VERSION);
  }
  let backup: string | undefined;
  if (found > 0) {
    await engine.close();
    backup = `${location}.backup-v${found}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await cp(location, backup, { recursive: true, errorOnExist: true, force: false });
    engine = await openLevel(location, options);
  }
  const store = createStore(engine, { foundVersion: found, ...(backup === undefined ? {} : { backup }) });
  try {
    if (found > 0) await migrate(store, found);
    await store.batch([store.meta.schema.put({ version: STORE_SCHEMA_VERSION })]);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** The layout version of an open store: 0 for a new (empty) store, 1 for one without `meta/schema`. */
async function layoutVersion(engine: Engine): Promise<number> {
  const { meta } = createRepositories(engine);
  const recorded = await meta.schema.get();
  if (recorded) return recorded.version;
  for (const name of SPACES) for await (const _ of engine.space(name).keys({ limit: 1 })) return 1;
  return 0;
}

/** Brings a store from layout `from` to {@link STORE_SCHEMA_VERSION}. */
async function migrate(store: Store, from: number): Promise<void> {
  if (from < 2) {
    // 1 → 2: index every case by state, peer and next deadline.
    let pending: Operation[] = [];
    for await (const c of store.cases.all()) {
      pending.push(...store.cases.indexed(c, undefined));
      if (pending.length >= MIGRATION_BATCH) {
        await store.batch(pending);
        pending = [];
      }
    }
    await store.batch(pending);
  }
}

async function openLevel(location: string, options: StoreOptions): Promise<Engine> {
  const writeOptions = { sync: options.sync ?? true };
  const recoverEveryMs = options.recoverEveryMs ?? 1000;
  const scheduler = options.scheduler ?? systemScheduler;
  const db: Db = new Level<string, string>(location, {
    keyEncoding: 'utf8',
    valueEncoding: 'utf8',
    maxOpenFiles: OPEN_TABLES,
  });
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
  const sub = new Map<SpaceName, Sublevel>(
    SPACES.map((name) => [name, db.sublevel<string, string>(name, { valueEncoding: 'utf8' })]),
  );
  const sublevel = (name: SpaceName) => sub.get(name) as Sublevel;

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
  const write = async (operations: readonly Operation[]) => {
    const fault = options.writeFault?.();
    if (fault) throw fault;
    await writeBatch(db, sublevel, operations, writeOptions);
  };
  const refused = (cause: unknown, rule: string, message: string) =>
    new TracenetError(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, message, { rule, cause });

  const recover = async () => {
    if (db.status === 'open') {
      // Room again? This probe may itself land after a partial record; the reopen below makes that harmless.
      await write([operation('put', 'meta', 'store-probe', JSON.stringify({ at: Date.now() }))]);
      await db.close();
    }
    // A reopen that fails (no room for LevelDB's recovery yet) leaves the database closed; the next
    // attempt opens it again.
    await db.open();
    await Promise.all([...sub.values()].map((s) => s.open()));
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

  const spaces = new Map<SpaceName, Space>(SPACES.map((name) => [name, levelSpace(sublevel(name))]));
  return {
    root: db,
    space: (name) => spaces.get(name) as Space,
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
        return await work({ snapshot: { handle: snapshot } });
      } finally {
        await snapshot.close();
      }
    },
    async write(operations) {
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

/** Keys read per call into LevelDB by an iteration (ADR 0005: one call learns that a short range has ended). */
const READ_BATCH = 1000;

function levelOptions(range: Range): Record<string, unknown> {
  const { snapshot, ...bounds } = range;
  return snapshot === undefined ? { ...bounds } : { ...bounds, snapshot: snapshot.handle as AbstractSnapshot };
}

function levelSpace(sub: Sublevel): Space {
  return {
    get: (key, snapshot) =>
      sub.get(key, snapshot === undefined ? {} : { snapshot: snapshot.handle as AbstractSnapshot }),
    getMany: (keys) => sub.getMany([...keys]),
    // While the store is not open (a reopen after a write failure) getSync would throw.
    getSync: (key) => (sub.status === 'open' ? { value: sub.getSync(key) } : undefined),
    async *entries(range = {}) {
      const iterator = sub.iterator(levelOptions(range));
      try {
        for (;;) {
          const entries = await iterator.nextv(READ_BATCH);
          if (entries.length === 0) return;
          for (const [key, value] of entries) yield [key, value];
        }
      } finally {
        await iterator.close();
      }
    },
    async *keys(range = {}) {
      const iterator = sub.keys(levelOptions(range));
      try {
        for (;;) {
          const keys = await iterator.nextv(READ_BATCH);
          if (keys.length === 0) return;
          yield* keys;
        }
      } finally {
        await iterator.close();
      }
    },
  };
}

/**
 * Writes `operations` as one atomic LevelDB batch. abstract-level's array batch clones every
 * operation and resolves its sublevel's encodings one by one, which cost about two thirds of a
 * record import's store time (bench section 3). Here each operation, already encoded by its
 * repository, is prefixed with its sublevel's `!name!` and added to a chained batch of the root
 * database, whose encodings are utf8 and so pass it through unchanged: the same bytes, written in
 * one batch. A database that is not open (it is reopening after a failure) gets the array batch,
 * which waits for it.
 */
async function writeBatch(
  db: Db,
  sublevel: (name: SpaceName) => Sublevel,
  operations: readonly Operation[],
  writeOptions: { sync: boolean },
): Promise<void> {
  if (db.status !== 'open') {
    const array: AbstractBatchOperation<Db, string, string>[] = operations.map((op) =>
      op.type === 'put'
        ? { type: 'put', sublevel: sublevel(op.space), key: op.key, value: op.value ?? '' }
        : { type: 'del', sublevel: sublevel(op.space), key: op.key },
    );
    await db.batch(array, writeOptions);
    return;
  }
  const batch = db.batch();
  for (const op of operations) {
    const key = sublevel(op.space).prefix + op.key;
    if (op.type === 'put') batch.put(key, op.value ?? '');
    else batch.del(key);
  }
  await batch.write(writeOptions);
}
