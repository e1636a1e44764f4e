import assert from 'node:assert/strict';
import { initSodium, ManualClock, parseAliasCsv, Registry, type RegistryAdapter } from '@tracenet/node';
import { silentLogger } from '@tracenet/node/dev';
import {
  ComponentKind,
  ErrorCode,
  type RecordQuery,
  type WeaponEvent,
  WeaponEventType as E,
  type WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';

/**
 * The registry adapter contract (docs/integration.md, "The adapter contract"): the questions a
 * node asks of its registry, and the answers every adapter must give for the same weapons. The
 * node's own adapters (its LevelDB store, PostgreSQL, a folder of CSV exports) pass it in this
 * repository's tests; run it against an adapter of your own with {@link registryAdapterContract}.
 */

/** The "now" of the contract, 1 June 2026: retention periods are judged on this day. */
export const CONTRACT_NOW = Date.UTC(2026, 5, 1);
/** The alias table of the contract, as a CSV file: FN Herstal is also "FN" and "Fabrique Nationale". */
export const CONTRACT_ALIASES_CSV = 'FN Herstal,FN,Fabrique Nationale\n';

function event(type: E, date: string, fields: Partial<WeaponEvent> = {}): WeaponEvent {
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

function record(
  manufacture: Partial<NonNullable<WeaponRecord['manufacture']>>,
  events: WeaponEvent[],
  extra: Partial<WeaponRecord> = {},
): WeaponRecord {
  return {
    recordId: '',
    manufacture: {
      manufacturer: '',
      countryOfManufacture: 'BEL',
      serialNumber: '',
      model: '',
      type: WeaponType.WEAPON_TYPE_RIFLE,
      calibre: '',
      year: 0,
      ...manufacture,
    },
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
    itemCategory: 0,
    quantity: 0,
    illicitOrigin: undefined,
    collection: undefined,
    destruction: undefined,
    ...extra,
  };
}

/**
 * The weapons the adapter under test must hold (and nothing else). Names say what each one is
 * for; the serials are written with separators so that matching must normalise them.
 */
export const CONTRACT_RECORDS = {
  /** Exported to KEN; 30-year manufacturing retention until 2028-03-02. */
  fal: record(
    { manufacturer: 'FN Herstal', serialNumber: 'FN-1998-0042', model: 'FAL', calibre: '7.62x51mm', year: 1998 },
    [
      event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '1998-03-02', { place: 'Herstal' }),
      event(E.WEAPON_EVENT_TYPE_EXPORTED, '1999-05-10', {
        destination: 'KEN',
        licence: 'BE-EX-1999-17',
        endUser: 'Kenya Police',
      }),
    ],
    { status: WeaponStatus.WEAPON_STATUS_EXPORTED },
  ),
  /** The same serial from another manufacturer: never the FN's identity. */
  beretta: record(
    {
      manufacturer: 'Beretta',
      countryOfManufacture: 'ITA',
      serialNumber: 'FN 1998 0042',
      model: '92FS',
      type: WeaponType.WEAPON_TYPE_PISTOL,
      calibre: '9x19mm',
      year: 2001,
    },
    [event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2001-04-11')],
  ),
  /** Spelled with an alias of FN Herstal. */
  minimi: record(
    {
      manufacturer: 'Fabrique Nationale',
      serialNumber: 'MN/4471',
      model: 'Minimi',
      type: WeaponType.WEAPON_TYPE_MACHINE_GUN,
      calibre: '5.56x45mm',
      year: 2004,
    },
    [event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2004-09-30')],
  ),
  /** Events out of date order in no source; two on one day keep their recorded order. */
  glock: record(
    {
      manufacturer: 'Glock',
      countryOfManufacture: 'AUT',
      serialNumber: 'GK-55123',
      model: '17',
      type: WeaponType.WEAPON_TYPE_PISTOL,
      calibre: '9x19mm',
      year: 2015,
    },
    [
      event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2015-05-01', { place: 'Deutsch-Wagram' }),
      event(E.WEAPON_EVENT_TYPE_IMPORTED, '2015-09-01', { origin: 'AUT', licence: 'BE-IM-2015-88' }),
      event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2015-09-01', { endUser: 'Armurerie Dupont', licence: 'BE-DL-0042' }),
      event(E.WEAPON_EVENT_TYPE_TRANSFERRED, '2016-02-14', { endUser: 'J. Martin', licence: 'BE-PL-77812' }),
      event(E.WEAPON_EVENT_TYPE_STOLEN, '2020-06-01', {
        place: 'Liège',
        agency: 'Police fédérale',
        details: 'burglary',
      }),
    ],
    { status: WeaponStatus.WEAPON_STATUS_STOLEN },
  ),
  /** A modular weapon found by its control component's serial. */
  mcx: record(
    { manufacturer: 'SIG Sauer', countryOfManufacture: 'USA', serialNumber: '', model: 'MCX', year: 2019 },
    [event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '2019-07-01')],
    {
      controlComponent: { kind: ComponentKind.COMPONENT_KIND_LOWER_RECEIVER, serialNumber: 'LR-77', marking: '' },
    },
  ),
  /** Retention over since 1980-03-01: past any period. */
  webley: record(
    {
      manufacturer: 'Webley & Scott',
      countryOfManufacture: 'GBR',
      serialNumber: 'W 1950 7',
      model: 'Mk IV',
      type: WeaponType.WEAPON_TYPE_REVOLVER,
      year: 1950,
    },
    [
      event(E.WEAPON_EVENT_TYPE_MANUFACTURED, '1950-01-10'),
      event(E.WEAPON_EVENT_TYPE_DESTROYED, '1960-03-01', { agency: 'Ordnance' }),
    ],
    { status: WeaponStatus.WEAPON_STATUS_DESTROYED },
  ),
} as const;

/** The name of one record of {@link CONTRACT_RECORDS}. */
export type ContractRecordName = keyof typeof CONTRACT_RECORDS;

/** An adapter under test, loaded with the contract's records. */
export interface ContractAdapter {
  readonly adapter: RegistryAdapter;
  /** Runs after the registry has closed the adapter: drop the test database, delete the folder. */
  readonly cleanup?: (() => Promise<void>) | undefined;
}

/** Options of {@link registryAdapterContract}. */
export interface AdapterContractOptions {
  /**
   * Makes the adapter under test, holding exactly `records` ({@link CONTRACT_RECORDS}): write them
   * to your registry's tables or files first, in the order given. The adapter is opened and closed
   * by the contract, through a `Registry` as the node uses it.
   */
  createAdapter(records: readonly WeaponRecord[]): Promise<ContractAdapter>;
  /**
   * The registry the checks ask, around the adapter. By default the node's `Registry` of
   * `@tracenet/node`, with the contract's alias table ({@link CONTRACT_ALIASES_CSV}) and its clock
   * at {@link CONTRACT_NOW}; a test of the node itself passes one built from the node's sources.
   */
  registry?(adapter: RegistryAdapter): ContractRegistry;
}

/** What the contract asks of the registry around the adapter: the node's `Registry`. */
export type ContractRegistry = Pick<
  Registry,
  'adapters' | 'open' | 'close' | 'findExact' | 'search' | 'get' | 'retention' | 'delete'
>;

/** The node's `Registry` around `adapter`, with the contract's aliases and clock. */
function contractRegistry(adapter: RegistryAdapter): ContractRegistry {
  const aliases = parseAliasCsv(CONTRACT_ALIASES_CSV);
  return new Registry({
    adapters: [adapter],
    aliases: () => aliases,
    clock: new ManualClock(CONTRACT_NOW),
    logger: silentLogger(),
  });
}

/** One check of the contract: resolves when the adapter behaves, throws an AssertionError when not. */
export interface ContractCheck {
  readonly name: string;
  run(): Promise<void>;
}

/** The contract against one adapter: `setup` before the checks, `teardown` after them. */
export interface AdapterContract {
  setup(): Promise<void>;
  readonly checks: readonly ContractCheck[];
  teardown(): Promise<void>;
}

const query = (q: Partial<RecordQuery>): RecordQuery => ({
  manufacturer: '',
  model: '',
  serialNumber: '',
  calibre: '',
  type: 0,
  ...q,
});

/** Rejects unless `promise` rejects with an error carrying `expected` (`code`, `field`, `rule`, ...). */
async function refuses(
  promise: Promise<unknown>,
  expected: Readonly<Record<string, unknown>>,
  messageIncludes?: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    const actual = error as Record<string, unknown>;
    for (const [key, value] of Object.entries(expected)) assert.equal(actual[key], value, `${key} of the error`);
    if (messageIncludes !== undefined)
      assert.ok(
        String(actual.message).includes(messageIncludes),
        `the message "${String(actual.message)}" names "${messageIncludes}"`,
      );
    return true;
  });
}

