/**
 * The Records API and `tracenet records search` with a registry that holds a weapon whose row does
 * not make a valid record: SearchRecords lists it as incomplete, GetRecord refuses it by name.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { Command } from 'commander';
import { ErrorCode, type SearchRecordsResponse, TracenetError } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRecordCommands } from '../../src/cli/records-commands.js';
import { AliasTable } from '../../src/records/alias-table.js';
import { CsvFolderAdapter } from '../../src/registry/csv-folder.js';
import { LocalRecordsAdapter } from '../../src/registry/local.js';
import { Registry } from '../../src/registry/registry.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { testLogger } from '../support/nodes.js';
import { call, type RecordBed, type RecordsEndpoint, startRecordBed, startRecordsServer } from '../records/support.js';
import { NOW } from './fixtures.js';

const CSV = ['manufacturer,serial_number,model,type', 'Glock,BDX512,17,pistol', 'Glock,BDX513,17,'].join('\n');

describe('weapons held but incomplete through the Records API and the CLI', () => {
  let dir: string;
  let bed: RecordBed;
  let csv: CsvFolderAdapter;
  let endpoint: RecordsEndpoint;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracenet-records-incomplete-'));
    await writeFile(join(dir, 'registry.csv'), `${CSV}\n`);
    bed = await startRecordBed();
    csv = new CsvFolderAdapter({ folder: dir, clock: new ManualScheduler(NOW), logger: testLogger(), watch: false });
    const registry = new Registry({
      adapters: [new LocalRecordsAdapter(bed.records), csv],
      aliases: () => AliasTable.EMPTY,
      clock: bed.clock,
      logger: testLogger(),
    });
    await registry.open();
    endpoint = await startRecordsServer({ ...bed, registry });
  });
  afterAll(async () => {
    await endpoint?.close();
    await csv?.close();
    await bed?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const query = { manufacturer: 'glock', model: '', serialNumber: 'BDX 513', calibre: '', type: 0 };

  it('SearchRecords returns the incomplete match beside the records', async () => {
    const found = (await call(endpoint, 'searchRecords', {
      query,
      serialOnly: false,
      limit: 0,
    })) as SearchRecordsResponse;
    expect(found.records).toEqual([]);
    expect(found.incomplete).toHaveLength(1);
    expect(found.incomplete[0]).toMatchObject({
      recordId: expect.stringMatching(/^csv_/) as string,
      identity: { manufacturer: 'Glock', serialNumber: 'BDX513', model: '17' },
      problems: [{ field: 'record.manufacture.type', rule: 'required' }],
      source: 'csv',
    });
    const wildcard = (await call(endpoint, 'searchRecords', {
      query: { ...query, serialNumber: 'BDX5*' },
      serialOnly: false,
      limit: 0,
    })) as SearchRecordsResponse;
    expect([wildcard.records.length, wildcard.incomplete.length]).toEqual([1, 1]);
  });

  it('GetRecord of an incomplete id is INVALID_FIELD held_incomplete, naming the fields', async () => {
    const found = (await call(endpoint, 'searchRecords', {
      query,
      serialOnly: false,
      limit: 0,
    })) as SearchRecordsResponse;
    const id = found.incomplete[0]?.recordId ?? '';
    const error = await call(endpoint, 'getRecord', { recordId: id }).then(
      () => undefined,
      (e: unknown) => TracenetError.from(e),
    );
    expect(error).toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'record_id',
      rule: 'held_incomplete',
      message: `record ${id} is held by the csv registry but incomplete: record.manufacture.type`,
    });
  });

  it('tracenet records search prints "held but incomplete" with the fields, and JSON items marked incomplete', async () => {
    const run = async (...args: string[]) => {
      let stdout = '';
      const program = new Command('tracenet').exitOverride();
      registerRecordCommands(program, {
        connect: async () => ({
          address: endpoint.address,
          token: endpoint.token,
          channel: { credentials: credentials.createInsecure() },
        }),
        stdout: { write: (s: string) => void (stdout += s) },
        stderr: { write: () => undefined, isTTY: false },
        setExitCode: () => undefined,
      });
      await program.parseAsync(['node', 'tracenet', 'records', 'search', ...args]);
      return stdout;
    };
    const text = await run('--manufacturer', 'Glock', '--serial', 'BDX513');
    expect(text).toMatch(/^held but incomplete: csv_\S+ Glock BDX513 \(record\.manufacture\.type\)\n$/);
    const both = await run('--manufacturer', 'Glock', '--serial', 'BDX51?');
    expect(both.split('\n')[1]).toMatch(/^csv_\S+\s+Glock\s+17\s+BDX512/);
    expect(both.split('\n')[2]).toMatch(/^held but incomplete: /);
    const json = JSON.parse(await run('--manufacturer', 'Glock', '--serial', 'BDX513', '--json')) as object[];
    expect(json).toEqual([expect.objectContaining({ incomplete: true, source: 'csv' })]);
  });
});
