import {
  type Component,
  ErrorCode,
  type FieldViolation,
  type ImportMarking,
  type ManufactureMarking,
  type ReexportAuthorisation,
  type SecondaryMark,
  TracenetError,
  type WeaponEvent,
  type WeaponRecord,
} from '@tracenet/proto';
import {
  COMPONENT_KIND,
  DESTRUCTION_STATE,
  enumChoices,
  EVENT_TYPE,
  ITEM_CATEGORY,
  MANUFACTURE_METHOD,
  parseEnum,
  REEXPORT_CONDITION,
  SEIZURE_CIRCUMSTANCE,
  type EnumSpec,
  WEAPON_STATUS,
  WEAPON_TYPE,
} from './record-json.js';

/**
 * The CSV column format of record imports (docs/records.md, "CSV"): a header row naming the
 * columns, in any order, one column per field; repeated parts (imports, components, secondary
 * marks, events) as numbered columns `event1_type`, `event1_date`, `event2_type`, … A numbered
 * group whose cells are all empty is left out, so rows may use fewer groups than the header has.
 */

/** Columns of single fields: column name → path inside the record, used in messages. */
const SCALAR_COLUMNS = {
  record_id: 'record_id',
  manufacturer: 'manufacture.manufacturer',
  country_of_manufacture: 'manufacture.country_of_manufacture',
  serial_number: 'manufacture.serial_number',
  model: 'manufacture.model',
  type: 'manufacture.type',
  calibre: 'manufacture.calibre',
  year: 'manufacture.year',
  manufacture_method: 'manufacture_method',
  status: 'status',
  government_transfer_country: 'government_transfer.country',
  government_transfer_year: 'government_transfer.year',
  control_component_kind: 'control_component.kind',
  control_component_serial_number: 'control_component.serial_number',
  control_component_marking: 'control_component.marking',
  notes: 'notes',
  // docs/protocol.md 19.1 (and 11.1 for item category and quantity).
  item_category: 'item_category',
  quantity: 'quantity',
  illicit_origin_date: 'illicit_origin.date',
  illicit_origin_authority: 'illicit_origin.authority',
  illicit_origin_basis: 'illicit_origin.basis',
  collection_programme: 'collection.programme',
  collection_point: 'collection.collection_point',
  collection_date: 'collection.date',
  collection_unique_mark: 'collection.unique_mark',
  collection_conflict_setting: 'collection.conflict_setting',
  destruction_state: 'destruction.state',
  destruction_designated_date: 'destruction.designated_date',
  destruction_deactivated: 'destruction.deactivated',
  destruction_destroyed_date: 'destruction.destroyed_date',
  destruction_method: 'destruction.method',
  destruction_witnesses: 'destruction.witnesses',
  destruction_certificate_id: 'destruction.certificate_id',
} as const;
type ScalarColumn = keyof typeof SCALAR_COLUMNS;

/** Numbered groups: column prefix → record list and the fields each item has. */
const GROUPS = {
  import: { list: 'imports', fields: ['country', 'year'] },
  component: { list: 'components', fields: ['kind', 'serial_number', 'marking'] },
  secondary_mark: { list: 'secondary_marks', fields: ['location', 'value'] },
  event: {
    list: 'events',
    fields: [
      'type',
      'date',
      'place',
      'agency',
      'destination',
      'origin',
      'licence',
      'end_user',
      'details',
      'circumstance',
      'undertaking_condition',
      'undertaking_certificate_reference',
      'undertaking_end_user',
      'undertaking_date',
      'undertaking_authorisations',
    ],
  },
} as const;
type GroupName = keyof typeof GROUPS;

const GROUP_COLUMN = /^(import|component|secondary_mark|event)([1-9]\d{0,3})_([a-z_]+)$/;

/** Every single-field column name, in the order docs/records.md lists them. */
export const CSV_SCALAR_COLUMNS = Object.keys(SCALAR_COLUMNS) as ScalarColumn[];

type ColumnRef =
  | { readonly scalar: ScalarColumn }
  | { readonly group: GroupName; readonly n: number; readonly field: string };

/** A parsed header row: what each column position holds. */
export interface CsvLayout {
  readonly columns: readonly ColumnRef[];
  readonly names: readonly string[];
  /** Where each row's cells go, worked out once from the header (see {@link cellPlan}). */
  readonly plan?: CellPlan;
}

/** One numbered item's columns: field name and column position, in header order. */
interface ItemColumns {
  readonly n: number;
  readonly fields: readonly (readonly [field: string, at: number])[];
}

/**
 * What {@link csvRowToRecord} needs of the header, computed once: the position of each single-field
 * column, the numbered items of each group in ascending number, and the columns behind the
 * `illicit_origin_`, `collection_` and `destruction_` blocks. An import reads a million rows with
 * one header; looking these up row by row was a sixth of its time.
 */
