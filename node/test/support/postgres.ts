/**
 * PostgreSQL for tests: a fresh database per caller on the test run's server
 * (./postgres-global.ts), the example registry of docs/examples/registry loaded into it, and
 * {@link insertRegistryRecords} to write WeaponRecords into that registry — so that the contract
 * suite loads the same fixture records into PostgreSQL as into the other adapters.
 *
 * @example
 * ```ts
 * const db = await createTestDatabase();
 * const ids = await insertRegistryRecords(db, fixtureRecords);
 * const adapter = exampleAdapter(db, testLogger());
 * await adapter.open();
 * // ... adapter.get(ids[0]) ...
 * await adapter.close();
 * await db.drop();
 * ```
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeaponEventType, type WeaponRecord } from '@tracenet/proto';
import pg from 'pg';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import { PostgresAdapter, postgresRecordId } from '../../src/registry/postgres.js';
import { parsePostgresMapping, type PostgresMapping } from '../../src/registry/postgres-mapping.js';

/** The example registry: schema.sql, seed.sql, postgres-mapping.json. */
export const EXAMPLE_REGISTRY_DIR = fileURLToPath(new URL('../../../docs/examples/registry/', import.meta.url));
export const EXAMPLE_MAPPING_PATH = join(EXAMPLE_REGISTRY_DIR, 'postgres-mapping.json');

/** The example mapping as JSON, for tests that change a part of it. */
export function exampleMappingJson(): Record<string, unknown> {
  return JSON.parse(readFileSync(EXAMPLE_MAPPING_PATH, 'utf8')) as Record<string, unknown>;
}

/** A database of its own on the test server. */
export interface TestDatabase {
  readonly name: string;
  /** URL of this database (superuser `tracenet`, no password). */
  readonly url: string;
  /** A small pool on it, for setting up and inspecting. */
  readonly pool: pg.Pool;
  /** Closes the pool and drops the database (connections still open to it are ended); idempotent. */
  drop(): Promise<void>;
}

/** URL of the test run's PostgreSQL server; throws why there is none. */
export function testServerUrl(): string {
  const url = inject('postgresUrl');
  if (url === '') throw new Error(`no PostgreSQL server for the tests: ${inject('postgresError')}`);
  return url;
}

