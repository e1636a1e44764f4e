import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AccessClient,
  type AccessServer,
  AuthorityClient,
  type AuthorityServer,
  CasesClient,
  type CasesServer,
  LookupsClient,
  type LookupsServer,
  PeerPolicy,
  RecordsClient,
  type RecordsServer,
  StatisticsClient,
  type StatisticsServer,
} from '@tracenet/proto';
import type { Role } from '../access/actor.js';
import { base32Decode, totp } from '../access/totp.js';
import { connectUnary, type UnaryClient } from '../api/unary-client.js';
import { initSodium } from '../crypto/sodium.js';
import { dataPaths, initDataDir, readAuthorityToken } from '../identity/data-dir.js';
import type { RuntimeInfo } from '../node.js';
import { systemScheduler } from '../util/scheduler.js';

/**
 * The built `tracenet` CLI of this package: next to this module in `dist/`, or in `dist/` when this
 * module runs from its TypeScript source (tests run `src/` directly; a child process needs the
 * build).
 */
export const CLI_PATH = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../dist/cli/main.js' : '../cli/main.js', import.meta.url),
);

/** Children of every federation of this process that have not exited yet. */
const children = new Set<ChildProcess>();
// Last resort when the parent exits without stopping its federation (a crashed test): no node outlives it.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** One node of a local federation, running as its own OS process. */
export interface LocalNode {
  readonly participantId: string;
  readonly dataDir: string;
  readonly runtime: RuntimeInfo;
  readonly process: ChildProcess;
  readonly authority: UnaryClient<AuthorityServer>;
  readonly cases: UnaryClient<CasesServer>;
  readonly records: UnaryClient<RecordsServer>;
  readonly lookups: UnaryClient<LookupsServer>;
  readonly access: UnaryClient<AccessServer>;
  /** The Statistics service (docs/protocol.md 20). */
  readonly statistics: UnaryClient<StatisticsServer>;
  /** The officers' web console, `https://127.0.0.1:<port>`, when the federation was started with `console`. */
  readonly consoleUrl: string;
  /** The officer accounts created at start (`officers`), by officer id. */
  readonly officers: ReadonlyMap<string, LocalOfficer>;
  /** What the process wrote on stdout and stderr (pino JSON lines). */
  readonly output: string[];
  /** SIGTERM, wait for exit (SIGKILL after `graceMs`), close the clients. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** An officer account of a local node: how to sign in as it. */
export interface LocalOfficer {
  readonly officerId: string;
  readonly password: string;
  readonly roles: readonly Role[];
  /** The TOTP secret (base32) when the account needs a code; '' otherwise. */
  readonly totpSecret: string;
  /** The code to type now ('' without a TOTP secret). */
  code(atMs?: number): string;
}

/** An officer account to create on a local node. */
export interface LocalOfficerSpec {
  readonly officerId: string;
  readonly password: string;
  readonly roles: readonly Role[];
  readonly displayName?: string;
}

/** A set of nodes on loopback that have pinned each other. */
export interface LocalFederation {
  readonly nodes: ReadonlyMap<string, LocalNode>;
  node(participantId: string): LocalNode;
  /** Stops every node and deletes the data directories (unless kept). Idempotent. */
  stop(): Promise<void>;
}

/** How to start a local federation. */
export interface LocalFederationOptions {
  readonly participants: readonly string[];
  /** Parent of the data directories; a new temporary directory when absent. */
  readonly baseDir?: string;
  /** Keep the data directories after stop (the default deletes a temporary base directory). */
  readonly keep?: boolean;
  readonly logLevel?: string;
  /** Extra environment for every node, e.g. TRACENET_WORKFLOW_DEADLINE_CHECK_INTERVAL_MS. */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra environment of one node, by participant id (after `env`), e.g. its registry configuration. */
  readonly nodeEnv?: Readonly<Record<string, NodeJS.ProcessEnv>>;
  /** Policies to set once all are pinned: on node `of`, for peer `policy.participantId`; fields not given are off (deadlines: the defaults). */
  readonly policies?: ReadonlyArray<{ of: string; policy: Pick<PeerPolicy, 'participantId'> & Partial<PeerPolicy> }>;
  readonly readyTimeoutMs?: number;
  /**
   * Fixed loopback ports of a participant, by participant id, e.g. `{ BEL: { authority: 7444 } }`
   * for a case system configured with a fixed address. A port not given is ephemeral; the
   * metrics endpoint is off unless given. A port that is taken stops the start with an error
   * naming the participant, the port and what it was for, before any node starts.
   */
  readonly ports?: Readonly<Record<string, LocalNodePorts>>;
  /** Serve each node's officers' web console on a loopback port (`ports.<id>.console`, else ephemeral). */
  readonly console?: boolean;
  /**
   * Officer accounts to create on a node, by participant id. The federation's own clients then use
   * an API key with every role (named `local-federation`), since the first administrator retires
   * the bootstrap token.
   */
  readonly officers?: Readonly<Record<string, readonly LocalOfficerSpec[]>>;
}

/** Fixed loopback ports of one node of a local federation (ephemeral or off when absent). */
export interface LocalNodePorts {
  readonly federation?: number;
  readonly authority?: number;
  /** The Prometheus endpoint (`/metrics`); off when absent. */
  readonly metrics?: number;
  /** The officers' web console (with `console`); ephemeral when absent. */
  readonly console?: number;
}

/** Resolves when nothing listens on 127.0.0.1:`port`; rejects with the listen error otherwise. */
function probePort(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** Checks every fixed port asked for: a valid number, asked once, and free now. */
async function checkFixedPorts(options: LocalFederationOptions): Promise<void> {
  const seen = new Map<number, string>();
  for (const [participantId, ports] of Object.entries(options.ports ?? {})) {
    if (!options.participants.includes(participantId))
      throw new Error(`ports.${participantId}: ${participantId} is not one of the participants`);
    for (const [use, port] of Object.entries(ports) as Array<[keyof LocalNodePorts, number | undefined]>) {
      if (port === undefined) continue;
      const where = `ports.${participantId}.${use}`;
      if (!Number.isInteger(port) || port < 1 || port > 65_535)
        throw new Error(`${where}: ${port} is not a port number (1-65535)`);
      const other = seen.get(port);
      if (other) throw new Error(`${where}: port ${port} is already asked for by ${other}`);
      seen.set(port, where);
      try {
        await probePort(port);
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
        throw new Error(
          `${where}: port ${port} on 127.0.0.1, asked for the ${use} port of ${participantId}, is taken (${code}): stop what listens there or choose another port`,
          { cause },
        );
      }
    }
  }
}

async function waitForRuntime(
  dataDir: string,
  child: ChildProcess,
  output: string[],
  timeoutMs: number,
): Promise<RuntimeInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `node in ${dataDir} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.join('')}`,
      );
    }
    try {
      const runtime = JSON.parse(await readFile(dataPaths(dataDir).runtime, 'utf8')) as RuntimeInfo;
      if (runtime.pid === child.pid) return runtime;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline)
      throw new Error(`node in ${dataDir} was not ready after ${timeoutMs} ms:\n${output.join('')}`);
    await systemScheduler.sleep(25);
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts real nodes as separate processes on loopback (ephemeral ports and metrics off, unless
 * `ports` fixes them), pins every card on every other node and sets the given policies. Used by `npm run demo` and the end-to-end
 * tests; a failure part-way stops what was started.
 *
 * @example
 * ```ts
 * const federation = await startLocalFederation({ participants: ['FRA', 'BEL'] });
 * const bel = federation.node('BEL');
 * await federation.stop();
 * ```
 */
