import { StringDecoder } from 'node:string_decoder';
import { parse as parseCsv } from 'csv-parse';
import { ErrorCode, type FieldViolation, TracenetError, type WeaponRecord } from '@tracenet/proto';
import { randomBytes } from '../crypto/sodium.js';
import { csvRowToRecord, parseCsvHeader, type CsvLayout } from './csv-columns.js';
import { bomLength, parseRecord, plainHeader, RECORD_LINES, splitLine } from './csv-lines.js';
import { IMPORT_BATCH_SIZE, type ImportBatchInfo, type PutResult } from './record-store.js';
import { recordFromJson } from './record-json.js';
import { interestViolations } from './interest.js';
import { recordViolations } from './validation.js';
import { ddrChangeViolations } from './ddr-rules.js';

/** File formats of `tracenet records import`. */
export type ImportFileFormat = 'csv' | 'jsonl';

/** One rejected row: 1-based line number (the CSV header is line 1), the field or column, why. */
export interface ImportRowError {
  readonly line: number;
  readonly field: string;
  readonly reason: string;
}

/** Counters of an import so far. */
export interface ImportCounters {
  /** Bytes of the file processed so far (up to the end of the last row read). */
  bytesProcessed: number;
  /** Data rows read (CSV header and blank lines not counted). */
  rowsRead: number;
  /** Rows written (always 0 in a dry run). */
  rowsImported: number;
  rowsRejected: number;
  /**
   * Valid rows not written because the store already holds a record with the same content (an
   * earlier import of the same file): see {@link RecordSink.sameAs}.
   */
  rowsUnchanged: number;
}

/**
 * A progress report: counters, every row error since the previous report (each error of the
 * import is in exactly one report, whatever their number), and whether it is the last.
 */
export interface ImportProgressReport extends Readonly<ImportCounters> {
  readonly errors: readonly ImportRowError[];
  readonly done: boolean;
}

/** The end of an import. */
export interface ImportSummary extends Readonly<ImportCounters> {
  readonly importId: string;
  readonly dryRun: boolean;
  /** Rows that passed validation (rowsImported + rowsUnchanged unless dry run). */
  readonly rowsValid: number;
  /** The first {@link ImportOptions.maxReportedErrors} row errors (the progress reports carry every one). */
  readonly errors: readonly ImportRowError[];
}

/** Where imported records go: the {@link RecordStore} or a fake. */
export interface RecordSink {
  putMany(records: readonly WeaponRecord[], info: ImportBatchInfo): Promise<readonly PutResult[]>;
  get(recordId: string): Promise<WeaponRecord | undefined>;
  /**
   * The id of a record stored before `beforeMs` (its `recorded_at_ms`) with the same content as
   * `record` (its id and the node's times aside), or undefined. A row without a record id whose
   * record the node held when the import began is not written again: importing the same file
   * twice creates no duplicates (docs/records.md 5).
   */
  sameAs?(record: WeaponRecord, beforeMs: number): Promise<string | undefined>;
  /** Whether any record is stored; an import into an empty store skips {@link sameAs}. */
  holdsAny?(): Promise<boolean>;
}

/** What an import needs. */
export interface ImportOptions {
  readonly format: ImportFileFormat;
  readonly records: RecordSink;
  /** Now, Unix ms (validation refuses future dates). */
  readonly nowMs: number;
  /** Validate only; write nothing. */
  readonly dryRun?: boolean;
  /** Called every `progressEveryRows` rows or `progressEveryMs`, and once at the end (done). Awaited. */
  readonly onProgress?: (report: ImportProgressReport) => void | Promise<void>;
  readonly progressEveryRows?: number;
  readonly progressEveryMs?: number;
  /** Row errors kept in the summary at most (the progress reports carry every one). 1,000 by default. */
  readonly maxReportedErrors?: number;
  /** Longest line (JSONL) or record (CSV) in bytes; longer ones are rejected. 1 MiB by default. */
  readonly maxRowBytes?: number;
  /** Id that ties the audit entries of this import together; random when absent. */
  readonly importId?: string;
  /**
   * Called with every rejected row, as far as it could be read, and its violations. The CSV
   * registry adapter keeps such rows as weapons held but incomplete.
   */
  readonly onRejected?: (row: RejectedRow) => void;
}

/** A row {@link importRecords} rejects, for {@link ImportOptions.onRejected}. */
export interface RejectedRow {
  readonly line: number;
  /** What the row gives of the record; undefined when the row cannot be read at all. */
  readonly record: WeaponRecord | undefined;
  readonly violations: readonly FieldViolation[];
  /** The file's name of a violation's field: its CSV column (`event2_date`), or the path itself in JSON Lines. */
  readonly fieldName: (path: string) => string;
}

