import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { Command } from 'commander';
import { ErrorCode, ImportFormat, type ImportRecordsProgress, TracenetError, WeaponEventType } from '@tracenet/proto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importFile, IMPORT_EXIT, registerRecordCommands } from '../../src/cli/records-commands.js';
import { recordToJson } from '../../src/records/record-json.js';
import {
  call,
  countEntries,
  event,
  type RecordBed,
  type RecordsEndpoint,
  startRecordBed,
  startRecordsServer,
  weapon,
  writeGeneratedFile,
} from './support.js';

let dir: string;
let bed: RecordBed;
let endpoint: RecordsEndpoint;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracenet-records-api-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  bed = await startRecordBed();
  endpoint = await startRecordsServer(bed, { progressEveryRows: 1000 });
});
afterEach(async () => {
  await endpoint.close();
  await bed.cleanup();
});

/** Sends raw ImportRecords messages and collects what comes back until the status. */
function rawImport(
  messages: { format?: ImportFormat; dryRun?: boolean; chunk?: string }[],
  token = endpoint.token,
): Promise<{ progress: ImportRecordsProgress[]; error?: TracenetError }> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const stream = endpoint.client.importRecords(metadata);
  const progress: ImportRecordsProgress[] = [];
  return new Promise((resolve) => {
    stream.on('data', (p: ImportRecordsProgress) => progress.push(p));
    stream.on('error', (e: ServiceError) => resolve({ progress, error: TracenetError.from(e) }));
    stream.on('end', () => resolve({ progress }));
    for (const m of messages)
      stream.write({
        format: m.format ?? ImportFormat.IMPORT_FORMAT_UNSPECIFIED,
        dryRun: m.dryRun ?? false,
        chunk: Buffer.from(m.chunk ?? ''),
      });
    stream.end();
  });
}

describe('Records service', () => {
  it('puts, gets, searches and refuses deletion inside the retention period, errors carrying field and rule', async () => {
    const put = await call(endpoint, 'putRecord', { record: weapon() });
    const id = put.record?.recordId ?? '';
    expect(id).toMatch(/^rec_/);
    expect((await call(endpoint, 'getRecord', { recordId: id })).record?.secondaryMarks).toHaveLength(1);
    const query = { manufacturer: 'fn herstal', model: '', serialNumber: 'FN 1998 0042', calibre: '', type: 0 };
    expect(
      (await call(endpoint, 'searchRecords', { query, serialOnly: false, limit: 0 })).records.map((r) => r.recordId),
    ).toEqual([id]);
    expect(
      (await call(endpoint, 'searchRecords', { query: { ...query, manufacturer: '' }, serialOnly: true, limit: 10 }))
        .records,
    ).toHaveLength(1);
    await expect(
      call(endpoint, 'searchRecords', { query: { ...query, manufacturer: '' }, serialOnly: false, limit: 0 }),
    ).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'query.manufacturer',
    });

    const refused = call(endpoint, 'deleteRecord', { recordId: id });
    await expect(refused).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
      rule: 'retention_period',
      message: expect.stringContaining('2028-03-02'),
    });
    expect(((await refused.catch((e: unknown) => e)) as TracenetError).grpcStatus).toBe(GrpcStatus.FAILED_PRECONDITION);

    const invalid = weapon(
      { events: [event(WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED, '2001-01-01')] },
      { countryOfManufacture: 'Belgium' },
    );
    await expect(call(endpoint, 'putRecord', { record: invalid })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      violations: [
        expect.objectContaining({ field: 'record.manufacture.country_of_manufacture' }),
        expect.objectContaining({ field: 'record.events[0].destination', rule: 'required' }),
      ],
    });
    await expect(call(endpoint, 'getRecord', { recordId: `rec_${'x'.repeat(22)}` })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
    });
    await expect(call(endpoint, 'putRecord', {})).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'record',
    });
  });

  it('refuses every method without the bearer token', async () => {
    await expect(call(endpoint, 'getRecord', { recordId: 'x' }, 'wrong')).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
    });
    const { error, progress } = await rawImport(
      [{ format: ImportFormat.IMPORT_FORMAT_CSV, chunk: 'type,serial_number\nrifle,1\n' }],
      'wrong',
    );
    expect(error).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHORIZED });
    expect(progress).toEqual([]);
    expect(await countEntries(bed.test, 'records')).toBe(0);
  });

  it('ends a bad import stream with a TracenetError status', async () => {
    expect((await rawImport([{ chunk: 'type,serial_number\n' }])).error).toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'format',
    });
    expect((await rawImport([])).error).toMatchObject({ code: ErrorCode.ERROR_CODE_MISSING_FIELD, field: 'format' });
    expect(
      (await rawImport([{ format: ImportFormat.IMPORT_FORMAT_CSV, chunk: 'colour,type\nred,rifle\n' }])).error,
    ).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, field: 'header' });
    const changed = await rawImport([
      { format: ImportFormat.IMPORT_FORMAT_CSV, chunk: 'type,serial_number,manufacturer\n' },
      { format: ImportFormat.IMPORT_FORMAT_JSONL, chunk: 'rifle,1,FN\n' },
    ]);
    expect(changed.error).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, field: 'format' });
  });

  it('streams a file in chunks that split rows and answers with progress and a final summary', async () => {
    const { progress, error } = await rawImport([
      { format: ImportFormat.IMPORT_FORMAT_JSONL },
      { chunk: '{"manufacture": {"manufacturer": "Glock", "serialNumber": "G-1", "type": "pis' },
      { chunk: 'tol"}}\n{"manufacture": {"manufacturer": "Glock", "type": "pistol"}}\n' },
    ]);
    expect(error).toBeUndefined();
    expect(progress.at(-1)).toMatchObject({
      done: true,
      rowsRead: 2,
      rowsImported: 1,
      rowsRejected: 1,
      errors: [{ line: 2, field: 'record.manufacture.serial_number', reason: expect.any(String) }],
    });
  });
});

