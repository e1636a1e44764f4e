import { ComponentKind, ErrorCode, type RecordQuery, WeaponEventType, WeaponType } from '@tracenet/proto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { IMPORT_BATCH_SIZE } from '../../src/records/record-store.js';
import { countEntries, event, NOW, type RecordBed, startRecordBed, weapon } from './support.js';

const {
  WEAPON_EVENT_TYPE_MANUFACTURED: MANUFACTURED,
  WEAPON_EVENT_TYPE_EXPORTED: EXPORTED,
  WEAPON_EVENT_TYPE_SEIZED: SEIZED,
} = WeaponEventType;

function query(fields: Partial<RecordQuery>): RecordQuery {
  return { manufacturer: '', model: '', serialNumber: '', calibre: '', type: 0, ...fields };
}

async function auditLines(bed: RecordBed): Promise<string[]> {
  const lines: string[] = [];
  for await (const [, value] of bed.test.node.store.audit.entries.entries()) lines.push(String(value.line));
  return lines;
}

let bed: RecordBed;
beforeEach(async () => {
  bed = await startRecordBed();
  return () => bed.cleanup();
});

describe('put and get', () => {
  it('assigns a record id and the node times, and returns the record with its secondary marks', async () => {
    const { record, created } = await bed.records.put(weapon());
    expect(created).toBe(true);
    expect(record.recordId).toMatch(/^rec_[A-Za-z0-9_-]{22}$/);
    expect(record).toMatchObject({ recordedAtMs: NOW, updatedAtMs: NOW });
    const stored = await bed.records.get(record.recordId);
    expect(stored).toEqual(record);
    expect(stored?.secondaryMarks).toEqual([{ location: 'inside receiver', value: 'X7Q' }]);
    expect(await bed.records.get(`rec_${'Z'.repeat(22)}`)).toBeUndefined();
    await expect(bed.records.get('nope')).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'record_id',
    });
  });

  it('writes nothing for an invalid record and lists every violation', async () => {
    const auditBefore = (await auditLines(bed)).length;
    const bad = weapon({ events: [event(EXPORTED, '1999-02-29')] }, { serialNumber: '' });
    await expect(bed.records.put(bad)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      violations: [
        expect.objectContaining({ field: 'record.manufacture.serial_number' }),
        expect.objectContaining({ field: 'record.events[0].date' }),
        expect.objectContaining({ field: 'record.events[0].destination' }),
      ],
    });
    expect(await countEntries(bed.test, 'records')).toBe(0);
    expect(await countEntries(bed.test, 'record-serials')).toBe(0);
    expect((await auditLines(bed)).length).toBe(auditBefore);
  });

  it('refuses to replace a record that does not exist', async () => {
    await expect(bed.records.put(weapon({ recordId: `rec_${'Q'.repeat(22)}` }))).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
    });
  });

  it('audits puts and deletes with metadata only, never secondary marks or markings', async () => {
    const { record } = await bed.records.put(weapon());
    bed.clock.set(Date.UTC(2060, 0, 1));
    await bed.records.delete(record.recordId);
    const lines = (await auditLines(bed)).filter((l) => l.includes('"record.'));
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['record.put', 'record.deleted']);
    expect(lines.join('\n')).toContain(record.recordId);
    for (const secret of ['X7Q', 'inside receiver', 'FN-1998-0042', 'Kenya Police'])
      expect(lines.join('\n')).not.toContain(secret);
  });
});

