import { InterestCategory, type InterestReport } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importRecords } from '../../src/records/import.js';
import { normaliseSerial } from '../../src/records/normalise.js';
import { recordFromJson, recordToJson } from '../../src/records/record-json.js';
import { describeRecord } from '../../src/cli/records-commands.js';
import { NOW, type RecordBed, startRecordBed, weapon } from './support.js';

/**
 * The interest report in the JSON form of a record (docs/records.md 5.2): `records show --json`
 * prints it, and `records put` and JSON Lines imports take it, under the same strict rules as the
 * rest of the record.
 */

const REPORT: InterestReport = {
  category: InterestCategory.INTEREST_CATEGORY_STOLEN,
  date: '2025-05-30',
  agency: 'Police fédérale',
  reference: 'PV-2025-1187',
  contactPoint: 'NCB Brussels',
};

describe('interest report in the JSON form of a record', () => {
  it('is written with the category by full name, defaults left out, and reads back', () => {
    const record = weapon({ interest: REPORT });
    const json = recordToJson(record);
    expect(json.interest).toEqual({
      category: 'INTEREST_CATEGORY_STOLEN',
      date: '2025-05-30',
      agency: 'Police fédérale',
      reference: 'PV-2025-1187',
      contactPoint: 'NCB Brussels',
    });
    expect(recordFromJson(JSON.parse(JSON.stringify(json)))).toEqual({ record, violations: [] });
    expect(recordToJson(weapon({ interest: { ...REPORT, reference: '', contactPoint: '' } })).interest).toEqual({
      category: 'INTEREST_CATEGORY_STOLEN',
      date: '2025-05-30',
      agency: 'Police fédérale',
    });
    expect(recordToJson(weapon())).not.toHaveProperty('interest');
  });

  it('reads the category by short name, full name or number, and proto field names', () => {
    for (const category of ['stolen', 'Stolen', 'INTEREST_CATEGORY_STOLEN', 2, '2']) {
      const { record, violations } = recordFromJson({
        manufacture: { manufacturer: 'FN', serialNumber: '1', type: 'rifle' },
        interest: { category, date: '2025-05-30', agency: 'PF', contact_point: 'NCB' },
      });
      expect(violations, String(category)).toEqual([]);
      expect(record.interest).toEqual({
        category: InterestCategory.INTEREST_CATEGORY_STOLEN,
        date: '2025-05-30',
        agency: 'PF',
        reference: '',
        contactPoint: 'NCB',
      });
    }
  });

  it('refuses unknown fields, wrong types and unknown categories with their paths', () => {
    const { violations } = recordFromJson({
      manufacture: { manufacturer: 'FN', serialNumber: '1', type: 'rifle' },
      interest: { category: 'misplaced', date: 20250530, contact: 'x' },
    });
    expect(violations.map((v) => [v.field, v.rule])).toEqual([
      ['record.interest.category', 'enum'],
      ['record.interest.date', 'type'],
      ['record.interest.contact', 'unknown_field'],
    ]);
    expect(violations[0]?.message).toContain('lost, stolen, trafficked, smuggled');
    expect(recordFromJson({ interest: 'stolen' }).violations).toEqual([
      { field: 'record.interest', rule: 'type', message: 'must be a JSON object, not string' },
    ]);
  });

  it('shows in the readable form of `records show`', () => {
    expect(describeRecord(weapon({ recordId: 'rec_x', interest: REPORT })).join('\n')).toContain(
      'of interest: stolen on 2025-05-30, reported by Police fédérale (PV-2025-1187); contact point NCB Brussels',
    );
    expect(describeRecord(weapon({ recordId: 'rec_x' })).join('\n')).not.toContain('of interest');
  });
});

describe('JSON Lines import with interest reports', () => {
  let bed: RecordBed;
  beforeAll(async () => {
    bed = await startRecordBed();
  });
  afterAll(() => bed?.cleanup());

  it('imports a reported record as a record of interest and rejects only the row whose report is invalid', async () => {
    const row = (serial: string, interest?: Record<string, unknown>) =>
      JSON.stringify({
        manufacture: { manufacturer: 'FN Herstal', serialNumber: serial, model: 'FAL', type: 'rifle' },
        ...(interest ? { interest } : {}),
      });
    const text = [
      row('INT-1', { category: 'stolen', date: '2025-05-30', agency: 'Police fédérale', contactPoint: 'NCB Brussels' }),
      row('INT-2', { category: 'lost', date: '2025-13-01', agency: '' }),
      row('INT-3'),
    ].join('\n');
    const summary = await importRecords(
      (async function* () {
        yield Buffer.from(text);
      })(),
      { format: 'jsonl', records: bed.records, nowMs: NOW },
    );
    expect(summary.errors.map((e) => [e.line, e.field])).toEqual([
      [2, 'record.interest.date'],
      [2, 'record.interest.agency'],
    ]);
    expect(summary).toMatchObject({ rowsRead: 3, rowsImported: 2, rowsRejected: 1 });
    const find = async (serial: string) =>
      (
        await bed.registry.search({ manufacturer: 'FN Herstal', serialNumber: serial, model: '', calibre: '', type: 0 })
      )[0];
    const reported = await find('INT-1');
    expect(reported?.interest).toMatchObject({
      category: InterestCategory.INTEREST_CATEGORY_STOLEN,
      contactPoint: 'NCB Brussels',
    });
    expect((await find('INT-3'))?.interest).toBeUndefined();
    // The record is in the records-of-interest index that lookups read.
    const entries = await bed.records.findInterest({ serial: normaliseSerial('INT-1'), exact: true }, () => true, 10);
    expect(entries.map((e) => [e.recordId, e.category])).toEqual([
      [reported?.recordId, InterestCategory.INTEREST_CATEGORY_STOLEN],
    ]);
  });
});