interface CellPlan {
  readonly scalar: Readonly<Partial<Record<ScalarColumn, number>>>;
  readonly groups: Readonly<Record<GroupName, readonly ItemColumns[]>>;
  readonly blocks: Readonly<Record<'illicit_origin_' | 'collection_' | 'destruction_', readonly number[]>>;
}

function cellPlan(columns: readonly ColumnRef[]): CellPlan {
  const scalar: Partial<Record<ScalarColumn, number>> = {};
  const items: Record<GroupName, Map<number, [string, number][]>> = {
    import: new Map(),
    component: new Map(),
    secondary_mark: new Map(),
    event: new Map(),
  };
  columns.forEach((ref, i) => {
    if ('scalar' in ref) scalar[ref.scalar] = i;
    else {
      const fields = items[ref.group].get(ref.n) ?? [];
      fields.push([ref.field, i]);
      items[ref.group].set(ref.n, fields);
    }
  });
  const sorted = (group: GroupName): ItemColumns[] =>
    [...items[group].entries()].sort(([a], [b]) => a - b).map(([n, fields]) => ({ n, fields }));
  const block = (prefix: string) =>
    CSV_SCALAR_COLUMNS.filter((column) => column.startsWith(prefix))
      .map((column) => scalar[column])
      .filter((at): at is number => at !== undefined);
  return {
    scalar,
    groups: {
      import: sorted('import'),
      component: sorted('component'),
      secondary_mark: sorted('secondary_mark'),
      event: sorted('event'),
    },
    blocks: {
      illicit_origin_: block('illicit_origin_'),
      collection_: block('collection_'),
      destruction_: block('destruction_'),
    },
  };
}

/**
 * Reads the header row. Unknown or repeated columns, or a header without `type` or without any
 * serial column, make the whole file unreadable: INVALID_FIELD on field `header` (line 1).
 */
export function parseCsvHeader(cells: readonly string[]): CsvLayout {
  const problems: string[] = [];
  const names = cells.map((c) => c.trim().toLowerCase());
  const seen = new Set<string>();
  const columns: ColumnRef[] = names.map((name, i) => {
    if (seen.has(name)) problems.push(`column ${JSON.stringify(name)} appears twice`);
    seen.add(name);
    if (name in SCALAR_COLUMNS) return { scalar: name as ScalarColumn };
    const m = GROUP_COLUMN.exec(name);
    const group = m?.[1] as GroupName | undefined;
    if (m && group && (GROUPS[group].fields as readonly string[]).includes(m[3] ?? ''))
      return { group, n: Number(m[2]), field: m[3] ?? '' };
    problems.push(`column ${i + 1} ${JSON.stringify(cells[i])} is not a known column`);
    return { scalar: 'notes' };
  });
  if (!seen.has('type')) problems.push('the type column is missing');
  if (!seen.has('serial_number') && !seen.has('control_component_serial_number'))
    problems.push('a serial_number (or control_component_serial_number) column is required');
  if (problems.length > 0) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `the header row (line 1) is not valid: ${problems.join('; ')} (docs/records.md lists the columns)`,
      {
        field: 'header',
        rule: 'csv_header',
      },
    );
  }
  return { columns, names, plan: cellPlan(columns) };
}

/** A CSV row turned into a record, with structural problems named by column. */
export interface CsvRow {
  readonly record: WeaponRecord;
  readonly violations: FieldViolation[];
  /** The column a record field path came from (`record.events[0].date` → `event2_date`). */
  columnOf(path: string): string;
}

function enumCell(spec: EnumSpec, value: string, column: string, out: FieldViolation[]): number {
  const parsed = parseEnum(spec, value);
  if (parsed !== undefined) return parsed;
  out.push({
    field: column,
    rule: 'enum',
    message: `${JSON.stringify(value)} is not a known ${spec.what}; use one of ${enumChoices(spec).join(', ')}`,
  });
  return 0;
}

function yearCell(value: string, column: string, out: FieldViolation[]): number {
  if (value === '') return 0;
  if (/^\d{1,4}$/.test(value)) return Number(value);
  out.push({ field: column, rule: 'year', message: `${JSON.stringify(value)} is not a year such as 1998` });
  return 0;
}

function quantityCell(value: string, column: string, out: FieldViolation[]): number {
  if (value === '') return 0;
  if (/^\d{1,10}$/.test(value) && Number(value) <= 0xffff_ffff) return Number(value);
  out.push({ field: column, rule: 'type', message: `${JSON.stringify(value)} is not a whole number` });
  return 0;
}