/** One row as parsed, before the record rules. */
interface ParsedRow {
  readonly line: number;
  /** Offset just after the row in the file: how far the import has got. */
  readonly end: number;
  readonly record: WeaponRecord | undefined;
  readonly violations: readonly FieldViolation[];
  /** Names the field of a violation in the terms of the file (CSV column or record path). */
  readonly fieldName: (path: string) => string;
}

const identity = (path: string) => path;
const DEFAULT_MAX_ROW_BYTES = 1024 * 1024;

/**
 * Imports a CSV or JSON Lines file given as a stream of byte chunks (docs/records.md). Memory
 * stays flat whatever the file size: rows are parsed as they arrive, validated one by one, and
 * written in journal batches of 1,000 while the next batch is being parsed; the source is read
 * only as fast as rows are consumed. Bad rows are counted and reported with their line number
 * and reason; good rows are kept. An unreadable CSV header throws INVALID_FIELD before anything
 * is written; a CSV quoting error that makes the rest of the file unreadable is reported as a row
 * error on the line where the broken record starts, and the import ends there.
 *
 * @example
 * ```ts
 * const summary = await importRecords(createReadStream('registry.csv'), { format: 'csv', records, nowMs: Date.now() });
 * console.log(`${summary.rowsImported} imported, ${summary.rowsRejected} rejected`);
 * ```
 */
export async function importRecords(source: AsyncIterable<Uint8Array>, options: ImportOptions): Promise<ImportSummary> {
  const importId = options.importId ?? `imp_${randomBytes(12).toString('base64url')}`;
  const dryRun = options.dryRun ?? false;
  const maxReported = options.maxReportedErrors ?? 1000;
  const everyRows = options.progressEveryRows ?? 5000;
  const everyMs = options.progressEveryMs ?? 1000;
  const counters: ImportCounters = {
    bytesProcessed: 0,
    rowsRead: 0,
    rowsImported: 0,
    rowsRejected: 0,
    rowsUnchanged: 0,
  };
  const reported: ImportRowError[] = [];
  let unsent: ImportRowError[] = [];
  let rowsValid = 0;
  let lastReportRows = 0;
  let lastReportAt = Date.now();

  let bytesRead = 0;
  const counted = async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      bytesRead += chunk.byteLength;
      yield chunk;
    }
  };
  const rows =
    options.format === 'csv'
      ? csvRows(counted(), options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES)
      : jsonlRows(counted(), options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES);

  const report = async (done: boolean) => {
    lastReportRows = counters.rowsRead;
    lastReportAt = Date.now();
    const errors = unsent;
    unsent = [];
    await options.onProgress?.({ ...counters, errors, done });
  };
  const reject = (errors: readonly ImportRowError[]) => {
    counters.rowsRejected += 1;
    for (const error of errors) {
      if (reported.length < maxReported) reported.push(error);
      unsent.push(error);
    }
  };

  let batch: WeaponRecord[] = [];
  let batchNo = 0;
  let writing: Promise<void> = Promise.resolve();
  let writeError: unknown;
  const settle = async () => {
    await writing;
    if (writeError !== undefined) throw writeError;
  };
  // Rows already held can only be in a store that held records when the import began.
  const sameAs =
    options.records.sameAs && (await (options.records.holdsAny?.() ?? Promise.resolve(true)))
      ? options.records.sameAs.bind(options.records)
      : undefined;
  /** The records of a batch the store does not hold yet (see {@link RecordSink.sameAs}), looked up 16 at a time. */
  const notHeld = async (records: readonly WeaponRecord[]): Promise<WeaponRecord[]> => {
    if (!sameAs) return [...records];
    const fresh: WeaponRecord[] = [];
    for (let i = 0; i < records.length; i += 16) {
      const slice = records.slice(i, i + 16);
      const held = await Promise.all(slice.map((r) => (r.recordId === '' ? sameAs(r, options.nowMs) : undefined)));
      slice.forEach((r, k) => (held[k] === undefined ? fresh.push(r) : undefined));
    }
    return fresh;
  };
  // One batch is checked and written while the next one is parsed; a failed write stops the import.
  const flush = async () => {
    const records = batch;
    batch = [];
    await settle();
    if (records.length === 0) return;
    writing = (async () => {
      const fresh = await notHeld(records);
      counters.rowsUnchanged += records.length - fresh.length;
      if (fresh.length === 0 || dryRun) return;
      // Every row was checked against the record rules as it was read: the store need not check again.
      const info = { importId, batch: batchNo, validated: true };
      batchNo += 1;
      counters.rowsImported += (await options.records.putMany(fresh, info)).length;
    })().catch((error: unknown) => {
      writeError = error;
    });
  };

  try {
    // Rows come a chunk of the file at a time: one await per chunk, not per row.
    for await (const group of rows)
      for (const row of group) {
        counters.rowsRead += 1;
        counters.bytesProcessed = row.end;
        let violations = row.violations;
        if (violations.length === 0 && row.record) {
          violations = recordViolations(row.record, { nowMs: options.nowMs });
          // A JSON row may carry an interest report; a bad one rejects the row, not its batch.
          if (row.record.interest !== undefined)
            violations = [
              ...violations,
              ...interestViolations(row.record.interest, { prefix: 'record.interest', nowMs: options.nowMs }),
            ];
        }
        if (violations.length === 0 && row.record) {
          const previous = row.record.recordId === '' ? undefined : await options.records.get(row.record.recordId);
          if (row.record.recordId !== '' && !previous) {
            violations = [
              {
                field: 'record.record_id',
                rule: 'exists',
                message: `no record ${row.record.recordId} to replace (leave record_id empty to create a record)`,
              },
            ];
            // A recorded destruction or collection is not rewritten by an import either (19.2).
          } else violations = ddrChangeViolations(previous, row.record);
        }
        if (violations.length > 0 || !row.record) {
          reject(violations.map((v) => ({ line: row.line, field: row.fieldName(v.field), reason: v.message })));
          options.onRejected?.({
            line: row.line,
            record: row.record,
            violations,
            fieldName: row.fieldName,
          });
        } else {
          rowsValid += 1;
          batch.push(row.record);
          if (batch.length >= IMPORT_BATCH_SIZE) await flush();
        }
        if (counters.rowsRead - lastReportRows >= everyRows || Date.now() - lastReportAt >= everyMs)
          await report(false);
      }
    await flush();
    await settle();
    counters.bytesProcessed = bytesRead;
  } catch (error) {
    // Never leave a write running behind the caller's back: wait for the batch in flight, then fail.
    await writing;
    throw TracenetError.from(error);
  }
  await report(true);
  return { ...counters, importId, dryRun, rowsValid, errors: reported };
}