describe('importFile (the CLI side of ImportRecords)', () => {
  it('imports 20,000 CSV rows over gRPC with progress every 1,000 rows, rejecting exactly the bad lines', async () => {
    const file = await writeGeneratedFile(join(dir, 'api.csv'), 'csv', 20_000, 499);
    const seen: ImportRecordsProgress[] = [];
    const result = await importFile(endpoint.client, endpoint.token, file.path, {
      format: 'csv',
      chunkBytes: 16 * 1024,
      onProgress: (p) => void seen.push(p),
    });
    expect(result).toMatchObject({
      rowsRead: 20_000,
      rowsRejected: file.badLines.length,
      rowsImported: 20_000 - file.badLines.length,
      refused: false,
    });
    expect([...new Set(result.errors.map((e) => e.line))]).toEqual(file.badLines);
    expect(seen.length).toBeGreaterThanOrEqual(20);
    expect(seen.at(-1)?.done).toBe(true);
    expect(await countEntries(bed.test, 'records')).toBe(20_000 - file.badLines.length);
  });

  it('strict: a file with one bad row imports nothing; a clean file is imported in full', async () => {
    const bad = await writeGeneratedFile(join(dir, 'strict-bad.jsonl'), 'jsonl', 3000, 2500);
    const refused = await importFile(endpoint.client, endpoint.token, bad.path, { format: 'jsonl', strict: true });
    expect(refused).toMatchObject({ refused: true, rowsImported: 0, rowsRejected: 1 });
    expect(refused.errors[0]?.line).toBe(bad.badLines[0]);
    expect(await countEntries(bed.test, 'records')).toBe(0);

    const clean = await writeGeneratedFile(join(dir, 'strict-clean.jsonl'), 'jsonl', 3000, 10_000);
    expect(
      await importFile(endpoint.client, endpoint.token, clean.path, { format: 'jsonl', strict: true }),
    ).toMatchObject({ refused: false, rowsImported: 3000, rowsRejected: 0 });
    expect(await countEntries(bed.test, 'records')).toBe(3000);
  });
});

