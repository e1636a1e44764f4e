import { type IncompleteRecord, type RecordQuery, WeaponType as T } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AliasTable, parseAliasCsv } from '../../src/records/alias-table.js';
import { defaultCalibreAliases } from '../../src/records/calibre-aliases.js';
import { LocalRecordsAdapter } from '../../src/registry/local.js';
import { CLOSE_TYPE_GROUPS, closeTypes, identityFilter, Registry } from '../../src/registry/registry.js';
import { call, type RecordBed, startRecordBed, startRecordsServer, weapon } from '../records/support.js';
import { testLogger } from '../support/nodes.js';

/**
 * Close weapon types and calibre aliases in identity searches (docs/records.md 2.3): a record
 * whose type is close to the query's is a near match, kept apart from the records that are the
 * weapon; calibres compare through the alias table in force, read at every search.
 */

const query = (fields: Partial<RecordQuery> = {}): RecordQuery => ({
  manufacturer: 'FN Herstal',
  serialNumber: 'FN-1998-0042',
  model: '',
  calibre: '',
  type: 0,
  ...fields,
});

describe('the close-type rule', () => {
  it('makes rifle, carbine and assault rifle close, and pistol and revolver', () => {
    expect(closeTypes(T.WEAPON_TYPE_RIFLE, T.WEAPON_TYPE_CARBINE)).toBe(true);
    expect(closeTypes(T.WEAPON_TYPE_CARBINE, T.WEAPON_TYPE_ASSAULT_RIFLE)).toBe(true);
    expect(closeTypes(T.WEAPON_TYPE_ASSAULT_RIFLE, T.WEAPON_TYPE_RIFLE)).toBe(true);
    expect(closeTypes(T.WEAPON_TYPE_PISTOL, T.WEAPON_TYPE_REVOLVER)).toBe(true);
    expect(closeTypes(T.WEAPON_TYPE_REVOLVER, T.WEAPON_TYPE_PISTOL)).toBe(true);
  });

  it('makes no other pair close, and no type close to itself or to an unknown type', () => {
    const all = Object.values(T).filter((t): t is T => typeof t === 'number' && t >= 0);
    const grouped = new Set(CLOSE_TYPE_GROUPS.flat());
    for (const a of all)
      for (const b of all) {
        const expected = a !== b && CLOSE_TYPE_GROUPS.some((g) => g.includes(a) && g.includes(b));
        expect(closeTypes(a, b), `${T[a]} / ${T[b]}`).toBe(expected);
      }
    expect(closeTypes(T.WEAPON_TYPE_RIFLE, T.WEAPON_TYPE_RIFLE)).toBe(false);
    expect(closeTypes(T.WEAPON_TYPE_UNSPECIFIED, T.WEAPON_TYPE_RIFLE)).toBe(false);
    expect(closeTypes(T.WEAPON_TYPE_RIFLE, T.WEAPON_TYPE_SHOTGUN)).toBe(false);
    expect(closeTypes(T.WEAPON_TYPE_PISTOL, T.WEAPON_TYPE_SUBMACHINE_GUN)).toBe(false);
    expect(grouped.has(T.WEAPON_TYPE_SHOTGUN)).toBe(false);
  });

  it('is not a match for identityFilter unless near matches are asked for', () => {
    const carbine = weapon({}, { type: T.WEAPON_TYPE_CARBINE });
    const rifle = query({ type: T.WEAPON_TYPE_RIFLE });
    expect(identityFilter(rifle, AliasTable.EMPTY, false)(carbine)).toBe(false);
    expect(identityFilter(rifle, AliasTable.EMPTY, false, true)(carbine)).toBe(true);
    expect(identityFilter(query({ type: T.WEAPON_TYPE_PISTOL }), AliasTable.EMPTY, false, true)(carbine)).toBe(false);
  });
});