/** Byte offsets of line starts, so that CSV records (which csv-parse reports by byte offset) get exact line numbers. */
class LineIndex {
  /** Absolute offset where each known line starts, from line `#firstLine` on. */
  #starts: number[] = [0];
  /** Whether each completed line is empty (only a line break). */
  #empty: boolean[] = [];
  #firstLine = 1;
  #cursor = 0;
  #offset = 0;
  #lastByte = -1;

  /** Records the line breaks of the next chunk of the file. */
  scan(chunk: Uint8Array): void {
    let i = chunk.indexOf(10);
    while (i !== -1) {
      const at = this.#offset + i;
      const before = i > 0 ? chunk[i - 1] : this.#lastByte;
      const start = this.#starts[this.#starts.length - 1] ?? 0;
      this.#empty.push(at - (before === 13 ? 1 : 0) <= start);
      this.#starts.push(at + 1);
      i = chunk.indexOf(10, i + 1);
    }
    if (chunk.byteLength > 0) this.#lastByte = chunk[chunk.byteLength - 1] ?? -1;
    this.#offset += chunk.byteLength;
  }

  /** Line number of the first non-empty line starting at or after byte `from` (where a record begins). */
  lineFrom(from: number): number {
    let k = this.#cursor;
    while (k + 1 < this.#starts.length && ((this.#starts[k] ?? 0) < from || this.#empty[k] === true)) k += 1;
    this.#cursor = k;
    if (k > 4096) {
      this.#starts.splice(0, k);
      this.#empty.splice(0, k);
      this.#firstLine += k;
      this.#cursor = 0;
      k = 0;
    }
    return this.#firstLine + k;
  }
}

/**
 * Rows of a CSV file: the header row sets the columns, each following record is one row.
 *
 * csv-parse is driven chunk by chunk and hands records over through `on_record` rather than as a
 * readable stream: a stream that fails (an unclosed quote found at the end of the file) drops the
 * records it had buffered, which would lose good rows silently. Here every record parsed before a
 * failure is yielded first, and the next chunk is written only once the rows of the previous one
 * are consumed, which is what keeps memory flat.
 *
 * csv-parse reads byte by byte, a fifth of an import's time. When the header is a plain line ending
 * with a bare line feed (so that csv-parse takes the line feed as the record delimiter), each line
 * is first split here ({@link splitLine}) when that is unambiguous: what csv-parse makes of it.
 * Any other record (a quote inside a cell, a carriage return, a quoted cell spanning lines) is
 * given to csv-parse on its own, from its first line to the line feed where it ends; and should
 * that not settle it within a few lines (an unclosed quote), csv-parse reads the rest of the file
 * as it did before. A record split across chunks is kept until its chunk has come while it is
 * shorter than a record may be (csv-parse could not have failed on it yet).
 */
async function* csvRows(source: AsyncIterable<Uint8Array>, maxRowBytes: number): AsyncGenerator<Iterable<ParsedRow>> {
  const lines = new LineIndex();
  let parsed: { readonly cells: string[]; readonly end: number }[] = [];
  let failure: unknown;
  const options = {
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: maxRowBytes,
  } as const;
  /** The streaming parser, once csv-parse reads the rest of the file; `at` is the file offset it starts at. */
  let parser: ReturnType<typeof parseCsv> | undefined;
  const stream = (at: number) => {
    const created = parseCsv({
      ...options,
      // From the start of the file: the BOM and the record delimiter are csv-parse's to find.
      ...(at === 0 ? { bom: true } : { record_delimiter: '\n' }),
      on_record: (cells: string[], info) => {
        parsed.push({ cells, end: at + info.bytes });
        return null;
      },
    });
    created.on('error', (error) => {
      failure ??= error;
    });
    parser = created;
    return created;
  };
  const write = (chunk: Uint8Array) =>
    new Promise<void>((resolve) => (parser ?? stream(0)).write(chunk, () => resolve()));
  const end = () =>
    new Promise<void>((resolve) => {
      const p = parser ?? stream(0);
      p.once('error', () => resolve());
      p.end(() => resolve());
    });

  let layout: CsvLayout | undefined;
  let consumed = 0;
  /**
   * The rows of the records parsed so far (the header sets the layout), each made into a record
   * only as the import reads it, so that a chunk's records are not all alive at once.
   */
  const take = function* (): Generator<ParsedRow> {
    const batch = parsed;
    parsed = [];
    for (const { cells, end: recordEnd } of batch) {
      const line = lines.lineFrom(consumed);
      consumed = recordEnd;
      if (!layout) {
        layout = parseCsvHeader(cells);
        continue;
      }
      // Rows of empty cells (",,,," at the end of spreadsheet exports, or spaces only) are blank lines.
      if (cells.every((cell) => cell.trim() === '')) continue;
      const row = csvRowToRecord(layout, cells);
      yield { line, end: recordEnd, record: row.record, violations: row.violations, fieldName: row.columnOf };
    }
  };

  /** Lines are split here (until csv-parse takes over); undefined until the first chunk has been seen. */
  let splitting: boolean | undefined;
  /** File offset of the first byte not yet read into a record (while splitting). */
  let done = 0;
  /** The start of a record that goes on in the next chunk, and how many of its lines ended. */
  let carry: Buffer | undefined;
  let carriedLines = 0;
  /**
   * Reads the records of `data` (file offset `at`) from `from` on; returns where the unread rest
   * starts, or undefined when csv-parse has taken over (it was given the rest).
   */
  const split = async (data: Buffer, at: number, scanFrom: number): Promise<number | undefined> => {
    // The header is the first line, and plain: its line starts after the byte order mark.
    let start = at === 0 && scanFrom === 0 ? bomLength(data) : 0;
    let lineCount = carriedLines;
    let i = data.indexOf(10, scanFrom);
    while (i !== -1) {
      lineCount += 1;
      const to = at + i + 1;
      const cells = lineCount === 1 && i - start < maxRowBytes ? splitLine(data, start, i) : undefined;
      if (cells !== undefined) {
        if (cells.length > 0) parsed.push({ cells, end: to });
        start = i + 1;
        lineCount = 0;
      } else {
        const records = parseRecord(data.subarray(start, i + 1), options);
        if (records !== undefined) {
          for (const record of records) parsed.push({ cells: record.cells, end: at + start + record.end });
          start = i + 1;
          lineCount = 0;
        } else if (lineCount >= RECORD_LINES || i + 1 - start >= maxRowBytes) {
          stream(at + start);
          await write(data.subarray(start));
          return undefined;
        }
      }
      i = data.indexOf(10, i + 1);
    }
    carriedLines = lineCount;
    return start;
  };

  let offset = 0;
  try {
    for await (const chunk of source) {
      lines.scan(chunk);
      const chunkAt = offset;
      offset += chunk.byteLength;
      splitting ??= plainHeader(chunk);
      if (!splitting) {
        await write(chunk);
      } else {
        const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        const data = carry ? Buffer.concat([carry, bytes]) : bytes;
        const at = carry ? done : chunkAt;
        const scanFrom = carry ? carry.byteLength : 0;
        carry = undefined;
        const rest = await split(data, at, scanFrom);
        if (rest === undefined) splitting = false;
        else if (rest < data.byteLength) {
          done = at + rest;
          if (data.byteLength - rest < maxRowBytes) carry = Buffer.from(data.subarray(rest));
          else {
            // Longer than a record may be: csv-parse reads (and refuses) it as it always did.
            splitting = false;
            stream(done);
            await write(data.subarray(rest));
          }
        } else done = at + rest;
      }
      if (parsed.length > 0) yield take();
      if (failure !== undefined) break;
    }
    if (failure === undefined && splitting === true && carry) {
      // The last line, without a line feed.
      const cells = carriedLines === 0 ? splitLine(carry, 0, carry.byteLength) : undefined;
      const records = cells ? [{ cells, end: carry.byteLength }] : parseRecord(carry, options, true);
      if (records) for (const record of records) parsed.push({ cells: record.cells, end: done + record.end });
      else {
        splitting = false;
        stream(done);
        await write(carry);
      }
      carry = undefined;
    }
    if (failure === undefined) {
      if (splitting !== true) await end();
      if (parsed.length > 0) yield take();
    }
  } finally {
    parser?.destroy();
  }
  if (failure !== undefined) {
    const line = lines.lineFrom(consumed);
    const error = failure as Error & { code?: string };
    const reason =
      error.code === 'CSV_QUOTE_NOT_CLOSED' || error.code === 'CSV_MAX_RECORD_SIZE'
        ? `a quoted cell opened in the record starting on this line is never closed (or the record is longer than ${maxRowBytes} bytes); the rest of the file was not read`
        : `the file cannot be read from this line on: ${error.message}`;
    if (!layout)
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `the header row cannot be read: ${reason}`, {
        field: 'header',
        rule: 'csv',
        cause: failure,
      });
    yield [
      {
        line,
        end: consumed,
        record: undefined,
        violations: [{ field: 'row', rule: 'csv', message: reason }],
        fieldName: identity,
      },
    ];
    return;
  }
  if (!layout)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'the file is empty: a CSV file starts with a header row (docs/records.md)',
      { field: 'header', rule: 'csv_header' },
    );
}

