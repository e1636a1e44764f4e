import type { RecordQuery, WeaponRecord } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHits } from '../../src/lookup/registry-hits.js';
import { AliasTable } from '../../src/records/alias-table.js';
import { defaultCalibreAliases } from '../../src/records/calibre-aliases.js';
import { indexedSerials } from '../../src/records/normalise.js';
import type { RegistryAdapter } from '../../src/registry/adapter.js';
import { LocalRecordsAdapter } from '../../src/registry/local.js';
import { Registry } from '../../src/registry/registry.js';
import { theftReport } from '../lookup/support.js';
import { type RecordBed, startRecordBed, weapon } from '../records/support.js';
import { testLogger } from '../support/nodes.js';

/**
 * One weapon across sources compares calibres through the calibre alias table, as the identity
 * rules that accepted both records do (docs/protocol.md 11.3, 13.5): the node's copy written
 * `.30-06 Springfield` and the registry's `.30-06` are one weapon, not "2 records match".
 */

const registryCopy = (record: WeaponRecord): RegistryAdapter => ({
  kind: 'memory',
  idPrefix: 'mem_',
  open: async () => {},
  close: async () => {},
  check: async () => {},
  findBySerial: async (serial) => (indexedSerials(record).some((s) => serial.test(s)) ? [record] : []),
  get: async () => undefined,
});

const query = (fields: Partial<RecordQuery> = {}): RecordQuery => ({
  manufacturer: 'FN Herstal',
  serialNumber: 'SP-3006',
  model: '',
  calibre: '',
  type: 0,
  ...fields,
});

describe('the same weapon in the node store and a registry, calibres written differently', () => {
  let bed: RecordBed;
  let aliases: AliasTable;
  let localId = '';
  const inRegistry = weapon(
    { recordId: 'mem_1' },
    { serialNumber: 'SP-3006', calibre: '.30-06', model: 'M1', countryOfManufacture: 'USA' },
  );
  beforeAll(async () => {
    bed = await startRecordBed();
    aliases = AliasTable.EMPTY.withCalibres(defaultCalibreAliases());
    localId = (
      await bed.records.put(
        weapon(
          {},
          { serialNumber: 'SP-3006', calibre: '.30-06 Springfield', model: 'M1', countryOfManufacture: 'USA' },
        ),
      )
    ).record.recordId;
    await bed.records.report(localId, theftReport());
  });
  afterAll(() => bed?.cleanup());

  it('is one record for an identity search, the node store first', async () => {
    const registry = new Registry({
      adapters: [new LocalRecordsAdapter(bed.records), registryCopy(inRegistry)],
      aliases: () => aliases,
      clock: bed.clock,
      logger: testLogger(),
    });
    for (const calibre of ['', '.30-06', '30-06 Springfield']) {
      const found = await registry.identify(query({ calibre }));
      expect(
        found.records.map((r) => r.recordId),
        calibre,
      ).toEqual([localId]);
    }
  });

  it('is one hit for a lookup', async () => {
    const reported = { ...inRegistry, interest: theftReport() };
    const hits = await findHits(
      { records: bed.records, registry: { findOfInterest: async () => [reported] }, logger: testLogger() },
      query(),
      aliases,
    );
    expect(hits.map((h) => h.entry.recordId)).toEqual([localId]);
  });
});
