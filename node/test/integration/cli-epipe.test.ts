import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, requireBuiltCli } from './processes.js';

/**
 * `tracenet … | head -1` (issue 16): when the reader of standard output goes away, the CLI exits
 * quietly with 0 instead of crashing on an unhandled EPIPE with a stack trace.
 */
const run = promisify(execFile);

/** Runs `tracenet args` with a standard output whose reader is gone before the command writes. */
function withStdoutClosed(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closing our end of the pipe at once: the command's first write gets EPIPE.
    child.stdout.destroy();
    const stderr: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr: stderr.join('') }));
  });
}

describe('tracenet with its standard output closed early', () => {
  let dir = '';
  beforeAll(async () => {
    requireBuiltCli();
    dir = await mkdtemp(join(tmpdir(), 'tracenet-epipe-'));
    await run(process.execPath, [CLI_PATH, 'init', '--id', 'FRA', '--data', join(dir, 'fra')]);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 without a word on stderr when nobody reads its output', async () => {
    for (const args of [
      ['peers', 'export', '--data', join(dir, 'fra')],
      ['init', '--id', 'BEL', '--data', join(dir, 'bel')],
    ]) {
      const result = await withStdoutClosed(args);
      expect(result, `tracenet ${args.join(' ')}`).toEqual({ code: 0, stderr: '' });
    }
  });

  it('`tracenet peers export | head -1` prints the first line, and the CLI exits 0', async () => {
    const { stdout, stderr } = await run('bash', [
      '-c',
      `"${process.execPath}" "${CLI_PATH}" peers export --data "${join(dir, 'fra')}" | head -1; echo "exit \${PIPESTATUS[0]}"`,
    ]);
    expect(stdout.split('\n')).toEqual(['{', 'exit 0', '']);
    expect(stderr).toBe('');
  });
});
