import type { FieldViolation, IncompleteRecord, WeaponRecord } from '@tracenet/proto';
import { normaliseSerial } from '../records/normalise.js';
import type { SerialPattern } from '../records/serial-pattern.js';

/**
 * A source of weapon records the node answers from (docs/integration.md): the node's own LevelDB
 * store, a national registry in PostgreSQL, a folder of CSV exports, or an integrator's own.
 *
 * An adapter only finds records by serial and by id; the node applies every other rule of an
 * identity search itself (manufacturer after aliases, model, calibre, type: docs/records.md 2.3),
 * so that every adapter answers the same question the same way. Records are returned complete —
 * markings and events, events oldest first — as `WeaponRecord`s that pass the node's record
 * validation (docs/records.md 3); a weapon whose rows do not make one is returned as a
 * {@link HeldIncomplete}, never left out.
 *
 * @example
 * ```ts
 * const adapter: RegistryAdapter = {
 *   kind: 'memory',
 *   idPrefix: 'mem_',
 *   async open() {},
 *   async close() {},
 *   async check() {},
 *   async findBySerial(serial, limit) { return records.filter((r) => serial.test(normaliseSerial(r.manufacture?.serialNumber ?? ''))).slice(0, limit); },
 *   async get(recordId) { return records.find((r) => r.recordId === recordId); },
 * };
 * ```
 */
export interface RegistryAdapter {
  /** What the adapter reads, for logs, health and errors: `leveldb`, `postgres`, `csv`. */
  readonly kind: string;
  /**
   * Every record id this adapter gives starts with it (`rec_` for the node's own store); the node
   * sends a `GetRecord` to the adapter whose prefix the id has. Prefixes of one node's adapters
   * are distinct and none is a prefix of another.
   */
  readonly idPrefix: string;
  /**
   * Connects or reads what the adapter needs. Throws a TracenetError that names the configuration
   * key or the file and line at fault; the node does not start then.
   */
  open(): Promise<void>;
  /** Releases connections and files; idempotent. */
  close(): Promise<void>;
  /** Throws (UNAVAILABLE) when the registry cannot answer now; health reports it. */
  check(): Promise<void>;
  /**
   * Records with an indexed serial — the manufacture serial or the control component's serial,
   * normalised (docs/protocol.md 11.2) — that `serial` matches: equal when `serial.partial` is
   * false, else the wildcard pattern (13.4). Whatever the manufacturer. At most `limit` records;
   * which ones past the limit is the adapter's choice, but the same query gives the same records.
   * The pattern comes from a peer or an officer: match with `serial.test` (linear, no
   * backtracking) or an engine's `LIKE` with escaped literals, never with a regular expression
   * built from `serial.pattern`, which a pattern like `*?*?*?X` makes backtrack for seconds.
   */
  findBySerial(serial: SerialPattern, limit: number): Promise<RegistryEntry[]>;
  /** The record with this id (it starts with {@link idPrefix}), or undefined. */
  get(recordId: string): Promise<RegistryEntry | undefined>;
  /**
   * Optional: the records with an active report of loss or theft (`record.interest` set) whose
   * indexed serial `serial` matches, as {@link findBySerial} matches, at most `limit`. For lookups
   * (docs/protocol.md 13), which only need reported weapons: an adapter that can ask its registry
   * for those alone (the PostgreSQL adapter's `reports` section) saves reading every weapon of a
   * wildcard serial. Without it the node uses {@link findBySerial} and keeps records with `interest`.
   */
  findReported?(serial: SerialPattern, limit: number): Promise<RegistryEntry[]>;
  /**
   * Optional: every row of the registry, in key order, as an entry or — when not even its key or a
   * serial can be read, so that no search can find it — an {@link UnreadableRow}. Memory stays
   * bounded whatever the registry's size (the adapter pages through it). `visit` is awaited before
   * the next row. Used by `tracenet registry check`.
   */
  scan?(visit: (entry: RegistryEntry | UnreadableRow) => void | Promise<void>): Promise<void>;
}

/**
 * A registry row that no search can find: its key or every serial is missing. Only
 * `tracenet registry check` sees it; `key` is '' when the key itself is missing.
 */
export interface UnreadableRow {
  readonly unreadable: true;
  readonly key: string;
  /** Why, by the record's field path, with the registry column in the message. */
  readonly problems: readonly FieldViolation[];
}

/** Whether a scanned row is an {@link UnreadableRow}. */
export function isUnreadable(entry: RegistryEntry | UnreadableRow): entry is UnreadableRow {
  return (entry as Partial<UnreadableRow>).unreadable === true;
}

/**
 * What an adapter finds: a complete record, or — when the registry's rows for a weapon do not make
 * a valid record (a required value missing or unreadable) — an {@link IncompleteRecord} tagged
 * `incomplete: true`, so that the weapon is still found and reported as "held but incomplete",
 * never as no record (docs/integration.md, section 1). An adapter never drops such a weapon.
 */
export type RegistryEntry = WeaponRecord | HeldIncomplete;

/** An {@link IncompleteRecord} as an adapter returns it. */
export type HeldIncomplete = IncompleteRecord & { readonly incomplete: true };

/**
 * A weapon held but incomplete, from the record its rows were read into (which breaks the record
 * rules, `problems` say how): its id, identity, control component serial and report as read.
 */
export function heldIncomplete(record: WeaponRecord, problems: FieldViolation[], source: string): HeldIncomplete {
  const m = record.manufacture;
  return {
    incomplete: true,
    recordId: record.recordId,
    identity: {
      manufacturer: m?.manufacturer ?? '',
      model: m?.model ?? '',
      serialNumber: m?.serialNumber ?? '',
      calibre: m?.calibre ?? '',
      type: m?.type ?? 0,
    },
    controlComponentSerial: record.controlComponent?.serialNumber ?? '',
    problems,
    source,
    interest: record.interest,
  };
}

/** The serials a weapon held but incomplete is found by: its serial and its control component's, normalised, those not empty. */
export function heldSerials(entry: IncompleteRecord): string[] {
  return [entry.identity?.serialNumber ?? '', entry.controlComponentSerial]
    .map(normaliseSerial)
    .filter((s) => s !== '');
}

/** Whether an adapter's entry is a weapon held but incomplete. */
export function isIncomplete(entry: RegistryEntry): entry is HeldIncomplete {
  return (entry as Partial<HeldIncomplete>).incomplete === true;
}
