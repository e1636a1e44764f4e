import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ErrorCode, type RecordQuery, TracenetError, WeaponEventType, WeaponType } from '@tracenet/proto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { importRecords, type ImportProgressReport } from '../../src/records/import.js';
import {
  countEntries,
  generatedRow,
  NOW,
  type RecordBed,
  startRecordBed,
  weapon,
  writeGeneratedFile,
} from './support.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracenet-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function bytes(text: string): AsyncIterable<Uint8Array> {
  return (async function* () {
    yield Buffer.from(text);
  })();
}

/** The text cut into chunks of `size` bytes, so that rows and UTF-8 characters straddle chunks. */
function chunked(text: string, size: number): AsyncIterable<Uint8Array> {
  const all = Buffer.from(text);
  return (async function* () {
    for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
  })();
}

const HEADER = 'manufacturer,serial_number,model,type,calibre,event1_type,event1_date,event1_place,event1_agency';

describe('importing a large file', () => {
  let bed: RecordBed;
  beforeAll(async () => {
    bed = await startRecordBed();
  });
  afterAll(async () => {
    await bed.cleanup();
  });

  it('imports 100,000 CSV rows, rejects exactly the injected bad rows by line, and every good row is findable by identity', async () => {
    const file = await writeGeneratedFile(join(dir, 'registry.csv'), 'csv', 100_000, 997);
    const reports: ImportProgressReport[] = [];
    const started = performance.now();
    const summary = await importRecords(createReadStream(file.path, { highWaterMark: 64 * 1024 }), {
      format: 'csv',
      records: bed.records,
      nowMs: NOW,
      onProgress: (r) => void reports.push(r),
    });
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `CSV import: 100,000 rows in ${seconds.toFixed(2)} s = ${Math.round(100_000 / seconds)} rows/s; rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
    );

    expect(file.badLines.length).toBe(100);
    expect(summary.rowsRead).toBe(100_000);
    expect(summary.rowsRejected).toBe(file.badLines.length);
    expect(summary.rowsImported).toBe(100_000 - file.badLines.length);
    expect([...new Set(summary.errors.map((e) => e.line))]).toEqual(file.badLines);
    // Every kind of bad row was injected and reported, named by its column.
    expect(new Set(summary.errors.map((e) => e.field))).toEqual(
      new Set([
        'serial_number',
        'event1_date',
        'country_of_manufacture',
        'type',
        'event2_destination',
        'year',
        'event2_date',
        'row',
      ]),
    );
    expect(summary.errors.find((e) => e.line === file.badLines[1])).toMatchObject({
      field: 'event1_date',
      reason: expect.stringContaining('2001-02-30'),
    });

    // Progress came every 5,000 rows (or second), the errors of each report only once, and a final done.
    expect(reports.length).toBeGreaterThanOrEqual(20);
    expect(reports.at(-1)).toMatchObject({ done: true, rowsRead: 100_000, rowsRejected: 100 });
    expect(reports.flatMap((r) => r.errors)).toEqual(summary.errors);

    expect(await countEntries(bed.test, 'records')).toBe(summary.rowsImported);
    expect(await countEntries(bed.test, 'record-serials')).toBe(summary.rowsImported);
    // findExact gives back exactly that weapon, not the other manufacturer's weapon with the same serial.
    const sample = file.goodRows.filter((_, k) => k % 200 === 0);
    for (const i of sample) {
      const { maker, serial } = generatedRow(i);
      const query: RecordQuery = {
        manufacturer: maker.manufacturer.toUpperCase(),
        model: '',
        serialNumber: serial.replace(/-/g, ' '),
        calibre: '',
        type: 0,
      };
      const found = await bed.registry.findExact(query);
      expect(found).toHaveLength(1);
      expect(found[0]?.manufacture).toMatchObject({ manufacturer: maker.manufacturer, serialNumber: serial });
    }
    // One audit entry per batch of 1,000 records, not one per record.
    expect(await countEntries(bed.test, 'audit')).toBeLessThan(200);
  });

  it('imports 20,000 JSON Lines rows with the same kinds of bad rows (broken JSON instead of missing cells)', async () => {
    // A store of its own: the CSV file above holds the same weapons, which an import into its
    // store would recognise as already held and not write again (docs/records.md 3).
    const own = await startRecordBed();
    onTestFinished(() => own.cleanup());
    const before = await countEntries(own.test, 'records');
    const file = await writeGeneratedFile(join(dir, 'registry.jsonl'), 'jsonl', 20_000, 199);
    const started = performance.now();
    const summary = await importRecords(createReadStream(file.path), {
      format: 'jsonl',
      records: own.records,
      nowMs: NOW,
    });
    const seconds = (performance.now() - started) / 1000;
    console.info(`JSONL import: 20,000 rows in ${seconds.toFixed(2)} s = ${Math.round(20_000 / seconds)} rows/s`);
    expect(summary.rowsRead).toBe(20_000);
    expect(summary.rowsRejected).toBe(100);
    expect(summary.rowsImported).toBe(19_900);
    expect([...new Set(summary.errors.map((e) => e.line))]).toEqual(file.badLines);
    expect(summary.errors.find((e) => e.line === file.badLines[1])).toMatchObject({ field: 'record.events[0].date' });
    expect(summary.errors.find((e) => e.line === file.badLines[8])).toMatchObject({
      field: 'line',
      reason: expect.stringContaining('not valid JSON'),
    });
    expect(await countEntries(own.test, 'records')).toBe(before + 19_900);
  });
});

describe('import rules', () => {
  let bed: RecordBed;
  beforeEach(async () => {
    bed = await startRecordBed();
    return () => bed.cleanup();
  });

  it('a dry run writes nothing and reports the same rows', async () => {
    const file = await writeGeneratedFile(join(dir, 'dry.csv'), 'csv', 3000, 100);
    const summary = await importRecords(createReadStream(file.path), {
      format: 'csv',
      records: bed.records,
      nowMs: NOW,
      dryRun: true,
    });
    expect(summary).toMatchObject({ rowsRead: 3000, rowsRejected: 30, rowsImported: 0, rowsValid: 2970, dryRun: true });
    expect(await countEntries(bed.test, 'records')).toBe(0);
    expect(await countEntries(bed.test, 'record-serials')).toBe(0);
  });

  it('numbers lines exactly through CRLF, a BOM, blank lines, empty spreadsheet rows and quoted cells spanning lines', async () => {
    const text = [
      `\uFEFF${HEADER}`,
      'FN Herstal,A1,FAL,rifle,7.62x51mm,manufactured,1990-01-02,Herstal,FN',
      '',
      ',,,,,,,,',
      'FN Herstal,A2,FAL,rifle,7.62x51mm,manufactured,1990-13-02,,',
      'FN Herstal,A3,FAL,rifle,"7.62',
      'x51mm",manufactured,1990-01-02,"Her',
      '',
      'stal",FN',
      'FN Herstal,,FAL,rifle,7.62x51mm,,,,',
      'Česká zbrojovka,A5,vz. 58,assault rifle,7.62x39mm,seized,2020-01-02,Praha,Policie ČR',
      '   ',
      'FN Herstal,A6,FAL,rifle,7.62x51mm,seized,2020-01-02,,',
    ].join('\r\n');
    const summary = await importRecords(chunked(text, 7), { format: 'csv', records: bed.records, nowMs: NOW });
    expect(summary.errors.map((e) => [e.line, e.field])).toEqual([
      [5, 'event1_date'],
      [10, 'serial_number'],
      [13, 'event1_place'],
      [13, 'event1_agency'],
    ]);
    expect(summary).toMatchObject({ rowsRead: 6, rowsImported: 3, rowsRejected: 3 });
    const [multi] = await bed.registry.search({
      manufacturer: 'fn herstal',
      serialNumber: 'a3',
      model: '',
      calibre: '',
      type: 0,
    });
    expect(multi?.manufacture?.calibre).toBe('7.62\r\nx51mm');
    const [czech] = await bed.registry.search({
      manufacturer: 'CESKA ZBROJOVKA',
      serialNumber: 'A5',
      model: '',
      calibre: '',
      type: 0,
    });
    expect(czech?.manufacture).toMatchObject({
      manufacturer: 'Česká zbrojovka',
      type: WeaponType.WEAPON_TYPE_ASSAULT_RIFLE,
    });
  });

  it('reports a stray quote on its own line and keeps reading; an unclosed quote ends the import at the line where it opens', async () => {
    const text = [
      HEADER,
      'FN Herstal,B1,FAL,rifle,7.62x51mm,,,,',
      'FN Herstal,B"2,FAL,rifle,7.62x51mm,manufactured,19"90-01-02,,',
      'FN Herstal,B3,FAL,rifle,7.62x51mm,,,,',
      'FN Herstal,"B4,FAL,rifle,7.62x51mm,,,,',
      'FN Herstal,B5,FAL,rifle,7.62x51mm,,,,',
    ].join('\n');
    const summary = await importRecords(bytes(text), { format: 'csv', records: bed.records, nowMs: NOW });
    expect(summary.errors.map((e) => [e.line, e.field])).toEqual([
      [3, 'event1_date'],
      [5, 'row'],
    ]);
    expect(summary.errors[1]?.reason).toMatch(/never closed.*rest of the file was not read/);
    expect(summary).toMatchObject({ rowsRead: 4, rowsImported: 2, rowsRejected: 2 });
  });

  it('refuses a file whose header is not the documented format before reading any row', async () => {
    const attempt = importRecords(bytes('manufacturer,serial,type\nFN,1,rifle\n'), {
      format: 'csv',
      records: bed.records,
      nowMs: NOW,
    });
    await expect(attempt).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'header',
      message: expect.stringContaining('"serial" is not a known column'),
    });
    await expect(importRecords(bytes(''), { format: 'csv', records: bed.records, nowMs: NOW })).rejects.toMatchObject({
      field: 'header',
    });
  });

  it('JSON Lines: line numbers count blank lines, a line too long is rejected without being buffered, split UTF-8 survives', async () => {
    const good = (serial: string) =>
      JSON.stringify({ manufacture: { manufacturer: 'Škoda', serialNumber: serial, type: 'PISTOL' } });
    const text = [
      '',
      good('C1'),
      '   ',
      `{"manufacture": {"manufacturer": "x", "serialNumber": "${'9'.repeat(300)}", "type": "PISTOL"}}`,
      good('C2'),
      '{"manufacture": 5}',
      '{"serial": "C3"}',
      good('C4'),
    ].join('\n');
    const summary = await importRecords(chunked(text, 5), {
      format: 'jsonl',
      records: bed.records,
      nowMs: NOW,
      maxRowBytes: 200,
    });
    expect(summary.errors.map((e) => [e.line, e.field, e.reason])).toEqual([
      [4, 'line', 'the line is longer than 200 bytes'],
      [6, 'record.manufacture', 'must be a JSON object, not number'],
      [7, 'record.serial', 'serial is not a field of this object'],
    ]);
    expect(summary).toMatchObject({ rowsRead: 6, rowsImported: 3, rowsRejected: 3 });
    expect(
      (await bed.registry.search({ manufacturer: 'skoda', serialNumber: 'c2', model: '', calibre: '', type: 0 }))[0]
        ?.manufacture?.manufacturer,
    ).toBe('Škoda');
  });

  it('replaces records named by record_id, and rejects a row naming a record that does not exist', async () => {
    const { record } = await bed.records.put(weapon());
    const header =
      'record_id,manufacturer,serial_number,model,type,status,event1_type,event1_date,event1_place,event1_agency';
    const text = [
      header,
      `${record.recordId},FN Herstal,FN-1998-0042,FAL,rifle,seized,seized,2025-02-03,Lyon,Police nationale`,
      `rec_${'A'.repeat(22)},FN,1,FAL,rifle,,,,,`,
    ].join('\n');
    const summary = await importRecords(bytes(text), { format: 'csv', records: bed.records, nowMs: NOW });
    expect(summary).toMatchObject({ rowsImported: 1, rowsRejected: 1 });
    expect(summary.errors[0]).toMatchObject({
      line: 3,
      field: 'record_id',
      reason: expect.stringContaining('no record'),
    });
    const replaced = await bed.records.get(record.recordId);
    expect(replaced?.events.map((e) => e.type)).toEqual([WeaponEventType.WEAPON_EVENT_TYPE_SEIZED]);
    expect(replaced?.recordedAtMs).toBe(record.recordedAtMs);
  });

  it('caps reported errors but counts every bad row', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `FN Herstal,,FAL,rifle,,,,,${i}`);
    const summary = await importRecords(bytes([HEADER, ...rows].join('\n')), {
      format: 'csv',
      records: bed.records,
      nowMs: NOW,
      maxReportedErrors: 10,
    });
    expect(summary.rowsRejected).toBe(30);
    expect(summary.errors).toHaveLength(10);
  });

  it('stops on a failing source without leaving a write behind, and reports the error as a TracenetError', async () => {
    const source = (async function* () {
      yield Buffer.from(`${HEADER}\nFN Herstal,D1,FAL,rifle,,,,,\n`);
      throw new Error('connection reset');
    })();
    const attempt = importRecords(source, { format: 'csv', records: bed.records, nowMs: NOW });
    await expect(attempt).rejects.toBeInstanceOf(TracenetError);
    await expect(attempt).rejects.toMatchObject({ message: 'connection reset' });
  });

  it('importing the same file twice creates no duplicates: rows already held count as unchanged', async () => {
    const file = await writeGeneratedFile(join(dir, 'twice.csv'), 'csv', 3000, 100);
    const first = await importRecords(createReadStream(file.path), { format: 'csv', records: bed.records, nowMs: NOW });
    expect(first).toMatchObject({ rowsRead: 3000, rowsImported: 2970, rowsUnchanged: 0, rowsRejected: 30 });
    // The second import begins later: what the node held then is compared with.
    bed.clock.advance(60_000);
    const second = await importRecords(createReadStream(file.path), {
      format: 'csv',
      records: bed.records,
      nowMs: bed.clock.now(),
    });
    expect(second).toMatchObject({ rowsRead: 3000, rowsImported: 0, rowsUnchanged: 2970, rowsRejected: 30 });
    expect(await countEntries(bed.test, 'records')).toBe(2970);
    // A row whose content changed (one more event) is a different record: it is written.
    const changed = `${HEADER}\nFN Herstal,ZZ-1,FAL,rifle,7.62x51mm,seized,2020-01-02,Liège,Police\n`;
    const once = await importRecords(bytes(changed), { format: 'csv', records: bed.records, nowMs: bed.clock.now() });
    bed.clock.advance(60_000);
    const again = await importRecords(bytes(changed.replace('Liège', 'Namur')), {
      format: 'csv',
      records: bed.records,
      nowMs: bed.clock.now(),
    });
    expect([once.rowsImported, again.rowsImported, again.rowsUnchanged]).toEqual([1, 1, 0]);
    // Rows repeated within one file are each written, as before: only what the node held when
    // the import began counts as already imported.
    const row = 'FN Herstal,ZZ-2,FAL,rifle,7.62x51mm,seized,2020-01-02,Liège,Police';
    const inFile = await importRecords(bytes(`${HEADER}\n${row}\n${row}\n`), {
      format: 'csv',
      records: bed.records,
      nowMs: bed.clock.now(),
    });
    expect(inFile).toMatchObject({ rowsRead: 2, rowsImported: 2, rowsUnchanged: 0 });
  });

  it('the progress reports carry every row error, beyond the 1,000 the summary keeps', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `FN Herstal,,FAL,rifle,,,,,${i}`);
    const reported: number[] = [];
    const summary = await importRecords(bytes([HEADER, ...rows].join('\n')), {
      format: 'csv',
      records: bed.records,
      nowMs: NOW,
      progressEveryRows: 700,
      onProgress: (r) => void reported.push(...r.errors.map((e) => e.line)),
    });
    expect(summary.rowsRejected).toBe(3000);
    expect(summary.errors).toHaveLength(1000);
    expect(new Set(reported).size).toBe(3000);
    expect(Math.min(...reported)).toBe(2);
    expect(Math.max(...reported)).toBe(3001);
  });
});
