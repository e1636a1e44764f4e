import { request } from 'node:http';
import { Server, type ServerDuplexStream } from '@grpc/grpc-js';
import { type ImportRecordsProgress, type ImportRecordsRequest, RecordsService } from '@tracenet/proto';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceTable } from '../../src/api/service-table.js';
import { importRoute } from '../../src/console/server/import-route.js';

const LIMIT = 64 * 1024;

/**
 * The import route's size limit on a body that does not declare its length (chunked): the route
 * counts what arrives and stops at the limit. (A declared length over the limit: import-route.test.)
 * The route here is the console's, in front of a stand-in ImportRecords that counts the bytes it gets.
 */
describe('the console import route, a chunked upload over the limit', () => {
  let app: FastifyInstance;
  let port = 0;
  // What the stand-in saw: bytes, and at the end of its requests whether the call was cancelled (the
  // real handler then writes nothing: records-service.ts chunksOf).
  const handled = { bytes: 0, ended: '' };

  beforeAll(async () => {
    const methods = new ServiceTable(new Server());
    methods.addService(RecordsService, {
      importRecords: (call: ServerDuplexStream<ImportRecordsRequest, ImportRecordsProgress>) => {
        call.on('data', (r: ImportRecordsRequest) => (handled.bytes += r.chunk.byteLength));
        call.on('end', () => {
          handled.ended = call.cancelled ? 'cancelled' : 'complete';
          call.write({ done: true, rowsImported: 1 } as ImportRecordsProgress);
          call.end();
        });
      },
    });
    app = Fastify();
    app.decorate('csrfProtection', (_request: unknown, _reply: unknown, done: () => void) => done());
    await app.register(
      importRoute({
        methods,
        sessionOf: async () => ({ token: 'session', peer: 'ipv4:127.0.0.1:0' }),
        refuse: (reply, error) => reply.code(400).send({ error: String(error) }),
        logger: pino({ level: 'silent' }),
        bodyLimit: LIMIT,
      }),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(() => app?.close());

  /** Sends `size` bytes in 8 KiB chunks, without a content-length. */
  const upload = (size: number) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/import?format=csv',
          headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      for (let sent = 0; sent < size; sent += 8192) req.write(Buffer.alloc(Math.min(8192, size - sent), 0x61));
      req.end();
    });

  it('takes a file up to the limit', async () => {
    Object.assign(handled, { bytes: 0, ended: '' });
    const answer = await upload(LIMIT);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text.trim())).toMatchObject({ done: true });
    expect(handled).toEqual({ bytes: LIMIT, ended: 'complete' });
  });

  it('refuses one byte more with 413, and the import gets no byte past the limit', async () => {
    Object.assign(handled, { bytes: 0, ended: '' });
    const answer = await upload(LIMIT + 1);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { field: 'file', rule: 'import_size' } });
    expect(handled.bytes).toBeLessThanOrEqual(LIMIT);
    expect(handled.ended).toBe('cancelled');
  });
});
