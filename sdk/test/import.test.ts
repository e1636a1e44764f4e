import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ErrorCode, type ImportProgress, TracenetError } from '../src/index.js';
import { createTestFederation, type TestFederation } from '../src/testing.js';
import { CSV_HEADER, goodRow } from './support/records.js';

/**
 * `client.records.importRecords` against one real node: row errors with their line numbers,
 * progress while the file streams, strict and dry runs, and cancellation.
 */
describe('client.records.importRecords', () => {
  let federation: TestFederation;
  let dir: string;
  beforeAll(async () => {
    [federation, dir] = await Promise.all([
      createTestFederation({ participants: ['FRA'] }),
      mkdtemp(join(tmpdir(), 'tracenet-sdk-import-')),
    ]);
  });
  afterAll(async () => {
    await federation?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const fra = () => federation.client('FRA');
  /** How many records the node holds with this serial. */
  const count = async (serial: string) =>
    (
      await fra().records.searchRecords({
        query: { manufacturer: '', serialNumber: serial, model: '', calibre: '', type: 0 },
        serialOnly: true,
        limit: 10,
      })
    ).records.length;
  const counts = (serials: readonly string[]) => Promise.all(serials.map(count));
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  /** Line 1 the header, 3 and 6 bad, 4 blank: three good rows. */
  const mixed = (p: string) =>
    [
      CSV_HEADER,
      goodRow(`${p}-1`),
      `FN Herstal,BEL,${p}-2,FAL,,7.62x51mm,1998,manufactured,1998-03-02\n`,
      '\n',
      goodRow(`${p}-3`),
      `FN Herstal,XX,${p}-4,FAL,rifle,7.62x51mm,1998,manufactured,1998-13-02\n`,
      goodRow(`${p}-5`),
    ].join('');
  const mixedErrors = [
    { line: 3, field: 'type', reason: expect.stringContaining('type is required') as unknown },
    { line: 6, field: 'country_of_manufacture', reason: expect.stringContaining('ISO 3166-1 alpha-3') as unknown },
    { line: 6, field: 'event1_date', reason: expect.stringContaining('YYYY-MM-DD') as unknown },
  ];

  it('imports the good rows of a file stream and returns each bad row with its line number, field and reason', async () => {
    // 16-byte chunks: rows arrive cut anywhere, line numbers still count from the file's start.
    const path = await file('mixed.csv', mixed('IMP-A'));
    const progress: ImportProgress[] = [];
    const summary = await fra().records.importRecords(createReadStream(path, { highWaterMark: 16 }), {
      format: 'csv',
      onProgress: (p) => progress.push(p),
    });
    expect(summary).toEqual({
      bytesProcessed: Buffer.byteLength(mixed('IMP-A')),
      rowsRead: 5,
      rowsImported: 3,
      rowsRejected: 2,
      errors: mixedErrors,
      refused: false,
      dryRun: false,
    });
    expect(progress.at(-1)).toMatchObject({ pass: 'import', done: true, rowsImported: 3 });
    expect(progress.flatMap((p) => p.errors)).toEqual(summary.errors);
    expect(await counts(['IMP-A-1', 'IMP-A-2', 'IMP-A-3', 'IMP-A-4', 'IMP-A-5'])).toEqual([1, 0, 1, 0, 1]);
  });

  it('reports progress while a large file streams, with the counts so far and the bad rows since the last report', async () => {
    // 12,000 rows in chunks of 1,000; the node reports every 5,000 rows. Line 7,002 is bad.
    async function* rows() {
      yield CSV_HEADER;
      for (let chunk = 0; chunk < 12; chunk += 1) {
        let text = '';
        for (let i = chunk * 1000; i < (chunk + 1) * 1000; i += 1)
          text += i === 7000 ? `FN Herstal,BEL,IMP-B-${i},FAL,ray gun,,1998,,\n` : goodRow(`IMP-B-${i}`);
        yield text;
      }
    }
    const progress: ImportProgress[] = [];
    const summary = await fra().records.importRecords(rows(), { format: 'csv', onProgress: (p) => progress.push(p) });
    expect(summary).toMatchObject({
      rowsRead: 12_000,
      rowsImported: 11_999,
      rowsRejected: 1,
      errors: [{ line: 7002, field: 'type' }],
    });
    // Messages come at least every 5,000 rows (sooner when a second has passed) and at the end; each carries the bad rows since the previous one.
    expect(progress.at(-1)).toMatchObject({ rowsRead: 12_000, done: true });
    const interim = progress.filter((p) => !p.done);
    expect(interim.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]?.rowsRead).toBeLessThanOrEqual(5000);
    const reporting = progress.filter((p) => p.errors.length > 0);
    expect(reporting.map((p) => [p.errors.map((e) => e.line), p.done])).toEqual([[[7002], false]]);
    expect(reporting[0]?.rowsRead).toBeGreaterThanOrEqual(7001);
    for (const [previous, next] of progress.slice(1).map((p, i) => [progress[i], p] as const)) {
      expect(next.rowsRead).toBeGreaterThan(previous?.rowsRead ?? 0);
      expect(next.rowsRead - (previous?.rowsRead ?? 0)).toBeLessThanOrEqual(5000);
      expect(next.bytesProcessed).toBeGreaterThan(previous?.bytesProcessed ?? 0);
      expect(next.rowsImported).toBeGreaterThanOrEqual(previous?.rowsImported ?? 0);
    }
    expect(progress.every((p) => p.pass === 'import')).toBe(true);
    expect(await counts(['IMP-B-0', 'IMP-B-7000', 'IMP-B-11999'])).toEqual([1, 0, 1]);
  });

  it('strict: a file with a bad row is refused after the check and nothing of it is written', async () => {
    const progress: ImportProgress[] = [];
    const summary = await fra().records.importRecords(Buffer.from(mixed('IMP-C')), {
      format: 'csv',
      strict: true,
      onProgress: (p) => progress.push(p),
    });
    expect(summary).toMatchObject({
      refused: true,
      dryRun: true,
      rowsImported: 0,
      rowsRejected: 2,
      errors: mixedErrors,
    });
    expect(new Set(progress.map((p) => p.pass))).toEqual(new Set(['check']));
    expect(await counts(['IMP-C-1', 'IMP-C-3', 'IMP-C-5'])).toEqual([0, 0, 0]);
  });

  it('strict: a clean file is checked, then imported once, whether it comes as a stream read once or as a function that opens it', async () => {
    const clean = (p: string) => CSV_HEADER + goodRow(`${p}-1`) + goodRow(`${p}-2`);
    const passes: string[] = [];
    const onProgress = (p: ImportProgress) => {
      if (p.done) passes.push(`${p.pass} ${p.rowsRead} read, ${p.rowsImported} imported`);
    };
    // A stream can be read once: the check's chunks are replayed for the import.
    const once = await fra().records.importRecords(
      Readable.from([clean('IMP-D').slice(0, 50), clean('IMP-D').slice(50)]),
      { format: 'csv', strict: true, onProgress },
    );
    expect(once).toMatchObject({
      refused: false,
      dryRun: false,
      rowsRead: 2,
      rowsImported: 2,
      rowsRejected: 0,
      errors: [],
    });
    expect(passes.splice(0)).toEqual(['check 2 read, 0 imported', 'import 2 read, 2 imported']);

    const path = await file('clean.csv', clean('IMP-E'));
    let opened = 0;
    const opens = () => {
      opened += 1;
      return createReadStream(path);
    };
    expect(await fra().records.importRecords(opens, { format: 'csv', strict: true, onProgress })).toMatchObject({
      refused: false,
      rowsImported: 2,
    });
    expect(passes).toEqual(['check 2 read, 0 imported', 'import 2 read, 2 imported']);
    expect(opened).toBe(2);
    expect(await counts(['IMP-D-1', 'IMP-D-2', 'IMP-E-1', 'IMP-E-2'])).toEqual([1, 1, 1, 1]);
  });

  it('dry run: every row is checked and nothing is written', async () => {
    const summary = await fra().records.importRecords(mixed('IMP-F'), { format: 'csv', dryRun: true });
    expect(summary).toEqual({
      bytesProcessed: Buffer.byteLength(mixed('IMP-F')),
      rowsRead: 5,
      rowsImported: 0,
      rowsRejected: 2,
      errors: mixedErrors,
      refused: false,
      dryRun: true,
    });
    expect(await counts(['IMP-F-1', 'IMP-F-3', 'IMP-F-5'])).toEqual([0, 0, 0]);
  });

  /** Starts an import of a stream that sends `rows` and then stalls, like a file on a hung network share. */
  const stalled = (rows: string, signal: AbortSignal) => {
    const source = new PassThrough();
    source.write(CSV_HEADER + rows);
    return {
      source,
      pending: fra()
        .records.importRecords(source, { format: 'csv', signal })
        .catch((e: unknown) => e),
    };
  };

  it('aborting cancels the stream at once: the promise rejects with the reason, the source stream is destroyed, the node takes the next import', async () => {
    const controller = new AbortController();
    const { source, pending } = stalled(goodRow('IMP-G-1') + goodRow('IMP-G-2'), controller.signal);
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    controller.abort(new Error('the officer cancelled the import'));
    expect(((await pending) as Error).message).toBe('the officer cancelled the import');
    expect(performance.now() - started).toBeLessThan(500);
    expect(source.destroyed).toBe(true);
    expect((await fra().records.importRecords(CSV_HEADER + goodRow('IMP-G-3'), { format: 'csv' })).rowsImported).toBe(
      1,
    );
    // An aborted signal never opens a stream.
    await expect(
      fra().records.importRecords(CSV_HEADER, { format: 'csv', signal: AbortSignal.abort(new Error('too late')) }),
    ).rejects.toThrow('too late');
  });

  // grpc-js ends the request stream of a cancelled call a few milliseconds before the cancel
  // arrives; the node must not take that end for the end of the file.
  it('the node writes nothing of an import cancelled before its first batch', async () => {
    const controller = new AbortController();
    const { pending } = stalled(goodRow('IMP-J-1') + goodRow('IMP-J-2'), controller.signal);
    await new Promise((r) => setTimeout(r, 300));
    controller.abort(new Error('cancelled'));
    await pending;
    await new Promise((r) => setTimeout(r, 200));
    expect(await counts(['IMP-J-1', 'IMP-J-2'])).toEqual([0, 0]);
  });

  it('a deadline ends an import that takes too long with DEADLINE_EXCEEDED', async () => {
    const source = new PassThrough();
    source.write(CSV_HEADER);
    const error = await fra()
      .records.importRecords(source, { format: 'csv', deadlineMs: 300 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TracenetError);
    expect((error as TracenetError).code).toBe(ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED);
    expect(source.destroyed).toBe(true);
  });

  it('the node refusing the import itself is a typed error: an unreadable CSV header, a wrong token', async () => {
    const header = (await fra()
      .records.importRecords('manufacturer,colour\nFN,red\n', { format: 'csv' })
      .catch((e: unknown) => e)) as TracenetError;
    expect(header).toBeInstanceOf(TracenetError);
    expect([header.codeName, header.field, header.rule]).toEqual(['INVALID_FIELD', 'header', 'csv_header']);
    expect(header.message).toContain('"colour" is not a known column');

    const stranger = connect({ address: federation.node('FRA').authorityAddress, token: 'x'.repeat(43) });
    try {
      const denied = (await stranger.records
        .importRecords(CSV_HEADER + goodRow('IMP-H-1'), { format: 'csv' })
        .catch((e: unknown) => e)) as TracenetError;
      expect([denied.codeName, denied.field, denied.retryable]).toEqual(['UNAUTHORIZED', 'authorization', false]);
    } finally {
      stranger.close();
    }
    expect(await count('IMP-H-1')).toBe(0);
  });

  it('does not wait for a node that is down, and close() cancels an open import with UNAVAILABLE', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const nobody = connect({ address: `127.0.0.1:${port}`, token: 't' });
    try {
      const started = performance.now();
      const down = (await nobody.records
        .importRecords(CSV_HEADER, { format: 'csv' })
        .catch((e: unknown) => e)) as TracenetError;
      expect([down.codeName, down.retryable]).toEqual(['UNAVAILABLE', true]);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      nobody.close();
    }

    const client = connect({ address: federation.node('FRA').authorityAddress, token: federation.node('FRA').token });
    const source = new PassThrough();
    source.write(CSV_HEADER + goodRow('IMP-I-1'));
    const pending = client.records.importRecords(source, { format: 'csv' }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    client.close();
    const closed = (await pending) as TracenetError;
    expect([closed.codeName, closed.message]).toEqual(['UNAVAILABLE', 'the client was closed']);
    expect(source.destroyed).toBe(true);
    await expect(client.records.importRecords(CSV_HEADER, { format: 'csv' })).rejects.toThrow('the client is closed');
  });
});
