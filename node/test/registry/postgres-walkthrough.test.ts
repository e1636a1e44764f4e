import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseRole, CaseState, TraceOutcome, WeaponEventType as E } from '@tracenet/proto';
import { CLI_PATH, type LocalFederation, startLocalFederation } from '../../src/dev/local-federation.js';
import { credentials, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { databaseUrl, testServerUrl } from '../support/postgres.js';

/**
 * docs/integration.md section 7, "A registry that looks nothing like Tracenet's", run as written:
 * every ```sh block of the section, by its `# n ·` title, through bash, with `tracenet` on PATH
 * and only these replaced — the data directories by temporary ones, the database URL by a fresh
 * test database's (behind a relay the test can cut, for the outage), BEL's Authority address and
 * FRA's metrics port by free ports. The nodes are started by the test kit (section 2, step 1 is
 * not repeated there) with the environment the section's exports give. The SDK program of step 6
 * runs in a project outside the workspace that installed the packed `@tracenet/proto` and
 * `@tracenet/sdk`.
 */
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GUIDE = join(ROOT, 'docs', 'integration.md');
const EXAMPLE = join(ROOT, 'docs', 'examples', 'registry-fr');
const SEND_TRACE = join(ROOT, 'docs', 'examples', 'integration', 'dist', 'send-trace.js');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The doc's placeholders: what the walkthrough writes, and what the test puts in its place. */
const DOC = {
  fra: '/srv/tracenet/fra',
  bel: '/srv/tracenet/bel',
  url: 'postgres://tracenet@registry-db.fra.example:5432/registre',
  belAuthority: '127.0.0.1:7444',
  fraMetrics: '127.0.0.1:9464',
} as const;

/** The section's text, its ```sh blocks by the number of their `# n ·` title, and its ```json blocks. */
function walkthrough(): { text: string; sh: Map<string, string>; json: unknown[] } {
  const doc = readFileSync(GUIDE, 'utf8');
  const start = doc.indexOf("\n## 7 A registry that looks nothing like Tracenet's");
  if (start < 0)
    throw new Error('docs/integration.md has no section 7 "A registry that looks nothing like Tracenet\'s"');
  const next = doc.indexOf('\n## ', start + 1);
  const text = doc.slice(start, next < 0 ? undefined : next);
  const sh = new Map<string, string>();
  const json: unknown[] = [];
  for (const [, lang, body] of text.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)) {
    if (lang === 'json') json.push(JSON.parse(body ?? ''));
    if (lang !== 'sh') continue;
    const title = /^# (\d+[a-z]?) · /.exec(body ?? '');
    if (!title) throw new Error(`a sh block of section 7 has no "# n · title" first line:\n${body}`);
    sh.set(title[1] ?? '', body ?? '');
  }
  return { text, sh, json };
}

/** Whether `part` is contained in `whole`: its keys with the same values, recursively; arrays equal. */
function containedIn(part: unknown, whole: unknown): boolean {
  if (typeof part !== 'object' || part === null || Array.isArray(part))
    return JSON.stringify(part) === JSON.stringify(whole);
  if (typeof whole !== 'object' || whole === null) return false;
  return Object.entries(part).every(([key, value]) => containedIn(value, (whole as Record<string, unknown>)[key]));
}

/** Finds `part` anywhere in `whole` (at the top or under some key). */
function foundIn(part: unknown, whole: unknown): boolean {
  if (containedIn(part, whole)) return true;
  return typeof whole === 'object' && whole !== null && Object.values(whole).some((v) => foundIn(part, v));
}

/** A TCP relay in front of the real server: `down()` is the database going away. */
class Relay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.#sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async down(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server = undefined;
  }
}

/**
 * `grpc.health.v1.Health/Check` of one service on a node's Authority port; 1 SERVING, 2 NOT_SERVING
 * (messages encoded by hand).
 */
