import {
  compareKeys,
  inRange,
  SPACES,
  type Engine,
  type Operation,
  type Range,
  type Snapshot,
  type Space,
  type SpaceName,
} from './space.js';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { createStore, STORE_SCHEMA_VERSION, type Store } from './store.js';

type Data = Map<SpaceName, Map<string, string>>;

function dataOf(snapshot: Snapshot | undefined, live: Data): Data {
  return snapshot?.handle instanceof Map ? (snapshot.handle as Data) : live;
}

function sortedKeys(values: ReadonlyMap<string, string>, range: Range): string[] {
  const keys = [...values.keys()].filter((key) => inRange(key, range)).sort(compareKeys);
  if (range.reverse) keys.reverse();
  return range.limit === undefined || range.limit < 0 ? keys : keys.slice(0, range.limit);
}

function memorySpace(name: SpaceName, live: Data): Space {
  const values = (snapshot?: Snapshot) => dataOf(snapshot, live).get(name) ?? new Map<string, string>();
  return {
    get: async (key, snapshot) => values(snapshot).get(key),
    getMany: async (keys) => keys.map((key) => values().get(key)),
    getSync: (key) => ({ value: values().get(key) }),
    async *entries(range = {}) {
      const map = values(range.snapshot);
      for (const key of sortedKeys(map, range)) {
        const value = map.get(key);
        // A key deleted while the caller iterates is skipped, as a LevelDB iterator's view would not have it either way.
        if (value !== undefined) yield [key, value];
      }
    },
    async *keys(range = {}) {
      yield* sortedKeys(values(range.snapshot), range);
    },
  };
}

/** Test seams of {@link openMemoryStore}. */
export interface MemoryStoreOptions {
  /** Called before every batch; an error it returns fails that batch (see `StoreOptions.writeFault`). */
  readonly writeFault?: () => Error | undefined;
}

/**
 * A store held in memory, with the same repositories, atomic batches and snapshots as the LevelDB
 * store: for unit tests whose subject is not storage (nothing touches the disk, nothing to clean up).
 *
 * @example
 * ```ts
 * const store = await openMemoryStore();
 * const journal = new Journal({ store, ... });
 * ```
 */
export async function openMemoryStore(options: MemoryStoreOptions = {}): Promise<Store> {
  const live: Data = new Map(SPACES.map((name) => [name, new Map<string, string>()]));
  let writable = true;
  const listeners = new Set<(writable: boolean) => void>();
  const spaces = new Map(SPACES.map((name) => [name, memorySpace(name, live)]));
  const engine: Engine = {
    space: (name) => spaces.get(name) as Space,
    async write(operations: readonly Operation[]) {
      const fault = options.writeFault?.();
      if (fault) {
        if (writable) for (const listener of listeners) listener(false);
        writable = false;
        throw new TracenetError(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, 'the store refused a write', {
          rule: 'store_write',
          cause: fault,
        });
      }
      if (!writable) for (const listener of listeners) listener(true);
      writable = true;
      for (const op of operations) {
        const values = live.get(op.space) as Map<string, string>;
        if (op.type === 'put') values.set(op.key, op.value ?? '');
        else values.delete(op.key);
      }
    },
    get writable() {
      return writable;
    },
    watchWritable(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async snapshot(work) {
      const copy: Data = new Map([...live].map(([name, values]) => [name, new Map(values)]));
      return work({ snapshot: { handle: copy } });
    },
    async close() {},
  };
  return createStore(engine, { foundVersion: STORE_SCHEMA_VERSION });
}
