import type { Level } from 'level';
/**
 * The engine side of the store: named, ordered key spaces of strings, and the operations that
 * write them. Only `store/` sees this layer; the rest of the node reads and writes through typed
 * repositories (see `repositories.ts`). Two engines implement it: LevelDB (`level-store.ts`) and
 * memory (`memory-store.ts`, for unit tests).
 */

/** The key spaces of a node's store (LevelDB sublevels); see docs/adr/0003-storage-layout.md. */
export const SPACES = [
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
  // Schema 2 (ADR 0011): indexes of the cases by state, by peer and by next deadline.
  'case-states',
  'case-peers',
  'case-deadlines',
  'events',
  // Lookups (docs/protocol.md section 13): the index of records of interest, hit notices on
  // this node's records, this node's own lookups, and the query ids it has answered.
  'interest',
  'hits',
  'lookups',
  'lookup-seen',
  // Access (docs/protocol.md section 7): officer accounts, sessions by token digest, clients.
  'officers',
  'sessions',
  'clients',
  // Four-eyes approval (docs/protocol.md 12.12): the steps waiting for a supervisor, by id.
  'approvals',
  // Re-export flags (docs/protocol.md 18): raised by this node (`r \0 flag id`) and received from
  // peers (`x \0 sender \0 flag id`).
  'reexport-flags',
] as const;
export type SpaceName = (typeof SPACES)[number];

declare const operationBrand: unique symbol;

/**
 * One write of a batch, made by a repository (its key and its encoded value): callers collect
 * them and hand them to `Store.batch` (or the journal) to be written atomically. Only
 * repositories make them, so a value always has its repository's codec and key format.
 */
export interface Operation {
  readonly [operationBrand]: true;
  readonly type: 'put' | 'del';
  readonly space: SpaceName;
  readonly key: string;
  /** The encoded value (JSON text) of a put. */
  readonly value?: string;
}

/** Makes an operation; used by the repositories only. */
export function operation(type: 'put' | 'del', space: SpaceName, key: string, value?: string): Operation {
  return (value === undefined ? { type, space, key } : { type, space, key, value }) as Operation;
}

/** A consistent view of the store, given by `Store.snapshot`; what it holds is the engine's. */
export interface Snapshot {
  readonly handle: unknown;
}

/** Bounds and order of a read over a key space (keys compare as UTF-8 bytes). */
export interface Range {
  readonly gt?: string;
  readonly gte?: string;
  readonly lt?: string;
  readonly lte?: string;
  readonly reverse?: boolean;
  readonly limit?: number;
  readonly snapshot?: Snapshot;
}

/** One key space of an engine: encoded values under string keys, in key order. */
export interface Space {
  get(key: string, snapshot?: Snapshot): Promise<string | undefined>;
  getMany(keys: readonly string[]): Promise<Array<string | undefined>>;
  /**
   * A point read without a round trip to a thread (ADR 0005), or `undefined` when the engine
   * cannot read synchronously right now (a LevelDB store reopening): then use {@link getMany}.
   */
  getSync(key: string): { value: string | undefined } | undefined;
  entries(range?: Range): AsyncGenerator<[string, string]>;
  keys(range?: Range): AsyncGenerator<string>;
}

/** What a store engine offers the repositories. */
export interface Engine {
  space(name: SpaceName): Space;
  /** The LevelDB database under the spaces, for a raw backup; absent on the memory engine. */
  readonly root?: Level<string, string>;
  write(operations: readonly Operation[]): Promise<void>;
  readonly writable: boolean;
  watchWritable(listener: (writable: boolean) => void): () => void;
  snapshot<T>(work: (options: { readonly snapshot: Snapshot }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Compares keys as LevelDB does: by their UTF-8 bytes, which is the order of code points. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Whether `key` is inside the bounds of `range`. */
export function inRange(key: string, range: Range): boolean {
  if (range.gt !== undefined && compareKeys(key, range.gt) <= 0) return false;
  if (range.gte !== undefined && compareKeys(key, range.gte) < 0) return false;
  if (range.lt !== undefined && compareKeys(key, range.lt) >= 0) return false;
  if (range.lte !== undefined && compareKeys(key, range.lte) > 0) return false;
  return true;
}

/** Zero-padded decimal, so that numbers sort as strings. */
export function padNumber(value: number, width = 16): string {
  return String(value).padStart(width, '0');
}
