import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import {
  ErrorCode,
  ImportFormat,
  type ImportRecordsProgress,
  type ImportRecordsRequest,
  type RowError,
  TracenetError,
} from '@tracenet/proto';

/**
 * The file to import, as its contents: a stream of chunks (`fs.createReadStream(path)`, a web
 * stream, an async generator), the whole file as bytes or text, or a function that opens the file
 * anew each time it is called (`() => fs.createReadStream(path)`). Strings are sent as UTF-8.
 *
 * A strict import reads the file twice (a check, then the import). A stream can be read only
 * once, so the SDK keeps what the check read in memory for the second pass; pass a function to
 * keep memory flat with large files.
 */
export type ImportSource =
  | AsyncIterable<Uint8Array | string>
  | Uint8Array
  | string
  | (() => AsyncIterable<Uint8Array | string>);

/** The pass an import is in: `check` validates without writing (strict or dry run), `import` writes. */
export type ImportPass = 'check' | 'import';

/** Options of {@link RecordsClient.importRecords}. */
export interface ImportRecordsOptions {
  /** File format: CSV with a header row, or one JSON record per line (docs/records.md section 5). */
  readonly format: 'csv' | 'jsonl';
  /**
   * Import nothing unless every row is good: the node first checks the whole file without writing
   * (stopped at the first report of a bad row), and the file is imported only when no row is bad.
   */
  readonly strict?: boolean;
  /** Check only; the node writes nothing. */
  readonly dryRun?: boolean;
  /**
   * Called with each progress message of the node: every 5,000 rows or second, and once at the
   * end of each pass (`done`). Throwing from it cancels the import and rejects with that error.
   */
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Aborting cancels the stream and rejects with `signal.reason`; the node stops reading, but rows it received before may have been imported. */
  readonly signal?: AbortSignal;
  /**
   * Time budget of the whole import, both passes of a strict one included. None by default: an
   * import takes as long as its file does.
   */
  readonly deadlineMs?: number;
}

/** One progress message of the node, with the pass it belongs to. */
export interface ImportProgress {
  readonly pass: ImportPass;
  /** Bytes of the file processed so far. */
  readonly bytesProcessed: number;
  /** Data rows read so far (a CSV header and blank lines are not counted). */
  readonly rowsRead: number;
  /** Rows written so far (0 in the check pass). */
  readonly rowsImported: number;
  readonly rowsRejected: number;
  /** Rows rejected since the previous message, each with its 1-based line number (a CSV header is line 1). */
  readonly errors: readonly RowError[];
  /** The last message of the pass. */
  readonly done: boolean;
}

/** What an import did. */
export interface ImportSummary {
  readonly bytesProcessed: number;
  readonly rowsRead: number;
  /** Rows written: 0 for a dry run or a refused strict import. */
  readonly rowsImported: number;
  readonly rowsRejected: number;
  /** Every rejected row the node reported (it reports every one, in the progress messages). */
  readonly errors: readonly RowError[];
  /** A strict import found bad rows, so nothing was imported (the counts are those of the check). */
  readonly refused: boolean;
  /** Nothing was written because this was a check only (`dryRun`, or a refused strict import). */
  readonly dryRun: boolean;
}

/** Opens one ImportRecords stream with an optional absolute deadline. */
export type OpenImportStream = (
  deadline: number | undefined,
) => ClientDuplexStream<ImportRecordsRequest, ImportRecordsProgress>;

/** Largest chunk sent in one message; the Authority server accepts messages up to 4 MiB. */
const CHUNK_BYTES = 256 * 1024;

const FORMATS: Readonly<Record<string, ImportFormat>> = {
  csv: ImportFormat.IMPORT_FORMAT_CSV,
  jsonl: ImportFormat.IMPORT_FORMAT_JSONL,
};

/** The bytes of a chunk as a Buffer (a view, not a copy). */
const toBytes = (chunk: Uint8Array | string): Buffer =>
  typeof chunk === 'string'
    ? Buffer.from(chunk, 'utf8')
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

function* slices(bytes: Buffer): Generator<Buffer> {
  for (let offset = 0; offset < bytes.byteLength; offset += CHUNK_BYTES)
    yield bytes.subarray(offset, offset + CHUNK_BYTES);
}

async function* chunksOf(iterable: AsyncIterable<Uint8Array | string>, record?: Buffer[]): AsyncGenerator<Buffer> {
  for await (const chunk of iterable) {
    for (const slice of slices(toBytes(chunk))) {
      record?.push(slice);
      yield slice;
    }
  }
}

