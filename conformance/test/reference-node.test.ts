import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_CASES,
  checkWithout,
  connectTarget,
  jsonReport,
  junitReport,
  readExpectedFailures,
  runSuite,
  spawnTarget,
  textSummary,
  type SpawnedTarget,
  type Target,
} from '../src/index.js';
import { REFERENCE_COMMAND, requireBuilt } from './support.js';

const EXPECTED_FAILURES = fileURLToPath(new URL('../expected-failures.json', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

/**
 * CI: the whole suite against a real reference node started as its own process, exactly as
 * `tracenet-conformance --spawn` does it, with zero unexpected results — every case passes, or
 * fails as conformance/expected-failures.json says (with its reason). The same node then serves
 * the checks of the runner's own rules: skipped features, unexpected passes, reports, exit codes.
 */
describe('the reference node conforms', () => {
  let spawned: SpawnedTarget;
  let target: Target;

  beforeAll(async () => {
    requireBuilt();
    spawned = await spawnTarget(REFERENCE_COMMAND, { readyTimeoutMs: 30_000 });
    target = await connectTarget(spawned.address);
  });

  afterAll(async () => {
    target?.close();
    await spawned?.stop();
  });

  it('runs every case with zero unexpected results', async () => {
    const expectedFailures = await readExpectedFailures(EXPECTED_FAILURES);
    const result = await runSuite(target, { expectedFailures, spawn: { command: REFERENCE_COMMAND } });
    const summary = textSummary(result);
    expect(result.results.filter((r) => r.id !== 'suite.stray-messages').map((r) => r.id)).toEqual(
      ALL_CASES.map((c) => c.id),
    );
    expect(result.counts.skipped, summary).toBe(0);
    expect(result.unexpected, summary).toBe(0);
    // Every listed expected failure really fails (an unexpected pass would count above).
    expect(result.counts.xfail).toBe(expectedFailures.length);
  }, 300_000);

  it('has unique case ids, each citing a protocol section', () => {
    expect(new Set(ALL_CASES.map((c) => c.id)).size).toBe(ALL_CASES.length);
    for (const c of ALL_CASES) {
      expect(c.id).toMatch(/^[a-z-]+\.[a-z0-9-]+$/);
      expect(c.section).toMatch(/^\d+(\.\d+)?$/);
    }
  });

  it('skips the cases of a feature the node lacks and reports an expected failure that passes', async () => {
    const result = await runSuite(target, {
      only: ['envelope.valid-notice', 'lookups.hit'],
      without: ['lookups'],
      expectedFailures: [{ id: 'envelope.valid-notice', reason: 'pretend it is broken' }],
    });
    expect(result.results.map((r) => [r.id, r.status])).toEqual([
      ['envelope.valid-notice', 'xpass'],
      ['lookups.hit', 'skipped'],
    ]);
    expect(result.unexpected).toBe(1);
    expect(textSummary(result)).toContain('remove them from the list');
    expect(junitReport(result)).toContain('<skipped message=');
    expect(JSON.parse(jsonReport(result)).counts).toMatchObject({ xpass: 1, skipped: 1 });
    expect(() => checkWithout(['envelope'])).toThrow(/core feature/);
  });

  it('the CLI takes a target by address and token, writes --json and --junit, and exits 1 on an unexpected result', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-conformance-cli-'));
    try {
      const args = [
        CLI,
        '--authority',
        spawned.address.authority,
        '--token',
        spawned.address.token,
        '--only',
        'envelope.valid-notice',
        '-q',
        '--json',
        join(dir, 'r.json'),
        '--junit',
        join(dir, 'r.xml'),
      ];
      const ok = await run(process.execPath, args);
      expect(ok.stdout).toContain('CONFORMS');
      expect(JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')).counts.passed).toBe(1);
      expect(await readFile(join(dir, 'r.xml'), 'utf8')).toContain('name="envelope.valid-notice (protocol 4.10)"');
      await writeFile(
        join(dir, 'xf.json'),
        JSON.stringify({ expectedFailures: [{ id: 'envelope.valid-notice', reason: 'pretend' }] }),
      );
      const failed = await run(process.execPath, [...args, '--expected-failures', join(dir, 'xf.json')]).catch(
        (error: { code: number; stdout: string }) => error,
      );
      expect((failed as { code: number }).code).toBe(1);
      expect((failed as { stdout: string }).stdout).toContain('DOES NOT CONFORM');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
