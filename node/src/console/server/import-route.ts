import type { IncomingMessage } from 'node:http';
import { ErrorCode, ImportFormat, ImportRecordsProgress, TracenetError } from '@tracenet/proto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ServiceTable } from '../../api/service-table.js';
import { type Caller, type DuplexStream, invokeDuplexStream } from './invoke.js';

/** Largest file the console imports in one upload (the CLI streams larger ones). */
export const IMPORT_BODY_LIMIT = 512 * 1024 * 1024;
const IMPORT_PATH = '/tracenet.v1.Records/ImportRecords';
const FORMATS: Readonly<Record<string, ImportFormat>> = {
  csv: ImportFormat.IMPORT_FORMAT_CSV,
  jsonl: ImportFormat.IMPORT_FORMAT_JSONL,
};

/** What the import route needs from the console server: the same session check and refusals as /api/rpc. */
export interface ImportRouteDeps {
  readonly methods: ServiceTable;
  /** The caller of the session cookie, after the idle check; throws UNAUTHORIZED. */
  readonly sessionOf: (request: FastifyRequest, reply: FastifyReply) => Promise<Caller>;
  /** Answers a refusal with its HTTP status and a ConsoleErrorBody. */
  readonly refuse: (reply: FastifyReply, error: unknown) => FastifyReply;
  readonly logger: Logger;
  /** Largest body; {@link IMPORT_BODY_LIMIT} by default. */
  readonly bodyLimit?: number;
}

function refusal(code: ErrorCode, message: string, field: string, rule: string): TracenetError {
  return new TracenetError(code, message, { field, rule });
}

/** The JSON line that ends a stream of progress with a failure (after some progress was sent). */
function errorLine(error: TracenetError): string {
  return `${JSON.stringify({
    error: {
      code: error.codeName,
      message: error.code === ErrorCode.ERROR_CODE_INTERNAL ? 'internal error' : error.message,
      field: error.field,
      rule: error.rule,
    },
  })}\n`;
}

/**
 * `POST /api/import?format=csv|jsonl&dryRun=true` (docs/console.md): the officer's file as the raw
 * body (`application/octet-stream`), streamed chunk by chunk into the node's own ImportRecords
 * handler — the same token check, role table, validation and audit as `tracenet records import`.
 * The answer is a stream of JSON lines, each an ImportRecordsProgress in protobuf JSON, the last
 * one with `done`; a refusal before any progress is a ConsoleErrorBody with its HTTP status, a
 * failure after progress began is a last line `{"error": {...}}`. An upload that stops half-way
 * cancels the import (rows of finished batches stay written, as with the CLI).
 *
 * Registered by the console server inside its own scope, so that only this route reads raw bodies.
 */
