import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The SDK as an integrator installs it (issue 15): `@tracenet/proto` and `@tracenet/sdk` packed
 * with `npm pack`, installed into an empty project WITHOUT `@tracenet/node`. The client must load
 * and work with only the proto package and grpc-js; none of the node's runtime (pg, level,
 * libsodium, prom-client) may come with it. The node is an optional peer, needed by
 * `@tracenet/sdk/testing` and `@tracenet/sdk/registry` only.
 */
const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let dir = '';

beforeAll(async () => {
  for (const built of ['proto/dist/index.js', 'sdk/dist/index.js']) {
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npx tsc -b\` first`);
  }
  dir = await mkdtemp(join(tmpdir(), 'tracenet-sdk-package-'));
  await run(
    NPM,
    ['pack', '--workspace', '@tracenet/proto', '--workspace', '@tracenet/sdk', '--pack-destination', dir, '--silent'],
    { cwd: ROOT },
  );
  const tarballs = (await readdir(dir)).filter((name) => name.endsWith('.tgz'));
  expect(tarballs.sort()).toEqual(['tracenet-proto-0.1.0.tgz', 'tracenet-sdk-0.1.0.tgz']);
  const app = join(dir, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'integrator-app', private: true, type: 'module' }));
  // From the local cache when it has the packages (as it does after `npm ci` here), else the registry.
  await run(
    NPM,
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      ...tarballs.map((t) => join(dir, t)),
    ],
    { cwd: app, timeout: 240_000 },
  );
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs an ES module in the integrator's project; its stdout, parsed as JSON. */
async function inApp(source: string): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', source], {
    cwd: join(dir, 'app'),
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

describe('@tracenet/sdk installed without @tracenet/node', () => {
  it('brings neither the node nor its runtime dependencies', () => {
    const modules = join(dir, 'app', 'node_modules');
    expect(existsSync(join(modules, '@tracenet', 'sdk', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(modules, '@grpc', 'grpc-js'))).toBe(true);
    for (const absent of [
      '@tracenet/node',
      'pg',
      'level',
      'classic-level',
      'libsodium-wrappers',
      'prom-client',
      'pino',
    ]) {
      expect(existsSync(join(modules, absent)), `${absent} was installed`).toBe(false);
    }
  });

  it('loads the client, which fails a call to a closed port with a typed error', async () => {
    const result = await inApp(`
      import { connect, ErrorCode, TracenetError, errorCodeName } from '@tracenet/sdk';
      const client = connect({ address: '127.0.0.1:1', token: 'secret', retries: { maxRetries: 0 } });
      try {
        await client.authority.getNodeInfo({}, { deadlineMs: 300 });
        console.log(JSON.stringify({ answered: true }));
      } catch (error) {
        console.log(JSON.stringify({ typed: error instanceof TracenetError, code: errorCodeName(error.code), known: Object.keys(ErrorCode).length > 10 }));
      } finally {
        client.close();
      }
    `);
    expect(result).toEqual({ typed: true, code: 'DEADLINE_EXCEEDED', known: true });
  });

  it('says the test kit needs @tracenet/node', async () => {
    const result = await inApp(`
      try {
        await import('@tracenet/sdk/testing');
        console.log(JSON.stringify({ loaded: true }));
      } catch (error) {
        console.log(JSON.stringify({ code: error.code, names: String(error.message).includes('@tracenet/node') }));
      }
    `);
    expect(result).toEqual({ code: 'ERR_MODULE_NOT_FOUND', names: true });
  });
});
