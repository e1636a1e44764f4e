import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GetDeliveryStatsResponse, MessageDirection, MessageSummary } from '@tracenet/proto';
import { connectAuthority, type LocalAuthorityClient } from '../../src/api/authority-client.js';
import { exitCodeOf } from '../../src/cli/exit-codes.js';
import { dataPaths, readAuthorityToken } from '../../src/identity/data-dir.js';
import type { RuntimeInfo } from '../../src/node.js';
import { openStore } from '../../src/store/store.js';
import { expect } from 'vitest';

/** The built CLI that every process runs: `node node/dist/cli/main.js`. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Throws a readable error when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH))
    throw new Error(`${CLI_PATH} is missing: build first with "npx tsc -b" (npm test does it)`);
}

/** Every child spawned by this test process that has not exited yet. */
const alive = new Set<ChildProcess>();
// Last resort when the test process exits without running its hooks: no node outlives it.
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Resolves when `predicate` holds, polling every `intervalMs`; rejects after `timeoutMs`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A failure a person can read: exactly one stderr line `tracenet: CODE: ...` and the exit code
 * of that code (docs/operations.md, "Exit codes").
 */
export function expectOneLineFailure(result: CliResult, code: string, text?: string | RegExp): void {
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^tracenet: ${code}: `));
  const reported = /^tracenet: ([A-Z_]+): /.exec(lines[0] ?? '')?.[1] ?? '';
  expect(result.code, result.stdout + result.stderr).toBe(exitCodeOf(reported));
  if (text !== undefined) expect(lines[0]).toMatch(text);
}

/** Maps with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Output and exit of one CLI command. */
export interface CliResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

interface Spawned {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly stdout: string[];
  readonly stderr: string[];
}

function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  alive.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  // Always drain both pipes: a node that logs into a full pipe would block.
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', (error) => {
      alive.delete(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      alive.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, exited, stdout, stderr };
}

async function waitExit(spawned: Spawned, timeoutMs: number, what: string): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      spawned.child.kill('SIGKILL');
      reject(new Error(`${what} did not exit within ${timeoutMs} ms; killed. stderr: ${spawned.stderr.join('')}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([spawned.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A command launched with {@link ProcessBed.launch}. */
export interface Launched {
  readonly child: ChildProcess;
  /** Everything it wrote so far, stdout then stderr. */
  output(): string;
  exit(timeoutMs?: number): Promise<Exit>;
}

/** Environment for every spawned process: no TRACENET_* settings inherited from the test's shell. */
const BASE_ENV: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith('TRACENET_'))
      .map((k) => [k, undefined]),
  ),
  // Several nodes run at once: none serves metrics on the default port.
  TRACENET_METRICS_LISTEN: '',
};

/** One audit entry as its JSON line reads. */
export type AuditLine = { readonly seq: number; readonly type: string } & Readonly<Record<string, unknown>>;

/**
 * A node running as its own OS process (`tracenet start`), with a client for its Authority API.
 * Its stdout (pino JSON) and stderr are kept for assertions and failure messages.
 */
export class NodeProcess {
  #client: LocalAuthorityClient | undefined;

  constructor(
    readonly dataDir: string,
    private readonly spawned: Spawned,
    readonly runtime: RuntimeInfo,
    private readonly token: string,
  ) {}

  get pid(): number {
    return this.runtime.pid;
  }

  /** Port of the bound Federation address. */
  get federationPort(): number {
    return Number(this.runtime.federation.slice(this.runtime.federation.lastIndexOf(':') + 1));
  }

  get running(): boolean {
    return this.spawned.child.exitCode === null && this.spawned.child.signalCode === null;
  }

  /** Lines the node wrote to stdout. */
  get logLines(): string[] {
    return this.spawned.stdout
      .join('')
      .split('\n')
      .filter((line) => line !== '');
  }

  get stderr(): string {
    return this.spawned.stderr.join('');
  }

  /** The last log lines and stderr, for failure messages. */
  tail(lines = 20): string {
    return [...this.logLines.slice(-lines), this.stderr].join('\n');
  }

  /** The Authority API of this node (token from `<data>/keys/authority.token`). */
  get client(): LocalAuthorityClient {
    this.#client ??= connectAuthority(this.runtime.authority, this.token);
    return this.#client;
  }

