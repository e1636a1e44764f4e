import type { WeaponRecord } from '@tracenet/proto';
import { describe, expect, it } from 'vitest';
import { type ImportProgressReport, importRecords, type RecordSink } from '../../src/records/import.js';
import { seededRandom } from '../../src/util/scheduler.js';
import { GENERATED_CSV_HEADER, generatedRow, NOW } from './support.js';

/**
 * The CSV import splits plain lines itself and gives csv-parse only what is not plain (import.ts,
 * `csvRows`). A file whose header holds a quote is read by csv-parse alone, as every file was
 * before; so the same file with its first column name quoted is the reference. Both must give the
 * same records, rejections (line, column, reason), counts and failure, on random files full of
 * what makes CSV hard, cut into random chunks.
 */

const COLUMNS = GENERATED_CSV_HEADER.split(',');

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)] as T;
}

const PIECES = ['FN', 'x', '9', ' ', 'é', '漢', ',', '"', '""', '\r', '\n', '\r\n', '-', 'SN'];
/** A place with what a quoted cell may hold: a comma, a doubled quote, a line feed, CR LF. */
const QUOTED_PLACES = ['"Her, stal"', '"Her ""stal"""', '"Her\nstal"', '"Her\r\nstal"'];

/** A cell of a troubled row: mostly text, sometimes quoted whole (quotes doubled), sometimes a stray quote. */
function cell(next: () => number): string {
  let text = '';
  const length = Math.floor(next() * 6);
  const plain = next() < 0.7;
  for (let i = 0; i < length; i += 1) text += plain ? pick(next, PIECES.slice(0, 6)) : pick(next, PIECES);
  const how = next();
  if (how < 0.25) return `"${text.replaceAll('"', '""')}"`;
  if (how < 0.3) return `"${text}`;
  return text;
}

function file(seed: number): { body: string; maxRowBytes: number } {
  const next = seededRandom(seed);
  const rows: string[] = [];
  const count = 1 + Math.floor(next() * 40);
  for (let i = 0; i < count; i += 1) {
    const shape = next();
    if (shape < 0.05) rows.push('');
    else if (shape < 0.08) rows.push(',,,,');
    else if (shape < 0.55) {
      // A good row, its cells sometimes quoted whole, its place sometimes holding a comma, quote or line.
      const cells = generatedRow(seed * 100 + i).cells.map((c) => (next() < 0.2 ? `"${c}"` : c));
      if (next() < 0.3) cells[COLUMNS.indexOf('event1_place')] = pick(next, QUOTED_PLACES);
      rows.push(cells.join(','));
    } else {
      const cells = COLUMNS.slice(0, 1 + Math.floor(next() * (COLUMNS.length + 1))).map(() => cell(next));
      rows.push(cells.join(','));
    }
  }
  const ending = next() < 0.15 ? '\r\n' : '\n';
  const body = rows.join(ending) + (next() < 0.5 ? ending : '');
  return { body, maxRowBytes: next() < 0.2 ? 60 + Math.floor(next() * 400) : 1024 * 1024 };
}

function chunks(text: string, next: () => number): AsyncIterable<Uint8Array> {
  const all = Buffer.from(text);
  return (async function* () {
    let at = 0;
    while (at < all.length) {
      const size = 1 + Math.floor(next() * (next() < 0.5 ? 8 : 300));
      yield all.subarray(at, at + size);
      at += size;
    }
  })();
}

/** Everything an import tells and writes, but where it got to in bytes (the reference's header is 2 bytes longer). */
async function outcome(text: string, maxRowBytes: number, seed: number) {
  const written: WeaponRecord[] = [];
  const sink: RecordSink = {
    putMany: async (records) => {
      written.push(...records);
      return records.map((record) => ({ record, created: true }));
    },
    get: async () => undefined,
  };
  const reports: Omit<ImportProgressReport, 'bytesProcessed'>[] = [];
  try {
    const {
      bytesProcessed: _,
      importId: __,
      ...summary
    } = await importRecords(chunks(text, seededRandom(seed)), {
      format: 'csv',
      records: sink,
      nowMs: NOW,
      maxRowBytes,
      importId: 'imp_same',
      progressEveryRows: 3,
      progressEveryMs: 1e9,
      onProgress: ({ bytesProcessed: _b, ...report }) => void reports.push(report),
    });
    return { summary, written, reports };
  } catch (error) {
    return { failure: String(error), written, reports };
  }
}

describe('the CSV import splits plain lines itself', () => {
  it('reads 600 random files exactly as csv-parse alone does, in any chunking', async () => {
    const header = COLUMNS.join(',');
    let split = 0;
    for (let seed = 1; seed <= 600; seed += 1) {
      const { body, maxRowBytes } = file(seed);
      const ours = await outcome(`${header}\n${body}`, maxRowBytes, seed);
      const reference = await outcome(`"${COLUMNS[0]}"${header.slice(COLUMNS[0]?.length)}\n${body}`, maxRowBytes, seed);
      expect(ours, `file of seed ${seed}`).toEqual(reference);
      if (ours.written.length > 0) split += 1;
    }
    // The files must hold good rows too, or the comparison would be of rejections only.
    expect(split).toBeGreaterThan(100);
  });
});
