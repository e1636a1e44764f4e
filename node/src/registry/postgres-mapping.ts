import { readFile } from 'node:fs/promises';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import {
  COMPONENT_KIND,
  EVENT_TYPE,
  INTEREST_CATEGORY,
  MANUFACTURE_METHOD,
  WEAPON_STATUS,
  WEAPON_TYPE,
  enumChoices,
  parseEnum,
  type EnumSpec,
} from '../records/record-json.js';

/**
 * The mapping file of the PostgreSQL registry adapter: which tables and columns of an existing
 * registry make a {@link WeaponRecord} and its events, so that an integrator writes configuration,
 * not code or SQL (docs/examples/registry/postgres-mapping.json maps the example registry).
 *
 * ```json
 * {
 *   "version": 1,
 *   "weapons": {
 *     "table": "weapons", "key": "weapon_id",
 *     "columns": {
 *       "manufacturer": "make", "serialNumber": "serial_no",
 *       "type": { "column": "category", "values": { "pistol": "PISTOL", "rifle": "RIFLE" } }
 *     }
 *   },
 *   "events": {
 *     "table": "transfers", "key": "transfer_id", "weapon": "weapon_id",
 *     "joins": [{ "table": "licences", "as": "l", "type": "left", "on": { "transfers.licence_id": "l.licence_id" } }],
 *     "columns": {
 *       "type": { "column": "kind", "values": { "EXPORT": "EXPORTED", "REPAIR": null } },
 *       "date": "transfer_date", "destination": { "column": "to_country", "values": { "KE": "KEN" } },
 *       "licence": "l.licence_no"
 *     }
 *   },
 *   "reports": {
 *     "table": "signalement", "key": "id_signalement", "weapon": "id_arme",
 *     "columns": {
 *       "category": { "column": "nature", "values": { "VOL": "STOLEN", "PERTE": "LOST", "LEVEE": null } },
 *       "date": "date_faits", "agency": "service", "withdrawn": "date_levee"
 *     }
 *   }
 * }
 * ```
 *
 * - A column is `"column"` (of the section's own table) or `"alias.column"` (a table of `joins`,
 *   named by its `as`, else by its table name). Joins are structural — table, alias, `inner` or
 *   `left`, and column pairs that must be equal — never SQL text.
 * - A field is a column, `{ "column": …, "values": { code: value } }` to translate the registry's
 *   codes (into a Tracenet enum name for an enum field, into text such as `"FRA"` for `"FR"` for a
 *   text field, into a whole number for a number field; codes not listed are read as they are, an
 *   enum's as enum names, `"pistol"`), or `{ "const": value }`. An event code mapped to `null` is
 *   a row that is not a weapon event and is skipped; a report category mapped to `null` is a
 *   report that is not active (withdrawn). Searched fields (the serials) translate nothing.
 * - `reports` (optional) names the registry's reports of loss and theft: category, date and
 *   agency required, reference, contact point and `withdrawn` (a non-empty value: not active)
 *   optional. The most recent active report of a weapon becomes its `interest`.
 * - `weapons.serialNormalised` / `weapons.controlComponentSerialNormalised` name columns where the
 *   registry keeps the serial already normalised (upper case, letters and digits only), e.g.
 *   behind an index; without them the SQL normalises the serial column itself.
 * - `weapons.manufactureEvent` derives a MANUFACTURED event from the weapon's own row (for
 *   registries that keep the date of manufacture on the weapon, not among the transfers).
 * - Identifiers are `[A-Za-z_][A-Za-z0-9_]*` and are always quoted in the SQL, so they are case
 *   sensitive (`"Weapons"` is not `weapons`); `schema` names the schema of every table.
 *
 * Every mistake is an INVALID_FIELD error, rule `mapping`, whose `field` is the JSON path at
 * fault (`events.columns.type.values.EXPORT`); unknown keys are mistakes too ("$comment" keys are
 * allowed anywhere). Columns that do not exist are found when the adapter opens.
 */
