import {
  ErrorCode,
  type FieldViolation,
  type InterestReport,
  TracenetError,
  WeaponEvent,
  WeaponEventType,
  WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { SerialPattern } from '../records/serial-pattern.js';
import { interestViolations } from '../records/interest.js';
import { parseEnum } from '../records/record-json.js';
import { normaliseSerial } from '../records/normalise.js';
import { recordViolations } from '../records/validation.js';
import {
  type HeldIncomplete,
  heldSerials,
  heldIncomplete,
  type RegistryAdapter,
  type RegistryEntry,
  type UnreadableRow,
} from './adapter.js';
import {
  columnSql,
  type ColumnRef,
  type EventField,
  mappedSource,
  mappingError,
  type MappedValue,
  type PostgresMapping,
  quoteIdentifier,
  readPostgresMapping,
  referencedColumns,
  type ReportField,
  type SectionMapping,
  tableSql,
  type WeaponField,
} from './postgres-mapping.js';

/** What {@link PostgresAdapter} needs. */
export interface PostgresAdapterOptions {
  /**
   * Connection URL, `postgres://user:password@host:5432/registry?sslmode=verify-full`; '' to take
   * everything from libpq's environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
   * PGDATABASE). Never logged, never in an error.
   */
  readonly url: string;
  readonly mapping: PostgresMapping;
  /** Most connections open at once. */
  readonly poolSize: number;
  /** Longest a statement may run, and a connection may take to open, in ms. */
  readonly statementTimeoutMs: number;
  readonly logger: Logger;
  /**
   * Weapon rows read at `open()` to check the mapping (the first by key); 1,000 by default, 0 for
   * none. When more than half of them fail on the same mapping field, the adapter does not open.
   */
  readonly sampleRows?: number;
  /** Weapon rows per page of {@link PostgresAdapter.scan}; 1,000 by default. */
  readonly pageRows?: number;
}

const DEFAULT_SAMPLE_ROWS = 1_000;
const DEFAULT_PAGE_ROWS = 1_000;

/** Record ids of this adapter start with it. */
export const POSTGRES_ID_PREFIX = 'pg_';
const PLAIN_KEY = /^[A-Za-z0-9-][A-Za-z0-9_-]{0,63}$/;
const ENCODED_MARKER = '_';

/**
 * The record id of a weapon key: `pg_` and the key when it is 1 to 64 characters of
 * `[A-Za-z0-9_-]` not starting with `_` (`pg_1042`, `pg_BE-77-A`); otherwise `pg__` and the
 * key's UTF-8 bytes in base64url (`pg__QkUvNzc` for `BE/77`). Ids thus stay in `[A-Za-z0-9_-]`
 * and every key has exactly one id.
 */
export function postgresRecordId(key: string): string {
  return PLAIN_KEY.test(key)
    ? `${POSTGRES_ID_PREFIX}${key}`
    : `${POSTGRES_ID_PREFIX}${ENCODED_MARKER}${Buffer.from(key, 'utf8').toString('base64url')}`;
}

/** The weapon key of a record id of this adapter; undefined when the id is not one. */
export function postgresRecordKey(recordId: string): string | undefined {
  if (!recordId.startsWith(POSTGRES_ID_PREFIX)) return undefined;
  const rest = recordId.slice(POSTGRES_ID_PREFIX.length);
  if (!rest.startsWith(ENCODED_MARKER)) return PLAIN_KEY.test(rest) ? rest : undefined;
  const key = Buffer.from(rest.slice(ENCODED_MARKER.length), 'base64url').toString('utf8');
  return key !== '' && postgresRecordId(key) === recordId ? key : undefined;
}

/** Where a weapon stands after each kind of event, when the registry keeps no status. */
const STATUS_AFTER: Readonly<Record<number, WeaponStatus>> = {
  [WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED]: WeaponStatus.WEAPON_STATUS_REGISTERED,
  [WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED]: WeaponStatus.WEAPON_STATUS_EXPORTED,
  [WeaponEventType.WEAPON_EVENT_TYPE_IMPORTED]: WeaponStatus.WEAPON_STATUS_REGISTERED,
  [WeaponEventType.WEAPON_EVENT_TYPE_TRANSFERRED]: WeaponStatus.WEAPON_STATUS_REGISTERED,
  [WeaponEventType.WEAPON_EVENT_TYPE_SEIZED]: WeaponStatus.WEAPON_STATUS_SEIZED,
  [WeaponEventType.WEAPON_EVENT_TYPE_FOUND]: WeaponStatus.WEAPON_STATUS_FOUND,
  [WeaponEventType.WEAPON_EVENT_TYPE_SURRENDERED]: WeaponStatus.WEAPON_STATUS_SURRENDERED,
  [WeaponEventType.WEAPON_EVENT_TYPE_LOST]: WeaponStatus.WEAPON_STATUS_LOST,
  [WeaponEventType.WEAPON_EVENT_TYPE_STOLEN]: WeaponStatus.WEAPON_STATUS_STOLEN,
  [WeaponEventType.WEAPON_EVENT_TYPE_DEACTIVATED]: WeaponStatus.WEAPON_STATUS_DEACTIVATED,
  [WeaponEventType.WEAPON_EVENT_TYPE_REACTIVATED]: WeaponStatus.WEAPON_STATUS_REGISTERED,
  [WeaponEventType.WEAPON_EVENT_TYPE_CONVERTED]: WeaponStatus.WEAPON_STATUS_REGISTERED,
  [WeaponEventType.WEAPON_EVENT_TYPE_DESTROYED]: WeaponStatus.WEAPON_STATUS_DESTROYED,
};

/** Event fields that only some event types carry (docs/records.md, events), with their proto names. */
const TYPED_EVENT_FIELDS = {
  place: 'place',
  agency: 'agency',
  destination: 'destination',
  origin: 'origin',
  licence: 'licence',
  endUser: 'end_user',
} as const;
type TypedEventField = keyof typeof TYPED_EVENT_FIELDS;
const applicableByType = new Map<number, ReadonlySet<TypedEventField>>();

/**
 * The fields an event of `type` carries. A registry's transfer row has sender and recipient,
 * countries and licence whatever its kind, but an IMPORTED event has no end user and an EXPORTED
 * one no origin; the rest of the row is left out rather than making the record invalid. The
 * answer comes from the record rules themselves (a probe record through {@link recordViolations})
 * so that it cannot drift from them.
 */
function applicableFields(type: number): ReadonlySet<TypedEventField> {
  let fields = applicableByType.get(type);
  if (!fields) {
    const event = WeaponEvent.fromPartial({
      type,
      date: '2000-01-01',
      place: 'p',
      agency: 'a',
      destination: 'AAA',
      origin: 'AAA',
      licence: 'l',
      endUser: 'u',
    });
    const probe = WeaponRecord.fromPartial({
      manufacture: { manufacturer: 'm', serialNumber: 's1', type: WeaponType.WEAPON_TYPE_OTHER },
      events: [event],
    });
    const refused = new Set(
      recordViolations(probe)
        .filter((v) => v.rule === 'not_applicable')
        .map((v) => v.field),
    );
    const names = Object.keys(TYPED_EVENT_FIELDS) as TypedEventField[];
    fields = new Set(names.filter((name) => !refused.has(`record.events[0].${TYPED_EVENT_FIELDS[name]}`)));
    applicableByType.set(type, fields);
  }
  return fields;
}

/** Rows come back as text (see the pool's type parser): what the registry holds, unconverted. */
type Row = Record<string, string | null>;

/** Every value as the server's text, so that dates stay calendar dates and bigints stay exact. */
const RAW_TEXT: pg.CustomTypesConfig = {
  getTypeParser: (() => (value: string) => value) as unknown as pg.CustomTypesConfig['getTypeParser'],
};

/** SQLSTATEs of a key that is not of the key column's type: no such record. */
const NOT_A_KEY = new Set(['22P02', '22003', '22007', '22008', '22021']);

/**
 * A problem of a weapon's rows: the record's field (`record.manufacture.type`,
 * `record.events[2].date`), the rule, and the mapping path whose column the value comes from
 * (`weapons.columns.type`). Logs get the field, rule and path only: the message of a record rule
 * may quote the row's value, which officers may see but logs must not hold.
 */
interface RowProblem {
  readonly field: string;
  readonly rule: string;
  readonly path: string;
  readonly message: string;
}

/** The record field each field of `weapons.columns` fills. */
const WEAPON_RECORD_FIELD: Readonly<Record<WeaponField, string>> = {
  manufacturer: 'record.manufacture.manufacturer',
  serialNumber: 'record.manufacture.serial_number',
  model: 'record.manufacture.model',
  calibre: 'record.manufacture.calibre',
  type: 'record.manufacture.type',
  countryOfManufacture: 'record.manufacture.country_of_manufacture',
  year: 'record.manufacture.year',
  importCountry: 'record.imports[0].country',
  importYear: 'record.imports[0].year',
  governmentTransferCountry: 'record.government_transfer.country',
  governmentTransferYear: 'record.government_transfer.year',
  controlComponentKind: 'record.control_component.kind',
  controlComponentSerial: 'record.control_component.serial_number',
  controlComponentMarking: 'record.control_component.marking',
  manufactureMethod: 'record.manufacture_method',
  status: 'record.status',
  notes: 'record.notes',
  recordedAt: 'record.recorded_at_ms',
  updatedAt: 'record.updated_at_ms',
};
const MAPPED_WEAPON_FIELD = new Map(Object.entries(WEAPON_RECORD_FIELD).map(([field, path]) => [path, field]));

/** `contactPoint` → `contact_point`. */
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** `contact_point` → `contactPoint`. */
const camel = (name: string) => name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
/** The last step of a mapping path: `events.columns.date` → `date`. */
const lastStep = (path: string) => path.slice(path.lastIndexOf('.') + 1);

/**
 * The mapping path a record field's value comes from: `record.events[2].date` →
 * `events.columns.date` (or `weapons.manufactureEvent.date` for the `derived` first events),
 * `record.interest.contact_point` → `reports.columns.contactPoint`; the section when no single
 * field is at fault.
 */
function mappingPathOf(field: string, derived: number): string {
  const event = /^record\.events\[(\d+)\](?:\.(\w+))?/.exec(field);
  if (event) {
    if (event[2] === undefined) return 'events';
    return Number(event[1]) < derived
      ? `weapons.manufactureEvent.${camel(event[2])}`
      : `events.columns.${camel(event[2])}`;
  }
  if (field.startsWith('record.events')) return 'events';
  const report = /^record\.interest\.(\w+)/.exec(field);
  if (report) return `reports.columns.${camel(report[1] ?? '')}`;
  const weapon = MAPPED_WEAPON_FIELD.get(field);
  return weapon === undefined ? 'weapons' : `weapons.columns.${weapon}`;
}

/** What a weapon's rows make: a record, or the weapon held but incomplete, with the problems by mapping path. */
type Built =
  | { readonly record: WeaponRecord; readonly problems: readonly [] }
  | { readonly held: HeldIncomplete; readonly problems: readonly RowProblem[] };

/** The key and rows of one weapon as read. */
interface WeaponRows {
  readonly key: string;
  readonly built: Built;
}

/**
 * Answers traces from an existing national registry in PostgreSQL, read-only, through a mapping
 * file ({@link PostgresMapping}) that says which tables and columns make a weapon record. The
 * record id is `pg_` and the weapon's key ({@link postgresRecordId}).
 *
 * Serials are searched in SQL on the normalised serial (the `serialNormalised` column, else
 * upper case with everything but letters and digits removed), equal or `LIKE` for a wildcard
 * pattern, on the manufacture serial and the control component's; the SQL is only a pre-filter and
 * each row found is checked again with the node's own normalisation (which also applies Unicode
 * NFKC). Events of all found weapons come in one query, oldest first, same-day events in the order
 * of the event table's key; reports (the optional `reports` section) likewise, the most recent
 * active one becoming the record's `interest`. A weapon whose rows cannot make a valid record is
 * never dropped: it is returned held but incomplete ({@link HeldIncomplete}: its identity as read,
 * each problem by record field and rule with the registry column in the message) and logged with
 * its key and the broken rules, never its contents: owners' names are personal data.
 *
 * @example
 * ```ts
 * const registry = await PostgresAdapter.fromFile('/etc/tracenet/registry-mapping.json', {
 *   url: process.env.REGISTRY_URL ?? '', poolSize: 4, statementTimeoutMs: 5_000, logger,
 * });
 * await registry.open();
 * const records = await registry.findBySerial(serialPattern('FN-1998-0042'), 100);
 * ```
 */
export class PostgresAdapter implements RegistryAdapter {
  readonly kind = 'postgres';
  readonly idPrefix = POSTGRES_ID_PREFIX;
  readonly writable = false;

  readonly #options: PostgresAdapterOptions;
  readonly #mapping: PostgresMapping;
  readonly #log: Logger;
  readonly #sql: Queries;
  /** Every mapped value by its mapping path (`weapons.columns.type`), to name its column. */
  readonly #values: ReadonlyMap<string, MappedValue>;
  #pool: pg.Pool | undefined;
  #opening: Promise<void> | undefined;

  constructor(options: PostgresAdapterOptions) {
    this.#options = options;
    this.#mapping = options.mapping;
    this.#log = options.logger.child({ component: 'registry-postgres' });
    this.#sql = buildQueries(options.mapping);
    const m = options.mapping;
    this.#values = new Map(
      [
        ...Object.values(m.weapons.columns),
        ...Object.values(m.weapons.manufactureEvent ?? {}),
        ...Object.values(m.events?.columns ?? {}),
        ...Object.values(m.reports?.columns ?? {}),
      ].flatMap((value) => (value ? [[value.path, value] as const] : [])),
    );
  }

  /** Reads the mapping file (errors name it, and the JSON path at fault) and makes the adapter. */
  static async fromFile(path: string, options: Omit<PostgresAdapterOptions, 'mapping'>): Promise<PostgresAdapter> {
    return new PostgresAdapter({ ...options, mapping: await readPostgresMapping(path) });
  }

  /**
   * Opens the pool and checks the registry: every table and column the mapping names exists
   * (INVALID_FIELD, `field` = the mapping's path, when one does not), the queries made from
   * the mapping run, and the mapping makes records of most rows (see
   * {@link PostgresAdapterOptions.sampleRows}: INVALID_FIELD naming the field and its column when
   * more than half of the first rows fail on it). UNAVAILABLE when the server cannot be reached.
   * Idempotent.
   */
  async open(): Promise<void> {
    if (this.#pool) return;
    this.#opening ??= this.#open().finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  async #open(): Promise<void> {
    const { url, poolSize, statementTimeoutMs } = this.#options;
    const pool = new pg.Pool({
      ...(url === '' ? {} : { connectionString: url }),
      max: poolSize,
      application_name: 'tracenet-registry',
      statement_timeout: statementTimeoutMs,
      query_timeout: statementTimeoutMs + 1_000,
      connectionTimeoutMillis: statementTimeoutMs,
      // The adapter only reads; a mapping can never make it write.
      options: '-c default_transaction_read_only=on',
      types: RAW_TEXT,
    });
    // An idle connection that breaks (server restart) must not bring the node down.
    pool.on('error', (error) => this.#log.warn({ code: errorCode(error) }, 'an idle registry connection failed'));
    try {
      await this.#verify(pool);
      await this.#checkSample(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    this.#pool = pool;
    this.#log.info({ tables: referencedColumns(this.#mapping).tables.length }, 'registry opened');
  }

  async #verify(pool: pg.Pool): Promise<void> {
    const { tables, columns } = referencedColumns(this.#mapping);
    const found = await this.#run(
      pool,
      'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = COALESCE($1::text, current_schema()) AND table_name = ANY($2::text[])',
      [this.#mapping.schema ?? null, [...new Set(tables.map((t) => t.table))]],
      'connecting to the registry',
    );
    const existing = new Set(found.map((r) => `${r.table_name}.${r.column_name}`));
    const inSchema =
      this.#mapping.schema === undefined ? 'in the current schema' : `in schema "${this.#mapping.schema}"`;
    for (const table of tables) {
      if (!found.some((r) => r.table_name === table.table))
        throw mappingError(table.path, `no table "${table.table}" ${inSchema} (or no right to read it)`);
    }
    for (const { table, column, path } of columns) {
      if (!existing.has(`${table.table}.${column}`))
        throw mappingError(path, `table "${table.table}" has no column "${column}"`);
    }
    // The columns exist; the queries must also make sense (types: upper() of a number, extract() of text).
    const tryQuery = async (section: string, sql: string, params: unknown[]) => {
      try {
        await pool.query(`SELECT * FROM (${sql}) AS probe LIMIT 0`, params);
      } catch (error) {
        const code = errorCode(error);
        if (code?.startsWith('42'))
          throw mappingError(
            section,
            `the registry cannot answer the query of this section: ${this.#redact(String((error as Error).message))} (${code})`,
          );
        throw this.#unavailable(error, 'checking the registry');
      }
    };
    await tryQuery('weapons', this.#sql.search.partial, ['', 0]);
    await tryQuery('weapons', this.#sql.search.exact, ['', 0]);
    if (this.#sql.events) await tryQuery('events', this.#sql.events, [[]]);
    if (this.#sql.reports) await tryQuery('reports', this.#sql.reports, [[]]);
    if (this.#sql.reported) await tryQuery('reports', this.#sql.reported.exact, ['', 0, []]);
  }

  /** Releases the pool; idempotent. Later calls fail UNAVAILABLE until `open()` again. */
  async close(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) {
      await pool.end();
      this.#log.info('registry closed');
    }
  }

  /** One `SELECT 1`; UNAVAILABLE when the registry cannot answer. */
  async check(): Promise<void> {
    await this.#query('SELECT 1', []);
  }

  async findBySerial(serial: SerialPattern, limit: number): Promise<RegistryEntry[]> {
    if (limit <= 0) return [];
    const rows = serial.partial
      ? await this.#query(this.#sql.search.partial, [likePattern(serial.pattern), limit])
      : await this.#query(this.#sql.search.exact, [serial.pattern, limit]);
    return (await this.#entries(matchingRows(rows, serial))).map(entryOf);
  }

  /**
   * The records with an active report (the `reports` section) whose serial `serial` matches: the
   * SQL keeps only weapons with an active report, so a wildcard serial reads those alone. A weapon
   * held but incomplete is among them when its report is valid (its `interest`): a lookup still
   * hits it. Nothing without a `reports` section.
   */
  async findReported(serial: SerialPattern, limit: number): Promise<RegistryEntry[]> {
    const reported = this.#sql.reported;
    if (limit <= 0 || !reported) return [];
    const rows = serial.partial
      ? await this.#query(reported.partial, [likePattern(serial.pattern), limit, this.#sql.inactiveCodes])
      : await this.#query(reported.exact, [serial.pattern, limit, this.#sql.inactiveCodes]);
    return (await this.#entries(matchingRows(rows, serial)))
      .map(entryOf)
      .filter((entry) => entry.interest !== undefined);
  }

  async get(recordId: string): Promise<RegistryEntry | undefined> {
    const key = postgresRecordKey(recordId);
    if (key === undefined) return undefined;
    let rows: Row[];
    try {
      rows = await this.#query(this.#sql.byKey, [key]);
    } catch (error) {
      if (
        error instanceof TracenetError &&
        NOT_A_KEY.has(String((error.cause as { code?: unknown } | undefined)?.code))
      )
        return undefined;
      throw error;
    }
    const [found] = await this.#entries(rows);
    return found && entryOf(found);
  }

  /**
   * Every weapon row in key order, a page of {@link PostgresAdapterOptions.pageRows} at a time
   * (keyset paging: `key > last key of the page before`), with the events and reports of each
   * page; then one {@link UnreadableRow} per row without a key. A weapon with neither serial is
   * unreadable too: no search can find it.
   */
  async scan(visit: (entry: RegistryEntry | UnreadableRow) => void | Promise<void>): Promise<void> {
    const page = Math.max(1, this.#options.pageRows ?? DEFAULT_PAGE_ROWS);
    let after: string | undefined;
    for (;;) {
      const rows =
        after === undefined
          ? await this.#query(this.#sql.page.first, [page])
          : await this.#query(this.#sql.page.after, [after, page]);
      for (const weapon of await this.#entries(rows, { quiet: true })) {
        const entry = entryOf(weapon);
        const held = 'held' in weapon.built ? weapon.built.held : undefined;
        if (held && heldSerials(held).length === 0)
          await visit({ unreadable: true, key: weapon.key, problems: held.problems });
        else await visit(entry);
      }
      const last = rows.at(-1)?.k;
      if (rows.length < page || last == null) break;
      after = last;
    }
    const [count] = await this.#query(this.#sql.nullKeys, []);
    const problem = this.#problem({
      field: 'record.record_id',
      rule: 'required',
      path: 'weapons.key',
      message: 'the row has no key',
    });
    for (let i = 0; i < Number(count?.n ?? 0); i += 1) await visit({ unreadable: true, key: '', problems: [problem] });
  }

  /**
   * Refuses a mapping that makes most rows of the registry useless: reads the first weapon rows
   * by key (with their events and reports) and throws INVALID_FIELD, rule `mapping`, naming the
   * field and its column, when more than half of them fail on the same mapping field.
   */
  async #checkSample(pool: pg.Pool): Promise<void> {
    const size = this.#options.sampleRows ?? DEFAULT_SAMPLE_ROWS;
    if (size <= 0) return;
    const run = (sql: string, params: unknown[]) => this.#run(pool, sql, params, 'checking the mapping');
    const rows = await run(this.#sql.sample, [size]);
    const failing = new Map<string, { weapons: number; rules: Map<string, number> }>();
    const fail = (path: string, rule: string) => {
      let entry = failing.get(path);
      if (!entry) failing.set(path, (entry = { weapons: 0, rules: new Map() }));
      entry.weapons += 1;
      entry.rules.set(rule, (entry.rules.get(rule) ?? 0) + 1);
    };
    const keyless = rows.filter((row) => row.k == null).length;
    for (let i = 0; i < keyless; i += 1) fail('weapons.key', 'required');
    const weapons = await this.#entries(rows, { run, quiet: true });
    for (const { built } of weapons) {
      const rules = new Map<string, string>();
      for (const problem of built.problems) if (!rules.has(problem.path)) rules.set(problem.path, problem.rule);
      for (const [path, rule] of rules) fail(path, rule);
    }
    const total = weapons.length + keyless;
    const [path, worst] = [...failing].sort((a, b) => b[1].weapons - a[1].weapons)[0] ?? [];
    if (path === undefined || !worst || worst.weapons * 2 <= total) return;
    const rule = [...worst.rules].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    const what =
      rule === 'required'
        ? 'have no value'
        : rule === 'code'
          ? 'hold a code the mapping does not translate'
          : `break the rule "${rule}"`;
    const value = this.#values.get(path);
    const source = path === 'weapons.key' ? `column "${this.#mapping.weapons.key.name}"` : mappedSource(value);
    const unmapped = !value && /\.(?:columns|manufactureEvent)\./.test(path);
    const found = unmapped
      ? `not mapped, but ${worst.weapons} of ${total} weapon rows need it (rule "${rule}")`
      : `${value || path === 'weapons.key' ? `${source}: ` : ''}${worst.weapons} of ${total} weapon rows ${what}`;
    throw mappingError(path, `${found} (the first ${total} by key were read); fix the mapping or the registry`);
  }

  /**
   * What the weapon rows make (first row of each key), with the events and reports of all in one
   * query each, through `run` (the open pool's by default). A weapon held but incomplete is logged
   * unless `quiet` (the checks of `open()` and {@link scan} report them themselves).
   */
  async #entries(
    rows: readonly Row[],
    options: { run?: (sql: string, params: unknown[]) => Promise<Row[]>; quiet?: boolean } = {},
  ): Promise<WeaponRows[]> {
    const query = options.run ?? ((sql: string, params: unknown[]) => this.#query(sql, params));
    const weapons = new Map<string, Row>();
    for (const row of rows) if (row.k != null && !weapons.has(row.k)) weapons.set(row.k, row);
    if (weapons.size === 0) return [];
    const byWeapon = async (sql: string | undefined) => {
      const found = new Map<string, Row[]>();
      if (!sql) return found;
      for (const row of await query(sql, [[...weapons.keys()]])) {
        if (row.w == null) continue;
        const list = found.get(row.w);
        if (list) list.push(row);
        else found.set(row.w, [row]);
      }
      return found;
    };
    const events = await byWeapon(this.#sql.events);
    const reports = await byWeapon(this.#sql.reports);
    const result: WeaponRows[] = [];
    for (const [key, row] of weapons) {
      const built = this.#build(key, row, events.get(key) ?? [], reports.get(key) ?? []);
      if ('held' in built && !options.quiet)
        this.#log.warn(
          { weaponKey: key, problems: built.problems.map((p) => ({ field: p.field, rule: p.rule, mapping: p.path })) },
          'registry weapon held but incomplete: its rows do not make a valid record',
        );
      result.push({ key, built });
    }
    return result;
  }

  #build(key: string, row: Row, eventRows: readonly Row[], reportRows: readonly Row[]): Built {
    const problems: RowProblem[] = [];
    const w = this.#mapping.weapons;
    const c = w.columns;
    const r = new RowReader(row, problems, (value) => WEAPON_RECORD_FIELD[lastStep(value.path) as WeaponField]);

    const events: WeaponEvent[] = [];
    const made = w.manufactureEvent;
    if (made?.date) {
      const m = new RowReader(row, problems, (value) => `record.events[0].${snake(lastStep(value.path))}`);
      const date = m.date(made.date, 'm_date');
      if (date !== '') {
        events.push(
          WeaponEvent.fromPartial({
            type: WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED,
            date,
            place: m.text(made.place, 'm_place'),
            agency: m.text(made.agency, 'm_agency'),
            details: m.text(made.details, 'm_details'),
          }),
        );
      }
    }
    const derived = events.length;
    const ec = this.#mapping.events?.columns;
    for (const eventRow of ec ? eventRows : []) {
      const at = `record.events[${events.length}]`;
      const e = new RowReader(eventRow, problems, (value) => `${at}.${snake(lastStep(value.path))}`);
      const type = e.enum(ec?.type, 'c_type');
      if (type === null) continue; // a code mapped to null: not a weapon event
      const applies = applicableFields(type);
      const typed = (field: TypedEventField) => (applies.has(field) ? e.text(ec?.[field], `c_${field}`) : '');
      events.push(
        WeaponEvent.fromPartial({
          type,
          date: e.date(ec?.date, 'c_date'),
          place: typed('place'),
          agency: typed('agency'),
          destination: typed('destination'),
          origin: typed('origin'),
          licence: typed('licence'),
          endUser: typed('endUser'),
          details: e.text(ec?.details, 'c_details'),
        }),
      );
    }

    const interest = this.#interest(reportRows, problems);
    const controlSerial = r.text(c.controlComponentSerial, 'c_controlComponentSerial');
    const importCountry = r.text(c.importCountry, 'c_importCountry');
    const transferCountry = r.text(c.governmentTransferCountry, 'c_governmentTransferCountry');
    const last = events.at(-1);
    const status =
      r.enum(c.status, 'c_status') ||
      (last ? STATUS_AFTER[last.type] : undefined) ||
      WeaponStatus.WEAPON_STATUS_REGISTERED;
    const record = WeaponRecord.fromPartial({
      recordId: postgresRecordId(key),
      manufacture: {
        manufacturer: r.text(c.manufacturer, 'c_manufacturer'),
        countryOfManufacture: r.text(c.countryOfManufacture, 'c_countryOfManufacture'),
        serialNumber: r.text(c.serialNumber, 'c_serialNumber'),
        model: r.text(c.model, 'c_model'),
        type: r.enum(c.type, 'c_type') ?? 0,
        calibre: r.text(c.calibre, 'c_calibre'),
        year: r.integer(c.year, 'c_year'),
      },
      imports: importCountry === '' ? [] : [{ country: importCountry, year: r.integer(c.importYear, 'c_importYear') }],
      ...(transferCountry === ''
        ? {}
        : {
            governmentTransfer: {
              country: transferCountry,
              year: r.integer(c.governmentTransferYear, 'c_governmentTransferYear'),
            },
          }),
      ...(controlSerial === ''
        ? {}
        : {
            controlComponent: {
              kind: r.enum(c.controlComponentKind, 'c_controlComponentKind') ?? 0,
              serialNumber: controlSerial,
              marking: r.text(c.controlComponentMarking, 'c_controlComponentMarking'),
            },
          }),
      manufactureMethod: r.enum(c.manufactureMethod, 'c_manufactureMethod') ?? 0,
      status,
      events,
      recordedAtMs: r.integer(c.recordedAt, 'c_recordedAt'),
      updatedAtMs: r.integer(c.updatedAt, 'c_updatedAt'),
      notes: r.text(c.notes, 'c_notes'),
      ...(interest ? { interest } : {}),
    });
    // The record rules, but for the id: `pg_` ids are this adapter's, not the node store's `rec_`.
    for (const v of recordViolations({ ...record, recordId: '' }))
      problems.push({ field: v.field, rule: v.rule, path: mappingPathOf(v.field, derived), message: v.message });
    if (problems.length === 0) return { record, problems: [] };
    // One problem per record field: a code the mapping cannot read is also a missing value.
    const seen = new Set<string>();
    const unique = problems.filter((p) => !seen.has(p.field) && seen.add(p.field));
    return {
      held: heldIncomplete(
        record,
        unique.map((p) => this.#problem(p)),
        this.kind,
      ),
      problems: unique,
    };
  }

  /**
   * The most recent active report of a weapon's report rows (ordered by date, then key): a row
   * whose category is not mapped to null and whose `withdrawn` is empty. An active row that
   * breaks the report rules (docs/protocol.md 13.2) adds its problems: the weapon is then held
   * but incomplete, never shown as unreported.
   */
  #interest(rows: readonly Row[], problems: RowProblem[]): InterestReport | undefined {
    const rc = this.#mapping.reports?.columns;
    if (!rc) return undefined;
    let interest: InterestReport | undefined;
    for (const row of rows) {
      const found: RowProblem[] = [];
      const q = new RowReader(row, found, (value) => `record.interest.${snake(lastStep(value.path))}`);
      const category = q.enum(rc.category, 'c_category');
      if (category === null || q.text(rc.withdrawn, 'c_withdrawn') !== '') continue;
      const report: InterestReport = {
        category,
        date: q.date(rc.date, 'c_date'),
        agency: q.text(rc.agency, 'c_agency'),
        reference: q.text(rc.reference, 'c_reference'),
        contactPoint: q.text(rc.contactPoint, 'c_contactPoint'),
      };
      for (const v of interestViolations(report, { prefix: 'record.interest' }))
        found.push({ field: v.field, rule: v.rule, path: mappingPathOf(v.field, 0), message: v.message });
      if (found.length === 0) interest = report;
      problems.push(...found);
    }
    return interest;
  }

  /** A problem as an officer reads it: the record field and rule, the registry column and mapping path in the message. */
  #problem(p: RowProblem): FieldViolation {
    const source =
      p.path === 'weapons.key' ? `column "${this.#mapping.weapons.key.name}"` : mappedSource(this.#values.get(p.path));
    return { field: p.field, rule: p.rule, message: `${source} (${p.path}): ${p.message}` };
  }

  /** A query on the open pool; driver errors become UNAVAILABLE. */
  async #query(sql: string, params: unknown[]): Promise<Row[]> {
    const pool = this.#pool;
    if (!pool) throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the PostgreSQL registry is not open');
    return this.#run(pool, sql, params);
  }

  async #run(pool: pg.Pool, sql: string, params: unknown[], what = 'a registry query'): Promise<Row[]> {
    try {
      return (await pool.query<Row>(sql, params)).rows;
    } catch (error) {
      throw this.#unavailable(error, what);
    }
  }

  /**
   * UNAVAILABLE (retryable) for a driver error, with the driver's message and code but never the
   * connection URL or password, and as `cause` only the code (the driver's error object holds
   * the connection parameters).
   */
  #unavailable(error: unknown, what: string): TracenetError {
    if (error instanceof TracenetError) return error;
    const code = errorCode(error);
    const message = this.#redact(error instanceof Error ? error.message : String(error));
    return new TracenetError(
      ErrorCode.ERROR_CODE_UNAVAILABLE,
      `the PostgreSQL registry is unavailable: ${what} failed: ${message}${code ? ` (${code})` : ''}`,
      { cause: { code } },
    );
  }

  #redact(message: string): string {
    const secrets = new Set<string>();
    const { url } = this.#options;
    if (url !== '') {
      secrets.add(url);
      try {
        const password = new URL(url).password;
        if (password !== '') {
          secrets.add(password);
          secrets.add(decodeURIComponent(password));
        }
      } catch {
        // Not a URL the WHATWG parser reads (a libpq key=value string): the whole text is hidden all the same.
      }
    }
    if (process.env.PGPASSWORD) secrets.add(process.env.PGPASSWORD);
    let text = message;
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) text = text.split(secret).join('***');
    return text;
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A serial pattern (`AB12?4*`) as LIKE: `?` is `_`, `*` is `%`, and the escape character `!`,
 * `%` and `_` are escaped (normalised literals are letters and digits, so this is only care).
 */
export function likePattern(pattern: string): string {
  let like = '';
  for (const ch of pattern) {
    if (ch === '?') like += '_';
    else if (ch === '*') like += '%';
    else if (ch === '!' || ch === '%' || ch === '_') like += `!${ch}`;
    else like += ch;
  }
  return like;
}

/** Rows whose serial the node's own normalisation matches: the SQL normalisation knows neither NFKC nor every alphabet. */
function matchingRows(rows: readonly Row[], serial: SerialPattern): Row[] {
  return rows.filter((row) =>
    [row.c_serialNumber, row.c_controlComponentSerial].some(
      (value) => value != null && serial.test(normaliseSerial(value)),
    ),
  );
}

function entryOf({ built }: WeaponRows): RegistryEntry {
  return 'record' in built ? built.record : built.held;
}

/** Reads the mapped fields of one row; a value that cannot be read adds a problem. */
class RowReader {
  constructor(
    private readonly row: Row,
    private readonly problems: RowProblem[],
    /** The record field a mapped value fills. */
    private readonly fieldOf: (value: MappedValue) => string,
  ) {}

  #raw(value: MappedValue | undefined, alias: string): string | number | null {
    if (!value) return null;
    if (value.source === 'const') return value.value;
    return this.row[alias] ?? null;
  }

  /** The mapping's translation of a code, when it lists it. */
  #translated(value: MappedValue, code: string): { to: string | number | null } | undefined {
    return value.source === 'column' && value.values.has(code) ? { to: value.values.get(code) ?? null } : undefined;
  }

  #fail(value: MappedValue, rule: string, message: string): void {
    this.problems.push({ field: this.fieldOf(value), rule, path: value.path, message });
  }

  text(value: MappedValue | undefined, alias: string): string {
    const raw = this.#raw(value, alias);
    if (!value || raw === null) return '';
    const text = String(raw).trim();
    const translated = this.#translated(value, text);
    return translated ? String(translated.to ?? '') : text;
  }

  integer(value: MappedValue | undefined, alias: string): number {
    const raw = this.#raw(value, alias);
    if (!value || raw === null || raw === '') return 0;
    const translated = this.#translated(value, String(raw).trim());
    const n = Number(translated ? translated.to : raw);
    if (Number.isSafeInteger(n) && n >= 0) return n;
    this.#fail(value, 'integer', 'the registry value is not a whole number');
    return 0;
  }

  /** A calendar date from a date, timestamp or text column: its first ten characters when it starts as YYYY-MM-DD. */
  date(value: MappedValue | undefined, alias: string): string {
    const text = this.text(value, alias);
    return /^\d{4}-\d{2}-\d{2}(?:[ T]|$)/.test(text) ? text.slice(0, 10) : text;
  }

  /** The enum value of a code (its `values` entry, else the code read as an enum name); null for a code mapped to null. */
  enum(value: MappedValue | undefined, alias: string): number | null {
    const raw = this.#raw(value, alias);
    if (!value || raw === null) return 0;
    if (typeof raw === 'number') return raw;
    const code = raw.trim();
    const translated = this.#translated(value, code);
    if (translated) return translated.to === null ? null : Number(translated.to);
    const parsed = value.enumSpec ? parseEnum(value.enumSpec, code) : undefined;
    if (parsed !== undefined) return parsed;
    this.#fail(
      value,
      'code',
      `the registry code is neither in the mapping's values nor a known ${value.enumSpec?.what ?? 'value'}`,
    );
    return 0;
  }
}

/** The SQL of an adapter, made once from its mapping. */
interface Queries {
  readonly search: { readonly exact: string; readonly partial: string };
  readonly byKey: string;
  readonly events: string | undefined;
  /** Report rows of weapons ($1: their keys), oldest first. */
  readonly reports: string | undefined;
  /** As `search`, only weapons with an active report ($3: the category codes mapped to null). */
  readonly reported: { readonly exact: string; readonly partial: string } | undefined;
  /** Category codes mapped to null: not an active report. */
  readonly inactiveCodes: readonly string[];
  /** The first weapon rows by key ($1: how many), rows without a key last. */
  readonly sample: string;
  /** Keyset pages of weapon rows: the first ($1: size), the next after a key ($1: key, $2: size). */
  readonly page: { readonly first: string; readonly after: string };
  /** How many weapon rows have no key (`n`). */
  readonly nullKeys: string;
}

/** The select list of mapped columns, `<expr> AS "c_<field>"`: timestamps as Unix ms, everything else as stored. */
function selectList(values: Readonly<Partial<Record<string, MappedValue>>>, prefix: string): string[] {
  const list: string[] = [];
  for (const [field, value] of Object.entries(values)) {
    if (value?.source !== 'column') continue;
    const column = columnSql(value.column);
    const expr = value.kind === 'timestamp' ? `(extract(epoch FROM ${column}) * 1000)::bigint` : column;
    list.push(`${expr} AS ${quoteIdentifier(`${prefix}${field}`)}`);
  }
  return list;
}

function fromClause(mapping: PostgresMapping, section: SectionMapping): string {
  const joins = section.joins.map((join) => {
    const on = join.on.map((pair) => `${columnSql(pair.left)} = ${columnSql(pair.right)}`).join(' AND ');
    return `${join.type === 'inner' ? 'JOIN' : 'LEFT JOIN'} ${tableSql(mapping, join.table)} ON ${on}`;
  });
  return [`FROM ${tableSql(mapping, section.from)}`, ...joins].join(' ');
}

/** The normalised serial in SQL: the registry's own normalised column, else upper case without anything but letters and digits. */
function normalisedSerialSql(column: ColumnRef, normalised: ColumnRef | undefined): string {
  return normalised
    ? columnSql(normalised)
    : `regexp_replace(upper((${columnSql(column)})::text), '[^[:alnum:]]', '', 'g')`;
}

function buildQueries(mapping: PostgresMapping): Queries {
  const w = mapping.weapons;
  const key = columnSql(w.key);
  const select = [
    `(${key})::text AS "k"`,
    ...selectList(w.columns, 'c_'),
    ...selectList(w.manufactureEvent ?? {}, 'm_'),
  ].join(', ');
  const base = `SELECT ${select} ${fromClause(mapping, w)}`;
  const serials: string[] = [];
  const serialColumn = w.columns.serialNumber;
  if (serialColumn?.source === 'column') serials.push(normalisedSerialSql(serialColumn.column, w.serialNormalised));
  const control = w.columns.controlComponentSerial;
  if (control?.source === 'column')
    serials.push(normalisedSerialSql(control.column, w.controlComponentSerialNormalised));
  const where = (op: string) => serials.map((s) => `${s} ${op}`).join(' OR ');
  const search = (op: string) => `${base} WHERE ${where(op)} ORDER BY ${key} LIMIT $2`;
  const exact = '= $1';
  const partial = `LIKE $1 ESCAPE '!'`;

  let events: string | undefined;
  const e = mapping.events;
  if (e) {
    const weapon = columnSql(e.weapon);
    const date = e.columns.date;
    const order = [weapon, ...(date?.source === 'column' ? [columnSql(date.column)] : []), columnSql(e.key)].join(', ');
    const list = [
      `(${weapon})::text AS "w"`,
      ...selectList(e.columns as Readonly<Partial<Record<EventField, MappedValue>>>, 'c_'),
    ].join(', ');
    events = `SELECT ${list} ${fromClause(mapping, e)} WHERE ${weapon} = ANY($1) ORDER BY ${order}`;
  }

  let reports: string | undefined;
  let reported: Queries['reported'];
  const inactiveCodes: string[] = [];
  const r = mapping.reports;
  if (r) {
    const weapon = columnSql(r.weapon);
    const { category, date, withdrawn } = r.columns;
    const order = [weapon, ...(date?.source === 'column' ? [columnSql(date.column)] : []), columnSql(r.key)].join(', ');
    const list = [
      `(${weapon})::text AS "w"`,
      ...selectList(r.columns as Readonly<Partial<Record<ReportField, MappedValue>>>, 'c_'),
    ].join(', ');
    reports = `SELECT ${list} ${fromClause(mapping, r)} WHERE ${weapon} = ANY($1) ORDER BY ${order}`;
    // Active: not withdrawn, and a category not mapped to null (the adapter checks the rest).
    const active: string[] = [];
    if (withdrawn?.source === 'column') {
      const column = columnSql(withdrawn.column);
      active.push(`(${column} IS NULL OR btrim((${column})::text) = '')`);
    } else if (withdrawn?.source === 'const' && String(withdrawn.value).trim() !== '') active.push('FALSE');
    if (category?.source === 'column') {
      for (const [code, value] of category.values) if (value === null) inactiveCodes.push(code);
      active.push(`btrim((${columnSql(category.column)})::text) <> ALL($3::text[])`);
    } else active.push('cardinality($3::text[]) >= 0');
    const withReport = `(${key})::text IN (SELECT (${weapon})::text ${fromClause(mapping, r)} WHERE ${active.join(' AND ')})`;
    const searchReported = (op: string) => `${base} WHERE (${where(op)}) AND ${withReport} ORDER BY ${key} LIMIT $2`;
    reported = { exact: searchReported(exact), partial: searchReported(partial) };
  }
  return {
    search: { exact: search(exact), partial: search(partial) },
    byKey: `${base} WHERE ${key} = $1`,
    events,
    reports,
    reported,
    inactiveCodes,
    sample: `${base} ORDER BY ${key} LIMIT $1`,
    page: {
      first: `${base} WHERE ${key} IS NOT NULL ORDER BY ${key} LIMIT $1`,
      after: `${base} WHERE ${key} > $1 ORDER BY ${key} LIMIT $2`,
    },
    nullKeys: `SELECT count(*) AS "n" ${fromClause(mapping, w)} WHERE ${key} IS NULL`,
  };
}