const YES = new Set(['yes', 'true', '1', 'y']);
const NO = new Set(['', 'no', 'false', '0', 'n']);
function boolCell(value: string, column: string, out: FieldViolation[]): boolean {
  const v = value.toLowerCase();
  if (YES.has(v)) return true;
  if (!NO.has(v)) out.push({ field: column, rule: 'type', message: `${JSON.stringify(value)} is not yes or no` });
  return false;
}

/** `a; b; c` → `['a', 'b', 'c']`: the witnesses of a destruction, the authorisations of an undertaking. */
const listCell = (value: string): string[] => (value === '' ? [] : value.split(';').map((item) => item.trim()));

/** `KEN 2024-05-01 EUC 2024/17; UGA 2025-01-10 R-2`: destination, date, then the reference (the rest). */
function authorisationsCell(value: string, column: string, out: FieldViolation[]): ReexportAuthorisation[] {
  return listCell(value).map((item) => {
    const m = /^(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(item);
    if (!m) {
      out.push({
        field: column,
        rule: 'type',
        message: `${JSON.stringify(item)} is not "DESTINATION YYYY-MM-DD reference"`,
      });
      return { destination: '', date: '', reference: '' };
    }
    return { destination: m[1] ?? '', date: m[2] ?? '', reference: m[3] ?? '' };
  });
}

/**
 * Turns the cells of one data row into a record. Cells are trimmed; an empty cell is an absent
 * value. Cells that cannot be read (unknown enum name, a year that is not a number) come back as
 * violations named by column; a row with the wrong number of cells gets that one violation only.
 * The record rules are checked later.
 */
export function csvRowToRecord(layout: CsvLayout, cells: readonly string[]): CsvRow {
  const violations: FieldViolation[] = [];
  if (cells.length !== layout.columns.length) {
    violations.push({
      field: 'row',
      rule: 'cell_count',
      message: `the row has ${cells.length} cells but the header has ${layout.columns.length} columns`,
    });
  }
  const plan = layout.plan ?? cellPlan(layout.columns);
  const cell = (at: number) => (cells[at] ?? '').trim();
  const s = (column: ScalarColumn) => {
    const at = plan.scalar[column];
    return at === undefined ? '' : cell(at);
  };
  const manufacture: ManufactureMarking = {
    manufacturer: s('manufacturer'),
    countryOfManufacture: s('country_of_manufacture'),
    serialNumber: s('serial_number'),
    model: s('model'),
    type: enumCell(WEAPON_TYPE, s('type'), 'type', violations),
    calibre: s('calibre'),
    year: yearCell(s('year'), 'year', violations),
  };
  // A numbered item is there when one of its cells is not empty; its empty cells are absent fields.
  const order: Record<GroupName, number[]> = { import: [], component: [], secondary_mark: [], event: [] };
  const items = (group: GroupName) => {
    const present: { n: number; cells: Record<string, string> }[] = [];
    for (const { n, fields } of plan.groups[group]) {
      let item: Record<string, string> | undefined;
      for (const [field, at] of fields) {
        const value = cell(at);
        if (value !== '') (item ??= {})[field] = value;
      }
      if (item) {
        order[group].push(n);
        present.push({ n, cells: item });
      }
    }
    return present;
  };
  const imports: ImportMarking[] = items('import').map(({ n, cells: c }) => ({
    country: c.country ?? '',
    year: yearCell(c.year ?? '', `import${n}_year`, violations),
  }));
  const components: Component[] = items('component').map(({ n, cells: c }) => ({
    kind: enumCell(COMPONENT_KIND, c.kind ?? '', `component${n}_kind`, violations),
    serialNumber: c.serial_number ?? '',
    marking: c.marking ?? '',
  }));
  const secondaryMarks: SecondaryMark[] = items('secondary_mark').map(({ cells: c }) => ({
    location: c.location ?? '',
    value: c.value ?? '',
  }));
  const events: WeaponEvent[] = items('event').map(({ n, cells: c }) => ({
    type: enumCell(EVENT_TYPE, c.type ?? '', `event${n}_type`, violations),
    date: c.date ?? '',
    place: c.place ?? '',
    agency: c.agency ?? '',
    destination: c.destination ?? '',
    origin: c.origin ?? '',
    licence: c.licence ?? '',
    endUser: c.end_user ?? '',
    details: c.details ?? '',
    circumstance: enumCell(SEIZURE_CIRCUMSTANCE, c.circumstance ?? '', `event${n}_circumstance`, violations),
    undertaking: Object.keys(c).some((k) => k.startsWith('undertaking_'))
      ? {
          condition: enumCell(
            REEXPORT_CONDITION,
            c.undertaking_condition ?? '',
            `event${n}_undertaking_condition`,
            violations,
          ),
          certificateReference: c.undertaking_certificate_reference ?? '',
          endUser: c.undertaking_end_user ?? '',
          date: c.undertaking_date ?? '',
          authorisations: authorisationsCell(
            c.undertaking_authorisations ?? '',
            `event${n}_undertaking_authorisations`,
            violations,
          ),
        }
      : undefined,
  }));
  const any = (prefix: keyof CellPlan['blocks']) => plan.blocks[prefix].some((at) => cell(at) !== '');
  const hasGovernmentTransfer = s('government_transfer_country') !== '' || s('government_transfer_year') !== '';
  const hasControl =
    s('control_component_kind') !== '' ||
    s('control_component_serial_number') !== '' ||
    s('control_component_marking') !== '';
  const record: WeaponRecord = {
    recordId: s('record_id'),
    manufacture,
    imports,
    governmentTransfer: hasGovernmentTransfer
      ? {
          country: s('government_transfer_country'),
          year: yearCell(s('government_transfer_year'), 'government_transfer_year', violations),
        }
      : undefined,
    controlComponent: hasControl
      ? {
          kind: enumCell(COMPONENT_KIND, s('control_component_kind'), 'control_component_kind', violations),
          serialNumber: s('control_component_serial_number'),
          marking: s('control_component_marking'),
        }
      : undefined,
    components,
    manufactureMethod: enumCell(MANUFACTURE_METHOD, s('manufacture_method'), 'manufacture_method', violations),
    secondaryMarks,
    status: enumCell(WEAPON_STATUS, s('status'), 'status', violations),
    events,
    recordedAtMs: 0,
    updatedAtMs: 0,
    notes: s('notes'),
    interest: undefined,
    itemCategory: enumCell(ITEM_CATEGORY, s('item_category'), 'item_category', violations),
    quantity: quantityCell(s('quantity'), 'quantity', violations),
    illicitOrigin: any('illicit_origin_')
      ? {
          date: s('illicit_origin_date'),
          authority: s('illicit_origin_authority'),
          basis: s('illicit_origin_basis'),
        }
      : undefined,
    collection: any('collection_')
      ? {
          programme: s('collection_programme'),
          collectionPoint: s('collection_point'),
          date: s('collection_date'),
          uniqueMark: s('collection_unique_mark'),
          conflictSetting: boolCell(s('collection_conflict_setting'), 'collection_conflict_setting', violations),
        }
      : undefined,
    destruction: any('destruction_')
      ? {
          state: enumCell(DESTRUCTION_STATE, s('destruction_state'), 'destruction_state', violations),
          designatedDate: s('destruction_designated_date'),
          deactivated: boolCell(s('destruction_deactivated'), 'destruction_deactivated', violations),
          destroyedDate: s('destruction_destroyed_date'),
          method: s('destruction_method'),
          witnesses: listCell(s('destruction_witnesses')),
          certificateId: s('destruction_certificate_id'),
        }
      : undefined,
  };
  // With cells missing or extra, every later cell is in the wrong column: the count is the one problem to report.
  const cellCount = violations.filter((v) => v.rule === 'cell_count');
  return {
    record,
    violations: cellCount.length > 0 ? cellCount : violations,
    columnOf: (path) => columnOf(path, order),
  };
}

const SCALAR_BY_PATH = new Map<string, string>(
  Object.entries(SCALAR_COLUMNS).map(([column, path]) => [`record.${path}`, column]),
);
const LIST_TO_GROUP: Record<string, GroupName> = {
  imports: 'import',
  components: 'component',
  secondary_marks: 'secondary_mark',
  events: 'event',
};
const LIST_ITEM = /^record\.(imports|components|secondary_marks|events)\[(\d+)\](?:\.(.+))?$/;

function columnOf(path: string, order: Record<GroupName, number[]>): string {
  const scalar = SCALAR_BY_PATH.get(path);
  if (scalar) return scalar;
  const m = LIST_ITEM.exec(path);
  const group = m ? LIST_TO_GROUP[m[1] ?? ''] : undefined;
  if (m && group) {
    const n = order[group][Number(m[2])] ?? Number(m[2]) + 1;
    // `undertaking.authorisations[1].date` is the one column event1_undertaking_authorisations.
    const field = m[3]?.replace(/\[\d+\].*$/, '').replaceAll('.', '_');
    return field ? `${group}${n}_${field}` : `${group}${n}_*`;
  }
  const list = /^record\.(destruction\.witnesses)\[\d+\]$/.exec(path);
  if (list) return 'destruction_witnesses';
  if (path === 'record.manufacture') return 'manufacturer';
  if (path.startsWith('record.')) {
    const list = LIST_TO_GROUP[path.slice('record.'.length)];
    if (list) return `${list}N_*`;
  }
  return path;
}
