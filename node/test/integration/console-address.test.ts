import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_PATH, type LocalFederation, startLocalFederation } from '../../src/dev/index.js';

// Where the console is, for whoever started the node: the `node ready` log line and `tracenet status`.
describe("the console's address", () => {
  let federation: LocalFederation | undefined;
  afterAll(async () => {
    await federation?.stop();
  });

  it('is in the node ready line, in tracenet status and in its --json', async () => {
    federation = await startLocalFederation({ participants: ['FRA'], console: true, logLevel: 'info' });
    const fra = federation.node('FRA');
    expect(fra.consoleUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ready = fra.output
      .join('')
      .split('\n')
      .filter((line) => line.includes('"node ready"'))
      .map((line) => JSON.parse(line) as { console?: string });
    expect(ready.map((r) => r.console)).toEqual([fra.consoleUrl]);

    const status = async (...extra: string[]) =>
      (await promisify(execFile)(process.execPath, [CLI_PATH, 'status', '--data', fra.dataDir, ...extra])).stdout;
    expect(await status()).toContain(`officers' console ${fra.consoleUrl}\n`);
    expect(JSON.parse(await status('--json'))).toMatchObject({ participantId: 'FRA', consoleUrl: fra.consoleUrl });
  });

  it('is absent when the console is off', async () => {
    await federation?.stop();
    federation = await startLocalFederation({ participants: ['FRA'] });
    const fra = federation.node('FRA');
    const text = (await promisify(execFile)(process.execPath, [CLI_PATH, 'status', '--data', fra.dataDir])).stdout;
    expect(text).not.toContain('console');
    const json = (await promisify(execFile)(process.execPath, [CLI_PATH, 'status', '--data', fra.dataDir, '--json']))
      .stdout;
    expect(JSON.parse(json).consoleUrl).toBe('');
  });
});
