import { parse as parseCsvSync } from 'csv-parse/sync';

/**
 * The CSV import's fast path (import.ts, `csvRows`): csv-parse reads byte by byte, a fifth of an
 * import's time, so plain lines are split here, and only what is not plain is given to csv-parse.
 * Every function answers only when its answer is the one csv-parse would give (with
 * `relax_column_count`, `relax_quotes`, `skip_empty_lines` and `\n` as the record delimiter), and
 * undefined otherwise; node/test/records/import-csv-split.test.ts compares the two on random files.
 */

/** Lines of one record csv-parse is given on its own at most, before it reads the rest of the file. */
export const RECORD_LINES = 16;

/**
 * Whether the file's first line, the header, is plain (no quote, no carriage return, not empty)
 * and ends with a bare line feed in this first chunk: csv-parse then takes the line feed as the
 * record delimiter, and the header's cells are its text split at commas.
 */
export function plainHeader(chunk: Uint8Array): boolean {
  const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const i = bytes.indexOf(10);
  if (i <= bomLength(bytes)) return false;
  const header = bytes.subarray(0, i);
  return !header.includes(0x22) && !header.includes(0x0d);
}

/** 3 when `bytes` start with the UTF-8 byte order mark (csv-parse's `bom` drops it), else 0. */
export function bomLength(bytes: Buffer): number {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/**
 * The cells of the line `bytes[start, end)` (without its line feed) when csv-parse could read them
 * only one way: no carriage return, and every quote either inside a cell that is quoted whole
 * (opens the cell, closes it right before a comma or the end, doubled inside) or none. [] for an
 * empty line (csv-parse skips it); undefined when the line is not that simple.
 */
export function splitLine(bytes: Buffer, start: number, end: number): string[] | undefined {
  const cr = bytes.indexOf(0x0d, start);
  if (cr !== -1 && cr < end) return undefined;
  if (end === start) return [];
  const text = bytes.toString('utf8', start, end);
  if (!text.includes('"')) return text.split(',');
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 0x22) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q === -1) return undefined;
        value += text.slice(from, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          value += '"';
          from = q + 2;
        } else if (q + 1 === text.length) {
          cells.push(value);
          return cells;
        } else if (text.charCodeAt(q + 1) === 0x2c) {
          cells.push(value);
          i = q + 2;
          break;
        } else return undefined;
      }
    } else {
      const comma = text.indexOf(',', i);
      const cell = comma === -1 ? text.slice(i) : text.slice(i, comma);
      if (cell.includes('"')) return undefined;
      cells.push(cell);
      if (comma === -1) return cells;
      i = comma + 1;
    }
  }
}

/**
 * csv-parse's records of `bytes`, one record (possibly over several lines) read on its own from a
 * record boundary with the line feed as delimiter, each with the offset where it ends; undefined
 * when csv-parse cannot finish it there (a quoted cell goes on, or it fails).
 */
export function parseRecord(
  bytes: Buffer,
  options: { relax_column_count: true; relax_quotes: true; skip_empty_lines: true; max_record_size: number },
  last = false,
): { cells: string[]; end: number }[] | undefined {
  try {
    const records = parseCsvSync(bytes, { ...options, record_delimiter: '\n', info: true }) as unknown as {
      record: string[];
      info: { bytes: number };
    }[];
    // Not at the end of the file, the bytes end with a line feed: every record must end by then.
    if (!last && (records[records.length - 1]?.info.bytes ?? bytes.byteLength) !== bytes.byteLength) return undefined;
    return records.map(({ record, info }) => ({ cells: record, end: info.bytes }));
  } catch {
    return undefined;
  }
}
