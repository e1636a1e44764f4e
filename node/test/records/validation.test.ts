import {
  ComponentKind,
  ErrorCode,
  type FieldViolation,
  ManufactureMethod,
  TracenetError,
  WeaponEventType,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';
import { describe, expect, it } from 'vitest';
import { csvRowToRecord, parseCsvHeader } from '../../src/records/csv-columns.js';
import {
  parseEnum,
  recordFromJson,
  recordToJson,
  WEAPON_TYPE,
  MANUFACTURE_METHOD,
} from '../../src/records/record-json.js';
import { recordViolations, validateRecord } from '../../src/records/validation.js';
import { event, NOW, weapon } from './support.js';

const {
  WEAPON_EVENT_TYPE_EXPORTED: EXPORTED,
  WEAPON_EVENT_TYPE_SEIZED: SEIZED,
  WEAPON_EVENT_TYPE_MANUFACTURED: MANUFACTURED,
} = WeaponEventType;

/** field → rule of every violation. */
function rules(violations: readonly FieldViolation[]): Record<string, string> {
  return Object.fromEntries(violations.map((v) => [v.field, v.rule]));
}

describe('record validation', () => {
  it('accepts a complete record', () => {
    expect(recordViolations(weapon(), { nowMs: NOW })).toEqual([]);
  });

  it('requires manufacturer, serial number and type, naming each field', () => {
    const record = weapon({}, { manufacturer: ' ', serialNumber: '', type: WeaponType.WEAPON_TYPE_UNSPECIFIED });
    expect(rules(recordViolations(record))).toEqual({
      'record.manufacture.manufacturer': 'required',
      'record.manufacture.serial_number': 'required',
      'record.manufacture.type': 'required',
    });
    expect(rules(recordViolations(weapon({ manufacture: undefined })))).toEqual({
      'record.manufacture.manufacturer': 'required',
      'record.manufacture.serial_number': 'required',
      'record.manufacture.type': 'required',
    });
  });

  it('accepts a modular weapon identified by its control component serial instead', () => {
    const modular = weapon(
      { controlComponent: { kind: ComponentKind.COMPONENT_KIND_LOWER_RECEIVER, serialNumber: 'LR-1', marking: '' } },
      { manufacturer: '', serialNumber: '' },
    );
    expect(recordViolations(modular, { nowMs: NOW })).toEqual([]);
    const noKind = weapon({ controlComponent: { kind: 0, serialNumber: 'LR-1', marking: '' } }, { serialNumber: '' });
    expect(rules(recordViolations(noKind))).toEqual({ 'record.control_component.kind': 'required' });
  });

  it('refuses a serial with no letter or digit', () => {
    expect(rules(recordViolations(weapon({}, { serialNumber: '--/--' })))).toEqual({
      'record.manufacture.serial_number': 'serial',
    });
  });

  it('checks ISO 3166-1 alpha-3 countries everywhere they appear', () => {
    const record = weapon(
      {
        imports: [
          { country: 'KEN', year: 1999 },
          { country: 'ke', year: 0 },
        ],
        governmentTransfer: { country: 'France', year: 2001 },
      },
      { countryOfManufacture: 'BE' },
    );
    record.events[1] = event(EXPORTED, '1999-05-10', { destination: 'KENYA' });
    expect(rules(recordViolations(record))).toEqual({
      'record.manufacture.country_of_manufacture': 'country',
      'record.imports[1].country': 'country',
      'record.government_transfer.country': 'country',
      'record.events[1].destination': 'country',
    });
  });

  it('names the exact event and field: dates, required fields per type, fields that do not apply', () => {
    const record = weapon({
      events: [
        event(MANUFACTURED, '1998-02-30'),
        event(EXPORTED, '', { licence: 'L-1' }),
        event(SEIZED, '2020-01-01', { place: 'Lyon', destination: 'KEN' }),
        event(WeaponEventType.WEAPON_EVENT_TYPE_TRANSFERRED, '2021-01-01'),
        event(WeaponEventType.WEAPON_EVENT_TYPE_IMPORTED, '2022-01-01'),
        event(0, '2022-1-1'),
      ],
    });
    expect(recordViolations(record, { nowMs: NOW }).map((v) => `${v.field} ${v.rule}`)).toEqual([
      'record.events[0].date date',
      'record.events[1].date required',
      'record.events[1].destination required',
      'record.events[2].agency required',
      'record.events[2].destination not_applicable',
      'record.events[3].end_user required',
      'record.events[4].origin required',
      'record.events[5].type required',
      'record.events[5].date date',
    ]);
  });

  it('refuses future dates and years, events out of order, a late MANUFACTURED event and an inconsistent year', () => {
    const record = weapon(
      {
        events: [
          event(EXPORTED, '2001-05-10', { destination: 'KEN' }),
          event(MANUFACTURED, '2000-03-02'),
          event(SEIZED, '2026-06-05', { place: 'Lyon', agency: 'Police' }),
        ],
      },
      { year: 2027 },
    );
    expect(recordViolations(record, { nowMs: NOW }).map((v) => `${v.field} ${v.rule}`)).toEqual([
      'record.manufacture.year year',
      'record.events[1].type manufactured_first',
      'record.events[1].date chronological',
      'record.events[2].date not_in_future',
    ]);
    const inconsistent = weapon({}, { year: 1997 });
    expect(rules(recordViolations(inconsistent, { nowMs: NOW }))).toEqual({ 'record.manufacture.year': 'consistent' });
    // Tomorrow is accepted (time zones ahead of UTC), the day after is not.
    expect(
      recordViolations(weapon({ events: [event(SEIZED, '2026-06-02', { place: 'Nouméa', agency: 'Gendarmerie' })] }), {
        nowMs: NOW,
      }),
    ).toEqual([]);
  });

  it('requires serials of components and values of secondary marks, and checks record ids and enums', () => {
    const record = weapon({
      recordId: 'rec_short',
      components: [{ kind: 0, serialNumber: '', marking: '' }],
      secondaryMarks: [{ location: 'rail', value: '' }],
      manufactureMethod: 42 as ManufactureMethod,
      status: 99 as WeaponStatus,
    });
    expect(rules(recordViolations(record))).toEqual({
      'record.record_id': 'record_id',
      'record.components[0].kind': 'required',
      'record.components[0].serial_number': 'required',
      'record.secondary_marks[0].value': 'required',
      'record.manufacture_method': 'enum',
      'record.status': 'enum',
    });
  });

  it('validateRecord throws MISSING_FIELD or INVALID_FIELD after the first violation, with every violation', () => {
    const record = weapon({}, { serialNumber: '' });
    record.events[0] = event(MANUFACTURED, 'yesterday');
    let thrown: unknown;
    try {
      validateRecord(record);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TracenetError);
    expect(thrown).toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'record.manufacture.serial_number',
      rule: 'required',
    });
    expect((thrown as TracenetError).violations.map((v) => v.field)).toEqual([
      'record.manufacture.serial_number',
      'record.events[0].date',
    ]);
    expect(() => validateRecord(weapon({}, { countryOfManufacture: 'Belgium' }))).toThrow(
      expect.objectContaining({ code: ErrorCode.ERROR_CODE_INVALID_FIELD }),
    );
  });
});

