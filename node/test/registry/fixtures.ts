import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComponentKind, type WeaponEvent, WeaponEventType as E, type WeaponRecord, WeaponStatus, WeaponType } from '@tracenet/proto';
import { initSodium } from '../../src/crypto/sodium.js';
import { parseAliasCsv } from '../../src/lookup/aliases.js';
import { COMPONENT_KIND, enumShortName, EVENT_TYPE, WEAPON_STATUS, WEAPON_TYPE } from '../../src/records/record-json.js';
import type { RegistryAdapter } from '../../src/registry/adapter.js';
import { CsvFolderAdapter } from '../../src/registry/csv-folder.js';
import { LocalRecordsAdapter } from '../../src/registry/local.js';
import { Registry } from '../../src/registry/registry.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { startRecordBed } from '../records/support.js';
import { testLogger } from '../support/nodes.js';

/** 1 June 2026, the "now" of the contract. */
export const NOW = Date.UTC(2026, 5, 1);

await initSodium();
/** The alias table of the contract: FN Herstal is also "FN" and "Fabrique Nationale". */
export const ALIASES = parseAliasCsv('FN Herstal,FN,Fabrique Nationale\n');

function event(type: E, date: string, fields: Partial<WeaponEvent> = {}): WeaponEvent {
  return { type, date, place: '', agency: '', destination: '', origin: '', licence: '', endUser: '', details: '', ...fields };
}

function record(manufacture: Partial<NonNullable<WeaponRecord['manufacture']>>, events: WeaponEvent[], extra: Partial<WeaponRecord> = {}): WeaponRecord {
  return {
    recordId: '',
    manufacture: { manufacturer: '', countryOfManufacture: 'BEL', serialNumber: '', model: '', type: WeaponType.WEAPON_TYPE_RIFLE, calibre: '', year: 0, ...manufacture },
    imports: [],
    governmentTransfer: undefined,
    controlComponent: undefined,
    components: [],
    manufactureMethod: 0,
    secondaryMarks: [],
    status: WeaponStatus.WEAPON_STATUS_REGISTERED,
    events,
    recordedAtMs: 0,
    updatedAtMs: 0,
    notes: '',
    interest: undefined,
    ...extra,
  };
}

/**
 * The weapons every adapter is loaded with. Names say what each one is for; the serials are
 * written with separators so that matching must normalise them.
 */
export const FIXTURE = {
  /** Exported to KEN; 30-year manufacturing retention until 2028-03-02. */
  fal: record({ manufacturer: 'FN Herstal', serialNumber: 'FN-1998-0042', model: 'FAL', calibre: '7.62x51mm', year: 1998 }, [
    event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '1998-03-02', { place: 'Herstal' }),
    event(E.WEAPON_EVENT_TYPE_EXPORTED, '1999-05-10', { destination: 'KEN', licence: 'BE-EX-1999-17', endUser: 'Kenya Police' }),
  ], { status: WeaponStatus.WEAPON_STATUS_EXPORTED }),
  /** The same serial from another manufacturer: never the FN's identity. */
  beretta: record({ manufacturer: 'Beretta', countryOfManufacture: 'ITA', serialNumber: 'FN 1998 0042', model: '92FS', type: WeaponType.WEAPON_TYPE_PISTOL, calibre: '9x19mm', year: 2001 }, [
    event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2001-04-11'),
  ]),
  /** Spelled with an alias of FN Herstal. */
  minimi: record({ manufacturer: 'Fabrique Nationale', serialNumber: 'MN/4471', model: 'Minimi', type: WeaponType.WEAPON_TYPE_MACHINE_GUN, calibre: '5.56x45mm', year: 2004 }, [
    event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2004-09-30'),
  ]),
  /** Events out of date order in no source; two on one day keep their recorded order. */
  glock: record({ manufacturer: 'Glock', countryOfManufacture: 'AUT', serialNumber: 'GK-55123', model: '17', type: WeaponType.WEAPON_TYPE_PISTOL, calibre: '9x19mm', year: 2015 }, [
    event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2015-05-01', { place: 'Deutsch-Wagram' }),
    event(E.WEAPON_EVENT_TYPE_IMPORTED, '2015-09-01', { origin: 'AUT', licence: 'BE-IM-2015-88' }),
    event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2015-09-01', { endUser: 'Armurerie Dupont', licence: 'BE-DL-0042' }),
    event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2016-02-14', { endUser: 'J. Martin', licence: 'BE-PL-77812' }),
    event(E.WEAPON_EVENT_TYPE_STOLEN, '2020-06-01', { place: 'Liège', agency: 'Police fédérale', details: 'burglary' }),
  ], { status: WeaponStatus.WEAPON_STATUS_STOLEN }),
  /** A modular weapon found by its control component's serial. */
  mcx: record({ manufacturer: 'SIG Sauer', countryOfManufacture: 'USA', serialNumber: '', model: 'MCX', year: 2019 }, [event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2019-07-01')], {
    controlComponent: { kind: ComponentKind.COMPONENT_KIND_LOWER_RECEIVER, serialNumber: 'LR-77', marking: '' },
  }),
  /** Retention over since 1980-03-01: past any period. */
  webley: record({ manufacturer: 'Webley & Scott', countryOfManufacture: 'GBR', serialNumber: 'W 1950 7', model: 'Mk IV', type: WeaponType.WEAPON_TYPE_REVOLVER, year: 1950 }, [
    event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '1950-01-10'),
    event(E.WEAPON_EVENT_TYPE_DESTROYED, '1960-03-01', { agency: 'Ordnance' }),
  ], { status: WeaponStatus.WEAPON_STATUS_DESTROYED }),
} as const;

