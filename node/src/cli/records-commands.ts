import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { type Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import {
  ErrorCode,
  ImportFormat,
  IncompleteRecord,
  type ImportRecordsProgress,
  type RecordQuery,
  RecordsClient,
  type RowError,
  TracenetError,
  type WeaponEvent,
  type WeaponRecord,
} from '@tracenet/proto';
import {
  recordFromJson,
  recordToJson,
  enumShortName,
  EVENT_TYPE,
  WEAPON_TYPE,
  COMPONENT_KIND,
  MANUFACTURE_METHOD,
  WEAPON_STATUS,
  parseEnum,
  enumChoices,
} from '../records/record-json.js';
import { violationError } from '../records/validation.js';
import { categoryName, isOfInterest } from '../records/interest.js';
import { describeUndertaking } from '../messages/undertaking-rules.js';
import { csvCell } from '../util/csv-cell.js';
import { type AuthorityEndpoint, printable, render, wholeNumber } from './context.js';
import { ddrLines, registerDestructionCommands } from './destruction-commands.js';

/** What the record commands need from the CLI around them. */
export interface RecordCommandContext {
  /** Address, Authority token and channel credentials of the node running on `dataDir` (fails when none runs). */
  connect(dataDir: string): Promise<AuthorityEndpoint>;
  /** Standard output; `process.stdout` by default. */
  readonly stdout?: OutputStream;
  /** Standard error (progress and problems); `process.stderr` by default. */
  readonly stderr?: OutputStream;
  /** Sets the exit code; `process.exitCode` by default. */
  readonly setExitCode?: (code: number) => void;
}

/** The part of a terminal stream the commands use. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

const DEFAULT_DATA = process.env.TRACENET_DATA ?? './tracenet-data';
const CHUNK_BYTES = 256 * 1024;
const UNARY_TIMEOUT_MS = 30_000;
const ERRORS_SHOWN = 20;

/** Exit codes of `records import`. */
export const IMPORT_EXIT = { ok: 0, failed: 1, someRejected: 2 } as const;

function authMetadata(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: number },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

function unaryCall<Req, Res>(
  client: RecordsClient,
  method: UnaryMethod<Req, Res>,
  request: Req,
  token: string,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, request, authMetadata(token), { deadline: Date.now() + UNARY_TIMEOUT_MS }, (error, response) =>
      error ? reject(TracenetError.from(error)) : resolve(response),
    );
  });
}

/** Totals of a finished import stream as the CLI saw them. */
export interface ImportFileResult {
  readonly bytesProcessed: number;
  readonly rowsRead: number;
  readonly rowsImported: number;
  readonly rowsRejected: number;
  /** Valid rows not written again: the node already holds a record with the same content. */
  readonly rowsUnchanged: number;
  /** The first {@link MAX_ERRORS_KEPT} row errors (every one goes to {@link ImportFileOptions.onRowError}). */
  readonly errors: readonly RowError[];
  /** Strict mode found bad rows, so nothing was imported. */
  readonly refused: boolean;
}

/** Options of {@link importFile}. */
export interface ImportFileOptions {
  readonly format: 'csv' | 'jsonl';
  /** Validate only; the node writes nothing. */
  readonly dryRun?: boolean;
  /** Check the whole file first (a dry run stopped at the first bad row); import only when clean. */
  readonly strict?: boolean;
  /** Each progress message, with the pass: `check` (strict or dry run) or `import`. */
  readonly onProgress?: (progress: ImportRecordsProgress, pass: 'check' | 'import') => void;
  /** Every row error of the pass that decides (the import, or the check of a dry or refused strict run). */
  readonly onRowError?: (error: RowError, pass: 'check' | 'import') => void;
  readonly chunkBytes?: number;
}

/** Row errors an import result keeps in memory (the rejects file gets every one). */
export const MAX_ERRORS_KEPT = 1000;

