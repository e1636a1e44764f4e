import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ComponentKind,
  ErrorCode,
  TracenetError,
  WeaponEvent,
  WeaponEventType,
  WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialPattern } from '../../src/records/serial-pattern.js';
import { recordViolations } from '../../src/records/validation.js';
import { isIncomplete, type RegistryEntry } from '../../src/registry/adapter.js';
import { PostgresAdapter, likePattern, postgresRecordId, postgresRecordKey } from '../../src/registry/postgres.js';
import { parsePostgresMapping, readPostgresMapping } from '../../src/registry/postgres-mapping.js';
import { startPostgres } from '../../../scripts/postgres-server.mjs';
import { testLogger } from '../support/nodes.js';
import {
  createTestDatabase,
  databaseUrl,
  EXAMPLE_MAPPING_PATH,
  exampleAdapter,
  exampleMappingJson,
  insertRegistryRecords,
  type TestDatabase,
} from '../support/postgres.js';

const E = WeaponEventType;

/** The mapping's JSON, which tests change freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document edited by tests
type MappingJson = Record<string, any>;

/** The example mapping with `change` applied to its JSON. */
function mappingWith(change: (json: MappingJson) => void): MappingJson {
  const json = exampleMappingJson();
  change(json);
  return json;
}

function mappingError(json: unknown): TracenetError {
  try {
    parsePostgresMapping(json);
  } catch (error) {
    if (error instanceof TracenetError) return error;
    throw error;
  }
  throw new Error('the mapping was accepted');
}

/** A logger whose lines the test reads. */
function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger: Logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

async function rejection(promise: Promise<unknown>): Promise<TracenetError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TracenetError)) throw new Error(`expected a TracenetError, got ${String(error)}`);
  return error;
}

/** The adapter's entries for a serial (complete records and weapons held but incomplete). */
const findEntries = (adapter: PostgresAdapter, serial: string, limit = 100) =>
  adapter.findBySerial(serialPattern(serial), limit);
/** The adapter's records for a serial; fails when one of them is held but incomplete. */
const find = async (adapter: PostgresAdapter, serial: string, limit = 100) =>
  (await findEntries(adapter, serial, limit)).map(complete);
/** The entry as a complete record; fails when it is held but incomplete. */
function complete(entry: RegistryEntry): WeaponRecord {
  if (isIncomplete(entry)) throw new Error(`${entry.recordId} is held but incomplete`);
  return entry;
}
const serials = (records: readonly WeaponRecord[]) => records.map((r) => r.manufacture?.serialNumber);