export interface PostgresMapping {
  /** Schema of every table; undefined = the connection's current schema (search_path). */
  readonly schema: string | undefined;
  readonly weapons: WeaponsMapping;
  /** Undefined when the registry keeps no history (records then have no events but the derived ones). */
  readonly events: EventsMapping | undefined;
  /** Undefined when the registry keeps no reports of loss and theft (records then have no `interest`). */
  readonly reports: ReportsMapping | undefined;
}

/** A column of a section's query, by table alias, with where the mapping names it. */
export interface ColumnRef {
  readonly alias: string;
  readonly column: string;
  readonly path: string;
  /** As the mapping writes it: `categorie`, `l.licence_no`. */
  readonly name: string;
}

/** A table of a section's query. */
export interface TableRef {
  readonly table: string;
  readonly alias: string;
  readonly path: string;
}

/** A join of a section's query: `left` keeps rows without a match, `inner` drops them. */
export interface JoinMapping {
  readonly table: TableRef;
  readonly type: 'inner' | 'left';
  /** Column pairs that must be equal. */
  readonly on: readonly { readonly left: ColumnRef; readonly right: ColumnRef }[];
}

/** How a field's value is read: `text` as is (trimmed), `integer`, `date` (YYYY-MM-DD), `timestamp` (Unix ms), `enum`. */
export type FieldKind = 'text' | 'integer' | 'date' | 'timestamp' | 'enum';

/** One mapped field: a column (with its code translation) or a constant. */
export type MappedValue =
  | {
      readonly source: 'column';
      readonly path: string;
      readonly kind: FieldKind;
      readonly enumSpec: EnumSpec | undefined;
      readonly column: ColumnRef;
      /**
       * Registry code (trimmed) → value: an enum's number, or null for "skip this row" (event
       * types, report categories); text for a text or date field; a number for an integer field.
       */
      readonly values: ReadonlyMap<string, string | number | null>;
    }
  | {
      readonly source: 'const';
      readonly path: string;
      readonly kind: FieldKind;
      readonly enumSpec: EnumSpec | undefined;
      /** The value itself; for an enum, its number. */
      readonly value: string | number;
    };

interface FieldSpec {
  readonly kind: FieldKind;
  readonly enumSpec?: EnumSpec;
  readonly required?: boolean;
  /** Searched by the adapter: must be a column. */
  readonly columnOnly?: boolean;
  /** A code may map to null: the row is skipped. */
  readonly skippable?: boolean;
}

/** Where a mapped value comes from, for messages: `column "categorie"` (`"a.column"` when joined), `a constant`. */
export function mappedSource(value: MappedValue | undefined): string {
  if (!value) return 'not mapped';
  return value.source === 'const' ? 'a constant' : `column "${value.column.name}"`;
}

const TEXT: FieldSpec = { kind: 'text' };
const INTEGER: FieldSpec = { kind: 'integer' };

/** The fields of `weapons.columns`. */
export const WEAPON_FIELDS = {
  manufacturer: { kind: 'text', required: true },
  serialNumber: { kind: 'text', required: true, columnOnly: true },
  model: TEXT,
  calibre: TEXT,
  type: { kind: 'enum', enumSpec: WEAPON_TYPE, required: true },
  countryOfManufacture: TEXT,
  year: INTEGER,
  importCountry: TEXT,
  importYear: INTEGER,
  governmentTransferCountry: TEXT,
  governmentTransferYear: INTEGER,
  controlComponentKind: { kind: 'enum', enumSpec: COMPONENT_KIND },
  controlComponentSerial: { kind: 'text', columnOnly: true },
  controlComponentMarking: TEXT,
  manufactureMethod: { kind: 'enum', enumSpec: MANUFACTURE_METHOD },
  status: { kind: 'enum', enumSpec: WEAPON_STATUS },
  notes: TEXT,
  recordedAt: { kind: 'timestamp' },
  updatedAt: { kind: 'timestamp' },
} as const satisfies Record<string, FieldSpec>;

