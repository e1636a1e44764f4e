import type { ServiceRegistrar } from './service-table.js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import {
  ErrorCode,
  ImportFormat,
  type ImportRecordsProgress,
  type ImportRecordsRequest,
  type RecordQuery,
  type RecordsServer,
  RecordsService,
  TracenetError,
} from '@tracenet/proto';
import type { Logger } from 'pino';
import { importRecords, type ImportFileFormat, type ImportProgressReport } from '../records/import.js';
import type { AliasTables } from '../lookup/aliases.js';
import type { RecordStore } from '../records/record-store.js';
import type { Registry } from '../registry/registry.js';
import type { Clock } from '../util/clock.js';
import { systemScheduler } from '../util/scheduler.js';
import { runAs } from '../access/actor.js';
import { addDestructionCalls, type DestructionDeps } from './destruction-calls.js';
import {
  admit,
  type AuthorityCredentials,
  decodingTolerantly,
  guardedUnary,
  requireDecoded,
  toServiceError,
} from './grpc-handlers.js';

/** What the Records service needs from the node. */
export interface RecordsServiceDeps {
  /** The node's own records: what PutRecord, ImportRecords and reports write. */
  readonly records: RecordStore;
  /** Every source of records: what GetRecord, SearchRecords and DeleteRecord read. */
  readonly registry: Registry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** What calls are checked with: the node's access control, or one token (a service served alone). */
  readonly token: AuthorityCredentials;
  /** The alias tables of matching (LoadAliases); without them LoadAliases is UNIMPLEMENTED. */
  readonly aliases?: AliasTables;
  /** Rows between progress messages of an import; 5,000 by default. */
  readonly progressEveryRows?: number;
  /** Milliseconds between progress messages of an import; 1,000 by default. */
  readonly progressEveryMs?: number;
  /** Signs and verifies destruction certificates (docs/protocol.md 19); without it those calls are UNIMPLEMENTED. */
  readonly destruction?: DestructionDeps;
}

const EMPTY_QUERY: RecordQuery = { manufacturer: '', model: '', serialNumber: '', calibre: '', type: 0 };

const FORMATS: Partial<Record<ImportFormat, ImportFileFormat>> = {
  [ImportFormat.IMPORT_FORMAT_CSV]: 'csv',
  [ImportFormat.IMPORT_FORMAT_JSONL]: 'jsonl',
};

function toProgress(report: ImportProgressReport): ImportRecordsProgress {
  return {
    bytesProcessed: report.bytesProcessed,
    rowsRead: report.rowsRead,
    rowsImported: report.rowsImported,
    rowsRejected: report.rowsRejected,
    rowsUnchanged: report.rowsUnchanged,
    errors: report.errors.map((e) => ({ line: e.line, field: e.field, reason: e.reason })),
    done: report.done,
  };
}

/** How long the end of an import stream waits for a cancel that may follow it. */
const CANCEL_GRACE_MS = 100;

function cancelGrace(call: ServerDuplexStream<ImportRecordsRequest, ImportRecordsProgress>): Promise<void> {
  if (call.cancelled) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      timer.cancel();
      call.off('cancelled', done);
      resolve();
    };
    const timer = systemScheduler.setTimeout(done, CANCEL_GRACE_MS);
    call.once('cancelled', done);
  });
}

/**
 * The file chunks of an ImportRecords stream after its first message. A later message may repeat
 * the format but not change it. Ends when the client half-closes; throws when it cancels.
 */
async function* chunksOf(
  first: ImportRecordsRequest,
  rest: AsyncIterator<ImportRecordsRequest>,
  call: ServerDuplexStream<ImportRecordsRequest, ImportRecordsProgress>,
): AsyncGenerator<Uint8Array> {
  if (first.chunk.byteLength > 0) yield first.chunk;
  for (;;) {
    const next = await rest.next();
    if (next.done) {
      // A client that cancels (grpc-js) ends its request stream, and the cancel arrives 10–20 ms
      // later (measured): wait for it a little before taking the end as the end of the file, so
      // that the rows of a cancelled import are not written.
      await cancelGrace(call);
      if (call.cancelled)
        throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'the client cancelled the import', {
          rule: 'cancelled',
        });
      return;
    }
    const message = next.value;
    requireDecoded(message);
    if (message.format !== ImportFormat.IMPORT_FORMAT_UNSPECIFIED && message.format !== first.format) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'the format is named by the first message and cannot change',
        { field: 'format', rule: 'import_stream' },
      );
    }
    if (message.chunk.byteLength > 0) yield message.chunk;
  }
}

/**
 * ImportRecords: the first message names the format (and dry run), every message may carry a
 * chunk of the file. Progress goes back every `progressEveryRows` rows or `progressEveryMs`,
 * with the row errors since the previous message, then a final message with `done`. A stream
 * that is not an import (no format, wrong token, unreadable CSV header) ends with a
 * TracenetError status; what was written before a failure stays written.
 */
