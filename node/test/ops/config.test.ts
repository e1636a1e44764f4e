import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { envName, loadConfig } from '../../src/config/config.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('metrics.listen configuration', () => {
  it('defaults to loopback port 9464, and "" disables it', async () => {
    expect((await loadConfig({})).metrics.listen).toBe('127.0.0.1:9464');
    expect(envName('metrics.listen')).toBe('TRACENET_METRICS_LISTEN');
    expect((await loadConfig({ env: { TRACENET_METRICS_LISTEN: '' } })).metrics.listen).toBe('');
    expect((await loadConfig({ env: { TRACENET_METRICS_LISTEN: '0.0.0.0:9100' } })).metrics.listen).toBe(
      '0.0.0.0:9100',
    );
  });

  it('refuses a bad value from the environment, naming the key and the variable', async () => {
    await expect(loadConfig({ env: { TRACENET_METRICS_LISTEN: 'localhost' } })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'metrics.listen',
      message: expect.stringMatching(/metrics\.listen \(from TRACENET_METRICS_LISTEN\) must be "host:port"/),
    });
  });

  it('refuses a bad value from the file, naming the key and the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-config-'));
    dirs.push(dir);
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ metrics: { listen: 9464 } }));
    await expect(loadConfig({ file })).rejects.toMatchObject({
      field: 'metrics.listen',
      message: expect.stringContaining(`metrics.listen (from ${file})`),
    });
    await writeFile(file, JSON.stringify({ metrics: { listen: '127.0.0.1:70000' } }));
    await expect(loadConfig({ file })).rejects.toMatchObject({ field: 'metrics.listen' });
  });
});
