/**
 * The PostgreSQL adapter on a registry with a French schema of its own (armes, mouvements,
 * signalement) and deliberately broken rows: no row vanishes (held but incomplete, or unreadable
 * for `registry check`), codes translate on any field, reports of loss and theft come from the
 * registry, and a mapping that makes most rows useless is refused at open.
 */
import {
  ErrorCode,
  InterestCategory,
  TracenetError,
  WeaponEventType,
  type WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AliasTable } from '../../src/records/alias-table.js';
import { serialPattern } from '../../src/records/serial-pattern.js';
import {
  type HeldIncomplete,
  isIncomplete,
  isUnreadable,
  type RegistryEntry,
  type UnreadableRow,
} from '../../src/registry/adapter.js';
import { PostgresAdapter } from '../../src/registry/postgres.js';
import { parsePostgresMapping } from '../../src/registry/postgres-mapping.js';
import { Registry } from '../../src/registry/registry.js';
import { testLogger } from '../support/nodes.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { FRENCH_REGISTRY_SQL, frenchMapping } from './french-registry.js';

function adapterOn(
  db: TestDatabase,
  mapping = frenchMapping(),
  options: { sampleRows?: number; pageRows?: number } = {},
) {
  return new PostgresAdapter({
    url: db.url,
    mapping: parsePostgresMapping(mapping),
    poolSize: 2,
    statementTimeoutMs: 5_000,
    logger: testLogger(),
    ...options,
  });
}

function held(entry: RegistryEntry | undefined): HeldIncomplete {
  if (!entry || !isIncomplete(entry))
    throw new Error(`expected a weapon held but incomplete, got ${JSON.stringify(entry)}`);
  return entry;
}

function complete(entry: RegistryEntry | undefined): WeaponRecord {
  if (!entry || isIncomplete(entry)) throw new Error(`expected a record, got ${JSON.stringify(entry)}`);
  return entry;
}

async function rejection(promise: Promise<unknown>): Promise<TracenetError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TracenetError)) throw new Error(`expected a TracenetError, got ${String(error)}`);
  return error;
}