/** The fields of `events.columns`. */
export const EVENT_FIELDS = {
  type: { kind: 'enum', enumSpec: EVENT_TYPE, required: true, skippable: true },
  date: { kind: 'date', required: true },
  place: TEXT,
  agency: TEXT,
  destination: TEXT,
  origin: TEXT,
  licence: TEXT,
  endUser: TEXT,
  details: TEXT,
} as const satisfies Record<string, FieldSpec>;

/** The fields of `weapons.manufactureEvent`, read from the weapon's row. */
export const MANUFACTURE_EVENT_FIELDS = {
  date: { kind: 'date', required: true },
  place: TEXT,
  agency: TEXT,
  details: TEXT,
} as const satisfies Record<string, FieldSpec>;

/** The fields of `reports.columns`. */
export const REPORT_FIELDS = {
  category: { kind: 'enum', enumSpec: INTEREST_CATEGORY, required: true, skippable: true },
  date: { kind: 'date', required: true },
  agency: { kind: 'text', required: true },
  reference: TEXT,
  contactPoint: TEXT,
  withdrawn: TEXT,
} as const satisfies Record<string, FieldSpec>;

/** A field of `weapons.columns`: `manufacturer`, `serialNumber`, `type`, … */
export type WeaponField = keyof typeof WEAPON_FIELDS;
/** A field of `events.columns`: `type`, `date`, `destination`, … */
export type EventField = keyof typeof EVENT_FIELDS;
/** A field of `weapons.manufactureEvent`. */
export type ManufactureEventField = keyof typeof MANUFACTURE_EVENT_FIELDS;
/** A field of `reports.columns`. */
export type ReportField = keyof typeof REPORT_FIELDS;

/** What the weapons and events sections share: the table, its joins and the key of a row. */
export interface SectionMapping {
  readonly from: TableRef;
  readonly joins: readonly JoinMapping[];
  /** Unique key of a row: the weapon's key becomes its record id; an event's key orders same-day events. */
  readonly key: ColumnRef;
}

/** The `weapons` section: one row per weapon, its key the record id's. */
export interface WeaponsMapping extends SectionMapping {
  readonly serialNormalised: ColumnRef | undefined;
  readonly controlComponentSerialNormalised: ColumnRef | undefined;
  readonly columns: Readonly<Partial<Record<WeaponField, MappedValue>>>;
  readonly manufactureEvent: Readonly<Partial<Record<ManufactureEventField, MappedValue>>> | undefined;
}

/** The `events` section: one row per event of a weapon (a transfer, a loss, a seizure…). */
export interface EventsMapping extends SectionMapping {
  /** The column holding the key of the event's weapon. */
  readonly weapon: ColumnRef;
  readonly columns: Readonly<Partial<Record<EventField, MappedValue>>>;
}

/**
 * The `reports` section: one row per report of loss or theft of a weapon. Active are the rows
 * whose category is not mapped to null and whose `withdrawn` column is empty.
 */
export interface ReportsMapping extends SectionMapping {
  /** The column holding the key of the reported weapon. */
  readonly weapon: ColumnRef;
  readonly columns: Readonly<Partial<Record<ReportField, MappedValue>>>;
}

/** Identifiers the mapping accepts for tables, columns, aliases and the schema. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An identifier (already checked against {@link IDENTIFIER}) as SQL: `"name"`. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new TypeError(`not an identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** A column as SQL: `"alias"."column"`. */
export function columnSql(ref: ColumnRef): string {
  return `${quoteIdentifier(ref.alias)}.${quoteIdentifier(ref.column)}`;
}