describe('identify and searchAll on the node records', () => {
  let bed: RecordBed;
  let aliases = AliasTable.EMPTY;
  let registry: Registry;
  let carbineId = '';
  let rifleId = '';
  beforeAll(async () => {
    bed = await startRecordBed();
    registry = new Registry({
      adapters: [new LocalRecordsAdapter(bed.records)],
      aliases: () => aliases,
      clock: bed.clock,
      logger: testLogger(),
    });
    carbineId = (
      await bed.records.put(
        weapon({}, { model: 'FNC', serialNumber: 'FNC-0001', type: T.WEAPON_TYPE_CARBINE, calibre: '.30-06' }),
      )
    ).record.recordId;
    rifleId = (
      await bed.records.put(
        weapon({}, { model: 'FAL', serialNumber: 'FAL-0002', type: T.WEAPON_TYPE_RIFLE, calibre: '7,62 × 51 mm' }),
      )
    ).record.recordId;
  });
  afterAll(() => bed?.cleanup());

  it('gives a record of a close type as near, never as a record', async () => {
    const found = await registry.identify(query({ serialNumber: 'FNC 0001', type: T.WEAPON_TYPE_RIFLE }));
    expect(found.records).toEqual([]);
    expect(found.near.map((r) => r.recordId)).toEqual([carbineId]);
    expect(found.incomplete).toEqual([]);
    expect(await registry.findExact(query({ serialNumber: 'FNC 0001', type: T.WEAPON_TYPE_RIFLE }))).toEqual([]);
  });

  it('gives it as a record when the type is the same or not asked, and not at all for a far type', async () => {
    const same = await registry.identify(query({ serialNumber: 'FNC-0001', type: T.WEAPON_TYPE_CARBINE }));
    expect([same.records.map((r) => r.recordId), same.near]).toEqual([[carbineId], []]);
    const any = await registry.identify(query({ serialNumber: 'FNC-0001' }));
    expect([any.records.map((r) => r.recordId), any.near]).toEqual([[carbineId], []]);
    const far = await registry.identify(query({ serialNumber: 'FNC-0001', type: T.WEAPON_TYPE_SHOTGUN }));
    expect([far.records, far.near]).toEqual([[], []]);
  });

  it('searchAll (SearchRecords) keeps near matches apart too, with wildcards and within the limit', async () => {
    const found = await registry.searchAll(query({ serialNumber: 'F*000?', type: T.WEAPON_TYPE_ASSAULT_RIFLE }));
    expect(found.records).toEqual([]);
    expect(found.near.map((r) => r.recordId).sort()).toEqual([carbineId, rifleId].sort());
    const one = await registry.searchAll(query({ serialNumber: 'F*000?', type: T.WEAPON_TYPE_RIFLE }), { limit: 1 });
    expect(one.records.length + one.near.length).toBe(1);
  });

  it('SearchRecords on the Authority API returns near matches in their own field', async () => {
    const endpoint = await startRecordsServer(bed);
    try {
      const response = await call(endpoint, 'searchRecords', {
        query: query({ serialNumber: 'fnc0001', type: T.WEAPON_TYPE_ASSAULT_RIFLE }),
        serialOnly: false,
        limit: 0,
      });
      expect(response.records).toEqual([]);
      expect(response.near.map((r) => r.recordId)).toEqual([carbineId]);
      const exact = await call(endpoint, 'searchRecords', {
        query: query({ serialNumber: 'fnc0001', type: T.WEAPON_TYPE_CARBINE }),
        serialOnly: false,
        limit: 0,
      });
      expect([exact.records.map((r) => r.recordId), exact.near]).toEqual([[carbineId], []]);
    } finally {
      await endpoint.close();
    }
  });

  it('compares calibres in the calibre form and through the alias table in force, read at every search', async () => {
    // 7,62 × 51 mm is 7.62x51mm by the calibre form alone.
    expect((await registry.findExact(query({ serialNumber: 'FAL-0002', calibre: '7.62x51mm' })))[0]?.recordId).toBe(
      rifleId,
    );
    const springfield = query({ serialNumber: 'FNC-0001', calibre: '.30-06 Springfield' });
    expect(await registry.findExact(springfield)).toEqual([]);
    aliases = AliasTable.EMPTY.withCalibres(defaultCalibreAliases());
    expect((await registry.findExact(springfield))[0]?.recordId).toBe(carbineId);
    // A near match compares calibres through the table as well.
    expect((await registry.identify({ ...springfield, type: T.WEAPON_TYPE_RIFLE })).near[0]?.recordId).toBe(carbineId);
    aliases = parseAliasCsv('FN Herstal,FN\n');
    expect(await registry.findExact(springfield)).toEqual([]);
    aliases = AliasTable.EMPTY;
  });
});

describe('weapons held but incomplete with a close type', () => {
  it('stay incomplete candidates: a close type does not exclude them', async () => {
    const held: IncompleteRecord & { incomplete: true } = {
      incomplete: true,
      recordId: 'held_1',
      identity: query({ serialNumber: 'HX-1', type: T.WEAPON_TYPE_CARBINE }),
      controlComponentSerial: '',
      problems: [{ field: 'events', rule: 'required', message: 'no event' }],
      source: 'test',
      interest: undefined,
    };
    const registry = new Registry({
      adapters: [
        {
          kind: 'test',
          idPrefix: 'held_',
          open: async () => {},
          close: async () => {},
          check: async () => {},
          findBySerial: async (serial) => (serial.test('HX1') ? [held] : []),
          get: async () => undefined,
        },
      ],
      aliases: () => AliasTable.EMPTY,
      clock: { now: () => 0 },
      logger: testLogger(),
    });
    const found = await registry.identify(query({ serialNumber: 'HX-1', type: T.WEAPON_TYPE_RIFLE }));
    expect(found.incomplete.map((h) => h.recordId)).toEqual(['held_1']);
    expect(found.near).toEqual([]);
    expect((await registry.identify(query({ serialNumber: 'HX-1', type: T.WEAPON_TYPE_SHOTGUN }))).incomplete).toEqual(
      [],
    );
  });
});