/** Streams one pass of the file to ImportRecords; with `stopAtFirstError`, cancels once a bad row is reported. */
async function streamImport(
  client: RecordsClient,
  token: string,
  path: string,
  format: ImportFormat,
  dryRun: boolean,
  stopAtFirstError: boolean,
  chunkBytes: number,
  onProgress: (progress: ImportRecordsProgress) => void,
  onRowError: (error: RowError) => void,
): Promise<ImportFileResult> {
  const call = client.importRecords(authMetadata(token));
  const errors: RowError[] = [];
  let last: ImportRecordsProgress | undefined;
  let stopped = false;
  const result = new Promise<ImportFileResult>((resolve, reject) => {
    const finish = () => {
      const p = last;
      if (!p)
        return reject(new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'the node ended the import without a summary'));
      resolve({
        bytesProcessed: p.bytesProcessed,
        rowsRead: p.rowsRead,
        rowsImported: p.rowsImported,
        rowsRejected: p.rowsRejected,
        rowsUnchanged: p.rowsUnchanged,
        errors,
        refused: stopped,
      });
    };
    call.on('data', (progress: ImportRecordsProgress) => {
      last = progress;
      for (const error of progress.errors) {
        if (errors.length < MAX_ERRORS_KEPT) errors.push(error);
        onRowError(error);
      }
      onProgress(progress);
      if (stopAtFirstError && progress.rowsRejected > 0 && !progress.done) {
        stopped = true;
        call.cancel();
      }
    });
    call.on('error', (error: ServiceError) =>
      stopped && error.code === GrpcStatus.CANCELLED ? finish() : reject(TracenetError.from(error)),
    );
    call.on('end', () => (stopped ? undefined : finish()));
  });
  let failed = false;
  const failure = result.then(
    () => undefined,
    () => {
      failed = true;
    },
  );
  const send = async () => {
    call.write({ format, dryRun, chunk: Buffer.alloc(0) });
    for await (const chunk of createReadStream(path, { highWaterMark: chunkBytes })) {
      if (failed || stopped) return;
      if (!call.write({ format: ImportFormat.IMPORT_FORMAT_UNSPECIFIED, dryRun: false, chunk: chunk as Buffer })) {
        await Promise.race([new Promise((resolve) => call.once('drain', resolve)), failure]);
      }
    }
    if (!failed && !stopped) call.end();
  };
  await Promise.all([
    send().catch((error: unknown) => {
      call.cancel();
      throw error;
    }),
    result,
  ]);
  return result;
}

/**
 * Imports a file through a running node's ImportRecords stream. With `strict`, a dry run goes
 * first and stops at the first progress report with a bad row; the import itself runs only when
 * the whole file is clean, so a strict import writes nothing from a file with a bad row.
 *
 * @example
 * ```ts
 * const result = await importFile(client, token, 'registry.csv', { format: 'csv', strict: true });
 * if (result.refused) console.log(result.errors);
 * ```
 */
export async function importFile(
  client: RecordsClient,
  token: string,
  path: string,
  options: ImportFileOptions,
): Promise<ImportFileResult> {
  const format = options.format === 'csv' ? ImportFormat.IMPORT_FORMAT_CSV : ImportFormat.IMPORT_FORMAT_JSONL;
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const onProgress = options.onProgress ?? (() => undefined);
  const onRowError = options.onRowError ?? (() => undefined);
  if (options.strict || options.dryRun) {
    const check = await streamImport(
      client,
      token,
      path,
      format,
      true,
      Boolean(options.strict),
      chunkBytes,
      (p) => onProgress(p, 'check'),
      (e) => onRowError(e, 'check'),
    );
    if (options.dryRun || check.rowsRejected > 0)
      return { ...check, refused: Boolean(options.strict) && check.rowsRejected > 0 };
  }
  return streamImport(
    client,
    token,
    path,
    format,
    false,
    false,
    chunkBytes,
    (p) => onProgress(p, 'import'),
    (e) => onRowError(e, 'import'),
  );
}