describe('PostgreSQL registry mapping', () => {
  it('reads the example mapping', async () => {
    const mapping = await readPostgresMapping(EXAMPLE_MAPPING_PATH);
    expect(mapping.weapons.from).toMatchObject({ table: 'weapons', alias: 'weapons' });
    expect(mapping.events?.joins.map((j) => j.table.alias)).toEqual(['l', 'recipient']);
    const type = mapping.events?.columns.type;
    expect(type?.source === 'column' && type.values.get('EXPORT')).toBe(E.WEAPON_EVENT_TYPE_EXPORTED);
    expect(type?.source === 'column' && type.values.get('REPAIR')).toBeNull();
  });

  it.each([
    [
      'an unknown key',
      (j: MappingJson) => (j.weapons.columns.colour = 'colour'),
      'weapons.columns.colour',
      /unknown key/,
    ],
    ['an unknown top-level key', (j: MappingJson) => (j.tables = []), 'tables', /unknown key/],
    [
      'an unknown key in a join',
      (j: MappingJson) => (j.events.joins[0].using = 'licence_id'),
      'events.joins[0].using',
      /unknown key/,
    ],
    [
      'a table that is not an identifier',
      (j: MappingJson) => (j.weapons.table = 'weapons; DROP TABLE weapons'),
      'weapons.table',
      /not an identifier/,
    ],
    [
      'a column that is not an identifier',
      (j: MappingJson) => (j.events.columns.place = 'place"--'),
      'events.columns.place',
      /not an identifier/,
    ],
    [
      'three-part column names',
      (j: MappingJson) => (j.events.columns.licence = 'public.l.licence_no'),
      'events.columns.licence',
      /"alias.column"/,
    ],
    [
      'an alias no join defines',
      (j: MappingJson) => (j.events.columns.endUser = 'sender.name'),
      'events.columns.endUser',
      /no table is called "sender"/,
    ],
    [
      'an unknown event type',
      (j: MappingJson) => (j.events.columns.type.values.EXPORT = 'EXPORTD'),
      'events.columns.type.values.EXPORT',
      /not a event type/,
    ],
    [
      'an unknown weapon type',
      (j: MappingJson) => (j.weapons.columns.type.values['assault rifle'] = 'ASSAULT'),
      'weapons.columns.type.values["assault rifle"]',
      /not a weapon type/,
    ],
    [
      'null for a weapon type',
      (j: MappingJson) => (j.weapons.columns.type.values.pistol = null),
      'weapons.columns.type.values.pistol',
      /not a weapon type/,
    ],
    [
      'codes for a searched field',
      (j: MappingJson) => (j.weapons.columns.serialNumber = { column: 'serial_no', values: { a: 'b' } }),
      'weapons.columns.serialNumber.values',
      /searched/,
    ],
    [
      'a number as the translation of a text code',
      (j: MappingJson) => (j.events.columns.place = { column: 'place', values: { a: 7 } }),
      'events.columns.place.values.a',
      /must be text/,
    ],
    [
      'text as the translation of a year',
      (j: MappingJson) => (j.weapons.columns.year = { column: 'year_made', values: { '98': 'nineteen' } }),
      'weapons.columns.year.values["98"]',
      /whole number/,
    ],
    [
      'a report section without its agency',
      (j: MappingJson) =>
        (j.reports = {
          table: 'weapons',
          key: 'weapon_id',
          weapon: 'weapon_id',
          columns: { category: 'notes', date: 'made_in' },
        }),
      'reports.columns.agency',
      /required/,
    ],
    [
      'a required field left out',
      (j: MappingJson) => delete j.weapons.columns.serialNumber,
      'weapons.columns.serialNumber',
      /required/,
    ],
    [
      'a searched field as a constant',
      (j: MappingJson) => (j.weapons.columns.serialNumber = { const: 'X' }),
      'weapons.columns.serialNumber.const',
      /must be a column/,
    ],
    [
      'a control serial without its kind',
      (j: MappingJson) => delete j.weapons.columns.controlComponentKind,
      'weapons.columns.controlComponentKind',
      /required when controlComponentSerial/,
    ],
    [
      'a join type other than left or inner',
      (j: MappingJson) => (j.events.joins[1].type = 'full'),
      'events.joins[1].type',
      /"left" or "inner"/,
    ],
    ['a join alias used twice', (j: MappingJson) => (j.events.joins[1].as = 'l'), 'events.joins[1].as', /taken/],
    ['an unknown version', (j: MappingJson) => (j.version = 2), 'version', /version 1/],
  ])('refuses %s, naming its path', (_what, change, field, message) => {
    const error = mappingError(mappingWith(change));
    expect(error.code).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
    expect(error.rule).toBe('mapping');
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('names the file of a mapping that is not JSON or not valid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-mapping-'));
    try {
      const file = join(dir, 'mapping.json');
      await writeFile(file, '{ "weapons": ');
      const notJson = await rejection(readPostgresMapping(file));
      expect(notJson.message).toContain(file);
      await writeFile(file, JSON.stringify(mappingWith((j) => (j.weapons.key = 7))));
      const invalid = await rejection(
        PostgresAdapter.fromFile(file, { url: '', poolSize: 1, statementTimeoutMs: 1000, logger: testLogger() }),
      );
      expect(invalid.field).toBe('weapons.key');
      expect(invalid.message).toContain(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('turns wildcards into LIKE and escapes the rest', () => {
    expect(likePattern('FN1998*')).toBe('FN1998%');
    expect(likePattern('AB?4*')).toBe('AB_4%');
    expect(likePattern('A_%!')).toBe('A!_!%!!');
  });

  it('gives every weapon key one record id of [A-Za-z0-9_-]', () => {
    for (const [key, id] of [
      ['42', 'pg_42'],
      ['BE-77-a_1', 'pg_BE-77-a_1'],
      ['BE/77', 'pg__QkUvNzc'],
      ['_x', 'pg__X3g'],
      ['Liège 1', `pg__${Buffer.from('Liège 1').toString('base64url')}`],
      ['x'.repeat(65), `pg__${Buffer.from('x'.repeat(65)).toString('base64url')}`],
    ]) {
      expect(postgresRecordId(key as string)).toBe(id);
      expect(postgresRecordId(key as string)).toMatch(/^pg_[A-Za-z0-9_-]+$/);
      expect(postgresRecordKey(id as string)).toBe(key);
    }
    for (const id of ['rec_42', 'pg_', 'pg__', 'pg_a/b', 'pg__QkUvNzc=', 'pg__!!'])
      expect(postgresRecordKey(id)).toBeUndefined();
  });
});

describe('PostgresAdapter on the example registry', () => {
  let db: TestDatabase;
  let adapter: PostgresAdapter;
  const log = capturedLogger();

  beforeAll(async () => {
    db = await createTestDatabase({ seed: true });
    adapter = exampleAdapter(db, log.logger);
    await adapter.open();
  });
  afterAll(async () => {
    await adapter?.close();
    await db?.drop();
  });

  it('is a read-only adapter with pg_ ids', () => {
    expect([adapter.kind, adapter.idPrefix, adapter.writable]).toEqual(['postgres', 'pg_', false]);
  });

  it('finds a serial however it was written, as a complete record', async () => {
    const records = await find(adapter, 'FN19980042');
    expect(records).toHaveLength(1);
    const fal = records[0];
    expect(await find(adapter, ' fn 1998-0042 ')).toEqual(records);
    expect(fal).toEqual(
      WeaponRecord.fromPartial({
        recordId: 'pg_1',
        manufacture: {
          manufacturer: 'FN Herstal',
          countryOfManufacture: 'BEL',
          serialNumber: 'fn-1998 0042',
          model: 'FAL',
          type: WeaponType.WEAPON_TYPE_RIFLE,
          calibre: '7.62x51mm',
          year: 1998,
        },
        status: WeaponStatus.WEAPON_STATUS_EXPORTED,
        // Entered after the export (transfer 5 after transfer 1), listed by date. The recipient
        // of the manufacture and the origin of the export are not fields of those events.
        events: [
          WeaponEvent.fromPartial({
            type: E.WEAPON_EVENT_TYPE_MANUFACTURED,
            date: '1998-03-02',
            place: 'Herstal',
            agency: 'FN Herstal',
          }),
          WeaponEvent.fromPartial({
            type: E.WEAPON_EVENT_TYPE_EXPORTED,
            date: '1999-05-10',
            place: 'Herstal',
            agency: 'SPW Licences armes',
            destination: 'KEN',
            licence: 'BE-EX-1999-17',
            endUser: 'Kenya Police',
            details: 'shipment 3 of 5',
          }),
        ],
        notes: 'export batch to Kenya',
        recordedAtMs: fal?.recordedAtMs ?? 0,
        updatedAtMs: fal?.updatedAtMs ?? 0,
      }),
    );
    expect(Math.abs((fal?.recordedAtMs ?? 0) - Date.now())).toBeLessThan(600_000);
    expect(recordViolations({ ...(fal as WeaponRecord), recordId: '' })).toEqual([]);
  });

  it('finds wildcard serials, in key order, at most the limit', async () => {
    expect(serials(await find(adapter, 'FN1998*'))).toEqual(['fn-1998 0042', 'FN1998-0043', 'FN-1998-0142']);
    expect(serials(await find(adapter, 'fn-1998-004?'))).toEqual(['fn-1998 0042', 'FN1998-0043']);
    expect(serials(await find(adapter, '*98-01?2'))).toEqual(['FN-1998-0142']);
    expect(serials(await find(adapter, 'FN1998*', 2))).toEqual(['fn-1998 0042', 'FN1998-0043']);
    expect(await find(adapter, 'FN1998*', 0)).toEqual([]);
    expect(await find(adapter, 'FN1998')).toEqual([]);
    expect(await find(adapter, 'FN19980042X')).toEqual([]);
  });

  it('finds a modular weapon by its control component and skips transfers that are not events', async () => {
    const [byControl, ...others] = await find(adapter, 'fcu 773310');
    expect(others).toEqual([]);
    expect(byControl?.controlComponent).toEqual({
      kind: ComponentKind.COMPONENT_KIND_FRAME,
      serialNumber: 'FCU-77 3310',
      marking: '',
    });
    expect(byControl?.imports).toEqual([{ country: 'BEL', year: 2020 }]);
    expect(byControl?.events.map((e) => e.type)).toEqual([
      E.WEAPON_EVENT_TYPE_IMPORTED,
      E.WEAPON_EVENT_TYPE_TRANSFERRED,
    ]); // the REPAIR is not
    expect(byControl?.status).toBe(WeaponStatus.WEAPON_STATUS_REGISTERED);
    expect(await find(adapter, 'FCU77*')).toEqual([byControl]);
    expect(await find(adapter, 'M17-004512')).toEqual([byControl]);
  });

  it('lists same-day events in the order of the transfer key, with the fields of each type', async () => {
    const [glock] = await find(adapter, 'bdx512');
    expect(glock?.events).toEqual([
      WeaponEvent.fromPartial({
        type: E.WEAPON_EVENT_TYPE_IMPORTED,
        date: '2015-06-01',
        place: 'Liège',
        agency: 'Douane Liège',
        origin: 'AUT',
        licence: 'BE-IM-2015-0311',
      }),
      WeaponEvent.fromPartial({
        type: E.WEAPON_EVENT_TYPE_TRANSFERRED,
        date: '2015-06-01',
        place: 'Liège',
        agency: 'Armurerie Lambert',
        licence: 'BE-P-2015-7781',
        endUser: 'Jean Dupont',
      }),
      WeaponEvent.fromPartial({
        type: E.WEAPON_EVENT_TYPE_STOLEN,
        date: '2023-11-04',
        place: 'Liège',
        agency: 'Police fédérale',
        details: 'burglary, PV LI.55.L1.012345/2023',
      }),
    ]);
    expect(glock?.status).toBe(WeaponStatus.WEAPON_STATUS_STOLEN);
    expect(glock?.imports).toEqual([{ country: 'BEL', year: 2015 }]);
  });

  it('gets a record by id and nothing for ids it does not know', async () => {
    const [glock] = await find(adapter, 'BDX 512');
    expect(await adapter.get('pg_4')).toEqual(glock);
    for (const id of ['pg_999', 'pg_abc', 'pg_99999999999999999999999', 'pg__QkUvNzc', 'rec_AAAAAAAAAAAAAAAAAAAAAA'])
      expect(await adapter.get(id)).toBeUndefined();
  });

  it('answers check() and logs nothing of the registry', async () => {
    await adapter.check();
    expect(log.lines).toEqual([]);
  });
});

describe('PostgresAdapter with registry rows to skip and other mappings', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ seed: true });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('holds a weapon whose rows make no valid record as incomplete, logging its key and rules but none of its data', async () => {
    await db.pool.query(
      `INSERT INTO weapons (weapon_id, make, serial_no, category, made_in) VALUES (100, 'Walther', 'QQ-7001', 'banana', 'be'), (101, 'Walther', 'QQ-7002', 'pistol', 'DEU')`,
    );
    await db.pool.query(`INSERT INTO owners (owner_id, kind, name) VALUES (100, 'person', 'Alice Secretperson')`);
    await db.pool.query(
      `INSERT INTO transfers (weapon_id, transfer_date, kind, to_owner_id) VALUES (101, '2020-01-02', 'SALE', 100), (101, '2020-01-03', 'GIFT', 100)`,
    );
    const { logger, lines } = capturedLogger();
    const adapter = exampleAdapter(db, logger);
    await adapter.open();
    try {
      const [banana, gift, ...others] = await findEntries(adapter, 'QQ700*');
      expect(others).toEqual([]);
      expect(banana).toEqual({
        incomplete: true,
        recordId: 'pg_100',
        identity: { manufacturer: 'Walther', model: '', serialNumber: 'QQ-7001', calibre: '', type: 0 },
        controlComponentSerial: '',
        problems: [
          {
            field: 'record.manufacture.type',
            rule: 'code',
            message:
              'column "category" (weapons.columns.type): the registry code is neither in the mapping\'s values nor a known weapon type',
          },
          {
            field: 'record.manufacture.country_of_manufacture',
            rule: 'country',
            message: expect.stringMatching(/^column "made_in" \(weapons.columns.countryOfManufacture\): /) as string,
          },
        ],
        source: 'postgres',
      });
      expect(gift && isIncomplete(gift) ? gift.problems : undefined).toEqual([
        {
          field: 'record.events[1].type',
          rule: 'code',
          message: expect.stringMatching(/^column "kind" \(events.columns.type\): /) as string,
        },
      ]);
      expect(await adapter.get('pg_100')).toEqual(banana);
      const warnings = lines.map(
        (l) => JSON.parse(l) as { weaponKey: string; problems: { field: string; rule: string; mapping: string }[] },
      );
      expect(warnings.map((w) => w.weaponKey)).toEqual(['100', '101', '100']);
      expect(warnings[0]?.problems).toEqual([
        { field: 'record.manufacture.type', rule: 'code', mapping: 'weapons.columns.type' },
        {
          field: 'record.manufacture.country_of_manufacture',
          rule: 'country',
          mapping: 'weapons.columns.countryOfManufacture',
        },
      ]);
      expect(warnings[1]?.problems).toEqual([
        { field: 'record.events[1].type', rule: 'code', mapping: 'events.columns.type' },
      ]);
      for (const text of ['"be"', 'banana', 'GIFT', 'QQ-700', 'Secretperson', 'Walther'])
        expect(lines.join('\n')).not.toContain(text);
    } finally {
      await adapter.close();
      await db.pool.query('DELETE FROM transfers WHERE weapon_id >= 100; DELETE FROM weapons WHERE weapon_id >= 100');
    }
  });

  it('fails to open, naming the mapping path, when a mapped table or column does not exist', async () => {
    const cases: [(j: MappingJson) => void, string, RegExp][] = [
      [
        (j) => (j.events.columns.licence = 'l.licence_number'),
        'events.columns.licence',
        /table "licences" has no column "licence_number"/,
      ],
      [
        (j) => (j.events.joins[1].on = { 'transfers.to_owner': 'recipient.owner_id' }),
        'events.joins[1].on["transfers.to_owner"]',
        /no column "to_owner"/,
      ],
      [(j) => (j.weapons.table = 'Weapons'), 'weapons.table', /no table "Weapons"/],
      [(j) => (j.schema = 'registry'), 'weapons.table', /schema "registry"/],
      // The column exists but is a number: the query of the section cannot run.
      [(j) => (j.weapons.columns.recordedAt = 'year_made'), 'weapons', /cannot answer the query/],
    ];
    for (const [change, field, message] of cases) {
      const adapter = exampleAdapter(db, testLogger(), { mapping: parsePostgresMapping(mappingWith(change)) });
      const error = await rejection(adapter.open());
      expect(error.code, field).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
      expect(error.field).toBe(field);
      expect(error.message).toMatch(message);
      await rejection(adapter.check()); // not open
    }
  });

  it('searches a pre-normalised serial column and derives a manufacture event from the weapon row', async () => {
    await db.pool.query(`ALTER TABLE weapons ADD COLUMN serial_key text, ADD COLUMN made_on date`);
    await db.pool.query(
      `UPDATE weapons SET serial_key = regexp_replace(upper(serial_no), '[^[:alnum:]]', '', 'g') WHERE weapon_id <> 7`,
    );
    await db.pool.query(`UPDATE weapons SET made_on = '2014-05-02' WHERE weapon_id = 4`);
    const mapping = parsePostgresMapping(
      mappingWith((j) => {
        j.weapons.serialNormalised = 'serial_key';
        j.weapons.manufactureEvent = { date: 'made_on', place: { const: 'Deutsch-Wagram' }, agency: 'make' };
        j.weapons.columns.status = { const: 'registered' };
        j.events.columns.type.values.MANUFACTURE = null;
      }),
    );
    const adapter = exampleAdapter(db, testLogger(), { mapping });
    await adapter.open();
    try {
      const [glock] = await find(adapter, 'BDX512');
      expect(glock?.events[0]).toEqual(
        WeaponEvent.fromPartial({
          type: E.WEAPON_EVENT_TYPE_MANUFACTURED,
          date: '2014-05-02',
          place: 'Deutsch-Wagram',
          agency: 'Glock',
        }),
      );
      expect(glock?.events).toHaveLength(4);
      expect(glock?.status).toBe(WeaponStatus.WEAPON_STATUS_REGISTERED);
      // The FAL's MANUFACTURE transfer is now skipped and it has no made_on.
      expect((await find(adapter, 'FN19980042'))[0]?.events.map((e) => e.type)).toEqual([E.WEAPON_EVENT_TYPE_EXPORTED]);
      // The Beretta has no serial_key: the column is what is searched.
      expect(await find(adapter, 'PX40771')).toEqual([]);
    } finally {
      await adapter.close();
    }
  });
});