describe('JSON form of a record', () => {
  it('round-trips a record through proto3 JSON', () => {
    const record = weapon({ recordId: `rec_${'a'.repeat(22)}`, recordedAtMs: NOW, updatedAtMs: NOW, notes: 'n' });
    const json = recordToJson(record);
    expect(json).toMatchObject({
      recordedAtMs: String(NOW),
      manufacture: { type: 'WEAPON_TYPE_RIFLE' },
      manufactureMethod: 'MANUFACTURE_METHOD_INDUSTRIAL',
    });
    expect(json).not.toHaveProperty('governmentTransfer');
    expect(recordFromJson(JSON.parse(JSON.stringify(json)))).toEqual({ record, violations: [] });
  });

  it('accepts proto names, short enum names in any case, and numbers as strings', () => {
    const { record, violations } = recordFromJson({
      manufacture: { manufacturer: 'Glock', serial_number: 'ABC1', type: 'pistol', year: '2004' },
      manufacture_method: '3D-printed',
      events: [{ type: 'Exported', date: '2005-01-01', destination: 'KEN', end_user: 'Police' }],
    });
    expect(violations).toEqual([]);
    expect(record.manufacture).toMatchObject({ serialNumber: 'ABC1', type: WeaponType.WEAPON_TYPE_PISTOL, year: 2004 });
    expect(record.manufactureMethod).toBe(ManufactureMethod.MANUFACTURE_METHOD_3D_PRINTED);
    expect(record.events[0]).toMatchObject({ type: EXPORTED, endUser: 'Police' });
  });

  it('refuses unknown fields, wrong types and unknown enum names with their paths', () => {
    const { violations } = recordFromJson({
      manufacture: { manufacturer: 7, serial: 'x', type: 'musket', year: -1 },
      events: {},
      imports: [3],
    });
    expect(rules(violations)).toEqual({
      'record.manufacture.manufacturer': 'type',
      'record.manufacture.serial': 'unknown_field',
      'record.manufacture.type': 'enum',
      'record.manufacture.year': 'type',
      'record.events': 'type',
      'record.imports[0]': 'type',
    });
    expect(violations.find((v) => v.rule === 'enum')?.message).toContain('assault_rifle');
    expect(recordFromJson([1]).violations).toEqual([
      { field: 'record', rule: 'type', message: 'must be a JSON object, not array' },
    ]);
  });

  it('parses enum spellings', () => {
    expect(parseEnum(WEAPON_TYPE, 'Sub-machine gun')).toBe(WeaponType.WEAPON_TYPE_SUBMACHINE_GUN);
    expect(parseEnum(WEAPON_TYPE, 'submachine gun')).toBe(WeaponType.WEAPON_TYPE_SUBMACHINE_GUN);
    expect(parseEnum(WEAPON_TYPE, 'WEAPON_TYPE_MORTAR')).toBe(WeaponType.WEAPON_TYPE_MORTAR);
    expect(parseEnum(WEAPON_TYPE, '10')).toBe(WeaponType.WEAPON_TYPE_MORTAR);
    expect(parseEnum(WEAPON_TYPE, '')).toBe(0);
    expect(parseEnum(WEAPON_TYPE, 'UNRECOGNIZED')).toBeUndefined();
    expect(parseEnum(WEAPON_TYPE, -1)).toBeUndefined();
    expect(parseEnum(MANUFACTURE_METHOD, '3d printed')).toBe(ManufactureMethod.MANUFACTURE_METHOD_3D_PRINTED);
  });
});