export async function startLocalFederation(options: LocalFederationOptions): Promise<LocalFederation> {
  await checkFixedPorts(options);
  await initSodium();
  const ownBase = options.baseDir === undefined;
  const baseDir = options.baseDir ?? (await mkdtemp(join(tmpdir(), 'tracenet-federation-')));
  const nodes = new Map<string, LocalNode>();
  let stopped: Promise<void> | undefined;
  const federation: LocalFederation = {
    nodes,
    node(participantId) {
      const node = nodes.get(participantId);
      if (!node) throw new Error(`${participantId} is not part of this federation`);
      return node;
    },
    stop() {
      stopped ??= (async () => {
        await Promise.all([...nodes.values()].map((n) => n.stop()));
        if (ownBase && !options.keep) await rm(baseDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  try {
    const started = await Promise.all(
      options.participants.map(async (participantId) => {
        const dataDir = join(baseDir, participantId.replace(':', '_'));
        await initDataDir({ dataDir, participantId, endpoints: ['127.0.0.1:1'], nowMs: Date.now() });
        const output: string[] = [];
        const ports = options.ports?.[participantId] ?? {};
        const child = spawn(
          process.execPath,
          [
            CLI_PATH,
            'start',
            '--data',
            dataDir,
            '--federation-listen',
            `127.0.0.1:${ports.federation ?? 0}`,
            '--authority-listen',
            `127.0.0.1:${ports.authority ?? 0}`,
            '--metrics-listen',
            ports.metrics === undefined ? '' : `127.0.0.1:${ports.metrics}`,
            '--log-level',
            options.logLevel ?? 'warn',
            ...(options.console ? ['--console-listen', `127.0.0.1:${ports.console ?? 0}`] : []),
          ],
          {
            env: { ...process.env, ...options.env, ...options.nodeEnv?.[participantId] },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        children.add(child);
        child.once('exit', () => children.delete(child));
        child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
        const clients: Array<{ close(): void }> = [];
        const stopNode = async (graceMs = 10_000) => {
          for (const client of clients.splice(0)) client.close();
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const timer = systemScheduler.setTimeout(() => child.kill('SIGKILL'), graceMs);
            await exited(child);
            timer.cancel();
          }
        };
        nodes.set(participantId, {
          participantId,
          dataDir,
          process: child,
          output,
          stop: stopNode,
        } as unknown as LocalNode);
        const runtime = await waitForRuntime(dataDir, child, output, options.readyTimeoutMs ?? 20_000);
        const connect = (token: string, officers: ReadonlyMap<string, LocalOfficer>): LocalNode => {
          for (const client of clients.splice(0)) client.close();
          const node: LocalNode = {
            participantId,
            dataDir,
            runtime,
            process: child,
            output,
            authority: connectUnary<AuthorityServer>(AuthorityClient, runtime.authority, token),
            cases: connectUnary<CasesServer>(CasesClient, runtime.authority, token),
            records: connectUnary<RecordsServer>(RecordsClient, runtime.authority, token),
            lookups: connectUnary<LookupsServer>(LookupsClient, runtime.authority, token),
            access: connectUnary<AccessServer>(AccessClient, runtime.authority, token),
            statistics: connectUnary<StatisticsServer>(StatisticsClient, runtime.authority, token),
            consoleUrl: runtime.console ? `https://${runtime.console}` : '',
            officers,
            stop: stopNode,
          };
          clients.push(node.authority, node.cases, node.records, node.lookups, node.access, node.statistics);
          nodes.set(participantId, node);
          return node;
        };
        const node = connect(await readAuthorityToken(dataDir), new Map());
        const specs = options.officers?.[participantId] ?? [];
        if (specs.length === 0) return node;
        // An API key first: the first administrator ends setup mode and with it the bootstrap token.
        const { apiKey } = await node.access.call('addClient', {
          clientId: 'local-federation',
          roles: ['officer', 'supervisor', 'auditor', 'administrator'],
          expiresAtMs: Date.now() + 30 * 86_400_000,
        });
        const officers = new Map<string, LocalOfficer>();
        // The key's clients from here on: once an administrator exists, the bootstrap token no longer works.
        const keyed = connect(apiKey, officers);
        for (const spec of specs) {
          const added = await keyed.access.call('addOfficer', {
            officerId: spec.officerId,
            displayName: spec.displayName ?? '',
            roles: [...spec.roles],
            password: spec.password,
            requireTotp: false,
          });
          const secret = added.totpSecret;
          officers.set(spec.officerId, {
            officerId: spec.officerId,
            password: spec.password,
            roles: spec.roles,
            totpSecret: secret,
            code: (atMs = Date.now()) => (secret === '' ? '' : totp(base32Decode(secret), atMs)),
          });
        }
        return keyed;
      }),
    );
    const cards = await Promise.all(
      started.map(async (n) => ({ id: n.participantId, card: (await n.authority.call('getNodeInfo', {})).card })),
    );
    await Promise.all(
      started.map((n) =>
        Promise.all(
          cards
            .filter((c) => c.id !== n.participantId)
            .map((c) => n.authority.call('addPeer', { card: c.card, replaceKeys: false })),
        ),
      ),
    );
    for (const { of, policy } of options.policies ?? []) {
      await federation.node(of).authority.call('setPeerPolicy', { policy: PeerPolicy.fromPartial(policy) });
    }
    return federation;
  } catch (error) {
    await federation.stop();
    throw error;
  }
}
