import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PeerCard } from '@tracenet/proto';
import { EXIT } from '../../src/cli/exit-codes.js';
import { dataPaths } from '../../src/identity/data-dir.js';
import { type CliResult, expectOneLineFailure, isAlive, mapLimit, ProcessBed, requireBuiltCli } from './processes.js';

function mode(info: { mode: number }): string {
  return (info.mode & 0o777).toString(8);
}

/** Commands the foundation must offer, as the words typed after `tracenet`; more may exist. */
const KNOWN_COMMANDS = [
  'init',
  'start',
  'peers',
  'peers export',
  'peers add',
  'peers list',
  'notice',
  'notice send',
  'messages',
  'status',
  'audit',
  'audit verify',
  'registry',
  'registry check',
];

/** Subcommand names listed under "Commands:" in a help text (the implicit `help` left out). */
function subcommands(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1] ?? '').filter((name) => name !== 'help');
}

describe('tracenet CLI', () => {
  const bed = new ProcessBed();

  beforeAll(() => requireBuiltCli());
  afterEach(async () => {
    await bed.cleanup();
  });
  afterAll(() => {
    for (const pid of bed.pids) expect(isAlive(pid), `process ${pid} outlived the suite`).toBe(false);
  });

  it('--help works on every command', async () => {
    // Walks the command tree from the root help, so that commands added later are covered too.
    const helped = new Map<string, CliResult>();
    let level: string[][] = [[]];
    while (level.length > 0) {
      const results = await mapLimit(level, 4, (words) => bed.cli([...words, '--help']));
      const next: string[][] = [];
      results.forEach((result, i) => {
        const words = level[i] ?? [];
        helped.set(words.join(' '), result);
        for (const name of subcommands(result.stdout)) next.push([...words, name]);
      });
      level = next;
    }
    expect([...helped.keys()]).toEqual(expect.arrayContaining(['', ...KNOWN_COMMANDS]));
    for (const [command, result] of helped) {
      expect(result.code, `tracenet ${command} --help: ${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`Usage: tracenet${command ? ` ${command}` : ''} [options]`);
      expect(result.stderr).toBe('');
    }
    // One process per command (about 50), each loading the CLI: minutes on a loaded 2-core machine.
  }, 180_000);

  it('init writes secret files 0600 in a 0700 keys directory and refuses to initialise twice', async () => {
    const root = await bed.tempDir('init');
    const dataDir = join(root, 'fra');
    const first = await bed.cli(['init', '--id', 'FRA', '--data', dataDir, '--name', 'France', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ participantId: 'FRA', dataDir });

    const paths = dataPaths(dataDir);
    expect(mode(await stat(dataDir))).toBe('700');
    expect(mode(await stat(paths.keysDir))).toBe('700');
    const secrets = await readdir(paths.keysDir);
    expect(secrets.sort()).toEqual(['authority.token', 'encryption.key', 'signing.key', 'tls.key']);
    for (const file of secrets) expect(`${file} ${mode(await stat(join(paths.keysDir, file)))}`).toBe(`${file} 600`);

    const signingKey = await readFile(paths.signingKey, 'utf8');
    const card = await readFile(paths.card, 'utf8');
    const again = await bed.cli(['init', '--id', 'FRA', '--data', dataDir]);
    expectOneLineFailure(again, 'INVALID_FIELD', /already holds a node identity/);
    expect(again.stdout).toBe('');
    // Nothing was overwritten.
    expect(await readFile(paths.signingKey, 'utf8')).toBe(signingKey);
    expect(await readFile(paths.card, 'utf8')).toBe(card);

    expectOneLineFailure(
      await bed.cli(['init', '--id', 'FRANCE', '--data', join(root, 'bad')]),
      'INVALID_FIELD',
      /not a participant id/,
    );
  });

  it('works offline on a stopped node: peers add/list, audit verify, --json; a tampered card is refused', async () => {
    const [fraDir, belDir] = await Promise.all([bed.init('FRA'), bed.init('BEL', ['--name', 'Belgium'])]);
    const root = dirname(belDir);

    const empty = await bed.cliOk(['peers', 'list', '--data', fraDir, '--json']);
    expect(JSON.parse(empty.stdout)).toEqual([]);
    expect((await bed.cliOk(['peers', 'list', '--data', fraDir])).stdout).toBe('No peers pinned.\n');

    // Export to stdout, as an operator would redirect it into a file.
    const exported = await bed.cliOk(['peers', 'export', '--data', belDir]);
    const cardFile = join(root, 'BEL.card.json');
    await writeFile(cardFile, exported.stdout);

    // One byte of the signed body changed ("Belgium" -> "Belgiun"): the signature no longer holds.
    const file = JSON.parse(exported.stdout) as { card: string };
    const card = PeerCard.decode(Buffer.from(file.card, 'base64'));
    const at = Buffer.from(card.body).indexOf('Belgium');
    expect(at).toBeGreaterThan(0);
    const body = Buffer.from(card.body);
    body[at + 6] = 'n'.charCodeAt(0);
    const tamperedFile = join(root, 'BEL.tampered.json');
    await writeFile(
      tamperedFile,
      JSON.stringify({
        ...file,
        displayName: 'Belgiun',
        card: Buffer.from(PeerCard.encode({ ...card, body }).finish()).toString('base64'),
      }),
    );
    expectOneLineFailure(
      await bed.cli(['peers', 'add', tamperedFile, '--data', fraDir]),
      'INVALID_PEER_CARD',
      /signature/,
    );
    const notACard = join(root, 'not-a-card.json');
    await writeFile(notACard, '{"hello":"world"}');
    expectOneLineFailure(await bed.cli(['peers', 'add', notACard, '--data', fraDir]), 'INVALID_PEER_CARD');
    expectOneLineFailure(
      await bed.cli(['peers', 'add', join(root, 'missing.json'), '--data', fraDir]),
      'NOT_FOUND',
      /missing\.json/,
    );
    expect(JSON.parse((await bed.cliOk(['peers', 'list', '--data', fraDir, '--json'])).stdout)).toEqual([]);

    const added = await bed.cliOk(['peers', 'add', cardFile, '--data', fraDir, '--json']);
    expect(JSON.parse(added.stdout)).toMatchObject({
      peer: { participantId: 'BEL', displayName: 'Belgium' },
      replaced: false,
    });
    const listed = JSON.parse((await bed.cliOk(['peers', 'list', '--data', fraDir, '--json'])).stdout) as Array<{
      participantId: string;
    }>;
    expect(listed.map((p) => p.participantId)).toEqual(['BEL']);

    const verdict = await bed.cliOk(['audit', 'verify', '--data', fraDir, '--json']);
    expect(JSON.parse(verdict.stdout)).toMatchObject({ ok: true, firstBrokenSeq: 0 });
  });

  it('commands that need a running node say so in one line when none runs', async () => {
    const dataDir = await bed.init('FRA');
    const hint = `no node is running on ${dataDir}; start it with: tracenet start --data ${dataDir}`;
    const commands = [
      ['status', '--data', dataDir],
      ['messages', '--data', dataDir],
      ['notice', 'send', '--data', dataDir, '--to', 'BEL', '--subject', 's', '--text', 't'],
    ];
    // None of these opens the store, so they may run side by side.
    const missing = join(dirname(dataDir), 'nothing');
    const empty = await bed.tempDir('empty');
    const [start, exported, uninitialised, json, ...results] = await Promise.all([
      bed.cli(['start', '--data', missing]),
      bed.cli(['peers', 'export', '--data', missing]),
      bed.cli(['start', '--data', empty]),
      bed.cli(['status', '--data', dataDir, '--json']),
      ...commands.map((args) => bed.cli(args)),
    ]);
    for (const result of results) {
      expectOneLineFailure(result, 'UNAVAILABLE');
      expect(result.stderr).toBe(`tracenet: UNAVAILABLE: ${hint}\n`);
    }
    // With --json the failure is JSON too (issue 17, section 4).
    expect(json?.code).toBe(EXIT.unreachable);
    expect(JSON.parse(json?.stderr ?? '')).toEqual({
      error: { code: 'UNAVAILABLE', message: hint, rule: 'node_running' },
    });
    // A mistyped --data says so instead of leading towards `tracenet init`; an empty directory does not hold a node.
    expectOneLineFailure(start as CliResult, 'NOT_FOUND', /the data directory .*nothing does not exist; check --data/);
    expectOneLineFailure(exported as CliResult, 'NOT_FOUND', /the data directory .*nothing does not exist/);
    expectOneLineFailure(uninitialised as CliResult, 'NOT_FOUND', /holds no node identity; run: tracenet init/);
  });

  it('start: SIGTERM during startup still stops gracefully, exit code 0 and no node.json left', async () => {
    const dataDir = await bed.init('FRA');
    // The first log line comes while the node is still starting; a stop must not race the start.
    for (let round = 0; round < 3; round += 1) {
      const node = bed.launch([
        'start',
        '--data',
        dataDir,
        '--federation-listen',
        '127.0.0.1:0',
        '--authority-listen',
        '127.0.0.1:0',
      ]);
      node.child.stdout?.once('data', () => node.child.kill('SIGTERM'));
      expect(await node.exit(), node.output()).toEqual({ code: 0, signal: null });
      expect(existsSync(dataPaths(dataDir).runtime), `round ${round}: node.json left behind`).toBe(false);
    }
    expect(JSON.parse((await bed.cliOk(['audit', 'verify', '--data', dataDir, '--json'])).stdout)).toMatchObject({
      ok: true,
    });
  });

  it('talks to a running node; refuses a second node on the same data or a busy port; sees through a stale node.json', async () => {
    const [fraDir, belDir] = await Promise.all([bed.init('FRA'), bed.init('BEL', ['--name', 'Belgium'])]);
    const fra = await bed.start(fraDir);
    const runtime = await readFile(dataPaths(fraDir).runtime, 'utf8');

    const status = await bed.cliOk(['status', '--data', fraDir, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      participantId: 'FRA',
      federationAddress: fra.runtime.federation,
      inbox: 0,
      outbox: 0,
      sent: 0,
      failed: 0,
    });
    expect(JSON.parse(status.stdout).registry).toEqual([
      {
        kind: 'leveldb',
        up: true,
        sinceMs: expect.any(Number),
        lastError: '',
        lastErrorAtMs: 0,
        latencyMs: expect.any(Number),
        checkedAtMs: expect.any(Number),
      },
    ]);
    const text = (await bed.cliOk(['status', '--data', fraDir])).stdout;
    expect(text).toMatch(/^FRA \(key [0-9a-f]{16}\) federation 127\.0\.0\.1:\d+/);
    // The registry the node answers from, checked at start (docs/operations.md section 5).
    expect(text).toMatch(/^registry leveldb {2}up since \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ s\) {2}latency \d+ ms$/m);

    // A tampered card is refused by the running node too, with the same code.
    const exported = JSON.parse((await bed.cliOk(['peers', 'export', '--data', belDir])).stdout) as { card: string };
    const card = PeerCard.decode(Buffer.from(exported.card, 'base64'));
    const signature = Buffer.from(card.signature);
    signature[0] = (signature[0] ?? 0) ^ 1;
    const tamperedFile = join(dirname(belDir), 'tampered.json');
    await writeFile(
      tamperedFile,
      JSON.stringify({
        ...exported,
        card: Buffer.from(PeerCard.encode({ ...card, signature }).finish()).toString('base64'),
      }),
    );
    expectOneLineFailure(
      await bed.cli(['peers', 'add', tamperedFile, '--data', fraDir]),
      'INVALID_PEER_CARD',
      /signature/,
    );

    const cardFile = join(dirname(belDir), 'bel.json');
    await bed.cliOk(['peers', 'export', '--data', belDir, '--out', cardFile]);
    await bed.cliOk(['peers', 'add', cardFile, '--data', fraDir]);
    const peers = JSON.parse((await bed.cliOk(['peers', 'list', '--data', fraDir, '--json'])).stdout) as Array<{
      participantId: string;
    }>;
    expect(peers.map((p) => p.participantId)).toEqual(['BEL']);
    const verdict = JSON.parse((await bed.cliOk(['audit', 'verify', '--data', fraDir, '--json'])).stdout) as {
      ok: boolean;
      entries: number;
    };
    expect(verdict).toMatchObject({ ok: true });
    expect(verdict.entries).toBeGreaterThanOrEqual(2); // node.started, peer.pinned
    const queued = JSON.parse(
      (await bed.cliOk(['notice', 'send', '--data', fraDir, '--to', 'BEL', '--subject', 's', '--text', 't', '--json']))
        .stdout,
    ) as { messageId: string };
    const outbox = JSON.parse(
      (await bed.cliOk(['messages', '--data', fraDir, '--direction', 'outbox', '--json'])).stdout,
    ) as Array<{ messageId: string }>;
    expect(outbox.map((m) => m.messageId)).toEqual([queued.messageId]);
    expectOneLineFailure(
      await bed.cli(['notice', 'send', '--data', fraDir, '--to', 'KEN', '--subject', 's', '--text', 't']),
      'NOT_FOUND',
      /KEN is not a pinned peer/,
    );

    // A second node on the same data directory is refused and leaves the first one alone.
    expectOneLineFailure(
      await bed.cli([
        'start',
        '--data',
        fraDir,
        '--federation-listen',
        '127.0.0.1:0',
        '--authority-listen',
        '127.0.0.1:0',
      ]),
      'STORAGE_UNAVAILABLE',
      /in use by a running node/,
    );
    expect(await readFile(dataPaths(fraDir).runtime, 'utf8')).toBe(runtime);
    expect(fra.running).toBe(true);

    // A busy Federation port: one line naming the address, no node.json, no process left.
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const busy = await bed.cli([
        'start',
        '--data',
        belDir,
        '--federation-listen',
        `127.0.0.1:${port}`,
        '--authority-listen',
        '127.0.0.1:0',
      ]);
      expectOneLineFailure(busy, 'UNAVAILABLE', new RegExp(`127\\.0\\.0\\.1:${port}`));
      expect(existsSync(dataPaths(belDir).runtime)).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }

    // After a crash node.json stays behind, naming a dead process: commands must not trust it.
    expect(await fra.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(existsSync(dataPaths(fraDir).runtime)).toBe(true);
    expectOneLineFailure(await bed.cli(['status', '--data', fraDir]), 'UNAVAILABLE', /no node is running/);
    // Offline commands work on the crashed node's store.
    expect(JSON.parse((await bed.cliOk(['peers', 'list', '--data', fraDir, '--json'])).stdout)).toHaveLength(1);
    expect(JSON.parse((await bed.cliOk(['audit', 'verify', '--data', fraDir, '--json'])).stdout)).toMatchObject({
      ok: true,
    });
  });

  it('status: a registry that cannot answer shows DOWN with its last error, its password removed', async () => {
    const dataDir = await bed.init('BEL');
    // An integrator's adapter whose database is unreachable; its driver names the URL, password included.
    const module = join(dirname(dataDir), 'down.mjs');
    await writeFile(
      module,
      `export async function createAdapter() {
        const down = async () => { throw new Error('connect ECONNREFUSED 10.0.0.7:5432 (postgres://app:s3cret@10.0.0.7/reg)'); };
        return { kind: 'national', idPrefix: 'nat_', open: async () => {}, close: async () => {}, check: down, findBySerial: down, get: down };
      }\n`,
    );
    await bed.start(dataDir, {
      env: { TRACENET_REGISTRY_ADAPTER: 'module', TRACENET_REGISTRY_MODULE: module },
    });
    const text = (await bed.cliOk(['status', '--data', dataDir])).stdout;
    expect(text).toMatch(/^registry leveldb {2}up since /m);
    expect(text).toMatch(/^registry national DOWN since \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ s\) {2}latency \d+ ms$/m);
    expect(text).toMatch(
      /^ {2}last error \S+Z: UNAVAILABLE: the national registry could not answer: connect ECONNREFUSED 10\.0\.0\.7:5432 \(<url>$/m,
    );
    const json = (await bed.cliOk(['status', '--data', dataDir, '--json'])).stdout;
    expect(JSON.parse(json).registry.map((a: { kind: string; up: boolean }) => [a.kind, a.up])).toEqual([
      ['leveldb', true],
      ['national', false],
    ]);
    expect(text + json).not.toContain('s3cret');
  });
});