function healthOf(address: string, token: string, service: string): Promise<number> {
  const client = new (makeGenericClientConstructor({}, 'Health'))(address, credentials.createInsecure());
  const name = Buffer.from(service);
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise<number>((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      () => Buffer.concat([Buffer.from([0x0a, name.length]), name]),
      (bytes: Buffer) => bytes,
      {},
      metadata,
      { deadline: Date.now() + 5_000 },
      (error: ServiceError | null, response?: Buffer) => {
        if (error) reject(error);
        else resolve(response && response.length >= 2 && response[0] === 0x08 ? (response[1] ?? 0) : 0);
      },
    );
  }).finally(() => client.close());
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('docs/integration.md section 7: the French registry, command by command', () => {
  const { text, sh, json } = walkthrough();
  const mapping = JSON.parse(readFileSync(join(EXAMPLE, 'registry-mapping.json'), 'utf8')) as unknown;
  let base = '';
  let dbName = '';
  let relay: Relay;
  let federation: LocalFederation | undefined;
  /** The environment the section's exports gave (`REGISTRE_URL`, `TRACENET_REGISTRY_*`). */
  let exported: Record<string, string> = {};
  const replaced: Array<[string, string]> = [];
  const ports = { belAuthority: 0, fraMetrics: 0 };

  /** Runs section 7's block `n` through bash, as written but for the placeholders; its output. */
  async function block(
    n: number | string,
    options: { cwd?: string; allowFailure?: boolean } = {},
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    let script = sh.get(String(n));
    if (script === undefined) throw new Error(`section 7 has no block "# ${n} ·"`);
    for (const [from, to] of replaced) script = script.split(from).join(to);
    try {
      const { stdout, stderr } = await run('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: options.cwd ?? ROOT,
        env: { ...process.env, ...exported, PATH: `${join(base, 'bin')}:${process.env.PATH ?? ''}` },
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      return { stdout, stderr, code: 0 };
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; code?: number };
      if (!options.allowFailure)
        throw new Error(`block ${n} failed (${failed.code}):\n${script}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
      return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', code: failed.code ?? 1 };
    }
  }

  /** What `export NAME=value` lines of block `n` set, as bash evaluates them. */
  async function exportsOf(n: number): Promise<Record<string, string>> {
    const names = [...(sh.get(String(n)) ?? '').matchAll(/^export (\w+)=/gm)].map((m) => m[1] ?? '');
    let script = (sh.get(String(n)) ?? '')
      .split('\n')
      .filter((line) => line.startsWith('export '))
      .join('\n');
    for (const [from, to] of replaced) script = script.split(from).join(to);
    const printed = await run(
      'bash',
      ['-euo', 'pipefail', '-c', `${script}\n${names.map((name) => `printf '%s\\0' "$${name}"`).join('\n')}`],
      { env: { ...process.env, ...exported } },
    );
    const values = printed.stdout.split('\0');
    return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
  }

  beforeAll(async () => {
    for (const built of [CLI_PATH, SEND_TRACE, join(ROOT, 'sdk', 'dist', 'index.js')])
      if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build`);
    base = await mkdtemp(join(tmpdir(), 'tracenet-walkthrough-'));
    // `tracenet` on PATH, as an installed node puts it.
    await mkdir(join(base, 'bin'));
    await writeFile(join(base, 'bin', 'tracenet'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
    await chmod(join(base, 'bin', 'tracenet'), 0o755);
    // An empty database, reached through the relay.
    dbName = `tracenet_walkthrough_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: testServerUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${dbName}"`);
    await admin.end();
    const server = new URL(testServerUrl());
    relay = new Relay({ host: server.hostname, port: Number(server.port) });
    await relay.up();
    const viaRelay = new URL(databaseUrl(testServerUrl(), dbName));
    viaRelay.port = String(relay.port);
    const belAuthority = await freePort();
    const fraMetrics = await freePort();
    replaced.push(
      [DOC.url, viaRelay.toString()],
      [DOC.fra, join(base, 'FRA')],
      [DOC.bel, join(base, 'BEL')],
      [DOC.belAuthority, `127.0.0.1:${belAuthority}`],
      [DOC.fraMetrics, `127.0.0.1:${fraMetrics}`],
    );
    // BEL's case system: a project outside the workspace with the packed SDK, and the example
    // program where the walkthrough runs it from (docs/examples/integration/dist/).
    const packs = join(base, 'packs');
    await mkdir(packs);
    await run(
      NPM,
      [
        'pack',
        '--workspace',
        '@tracenet/proto',
        '--workspace',
        '@tracenet/sdk',
        '--pack-destination',
        packs,
        '--silent',
      ],
      { cwd: ROOT },
    );
    const caseSystem = join(base, 'case-system');
    await mkdir(join(caseSystem, 'docs', 'examples', 'integration', 'dist'), { recursive: true });
    await writeFile(
      join(caseSystem, 'package.json'),
      JSON.stringify({ name: 'bel-case-system', private: true, type: 'module' }),
    );
    await run(
      NPM,
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        ...(await readdir(packs)).map((t) => join(packs, t)),
      ],
      { cwd: caseSystem, timeout: 240_000 },
    );
    await copyFile(SEND_TRACE, join(caseSystem, 'docs', 'examples', 'integration', 'dist', 'send-trace.js'));
    // The nodes' ports, known before they start: BEL's Authority, FRA's metrics.
    ports.belAuthority = belAuthority;
    ports.fraMetrics = fraMetrics;
  }, 300_000);

  afterAll(async () => {
    await federation?.stop();
    await relay?.down();
    if (dbName) {
      const admin = new pg.Client({ connectionString: testServerUrl() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    }
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('step 1: builds the registry from its SQL, with the broken rows in the numbers the guide gives', async () => {
    exported = await exportsOf(1);
    expect(Object.keys(exported)).toEqual(['REGISTRE_URL']);
    await block(1);
    const db = new pg.Client({ connectionString: exported.REGISTRE_URL });
    await db.connect();
    try {
      const { rows } = await db.query<Record<string, string>>(`
        SELECT (SELECT count(*) FROM arme) AS weapons,
               (SELECT count(*) FROM arme WHERE code_categorie IS NULL) AS no_type,
               (SELECT count(*) FROM arme WHERE numero_serie IS NULL) AS no_serial,
               (SELECT count(*) FROM signalement) AS reports,
               (SELECT count(*) FROM mouvement) AS movements`);
      expect(rows[0]).toEqual({ weapons: '4008', no_type: '41', no_serial: '9', reports: '122', movements: '15256' });
    } finally {
      await db.end();
    }
    expect(text).toContain('4,008 weapons with 15,256 movements and');
    expect(text).toContain('41 weapons have no weapon type');
    expect(text).toContain('9 no serial');
  });

  it('step 2: the mapping excerpts the guide shows are the example mapping', () => {
    expect(json.length).toBeGreaterThanOrEqual(3);
    for (const excerpt of json) expect(foundIn(excerpt, mapping), JSON.stringify(excerpt)).toBe(true);
  });

  it("step 2: the mapping and the section's configuration start FRA on the registry", async () => {
    await mkdir(join(base, 'FRA'), { recursive: true });
    exported = { ...exported, ...(await exportsOf(2)) };
    expect(Object.keys(exported)).toEqual([
      'REGISTRE_URL',
      'TRACENET_REGISTRY_ADAPTER',
      'TRACENET_REGISTRY_POSTGRES_URL',
      'TRACENET_REGISTRY_POSTGRES_MAPPING',
    ]);
    await block(2);
    expect(existsSync(join(base, 'FRA', 'registry-mapping.json'))).toBe(true);
    federation = await startLocalFederation({
      participants: ['FRA', 'BEL'],
      baseDir: base,
      nodeEnv: { FRA: exported },
      ports: { BEL: { authority: ports.belAuthority }, FRA: { metrics: ports.fraMetrics } },
    });
    expect(federation.node('BEL').runtime.authority).toBe(`127.0.0.1:${ports.belAuthority}`);
  });

  it('step 3: `tracenet registry check` counts 3,958 valid, 41 incomplete and 9 unreadable rows', async () => {
    const { stdout, code } = await block(3, { allowFailure: true });
    console.info(`registry check:\n${stdout}`);
    expect(code, 'registry check exits 2 when some rows are not valid').toBe(2);
    expect(stdout).toMatch(/^ +3958 +valid$/m);
    expect(stdout).toMatch(/^ +41 +incomplete +e\.g\. pg_9, /m);
    expect(stdout).toMatch(/^ +9 +unreadable +e\.g\. 10, /m);
    // The output the guide shows is the output (but for the time the scan took).
    const shown = /^```text\n(Registry postgres: [\s\S]*?)^```$/m.exec(text)?.[1] ?? '';
    expect(shown.split('\n').length).toBeGreaterThan(5);
    const timeless = (lines: string) =>
      lines
        .trimEnd()
        .split('\n')
        .map((l) => l.replace(/ in [\d.]+ s$/, ' in … s'));
    expect(timeless(stdout)).toEqual(expect.arrayContaining(timeless(shown)));
    for (const counted of ['3,958 valid', '41 *incomplete*', '9 *unreadable*']) expect(text).toContain(counted);
  });

  it('step 4: BEL may ask, gets automatic answers, may look up; the end user of a transfer is withheld', async () => {
    await block(4);
    const { policy } = await (federation as LocalFederation)
      .node('FRA')
      .authority.call('getPeerPolicy', { participantId: 'BEL' });
    expect(policy).toMatchObject({ participantId: 'BEL', acceptRequests: true, autoAnswer: true, allowLookups: true });
    expect(policy?.releaseRules).toEqual([
      expect.objectContaining({
        field: 'history.end_user',
        eventTypes: [E.WEAPON_EVENT_TYPE_TRANSFERRED],
        reason: 'loi Informatique et libertés, art. 6',
      }),
    ]);
  });

  it('step 5: the node finds the Beretta with its movements as events, and the MAS 49/56 as held but incomplete', async () => {
    const { stdout } = await block(5);
    console.info(`records:\n${stdout}`);
    expect(stdout).toMatch(/^pg_1 +Beretta +92FS +BER 92-04471 +9x19 +pistol\b/m);
    expect(stdout).toMatch(/imported[^\n]*ITA/i);
    expect(stdout).not.toMatch(/extracteur|2016-09-01/); // the repair is not an event
    expect(stdout).toMatch(
      /^held but incomplete: pg_9 Manufacture d'armes de Saint-Étienne MAS-49-0917 \(record\.manufacture\.type\)$/m,
    );
  });

  it("step 6: BEL's case system, installed from packed packages, gets FRA's automatic answer with the buyer withheld", async () => {
    const started = performance.now();
    const { stdout } = await block(6, { cwd: join(base, 'case-system') });
    const answer = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    console.info(
      `send-trace.js from the case system: answered in ${Math.round(performance.now() - started)} ms (process start included):\n${stdout}`,
    );
    expect(answer).toMatchObject({
      state: CaseState[CaseState.CASE_STATE_ANSWERED],
      outcome: TraceOutcome[TraceOutcome.TRACE_OUTCOME_TRACED],
      automatic: true,
    });
    expect(JSON.stringify(answer)).not.toContain('Martin');
    expect(answer.withheld).toEqual([expect.stringContaining('end_user')]);
  }, 120_000);

  it('step 6b: the MAS 49/56, held but incomplete, is acknowledged and waits for an officer, never "no record"', async () => {
    const { stdout } = await block('6b', { cwd: join(base, 'case-system') });
    const answer = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(answer).toMatchObject({
      state: CaseState[CaseState.CASE_STATE_ACKNOWLEDGED],
      outcome: TraceOutcome[TraceOutcome.TRACE_OUTCOME_UNSPECIFIED],
    });
    const fra = (federation as LocalFederation).node('FRA');
    const { cases } = await fra.cases.call('listCases', {
      role: CaseRole.CASE_ROLE_REQUESTED,
      state: CaseState.CASE_STATE_ACKNOWLEDGED,
      peer: 'BEL',
      overdueOnly: false,
      limit: 0,
      cursor: '',
    });
    expect(cases).toHaveLength(1);
    const { case: waiting } = await fra.cases.call('getCase', { caseId: cases[0]?.caseId ?? '' });
    const notes = waiting?.timeline.map((t) => t.summary) ?? [];
    expect(notes).toContainEqual(
      expect.stringMatching(/^held but incomplete: pg_9 .*\(record\.manufacture\.type\)\S*; waiting for an officer$/),
    );
    expect(notes.join('\n')).not.toMatch(/no record/i);
    expect(text.replace(/\s+/g, ' ')).toContain(
      'held but incomplete: pg_9 … (record.manufacture.type); waiting for an officer',
    );
  }, 60_000);

  it('step 7: a lookup hits the Glock reported stolen in signalement; the Sako whose report was lifted does not', async () => {
    const { stdout } = await block(7);
    console.info(`lookups:\n${stdout}`);
    const answers = [...stdout.matchAll(/^ {2}FRA +(HIT|NO HIT|TIMEOUT|ERROR)\b/gm)].map((m) => m[1]);
    expect(answers).toEqual(['HIT', 'NO HIT']);
    expect(stdout).toMatch(/^Lookup \S+: 1 peer\(s\) asked, 1 hit\(s\)/m);
  });

  it('step 8: with the database gone the node keeps running and says so in health, status and metrics', async () => {
    const fra = (federation as LocalFederation).node('FRA');
    const token = await readAuthorityToken(fra.dataDir);
    await relay.down();
    try {
      // A search makes the node ask the registry, which cannot answer.
      await expect(
        fra.records.call('searchRecords', {
          query: { manufacturer: 'Beretta', serialNumber: 'BER 92-04471', model: '', calibre: '', type: 0 },
          serialOnly: false,
          limit: 0,
        }),
      ).rejects.toMatchObject({ codeName: 'UNAVAILABLE' });
      const { stdout } = await block(8);
      console.info(`the registry down:\n${stdout}`);
      expect(stdout).toMatch(/^registry postgres DOWN since /m);
      expect(stdout).toMatch(/^tracenet_registry_up\{adapter="postgres"\} 0$/m);
      expect(stdout).not.toContain('postgres://'); // no connection URL in status
      expect(await healthOf(fra.runtime.authority, token, 'tracenet.v1.Registry')).toBe(2);
      expect(await healthOf(fra.runtime.authority, token, '')).toBe(1);
    } finally {
      await relay.up();
    }
    // Back: the next search answers, and health says so.
    const { records } = await fra.records.call('searchRecords', {
      query: { manufacturer: 'Beretta', serialNumber: 'BER 92-04471', model: '', calibre: '', type: 0 },
      serialOnly: false,
      limit: 0,
    });
    expect(records.map((r) => r.recordId)).toEqual(['pg_1']);
    expect(await healthOf(fra.runtime.authority, token, 'tracenet.v1.Registry')).toBe(1);
  });
});