describe('indexes', () => {
  it('finds every record of a serial, whether read synchronously (up to 8) or on the thread pool (more)', async () => {
    const makers = ['FN Herstal', 'Glock', 'Beretta', 'Colt', 'Ruger', 'Sig Sauer', 'Walther', 'Steyr', 'Browning'];
    const put = async (serialNumber: string, count: number) => {
      const ids: string[] = [];
      for (const manufacturer of makers.slice(0, count))
        ids.push((await bed.records.put(weapon({}, { manufacturer, serialNumber }))).record.recordId);
      return ids.sort();
    };
    const eight = await put('DUP-8', 8);
    const nine = await put('DUP-9', 9);
    const { records } = bed.test.node.store.records;
    const getSync = vi.spyOn(records, 'getSync');
    const getMany = vi.spyOn(records, 'getMany');
    /** The record ids found for a serial, and how many reads each way that took. */
    const found = async (serialNumber: string) => {
      getSync.mockClear();
      getMany.mockClear();
      const ids = (await bed.registry.search(query({ serialNumber }), { serialOnly: true }))
        .map((r) => r.recordId)
        .sort();
      return { ids, getSync: getSync.mock.calls.length, getMany: getMany.mock.calls.length };
    };
    expect(await found('dup8')).toEqual({ ids: eight, getSync: 8, getMany: 0 });
    expect(await found('dup9')).toEqual({ ids: nine, getSync: 0, getMany: 1 });
    const browning = await bed.registry.findExact(query({ manufacturer: 'browning', serialNumber: 'DUP 9' }));
    expect(browning.map((r) => [r.manufacture?.manufacturer, r.manufacture?.serialNumber])).toEqual([
      ['Browning', 'DUP-9'],
    ]);
  });

  it('serial-only search finds every manufacturer with that serial; identity search does not confuse them', async () => {
    const fn = (await bed.records.put(weapon({}, { serialNumber: 'AB-1234' }))).record;
    const glock = (
      await bed.records.put(
        weapon(
          {},
          {
            manufacturer: 'Glock',
            model: '17',
            type: WeaponType.WEAPON_TYPE_PISTOL,
            calibre: '9x19mm',
            serialNumber: 'ab 1234',
          },
        ),
      )
    ).record;
    await bed.records.put(weapon({}, { serialNumber: 'AB-12345' }));

    const bySerial = await bed.registry.search(query({ serialNumber: 'ab1234' }), { serialOnly: true });
    expect(bySerial.map((r) => r.recordId).sort()).toEqual([fn.recordId, glock.recordId].sort());

    expect(
      (await bed.registry.findExact(query({ manufacturer: 'F.N. HERSTAL', serialNumber: 'AB 1234' }))).map(
        (r) => r.recordId,
      ),
    ).toEqual([fn.recordId]);
    expect(
      (await bed.registry.findExact(query({ manufacturer: 'glock', serialNumber: 'AB/1234' }))).map((r) => r.recordId),
    ).toEqual([glock.recordId]);
    expect(await bed.registry.findExact(query({ manufacturer: 'Beretta', serialNumber: 'AB1234' }))).toEqual([]);
    // O and 0 are different marks.
    expect(await bed.registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'A81234' }))).toEqual([]);
    expect(await bed.registry.search(query({ serialNumber: 'ABI234' }), { serialOnly: true })).toEqual([]);
  });

  it('model, calibre and type narrow an identity search when given', async () => {
    const fal = (await bed.records.put(weapon({}, { serialNumber: 'S1', model: 'FAL' }))).record;
    const fnc = (
      await bed.records.put(
        weapon(
          {},
          { serialNumber: 'S1', model: 'F2000', calibre: '5.56x45mm', type: WeaponType.WEAPON_TYPE_ASSAULT_RIFLE },
        ),
      )
    ).record;
    const ids = async (q: Partial<RecordQuery>) =>
      (await bed.registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'S1', ...q })))
        .map((r) => r.recordId)
        .sort();
    expect(await ids({})).toEqual([fal.recordId, fnc.recordId].sort());
    expect(await ids({ model: 'fal' })).toEqual([fal.recordId]);
    expect(await ids({ model: 'F-2000' })).toEqual([fnc.recordId]);
    expect(await ids({ calibre: '5.56 x 45 mm' })).toEqual([fnc.recordId]);
    expect(await ids({ type: WeaponType.WEAPON_TYPE_RIFLE })).toEqual([fal.recordId]);
    expect(await ids({ model: 'FAL', calibre: '9x19mm' })).toEqual([]);
  });

  it('a serial alone is not an identity: identity search needs the manufacturer, every search needs a serial', async () => {
    await expect(bed.registry.findExact(query({ serialNumber: 'S1' }))).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'query.manufacturer',
    });
    await expect(bed.registry.search(query({ serialNumber: 'S1' }))).rejects.toMatchObject({
      field: 'query.manufacturer',
    });
    await expect(bed.registry.search(query({ manufacturer: 'FN' }), { serialOnly: true })).rejects.toMatchObject({
      field: 'query.serial_number',
    });
    await expect(bed.registry.search(query({ serialNumber: '--' }), { serialOnly: true })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'query.serial_number',
    });
    await expect(
      bed.registry.search(query({ serialNumber: 'S1' }), { serialOnly: true, limit: 1001 }),
    ).rejects.toMatchObject({ field: 'limit' });
  });

  it('indexes the control component serial of a modular weapon', async () => {
    const modular = weapon(
      { controlComponent: { kind: ComponentKind.COMPONENT_KIND_LOWER_RECEIVER, serialNumber: 'LR-77', marking: '' } },
      { manufacturer: 'SIG Sauer', model: 'MCX', serialNumber: '' },
    );
    const { record } = await bed.records.put(modular);
    expect(
      (await bed.registry.findExact(query({ manufacturer: 'Sig Sauer', serialNumber: 'lr77' }))).map((r) => r.recordId),
    ).toEqual([record.recordId]);
    expect(await countEntries(bed.test, 'record-serials')).toBe(1);
  });

  it('replacing a record replaces its index entries in the same write', async () => {
    const { record } = await bed.records.put(weapon({}, { serialNumber: 'OLD-1' }));
    const replaced = await bed.records.put({
      ...record,
      manufacture: { ...record.manufacture!, manufacturer: 'Herstal Group', serialNumber: 'NEW-2' },
    });
    expect(replaced.created).toBe(false);
    expect(replaced.record).toMatchObject({ recordId: record.recordId, recordedAtMs: NOW });
    expect(await bed.registry.search(query({ serialNumber: 'OLD1' }), { serialOnly: true })).toEqual([]);
    expect(await bed.registry.findExact(query({ manufacturer: 'FN Herstal', serialNumber: 'NEW2' }))).toEqual([]);
    expect(
      (await bed.registry.findExact(query({ manufacturer: 'herstal group', serialNumber: 'NEW2', model: 'FAL' }))).map(
        (r) => r.recordId,
      ),
    ).toEqual([record.recordId]);
    expect(await countEntries(bed.test, 'record-serials')).toBe(1);
  });

  it('concurrent replacements of one record leave exactly the last version indexed', async () => {
    const { record } = await bed.records.put(weapon());
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        bed.records.put({ ...record, manufacture: { ...record.manufacture!, serialNumber: `C-${i}` } }),
      ),
    );
    expect(await countEntries(bed.test, 'record-serials')).toBe(1);
    const final = await bed.records.get(record.recordId);
    expect(
      (
        await bed.registry.search(query({ serialNumber: final?.manufacture?.serialNumber ?? '' }), { serialOnly: true })
      ).map((r) => r.recordId),
    ).toEqual([record.recordId]);
  });

  it('putMany writes batches of 1,000 with one audit entry each, and a later row replaces an earlier one of the same batch', async () => {
    const { record } = await bed.records.put(weapon());
    const many = Array.from({ length: IMPORT_BATCH_SIZE + 5 }, (_, i) => weapon({}, { serialNumber: `M-${i}` }));
    many.splice(
      10,
      0,
      { ...record, manufacture: { ...record.manufacture!, serialNumber: 'R-1' } },
      { ...record, manufacture: { ...record.manufacture!, serialNumber: 'R-2' } },
    );
    const results = await bed.records.putMany(many, { importId: 'imp_test', batch: 0 });
    expect(results.filter((r) => !r.created)).toHaveLength(2);
    expect(await countEntries(bed.test, 'records')).toBe(IMPORT_BATCH_SIZE + 6);
    expect(await countEntries(bed.test, 'record-serials')).toBe(IMPORT_BATCH_SIZE + 6);
    expect((await bed.records.get(record.recordId))?.manufacture?.serialNumber).toBe('R-2');
    const imported = (await auditLines(bed)).map((l) => JSON.parse(l)).filter((e) => e.type === 'records.imported');
    expect(imported.map((e) => [e.batch, e.count, e.replaced])).toEqual([
      [0, 1000, 2],
      [1, 7, 0],
    ]);
    expect(imported[0].idsDigest).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('retention (ITI para 12)', () => {
  it('keeps a manufacturing record 30 years from its MANUFACTURED event, naming the date it may be deleted', async () => {
    const { record } = await bed.records.put(
      weapon(
        { events: [event(MANUFACTURED, '2000-03-02'), event(EXPORTED, '2001-05-10', { destination: 'KEN' })] },
        { year: 2000 },
      ),
    );
    await expect(bed.records.delete(record.recordId)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
      field: 'record_id',
      rule: 'retention_period',
      message: expect.stringMatching(
        /kept 30 years from its manufacture on 2000-03-02; it may be deleted from 2030-03-02$/,
      ),
    });
    bed.clock.set(Date.UTC(2030, 2, 1, 23, 59));
    await expect(bed.records.delete(record.recordId)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
    });
    bed.clock.set(Date.UTC(2030, 2, 2));
    expect(await bed.records.delete(record.recordId)).toEqual({
      recordId: record.recordId,
      deletableFrom: '2030-03-02',
    });
    expect(await bed.records.get(record.recordId)).toBeUndefined();
    expect(await countEntries(bed.test, 'record-serials')).toBe(0);
    await expect(bed.records.delete(record.recordId)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NOT_FOUND });
  });

  it('keeps every record 20 years from its latest event when that is later', async () => {
    const { record } = await bed.records.put(
      weapon(
        {
          events: [event(MANUFACTURED, '1985-01-15'), event(SEIZED, '2016-07-01', { place: 'Lyon', agency: 'OCLCO' })],
        },
        { year: 1985 },
      ),
    );
    expect(await bed.records.retention(record.recordId)).toEqual({
      deletableFrom: '2036-07-01',
      reason: '20 years from its latest event on 2016-07-01',
    });
  });

  it('keeps a record without events 20 years from when it was recorded, or 30 years from its year of manufacture', async () => {
    const plain = (await bed.records.put(weapon({ events: [] }, { year: 0 }))).record;
    expect((await bed.records.retention(plain.recordId)).deletableFrom).toBe('2046-06-01');
    const dated = (await bed.records.put(weapon({ events: [] }, { year: 2020 }))).record;
    expect(await bed.records.retention(dated.recordId)).toEqual({
      deletableFrom: '2051-01-01',
      reason: '30 years from the end of its year of manufacture 2020',
    });
    bed.clock.set(Date.UTC(2046, 5, 1));
    await expect(bed.records.delete(dated.recordId)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
    });
    await bed.records.delete(plain.recordId);
  });

  it('a change never shortens retention: removing the events keeps the earlier period', async () => {
    bed.clock.set(Date.UTC(2011, 0, 1));
    const { record } = await bed.records.put(weapon({ events: [event(MANUFACTURED, '2010-06-01')] }, { year: 2010 }));
    await bed.records.put({ ...record, events: [], manufacture: { ...record.manufacture!, year: 0 } });
    // Alone, the edited record would be kept 20 years from 2011; the earlier version said 2040.
    bed.clock.set(Date.UTC(2035, 0, 1));
    await expect(bed.records.delete(record.recordId)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
      message: expect.stringMatching(
        /30 years from its manufacture on 2010-06-01 \(an earlier version.*it may be deleted from 2040-06-01$/,
      ),
    });
    bed.clock.set(Date.UTC(2040, 5, 1));
    await bed.records.delete(record.recordId);
  });
});
