import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WeaponRecord } from '@tracenet/proto';
import { CONTRACT_ALIASES_CSV, CONTRACT_NOW, CONTRACT_RECORDS, type ContractAdapter } from '@tracenet/sdk/testing';
import { initSodium } from '../../src/crypto/sodium.js';
import { parseAliasCsv } from '../../src/records/alias-table.js';
import {
  COMPONENT_KIND,
  enumShortName,
  EVENT_TYPE,
  WEAPON_STATUS,
  WEAPON_TYPE,
} from '../../src/records/record-json.js';
import type { RegistryAdapter } from '../../src/registry/adapter.js';
import { CsvFolderAdapter } from '../../src/registry/csv-folder.js';
import { LocalRecordsAdapter } from '../../src/registry/local.js';
import { Registry } from '../../src/registry/registry.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { startRecordBed } from '../records/support.js';
import { testLogger } from '../support/nodes.js';

/** 1 June 2026, the "now" of the contract. */
export const NOW = CONTRACT_NOW;

await initSodium();
/** The alias table of the contract: FN Herstal is also "FN" and "Fabrique Nationale". */
export const ALIASES = parseAliasCsv(CONTRACT_ALIASES_CSV);

/** The weapons every adapter is loaded with: those of the published contract (@tracenet/sdk/testing). */
export const FIXTURE = CONTRACT_RECORDS;

/** The registry of the node's sources around `adapter`, as the contract asks it. */
export function contractRegistry(adapter: RegistryAdapter): Registry {
  return new Registry({
    adapters: [adapter],
    aliases: () => ALIASES,
    clock: new ManualClock(NOW),
    logger: testLogger(),
  });
}

/** The contract's records as a CSV file in the import format (docs/records.md 5.1). */
export function recordsToCsv(records: readonly WeaponRecord[]): string {
  const maxEvents = Math.max(...records.map((r) => r.events.length));
  const eventFields = [
    'type',
    'date',
    'place',
    'agency',
    'destination',
    'origin',
    'licence',
    'end_user',
    'details',
  ] as const;
  const header = [
    'manufacturer',
    'country_of_manufacture',
    'serial_number',
    'model',
    'type',
    'calibre',
    'year',
    'status',
    'control_component_kind',
    'control_component_serial_number',
  ];
  for (let n = 1; n <= maxEvents; n += 1) header.push(...eventFields.map((f) => `event${n}_${f}`));
  const quote = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
  const rows = records.map((r) => {
    const m = r.manufacture;
    const cells = [
      m?.manufacturer ?? '',
      m?.countryOfManufacture ?? '',
      m?.serialNumber ?? '',
      m?.model ?? '',
      enumShortName(WEAPON_TYPE, m?.type ?? 0),
      m?.calibre ?? '',
      m?.year ? String(m.year) : '',
      enumShortName(WEAPON_STATUS, r.status),
      r.controlComponent ? enumShortName(COMPONENT_KIND, r.controlComponent.kind) : '',
      r.controlComponent?.serialNumber ?? '',
    ];
    for (let n = 0; n < maxEvents; n += 1) {
      const e = r.events[n];
      cells.push(
        ...(e
          ? [
              enumShortName(EVENT_TYPE, e.type),
              e.date,
              e.place,
              e.agency,
              e.destination,
              e.origin,
              e.licence,
              e.endUser,
              e.details,
            ]
          : eventFields.map(() => '')),
      );
    }
    return cells.map(quote).join(',');
  });
  return `${[header.join(','), ...rows].join('\n')}\n`;
}

/** One way of holding the fixture: the published contract runs against each. */
export interface ContractSubject {
  readonly name: string;
  createAdapter(records: readonly WeaponRecord[]): Promise<ContractAdapter>;
}

export const SUBJECTS: readonly ContractSubject[] = [
  {
    name: 'leveldb (the node’s own store)',
    async createAdapter(records) {
      const bed = await startRecordBed();
      for (const r of records) await bed.records.put(r);
      bed.clock.set(NOW);
      return { adapter: new LocalRecordsAdapter(bed.records), cleanup: () => bed.cleanup() };
    },
  },
  {
    name: 'postgres (the example national registry)',
    async createAdapter(records) {
      // Loaded here, so that the other subjects need no PostgreSQL.
      const { createTestDatabase, insertRegistryRecords, EXAMPLE_MAPPING_PATH } = await import(
        '../support/postgres.js'
      );
      const { PostgresAdapter } = await import('../../src/registry/postgres.js');
      const db = await createTestDatabase();
      await insertRegistryRecords(db, records);
      const adapter = await PostgresAdapter.fromFile(EXAMPLE_MAPPING_PATH, {
        url: db.url,
        poolSize: 2,
        statementTimeoutMs: 5000,
        logger: testLogger(),
      });
      return { adapter, cleanup: () => db.drop() };
    },
  },
  {
    name: 'csv (a folder of exports)',
    async createAdapter(records) {
      const folder = await mkdtemp(join(tmpdir(), 'tracenet-csv-registry-'));
      // Two files: the adapter reads the whole folder.
      await writeFile(join(folder, 'firearms-a.csv'), recordsToCsv(records.slice(0, 3)));
      await writeFile(join(folder, 'firearms-b.csv'), recordsToCsv(records.slice(3)));
      return {
        adapter: new CsvFolderAdapter({ folder, clock: new ManualScheduler(NOW), logger: testLogger(), watch: false }),
        cleanup: () => rm(folder, { recursive: true, force: true }),
      };
    },
  },
];