async function handleImport(
  call: ServerDuplexStream<ImportRecordsRequest, ImportRecordsProgress>,
  deps: RecordsServiceDeps,
  logger: Logger,
): Promise<void> {
  try {
    const actor = admit(deps.token, call.metadata, call.getPath());
    await runAs(actor, () => importStream(call, deps, logger));
  } catch (error) {
    if (call.cancelled) {
      logger.info('records import cancelled by the client');
      return;
    }
    call.emit('error', toServiceError(error, logger));
  }
}

/** The import itself, on behalf of the admitted actor; throws what ends the stream. */
async function importStream(
  call: ServerDuplexStream<ImportRecordsRequest, ImportRecordsProgress>,
  deps: RecordsServiceDeps,
  logger: Logger,
): Promise<void> {
  const messages = call.iterator({ destroyOnReturn: false }) as AsyncIterator<ImportRecordsRequest>;
  const opening = await messages.next();
  if (opening.done)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_MISSING_FIELD,
      'the first message must name the format (csv or jsonl)',
      { field: 'format', rule: 'required' },
    );
  const first = opening.value;
  requireDecoded(first);
  const format = FORMATS[first.format];
  if (!format)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_MISSING_FIELD,
      'the first message must name the format (csv or jsonl)',
      { field: 'format', rule: 'required' },
    );
  const started = Date.now();
  const summary = await importRecords(chunksOf(first, messages, call), {
    format,
    dryRun: first.dryRun,
    records: deps.records,
    nowMs: deps.clock.now(),
    ...(deps.progressEveryRows === undefined ? {} : { progressEveryRows: deps.progressEveryRows }),
    ...(deps.progressEveryMs === undefined ? {} : { progressEveryMs: deps.progressEveryMs }),
    onProgress: (report) => {
      if (!call.cancelled) call.write(toProgress(report));
    },
  });
  logger.info(
    {
      importId: summary.importId,
      format,
      dryRun: summary.dryRun,
      rowsRead: summary.rowsRead,
      rowsImported: summary.rowsImported,
      rowsRejected: summary.rowsRejected,
      ms: Date.now() - started,
    },
    'records import finished',
  );
  call.end();
}

/**
 * Registers the Records service (docs/records.md) on the Authority server. Every call needs the
 * Authority bearer token.
 *
 * @example
 * ```ts
 * const records = new RecordStore({ store, journal, clock, logger });
 * const registry = new Registry({ adapters: [new LocalRecordsAdapter(records)], aliases: () => AliasTable.EMPTY, clock, logger });
 * addRecordsService(authorityServer, { records, registry, clock, logger, token });
 * ```
 */
export function addRecordsService(server: ServiceRegistrar, deps: RecordsServiceDeps): void {
  const logger = deps.logger.child({ component: 'records-api' });
  const guarded = guardedUnary(logger, deps.token);

  const implementation: RecordsServer = {
    ...addDestructionCalls(guarded, deps.records, deps.clock, deps.destruction),
    putRecord: guarded(async (request) => {
      if (!request.record)
        throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'record is required', {
          field: 'record',
          rule: 'required',
        });
      return { record: (await deps.records.put(request.record)).record };
    }),
    getRecord: guarded(async (request) => {
      const record = await deps.registry.get(request.recordId);
      if (!record)
        throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no record ${request.recordId}`, {
          field: 'record_id',
          rule: 'exists',
        });
      return { record };
    }),
    // Weapons held but incomplete are listed beside the records: never "no record" for a weapon the state holds.
    searchRecords: guarded(async (request) => {
      const found = await deps.registry.searchAll(request.query ?? EMPTY_QUERY, {
        serialOnly: request.serialOnly,
        limit: request.limit,
      });
      return { records: found.records, incomplete: found.incomplete, near: found.near };
    }),
    deleteRecord: guarded(async (request) => ({ recordId: (await deps.registry.delete(request.recordId)).recordId })),
    importRecords: (call) => {
      void handleImport(call, deps, logger);
    },
    reportRecord: guarded(async (request) => {
      if (!request.report)
        throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'report is required', {
          field: 'report',
          rule: 'required',
        });
      return { record: await deps.registry.report(request.recordId, request.report) };
    }),
    clearReport: guarded(async (request) => ({ record: await deps.registry.clearReport(request.recordId) })),
    loadAliases: guarded(async (request) => {
      if (!deps.aliases)
        throw new TracenetError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'this node has no alias table', {
          rule: 'aliases',
        });
      const table = await deps.aliases.load(request.csv, request.calibres ? 'calibre' : 'manufacturer');
      return { names: table.names, aliases: table.aliases };
    }),
    searchAliases: guarded(async (request) => {
      if (!deps.aliases)
        throw new TracenetError(ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'this node has no alias table', {
          rule: 'aliases',
        });
      const rows = deps.aliases.suggest(request.calibres ? 'calibre' : 'manufacturer', request.prefix, request.limit);
      return { suggestions: rows.map((row) => ({ name: row.name, aliases: [...row.aliases] })) };
    }),
  };
  server.addService(decodingTolerantly(RecordsService), implementation);
}