/** Finds, for each contract record, the record a registry holds for it (by normalised identity). */
async function idsOf(registry: ContractRegistry): Promise<Record<ContractRecordName, string>> {
  const ids = {} as Record<ContractRecordName, string>;
  for (const [name, r] of Object.entries(CONTRACT_RECORDS) as [ContractRecordName, WeaponRecord][]) {
    const serial = r.manufacture?.serialNumber || r.controlComponent?.serialNumber || '';
    const [found, ...more] = await registry.search(
      { manufacturer: r.manufacture?.manufacturer ?? '', serialNumber: serial, model: '', calibre: '', type: 0 },
      { serialOnly: false },
    );
    if (!found || more.length > 0) throw new Error(`the registry does not hold exactly one ${name}`);
    ids[name] = found.recordId;
  }
  return ids;
}

/**
 * The registry adapter contract as named checks, for any test runner: the same questions, asked
 * through the node's `Registry` of an adapter holding {@link CONTRACT_RECORDS}, must get the same
 * answers from every adapter (exact match however a serial is written, aliases, wildcards,
 * events in order, retention).
 *
 * @example
 * ```ts
 * import { afterAll, beforeAll, describe, it } from 'vitest';
 * import { registryAdapterContract } from '@tracenet/sdk/testing';
 * import { MyRegistryAdapter } from '../src/my-adapter.js';
 *
 * describe('my adapter keeps the registry contract', () => {
 *   const contract = registryAdapterContract({
 *     async createAdapter(records) {
 *       const db = await createDatabaseHolding(records); // your own helper
 *       return { adapter: new MyRegistryAdapter(db.url), cleanup: () => db.drop() };
 *     },
 *   });
 *   beforeAll(() => contract.setup());
 *   afterAll(() => contract.teardown());
 *   for (const check of contract.checks) it(check.name, () => check.run());
 * });
 * ```
 */
