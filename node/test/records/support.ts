import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { Server, ServerCredentials, credentials } from '@grpc/grpc-js';
import {
  type DeleteRecordRequest,
  type DeleteRecordResponse,
  type GetRecordRequest,
  type PutRecordRequest,
  type RecordResponse,
  type RecordsServer,
  type SearchRecordsRequest,
  type SearchRecordsResponse,
  ComponentKind,
  ManufactureMethod,
  RecordsClient,
  WeaponEventType,
  type WeaponEvent,
  type WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';
import { addRecordsService } from '../../src/api/records-service.js';
import { nodeDestructionDeps } from '../../src/api/destruction-calls.js';
import { connectUnary } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { AliasTable } from '../../src/records/alias-table.js';
import { RecordStore } from '../../src/records/record-store.js';
import { LocalRecordsAdapter } from '../../src/registry/local.js';
import { Registry } from '../../src/registry/registry.js';
import { ManualClock } from '../../src/util/clock.js';
import { startNode, testLogger, type TestNode } from '../support/nodes.js';

/** 1 June 2026, the "now" of record tests. */
export const NOW = Date.UTC(2026, 5, 1);

/** An event with every field empty except those given. */
export function event(type: WeaponEventType, date: string, fields: Partial<WeaponEvent> = {}): WeaponEvent {
  return {
    type,
    date,
    place: '',
    agency: '',
    destination: '',
    origin: '',
    licence: '',
    endUser: '',
    details: '',
    circumstance: 0,
    undertaking: undefined,
    ...fields,
  };
}

/** A valid record of an FN rifle made in 1998 and exported to KEN, with `overrides` applied. */
export function weapon(
  overrides: Partial<WeaponRecord> = {},
  manufacture: Partial<NonNullable<WeaponRecord['manufacture']>> = {},
): WeaponRecord {
  return {
    recordId: '',
    manufacture: {
      manufacturer: 'FN Herstal',
      countryOfManufacture: 'BEL',
      serialNumber: 'FN-1998-0042',
      model: 'FAL',
      type: WeaponType.WEAPON_TYPE_RIFLE,
      calibre: '7.62x51mm',
      year: 1998,
      ...manufacture,
    },
    imports: [{ country: 'KEN', year: 1999 }],
    governmentTransfer: undefined,
    controlComponent: undefined,
    components: [{ kind: ComponentKind.COMPONENT_KIND_BARREL, serialNumber: 'B-77', marking: '' }],
    manufactureMethod: ManufactureMethod.MANUFACTURE_METHOD_INDUSTRIAL,
    secondaryMarks: [{ location: 'inside receiver', value: 'X7Q' }],
    interest: undefined,
    status: WeaponStatus.WEAPON_STATUS_EXPORTED,
    events: [
      event(WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED, '1998-03-02', { place: 'Herstal' }),
      event(WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED, '1999-05-10', {
        destination: 'KEN',
        licence: 'BE-EX-1999-17',
        endUser: 'Kenya Police',
      }),
    ],
    recordedAtMs: 0,
    updatedAtMs: 0,
    notes: '',
    itemCategory: 0,
    quantity: 0,
    illicitOrigin: undefined,
    collection: undefined,
    destruction: undefined,
    ...overrides,
  };
}

/** A started node and a RecordStore on its store and journal, driven by a ManualClock. */
export interface RecordBed {
  readonly test: TestNode;
  readonly clock: ManualClock;
  readonly records: RecordStore;
  /** The records behind the registry's rules (docs/records.md 2.3), as the node searches them. */
  readonly registry: Registry;
  cleanup(): Promise<void>;
}

export async function startRecordBed(): Promise<RecordBed> {
  const test = await startNode('FRA');
  const clock = new ManualClock(NOW);
  const records = new RecordStore({ store: test.node.store, journal: test.node.journal, clock, logger: testLogger() });
  const registry = new Registry({
    adapters: [new LocalRecordsAdapter(records)],
    aliases: () => AliasTable.EMPTY,
    clock,
    logger: testLogger(),
  });
  return { test, clock, records, registry, cleanup: () => test.cleanup() };
}

/** Entries of the node's records, their serial index or its audit log. */
export async function countEntries(test: TestNode, name: 'records' | 'record-serials' | 'audit'): Promise<number> {
  const { store } = test.node;
  return (
    name === 'records' ? store.records.records : name === 'record-serials' ? store.records.serials : store.audit.entries
  ).count();
}

/** The Records service on its own loopback gRPC server over the bed's store and journal. */
export interface RecordsEndpoint {
  readonly address: string;
  readonly token: string;
  readonly client: RecordsClient;
  close(): Promise<void>;
}

export async function startRecordsServer(
  bed: RecordBed,
  options: { progressEveryRows?: number } = {},
): Promise<RecordsEndpoint> {
  const server = new Server();
  const token = await readAuthorityToken(bed.test.dataDir);
  addRecordsService(server, {
    records: bed.records,
    registry: bed.registry,
    clock: bed.clock,
    logger: testLogger(),
    token,
    destruction: nodeDestructionDeps(bed.test.node.identity, bed.test.node.peers, bed.clock),
    ...options,
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const address = `127.0.0.1:${port}`;
  const client = new RecordsClient(address, credentials.createInsecure());
  return {
    address,
    token,
    client,
    close: async () => {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/** Calls a unary Records method by name with the bearer token; rejects with a TracenetError. */
export function call(
  endpoint: RecordsEndpoint,
  method: 'putRecord',
  request: Partial<PutRecordRequest>,
  token?: string,
): Promise<RecordResponse>;
export function call(
  endpoint: RecordsEndpoint,
  method: 'getRecord',
  request: GetRecordRequest,
  token?: string,
): Promise<RecordResponse>;
export function call(
  endpoint: RecordsEndpoint,
  method: 'searchRecords',
  request: SearchRecordsRequest,
  token?: string,
): Promise<SearchRecordsResponse>;
export function call(
  endpoint: RecordsEndpoint,
  method: 'deleteRecord',
  request: DeleteRecordRequest,
  token?: string,
): Promise<DeleteRecordResponse>;
export async function call(
  endpoint: RecordsEndpoint,
  method: 'putRecord' | 'getRecord' | 'searchRecords' | 'deleteRecord',
  request: object,
  token = endpoint.token,
): Promise<unknown> {
  const client = connectUnary<RecordsServer>(RecordsClient, endpoint.address, token);
  try {
    return await (client.call as (m: string, r: object) => Promise<unknown>)(method, request);
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Generated import files

const MAKERS = [
  { manufacturer: 'FN Herstal', country: 'BEL', model: 'FAL', type: 'rifle', calibre: '7.62x51mm' },
  { manufacturer: 'Heckler & Koch', country: 'DEU', model: 'G3', type: 'rifle', calibre: '7.62x51mm' },
  { manufacturer: 'Glock', country: 'AUT', model: '17', type: 'pistol', calibre: '9x19mm' },
  { manufacturer: 'Beretta', country: 'ITA', model: '92FS', type: 'pistol', calibre: '9x19mm' },
];

/** Column header of the generated CSV files (one event group in use of two). */
export const GENERATED_CSV_HEADER = [
  'manufacturer',
  'country_of_manufacture',
  'serial_number',
  'model',
  'type',
  'calibre',
  'year',
  'manufacture_method',
  'status',
  'import1_country',
  'import1_year',
  'event1_type',
  'event1_date',
  'event1_place',
  'event2_type',
  'event2_date',
  'event2_destination',
  'event2_licence',
  'notes',
].join(',');

/** The good row `i`: serials repeat across manufacturers (`i` and `i + 1` share one). */
export function generatedRow(i: number): { maker: (typeof MAKERS)[number]; serial: string; cells: string[] } {
  const maker = MAKERS[i % MAKERS.length] ?? MAKERS[0]!;
  const serial = `SN-${String(Math.floor(i / 2)).padStart(7, '0')}`;
  const year = 1980 + (i % 40);
  const day = String(1 + (i % 28)).padStart(2, '0');
  return {
    maker,
    serial,
    cells: [
      maker.manufacturer,
      maker.country,
      serial,
      maker.model,
      maker.type,
      maker.calibre,
      String(year),
      'industrial',
      'exported',
      'KEN',
      String(year + 1),
      'manufactured',
      `${year}-03-${day}`,
      maker.country === 'BEL' ? 'Herstal' : '',
      'exported',
      `${year + 1}-06-${day}`,
      'KEN',
      `LIC-${i}`,
      i % 10 === 0 ? 'note, with "quotes"' : '',
    ],
  };
}

/** Kinds of bad rows injected into generated files, each with the cell change that makes it bad. */
export const BAD_KINDS: readonly { readonly name: string; readonly spoil: (cells: string[]) => string[] }[] = [
  { name: 'missing serial', spoil: (c) => c.map((v, k) => (k === 2 ? '' : v)) },
  { name: 'impossible date', spoil: (c) => c.map((v, k) => (k === 12 ? '2001-02-30' : v)) },
  { name: 'country not alpha-3', spoil: (c) => c.map((v, k) => (k === 1 ? 'Belgium' : v)) },
  { name: 'unknown weapon type', spoil: (c) => c.map((v, k) => (k === 4 ? 'blunderbuss' : v)) },
  { name: 'export without destination', spoil: (c) => c.map((v, k) => (k === 16 ? '' : v)) },
  { name: 'year not a number', spoil: (c) => c.map((v, k) => (k === 6 ? '19x5' : v)) },
  { name: 'date in the future', spoil: (c) => c.map((v, k) => (k === 15 ? '2031-01-01' : v)) },
  { name: 'events out of order', spoil: (c) => c.map((v, k) => (k === 15 ? '1970-01-01' : v)) },
  { name: 'missing cells', spoil: (c) => c.slice(0, 10) },
];

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const COLUMN_NAMES = GENERATED_CSV_HEADER.split(',');

/** The JSON record of generated cells (the same content as the CSV row). */
function jsonRecord(cells: readonly string[]): Record<string, unknown> {
  const c = (name: string) => cells[COLUMN_NAMES.indexOf(name)] ?? '';
  const year = c('year');
  return {
    manufacture: {
      manufacturer: c('manufacturer'),
      countryOfManufacture: c('country_of_manufacture'),
      serialNumber: c('serial_number'),
      model: c('model'),
      type: c('type'),
      calibre: c('calibre'),
      year: /^\d+$/.test(year) ? Number(year) : year,
    },
    manufactureMethod: c('manufacture_method'),
    status: c('status'),
    imports: [{ country: c('import1_country'), year: Number(c('import1_year')) }],
    events: [
      { type: c('event1_type'), date: c('event1_date'), place: c('event1_place') },
      {
        type: c('event2_type'),
        date: c('event2_date'),
        destination: c('event2_destination'),
        licence: c('event2_licence'),
      },
    ],
    notes: c('notes'),
  };
}

/** What a generated file holds. */
export interface GeneratedFile {
  readonly path: string;
  /** Data rows written (good and bad). */
  readonly rows: number;
  /** 1-based line numbers of the injected bad rows. */
  readonly badLines: readonly number[];
  /** Indexes `i` (see {@link generatedRow}) of the good rows. */
  readonly goodRows: readonly number[];
}

/**
 * Writes `rows` generated rows to `path` (streaming), every `badEvery`-th row spoiled with the
 * next kind of {@link BAD_KINDS}. In JSONL, the "missing cells" kind becomes a line of broken JSON.
 */
export async function writeGeneratedFile(
  path: string,
  format: 'csv' | 'jsonl',
  rows: number,
  badEvery: number,
): Promise<GeneratedFile> {
  const out = createWriteStream(path);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const badLines: number[] = [];
  const goodRows: number[] = [];
  let line = 0;
  if (format === 'csv') {
    await write(`${GENERATED_CSV_HEADER}\n`);
    line = 1;
  }
  let kind = 0;
  for (let i = 0; i < rows; i += 1) {
    line += 1;
    const row = generatedRow(i);
    let cells = row.cells;
    const bad = i % badEvery === badEvery - 1;
    let broken = false;
    if (bad) {
      const spoil = BAD_KINDS[kind % BAD_KINDS.length]!;
      broken = spoil.name === 'missing cells';
      cells = spoil.spoil(cells);
      kind += 1;
      badLines.push(line);
    } else goodRows.push(i);
    if (format === 'csv') await write(`${cells.map(csvCell).join(',')}\n`);
    else if (broken) await write(`{"manufacture": {"manufacturer": "${row.maker.manufacturer}", \n`);
    else await write(`${JSON.stringify(jsonRecord(cells))}\n`);
  }
  out.end();
  await once(out, 'close');
  return { path, rows, badLines, goodRows };
}