  stats(): Promise<GetDeliveryStatsResponse> {
    return this.client.call('getDeliveryStats', {});
  }

  /** Every message of one direction, paging with the API's cursor. */
  listAll(direction: MessageDirection): Promise<MessageSummary[]> {
    return listAllMessages(this.client, direction);
  }

  closeClient(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  /** SIGTERM and wait: a graceful stop. Returns how the process ended. */
  async stop(timeoutMs = 20_000): Promise<Exit> {
    this.closeClient();
    if (this.running) this.spawned.child.kill('SIGTERM');
    return waitExit(this.spawned, timeoutMs, `node ${this.runtime.participantId} (SIGTERM)`);
  }

  /** SIGKILL and wait: a crash. */
  async kill(): Promise<Exit> {
    this.closeClient();
    if (this.running) this.spawned.child.kill('SIGKILL');
    return waitExit(this.spawned, 10_000, `node ${this.runtime.participantId} (SIGKILL)`);
  }
}

/**
 * Owns every process and temporary directory of a test: `cleanup()` (in afterEach/afterAll) kills
 * whatever still runs, even when the test failed, and deletes the directories.
 */
export class ProcessBed {
  readonly #spawned: Spawned[] = [];
  readonly #nodes: NodeProcess[] = [];
  readonly #dirs: string[] = [];
  /** Pids of every process started through this bed. */
  readonly pids: number[] = [];

