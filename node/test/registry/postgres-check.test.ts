/**
 * `tracenet registry check` against PostgreSQL: the French registry with rows broken on purpose
 * (./french-registry.ts) is scanned through its mapping, and the counts match those rows exactly.
 * The command runs in-process with the node's data directory holding only config.json and the
 * mapping: it opens the registry itself, no running node needed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { TracenetError } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_CHECK_EXIT, type RegistryCheck, registerRegistryCommands } from '../../src/cli/registry-commands.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { FRENCH_REGISTRY_SQL, frenchMapping } from './french-registry.js';

describe('tracenet registry check on PostgreSQL', () => {
  let db: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(FRENCH_REGISTRY_SQL);
    dataDir = await mkdtemp(join(tmpdir(), 'tracenet-registry-check-'));
    await writeFile(join(dataDir, 'registry-mapping.json'), JSON.stringify(frenchMapping()));
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({
        registry: { adapter: 'postgres', postgres: { url: db.url, mapping: 'registry-mapping.json' } },
      }),
    );
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function check(...args: string[]): Promise<{ stdout: string; exitCode: number; error?: TracenetError }> {
    let stdout = '';
    let exitCode = 0;
    const program = new Command('tracenet').exitOverride();
    registerRegistryCommands(program, {
      stdout: { write: (s: string) => void (stdout += s) },
      setExitCode: (code) => void (exitCode = code),
    });
    try {
      await program.parseAsync(['node', 'tracenet', 'registry', 'check', '--data', dataDir, ...args]);
      return { stdout, exitCode };
    } catch (error) {
      return { stdout, exitCode: REGISTRY_CHECK_EXIT.failed, error: TracenetError.from(error) };
    }
  }

  it('counts valid, incomplete and unreadable rows exactly, with the problems by field and column', async () => {
    const { stdout, exitCode, error } = await check('--json');
    expect(error).toBeUndefined();
    expect(exitCode).toBe(REGISTRY_CHECK_EXIT.rowsNotValid);
    const result = JSON.parse(stdout) as RegistryCheck;
    expect(result).toMatchObject({
      adapter: 'postgres',
      rows: 201,
      valid: 194,
      incomplete: 5,
      unreadable: 2,
      examples: { incomplete: ['pg_7', 'pg_8', 'pg_9', 'pg_23', 'pg_24'], unreadable: ['10', '(no key)'] },
      reports: { valid: 2, invalid: 2 },
    });
    const problems = result.problems.map((p) => [p.rows, p.field, p.rule, p.where, p.examples]);
    expect(problems).toEqual(
      expect.arrayContaining([
        [1, 'record.manufacture.type', 'required', 'column "categorie" (weapons.columns.type)', ['pg_7']],
        [
          1,
          'record.manufacture.country_of_manufacture',
          'country',
          'column "pays" (weapons.columns.countryOfManufacture)',
          ['pg_8'],
        ],
        [1, 'record.events[i].date', 'required', 'column "date_mvt" (events.columns.date)', ['pg_9']],
        [1, 'record.interest.agency', 'required', 'column "service" (reports.columns.agency)', ['pg_23']],
        [1, 'record.interest.category', 'code', 'column "nature" (reports.columns.category)', ['pg_24']],
        [1, 'record.record_id', 'required', 'column "id_arme" (weapons.key)', ['(no key)']],
      ]),
    );
    expect(result.problems).toHaveLength(8); // and the serial of 10, the end user of 9's transfer
  });

  it('prints the counts, problems and examples as text', async () => {
    const { stdout, exitCode } = await check('--top', '3');
    expect(exitCode).toBe(REGISTRY_CHECK_EXIT.rowsNotValid);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^Registry postgres: 201 rows read in \d+\.\d s$/);
    expect(lines.slice(1, 5)).toEqual([
      '  194  valid',
      '    5  incomplete  e.g. pg_7, pg_8, pg_9, pg_23, pg_24',
      '    2  unreadable  e.g. 10, (no key)',
      'Reports of loss or theft: 2 weapons with a valid active report, 2 with an invalid one',
    ]);
    expect(lines[5]).toBe('Problems (rows, record field, rule, registry column):');
    expect(lines.slice(6, 9)).toHaveLength(3);
    expect(lines[9]).toBe('  … and 5 more (--top or --json)');
  });

  it('exits 0 when every row is valid, and counts a mapping the node would refuse to start on', async () => {
    await db.pool.query(`CREATE VIEW armes_ok AS SELECT * FROM armes WHERE id_arme IN (1, 2, 3, 20)`);
    const only = frenchMapping() as { weapons: { table: string } };
    only.weapons.table = 'armes_ok';
    await writeFile(join(dataDir, 'registry-mapping.json'), JSON.stringify(only));
    const ok = await check('--json');
    expect(ok.exitCode).toBe(REGISTRY_CHECK_EXIT.ok);
    expect(JSON.parse(ok.stdout)).toMatchObject({ rows: 4, valid: 4, incomplete: 0, unreadable: 0, problems: [] });

    const empty = frenchMapping() as { weapons: { columns: Record<string, unknown> } };
    empty.weapons.columns.type = 'categorie_vide';
    await writeFile(join(dataDir, 'registry-mapping.json'), JSON.stringify(empty));
    const broken = await check('--json');
    expect(broken.error).toBeUndefined();
    expect(JSON.parse(broken.stdout)).toMatchObject({ rows: 201, valid: 0, incomplete: 199, unreadable: 2 });
  });
});