/** Rows of a JSON Lines file: one JSON record per line; blank lines are skipped. */
async function* jsonlRows(source: AsyncIterable<Uint8Array>, maxRowBytes: number): AsyncGenerator<ParsedRow[]> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let pendingBytes = 0;
  let tooLong = false;
  let line = 0;
  let offset = 0;
  const row = (text: string, end: number): ParsedRow | undefined => {
    line += 1;
    if (tooLong) {
      tooLong = false;
      return {
        line,
        end,
        record: undefined,
        violations: [{ field: 'line', rule: 'max_length', message: `the line is longer than ${maxRowBytes} bytes` }],
        fieldName: identity,
      };
    }
    const body = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
    if (body === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      return {
        line,
        end,
        record: undefined,
        violations: [{ field: 'line', rule: 'json', message: `not valid JSON: ${(error as Error).message}` }],
        fieldName: identity,
      };
    }
    const { record, violations } = recordFromJson(value);
    return { line, end, record, violations, fieldName: identity };
  };
  /** Adds bytes of the current line, dropping them once the line is too long. */
  const append = (bytes: Uint8Array) => {
    pendingBytes += bytes.byteLength;
    if (tooLong) return;
    if (pendingBytes > maxRowBytes) {
      tooLong = true;
      pending = '';
      decoder.end();
    } else pending += decoder.write(bytes);
  };
  for await (const chunk of source) {
    const rows: ParsedRow[] = [];
    let start = 0;
    let i = chunk.indexOf(10);
    while (i !== -1) {
      append(chunk.subarray(start, i));
      const parsed = row(pending + decoder.end(), offset + i + 1);
      pending = '';
      pendingBytes = 0;
      if (parsed) rows.push(parsed);
      start = i + 1;
      i = chunk.indexOf(10, start);
    }
    if (start < chunk.byteLength) append(chunk.subarray(start));
    offset += chunk.byteLength;
    if (rows.length > 0) yield rows;
  }
  if (pendingBytes > 0) {
    const parsed = row(pending + decoder.end(), offset);
    if (parsed) yield [parsed];
  }
}