function formatOf(file: string, given: string | undefined): 'csv' | 'jsonl' {
  if (given === 'csv' || given === 'jsonl') return given;
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new TracenetError(
    ErrorCode.ERROR_CODE_MISSING_FIELD,
    `cannot tell the format of ${file} from its name; add --format csv or --format jsonl`,
    { field: 'format', rule: 'required' },
  );
}

const n = (value: number) => value.toLocaleString('en-GB');
const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

/** Progress on a terminal: a bar by bytes with row counts; elsewhere: one plain line per report. */
function progressDisplay(
  err: OutputStream,
  totalBytes: number,
): { update(p: ImportRecordsProgress, pass: 'check' | 'import'): void; stop(): void } {
  if (err.isTTY && typeof (err as Partial<NodeJS.WriteStream>).cursorTo === 'function') {
    const bar = new SingleBar({
      stream: err as unknown as NodeJS.WritableStream,
      format:
        '{pass} [{bar}] {percentage}% | {rows} rows, {imported} imported, {rejected} rejected | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    });
    let pass: string | undefined;
    return {
      update(p, current) {
        const label = current === 'check' ? 'checking ' : 'importing';
        if (pass !== label) {
          if (pass) bar.stop();
          bar.start(Math.max(totalBytes, 1), 0, { pass: label, rows: '0', imported: '0', rejected: '0' });
          pass = label;
        }
        bar.update(Math.min(p.bytesProcessed, totalBytes), {
          rows: n(p.rowsRead),
          imported: n(p.rowsImported),
          rejected: n(p.rowsRejected),
        });
      },
      stop: () => (pass ? bar.stop() : undefined),
    };
  }
  return {
    update(p, pass) {
      const percent = totalBytes > 0 ? Math.floor((100 * Math.min(p.bytesProcessed, totalBytes)) / totalBytes) : 100;
      const verb = pass === 'check' ? 'checked' : 'imported';
      const done = pass === 'check' ? p.rowsRead - p.rowsRejected : p.rowsImported;
      err.write(
        `progress: ${n(p.rowsRead)} rows read, ${n(done)} ${verb}, ${n(p.rowsRejected)} rejected (${percent}% of ${mb(totalBytes)})\n`,
      );
    },
    stop: () => undefined,
  };
}

/** The size of the file to import; a missing file is NOT_FOUND naming it. */
async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `the file ${file} does not exist`, {
      field: 'file',
      rule: 'exists',
      cause,
    });
  }
}

/**
 * The rejects file of an import: every row error as a CSV line `line,field,reason`, written as
 * the node reports them (memory stays flat), created at the first error only.
 */
export class RejectsFile {
  readonly path: string;
  #handle: Promise<FileHandle> | undefined;
  #pending: Promise<unknown> = Promise.resolve();
  #failure: unknown;
  written = 0;

  constructor(path: string) {
    this.path = path;
  }