describe('WeaponRecords written into the example registry', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('read back as the same records', async () => {
    const ev = (type: WeaponEventType, date: string, fields: Partial<WeaponEvent> = {}) =>
      WeaponEvent.fromPartial({ type, date, ...fields });
    const records = [
      WeaponRecord.fromPartial({
        manufacture: {
          manufacturer: 'FN Herstal',
          countryOfManufacture: 'BEL',
          serialNumber: 'FN-1998-0042',
          model: 'FAL',
          type: WeaponType.WEAPON_TYPE_RIFLE,
          calibre: '7.62x51mm',
          year: 1998,
        },
        imports: [{ country: 'KEN', year: 1999 }],
        events: [
          ev(E.WEAPON_EVENT_TYPE_MANUFACTURED, '1998-03-02', {
            place: 'Herstal',
            agency: 'FN Herstal',
            details: 'batch 7',
          }),
          ev(E.WEAPON_EVENT_TYPE_EXPORTED, '1999-05-10', {
            destination: 'KEN',
            licence: 'BE-EX-1999-17',
            endUser: 'Kenya Police',
            place: 'Herstal',
          }),
          ev(E.WEAPON_EVENT_TYPE_IMPORTED, '1999-05-10', {
            origin: 'BEL',
            licence: 'KE-IM-1999-3',
            agency: 'KRA Customs',
          }),
          ev(E.WEAPON_EVENT_TYPE_SEIZED, '2021-07-30', { place: 'Mandera', agency: 'Kenya Police' }),
        ],
        notes: 'seen in a UN panel report',
      }),
      WeaponRecord.fromPartial({
        manufacture: { manufacturer: 'SIG Sauer', serialNumber: '', type: WeaponType.WEAPON_TYPE_PISTOL },
        controlComponent: { kind: ComponentKind.COMPONENT_KIND_LOWER_RECEIVER, serialNumber: 'FCU 1', marking: '' },
        events: [
          ev(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2020-01-01', { endUser: 'A. Person', licence: 'L-1' }),
          ev(E.WEAPON_EVENT_TYPE_LOST, '2020-01-01'),
          ev(E.WEAPON_EVENT_TYPE_FOUND, '2020-01-01', { place: 'Gent', agency: 'Politie Gent' }),
          ev(E.WEAPON_EVENT_TYPE_SURRENDERED, '2020-02-01', { place: 'Gent', agency: 'Politie Gent' }),
          ev(E.WEAPON_EVENT_TYPE_DEACTIVATED, '2020-03-01'),
          ev(E.WEAPON_EVENT_TYPE_REACTIVATED, '2020-04-01'),
          ev(E.WEAPON_EVENT_TYPE_CONVERTED, '2020-05-01', { details: 'to semi-automatic' }),
          ev(E.WEAPON_EVENT_TYPE_DESTROYED, '2020-06-01', { agency: 'DSU' }),
        ],
      }),
    ];
    for (const record of records) expect(recordViolations(record)).toEqual([]);
    const ids = await insertRegistryRecords(db, records);
    const adapter = exampleAdapter(db, testLogger());
    await adapter.open();
    try {
      for (const [i, record] of records.entries()) {
        const entry = await adapter.get(ids[i] ?? '');
        const read = entry && complete(entry);
        expect(read?.manufacture).toEqual(record.manufacture);
        expect(read?.controlComponent).toEqual(record.controlComponent);
        expect(read?.imports).toEqual(record.imports);
        expect(read?.events).toEqual(record.events);
        expect(read?.notes).toEqual(record.notes);
      }
      expect((await find(adapter, 'fcu1')).map((r) => r.recordId)).toEqual([ids[1]]);
      expect(complete((await adapter.get(ids[1] ?? '')) as RegistryEntry).status).toBe(
        WeaponStatus.WEAPON_STATUS_DESTROYED,
      );
    } finally {
      await adapter.close();
    }
  });
});