/** `url` with another database (and, when given, a password: the test server ignores it). */
export function databaseUrl(url: string, database: string, password?: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (password !== undefined) u.password = password;
  return u.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a database with a unique name and loads docs/examples/registry/schema.sql into it
 * (and seed.sql with `seed: true`).
 */
export async function createTestDatabase(options: { readonly seed?: boolean } = {}): Promise<TestDatabase> {
  const name = `tracenet_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrl(testServerUrl(), name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  let dropped: Promise<void> | undefined;
  const drop = () =>
    (dropped ??= (async () => {
      await pool.end();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    })());
  try {
    await pool.query(await readFile(join(EXAMPLE_REGISTRY_DIR, 'schema.sql'), 'utf8'));
    if (options.seed) await pool.query(await readFile(join(EXAMPLE_REGISTRY_DIR, 'seed.sql'), 'utf8'));
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url, pool, drop };
}

/**
 * A PostgresAdapter (not opened) on the database with the example mapping, or `mapping`.
 * `url` replaces the database's URL (e.g. one with a password).
 */
export function exampleAdapter(
  db: Pick<TestDatabase, 'url'>,
  logger: Logger,
  options: { readonly mapping?: PostgresMapping; readonly url?: string } = {},
): PostgresAdapter {
  return new PostgresAdapter({
    url: options.url ?? db.url,
    mapping: options.mapping ?? parsePostgresMapping(exampleMappingJson()),
    poolSize: 2,
    statementTimeoutMs: 5_000,
    logger,
  });
}

/** The example mapping's codes, read backwards: enum value → the registry's code. */
function registryCodes(): { category: Map<number, string>; part: Map<number, string>; transfer: Map<number, string> } {
  const mapping = parsePostgresMapping(exampleMappingJson());
  const invert = (value: { source: string; values?: ReadonlyMap<string, string | number | null> } | undefined) => {
    const codes = new Map<number, string>();
    for (const [code, number] of value?.values ?? [])
      if (typeof number === 'number' && !codes.has(number)) codes.set(number, code);
    return codes;
  };
  return {
    category: invert(mapping.weapons.columns.type),
    part: invert(mapping.weapons.columns.controlComponentKind),
    transfer: invert(mapping.events?.columns.type),
  };
}

/**
 * Writes records into the example registry (weapons, owners, licences, transfers) the way a
 * registry would hold them, with the codes of the example mapping; returns the adapter's record
 * id of each, in order. Every event becomes a transfer (in order, so same-day events keep their
 * order); an end user becomes an owner, a licence a licence. The example registry has no place
 * for components other than the control component, secondary marks, the manufacture method,
 * more than one import marking, a government transfer, an interest report or a status (derived
 * from the last event when read back): those are not written.
 */
export async function insertRegistryRecords(
  db: Pick<TestDatabase, 'pool'>,
  records: readonly WeaponRecord[],
): Promise<string[]> {
  const codes = registryCodes();
  const client = await db.pool.connect();
  const or = (text: string) => (text === '' ? null : text);
  const code = (map: Map<number, string>, value: number, what: string) => {
    const found = map.get(value);
    if (found === undefined) throw new Error(`the example mapping has no registry code for ${what} ${value}`);
    return found;
  };
  try {
    await client.query('BEGIN');
    const owners = new Map<string, string>();
    const owner = async (name: string, kind: string): Promise<string | null> => {
      if (name === '') return null;
      let id = owners.get(name);
      if (id === undefined) {
        id = String(
          (
            await client.query<{ owner_id: string }>(
              'INSERT INTO owners (kind, name) VALUES ($1, $2) RETURNING owner_id',
              [kind, name],
            )
          ).rows[0]?.owner_id,
        );
        owners.set(name, id);
      }
      return id;
    };
    const ids: string[] = [];
    for (const record of records) {
      const m = record.manufacture;
      const firstImport = record.imports[0];
      const control = record.controlComponent;
      const weapon = await client.query<{ weapon_id: string }>(
        `INSERT INTO weapons (make, model, serial_no, calibre, category, made_in, year_made, import_country, import_year, control_part, control_serial, notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING weapon_id`,
        [
          m?.manufacturer ?? '',
          or(m?.model ?? ''),
          m?.serialNumber ?? '',
          or(m?.calibre ?? ''),
          code(codes.category, m?.type ?? 0, 'weapon type'),
          or(m?.countryOfManufacture ?? ''),
          m?.year ? m.year : null,
          or(firstImport?.country ?? ''),
          firstImport?.year ? firstImport.year : null,
          control && control.serialNumber !== '' ? code(codes.part, control.kind, 'component kind') : null,
          or(control?.serialNumber ?? ''),
          or(record.notes),
        ],
      );
      const weaponId = String(weapon.rows[0]?.weapon_id);
      for (const event of record.events) {
        const recipient = await owner(
          event.endUser,
          event.type === WeaponEventType.WEAPON_EVENT_TYPE_TRANSFERRED ? 'person' : 'agency',
        );
        let licenceId: string | null = null;
        if (event.licence !== '') {
          const licence = await client.query<{ licence_id: string }>(
            'INSERT INTO licences (licence_no, holder_id, issued) VALUES ($1, $2, $3) ON CONFLICT (licence_no) DO UPDATE SET licence_no = EXCLUDED.licence_no RETURNING licence_id',
            [event.licence, recipient, event.date],
          );
          licenceId = String(licence.rows[0]?.licence_id);
        }
        await client.query(
          `INSERT INTO transfers (weapon_id, transfer_date, kind, to_owner_id, licence_id, from_country, to_country, place, agency, remarks)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            weaponId,
            event.date,
            code(codes.transfer, event.type, 'event type'),
            recipient,
            licenceId,
            or(event.origin),
            or(event.destination),
            or(event.place),
            or(event.agency),
            or(event.details),
          ],
        );
      }
      ids.push(postgresRecordId(weaponId));
    }
    await client.query('COMMIT');
    return ids;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