describe('tracenet records commands', () => {
  /** Runs `tracenet records …` in-process against the test server; output and exit code captured. */
  async function cli(
    ...args: string[]
  ): Promise<{ stdout: string; stderr: string; exitCode: number; error?: TracenetError }> {
    let stdout = '';
    let stderr = '';
    let exitCode = 0;
    const program = new Command('tracenet')
      .exitOverride()
      .configureOutput({ writeOut: (s) => void (stdout += s), writeErr: (s) => void (stderr += s) });
    registerRecordCommands(program, {
      connect: async () => ({
        address: endpoint.address,
        token: endpoint.token,
        channel: { credentials: credentials.createInsecure() },
      }),
      stdout: { write: (s: string) => void (stdout += s) },
      stderr: { write: (s: string) => void (stderr += s), isTTY: false },
      setExitCode: (code) => void (exitCode = code),
    });
    try {
      await program.parseAsync(['node', 'tracenet', 'records', ...args]);
      return { stdout, stderr, exitCode };
    } catch (error) {
      return { stdout, stderr, exitCode: 1, error: TracenetError.from(error) };
    }
  }

  it('put, show, search and delete', async () => {
    const file = join(dir, 'one.json');
    await writeFile(file, JSON.stringify(recordToJson(weapon())));
    const put = await cli('put', file, '--json');
    const created = JSON.parse(put.stdout) as { recordId: string };
    expect(created.recordId).toMatch(/^rec_/);

    const shown = await cli('show', created.recordId);
    expect(shown.stdout).toContain('FN Herstal FAL, rifle, 7.62x51mm, serial FN-1998-0042, made BEL 1998');
    expect(shown.stdout).toContain('1999-05-10  exported  to KEN  licence BE-EX-1999-17  end user Kenya Police');
    expect(shown.stdout).toContain('secondary mark (CONFIDENTIAL): X7Q at inside receiver');
    expect(JSON.parse((await cli('show', created.recordId, '--json')).stdout)).toMatchObject({
      recordId: created.recordId,
      manufacture: { type: 'WEAPON_TYPE_RIFLE' },
    });

    expect((await cli('search', '--manufacturer', 'F.N. Herstal', '--serial', 'fn19980042')).stdout).toContain(
      created.recordId,
    );
    expect((await cli('search', '--serial', 'fn19980042', '--serial-only', '--json')).stdout).toContain(
      created.recordId,
    );
    expect((await cli('search', '--manufacturer', 'Glock', '--serial', 'fn19980042')).stdout).toBe(
      'No matching record.\n',
    );
    expect((await cli('search', '--serial', 'fn19980042')).error).toMatchObject({ field: 'query.manufacturer' });
    // The rifle asked for as a carbine: a near match, listed apart (docs/records.md 2.3).
    const near = (await cli('search', '--manufacturer', 'FN Herstal', '--serial', 'fn19980042', '--type', 'carbine'))
      .stdout;
    expect(near).toMatch(/^No exact match\.\nNear matches \(a close weapon type/);
    expect(near).toContain(created.recordId);
    expect(
      JSON.parse(
        (await cli('search', '--manufacturer', 'FN Herstal', '--serial', 'fn19980042', '--type', 'carbine', '--json'))
          .stdout,
      ),
    ).toEqual([expect.objectContaining({ recordId: created.recordId, near: true })]);

    const deleted = await cli('delete', created.recordId);
    expect(deleted.error).toMatchObject({
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
      message: expect.stringContaining('may be deleted from 2028-03-02'),
    });
  });

  it('put refuses a JSON file that is not a record, listing each problem', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ manufacture: { manufacturer: 'FN', serial: 'x', type: 'rifle' } }));
    const result = await cli('put', file);
    expect(result.error).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'record.manufacture.serial',
    });
    expect(result.stderr).toContain('record.manufacture.serial: serial is not a field of this object');
    const missing = join(dir, 'missing.json');
    await writeFile(missing, JSON.stringify({ manufacture: { manufacturer: 'FN', type: 'rifle' } }));
    const refused = await cli('put', missing);
    expect(refused.error).toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'record.manufacture.serial_number',
    });
    expect(await countEntries(bed.test, 'records')).toBe(0);
  });

  it('import prints plain progress lines off a terminal, a summary with the first bad lines, and exits 2 when rows were rejected', async () => {
    const file = await writeGeneratedFile(join(dir, 'cli.csv'), 'csv', 2500, 1000);
    const result = await cli('import', file.path);
    expect(result.exitCode).toBe(IMPORT_EXIT.someRejected);
    expect(result.stderr).toMatch(
      /^progress: 1,000 rows read, [\d,]+ imported, 1 rejected \((39|40|41)% of 0\.\d MB\)$/m,
    );
    expect(result.stdout).toContain(`Read 2,500 rows of ${file.path}: 2,498 imported, 2 rejected`);
    expect(result.stdout).toContain(`line ${file.badLines[0]}  serial_number: the serial number is required`);
    expect(result.stdout).toContain(
      `line ${file.badLines[1]}  event1_date: the date must be a calendar date YYYY-MM-DD, not "2001-02-30"`,
    );

    const json = JSON.parse((await cli('import', file.path, '--dry-run', '--json')).stdout) as {
      rowsRead: number;
      rowsRejected: number;
      errors: unknown[];
    };
    expect(json).toMatchObject({ rowsRead: 2500, rowsRejected: 2, dryRun: true });
    expect(await countEntries(bed.test, 'records')).toBe(2498);
  });

  it('import --strict imports nothing from a file with a bad row and exits 1', async () => {
    const file = await writeGeneratedFile(join(dir, 'cli-strict.jsonl'), 'jsonl', 1500, 1200);
    const result = await cli('import', file.path, '--strict');
    expect(result.exitCode).toBe(IMPORT_EXIT.failed);
    expect(result.stdout).toContain(`Nothing imported from ${file.path}: --strict and the file has bad rows`);
    expect(result.stdout).toContain(`line ${file.badLines[0]}`);
    expect(await countEntries(bed.test, 'records')).toBe(0);
  });

  it('import needs a format it can tell, and every command has --help', async () => {
    const file = join(dir, 'registry.txt');
    await writeFile(file, 'type,serial_number\n');
    expect((await cli('import', file)).error).toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'format',
    });
    for (const command of ['import', 'search', 'show', 'put', 'delete']) {
      const help = await cli(command, '--help');
      expect(help.stdout).toContain(`Usage: tracenet records ${command}`);
      expect(help.stdout).toContain('--data <dir>');
    }
  });
});
