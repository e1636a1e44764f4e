import { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterestCategory } from '@tracenet/proto';
import { CSV_SCALAR_COLUMNS } from '../../src/records/csv-columns.js';
import { importRecords } from '../../src/records/import.js';
import {
  normaliseCalibre,
  normaliseManufacturer,
  normaliseModel,
  normaliseSerial,
} from '../../src/records/normalise.js';
import {
  COMPONENT_KIND,
  enumChoices,
  ITEM_CATEGORY,
  SEIZURE_CIRCUMSTANCE,
  DESTRUCTION_STATE,
  REEXPORT_CONDITION,
  EVENT_TYPE,
  MANUFACTURE_METHOD,
  WEAPON_STATUS,
  WEAPON_TYPE,
} from '../../src/records/record-json.js';
import { NOW, type RecordBed, startRecordBed } from './support.js';

const RECORDS_MD = readFileSync(fileURLToPath(new URL('../../../docs/records.md', import.meta.url)), 'utf8');

/** The body of the only fenced block of `language`. */
function block(language: string): string {
  const blocks = [...RECORDS_MD.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))];
  expect(blocks, `docs/records.md has one ${language} block`).toHaveLength(1);
  return blocks[0]?.[1] ?? '';
}

/** Rows of the `nth` Markdown table whose header row is `header`, as cells. */
function table(header: string, nth = 0): string[][] {
  const lines = RECORDS_MD.split('\n');
  const start = lines.findIndex(
    (line, i) => line === header && lines.slice(0, i).filter((l) => l === header).length === nth,
  );
  expect(start, `docs/records.md has a table "${header}"`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');

describe('docs/records.md', () => {
  let bed: RecordBed;
  beforeAll(async () => {
    bed = await startRecordBed();
  });
  afterAll(async () => {
    await bed.cleanup();
  });

  it('the example CSV file imports without a rejected row', async () => {
    const summary = await importRecords(Readable.from([Buffer.from(block('csv'))]), {
      format: 'csv',
      records: bed.records,
      nowMs: NOW,
    });
    expect(summary.errors).toEqual([]);
    expect(summary).toMatchObject({ rowsRead: 3, rowsImported: 3 });
    const [sig] = await bed.registry.findExact({
      manufacturer: 'Sig Sauer',
      serialNumber: '62a014',
      model: '',
      calibre: '',
      type: 0,
    });
    expect(sig?.controlComponent?.serialNumber).toBe('62A-014');
  });

  it('the example JSON Lines file imports without a rejected row', async () => {
    const summary = await importRecords(Readable.from([Buffer.from(block('jsonl'))]), {
      format: 'jsonl',
      records: bed.records,
      nowMs: NOW,
    });
    expect(summary.errors).toEqual([]);
    expect(summary).toMatchObject({ rowsRead: 3, rowsImported: 3 });
    const [beretta] = await bed.registry.findExact({
      manufacturer: 'Beretta',
      serialNumber: 'PX40771',
      model: '',
      calibre: '',
      type: 0,
    });
    expect(beretta?.interest).toMatchObject({
      category: InterestCategory.INTEREST_CATEGORY_STOLEN,
      agency: 'Police fédérale',
      contactPoint: 'NCB Brussels',
    });
  });

  it('lists exactly the single-field columns the importer reads', () => {
    expect(table('| column | field |').map((row) => ticked(row[0] ?? '')[0])).toEqual(CSV_SCALAR_COLUMNS);
  });

  it('lists exactly the values of every enumeration', () => {
    const values = Object.fromEntries(
      table('| column | values |').map((row) => [ticked(row[0] ?? '')[0], (row[1] ?? '').split(', ')]),
    );
    expect(values).toEqual({
      type: enumChoices(WEAPON_TYPE),
      manufacture_method: enumChoices(MANUFACTURE_METHOD),
      status: enumChoices(WEAPON_STATUS),
      'event<n>_type': enumChoices(EVENT_TYPE),
      control_component_kind: enumChoices(COMPONENT_KIND),
      item_category: enumChoices(ITEM_CATEGORY),
      'event<n>_circumstance': enumChoices(SEIZURE_CIRCUMSTANCE),
      destruction_state: enumChoices(DESTRUCTION_STATE),
      'event<n>_undertaking_condition': enumChoices(REEXPORT_CONDITION),
    });
  });

  it('normalisation examples are what the code does', () => {
    const serials = table('| as marked | compared as |', 0);
    const names = table('| as marked | compared as |', 1);
    expect(serials.length + names.length).toBeGreaterThanOrEqual(8);
    for (const [marked = '', compared = ''] of serials)
      for (const input of ticked(marked)) expect(normaliseSerial(input), input).toBe(ticked(compared)[0]);
    for (const [marked = '', compared = ''] of names) {
      const normalise = marked.startsWith('model')
        ? normaliseModel
        : marked.startsWith('calibre')
          ? normaliseCalibre
          : normaliseManufacturer;
      for (const input of ticked(marked)) expect(normalise(input), input).toBe(ticked(compared)[0]);
    }
  });
});
