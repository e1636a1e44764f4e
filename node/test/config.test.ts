import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { DEFAULT_CONFIG, envName, loadConfig } from '../src/config/config.js';
import { rejectionOf } from './support/parties.js';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracenet-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(content: unknown): Promise<string> {
  counter += 1;
  const file = join(dir, `config-${counter}.json`);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** Expects loadConfig to refuse with INVALID_FIELD naming `key` and `source`. */
async function expectRefused(
  options: Parameters<typeof loadConfig>[0],
  key: string,
  source: string,
): Promise<TracenetError> {
  const thrown = await rejectionOf(loadConfig(options));
  expect(thrown).toBeInstanceOf(TracenetError);
  const error = thrown as TracenetError;
  expect(error.code).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
  expect(error.field).toBe(key);
  expect(error.message).toContain(`configuration key ${key} `);
  expect(error.message).toContain(`(from ${source})`);
  return error;
}

describe('loadConfig', () => {
  it('gives the defaults without file, environment or flags, and a missing file is no error', async () => {
    expect(await loadConfig({})).toEqual(DEFAULT_CONFIG);
    expect(await loadConfig({ file: join(dir, 'absent.json'), env: {} })).toEqual(DEFAULT_CONFIG);
  });

  it('applies file, then environment, then flags', async () => {
    const file = await configFile({
      outbox: { maxBackoffMs: 1000, initialBackoffMs: 100 },
      log: { level: 'debug' },
      federation: { advertise: ['node.example:7443'] },
    });
    const config = await loadConfig({
      file,
      env: {
        TRACENET_OUTBOX_MAX_BACKOFF_MS: '2000',
        TRACENET_ENVELOPE_REPLAY_WINDOW_MS: '60000',
        TRACENET_FEDERATION_ADVERTISE: 'a.example:1, b.example:2',
      },
      overrides: { 'outbox.maxBackoffMs': 3000, 'log.level': undefined },
    });
    expect(config.outbox).toEqual({ ...DEFAULT_CONFIG.outbox, maxBackoffMs: 3000, initialBackoffMs: 100 });
    expect(config.log.level).toBe('debug');
    expect(config.envelope.replayWindowMs).toBe(60_000);
    expect(config.federation.advertise).toEqual(['a.example:1', 'b.example:2']);
    // The defaults were not changed by loading.
    expect(DEFAULT_CONFIG.outbox.maxBackoffMs).toBe(5000);
  });

  it('refuses an unknown key in the file, naming the key and the file', async () => {
    const file = await configFile({ outbox: { maxBackofMs: 1000 } });
    await expectRefused({ file }, 'outbox.maxBackofMs', file);
    const top = await configFile({ outboxes: 1 });
    await expectRefused({ file: top }, 'outboxes', top);
  });

  it('refuses a bad value in the file, naming the key and the file', async () => {
    const file = await configFile({ envelope: { replayWindowMs: 'five minutes' } });
    const error = await expectRefused({ file }, 'envelope.replayWindowMs', file);
    expect(error.message).toContain('must be an integer');
    await expectRefused(
      { file: await configFile({ federation: { listen: 'localhost' } }) },
      'federation.listen',
      join(dir, `config-${counter}.json`),
    );
    await expectRefused(
      { file: await configFile({ federation: { listen: '127.0.0.1:65536' } }) },
      'federation.listen',
      join(dir, `config-${counter}.json`),
    );
    await expectRefused(
      { file: await configFile({ log: { level: 'loud' } }) },
      'log.level',
      join(dir, `config-${counter}.json`),
    );
    await expectRefused(
      { file: await configFile({ audit: { checkpointEvery: 1.5 } }) },
      'audit.checkpointEvery',
      join(dir, `config-${counter}.json`),
    );
  });

  it('refuses a bad value in an environment variable, naming the key and the variable', async () => {
    const error = await expectRefused(
      { env: { TRACENET_OUTBOX_MAX_BACKOFF_MS: 'soon' } },
      'outbox.maxBackoffMs',
      'TRACENET_OUTBOX_MAX_BACKOFF_MS',
    );
    expect(error.message).toContain('must be an integer from 100 to 3600000');
    await expectRefused(
      { env: { TRACENET_ENVELOPE_MAX_BYTES: '' } },
      'envelope.maxBytes',
      'TRACENET_ENVELOPE_MAX_BYTES',
    );
    await expectRefused(
      { env: { TRACENET_OUTBOX_MAX_IN_FLIGHT_PER_PEER: '0' } },
      'outbox.maxInFlightPerPeer',
      'TRACENET_OUTBOX_MAX_IN_FLIGHT_PER_PEER',
    );
    await expectRefused(
      { env: { TRACENET_FEDERATION_ADVERTISE: 'a.example:1,nonsense' } },
      'federation.advertise',
      'TRACENET_FEDERATION_ADVERTISE',
    );
  });

  it('refuses an unknown key or a bad value given as a flag', async () => {
    await expectRefused({ overrides: { 'outbox.retries': 3 } }, 'outbox.retries', 'command line');
    await expectRefused({ overrides: { 'authority.listen': 7444 } }, 'authority.listen', 'command line');
  });

  it('refuses names of built-in object properties as unknown keys', async () => {
    for (const key of ['valueOf', 'toString', 'constructor', 'hasOwnProperty']) {
      await expectRefused({ file: await configFile(`{"${key}": 1}`) }, key, join(dir, `config-${counter}.json`));
      await expectRefused({ overrides: { [key]: 1 } }, key, 'command line');
    }
    await expectRefused(
      { file: await configFile('{"__proto__": {"polluted": 1}}') },
      '__proto__.polluted',
      join(dir, `config-${counter}.json`),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a file that is not JSON, naming the file', async () => {
    const file = await configFile('{ "outbox": ');
    const thrown = await rejectionOf(loadConfig({ file }));
    expect(thrown).toBeInstanceOf(TracenetError);
    expect((thrown as TracenetError).code).toBe(ErrorCode.ERROR_CODE_INVALID_FIELD);
    expect((thrown as TracenetError).field).toBe(file);
  });

  it('names environment variables after the key', () => {
    expect(envName('outbox.maxBackoffMs')).toBe('TRACENET_OUTBOX_MAX_BACKOFF_MS');
    expect(envName('federation.listen')).toBe('TRACENET_FEDERATION_LISTEN');
    expect(envName('outbox.maxInFlightPerPeer')).toBe('TRACENET_OUTBOX_MAX_IN_FLIGHT_PER_PEER');
  });
});