/** A table of a FROM or JOIN clause: `"schema"."table" AS "alias"`. */
export function tableSql(mapping: PostgresMapping, ref: TableRef): string {
  const table =
    mapping.schema === undefined
      ? quoteIdentifier(ref.table)
      : `${quoteIdentifier(mapping.schema)}.${quoteIdentifier(ref.table)}`;
  return `${table} AS ${quoteIdentifier(ref.alias)}`;
}

/** One column the mapping reads, with its table and the path that names it: what `open()` checks exists. */
export interface ReferencedColumn {
  readonly table: TableRef;
  readonly column: string;
  readonly path: string;
}

/** Every table and column the mapping names, in the order of the file. */
export function referencedColumns(mapping: PostgresMapping): { tables: TableRef[]; columns: ReferencedColumn[] } {
  const tables: TableRef[] = [];
  const columns: ReferencedColumn[] = [];
  const section = (
    s: SectionMapping,
    values: readonly (MappedValue | undefined)[],
    extra: readonly (ColumnRef | undefined)[],
  ) => {
    const byAlias = new Map<string, TableRef>([[s.from.alias, s.from]]);
    tables.push(s.from);
    for (const join of s.joins) {
      byAlias.set(join.table.alias, join.table);
      tables.push(join.table);
    }
    const add = (ref: ColumnRef | undefined) => {
      const table = ref && byAlias.get(ref.alias);
      if (ref && table) columns.push({ table, column: ref.column, path: ref.path });
    };
    add(s.key);
    for (const pair of s.joins.flatMap((join) => join.on)) {
      add(pair.left);
      add(pair.right);
    }
    extra.forEach(add);
    for (const value of values) if (value?.source === 'column') add(value.column);
  };
  const w = mapping.weapons;
  section(
    w,
    [...Object.values(w.columns), ...Object.values(w.manufactureEvent ?? {})],
    [w.serialNormalised, w.controlComponentSerialNormalised],
  );
  const e = mapping.events;
  if (e) section(e, Object.values(e.columns), [e.weapon]);
  const r = mapping.reports;
  if (r) section(r, Object.values(r.columns), [r.weapon]);
  return { tables, columns };
}

/** The error of a mistake in the mapping at `path`. */
export function mappingError(path: string, message: string): TracenetError {
  return new TracenetError(
    ErrorCode.ERROR_CODE_INVALID_FIELD,
    `registry mapping ${path === '' ? '' : `${path}: `}${message}`,
    { field: path, rule: 'mapping' },
  );
}

/**
 * Reads and checks a mapping (the parsed JSON). Throws the INVALID_FIELD error of the first
 * mistake, its `field` the JSON path (`weapons.columns.type.values.pistol`).
 *
 * @example
 * ```ts
 * const mapping = parsePostgresMapping(JSON.parse(await readFile('postgres-mapping.json', 'utf8')));
 * ```
 */
export function parsePostgresMapping(json: unknown): PostgresMapping {
  const root = object(json, '', ['version', 'schema', 'weapons', 'events', 'reports']);
  if (root.version !== undefined && root.version !== 1)
    throw mappingError('version', `only version 1 is known, not ${JSON.stringify(root.version)}`);
  const schema = root.schema === undefined ? undefined : identifier(root.schema, 'schema');
  if (root.weapons === undefined) throw mappingError('weapons', 'the weapons section is required');
  const weapons = parseWeapons(root.weapons);
  const events = root.events === undefined ? undefined : parseEvents(root.events);
  const reports = root.reports === undefined ? undefined : parseReports(root.reports);
  return { schema, weapons, events, reports };
}

/**
 * Reads a mapping file: {@link parsePostgresMapping} with the file named in every error
 * (`field` stays the JSON path; '' when the file cannot be read or is not JSON).
 */
