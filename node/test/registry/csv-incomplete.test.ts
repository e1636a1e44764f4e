import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { ErrorCode, TracenetError, WeaponType } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_CHECK_EXIT, registerRegistryCommands } from '../../src/cli/registry-commands.js';
import { serialPattern } from '../../src/records/serial-pattern.js';
import { isIncomplete, isUnreadable, type RegistryEntry, type UnreadableRow } from '../../src/registry/adapter.js';
import { CsvFolderAdapter } from '../../src/registry/csv-folder.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { testLogger } from '../support/nodes.js';
import { NOW } from './fixtures.js';

/** Four rows: one good, one without a type, one with a type the format does not know, one without any serial. */
const CSV = [
  'manufacturer,serial_number,model,type,calibre',
  'Glock,BDX512,17,pistol,9x19mm',
  'Glock,BDX513,17,,9x19mm',
  'Glock,BDX514,17,blunderbuss,9x19mm',
  'Glock,,17,pistol,9x19mm',
].join('\n');

describe('the CSV folder adapter keeps rows that break the record rules as held but incomplete', () => {
  let folder: string;
  let adapter: CsvFolderAdapter;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'tracenet-csv-incomplete-'));
    await writeFile(join(folder, 'registry.csv'), `${CSV}\n`);
    adapter = new CsvFolderAdapter({ folder, clock: new ManualScheduler(NOW), logger: testLogger(), watch: false });
    await adapter.open();
  });
  afterAll(async () => {
    await adapter?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('finds them by serial, with their identity as read and the CSV column of each problem', async () => {
    const [missingType] = await adapter.findBySerial(serialPattern('BDX513'), 10);
    expect(missingType && isIncomplete(missingType)).toBe(true);
    expect(missingType).toMatchObject({
      incomplete: true,
      identity: { manufacturer: 'Glock', serialNumber: 'BDX513', model: '17', calibre: '9x19mm', type: 0 },
      source: 'csv',
      problems: [
        {
          field: 'record.manufacture.type',
          rule: 'required',
          message: expect.stringMatching(/^column "type": /) as string,
        },
      ],
    });
    expect(missingType?.recordId).toMatch(/^csv_[A-Za-z0-9_-]{22}$/);
    expect(await adapter.get(missingType?.recordId ?? '')).toEqual(missingType);
    const [unknownType] = await adapter.findBySerial(serialPattern('BDX514'), 10);
    expect(unknownType && isIncomplete(unknownType) && unknownType.problems.map((p) => [p.field, p.rule])).toEqual([
      ['type', 'enum'],
    ]);
    const all = await adapter.findBySerial(serialPattern('BDX5*'), 10);
    expect(all.map((e) => (isIncomplete(e) ? 'held' : e.manufacture?.type))).toEqual([
      WeaponType.WEAPON_TYPE_PISTOL,
      'held',
      'held',
    ]);
  });

  it('scans every row, the one without a serial as unreadable by file and line', async () => {
    const seen: (RegistryEntry | UnreadableRow)[] = [];
    await adapter.scan((entry) => {
      seen.push(entry);
    });
    expect(seen).toHaveLength(4);
    const unreadable = seen.filter(isUnreadable);
    expect(unreadable.map((u) => u.key)).toEqual(['registry.csv:5']);
    expect(unreadable[0]?.problems.map((p) => p.field)).toEqual(['record.manufacture.serial_number']);
    expect(seen.filter((e) => !isUnreadable(e) && isIncomplete(e))).toHaveLength(2);
  });

  it('tracenet registry check counts the folder: 1 valid, 2 incomplete, 1 unreadable, exit 2', async () => {
    const data = await mkdtemp(join(tmpdir(), 'tracenet-csv-check-'));
    try {
      const run = async (config: object) => {
        await writeFile(join(data, 'config.json'), JSON.stringify(config));
        let stdout = '';
        let exitCode = 0;
        const program = new Command('tracenet').exitOverride();
        registerRegistryCommands(program, {
          stdout: { write: (s: string) => void (stdout += s) },
          setExitCode: (code) => void (exitCode = code),
        });
        await program.parseAsync(['node', 'tracenet', 'registry', 'check', '--json', '--data', data]);
        return { result: JSON.parse(stdout) as Record<string, unknown>, exitCode };
      };
      const { result, exitCode } = await run({ registry: { adapter: 'csv', csv: { folder } } });
      expect(exitCode).toBe(REGISTRY_CHECK_EXIT.rowsNotValid);
      expect(result).toMatchObject({
        adapter: 'csv',
        rows: 4,
        valid: 1,
        incomplete: 2,
        unreadable: 1,
        examples: { unreadable: ['registry.csv:5'] },
      });
      expect(result.problems).toContainEqual(
        expect.objectContaining({
          field: 'record.manufacture.type',
          rule: 'required',
          where: 'column "type"',
          rows: 1,
        }),
      );
      const local = await run({ registry: { adapter: 'leveldb' } }).then(
        () => undefined,
        (e: unknown) => TracenetError.from(e),
      );
      expect(local).toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, field: 'registry.adapter' });
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});

describe('a CSV file the adapter cannot read in full', () => {
  let folder: string;
  let adapter: CsvFolderAdapter;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'tracenet-csv-unread-'));
    await writeFile(join(folder, 'a-good.csv'), `${CSV}\n`);
    // A quote never closed on line 3: the rows after it are not read.
    await writeFile(
      join(folder, 'b-cut.csv'),
      `${CSV.split('\n').slice(0, 2).join('\n')}\nGlock,"BDX600,17,pistol,9x19mm\nGlock,BDX601,17,pistol,9x19mm\n`,
    );
    // An empty file: not even its header can be read.
    await writeFile(join(folder, 'c-empty.csv'), '');
    adapter = new CsvFolderAdapter({ folder, clock: new ManualScheduler(NOW), logger: testLogger(), watch: false });
    await adapter.open();
  });
  afterAll(async () => {
    await adapter?.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('fails its check, naming the files, so that health shows it and no automatic "no record" is given', async () => {
    expect(await adapter.findBySerial(serialPattern('BDX601'), 10)).toEqual([]);
    const failure = await adapter.check().then(
      () => undefined,
      (error: unknown) => TracenetError.from(error),
    );
    expect(failure).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    expect(failure?.message).toContain('2 file(s) not read in full');
    expect(failure?.message).toContain('b-cut.csv, c-empty.csv');
  });

  it('passes it again once the files are read in full', async () => {
    await writeFile(join(folder, 'b-cut.csv'), `${CSV}\n`.replaceAll('BDX5', 'BDX6'));
    await rm(join(folder, 'c-empty.csv'));
    await adapter.reload();
    await expect(adapter.check()).resolves.toBeUndefined();
    expect(await adapter.findBySerial(serialPattern('BDX612'), 10)).toHaveLength(1);
  });
});
