import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onlyOnce } from '../../../scripts/chromium.mjs';

const SCRIPT = new URL('../../../scripts/chromium.mjs', import.meta.url).href;

/** The install lock of scripts/chromium.mjs: test processes start together, one installs Chromium. */
describe('the Chromium install lock', () => {
  let folder = '';
  let lock = '';
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'tracenet-chromium-lock-'));
    lock = join(folder, 'install.lock');
  });
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('lets one of two processes do the work; the other waits and takes its result', async () => {
    const done = join(folder, 'done');
    const runs = join(folder, 'runs');
    // Each process: the work appends a line to `runs`, takes a second, then writes `done`.
    const child = () =>
      new Promise<string>((resolve, reject) => {
        const code = `
          import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
          import { onlyOnce } from ${JSON.stringify(SCRIPT)};
          const ready = () => (existsSync(${JSON.stringify(done)}) ? 'waited' : undefined);
          process.stdout.write(onlyOnce(${JSON.stringify(lock)}, ready, () => {
            appendFileSync(${JSON.stringify(runs)}, 'run\\n');
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
            writeFileSync(${JSON.stringify(done)}, '');
            return 'worked';
          }));`;
        const p = spawn(process.execPath, ['--input-type=module', '-e', code]);
        let out = '';
        p.stdout.on('data', (c: Buffer) => (out += c));
        p.stderr.on('data', (c: Buffer) => (out += c));
        p.on('error', reject);
        p.on('close', () => resolve(out));
      });
    const results = await Promise.all([child(), child()]);
    expect(results.sort()).toEqual(['waited', 'worked']);
    expect(readFileSync(runs, 'utf8')).toBe('run\n');
    expect(existsSync(lock)).toBe(false);
  });

  it('breaks at once a lock whose process has ended (killed while installing)', () => {
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), ended);
    const started = Date.now();
    expect(
      onlyOnce(
        lock,
        () => undefined,
        () => 'worked',
        60_000,
      ),
    ).toBe('worked');
    expect(Date.now() - started).toBeLessThan(500);
    expect(existsSync(lock)).toBe(false);
  });

  it('waits for a lock whose process runs, and for a fresh one naming none; breaks an old one naming none', () => {
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.ppid));
    expect(() =>
      onlyOnce(
        lock,
        () => undefined,
        () => 'worked',
        600,
      ),
    ).toThrow(/waited .* for another process/);
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.ppid));
    rmSync(join(lock, 'pid'));
    expect(() =>
      onlyOnce(
        lock,
        () => undefined,
        () => 'worked',
        600,
      ),
    ).toThrow(/waited/);
    const old = (Date.now() - 16 * 60_000) / 1000;
    utimesSync(lock, old, old);
    expect(
      onlyOnce(
        lock,
        () => undefined,
        () => 'worked',
        600,
      ),
    ).toBe('worked');
    expect(existsSync(lock)).toBe(false);
  });
});