describe('PostgresAdapter when the registry is away', () => {
  it('fails UNAVAILABLE, retryable, without the password, once the server has stopped', async () => {
    const server = await startPostgres();
    const password = 'S3cret-Pa55word';
    const url = databaseUrl(server.url, 'postgres', password);
    const adapter = exampleAdapter({ url }, testLogger(), {
      mapping: parsePostgresMapping({
        schema: 'pg_catalog',
        weapons: {
          table: 'pg_class',
          key: 'oid',
          columns: { manufacturer: 'relname', serialNumber: 'relname', type: { const: 'OTHER' } },
        },
      }),
    });
    await adapter.open();
    await adapter.check();
    expect(await find(adapter, 'NOSUCHSERIAL')).toEqual([]);
    await server.stop();
    for (const call of [() => adapter.check(), () => find(adapter, 'FN19980042'), () => adapter.get('pg_1')]) {
      const error = await rejection(call());
      expect(error.code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
      expect(error.retryable).toBe(true);
      expect(error.message).not.toContain(password);
      expect(JSON.stringify(error.toDetail())).not.toContain(password);
    }
    await adapter.close();
    await server.stop(); // idempotent
  });

  it('fails to open UNAVAILABLE when nothing listens, without the password', async () => {
    const password = 'An0ther-Secret';
    const adapter = exampleAdapter({ url: `postgres://tracenet:${password}@127.0.0.1:1/registry` }, testLogger());
    const error = await rejection(adapter.open());
    expect(error.code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain(password);
    await adapter.close();
  });

  it('releases its connections on close(), twice harmlessly', async () => {
    const db = await createTestDatabase();
    const adapter = exampleAdapter(db, testLogger());
    const connections = async () =>
      Number(
        (
          await db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tracenet-registry'`,
            [db.name],
          )
        ).rows[0]?.n,
      );
    try {
      await adapter.open();
      await Promise.all([adapter.check(), find(adapter, 'X1'), adapter.check()]);
      expect(await connections()).toBeGreaterThan(0);
      await adapter.close();
      await adapter.close();
      await expect.poll(connections, { timeout: 2_000 }).toBe(0);
      expect((await rejection(adapter.check())).code).toBe(ErrorCode.ERROR_CODE_UNAVAILABLE);
      await adapter.open(); // and it opens again
      await adapter.check();
      await adapter.close();
    } finally {
      await db.drop();
    }
  });
});