  /** A fresh temporary directory, deleted by cleanup. */
  async tempDir(label: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `tracenet-it-${label}-`));
    this.#dirs.push(dir);
    return dir;
  }

  #spawn(args: readonly string[], env: NodeJS.ProcessEnv): Spawned {
    requireBuiltCli();
    const spawned = spawnCli(args, { ...BASE_ENV, ...env });
    this.#spawned.push(spawned);
    if (spawned.child.pid !== undefined) this.pids.push(spawned.child.pid);
    return spawned;
  }

  /** Launches a `tracenet` command and hands it over as it runs (for signals at chosen moments). */
  launch(args: readonly string[], env: NodeJS.ProcessEnv = {}): Launched {
    const spawned = this.#spawn(args, env);
    return {
      child: spawned.child,
      output: () => spawned.stdout.join('') + spawned.stderr.join(''),
      exit: (timeoutMs = 20_000) => waitExit(spawned, timeoutMs, `tracenet ${args.join(' ')}`),
    };
  }

  /** Runs one `tracenet` command to its end. */
  async cli(
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
  ): Promise<CliResult> {
    const spawned = this.#spawn(args, options.env ?? {});
    const exit = await waitExit(spawned, options.timeoutMs ?? 20_000, `tracenet ${args.join(' ')}`);
    return { ...exit, stdout: spawned.stdout.join(''), stderr: spawned.stderr.join('') };
  }

  /** Runs a command that must succeed; throws with its stderr otherwise. */
  async cliOk(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
    const result = await this.cli(args, options);
    if (result.code !== 0)
      throw new Error(`tracenet ${args.join(' ')} exited ${result.code ?? result.signal}: ${result.stderr}`);
    return result;
  }

  /** `tracenet init` into `<tempdir>/<id>`; returns the data directory. */
  async init(participantId: string, extra: readonly string[] = []): Promise<string> {
    const dataDir = join(await this.tempDir(participantId.replace(':', '_')), 'data');
    await this.cliOk(['init', '--id', participantId, '--data', dataDir, ...extra]);
    return dataDir;
  }

  /**
   * `tracenet start` as a separate process on loopback; resolves once `<data>/node.json` names this
   * process (a stale file of a killed predecessor does not count). Rejects if the process exits first.
   */
  async start(
    dataDir: string,
    options: {
      federationListen?: string;
      authorityListen?: string;
      env?: NodeJS.ProcessEnv;
      timeoutMs?: number;
      args?: readonly string[];
    } = {},
  ): Promise<NodeProcess> {
    const args = [
      'start',
      '--data',
      dataDir,
      '--federation-listen',
      options.federationListen ?? '127.0.0.1:0',
      '--authority-listen',
      options.authorityListen ?? '127.0.0.1:0',
      ...(options.args ?? []),
    ];
    const spawned = this.#spawn(args, options.env ?? {});
    const runtimePath = dataPaths(dataDir).runtime;
    let runtime: RuntimeInfo | undefined;
    let exit: Exit | undefined;
    void spawned.exited.then((e) => {
      exit = e;
    });
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    while (runtime === undefined) {
      if (exit)
        throw new Error(
          `tracenet start --data ${dataDir} exited (${exit.code ?? exit.signal}) before it was ready:\n${spawned.stdout.join('')}${spawned.stderr.join('')}`,
        );
      if (Date.now() > deadline) {
        spawned.child.kill('SIGKILL');
        throw new Error(
          `tracenet start --data ${dataDir} was not ready in time:\n${spawned.stdout.join('')}${spawned.stderr.join('')}`,
        );
      }
      try {
        const info = JSON.parse(await readFile(runtimePath, 'utf8')) as RuntimeInfo;
        if (info.pid === spawned.child.pid) runtime = info;
      } catch {
        // Not written yet (or a partial write): look again.
      }
      if (runtime === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    const node = new NodeProcess(dataDir, spawned, runtime, await readAuthorityToken(dataDir));
    this.#nodes.push(node);
    return node;
  }

  /** Kills every process still running (SIGKILL), waits for each, deletes the directories. */
  async cleanup(): Promise<void> {
    for (const node of this.#nodes) node.closeClient();
    await Promise.all(
      this.#spawned.map(async (s) => {
        if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
        await s.exited.catch(() => undefined);
      }),
    );
    this.#spawned.length = 0;
    this.#nodes.length = 0;
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Reads a stopped node's audit log straight from its LevelDB store. */
export async function readAudit(dataDir: string): Promise<AuditLine[]> {
  const store = await openStore(dataPaths(dataDir).store);
  try {
    const lines: AuditLine[] = [];
    for await (const value of store.audit.entries.values()) lines.push(JSON.parse(String(value.line)) as AuditLine);
    return lines;
  } finally {
    await store.close();
  }
}

/** Reads every value of one sublevel of a stopped node's store. */
export async function readSublevel(
  dataDir: string,
  name: 'inbox' | 'sent' | 'outbox' | 'failed' | 'seen',
): Promise<Array<Record<string, unknown>>> {
  const store = await openStore(dataPaths(dataDir).store);
  try {
    const collection = {
      inbox: store.messages.inbox,
      seen: store.messages.seen,
      outbox: store.outbox.queue,
      sent: store.outbox.sent,
      failed: store.outbox.failed,
    }[name];
    const values: Array<Record<string, unknown>> = [];
    for await (const value of collection.values()) values.push(value);
    return values;
  } finally {
    await store.close();
  }
}

/**
 * Rewrites the stored line of audit entry `seq` of a stopped node, keeping its stored hash: what an
 * attacker with disk access would do. Returns the old and new line.
 */
export async function tamperAuditEntry(
  dataDir: string,
  seq: number,
  change: (line: string) => string,
): Promise<{ before: string; after: string }> {
  const store = await openStore(dataPaths(dataDir).store);
  try {
    const key = String(seq).padStart(16, '0');
    const entry = await store.audit.entries.get(key);
    if (!entry) throw new Error(`no audit entry ${seq}`);
    const before = String(entry.line);
    const after = change(before);
    await store.batch([store.audit.entries.put(key, { ...entry, line: after })]);
    return { before, after };
  } finally {
    await store.close();
  }
}

/** Sends `count` notices through the Authority API with `concurrency` calls in flight; ids in order. */
export function sendNotices(
  client: LocalAuthorityClient,
  recipient: string,
  count: number,
  concurrency = 16,
): Promise<string[]> {
  const numbers = Array.from({ length: count }, (_, i) => i);
  return mapLimit(numbers, concurrency, async (i) => {
    const { messageId } = await client.call('sendNotice', {
      recipient,
      subject: `notice ${i}`,
      text: `test notice number ${i}`,
      correlationId: '',
    });
    return messageId;
  });
}

/** Every message of one direction on a node's Authority API, paging with the API's cursor. */
export async function listAllMessages(
  client: Pick<LocalAuthorityClient, 'call'>,
  direction: MessageDirection,
): Promise<MessageSummary[]> {
  const all: MessageSummary[] = [];
  let cursor = '';
  do {
    const page = await client.call('listMessages', { direction, limit: 250, cursor });
    all.push(...page.messages);
    cursor = page.nextCursor;
  } while (cursor !== '');
  return all;
}
