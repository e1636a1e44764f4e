import {
  ErrorCode,
  type IncompleteRecord,
  type RecordQuery,
  TracenetError,
  WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import type { Logger } from 'pino';
import type { AliasTable } from '../records/alias-table.js';
import { isOfInterest } from '../records/interest.js';
import type { RecordStore } from '../records/record-store.js';
import { identityOfIncomplete, identityOfRecord, WeaponsSeen } from './same-weapon.js';
import { type SerialPattern, serialPattern, serialViolation } from '../records/serial-pattern.js';
import { indexedSerials, normaliseModel, normaliseName, normaliseSerial } from '../records/normalise.js';
import { retentionDate, retentionOf, retentionRefusal } from '../records/retention.js';
import type { Clock } from '../util/clock.js';
import type { Identification, RecordFinder, SourceHealth } from '../ports/record-finder.js';
import { type HeldIncomplete, heldSerials, isIncomplete, type RegistryAdapter, type RegistryEntry } from './adapter.js';
import { LocalRecordsAdapter } from './local.js';
import { RegistryMonitor, redactProblem } from './monitor.js';

/** Default and maximum number of records a search returns. */
export const SEARCH_LIMIT = { default: 100, max: 1000 } as const;
/** Records an adapter gives at most for one search, before the identity rules narrow them. */
export const MAX_CANDIDATES = 10_000;

/** Options of {@link Registry.search}. */
export interface SearchOptions {
  /** Every record whose serial matches, whatever its manufacturer. */
  readonly serialOnly?: boolean;
  /** 1 to 1000; 100 when 0 or absent. */
  readonly limit?: number;
}

/** What the registry needs. */
export interface RegistryOptions {
  /** The sources of records, in the order they are asked; their id prefixes differ. */
  readonly adapters: readonly RegistryAdapter[];
  /** The manufacturer alias table in force (read at every search: a new table applies at once). */
  readonly aliases: () => AliasTable;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * The node's own store, which keeps the node's reports on records of other registries and
   * their references (docs/protocol.md 13.2); the local adapter's store when absent.
   */
  readonly records?: RecordStore;
}

/** The state of one adapter, for health. */
export type AdapterHealth = SourceHealth;

/**
 * The records a node answers from: one or more {@link RegistryAdapter}s behind the rules of
 * docs/records.md 2.3, so that the node's own store, a PostgreSQL registry and a CSV folder give
 * the same answer to the same question. Adapters find candidates by serial; the registry keeps
 * those that are the weapon asked for (manufacturer after aliases, model, calibre, type), merges
 * the adapters' results in their order and cuts at the limit.
 *
 * @example
 * ```ts
 * const registry = new Registry({ adapters: [new LocalRecordsAdapter(records), postgres], aliases: () => table, clock, logger });
 * await registry.open();
 * const [record] = await registry.findExact({ manufacturer: 'FN Herstal', serialNumber: 'FN-1998-0042', model: '', calibre: '', type: 0 });
 * ```
 */
export class Registry implements RecordFinder {
  readonly adapters: readonly RegistryAdapter[];
  /** What every adapter call and check showed: up or down, since when, last error and latency. */
  readonly monitor: RegistryMonitor;
  readonly #options: RegistryOptions;
  readonly #logger: Logger;
  readonly #opened = new Set<RegistryAdapter>();
  /** The adapters in the order their records win a tie of one weapon: the node's own store first. */
  readonly #ordered: readonly RegistryAdapter[];

  constructor(options: RegistryOptions) {
    const prefixes = options.adapters.map((a) => a.idPrefix);
    if (prefixes.some((p, i) => p === '' || prefixes.some((q, j) => i !== j && q.startsWith(p)))) {
      throw new Error(
        `registry adapters need distinct id prefixes, none a prefix of another (got ${prefixes.join(', ')})`,
      );
    }
    this.adapters = options.adapters;
    this.#ordered = [
      ...options.adapters.filter((a) => a instanceof LocalRecordsAdapter),
      ...options.adapters.filter((a) => !(a instanceof LocalRecordsAdapter)),
    ];
    this.#options = options;
    this.#logger = options.logger.child({ component: 'registry' });
    this.monitor = new RegistryMonitor({
      kinds: options.adapters.map((a) => a.kind),
      clock: options.clock,
      logger: options.logger,
    });
  }

  /**
   * Opens every adapter. A mistake (a mapping naming a missing column, a folder that does not
   * exist: a non-retryable error) closes those opened and throws, so the node does not start. A
   * registry that cannot be reached now (a retryable error) does not stop the node: it is opened
   * again at its next use, and until then searches fail UNAVAILABLE and automatic answers wait.
   */
  async open(): Promise<void> {
    for (const adapter of this.adapters) {
      try {
        await this.#openAdapter(adapter);
      } catch (error) {
        const failure = TracenetError.from(error);
        if (failure.retryable) {
          this.#logger.error(
            { adapter: adapter.kind, code: failure.codeName, problem: redactProblem(failure.message) },
            'registry unreachable at start; it is tried again at its next use',
          );
          continue;
        }
        await this.close();
        throw error;
      }
    }
  }

  async close(): Promise<void> {
    const opened = [...this.#opened];
    this.#opened.clear();
    await Promise.allSettled(opened.map((a) => a.close()));
  }

  /** Whether each adapter can answer now. */
  async health(): Promise<AdapterHealth[]> {
    return Promise.all(
      this.adapters.map(async (adapter) => {
        try {
          await this.#ask(adapter, () => adapter.check());
          return { kind: adapter.kind, ok: true };
        } catch (error) {
          return { kind: adapter.kind, ok: false, problem: redactProblem(TracenetError.from(error).message) };
        }
      }),
    );
  }

  /**
   * Every record that is the weapon `query` describes (docs/records.md 2.3): manufacturer and
   * serial required, the serial taken literally (a `*` or `?` in it is not a wildcard), model,
   * calibre and type narrowing when given. Used by automatic answers, which need one match.
   */
  async findExact(query: RecordQuery): Promise<WeaponRecord[]> {
    return (await this.identify(query)).records;
  }

  /**
   * As {@link findExact}, with the weapons held but incomplete that may be the one asked for and
   * the near matches (records whose type is close to the query's, {@link closeTypes}). Used by
   * automatic answers: an incomplete match must never read as "no record", and a near match is
   * for an officer to judge.
   */
  async identify(query: RecordQuery): Promise<Identification> {
    const serial = querySerial(query, false);
    requireManufacturer(query);
    const found = await this.#find(query, serial, false, MAX_CANDIDATES);
    return split(found, query);
  }

  /**
   * Identity search, or with `serialOnly` every record whose serial matches. The serial may hold
   * wildcards (`?` one character, `*` any run; docs/protocol.md 13.4): the records are then
   * candidates, not identifications. MISSING_FIELD without a serial (or a manufacturer, unless
   * serial-only); INVALID_FIELD for a wildcard serial with fewer than 3 known characters or more
   * than 10 wildcards, or a limit above 1000.
   */
  async search(query: RecordQuery, options: SearchOptions = {}): Promise<WeaponRecord[]> {
    return (await this.searchAll(query, options)).records;
  }

  /**
   * As {@link search}, with the weapons held but incomplete that match and the near matches (a
   * type close to the query's), all within the same limit.
   */
  async searchAll(query: RecordQuery, options: SearchOptions = {}): Promise<Identification> {
    const limit = options.limit === undefined || options.limit === 0 ? SEARCH_LIMIT.default : options.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMIT.max) {
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `limit must be from 1 to ${SEARCH_LIMIT.max}`, {
        field: 'limit',
        rule: 'range',
      });
    }
    const serial = querySerial(query, true);
    if (!options.serialOnly) requireManufacturer(query);
    return split(await this.#find(query, serial, options.serialOnly ?? false, limit), query);
  }

  /** The record with this id, from the adapter its prefix names; undefined when there is none. */
  async get(recordId: string): Promise<WeaponRecord | undefined> {
    const entry = await this.getEntry(recordId);
    if (entry && isIncomplete(entry)) throw heldIncomplete(entry);
    return entry;
  }

  /**
   * The record with this id, or the weapon held but incomplete under it; undefined when there is
   * none. A record of another registry that an officer of this node reported carries this node's
   * report as its `interest` (docs/protocol.md 13.2).
   */
  async getEntry(recordId: string): Promise<RegistryEntry | undefined> {
    const adapter = this.#adapterOf(recordId);
    const entry = await this.#ask(adapter, () => adapter.get(recordId));
    if (!entry || isIncomplete(entry) || adapter instanceof LocalRecordsAdapter) return entry;
    const own = await this.#store()?.registryReport(recordId);
    return own ? { ...entry, interest: own } : entry;
  }

  /**
   * Records of interest of the registries other than the node's own store: their records with an
   * active report of loss or theft (`interest` set) whose indexed serial `serial` matches — by
   * each adapter's `findReported`, or its `findBySerial` keeping the records with a report. At
   * most `limit`, one per record id. A registry that cannot answer fails the whole call
   * (UNAVAILABLE): a lookup must not answer "no hit" for a registry it could not read
   * (docs/protocol.md 13.4). The node's own records of interest are in its index (RecordStore).
   */
  async findOfInterest(serial: SerialPattern, limit: number): Promise<WeaponRecord[]> {
    const found = new Map<string, WeaponRecord>();
    for (const adapter of this.#ordered) {
      if (adapter instanceof LocalRecordsAdapter) continue;
      const candidates = await this.#ask(adapter, async () =>
        adapter.findReported ? adapter.findReported(serial, limit) : adapter.findBySerial(serial, MAX_CANDIDATES),
      );
      for (const candidate of candidates) {
        // A weapon held but incomplete with a valid report is still of interest: what its rows
        // give of its identity is matched like a record's (docs/protocol.md 13.4).
        const entry = isIncomplete(candidate) ? heldAsRecord(candidate) : candidate;
        if (!isOfInterest(entry.interest) || found.has(entry.recordId)) continue;
        if (!indexedSerials(entry).some((s) => serial.test(s))) continue;
        found.set(entry.recordId, entry);
        if (found.size >= limit) return [...found.values()];
      }
    }
    return [...found.values()];
  }

  /**
   * Reports a record as of interest (docs/protocol.md 13.2): a record of the node's own store as
   * `RecordStore.report` does; a record of another registry (read here: NOT_FOUND when absent,
   * INVALID_FIELD `held_incomplete` when it cannot be read whole) with the report kept by the
   * node over it (`RecordStore.reportRegistryRecord`). Returns the record with the report.
   */
  async report(recordId: string, report: Parameters<RecordStore['report']>[1]): Promise<WeaponRecord> {
    const store = this.#reportStore();
    if (this.#isOwn(recordId)) return store.report(recordId, report);
    const record = await this.#existing(this.#adapterOf(recordId), recordId);
    return store.reportRegistryRecord(record, report);
  }

  /**
   * Withdraws this node's report of a record; returns the record as it is then — for a record of
   * another registry, with the registry's own report if the registry holds one (the node cannot
   * withdraw that: it is withdrawn in the registry). The node's report on a registry record is
   * withdrawn even when the registry no longer holds the record, holds it incomplete or cannot
   * answer: then only its id is returned. Without a report of the node, those are the errors of
   * {@link get}.
   */
  async clearReport(recordId: string): Promise<WeaponRecord> {
    const store = this.#reportStore();
    if (this.#isOwn(recordId)) return store.clearReport(recordId);
    const adapter = this.#adapterOf(recordId);
    const withdrawn = await store.clearRegistryReport(recordId);
    try {
      return await this.#existing(adapter, recordId);
    } catch (error) {
      if (!withdrawn) throw error;
      this.#logger.warn(
        { recordId, code: TracenetError.from(error).codeName },
        "this node's report withdrawn; the registry record could not be read",
      );
      return WeaponRecord.fromPartial({ recordId });
    }
  }

  #isOwn(recordId: string): boolean {
    return recordId.startsWith('rec_') || recordId === '';
  }

  #store(): RecordStore | undefined {
    return (
      this.#options.records ??
      this.adapters.find((a): a is LocalRecordsAdapter => a instanceof LocalRecordsAdapter)?.records
    );
  }

  #reportStore(): RecordStore {
    const store = this.#store();
    if (!store)
      throw new TracenetError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'this node keeps no reports of interest', {
        rule: 'reports',
      });
    return store;
  }

  /** The first day a record may be deleted and why (NOT_FOUND when absent). */
  async retention(recordId: string): Promise<{ deletableFrom: string; reason: string }> {
    const adapter = this.#adapterOf(recordId);
    if (adapter instanceof LocalRecordsAdapter) return adapter.records.retention(recordId);
    const { untilMs, reason } = retentionOf(await this.#existing(adapter, recordId));
    return { deletableFrom: retentionDate(untilMs), reason };
  }

  /**
   * Deletes a record of the node's own store once its retention has passed. A record of another
   * registry is refused: RETENTION_PERIOD while it must be kept, as for the node's own records,
   * and INVALID_FIELD (rule `read_only_registry`) after — it is deleted in that registry.
   */
  async delete(recordId: string): Promise<{ recordId: string; deletableFrom: string }> {
    const adapter = this.#adapterOf(recordId);
    if (adapter instanceof LocalRecordsAdapter) return adapter.records.delete(recordId);
    const { untilMs, reason, rule } = retentionOf(await this.#existing(adapter, recordId));
    if (this.#options.clock.now() < untilMs) throw retentionRefusal(recordId, reason, untilMs, rule);
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `record ${recordId} belongs to the ${adapter.kind} registry, which the node only reads: delete it there`,
      {
        field: 'record_id',
        rule: 'read_only_registry',
      },
    );
  }

  /**
   * The entries of every adapter that the query accepts, the node's own store first, one per
   * weapon across adapters (docs/records.md 2.3): an entry that is the same weapon
   * ({@link sameWeapon}) as one an earlier adapter gave is left out — the node's own record wins,
   * being the officers' correction of the registry. Two entries of one weapon in one adapter both
   * stay: a duplicate an officer must see.
   */
  async #find(query: RecordQuery, serial: SerialPattern, serialOnly: boolean, limit: number): Promise<RegistryEntry[]> {
    const aliases = this.#options.aliases();
    const filters = identityFilters(query, aliases, serialOnly);
    const found = new Map<string, RegistryEntry>();
    const weapons = new WeaponsSeen<RegistryAdapter>();
    for (const adapter of this.#ordered) {
      const candidates = await this.#ask(adapter, () => adapter.findBySerial(serial, MAX_CANDIDATES));
      for (const entry of candidates) {
        // An adapter's own pre-filter may be looser than 11.2 (SQL normalisation): the rules decide,
        // the equalities before the serial pattern, which costs more.
        if (found.has(entry.recordId) || !accepts(entry, filters, serial)) continue;
        // One source cannot hold a weapon "elsewhere": a node with one adapter skips the identities.
        if (this.#ordered.length > 1) {
          const identity = isIncomplete(entry)
            ? identityOfIncomplete(entry, aliases)
            : identityOfRecord(entry, aliases);
          if (weapons.heldElsewhere(adapter, identity)) continue;
          weapons.add(adapter, identity);
        }
        found.set(entry.recordId, entry);
        if (found.size >= limit) return [...found.values()];
      }
    }
    return [...found.values()];
  }

  /**
   * Runs one call of an adapter. A TracenetError passes as it is; anything else (a driver's
   * connection error, an adapter's bug) means the registry could not answer: UNAVAILABLE, which
   * automatic answers retry (12.8), with the message redacted ({@link redactProblem}). Every call is reported to {@link monitor}: its latency, and
   * whether the registry answered.
   */
  async #ask<T>(adapter: RegistryAdapter, call: () => Promise<T>): Promise<T> {
    const stopwatch = this.monitor.stopwatch();
    let failure: TracenetError;
    try {
      if (!this.#opened.has(adapter)) await this.#openAdapter(adapter);
      const result = await call();
      this.monitor.succeeded(adapter.kind, stopwatch, result);
      return result;
    } catch (error) {
      // A driver's message may carry its connection URL and password, and its error object the
      // connection parameters: the error keeps the redacted message and, as cause, the code only.
      failure =
        error instanceof TracenetError
          ? error
          : new TracenetError(
              ErrorCode.ERROR_CODE_UNAVAILABLE,
              `the ${adapter.kind} registry could not answer: ${redactProblem((error as Error)?.message ?? String(error))}`,
              { cause: { code: (error as { code?: unknown } | null)?.code } },
            );
    }
    this.monitor.failed(adapter.kind, stopwatch, failure);
    throw failure;
  }

  async #openAdapter(adapter: RegistryAdapter): Promise<void> {
    await adapter.open();
    if (!this.#opened.has(adapter)) this.#logger.info({ adapter: adapter.kind }, 'registry adapter open');
    this.#opened.add(adapter);
  }

  #adapterOf(recordId: string): RegistryAdapter {
    const adapter = this.adapters.find((a) => recordId.startsWith(a.idPrefix));
    if (adapter) return adapter;
    if (recordId === '')
      throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'record_id is required', {
        field: 'record_id',
        rule: 'required',
      });
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `a record id of this node starts with ${this.adapters.map((a) => `"${a.idPrefix}"`).join(' or ')}`,
      {
        field: 'record_id',
        rule: 'record_id',
      },
    );
  }

  async #existing(adapter: RegistryAdapter, recordId: string): Promise<WeaponRecord> {
    const record = await this.#ask(adapter, () => adapter.get(recordId));
    if (!record)
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no record ${recordId}`, {
        field: 'record_id',
        rule: 'exists',
      });
    if (isIncomplete(record)) throw heldIncomplete(record);
    return record;
  }
}

/**
 * Weapon types that registries and markings confuse (docs/records.md 2.3, "close types"): a record
 * whose type differs from the query's but is in the same group is a **near match** — offered to
 * the officer, never answered automatically. Every other pair of types is different.
 */
export const CLOSE_TYPE_GROUPS: readonly (readonly WeaponType[])[] = [
  [WeaponType.WEAPON_TYPE_RIFLE, WeaponType.WEAPON_TYPE_CARBINE, WeaponType.WEAPON_TYPE_ASSAULT_RIFLE],
  [WeaponType.WEAPON_TYPE_PISTOL, WeaponType.WEAPON_TYPE_REVOLVER],
];

/** Whether two different weapon types are close ({@link CLOSE_TYPE_GROUPS}); a type is not close to itself. */
export function closeTypes(a: WeaponType, b: WeaponType): boolean {
  return a !== b && CLOSE_TYPE_GROUPS.some((group) => group.includes(a) && group.includes(b));
}

/** How a record compares with a query: the weapon asked for, a near match (close type), or neither. */
export type IdentityMatch = 'match' | 'near' | false;

/**
 * Whether a record is the weapon of a query apart from its serial (docs/records.md 2.3): the same
 * manufacturer after aliases (unless serial-only), and the same model, calibre (after aliases) and
 * type where the query gives them; a record without a model does not match a query that names
 * one. With `near`, a record that is all this but for a type close to the query's is accepted too
 * ({@link identityMatch} tells which).
 */
export function identityFilter(
  query: RecordQuery,
  aliases: AliasTable,
  serialOnly: boolean,
  near = false,
): (record: WeaponRecord) => boolean {
  const match = identityMatch(query, aliases, serialOnly);
  return near ? (record) => match(record) !== false : (record) => match(record) === 'match';
}

/** How each record compares with a query (docs/records.md 2.3): `match`, `near` (close type) or false. */
export function identityMatch(
  query: RecordQuery,
  aliases: AliasTable,
  serialOnly: boolean,
): (record: WeaponRecord) => IdentityMatch {
  const manufacturer = serialOnly ? '' : aliases.canonical(query.manufacturer);
  const model = normaliseModel(query.model);
  const calibre = aliases.canonicalCalibre(query.calibre);
  return (record) => {
    const m = record.manufacture;
    if (
      !(
        (manufacturer === '' || aliases.canonical(m?.manufacturer ?? '') === manufacturer) &&
        (model === '' || normaliseModel(m?.model ?? '') === model) &&
        (calibre === '' || aliases.canonicalCalibre(m?.calibre ?? '') === calibre)
      )
    )
      return false;
    const type = m?.type ?? 0;
    if (query.type === 0 || type === query.type) return 'match';
    return closeTypes(type, query.type) ? 'near' : false;
  };
}

/**
 * Whether an adapter's entry is a weapon the query may describe: a record by the identity rules
 * (near matches included); a weapon held but incomplete by its serial and by those parts of its
 * identity it could read (an unreadable manufacturer or type does not exclude it).
 */
function accepts(entry: RegistryEntry, filters: IdentityFilters, serial: SerialPattern): boolean {
  if (!isIncomplete(entry)) return filters.record(entry) && indexedSerials(entry).some((s) => serial.test(s));
  return heldSerials(entry).some((s) => serial.test(s)) && filters.held(entry);
}

interface IdentityFilters {
  /** A record that is the weapon asked for, or a near match ({@link split} tells them apart). */
  readonly record: (record: WeaponRecord) => boolean;
  readonly held: (entry: IncompleteRecord) => boolean;
}

function identityFilters(query: RecordQuery, aliases: AliasTable, serialOnly: boolean): IdentityFilters {
  const record = identityFilter(query, aliases, serialOnly, true);
  const manufacturer = serialOnly ? '' : aliases.canonical(query.manufacturer);
  const model = normaliseModel(query.model);
  const calibre = aliases.canonicalCalibre(query.calibre);
  // What a weapon held but incomplete could not read does not exclude it; a close type does not either.
  const same = (wanted: string, held: string) => wanted === '' || held === '' || held === wanted;
  return {
    record,
    held: ({ identity }) =>
      same(manufacturer, identity?.manufacturer ? aliases.canonical(identity.manufacturer) : '') &&
      same(model, normaliseModel(identity?.model ?? '')) &&
      same(calibre, aliases.canonicalCalibre(identity?.calibre ?? '')) &&
      (query.type === 0 || !identity?.type || identity.type === query.type || closeTypes(identity.type, query.type)),
  };
}

/** Sorts entries found for `query` into records that are the weapon, weapons held but incomplete and near matches. */
function split(entries: readonly RegistryEntry[], query: RecordQuery): Identification {
  const records: WeaponRecord[] = [];
  const incomplete: IncompleteRecord[] = [];
  const near: WeaponRecord[] = [];
  for (const entry of entries) {
    if (isIncomplete(entry)) {
      const { incomplete: _tag, ...held } = entry;
      incomplete.push(held);
    } else if (query.type !== 0 && closeTypes(entry.manufacture?.type ?? 0, query.type)) near.push(entry);
    else records.push(entry);
  }
  return { records, incomplete, near };
}

/**
 * The identity and report of a weapon held but incomplete, shaped as a record so that lookups
 * match it by the same rules: only what its rows give (no events, nothing else).
 */
function heldAsRecord(held: HeldIncomplete): WeaponRecord {
  const identity = held.identity;
  return WeaponRecord.fromPartial({
    recordId: held.recordId,
    manufacture: {
      manufacturer: identity?.manufacturer ?? '',
      serialNumber: identity?.serialNumber ?? '',
      model: identity?.model ?? '',
      calibre: identity?.calibre ?? '',
      type: identity?.type ?? 0,
    },
    ...(held.controlComponentSerial === '' ? {} : { controlComponent: { serialNumber: held.controlComponentSerial } }),
    interest: held.interest,
  });
}

/** The refusal to use a weapon held but incomplete as a record. */
function heldIncomplete(entry: HeldIncomplete): TracenetError {
  const fields = entry.problems.map((p) => p.field).join(', ');
  return new TracenetError(
    ErrorCode.ERROR_CODE_INVALID_FIELD,
    `record ${entry.recordId} is held by the ${entry.source} registry but incomplete: ${fields}`,
    { field: 'record_id', rule: 'held_incomplete' },
  );
}

function requireManufacturer(query: RecordQuery): void {
  if (normaliseName(query.manufacturer) === '') {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_MISSING_FIELD,
      'the manufacturer is required to find a weapon by identity (a serial alone is not an identity)',
      {
        field: 'query.manufacturer',
        rule: 'required',
      },
    );
  }
}

/** The query's serial: required, and usable as 11.3 and 13.4 say ({@link serialViolation}); wildcards are read only when `wildcards`. */
function querySerial(query: RecordQuery, wildcards: boolean): SerialPattern {
  if (query.serialNumber.trim() === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'the serial number is required', {
      field: 'query.serial_number',
      rule: 'required',
    });
  const serial = wildcards ? serialPattern(query.serialNumber) : serialPattern(normaliseSerial(query.serialNumber));
  const problem = serialViolation(serial);
  if (problem)
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, problem.message, {
      field: 'query.serial_number',
      rule: problem.rule,
    });
  return serial;
}
