import {
  ComponentKind,
  DestructionState,
  type FieldViolation,
  InterestCategory,
  ItemCategory,
  ManufactureMethod,
  ReexportCondition,
  SeizureCircumstance,
  WeaponEventType,
  type WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';

/**
 * The JSON form of a {@link WeaponRecord}: the proto3 JSON mapping, so that a record written by
 * any protobuf library reads back here. The generated `WeaponRecord.fromJSON` is not used for
 * input because it is lenient by design: it ignores unknown fields, coerces wrong types with
 * `String(...)` and cannot say which field was wrong — an import must report each mistake with
 * its field path instead of storing something else than the officer wrote.
 *
 * Reading accepts lowerCamelCase (`serialNumber`) and the proto names (`serial_number`), enum
 * values by full name (`WEAPON_TYPE_PISTOL`), short name in any case (`pistol`, `3d-printed`) or
 * number, and numbers given as strings. Unknown fields are refused: a misspelt field must not
 * silently drop data. Writing gives lowerCamelCase, full enum names and omits default values.
 */

/** A protobuf enum of the records contract, with the prefix its value names share. */
export interface EnumSpec {
  /** Human name used in messages, e.g. "weapon type". */
  readonly what: string;
  readonly prefix: string;
  readonly values: Readonly<Record<string | number, string | number>>;
}

/** The enums of a record, for {@link parseEnum}, {@link enumShortName} and {@link enumChoices}. */
export const WEAPON_TYPE: EnumSpec = { what: 'weapon type', prefix: 'WEAPON_TYPE_', values: WeaponType };
export const MANUFACTURE_METHOD: EnumSpec = {
  what: 'manufacture method',
  prefix: 'MANUFACTURE_METHOD_',
  values: ManufactureMethod,
};
export const WEAPON_STATUS: EnumSpec = { what: 'status', prefix: 'WEAPON_STATUS_', values: WeaponStatus };
export const EVENT_TYPE: EnumSpec = { what: 'event type', prefix: 'WEAPON_EVENT_TYPE_', values: WeaponEventType };
export const COMPONENT_KIND: EnumSpec = { what: 'component kind', prefix: 'COMPONENT_KIND_', values: ComponentKind };
export const INTEREST_CATEGORY: EnumSpec = {
  what: 'interest category',
  prefix: 'INTEREST_CATEGORY_',
  values: InterestCategory,
};

/** The enums of the fields of docs/protocol.md 19 and 18 (item category, circumstance, destruction, undertaking). */
export const ITEM_CATEGORY: EnumSpec = { what: 'item category', prefix: 'ITEM_CATEGORY_', values: ItemCategory };
export const SEIZURE_CIRCUMSTANCE: EnumSpec = {
  what: 'circumstance of seizure',
  prefix: 'SEIZURE_CIRCUMSTANCE_',
  values: SeizureCircumstance,
};
export const DESTRUCTION_STATE: EnumSpec = {
  what: 'destruction state',
  prefix: 'DESTRUCTION_STATE_',
  values: DestructionState,
};
export const REEXPORT_CONDITION: EnumSpec = {
  what: 're-export condition',
  prefix: 'REEXPORT_CONDITION_',
  values: ReexportCondition,
};

/** Whether `value` is a named member of the enum other than UNRECOGNIZED (-1). */
export function isEnumMember(spec: EnumSpec, value: number): boolean {
  return value >= 0 && typeof spec.values[value] === 'string';
}

/**
 * Reads an enum value: a number, the full name, or the short name in any case, with spaces, dashes
 * or nothing for underscores (`sub-machine gun`, `submachine_gun`). Empty text is the UNSPECIFIED
 * value (0). Undefined when unknown.
 *
 * @example
 * ```ts
 * parseEnum(WEAPON_TYPE, 'assault rifle'); // WeaponType.WEAPON_TYPE_ASSAULT_RIFLE
 * parseEnum(MANUFACTURE_METHOD, '3D-printed'); // ManufactureMethod.MANUFACTURE_METHOD_3D_PRINTED
 * ```
 */
export function parseEnum(spec: EnumSpec, raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isInteger(raw) && isEnumMember(spec, raw) ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  let known = parsedNames.get(spec);
  if (!known) parsedNames.set(spec, (known = new Map()));
  if (known.has(raw)) return known.get(raw);
  const text = raw
    .trim()
    .toUpperCase()
    .replace(/[\s_-]+/g, '');
  let result: number | undefined;
  if (text === '') result = 0;
  else if (/^\d+$/.test(text)) result = parseEnum(spec, Number(text));
  else result = compactNames(spec).get(text);
  // Imports repeat a handful of spellings; remember them (bounded, since the text is the file's).
  if (known.size < 1000) known.set(raw, result);
  return result;
}

const parsedNames = new Map<EnumSpec, Map<string, number | undefined>>();
const compactByEnum = new Map<EnumSpec, Map<string, number>>();

/** Full and short names without separators (`SUBMACHINEGUN`, `WEAPONTYPESUBMACHINEGUN`) → value. */
function compactNames(spec: EnumSpec): Map<string, number> {
  let names = compactByEnum.get(spec);
  if (!names) {
    names = new Map();
    for (const [name, value] of Object.entries(spec.values)) {
      if (typeof value !== 'number' || !isEnumMember(spec, value)) continue;
      names.set(name.replace(/_/g, ''), value);
      names.set(name.slice(spec.prefix.length).replace(/_/g, ''), value);
    }
    compactByEnum.set(spec, names);
  }
  return names;
}

/** Short lower-case name of an enum value, as CSV files and the CLI write it (`assault_rifle`). */
export function enumShortName(spec: EnumSpec, value: number): string {
  const name = spec.values[value];
  return typeof name === 'string' ? name.slice(spec.prefix.length).toLowerCase() : String(value);
}

/** Short names of every value except UNSPECIFIED, for messages and docs. */
export function enumChoices(spec: EnumSpec): string[] {
  return Object.values(spec.values)
    .filter((v): v is number => typeof v === 'number' && v > 0)
    .map((v) => enumShortName(spec, v));
}

type Kind = 'string' | 'uint32' | 'int64' | 'bool' | EnumSpec | MessageSpec;

interface FieldSpec {
  /** Proto field name, used in violation paths. */
  readonly proto: string;
  /** lowerCamelCase JSON name, which is also the ts-proto property name. */
  readonly json: string;
  readonly kind: Kind;
  readonly repeated?: boolean;
}

interface MessageSpec {
  readonly fields: readonly FieldSpec[];
  readonly create: () => Record<string, unknown>;
}

const camel = (proto: string) => proto.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const field = (proto: string, kind: Kind, repeated = false): FieldSpec => ({
  proto,
  json: camel(proto),
  kind,
  repeated,
});

const MANUFACTURE: MessageSpec = {
  fields: [
    field('manufacturer', 'string'),
    field('country_of_manufacture', 'string'),
    field('serial_number', 'string'),
    field('model', 'string'),
    field('type', WEAPON_TYPE),
    field('calibre', 'string'),
    field('year', 'uint32'),
  ],
  create: () => ({
    manufacturer: '',
    countryOfManufacture: '',
    serialNumber: '',
    model: '',
    type: 0,
    calibre: '',
    year: 0,
  }),
};
const COUNTRY_YEAR: MessageSpec = {
  fields: [field('country', 'string'), field('year', 'uint32')],
  create: () => ({ country: '', year: 0 }),
};
const COMPONENT: MessageSpec = {
  fields: [field('kind', COMPONENT_KIND), field('serial_number', 'string'), field('marking', 'string')],
  create: () => ({ kind: 0, serialNumber: '', marking: '' }),
};
const SECONDARY_MARK: MessageSpec = {
  fields: [field('location', 'string'), field('value', 'string')],
  create: () => ({ location: '', value: '' }),
};
const AUTHORISATION: MessageSpec = {
  fields: [field('destination', 'string'), field('date', 'string'), field('reference', 'string')],
  create: () => ({ destination: '', date: '', reference: '' }),
};
/** The end-user undertaking of an export (docs/protocol.md 18). */
const UNDERTAKING: MessageSpec = {
  fields: [
    field('condition', REEXPORT_CONDITION),
    field('certificate_reference', 'string'),
    field('end_user', 'string'),
    field('date', 'string'),
    field('authorisations', AUTHORISATION, true),
  ],
  create: () => ({ condition: 0, certificateReference: '', endUser: '', date: '', authorisations: [] }),
};
const ILLICIT_ORIGIN: MessageSpec = {
  fields: [field('date', 'string'), field('authority', 'string'), field('basis', 'string')],
  create: () => ({ date: '', authority: '', basis: '' }),
};
/** A DDR or conflict-setting collection (docs/protocol.md 19.1). */
const COLLECTION: MessageSpec = {
  fields: [
    field('programme', 'string'),
    field('collection_point', 'string'),
    field('date', 'string'),
    field('unique_mark', 'string'),
    field('conflict_setting', 'bool'),
  ],
  create: () => ({ programme: '', collectionPoint: '', date: '', uniqueMark: '', conflictSetting: false }),
};
/** A designation for destruction and the destruction (docs/protocol.md 19.1). */
const DESTRUCTION: MessageSpec = {
  fields: [
    field('state', DESTRUCTION_STATE),
    field('designated_date', 'string'),
    field('deactivated', 'bool'),
    field('destroyed_date', 'string'),
    field('method', 'string'),
    field('witnesses', 'string', true),
    field('certificate_id', 'string'),
  ],
  create: () => ({
    state: 0,
    designatedDate: '',
    deactivated: false,
    destroyedDate: '',
    method: '',
    witnesses: [],
    certificateId: '',
  }),
};
const EVENT: MessageSpec = {
  fields: [
    field('type', EVENT_TYPE),
    field('date', 'string'),
    field('place', 'string'),
    field('agency', 'string'),
    field('destination', 'string'),
    field('origin', 'string'),
    field('licence', 'string'),
    field('end_user', 'string'),
    field('details', 'string'),
    field('circumstance', SEIZURE_CIRCUMSTANCE),
    field('undertaking', UNDERTAKING),
  ],
  create: () => ({
    type: 0,
    date: '',
    place: '',
    agency: '',
    destination: '',
    origin: '',
    licence: '',
    endUser: '',
    details: '',
    circumstance: 0,
    undertaking: undefined,
  }),
};
/** The report that makes a record a record of interest (docs/protocol.md section 13). */
const INTEREST: MessageSpec = {
  fields: [
    field('category', INTEREST_CATEGORY),
    field('date', 'string'),
    field('agency', 'string'),
    field('reference', 'string'),
    field('contact_point', 'string'),
  ],
  create: () => ({ category: 0, date: '', agency: '', reference: '', contactPoint: '' }),
};
const RECORD: MessageSpec = {
  fields: [
    field('record_id', 'string'),
    field('manufacture', MANUFACTURE),
    field('imports', COUNTRY_YEAR, true),
    field('government_transfer', COUNTRY_YEAR),
    field('control_component', COMPONENT),
    field('components', COMPONENT, true),
    field('manufacture_method', MANUFACTURE_METHOD),
    field('secondary_marks', SECONDARY_MARK, true),
    field('status', WEAPON_STATUS),
    field('events', EVENT, true),
    field('recorded_at_ms', 'int64'),
    field('updated_at_ms', 'int64'),
    field('notes', 'string'),
    field('interest', INTEREST),
    field('item_category', ITEM_CATEGORY),
    field('quantity', 'uint32'),
    field('illicit_origin', ILLICIT_ORIGIN),
    field('collection', COLLECTION),
    field('destruction', DESTRUCTION),
  ],
  create: () => ({
    recordId: '',
    manufacture: undefined,
    imports: [],
    governmentTransfer: undefined,
    controlComponent: undefined,
    components: [],
    manufactureMethod: 0,
    secondaryMarks: [],
    status: 0,
    events: [],
    recordedAtMs: 0,
    updatedAtMs: 0,
    notes: '',
    itemCategory: 0,
    quantity: 0,
    illicitOrigin: undefined,
    collection: undefined,
    destruction: undefined,
    interest: undefined,
  }),
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const typeOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

function readScalar(kind: Kind, value: unknown, path: string, out: FieldViolation[]): unknown {
  if (kind === 'string') {
    if (typeof value === 'string') return value;
    out.push({ field: path, rule: 'type', message: `must be a string, not ${typeOf(value)}` });
    return '';
  }
  if (kind === 'bool') {
    if (typeof value === 'boolean') return value;
    out.push({ field: path, rule: 'type', message: `must be true or false, not ${typeOf(value)}` });
    return false;
  }
  if (kind === 'uint32' || kind === 'int64') {
    const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
    const max = kind === 'uint32' ? 0xffff_ffff : Number.MAX_SAFE_INTEGER;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max) return n;
    out.push({ field: path, rule: 'type', message: `must be a whole number from 0 to ${max}` });
    return 0;
  }
  if ('prefix' in kind) {
    const parsed = parseEnum(kind, value);
    if (parsed !== undefined) return parsed;
    out.push({
      field: path,
      rule: 'enum',
      message: `${JSON.stringify(value)} is not a known ${kind.what}; use one of ${enumChoices(kind).join(', ')}`,
    });
    return 0;
  }
  return readMessage(kind, value, path, out);
}

function readMessage(spec: MessageSpec, value: unknown, path: string, out: FieldViolation[]): Record<string, unknown> {
  const message = spec.create();
  if (!isObject(value)) {
    out.push({ field: path, rule: 'type', message: `must be a JSON object, not ${typeOf(value)}` });
    return message;
  }
  for (const [key, raw] of Object.entries(value)) {
    const f = spec.fields.find((candidate) => candidate.json === key || candidate.proto === key);
    const at = `${path}.${f?.proto ?? key}`;
    if (!f) {
      out.push({ field: at, rule: 'unknown_field', message: `${key} is not a field of this object` });
      continue;
    }
    if (raw === null || raw === undefined) continue;
    if (f.repeated) {
      if (!Array.isArray(raw)) {
        out.push({ field: at, rule: 'type', message: `must be a JSON array, not ${typeOf(raw)}` });
        continue;
      }
      message[f.json] = raw.map((item, i) => readScalar(f.kind, item, `${at}[${i}]`, out));
    } else {
      message[f.json] = readScalar(f.kind, raw, at, out);
    }
  }
  return message;
}

/**
 * Reads a record from parsed JSON. Structural problems (wrong types, unknown fields, unknown
 * enum names) come back as violations with proto field paths under `path`; the record is then
 * incomplete and must not be stored. Business rules are checked by `validateRecord`.
 *
 * @example
 * ```ts
 * const { record, violations } = recordFromJson(JSON.parse(line));
 * if (violations.length === 0) validateRecord(record);
 * ```
 */
export function recordFromJson(
  value: unknown,
  path = 'record',
): { record: WeaponRecord; violations: FieldViolation[] } {
  const violations: FieldViolation[] = [];
  const record = readMessage(RECORD, value, path, violations) as unknown as WeaponRecord;
  return { record, violations };
}

function isDefault(value: unknown): boolean {
  return (
    value === undefined ||
    value === '' ||
    value === 0 ||
    value === false ||
    (Array.isArray(value) && value.length === 0)
  );
}

function writeValue(kind: Kind, value: unknown): unknown {
  if (kind === 'int64') return String(value);
  if (typeof kind === 'string') return value;
  if ('prefix' in kind) return kind.values[value as number] ?? value;
  return writeMessage(kind, value as Record<string, unknown>);
}

function writeMessage(spec: MessageSpec, message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of spec.fields) {
    const value = message[f.json];
    if (isDefault(value)) continue;
    out[f.json] = f.repeated ? (value as unknown[]).map((item) => writeValue(f.kind, item)) : writeValue(f.kind, value);
  }
  return out;
}

/**
 * The proto3 JSON form of a record: lowerCamelCase names, full enum names, int64 as strings,
 * default values left out.
 *
 * @example
 * ```ts
 * recordToJson(record); // { recordId: 'rec_…', manufacture: { manufacturer: 'FN Herstal', type: 'WEAPON_TYPE_RIFLE', … } }
 * ```
 */
export function recordToJson(record: WeaponRecord): Record<string, unknown> {
  return writeMessage(RECORD, record as unknown as Record<string, unknown>);
}
