import {
  ErrorCode,
  type FieldViolation,
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
import { parseEnum } from '../records/record-json.js';
import { normaliseSerial } from '../records/normalise.js';
import { recordViolations } from '../records/validation.js';
import type { RegistryAdapter } from './adapter.js';
import {
  columnSql,
  type ColumnRef,
  type EventField,
  mappingError,
  type MappedValue,
  type PostgresMapping,
  quoteIdentifier,
  readPostgresMapping,
  referencedColumns,
  type SectionMapping,
  tableSql,
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
}

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

/** A violation of a row, named by the mapping's path; never with the row's values. */
type RowViolation = Pick<FieldViolation, 'field' | 'rule'>;

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
 * of the event table's key. A weapon whose row cannot make a valid record is skipped with a
 * warning that names its key and the broken rules, never its contents: owners' names are personal
 * data.
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
  #pool: pg.Pool | undefined;
  #opening: Promise<void> | undefined;

  constructor(options: PostgresAdapterOptions) {
    this.#options = options;
    this.#mapping = options.mapping;
    this.#log = options.logger.child({ component: 'registry-postgres' });
    this.#sql = buildQueries(options.mapping);
  }

  /** Reads the mapping file (errors name it, and the JSON path at fault) and makes the adapter. */
  static async fromFile(path: string, options: Omit<PostgresAdapterOptions, 'mapping'>): Promise<PostgresAdapter> {
    return new PostgresAdapter({ ...options, mapping: await readPostgresMapping(path) });
  }

  /**
   * Opens the pool and checks the registry: every table and column the mapping names exists
   * (INVALID_FIELD, `field` = the mapping's path, when one does not), and the queries made from
   * the mapping run. UNAVAILABLE when the server cannot be reached. Idempotent.
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

  async findBySerial(serial: SerialPattern, limit: number): Promise<WeaponRecord[]> {
    if (limit <= 0) return [];
    const rows = serial.partial
      ? await this.#query(this.#sql.search.partial, [likePattern(serial.pattern), limit])
      : await this.#query(this.#sql.search.exact, [serial.pattern, limit]);
    // The SQL normalisation knows neither NFKC nor every alphabet: the node's normalisation decides.
    const matching = rows.filter((row) =>
      [row.c_serialNumber, row.c_controlComponentSerial].some(
        (value) => value != null && serial.test(normaliseSerial(value)),
      ),
    );
    return this.#records(matching);
  }

  async get(recordId: string): Promise<WeaponRecord | undefined> {
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
    return (await this.#records(rows))[0];
  }

  /** Complete records of weapon rows (first row of each key), with the events of all in one query. */
  async #records(rows: readonly Row[]): Promise<WeaponRecord[]> {
    const weapons = new Map<string, Row>();
    for (const row of rows) if (row.k != null && !weapons.has(row.k)) weapons.set(row.k, row);
    if (weapons.size === 0) return [];
    const events = new Map<string, Row[]>();
    if (this.#sql.events) {
      for (const row of await this.#query(this.#sql.events, [[...weapons.keys()]])) {
        if (row.w == null) continue;
        const list = events.get(row.w);
        if (list) list.push(row);
        else events.set(row.w, [row]);
      }
    }
    const records: WeaponRecord[] = [];
    for (const [key, row] of weapons) {
      const built = this.#record(key, row, events.get(key) ?? []);
      if ('record' in built) records.push(built.record);
      else
        this.#log.warn(
          { weaponKey: key, violations: built.violations },
          'registry weapon skipped: its rows do not make a valid record',
        );
    }
    return records;
  }

  #record(key: string, row: Row, eventRows: readonly Row[]): { record: WeaponRecord } | { violations: RowViolation[] } {
    const violations: RowViolation[] = [];
    const r = new RowReader(row, violations);
    const w = this.#mapping.weapons;
    const c = w.columns;

    const events: WeaponEvent[] = [];
    const made = w.manufactureEvent;
    if (made?.date) {
      const date = r.date(made.date, 'm_date');
      if (date !== '') {
        events.push(
          WeaponEvent.fromPartial({
            type: WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED,
            date,
            place: r.text(made.place, 'm_place'),
            agency: r.text(made.agency, 'm_agency'),
            details: r.text(made.details, 'm_details'),
          }),
        );
      }
    }
    const ec = this.#mapping.events?.columns;
    for (const eventRow of ec ? eventRows : []) {
      const e = new RowReader(eventRow, violations);
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
    });
    // The record rules, but for the id: `pg_` ids are this adapter's, not the node store's `rec_`.
    for (const v of recordViolations({ ...record, recordId: '' })) violations.push({ field: v.field, rule: v.rule });
    return violations.length === 0 ? { record } : { violations };
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

/** Reads the mapped fields of one row; a value that cannot be read adds a violation. */
class RowReader {
  constructor(
    private readonly row: Row,
    private readonly violations: RowViolation[],
  ) {}

  #raw(value: MappedValue | undefined, alias: string): string | number | null {
    if (!value) return null;
    if (value.source === 'const') return value.value;
    return this.row[alias] ?? null;
  }

  text(value: MappedValue | undefined, alias: string): string {
    const raw = this.#raw(value, alias);
    return raw === null ? '' : String(raw).trim();
  }

  integer(value: MappedValue | undefined, alias: string): number {
    const raw = this.#raw(value, alias);
    if (raw === null || raw === '') return 0;
    const n = Number(raw);
    if (Number.isSafeInteger(n) && n >= 0) return n;
    this.violations.push({ field: value?.path ?? alias, rule: 'integer' });
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
    if (value.source === 'column' && value.values.has(code)) return value.values.get(code) ?? null;
    const parsed = value.enumSpec ? parseEnum(value.enumSpec, code) : undefined;
    if (parsed !== undefined) return parsed;
    this.violations.push({ field: value.path, rule: 'code' });
    return 0;
  }
}

/** The SQL of an adapter, made once from its mapping. */
interface Queries {
  readonly search: { readonly exact: string; readonly partial: string };
  readonly byKey: string;
  readonly events: string | undefined;
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
  return {
    search: { exact: search('= $1'), partial: search(`LIKE $1 ESCAPE '!'`) },
    byKey: `${base} WHERE ${key} = $1`,
    events,
  };
}