async function* fromArray(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

/** One pass over the source: its chunks, and how to stop reading it early. */
interface PassSource {
  readonly chunks: AsyncIterable<Buffer>;
  /** Destroys a Node stream at once, even while a read is pending (its iterator would wait for that read). */
  readonly release: () => void;
}

function release(iterable: AsyncIterable<Uint8Array | string>): () => void {
  return () => {
    const stream = iterable as { destroy?: unknown };
    if (typeof stream.destroy === 'function') (stream.destroy as () => void)();
  };
}

const nothingToRelease = () => undefined;

/**
 * The passes over the source. A stream is read once: when a second pass is needed, the first one
 * records what it read and the second replays it.
 */
function passesOf(source: ImportSource, twice: boolean): { first: () => PassSource; second: () => PassSource } {
  if (typeof source === 'string' || source instanceof Uint8Array) {
    const bytes = [...slices(toBytes(source))];
    const replay = () => ({ chunks: fromArray(bytes), release: nothingToRelease });
    return { first: replay, second: replay };
  }
  if (typeof source === 'function') {
    const open = () => {
      const iterable = source();
      return { chunks: chunksOf(iterable), release: release(iterable) };
    };
    return { first: open, second: open };
  }
  const recorded: Buffer[] | undefined = twice ? [] : undefined;
  return {
    first: () => ({ chunks: chunksOf(source, recorded), release: release(source) }),
    second: () => ({ chunks: fromArray(recorded ?? []), release: nothingToRelease }),
  };
}

const STOPPED = Symbol('stopped');

interface PassOptions {
  readonly open: OpenImportStream;
  readonly format: ImportFormat;
  readonly pass: ImportPass;
  readonly dryRun: boolean;
  /** Strict check: end the pass at the first progress message that reports a bad row. */
  readonly stopAtFirstError: boolean;
  readonly source: PassSource;
  readonly deadline: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((progress: ImportProgress) => void) | undefined;
}

interface PassResult {
  readonly last: ImportRecordsProgress;
  readonly errors: readonly RowError[];
}

/** Streams the chunks through one ImportRecords call while collecting its progress messages. */
function runPass(options: PassOptions): Promise<PassResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const call = options.open(options.deadline);
  const errors: RowError[] = [];
  let last: ImportRecordsProgress | undefined;
  let settled = false;
  let stop: () => void = () => undefined;
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    stop = () => resolve(STOPPED);
  });

  const result = new Promise<PassResult>((resolve, reject) => {
    /** Ends the pass once: with an error, early (strict check), or after the node's summary. */
    const finish = (outcome: { error: unknown } | { early: boolean }) => {
      if (settled) return;
      settled = true;
      stop();
      signal?.removeEventListener('abort', onAbort);
      if ('error' in outcome || outcome.early) call.cancel();
      if ('error' in outcome) reject(outcome.error);
      else if (!last || (!last.done && !outcome.early))
        reject(new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'the node ended the import without a summary'));
      else resolve({ last, errors });
    };
    const onAbort = () => finish({ error: signal?.reason });
    signal?.addEventListener('abort', onAbort, { once: true });
    call.on('data', (progress: ImportRecordsProgress) => {
      if (settled) return;
      last = progress;
      errors.push(...progress.errors);
      try {
        options.onProgress?.({ pass: options.pass, ...progress });
      } catch (error) {
        finish({ error });
        return;
      }
      if (options.stopAtFirstError && progress.rowsRejected > 0 && !progress.done) finish({ early: true });
    });
    call.on('error', (error: ServiceError) => finish({ error: TracenetError.from(error) }));
    call.on('end', () => finish({ early: false }));
    void pump().catch((error: unknown) => finish({ error }));
  });

  /** Writes the opening message, then the chunks as the stream drains; stops when the pass ends. */
  async function pump(): Promise<void> {
    call.write({ format: options.format, dryRun: options.dryRun, chunk: Buffer.alloc(0) });
    const iterator = options.source.chunks[Symbol.asyncIterator]();
    let exhausted = false;
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), stopped]);
        if (next === STOPPED) return;
        if (next.done) {
          exhausted = true;
          break;
        }
        const drained = call.write({
          format: ImportFormat.IMPORT_FORMAT_UNSPECIFIED,
          dryRun: false,
          chunk: next.value,
        });
        if (!drained) await Promise.race([new Promise((resolve) => call.once('drain', resolve)), stopped]);
      }
      if (!settled) call.end();
    } finally {
      // Stop reading the source: a Node stream is destroyed now, other iterables once a pending read settles.
      if (!exhausted) {
        options.source.release();
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
      }
    }
  }

  return result;
}

function summaryOf(result: PassResult, dryRun: boolean, refused: boolean): ImportSummary {
  const { bytesProcessed, rowsRead, rowsImported, rowsRejected } = result.last;
  return { bytesProcessed, rowsRead, rowsImported, rowsRejected, errors: result.errors, refused, dryRun };
}

/**
 * Imports a file through the Records service's ImportRecords stream (what `tracenet records
 * import` does). Each row is validated on its own: good rows are imported, bad ones are reported
 * with their line number. Never retried (a retry would import the rows twice). Rejects with a
 * TracenetError when the node refuses the import itself (UNAUTHORIZED, an unreadable CSV header:
 * INVALID_FIELD, ...), with `signal.reason` when aborted, or with the source's own error when
 * reading it fails.
 */
export async function importRecords(
  open: OpenImportStream,
  source: ImportSource,
  options: ImportRecordsOptions,
): Promise<ImportSummary> {
  options.signal?.throwIfAborted();
  const strict = options.strict ?? false;
  const dryRun = options.dryRun ?? false;
  // An unknown format goes out as UNSPECIFIED, so that the node's own error names the field.
  const format = FORMATS[options.format] ?? ImportFormat.IMPORT_FORMAT_UNSPECIFIED;
  const deadline = options.deadlineMs === undefined ? undefined : Date.now() + options.deadlineMs;
  const passes = passesOf(source, strict && !dryRun);
  const common = { open, format, deadline, signal: options.signal, onProgress: options.onProgress };
  if (strict || dryRun) {
    const check = await runPass({
      ...common,
      pass: 'check',
      dryRun: true,
      stopAtFirstError: strict,
      source: passes.first(),
    });
    const refused = strict && check.last.rowsRejected > 0;
    if (dryRun || refused) return summaryOf(check, true, refused);
  }
  const written = await runPass({
    ...common,
    pass: 'import',
    dryRun: false,
    stopAtFirstError: false,
    source: strict ? passes.second() : passes.first(),
  });
  return summaryOf(written, false, false);
}