export function importRoute(deps: ImportRouteDeps) {
  const limit = deps.bodyLimit ?? IMPORT_BODY_LIMIT;
  const logger = deps.logger.child({ route: 'import' });
  return async (scope: FastifyInstance): Promise<void> => {
    // The body stays a stream: the route reads it itself, a chunk at a time, never buffered whole.
    // No other parser in this scope: nothing (JSON, text) is read whole under the import's limit,
    // and a body of another type is refused by the handler without being read.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const callers = new WeakMap<FastifyRequest, Caller>();
    scope.post<{ Querystring: { format?: string; dryRun?: string } }>(
      '/api/import',
      {
        // The session is checked before a byte of the body is read.
        onRequest: [
          scope.csrfProtection,
          async (request, reply) => {
            callers.set(request, await deps.sessionOf(request, reply));
          },
        ],
        bodyLimit: limit,
      },
      async (request, reply) => {
        let caller: Caller;
        let format: ImportFormat;
        try {
          caller = callers.get(request) ?? (await deps.sessionOf(request, reply));
          const kind = (request.query.format ?? '').toLowerCase();
          const named = FORMATS[kind];
          if (named === undefined)
            throw refusal(
              ErrorCode.ERROR_CODE_INVALID_FIELD,
              `format must be csv or jsonl, not ${JSON.stringify(kind.slice(0, 20))}`,
              'format',
              'import_format',
            );
          format = named;
          if (!/^application\/octet-stream\s*(;|$)/i.test(request.headers['content-type'] ?? ''))
            throw refusal(
              ErrorCode.ERROR_CODE_MALFORMED,
              'send the file as the raw body, with content-type application/octet-stream',
              'content-type',
              'octet_stream',
            );
          const length = Number(request.headers['content-length'] ?? 0);
          if (length > limit)
            throw refusal(
              ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE,
              `the file is larger than ${Math.floor(limit / 1024 / 1024)} MiB; import it with tracenet records import`,
              'file',
              'import_size',
            );
        } catch (error) {
          return refuse(reply, error);
        }
        const dryRun = request.query.dryRun === 'true' || request.query.dryRun === '1';
        return streamImport(request.raw, reply, { format, dryRun, caller, limit });
      },
    );
  };

  /** A refusal as /api/rpc answers it; a file too large is 413. */
  function refuse(reply: FastifyReply, error: unknown): FastifyReply {
    const failure = TracenetError.from(error);
    // The rest of the body is not read: the connection is not used for another request.
    if (!reply.request.raw.complete) reply.header('connection', 'close');
    if (failure.code !== ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE) return deps.refuse(reply, failure);
    return reply.code(413).send({
      error: {
        code: failure.codeName,
        message: failure.message,
        field: failure.field,
        rule: failure.rule,
        violations: [],
      },
    });
  }

  /** Feeds the body to the handler and its progress back as JSON lines. */
  function streamImport(
    body: IncomingMessage,
    reply: FastifyReply,
    options: { format: ImportFormat; dryRun: boolean; caller: Caller; limit: number },
  ): Promise<FastifyReply | undefined> {
    const raw = reply.raw;
    let started = false;
    let finished = false;
    let bodyDone = false;
    let bytes = 0;
    const startAnswer = () => {
      if (started) return;
      started = true;
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
    };
    return new Promise((resolve) => {
      const finish = (error: TracenetError | undefined) => {
        if (finished) return;
        finished = true;
        // What is left of the body after a refusal is read and dropped, so that the browser gets the answer.
        if (!bodyDone) body.resume();
        // Refused before any progress (role, unreadable header, too large): an error body with its status.
        if (error && !started) {
          resolve(refuse(reply, error));
          return;
        }
        startAnswer();
        if (error) raw.write(errorLine(error));
        raw.end();
        resolve(undefined);
      };
      /** The upload or the answer stopped half-way: the import is cancelled, nothing more is sent. */
      const abandon = () => {
        if (finished) return;
        finished = true;
        logger.info('console import cancelled: the browser went away');
        stream.cancel();
        if (!raw.writableEnded) raw.destroy();
        resolve(undefined);
      };
      const stream: DuplexStream = invokeDuplexStream(
        deps.methods,
        IMPORT_PATH,
        options.caller,
        (message) => {
          if (finished) return;
          startAnswer();
          raw.write(`${JSON.stringify(ImportRecordsProgress.toJSON(message as ImportRecordsProgress))}\n`);
        },
        (error) => {
          if (error) logger.info({ code: error.codeName, rule: error.rule }, 'console import refused');
          finish(error);
        },
      );
      stream.write({ format: options.format, dryRun: options.dryRun, chunk: new Uint8Array(0) });
      body.on('data', (chunk: Buffer) => {
        if (finished) return;
        bytes += chunk.byteLength;
        if (bytes > options.limit) {
          finish(
            refusal(
              ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE,
              `the file is larger than ${Math.floor(options.limit / 1024 / 1024)} MiB; import it with tracenet records import`,
              'file',
              'import_size',
            ),
          );
          stream.cancel();
          return;
        }
        if (!stream.write({ format: ImportFormat.IMPORT_FORMAT_UNSPECIFIED, dryRun: false, chunk })) {
          body.pause();
          stream.onDrain(() => body.resume());
        }
      });
      body.on('end', () => {
        bodyDone = true;
        stream.end();
      });
      body.on('close', () => {
        if (!bodyDone) abandon();
      });
      raw.on('close', () => {
        if (!raw.writableFinished) abandon();
      });
    });
  }
}
