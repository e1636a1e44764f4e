import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The SDK as an integrator installs it (issues 15 and 16): `@tracenet/proto`, `@tracenet/sdk` and
 * `@tracenet/node` packed with `npm pack`, installed from the tarballs into projects outside the
 * workspace, offline from the npm cache (`--prefer-offline`):
 *
 * - `client`: a case system, `@tracenet/sdk` without `@tracenet/node`. The client must load and
 *   work with only the proto package and grpc-js; none of the node's runtime may come with it.
 * - `kit`: the same, then `npm install -D` the node's tarball, as docs/integration.md section 3
 *   tells: the test kit and the adapter kit. There the integrator writes a registry adapter of
 *   their own (a JSON file, plain JavaScript), runs the exported contract suite against it with
 *   `node --test`, and runs an SDK program against real nodes started by the test kit.
 *
 * The installed size and package count of both are printed (the issue measured 111 packages and
 * 46 MB with the node).
 */
const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TARBALLS = ['tracenet-node-0.1.0.tgz', 'tracenet-proto-0.1.0.tgz', 'tracenet-sdk-0.1.0.tgz'];

let dir = '';
const tarball = (name: string) => join(dir, `tracenet-${name}-0.1.0.tgz`);

/** `npm install` in `cwd` from local tarballs, offline when the npm cache has the rest. */
async function npmInstall(cwd: string, args: readonly string[]): Promise<void> {
  await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...args], {
    cwd,
    timeout: 240_000,
  });
}

/** A new empty project `name` under the test directory. */
async function project(name: string): Promise<string> {
  const app = join(dir, name);
  await mkdir(app);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: `integrator-${name}`, private: true, type: 'module' }),
  );
  return app;
}

/** Bytes of every file under `path` (what `du --apparent-size` counts). */
async function bytesUnder(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(full);
    else if (entry.isFile()) total += (await stat(full)).size;
  }
  return total;
}