export async function readPostgresMapping(file: string): Promise<PostgresMapping> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw mappingError('', `file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw mappingError('', `file ${file} is not JSON: ${(error as Error).message}`);
  }
  try {
    return parsePostgresMapping(json);
  } catch (error) {
    if (!(error instanceof TracenetError)) throw error;
    throw new TracenetError(error.code, `${error.message} (in ${file})`, { field: error.field, rule: error.rule });
  }
}

// --- parsing ---------------------------------------------------------------------------------

/** A JSON path step: `.name`, or `["a name"]` when the key is not a plain name. */
function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const step = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (path === '') return step.startsWith('[') ? `$${step}` : step;
  return step.startsWith('[') ? `${path}${step}` : `${path}.${step}`;
}

function object(value: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw mappingError(path, `must be a JSON object, not ${describe(value)}`);
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== '$comment' && !keys.includes(key))
      throw mappingError(at(path, key), `unknown key (known: ${keys.join(', ')})`);
  }
  return record;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : JSON.stringify(value);
}

function identifier(value: unknown, path: string): string {
  if (typeof value !== 'string') throw mappingError(path, `must be a name (text), not ${describe(value)}`);
  if (!IDENTIFIER.test(value))
    throw mappingError(
      path,
      `${JSON.stringify(value)} is not an identifier: letters, digits and _, not starting with a digit`,
    );
  return value;
}

/** Table aliases a section's column references may use. */
interface Scope {
  readonly main: string;
  readonly aliases: ReadonlySet<string>;
}

function columnRef(value: unknown, path: string, scope: Scope): ColumnRef {
  if (typeof value !== 'string')
    throw mappingError(path, `must be a column name ("column" or "alias.column"), not ${describe(value)}`);
  const parts = value.split('.');
  if (parts.length > 2) throw mappingError(path, `${JSON.stringify(value)} is not "column" or "alias.column"`);
  const [first = '', second] = parts;
  const alias = second === undefined ? scope.main : identifier(first, path);
  const column = identifier(second ?? first, path);
  if (!scope.aliases.has(alias))
    throw mappingError(
      path,
      `no table is called ${JSON.stringify(alias)} here (known: ${[...scope.aliases].join(', ')})`,
    );
  return { alias, column, path, name: value };
}

function tableRef(section: Record<string, unknown>, path: string, asKey: 'as'): TableRef {
  const table = identifier(section.table, at(path, 'table'));
  const alias = section[asKey] === undefined ? table : identifier(section[asKey], at(path, asKey));
  return { table, alias, path: at(path, 'table') };
}

/** The table, joins and key of a section, and the scope its columns are named in. */
function parseSection(section: Record<string, unknown>, path: string): { base: SectionMapping; scope: Scope } {
  if (section.table === undefined) throw mappingError(at(path, 'table'), 'the table is required');
  const from = tableRef(section, path, 'as');
  const aliases = new Set([from.alias]);
  const joins: JoinMapping[] = [];
  if (section.joins !== undefined) {
    const jp = at(path, 'joins');
    if (!Array.isArray(section.joins))
      throw mappingError(jp, `must be a list of joins, not ${describe(section.joins)}`);
    section.joins.forEach((raw: unknown, i) => {
      const p = at(jp, i);
      const join = object(raw, p, ['table', 'as', 'type', 'on']);
      if (join.table === undefined) throw mappingError(at(p, 'table'), 'the table is required');
      const table = tableRef(join, p, 'as');
      if (aliases.has(table.alias))
        throw mappingError(
          join.as === undefined ? at(p, 'table') : at(p, 'as'),
          `the name ${JSON.stringify(table.alias)} is taken: give this join another "as"`,
        );
      aliases.add(table.alias);
      const type = join.type ?? 'left';
      if (type !== 'left' && type !== 'inner')
        throw mappingError(at(p, 'type'), `must be "left" or "inner", not ${describe(type)}`);
      const onPath = at(p, 'on');
      if (typeof join.on !== 'object' || join.on === null || Array.isArray(join.on))
        throw mappingError(onPath, `must be a JSON object of "column": "column" pairs, not ${describe(join.on)}`);
      const on = join.on as Record<string, unknown>;
      const scope = { main: from.alias, aliases };
      const pairs = Object.entries(on)
        .filter(([key]) => key !== '$comment')
        .map(([left, right]) => ({
          left: columnRef(left, at(onPath, left), scope),
          right: columnRef(right, at(onPath, left), scope),
        }));
      if (pairs.length === 0) throw mappingError(onPath, 'name at least one pair of columns that must be equal');
      joins.push({ table, type, on: pairs });
    });
  }
  const scope: Scope = { main: from.alias, aliases };
  if (section.key === undefined) throw mappingError(at(path, 'key'), 'the key column (unique per row) is required');
  return { base: { from, joins, key: columnRef(section.key, at(path, 'key'), scope) }, scope };
}

function enumValue(spec: EnumSpec, raw: unknown, path: string, skippable: boolean): number | null {
  if (raw === null && skippable) return null;
  const value = typeof raw === 'string' ? parseEnum(spec, raw) : undefined;
  if (value === undefined || value === 0) {
    const skip = skippable ? ', or null to skip such rows' : '';
    throw mappingError(
      path,
      `${describe(raw)} is not a ${spec.what}: one of ${enumChoices(spec).join(', ')} (in capitals or not)${skip}`,
    );
  }
  return value;
}

function mappedValue(raw: unknown, path: string, spec: FieldSpec, scope: Scope): MappedValue {
  const enumSpec = spec.enumSpec;
  const common = { path, kind: spec.kind, enumSpec };
  if (typeof raw === 'string')
    return { ...common, source: 'column', column: columnRef(raw, path, scope), values: new Map() };
  const o = object(raw, path, ['column', 'values', 'const']);
  if (o.const !== undefined) {
    if (o.column !== undefined || o.values !== undefined)
      throw mappingError(path, 'a field is a "column" (with "values") or a "const", not both');
    const cp = at(path, 'const');
    if (spec.columnOnly) throw mappingError(cp, 'this field is searched, so it must be a column');
    let value: string | number;
    if (enumSpec) value = enumValue(enumSpec, o.const, cp, false) as number;
    else if (spec.kind === 'integer') {
      if (typeof o.const !== 'number' || !Number.isInteger(o.const) || o.const < 0)
        throw mappingError(cp, `must be a whole number, not ${describe(o.const)}`);
      value = o.const;
    } else if (spec.kind === 'timestamp') throw mappingError(cp, 'a time must be a column');
    else {
      if (typeof o.const !== 'string') throw mappingError(cp, `must be text, not ${describe(o.const)}`);
      value = o.const;
    }
    return { ...common, source: 'const', value };
  }
  if (o.column === undefined)
    throw mappingError(at(path, 'column'), 'a field is a column name, { "column": … } or { "const": … }');
  const column = columnRef(o.column, at(path, 'column'), scope);
  const values = new Map<string, string | number | null>();
  if (o.values !== undefined) {
    const vp = at(path, 'values');
    if (spec.columnOnly)
      throw mappingError(vp, 'this field is searched as the registry holds it: no codes to translate');
    if (spec.kind === 'timestamp') throw mappingError(vp, 'a time is read as it is: no codes to translate');
    if (typeof o.values !== 'object' || o.values === null || Array.isArray(o.values))
      throw mappingError(vp, `must be a JSON object of code: value, not ${describe(o.values)}`);
    for (const [code, to] of Object.entries(o.values)) {
      if (code === '$comment') continue;
      const cp = at(vp, code);
      if (enumSpec) values.set(code.trim(), enumValue(enumSpec, to, cp, spec.skippable === true));
      else if (spec.kind === 'integer') {
        if (typeof to !== 'number' || !Number.isSafeInteger(to) || to < 0)
          throw mappingError(cp, `must be a whole number, not ${describe(to)}`);
        values.set(code.trim(), to);
      } else {
        if (typeof to !== 'string') throw mappingError(cp, `must be text, not ${describe(to)}`);
        values.set(code.trim(), to);
      }
    }
  }
  return { ...common, source: 'column', column, values };
}

function fields<K extends string>(
  raw: unknown,
  path: string,
  specs: Readonly<Record<K, FieldSpec>>,
  scope: Scope,
): Partial<Record<K, MappedValue>> {
  const names = Object.keys(specs) as K[];
  const o = object(raw, path, names);
  const result: Partial<Record<K, MappedValue>> = {};
  for (const name of names) {
    const spec: FieldSpec = specs[name];
    if (o[name] === undefined) {
      if (spec.required) throw mappingError(at(path, name), 'this field is required');
      continue;
    }
    result[name] = mappedValue(o[name], at(path, name), spec, scope);
  }
  return result;
}

function parseWeapons(raw: unknown): WeaponsMapping {
  const path = 'weapons';
  const w = object(raw, path, [
    'table',
    'as',
    'key',
    'joins',
    'serialNormalised',
    'controlComponentSerialNormalised',
    'columns',
    'manufactureEvent',
  ]);
  const { base, scope } = parseSection(w, path);
  const optionalRef = (key: string) => (w[key] === undefined ? undefined : columnRef(w[key], at(path, key), scope));
  const serialNormalised = optionalRef('serialNormalised');
  const controlComponentSerialNormalised = optionalRef('controlComponentSerialNormalised');
  if (w.columns === undefined) throw mappingError(at(path, 'columns'), 'the columns of a weapon are required');
  const columns = fields(w.columns, at(path, 'columns'), WEAPON_FIELDS, scope);
  const cp = at(path, 'columns');
  const needs = (field: WeaponField, other: WeaponField) => {
    if (columns[other] !== undefined && columns[field] === undefined)
      throw mappingError(at(cp, field), `required when ${other} is mapped`);
  };
  needs('controlComponentKind', 'controlComponentSerial');
  needs('controlComponentSerial', 'controlComponentKind');
  needs('controlComponentSerial', 'controlComponentMarking');
  needs('importCountry', 'importYear');
  needs('governmentTransferCountry', 'governmentTransferYear');
  if (controlComponentSerialNormalised && !columns.controlComponentSerial)
    throw mappingError(at(path, 'controlComponentSerialNormalised'), 'needs columns.controlComponentSerial');
  const manufactureEvent =
    w.manufactureEvent === undefined
      ? undefined
      : fields(w.manufactureEvent, at(path, 'manufactureEvent'), MANUFACTURE_EVENT_FIELDS, scope);
  return { ...base, serialNormalised, controlComponentSerialNormalised, columns, manufactureEvent };
}

function parseEvents(raw: unknown): EventsMapping {
  const path = 'events';
  const e = object(raw, path, ['table', 'as', 'key', 'weapon', 'joins', 'columns']);
  const { base, scope } = parseSection(e, path);
  if (e.weapon === undefined) throw mappingError(at(path, 'weapon'), "the column holding the weapon's key is required");
  const weapon = columnRef(e.weapon, at(path, 'weapon'), scope);
  if (e.columns === undefined) throw mappingError(at(path, 'columns'), 'the columns of an event are required');
  return { ...base, weapon, columns: fields(e.columns, at(path, 'columns'), EVENT_FIELDS, scope) };
}

function parseReports(raw: unknown): ReportsMapping {
  const path = 'reports';
  const r = object(raw, path, ['table', 'as', 'key', 'weapon', 'joins', 'columns']);
  const { base, scope } = parseSection(r, path);
  if (r.weapon === undefined)
    throw mappingError(at(path, 'weapon'), "the column holding the reported weapon's key is required");
  const weapon = columnRef(r.weapon, at(path, 'weapon'), scope);
  if (r.columns === undefined) throw mappingError(at(path, 'columns'), 'the columns of a report are required');
  return { ...base, weapon, columns: fields(r.columns, at(path, 'columns'), REPORT_FIELDS, scope) };
}