  /** Appends one row error. */
  add(error: RowError): void {
    this.#handle ??= open(this.path, 'w').then(async (handle) => {
      await handle.write('line,field,reason\n');
      return handle;
    });
    const handle = this.#handle;
    const line = `${error.line},${csvCell(error.field)},${csvCell(error.reason)}\n`;
    this.written += 1;
    this.#pending = this.#pending
      .then(async () => (await handle).write(line))
      .catch((failure: unknown) => {
        this.#failure ??= failure;
      });
  }

  /** Waits for every line and closes the file. */
  async close(): Promise<void> {
    if (!this.#handle) return;
    await this.#pending;
    if (this.#failure !== undefined)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `cannot write the rejects file ${this.path}: ${(this.#failure as Error).message}`,
        { field: 'rejects', rule: 'writable', cause: this.#failure },
      );
    await (await this.#handle).close();
  }
}

function describeErrors(errors: readonly RowError[], total: number): string[] {
  const lines = errors
    .slice(0, ERRORS_SHOWN)
    .map((e) => `  line ${e.line}${e.field ? `  ${e.field}` : ''}: ${e.reason}`);
  const rest = errors.length - Math.min(errors.length, ERRORS_SHOWN);
  if (rest > 0) lines.push(`  … ${n(rest)} more (in the rejects file)`);
  if (total > 0 && errors.length === 0) lines.push('  (no details reported)');
  return lines;
}

/** One event of a weapon's history on one line: date, type, where, who. */
export function describeEvent(e: WeaponEvent): string {
  const parts = [e.date.padEnd(10), enumShortName(EVENT_TYPE, e.type)];
  if (e.destination) parts.push(`to ${e.destination}`);
  if (e.origin) parts.push(`from ${e.origin}`);
  if (e.licence) parts.push(`licence ${e.licence}`);
  if (e.endUser) parts.push(`end user ${e.endUser}`);
  if (e.place) parts.push(`at ${e.place}`);
  if (e.agency) parts.push(`by ${e.agency}`);
  if (e.undertaking) parts.push(describeUndertaking(e.undertaking));
  if (e.details) parts.push(`— ${e.details}`);
  return parts.join('  ');
}

/** A record as an officer reads it (`records show`), one line per element. Secondary marks are shown: this is the owner's own view. */
export function describeRecord(r: WeaponRecord): string[] {
  const m = r.manufacture;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const lines = [`${r.recordId}  (recorded ${day(r.recordedAtMs)}, updated ${day(r.updatedAtMs)})`];
  if (m) {
    const what = [m.manufacturer, m.model].filter(Boolean).join(' ') || '(no manufacturer)';
    const made = [m.countryOfManufacture, m.year ? String(m.year) : ''].filter(Boolean).join(' ');
    lines.push(
      `  ${what}, ${enumShortName(WEAPON_TYPE, m.type)}${m.calibre ? `, ${m.calibre}` : ''}, serial ${m.serialNumber || r.controlComponent?.serialNumber || '—'}${made ? `, made ${made}` : ''}`,
    );
  }
  lines.push(
    `  manufacture method: ${r.manufactureMethod ? enumShortName(MANUFACTURE_METHOD, r.manufactureMethod) : '—'}   status: ${r.status ? enumShortName(WEAPON_STATUS, r.status) : '—'}`,
  );
  if (r.imports.length > 0)
    lines.push(`  import markings: ${r.imports.map((i) => `${i.country}${i.year ? ` ${i.year}` : ''}`).join(', ')}`);
  if (r.governmentTransfer)
    lines.push(
      `  government transfer: ${r.governmentTransfer.country}${r.governmentTransfer.year ? ` ${r.governmentTransfer.year}` : ''}`,
    );
  if (r.controlComponent)
    lines.push(
      `  control component: ${enumShortName(COMPONENT_KIND, r.controlComponent.kind)}, serial ${r.controlComponent.serialNumber}${r.controlComponent.marking ? ` (${r.controlComponent.marking})` : ''}`,
    );
  for (const c of r.components)
    lines.push(
      `  component: ${enumShortName(COMPONENT_KIND, c.kind)}, serial ${c.serialNumber}${c.marking ? ` (${c.marking})` : ''}`,
    );
  for (const s of r.secondaryMarks)
    lines.push(`  secondary mark (CONFIDENTIAL): ${s.value}${s.location ? ` at ${s.location}` : ''}`);
  if (r.events.length > 0) lines.push('  history:', ...r.events.map((e) => `    ${describeEvent(e)}`));
  if (r.notes) lines.push(`  notes: ${r.notes}`);
  const i = r.interest;
  if (isOfInterest(i)) {
    lines.push(
      `  of interest: ${categoryName(i.category)} on ${i.date}, reported by ${i.agency}${i.reference ? ` (${i.reference})` : ''}${i.contactPoint ? `; contact point ${i.contactPoint}` : ''}`,
    );
  }
  lines.push(...ddrLines(r));
  return lines;
}

const SEARCH_COLUMNS = [
  ['record id', 26],
  ['manufacturer', 20],
  ['model', 12],
  ['serial', 16],
  ['calibre', 10],
  ['type', 14],
  ['status', 0],
] as const;

/** One search result per line, in the columns of {@link SEARCH_COLUMNS}. */
function searchTable(records: readonly WeaponRecord[]): string[] {
  const row = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(SEARCH_COLUMNS[i]?.[1] ?? 0))
      .join('  ')
      .trimEnd();
  const lines = records.map((r) => {
    const m = r.manufacture;
    return row([
      r.recordId,
      m?.manufacturer ?? '',
      m?.model ?? '',
      m?.serialNumber || r.controlComponent?.serialNumber || '',
      m?.calibre ?? '',
      enumShortName(WEAPON_TYPE, m?.type ?? 0),
      r.status ? enumShortName(WEAPON_STATUS, r.status) : '',
    ]);
  });
  return [row(SEARCH_COLUMNS.map(([name]) => name)), ...lines];
}

/**
 * Adds `tracenet records import|search|show|put|delete`. Every command talks to the running node
 * through the Authority API (Records service) with the bearer token; errors come back as
 * TracenetErrors, which the CLI prints and turns into exit code 1.
 *
 * @example
 * ```ts
 * const program = new Command('tracenet');
 * registerRecordCommands(program, { connect: connection });
 * await program.parseAsync(['node', 'tracenet', 'records', 'show', 'rec_…']);
 * ```
 */
export function registerRecordCommands(program: Command, ctx: RecordCommandContext): Command {
  const out = ctx.stdout ?? process.stdout;
  const err = ctx.stderr ?? process.stderr;
  const setExitCode = ctx.setExitCode ?? ((code: number) => void (process.exitCode = code));
  const print = (json: boolean | undefined, value: unknown, lines: () => readonly string[]) =>
    out.write(render(json, value, lines));
  const dataOption = () =>
    new Option('-d, --data <dir>', 'data directory of the running node (env TRACENET_DATA)').default(DEFAULT_DATA);
  const jsonOption = () => new Option('--json', 'print machine-readable JSON');

  /** Connects, runs, closes; prints every field violation of a refused record before failing. */
  const withClient = async <T>(
    dataDir: string,
    work: (client: RecordsClient, token: string) => Promise<T>,
  ): Promise<T> => {
    const { address, token, channel } = await ctx.connect(dataDir);
    const client = new RecordsClient(address, channel.credentials, channel.options);
    try {
      return await work(client, token);
    } catch (error) {
      const failure = TracenetError.from(error);
      if (failure.violations.length > 1)
        err.write(printable(failure.violations.map((v) => `  ${v.field}: ${v.message}`)));
      throw failure;
    } finally {
      client.close();
    }
  };

  const records = program
    .command('records')
    .description("the state's own weapon records: import, search, show, put and delete (through the running node)");

  records
    .command('import')
    .description(
      'import a CSV or JSON Lines file of records (columns and format: docs/records.md); bad rows are reported with their line number and skipped',
    )
    .argument('<file>', 'the file; .csv, .jsonl or .ndjson, or name the format with --format')
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'jsonl']))
    .option('--strict', 'check the whole file first and import nothing if any row is bad')
    .option('--dry-run', 'only check the file; write nothing')
    .option(
      '--rejects <file>',
      'where every rejected row goes, as CSV: line,field,reason (default: <file>.rejects.csv, written only when a row is rejected)',
    )
    .addOption(dataOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nA row whose record the node already holds (same content, a file imported again) is not written twice: it counts as unchanged.\nExit codes (docs/operations.md): 0 every row imported or unchanged, 1 failure or (with --strict) bad rows so nothing imported, 2 some rows rejected and the others imported, 3 bad command line, 4 no such file, 6 node not running.',
    )
    .action(
      async (
        file: string,
        options: {
          format?: string;
          strict?: boolean;
          dryRun?: boolean;
          rejects?: string;
          data: string;
          json?: boolean;
        },
      ) => {
        const format = formatOf(file, options.format);
        const totalBytes = await sizeOf(file);
        const started = Date.now();
        const display = progressDisplay(err, totalBytes);
        const rejects = new RejectsFile(options.rejects ?? `${file}.rejects.csv`);
        let result: ImportFileResult;
        try {
          result = await withClient(options.data, (client, token) =>
            importFile(client, token, file, {
              format,
              strict: Boolean(options.strict),
              dryRun: Boolean(options.dryRun),
              onProgress: (p, pass) => display.update(p, pass),
              onRowError: (e) => rejects.add(e),
            }),
          );
        } finally {
          display.stop();
          await rejects.close();
        }
        const seconds = (Date.now() - started) / 1000;
        const summary = {
          file,
          format,
          strict: Boolean(options.strict),
          dryRun: Boolean(options.dryRun),
          ...result,
          ...(rejects.written > 0 ? { rejectsFile: rejects.path } : {}),
          seconds,
        };
        print(options.json, summary, () => {
          const head = result.refused
            ? `Nothing imported from ${file}: --strict and the file has bad rows (stopped checking after ${n(result.rowsRead)} rows, ${n(result.rowsRejected)} rejected).`
            : options.dryRun
              ? `Checked ${n(result.rowsRead)} rows of ${file}: ${n(result.rowsRead - result.rowsRejected)} valid, ${n(result.rowsRejected)} rejected; nothing written (--dry-run).`
              : `Read ${n(result.rowsRead)} rows of ${file}: ${n(result.rowsImported)} imported, ${n(result.rowsRejected)} rejected${result.rowsUnchanged > 0 ? `, ${n(result.rowsUnchanged)} already held (not imported again)` : ''}, in ${seconds.toFixed(1)} s.`;
          return [
            head,
            ...(result.rowsRejected > 0
              ? [
                  'Rejected rows:',
                  ...describeErrors(result.errors, result.rowsRejected),
                  `Every rejected row, with its line number and reason: ${rejects.path} (${n(rejects.written)} errors)`,
                ]
              : []),
          ];
        });
        if (result.refused) setExitCode(IMPORT_EXIT.failed);
        else if (result.rowsRejected > 0) setExitCode(IMPORT_EXIT.someRejected);
      },
    );

  records
    .command('search')
    .description(
      'find records by identity (manufacturer + serial, narrowed by model, calibre, type), or by serial alone with --serial-only',
    )
    .requiredOption(
      '--serial <serial>',
      'serial number as marked (compared normalised: case, spaces and separators ignored)',
    )
    .option('--manufacturer <name>', 'manufacturer as marked (required unless --serial-only)')
    .option('--model <model>', 'narrow to this model')
    .option('--calibre <calibre>', 'narrow to this calibre')
    .addOption(new Option('--type <type>', 'narrow to this weapon type').choices(enumChoices(WEAPON_TYPE)))
    .option(
      '--serial-only',
      'every record with this serial, whatever the manufacturer (serials repeat across manufacturers)',
    )
    .option('--limit <n>', 'at most this many (1 to 1000)', wholeNumber('limit', 1, 1000), 100)
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(
      async (options: {
        serial: string;
        manufacturer?: string;
        model?: string;
        calibre?: string;
        type?: string;
        serialOnly?: boolean;
        limit: number;
        data: string;
        json?: boolean;
      }) => {
        if (!options.serialOnly && !options.manufacturer) {
          throw new TracenetError(
            ErrorCode.ERROR_CODE_MISSING_FIELD,
            '--manufacturer is required (a serial alone is not an identity); use --serial-only to list every record with this serial',
            {
              field: 'query.manufacturer',
              rule: 'required',
            },
          );
        }
        const query: RecordQuery = {
          manufacturer: options.manufacturer ?? '',
          model: options.model ?? '',
          serialNumber: options.serial,
          calibre: options.calibre ?? '',
          type: options.type ? (parseEnum(WEAPON_TYPE, options.type) ?? 0) : 0,
        };
        const found = await withClient(options.data, (client, token) =>
          unaryCall(
            client,
            client.searchRecords,
            { query, serialOnly: Boolean(options.serialOnly), limit: options.limit },
            token,
          ),
        );
        // Weapons held but incomplete follow the records: in JSON as items with "incomplete": true;
        // then near matches (a close type), as items with "near": true.
        const held = found.incomplete.map((e) => ({ ...(IncompleteRecord.toJSON(e) as object), incomplete: true }));
        const near = found.near.map((r) => ({ ...recordToJson(r), near: true }));
        print(options.json, [...found.records.map(recordToJson), ...held, ...near], () => [
          ...(found.records.length === 0 && found.incomplete.length === 0
            ? [found.near.length === 0 ? 'No matching record.' : 'No exact match.']
            : found.records.length === 0
              ? []
              : searchTable(found.records)),
          ...found.incomplete.map(
            (e) =>
              `held but incomplete: ${e.recordId} ${e.identity?.manufacturer ?? ''} ${e.identity?.serialNumber || e.controlComponentSerial} (${[...new Set(e.problems.map((p) => p.field))].join(', ')})`,
          ),
          ...(found.near.length === 0
            ? []
            : [
                `Near matches (a close weapon type, docs/records.md 2.3; for an officer to judge, never answered automatically):`,
                ...searchTable(found.near),
              ]),
        ]);
      },
    );

  records
    .command('show')
    .description('show one record, secondary marks included')
    .argument('<record-id>', 'record id (rec_…)')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (recordId: string, options: { data: string; json?: boolean }) => {
      const { record } = await withClient(options.data, (client, token) =>
        unaryCall(client, client.getRecord, { recordId }, token),
      );
      if (!record)
        throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no record ${recordId}`, { field: 'record_id' });
      print(options.json, recordToJson(record), () => describeRecord(record));
    });

  records
    .command('put')
    .description(
      'create a record from a JSON file (without recordId), or replace the record it names (with recordId); the format is in docs/records.md',
    )
    .argument('<json-file>', 'one record as JSON (the proto3 JSON form, as `records show --json` prints it)')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (file: string, options: { data: string; json?: boolean }) => {
      let value: unknown;
      try {
        value = JSON.parse(await readFile(file, 'utf8'));
      } catch (cause) {
        throw new TracenetError(
          ErrorCode.ERROR_CODE_MALFORMED,
          `${file} is not a JSON file: ${(cause as Error).message}`,
          { field: 'file', cause },
        );
      }
      const { record, violations } = recordFromJson(value);
      if (violations.length > 0) {
        err.write(printable(violations.map((v) => `  ${v.field}: ${v.message}`)));
        throw violationError(violations, `${file} is not a record`);
      }
      const created = record.recordId === '';
      const stored = await withClient(options.data, (client, token) =>
        unaryCall(client, client.putRecord, { record }, token),
      );
      const id = stored.record?.recordId ?? '';
      print(options.json, stored.record ? recordToJson(stored.record) : {}, () => [
        `${created ? 'Created' : 'Replaced'} ${id}`,
      ]);
    });

  records
    .command('delete')
    .description(
      'delete a record; refused while its retention period runs (ITI para 12: 30 years for manufacturing records, 20 for others)',
    )
    .argument('<record-id>', 'record id (rec_…)')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (recordId: string, options: { data: string; json?: boolean }) => {
      const deleted = await withClient(options.data, (client, token) =>
        unaryCall(client, client.deleteRecord, { recordId }, token),
      );
      print(options.json, deleted, () => [`Deleted ${deleted.recordId}`]);
    });

  registerDestructionCommands(records, {
    withClient,
    call: (client, method, request, token) => unaryCall(client, method as never, request, token),
    print,
    dataOption,
    jsonOption,
    recordToJson,
    setExitCode,
  });
  return records;
}