export function registryAdapterContract(options: AdapterContractOptions): AdapterContract {
  let state:
    | {
        registry: ContractRegistry;
        ids: Readonly<Record<ContractRecordName, string>>;
        cleanup?: (() => Promise<void>) | undefined;
      }
    | undefined;
  const bed = () => {
    if (!state) throw new Error('registryAdapterContract: call setup() before the checks');
    return state;
  };
  const names = (records: readonly WeaponRecord[]) => {
    const { ids } = bed();
    return records
      .map((r) => (Object.keys(ids) as ContractRecordName[]).find((n) => ids[n] === r.recordId) ?? r.recordId)
      .sort();
  };
  const check = (
    name: string,
    run: (registry: ContractRegistry, ids: Readonly<Record<ContractRecordName, string>>) => Promise<void>,
  ): ContractCheck => ({
    name,
    run: () => run(bed().registry, bed().ids),
  });

  const checks: ContractCheck[] = [
    check('exact match: manufacturer and serial, however the serial is written', async (registry) => {
      assert.deepEqual(
        names(await registry.findExact(query({ manufacturer: 'F.N. HERSTAL', serialNumber: 'fn19980042' }))),
        ['fal'],
      );
      assert.deepEqual(
        names(
          await registry.findExact(
            query({
              manufacturer: 'fn herstal',
              serialNumber: 'FN 1998-0042',
              model: 'fal',
              calibre: '7.62 x51mm',
              type: CONTRACT_RECORDS.fal.manufacture?.type ?? 0,
            }),
          ),
        ),
        ['fal'],
      );
      assert.deepEqual(
        names(await registry.findExact(query({ manufacturer: 'Beretta', serialNumber: 'FN-1998-0042' }))),
        ['beretta'],
      );
      assert.deepEqual(names(await registry.findExact(query({ manufacturer: 'SIG Sauer', serialNumber: 'lr 77' }))), [
        'mcx',
      ]);
    }),
    check('no match: another manufacturer, another model, a near serial, a serial alone', async (registry) => {
      assert.deepEqual(await registry.findExact(query({ manufacturer: 'Glock', serialNumber: 'FN19980042' })), []);
      assert.deepEqual(
        await registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'FN19980042', model: 'FNC' })),
        [],
      );
      assert.deepEqual(await registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'FN19980O42' })), []);
      assert.deepEqual(await registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'FN1998004' })), []);
      await refuses(registry.findExact(query({ serialNumber: 'FN19980042' })), {
        code: ErrorCode.ERROR_CODE_MISSING_FIELD,
        field: 'query.manufacturer',
      });
      await refuses(registry.findExact(query({ manufacturer: '--', serialNumber: 'FN19980042' })), {
        code: ErrorCode.ERROR_CODE_MISSING_FIELD,
        field: 'query.manufacturer',
      });
      // The serial is checked first (protocol 11.3).
      await refuses(registry.findExact(query({ serialNumber: '--' })), {
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'query.serial_number',
        rule: 'serial',
      });
      // A well-formed id that no record has is simply not found.
      assert.equal(await registry.get(`${registry.adapters[0]?.idPrefix}${'A'.repeat(22)}`), undefined);
    }),
    check('alias: a manufacturer found under any spelling of the alias table, both ways', async (registry) => {
      assert.deepEqual(names(await registry.findExact(query({ manufacturer: 'FN', serialNumber: 'FN-1998-0042' }))), [
        'fal',
      ]);
      assert.deepEqual(
        names(await registry.findExact(query({ manufacturer: 'Fabrique Nationale', serialNumber: 'FN-1998-0042' }))),
        ['fal'],
      );
      assert.deepEqual(
        names(await registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'MN 4471' }))),
        ['minimi'],
      );
    }),
    check('partial serial: wildcards give candidates, serial-only across manufacturers', async (registry) => {
      assert.deepEqual(names(await registry.search(query({ serialNumber: 'fn-1998*' }), { serialOnly: true })), [
        'beretta',
        'fal',
      ]);
      assert.deepEqual(
        names(await registry.search(query({ manufacturer: 'FN Herstal', serialNumber: 'FN-19??-0042' }))),
        ['fal'],
      );
      assert.deepEqual(names(await registry.search(query({ serialNumber: '*5123' }), { serialOnly: true })), ['glock']);
      assert.deepEqual(names(await registry.search(query({ serialNumber: 'GK?123' }), { serialOnly: true })), []);
      assert.deepEqual(names(await registry.search(query({ serialNumber: 'GK55?23' }), { serialOnly: true })), [
        'glock',
      ]);
      await refuses(registry.search(query({ serialNumber: 'F*2' }), { serialOnly: true }), {
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        rule: 'wildcard_known_characters',
      });
      // An exact search takes the serial literally: a star in it is not a wildcard.
      assert.deepEqual(await registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'FN-1998*' })), []);
    }),
    check(
      'events order: oldest first, same-day events in their recorded order, every field kept',
      async (registry, ids) => {
        const [glock] = await registry.findExact(query({ manufacturer: 'Glock', serialNumber: 'GK55123' }));
        assert.deepEqual(glock?.events, CONTRACT_RECORDS.glock.events);
        const { manufacturer, serialNumber, model, calibre, countryOfManufacture, year } = glock?.manufacture ?? {};
        assert.deepEqual(
          { manufacturer, serialNumber, model, calibre, countryOfManufacture, year },
          {
            manufacturer: 'Glock',
            serialNumber: 'GK-55123',
            model: '17',
            calibre: '9x19mm',
            countryOfManufacture: 'AUT',
            year: 2015,
          },
        );
        assert.deepEqual((await registry.get(ids.fal))?.events, CONTRACT_RECORDS.fal.events);
        assert.equal((await registry.get(ids.mcx))?.controlComponent?.serialNumber, 'LR-77');
      },
    ),
    check(
      'retention refusal: a record inside its retention period is not deleted, and the day it may be is named',
      async (registry, ids) => {
        assert.equal((await registry.retention(ids.fal)).deletableFrom, '2028-03-02');
        await refuses(
          registry.delete(ids.fal),
          { code: ErrorCode.ERROR_CODE_RETENTION_PERIOD, field: 'record_id', rule: 'retention_period' },
          'it may be deleted from 2028-03-02',
        );
        assert.notEqual(await registry.get(ids.fal), undefined);
        // Past its period a record is deleted where it is kept: the node's own store deletes it, a
        // registry the node only reads refuses and names the registry.
        const webley = ids.webley;
        if (registry.adapters[0]?.kind === 'leveldb') {
          const deleted = await registry.delete(webley);
          assert.deepEqual(
            { recordId: deleted.recordId, deletableFrom: deleted.deletableFrom },
            { recordId: webley, deletableFrom: '1980-03-01' },
          );
        } else {
          await refuses(registry.delete(webley), {
            code: ErrorCode.ERROR_CODE_INVALID_FIELD,
            rule: 'read_only_registry',
          });
          assert.notEqual(await registry.get(webley), undefined);
        }
      },
    ),
  ];

  return {
    async setup() {
      // The alias table and record ids hash with libsodium: ready it, as a node does at start.
      await initSodium();
      const { adapter, cleanup } = await options.createAdapter(Object.values(CONTRACT_RECORDS));
      const registry = (options.registry ?? contractRegistry)(adapter);
      try {
        await registry.open();
        state = { registry, ids: await idsOf(registry), cleanup };
      } catch (error) {
        await registry.close().catch(() => undefined);
        await cleanup?.();
        throw error;
      }
    },
    checks,
    async teardown() {
      const current = state;
      state = undefined;
      if (!current) return;
      try {
        await current.registry.close();
      } finally {
        await current.cleanup?.();
      }
    },
  };
}