describe('CSV columns', () => {
  const header = [
    'record_id',
    'Manufacturer',
    'serial_number',
    'type',
    'event1_type',
    'event1_date',
    'event1_destination',
    'event3_type',
    'event3_date',
    'component2_kind',
    'component2_serial_number',
  ];

  it('maps numbered groups, leaves out empty groups, and names problems by column', () => {
    const layout = parseCsvHeader(header);
    const row = csvRowToRecord(layout, ['', 'FN', 'A1', 'rifle', '', '', '', 'exported', '2001-13-01', 'barrel', 'B1']);
    expect(row.violations).toEqual([]);
    expect(row.record.events).toHaveLength(1);
    expect(row.record.components).toEqual([
      { kind: ComponentKind.COMPONENT_KIND_BARREL, serialNumber: 'B1', marking: '' },
    ]);
    const problems = recordViolations(row.record).map((v) => [row.columnOf(v.field), v.rule]);
    expect(problems).toEqual([
      ['event3_date', 'date'],
      ['event3_destination', 'required'],
    ]);
    expect(row.columnOf('record.manufacture.serial_number')).toBe('serial_number');
    expect(row.columnOf('record.components[0].serial_number')).toBe('component2_serial_number');
  });

  it('reports unreadable cells, and only the cell count when cells are missing (the rest would be misaligned)', () => {
    const layout = parseCsvHeader(header);
    const unreadable = csvRowToRecord(layout, ['', 'FN', 'A1', 'musket', 'robbed', '2001-01-01', '', '', '', '', '']);
    expect(rules(unreadable.violations)).toEqual({ type: 'enum', event1_type: 'enum' });
    const short = csvRowToRecord(layout, ['', 'FN', 'A1', 'musket', 'robbed', '2001-01-01']);
    expect(short.violations).toEqual([
      { field: 'row', rule: 'cell_count', message: 'the row has 6 cells but the header has 11 columns' },
    ]);
  });

  it('refuses unknown and repeated columns, and headers without type or serial', () => {
    expect(() => parseCsvHeader(['manufacturer', 'serial_number', 'type', 'colour', 'event1_colour'])).toThrow(
      /"colour" is not a known column.*"event1_colour"/,
    );
    expect(() => parseCsvHeader(['serial_number', 'type', 'SERIAL_NUMBER'])).toThrow(/"serial_number" appears twice/);
    expect(() => parseCsvHeader(['manufacturer', 'serial_number'])).toThrow(/type column is missing/);
    expect(() => parseCsvHeader(['manufacturer', 'type'])).toThrow(/serial_number/);
    expect(() => parseCsvHeader(['manufacturer', 'type', 'event0_type', 'serial_number'])).toThrow(/"event0_type"/);
  });
});
