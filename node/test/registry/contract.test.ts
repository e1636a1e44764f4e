import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type RecordQuery, type WeaponRecord } from '@tracenet/proto';
import { type ContractBed, FIXTURE, type FixtureName, SUBJECTS } from './fixtures.js';

/**
 * The registry adapter contract (issue 5, docs/integration.md "The adapter contract"): the same
 * questions, asked of the node's own store, of a PostgreSQL registry and of a folder of CSV
 * exports holding the same weapons, get the same answers.
 */
const query = (q: Partial<RecordQuery>): RecordQuery => ({ manufacturer: '', model: '', serialNumber: '', calibre: '', type: 0, ...q });

describe.each(SUBJECTS)('registry contract: $name', (subject) => {
  let bed: ContractBed;
  beforeAll(async () => {
    bed = await subject.load();
  });
  afterAll(async () => {
    await bed?.cleanup();
  });

  const names = (records: readonly WeaponRecord[]) => records.map((r) => (Object.keys(bed.ids) as FixtureName[]).find((n) => bed.ids[n] === r.recordId) ?? r.recordId).sort();

  it('exact match: manufacturer and serial, however the serial is written', async () => {
    expect(names(await bed.registry.findExact(query({ manufacturer: 'F.N. HERSTAL', serialNumber: 'fn19980042' })))).toEqual(['fal']);
    expect(names(await bed.registry.findExact(query({ manufacturer: 'fn herstal', serialNumber: 'FN 1998-0042', model: 'fal', calibre: '7.62 x51mm', type: FIXTURE.fal.manufacture?.type ?? 0 })))).toEqual(['fal']);
    expect(names(await bed.registry.findExact(query({ manufacturer: 'Beretta', serialNumber: 'FN-1998-0042' })))).toEqual(['beretta']);
    expect(names(await bed.registry.findExact(query({ manufacturer: 'SIG Sauer', serialNumber: 'lr 77' })))).toEqual(['mcx']);
  });

  it('no match: another manufacturer, another model, a near serial, a serial alone', async () => {
    expect(await bed.registry.findExact(query({ manufacturer: 'Glock', serialNumber: 'FN19980042' }))).toEqual([]);
    expect(await bed.registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'FN19980042', model: 'FNC' }))).toEqual([]);
    expect(await bed.registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'FN19980O42' }))).toEqual([]);
    expect(await bed.registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'FN1998004' }))).toEqual([]);
    await expect(bed.registry.findExact(query({ serialNumber: 'FN19980042' }))).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_MISSING_FIELD, field: 'query.manufacturer' });
    await expect(bed.registry.findExact(query({ manufacturer: '--', serialNumber: 'FN19980042' }))).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_MISSING_FIELD, field: 'query.manufacturer' });
    // The serial is checked first (protocol 11.3).
    await expect(bed.registry.findExact(query({ serialNumber: '--' }))).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, field: 'query.serial_number', rule: 'serial' });
    // A well-formed id that no record has is simply not found.
    await expect(bed.registry.get(`${bed.registry.adapters[0]?.idPrefix}${'A'.repeat(22)}`)).resolves.toBeUndefined();
  });

  it('alias: a manufacturer found under any spelling of the alias table, both ways', async () => {
    expect(names(await bed.registry.findExact(query({ manufacturer: 'FN', serialNumber: 'FN-1998-0042' })))).toEqual(['fal']);
    expect(names(await bed.registry.findExact(query({ manufacturer: 'Fabrique Nationale', serialNumber: 'FN-1998-0042' })))).toEqual(['fal']);
    expect(names(await bed.registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'MN 4471' })))).toEqual(['minimi']);
  });

  it('partial serial: wildcards give candidates, serial-only across manufacturers', async () => {
    expect(names(await bed.registry.search(query({ serialNumber: 'fn-1998*' }), { serialOnly: true }))).toEqual(['beretta', 'fal']);
    expect(names(await bed.registry.search(query({ manufacturer: 'FN Herstal', serialNumber: 'FN-19??-0042' })))).toEqual(['fal']);
    expect(names(await bed.registry.search(query({ serialNumber: '*5123' }), { serialOnly: true }))).toEqual(['glock']);
    expect(names(await bed.registry.search(query({ serialNumber: 'GK?123' }), { serialOnly: true }))).toEqual([]);
    expect(names(await bed.registry.search(query({ serialNumber: 'GK55?23' }), { serialOnly: true }))).toEqual(['glock']);
    await expect(bed.registry.search(query({ serialNumber: 'F*2' }), { serialOnly: true })).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, rule: 'wildcard_known_characters' });
    // An exact search takes the serial literally: a star in it is not a wildcard.
    expect(await bed.registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'FN-1998*' }))).toEqual([]);
  });

  it('events order: oldest first, same-day events in their recorded order, every field kept', async () => {
    const [glock] = await bed.registry.findExact(query({ manufacturer: 'Glock', serialNumber: 'GK55123' }));
    expect(glock?.events).toEqual(FIXTURE.glock.events);
    expect(glock?.manufacture).toMatchObject({ manufacturer: 'Glock', serialNumber: 'GK-55123', model: '17', calibre: '9x19mm', countryOfManufacture: 'AUT', year: 2015 });
    expect((await bed.registry.get(bed.ids.fal))?.events).toEqual(FIXTURE.fal.events);
    expect((await bed.registry.get(bed.ids.mcx))?.controlComponent?.serialNumber).toBe('LR-77');
  });

  it('retention refusal: a record inside its retention period is not deleted, and the day it may be is named', async () => {
    await expect(bed.registry.retention(bed.ids.fal)).resolves.toMatchObject({ deletableFrom: '2028-03-02' });
    await expect(bed.registry.delete(bed.ids.fal)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
      field: 'record_id',
      rule: 'retention_period',
      message: expect.stringContaining('it may be deleted from 2028-03-02'),
    });
    expect(await bed.registry.get(bed.ids.fal)).toBeDefined();
    // Past its period a record is deleted where it is kept: the node's own store deletes it, a
    // registry the node only reads refuses and names the registry.
    const webley = bed.ids.webley;
    if (bed.registry.adapters[0]?.kind === 'leveldb') {
      await expect(bed.registry.delete(webley)).resolves.toMatchObject({ recordId: webley, deletableFrom: '1980-03-01' });
    } else {
      await expect(bed.registry.delete(webley)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, rule: 'read_only_registry' });
      expect(await bed.registry.get(webley)).toBeDefined();
    }
  });
});