export type FixtureName = keyof typeof FIXTURE;

/** A registry loaded with {@link FIXTURE}, and the id each fixture record got in it. */
export interface ContractBed {
  readonly registry: Registry;
  readonly clock: ManualClock;
  readonly ids: Readonly<Record<FixtureName, string>>;
  cleanup(): Promise<void>;
}

/** Finds, for each fixture record, the record a registry holds for it (by normalised identity). */
async function idsOf(registry: Registry): Promise<Record<FixtureName, string>> {
  const ids = {} as Record<FixtureName, string>;
  for (const [name, r] of Object.entries(FIXTURE) as [FixtureName, WeaponRecord][]) {
    const serial = r.manufacture?.serialNumber || r.controlComponent?.serialNumber || '';
    const [found, ...more] = await registry.search({ manufacturer: r.manufacture?.manufacturer ?? '', serialNumber: serial, model: '', calibre: '', type: 0 }, { serialOnly: false });
    if (!found || more.length > 0) throw new Error(`the registry does not hold exactly one ${name}`);
    ids[name] = found.recordId;
  }
  return ids;
}

/** The contract's records as a CSV file in the import format (docs/records.md 5.1). */
export function recordsToCsv(records: readonly WeaponRecord[]): string {
  const maxEvents = Math.max(...records.map((r) => r.events.length));
  const eventFields = ['type', 'date', 'place', 'agency', 'destination', 'origin', 'licence', 'end_user', 'details'] as const;
  const header = ['manufacturer', 'country_of_manufacture', 'serial_number', 'model', 'type', 'calibre', 'year', 'status', 'control_component_kind', 'control_component_serial_number'];
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
          ? [enumShortName(EVENT_TYPE, e.type), e.date, e.place, e.agency, e.destination, e.origin, e.licence, e.endUser, e.details]
          : eventFields.map(() => '')),
      );
    }
    return cells.map(quote).join(',');
  });
  return `${[header.join(','), ...rows].join('\n')}\n`;
}

const records = Object.values(FIXTURE) as WeaponRecord[];

/** A registry over one adapter that holds the fixture, opened; `release` runs after it is closed. */
async function openBed(adapter: RegistryAdapter, release: () => Promise<unknown>): Promise<ContractBed> {
  const clock = new ManualClock(NOW);
  const registry = new Registry({ adapters: [adapter], aliases: () => ALIASES, clock, logger: testLogger() });
  await registry.open();
  return {
    registry,
    clock,
    ids: await idsOf(registry),
    cleanup: async () => {
      await registry.close();
      await release();
    },
  };
}

/** One way of holding the fixture: the same contract runs against each. */
export interface ContractSubject {
  readonly name: string;
  load(): Promise<ContractBed>;
}

export const SUBJECTS: readonly ContractSubject[] = [
  {
    name: 'leveldb (the node’s own store)',
    async load() {
      const bed = await startRecordBed();
      for (const r of records) await bed.records.put(r);
      const registry = new Registry({ adapters: [new LocalRecordsAdapter(bed.records)], aliases: () => ALIASES, clock: bed.clock, logger: testLogger() });
      bed.clock.set(NOW);
      return { registry, clock: bed.clock, ids: await idsOf(registry), cleanup: () => bed.cleanup() };
    },
  },
  {
    name: 'postgres (the example national registry)',
    async load() {
      // Loaded here, so that the other subjects need no PostgreSQL.
      const { createTestDatabase, insertRegistryRecords, EXAMPLE_MAPPING_PATH } = await import('../support/postgres.js');
      const { PostgresAdapter } = await import('../../src/registry/postgres.js');
      const db = await createTestDatabase();
      await insertRegistryRecords(db, records);
      const adapter = await PostgresAdapter.fromFile(EXAMPLE_MAPPING_PATH, { url: db.url, poolSize: 2, statementTimeoutMs: 5000, logger: testLogger() });
      return openBed(adapter, () => db.drop());
    },
  },
  {
    name: 'csv (a folder of exports)',
    async load() {
      const folder = await mkdtemp(join(tmpdir(), 'tracenet-csv-registry-'));
      // Two files: the adapter reads the whole folder.
      await writeFile(join(folder, 'firearms-a.csv'), recordsToCsv(records.slice(0, 3)));
      await writeFile(join(folder, 'firearms-b.csv'), recordsToCsv(records.slice(3)));
      return openBed(new CsvFolderAdapter({ folder, clock: new ManualScheduler(NOW), logger: testLogger(), watch: false }), () => rm(folder, { recursive: true, force: true }));
    },
  },
];