describe('PostgresAdapter on a French registry with broken rows', () => {
  let db: TestDatabase;
  let adapter: PostgresAdapter;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(FRENCH_REGISTRY_SQL);
    adapter = adapterOn(db);
    await adapter.open(); // 6 broken weapon rows of 201: the mapping is fine
  });
  afterAll(async () => {
    await adapter?.close();
    await db?.drop();
  });

  it('translates codes on text fields and reads codes it does not list as they are', async () => {
    const two = complete(await adapter.get('pg_2'));
    expect(two.manufacture).toMatchObject({ countryOfManufacture: 'FRA', type: WeaponType.WEAPON_TYPE_PISTOL });
    expect(complete(await adapter.get('pg_1')).manufacture?.countryOfManufacture).toBe('FRA');
    const exported = complete(await adapter.get('pg_3'));
    expect(exported.events.map((e) => [e.type, e.destination])).toEqual([
      [WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED, ''],
      [WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED, 'KEN'],
    ]);
  });

  it('finds a weapon without a category as held but incomplete, by its serial and identity', async () => {
    const [seven, ...others] = await adapter.findBySerial(serialPattern('F0007'), 10);
    expect(others).toEqual([]);
    expect(held(seven)).toEqual({
      incomplete: true,
      recordId: 'pg_7',
      identity: { manufacturer: 'MAS', model: 'MAS 1950', serialNumber: 'F-0007', calibre: '9x19mm', type: 0 },
      controlComponentSerial: '',
      problems: [
        {
          field: 'record.manufacture.type',
          rule: 'required',
          message: 'column "categorie" (weapons.columns.type): the weapon type is required',
        },
      ],
      source: 'postgres',
    });
    expect(await adapter.get('pg_7')).toEqual(seven);
  });

  it('names the event and the column of a bad event row, and the column of an untranslated code', async () => {
    expect(held(await adapter.get('pg_9')).problems).toEqual([
      {
        field: 'record.events[1].date',
        rule: 'required',
        message: expect.stringMatching(/^column "date_mvt" \(events\.columns\.date\): /) as string,
      },
      // The record rules want the end user of a transfer: this mapping has no column for it.
      {
        field: 'record.events[1].end_user',
        rule: 'required',
        message: 'not mapped (events.columns.endUser): the end user of a transferred event is required',
      },
    ]);
    expect(held(await adapter.get('pg_8')).problems).toEqual([
      {
        field: 'record.manufacture.country_of_manufacture',
        rule: 'country',
        message: expect.stringMatching(/^column "pays" \(weapons\.columns\.countryOfManufacture\): /) as string,
      },
    ]);
  });

  it('holds a weapon without a serial under its id, though no search can find it', async () => {
    const ten = held(await adapter.get('pg_10'));
    expect(ten.identity?.serialNumber).toBe('');
    expect(ten.problems.map((p) => [p.field, p.rule])).toEqual([['record.manufacture.serial_number', 'required']]);
  });

  it('reads the most recent active report as the interest of a weapon', async () => {
    expect(complete(await adapter.get('pg_20')).interest).toEqual({
      category: InterestCategory.INTEREST_CATEGORY_STOLEN,
      date: '2023-01-05',
      agency: 'Police nationale',
      reference: 'PV-1',
      contactPoint: 'OCRTIS, +33 1 00 00 00 00',
    });
    expect(complete(await adapter.get('pg_21')).interest).toBeUndefined(); // withdrawn
    expect(complete(await adapter.get('pg_22')).interest).toBeUndefined(); // LEVEE: null
    expect(complete(await adapter.get('pg_25')).interest?.category).toBe(InterestCategory.INTEREST_CATEGORY_STOLEN);
    expect(complete(await adapter.get('pg_26')).interest).toBeUndefined();
  });

  it('holds a weapon whose active report breaks the report rules as incomplete', async () => {
    expect(held(await adapter.get('pg_23')).problems).toEqual([
      {
        field: 'record.interest.agency',
        rule: 'required',
        message: 'column "service" (reports.columns.agency): the reporting agency is required',
      },
    ]);
    expect(held(await adapter.get('pg_24')).problems.map((p) => [p.field, p.rule, p.message])).toEqual([
      [
        'record.interest.category',
        'code',
        'column "nature" (reports.columns.category): the registry code is neither in the mapping\'s values nor a known interest category',
      ],
    ]);
  });

  it('finds reported weapons alone, exact and by wildcard, within the limit', async () => {
    const ids = async (serial: string, limit = 100) =>
      (await adapter.findReported(serialPattern(serial), limit)).map((r) => r.recordId);
    expect(await ids('F0020')).toEqual(['pg_20']);
    expect(await ids('F0021')).toEqual([]);
    expect(await ids('F0026')).toEqual([]);
    expect(await ids('F002*')).toEqual(['pg_20', 'pg_25']);
    expect(await ids('F00??')).toEqual(['pg_20', 'pg_25']);
    expect(await ids('F002*', 1)).toEqual(['pg_20']);
    expect(await ids('F002*', 0)).toEqual([]);
    for (const record of await adapter.findReported(serialPattern('F00*'), 100)) expect(record.interest).toBeDefined();
  });

  it('scans every row in key order, page by page, counting unreadable rows', async () => {
    const paged = adapterOn(db, frenchMapping(), { pageRows: 16 });
    await paged.open();
    try {
      const seen: (RegistryEntry | UnreadableRow)[] = [];
      await paged.scan((entry) => {
        seen.push(entry);
      });
      expect(seen).toHaveLength(201);
      const keyed = seen.filter((e) => !isUnreadable(e) || e.key !== '');
      expect(keyed.map((e) => (isUnreadable(e) ? `pg_${e.key}` : e.recordId))).toEqual(
        Array.from({ length: 200 }, (_, i) => `pg_${i + 1}`),
      );
      const unreadable = seen.filter(isUnreadable);
      expect(unreadable.map((u) => u.key)).toEqual(['10', '']);
      expect(unreadable[1]?.problems).toEqual([
        { field: 'record.record_id', rule: 'required', message: 'column "id_arme" (weapons.key): the row has no key' },
      ]);
      const incomplete = seen.filter((e): e is HeldIncomplete => !isUnreadable(e) && isIncomplete(e));
      expect(incomplete.map((e) => e.recordId)).toEqual(['pg_7', 'pg_8', 'pg_9', 'pg_23', 'pg_24']);
    } finally {
      await paged.close();
    }
  });

  it('gives the registry its incomplete matches, and refuses one as a record', async () => {
    const registry = new Registry({
      adapters: [adapter],
      aliases: () => AliasTable.EMPTY,
      clock: { now: Date.now },
      logger: testLogger(),
    });
    const query = {
      manufacturer: 'MAS',
      serialNumber: 'F-0007',
      model: '',
      calibre: '',
      type: WeaponType.WEAPON_TYPE_PISTOL,
    };
    const found = await registry.identify(query);
    expect(found.records).toEqual([]);
    expect(found.incomplete.map((e) => e.recordId)).toEqual(['pg_7']);
    const refusal = await rejection(registry.get('pg_7'));
    expect([refusal.code, refusal.field, refusal.rule]).toEqual([
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'record_id',
      'held_incomplete',
    ]);
    expect(refusal.message).toContain('record.manufacture.type');
  });

  it('refuses to open on a mapping that makes most rows invalid, naming the field and its column', async () => {
    const mapping = frenchMapping() as { weapons: { columns: Record<string, unknown> } };
    mapping.weapons.columns.type = { column: 'categorie_vide', values: { PA: 'PISTOL' } };
    const refused = adapterOn(db, mapping);
    const error = await rejection(refused.open());
    expect([error.code, error.field, error.rule]).toEqual([
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'weapons.columns.type',
      'mapping',
    ]);
    expect(error.message).toMatch(/column "categorie_vide": 200 of 201 weapon rows have no value/);
    await refused.close();
    // The same on a sample of 50 rows, and a check only of what a sample shows.
    const sampled = adapterOn(db, mapping, { sampleRows: 50 });
    expect((await rejection(sampled.open())).message).toMatch(/50 of 50 weapon rows have no value/);
    await sampled.close();
    const unchecked = adapterOn(db, mapping, { sampleRows: 0 });
    await unchecked.open();
    expect(held(await unchecked.get('pg_1')).problems[0]?.field).toBe('record.manufacture.type');
    await unchecked.close();
  });

  it('refuses to open when most codes of a field are not translated', async () => {
    const mapping = frenchMapping() as { weapons: { columns: Record<string, unknown> } };
    mapping.weapons.columns.type = { column: 'categorie', values: { RV: 'REVOLVER' } };
    const refused = adapterOn(db, mapping);
    const error = await rejection(refused.open());
    expect(error.field).toBe('weapons.columns.type');
    expect(error.message).toMatch(
      /column "categorie": 200 of 201 weapon rows hold a code the mapping does not translate/,
    );
    await refused.close();
  });
});

describe('PostgresAdapter on a registry where most weapons were exported', () => {
  it('refuses a mapping that leaves out the destination, naming the field', async () => {
    const db = await createTestDatabase();
    try {
      await db.pool.query(FRENCH_REGISTRY_SQL);
      await db.pool.query(
        `INSERT INTO mouvements SELECT 2000 + i, i, DATE '2010-01-01', 'EXP', 'KE' FROM generate_series(1, 200) AS i`,
      );
      const complete = adapterOn(db);
      await complete.open();
      await complete.close();
      const mapping = frenchMapping() as { events: { columns: Record<string, unknown> } };
      delete mapping.events.columns.destination;
      const refused = adapterOn(db, mapping);
      const error = await rejection(refused.open());
      expect([error.field, error.rule]).toEqual(['events.columns.destination', 'mapping']);
      expect(error.message).toMatch(
        /^registry mapping events\.columns\.destination: not mapped, but 200 of 201 weapon rows need it \(rule "required"\)/,
      );
      await refused.close();
    } finally {
      await db.drop();
    }
  });
});