/** The installed footprint of a project: packages npm installed (its hidden lockfile) and bytes. */
async function footprint(app: string): Promise<{ packages: number; megabytes: number }> {
  const lock = JSON.parse(await readFile(join(app, 'node_modules', '.package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  const bytes = await bytesUnder(join(app, 'node_modules'));
  return {
    packages: Object.keys(lock.packages).filter((p) => p.startsWith('node_modules/')).length,
    megabytes: Math.round(bytes / 1e5) / 10,
  };
}

const sizes: Record<'client' | 'kit', { packages: number; megabytes: number }> = {
  client: { packages: 0, megabytes: 0 },
  kit: { packages: 0, megabytes: 0 },
};

beforeAll(async () => {
  for (const built of [
    'proto/dist/index.js',
    'sdk/dist/index.js',
    'node/dist/cli/main.js',
    'docs/examples/integration/dist/test-kit-trace.js',
  ]) {
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npx tsc -b\` first`);
  }
  dir = await mkdtemp(join(tmpdir(), 'tracenet-sdk-package-'));
  await run(
    NPM,
    [
      'pack',
      '--workspace',
      '@tracenet/proto',
      '--workspace',
      '@tracenet/sdk',
      '--workspace',
      '@tracenet/node',
      '--pack-destination',
      dir,
      '--silent',
    ],
    { cwd: ROOT },
  );
  expect((await readdir(dir)).filter((name) => name.endsWith('.tgz')).sort()).toEqual(TARBALLS);
  const client = await project('client');
  await npmInstall(client, [tarball('proto'), tarball('sdk')]);
  sizes.client = await footprint(client);
  // The integrator's order (docs/integration.md section 3): the SDK, then the node as a devDependency.
  const kit = await project('kit');
  await npmInstall(kit, [tarball('proto'), tarball('sdk')]);
  await npmInstall(kit, ['--save-dev', tarball('node')]);
  sizes.kit = await footprint(kit);
  console.info(
    `installed from packed tarballs: @tracenet/sdk without the node ${sizes.client.packages} packages, ${sizes.client.megabytes} MB; with @tracenet/node ${sizes.kit.packages} packages, ${sizes.kit.megabytes} MB`,
  );
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs an ES module in project `app`; its stdout, parsed as JSON. */
async function inApp(app: 'client' | 'kit', source: string): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', source], {
    cwd: join(dir, app),
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
}

/** The package.json inside a tarball. */
async function packedManifest(name: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('tar', ['-xzOf', tarball(name), 'package/package.json']);
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('the packed tarballs', () => {
  it('the SDK depends on the node only as an optional peer; the node needs nothing outside its tarballs', async () => {
    const sdk = await packedManifest('sdk');
    expect(sdk.dependencies).toEqual({ '@grpc/grpc-js': expect.any(String), '@tracenet/proto': '^0.1.0' });
    expect(sdk.peerDependencies).toEqual({ '@tracenet/node': '^0.1.0' });
    expect(sdk.peerDependenciesMeta).toEqual({ '@tracenet/node': { optional: true } });
    const node = await packedManifest('node');
    const own = Object.keys(node.dependencies as object).filter((d) => d.startsWith('@tracenet/'));
    expect(own).toEqual(['@tracenet/proto']);
    expect(node.bin).toEqual({ tracenet: './dist/cli/main.js' });
  });

  it("the node's tarball holds the built CLI and modules, and no sources, tests or build caches", async () => {
    const { stdout } = await run('tar', ['-tzf', tarball('node')], { maxBuffer: 16 * 1024 * 1024 });
    const files = stdout.split('\n').filter(Boolean);
    for (const needed of ['package/dist/cli/main.js', 'package/dist/index.js', 'package/dist/dev/index.js'])
      expect(files).toContain(needed);
    expect(files.filter((f) => /\.tsbuildinfo$|^package\/(src|test)\/|\.test\.js$/.test(f))).toEqual([]);
  });
});

describe('@tracenet/sdk installed without @tracenet/node', () => {
  it('brings neither the node nor its runtime dependencies', () => {
    const modules = join(dir, 'client', 'node_modules');
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
    expect(sizes.client.packages).toBeLessThan(sizes.kit.packages);
    expect(sizes.client.megabytes).toBeLessThan(sizes.kit.megabytes);
  });

  it('loads the client, which fails a call to a closed port with a typed error', async () => {
    const result = await inApp(
      'client',
      `
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
    `,
    );
    expect(result).toEqual({ typed: true, code: 'DEADLINE_EXCEEDED', known: true });
  });

  it('says the test kit needs @tracenet/node', async () => {
    const result = await inApp(
      'client',
      `
      try {
        await import('@tracenet/sdk/testing');
        console.log(JSON.stringify({ loaded: true }));
      } catch (error) {
        console.log(JSON.stringify({ code: error.code, names: String(error.message).includes('@tracenet/node') }));
      }
    `,
    );
    expect(result).toEqual({ code: 'ERR_MODULE_NOT_FOUND', names: true });
  });
});

/**
 * The integrator's own registry: a JSON file of `{ id, record }` rows in the record format of
 * docs/records.md, read at open — plain JavaScript, as an integrator without TypeScript writes it.
 * `JSON_REGISTRY_BREAK=order` makes it give events newest first, to show that the contract fails.
 */
const JSON_ADAPTER = `
import { readFile } from 'node:fs/promises';
import { normaliseSerial, recordFromJson } from '@tracenet/sdk/registry';

export class JsonFileRegistry {
  kind = 'json-file';
  idPrefix = 'json_';
  #records = [];
  constructor(file) { this.file = file; }
  async open() {
    const rows = JSON.parse(await readFile(this.file, 'utf8'));
    this.#records = rows.map((row, i) => {
      const { record, violations } = recordFromJson(row.record, 'rows[' + i + ']');
      if (violations.length > 0) throw new Error(violations[0].field + ': ' + violations[0].message);
      const events = process.env.JSON_REGISTRY_BREAK === 'order' ? [...record.events].reverse() : record.events;
      return { ...record, events, recordId: 'json_' + row.id };
    });
  }
  async close() {}
  async check() {}
  async findBySerial(serial, limit) {
    const serials = (r) => [r.manufacture?.serialNumber ?? '', r.controlComponent?.serialNumber ?? ''].map(normaliseSerial);
    return this.#records.filter((r) => serials(r).some((s) => s !== '' && serial.test(s))).slice(0, limit);
  }
  async get(recordId) {
    return this.#records.find((r) => r.recordId === recordId);
  }
}
`;

/** The integrator's contract test, for node's own test runner. */
const CONTRACT_TEST = `
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordToJson } from '@tracenet/sdk/registry';
import { registryAdapterContract } from '@tracenet/sdk/testing';
import { JsonFileRegistry } from './json-registry.mjs';

describe('my JSON registry keeps the Tracenet adapter contract', () => {
  const contract = registryAdapterContract({
    async createAdapter(records) {
      const folder = await mkdtemp(join(tmpdir(), 'my-registry-'));
      const file = join(folder, 'registry.json');
      await writeFile(file, JSON.stringify(records.map((record, i) => ({ id: String(i + 1), record: recordToJson(record) }))));
      return { adapter: new JsonFileRegistry(file), cleanup: () => rm(folder, { recursive: true, force: true }) };
    },
  });
  before(() => contract.setup());
  after(() => contract.teardown());
  for (const check of contract.checks) it(check.name, () => check.run());
});
`;

/** The example SDK program of docs/integration.md section 3, as `npm run build` compiled it. */
const SDK_PROGRAM = join(ROOT, 'docs', 'examples', 'integration', 'dist', 'test-kit-trace.js');

describe('@tracenet/sdk with @tracenet/node installed as a devDependency', () => {
  beforeAll(async () => {
    await writeFile(join(dir, 'kit', 'json-registry.mjs'), JSON_ADAPTER);
    await writeFile(join(dir, 'kit', 'contract.test.mjs'), CONTRACT_TEST);
    // The compiled program is an ES module: in the project, it resolves @tracenet/* there.
    await copyFile(SDK_PROGRAM, join(dir, 'kit', 'test-kit-trace.js'));
  });

  it('installs from the three tarballs with the node as a devDependency, and its CLI runs', async () => {
    const manifest = JSON.parse(await readFile(join(dir, 'kit', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(manifest.devDependencies as object)).toEqual(['@tracenet/node']);
    const { stdout } = await run(join(dir, 'kit', 'node_modules', '.bin', 'tracenet'), ['--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("the contract suite passes on the integrator's own adapter, run by node --test", async () => {
    const { stdout } = await run(process.execPath, ['--test', '--test-reporter=tap', 'contract.test.mjs'], {
      cwd: join(dir, 'kit'),
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^# pass 6$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  });

  it('and fails it when the adapter breaks a rule (events newest first)', async () => {
    const failed = await run(process.execPath, ['--test', '--test-reporter=tap', 'contract.test.mjs'], {
      cwd: join(dir, 'kit'),
      env: { ...process.env, JSON_REGISTRY_BREAK: 'order' },
      timeout: 60_000,
    }).then(
      () => undefined,
      (error: { code: number; stdout: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toMatch(/^# pass 5$/m);
    expect(failed?.stdout).toMatch(/^\s*not ok \d+ - events order/m);
  });

  it('an SDK program starts nodes with the test kit, sends a trace and lists cases with the request builders', async () => {
    const { stdout } = await run(process.execPath, ['test-kit-trace.js'], { cwd: join(dir, 'kit'), timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as unknown;
    expect(result).toEqual({
      listed: 1,
      state: 'CASE_STATE_ANSWERED',
      outcome: 'TRACE_OUTCOME_REFERRED',
      referral: 'KEN',
    });
  });
});
