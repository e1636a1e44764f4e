import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPaths, readAuthorityToken, type RuntimeInfo } from '@tracenet/node';
import {
  CLI_PATH,
  type LocalFederation,
  type LocalFederationOptions,
  type LocalNodePorts,
  startLocalFederation,
} from '@tracenet/node/dev';
import { connect, type TracenetClient } from './client.js';

export type { LocalNodePorts } from '@tracenet/node/dev';
export {
  registryAdapterContract,
  CONTRACT_RECORDS,
  CONTRACT_NOW,
  CONTRACT_ALIASES_CSV,
  type ContractRecordName,
  type ContractAdapter,
  type ContractCheck,
  type AdapterContract,
  type AdapterContractOptions,
  type ContractRegistry,
} from './adapter-contract.js';

/** What a test needs to know about one node of a test federation. */
export interface TestNodeInfo {
  readonly participantId: string;
  readonly dataDir: string;
  /** Authority address `127.0.0.1:<port>` (the SDK client connects here). */
  readonly authorityAddress: string;
  readonly federationAddress: string;
  readonly token: string;
  /** Process id of the node now running. */
  readonly pid: number;
}

/** How to start a test federation. */
export interface TestFederationOptions {
  /** Participant ids, e.g. `['FRA', 'BEL']`. */
  readonly participants: readonly string[];
  /** Peer policies to set once every card is pinned (as `startLocalFederation`). */
  readonly policies?: LocalFederationOptions['policies'];
  /** Node log level (default `warn`). */
  readonly logLevel?: string;
  /** Extra environment of every node. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Extra environment of one node, by participant id (after `env`): e.g. a node answering from a
   * PostgreSQL registry, `{ BEL: { TRACENET_REGISTRY_ADAPTER: 'postgres', TRACENET_REGISTRY_POSTGRES_URL: url } }`.
   */
  readonly nodeEnv?: Readonly<Record<string, NodeJS.ProcessEnv>>;
  /**
   * Fixed loopback ports of a node, by participant id, e.g. `{ BEL: { authority: 7444, metrics: 9464 } }`;
   * ports not given are ephemeral, metrics off. A port that is taken fails the start with an error
   * naming the participant and the port, before any node starts.
   */
  readonly ports?: Readonly<Record<string, LocalNodePorts>>;
}

/** Real nodes on loopback, pinned to each other, with one SDK client per participant. */
export interface TestFederation {
  readonly participants: readonly string[];
  /** The base directory holding every node's data directory (deleted by `stop`). */
  readonly baseDir: string;
  /** The SDK client of a participant (one per participant, closed by `stop`). */
  client(participantId: string): TracenetClient;
  node(participantId: string): TestNodeInfo;
  /**
   * Stops the node with SIGTERM and starts it again on the same data directory and ports, e.g. to
   * test what a client does across a restart. Clients stay usable (the channel reconnects).
   */
  restart(participantId: string): Promise<TestNodeInfo>;
  /** Stops every node and deletes every directory. Idempotent. */
  stop(): Promise<void>;
}

/** Federations of this process not stopped yet: the exit hook cleans up after a crashed test run. */
const live = new Set<{ baseDir: string; processes: () => ChildProcess[] }>();
process.once('exit', () => {
  for (const federation of live) {
    for (const child of federation.processes())
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(federation.baseDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  }
});

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

async function waitForRuntime(
  dataDir: string,
  child: ChildProcess,
  output: string[],
  timeoutMs = 20_000,
): Promise<RuntimeInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`node in ${dataDir} exited before it was ready:\n${output.join('')}`);
    try {
      const runtime = JSON.parse(await readFile(dataPaths(dataDir).runtime, 'utf8')) as RuntimeInfo;
      if (runtime.pid === child.pid) return runtime;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline)
      throw new Error(`node in ${dataDir} was not ready after ${timeoutMs} ms:\n${output.join('')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts one real `tracenet` node process per participant on ephemeral loopback ports, each in its
 * own directory under a new temporary directory, pins every card on every other node, and returns
 * an SDK client per participant. Nodes run as separate processes (it wraps `startLocalFederation`
 * of `@tracenet/node/dev`) rather than inside the test process: a test can then stop and restart a node
 * for real, a crashing node cannot take the test runner with it, and what is tested is what runs
 * in production. `stop()` removes everything; should a test run die before calling it, an exit
 * hook kills the nodes and deletes the directories.
 *
 * @example
 * ```ts
 * import { createTestFederation } from '@tracenet/sdk/testing';
 * const federation = await createTestFederation({ participants: ['FRA', 'BEL'] });
 * try {
 *   const fra = federation.client('FRA');
 *   await fra.authority.sendNotice({ recipient: 'BEL', subject: 'hello', text: 'hi', correlationId: '' });
 * } finally {
 *   await federation.stop();
 * }
 * ```
 */
export async function createTestFederation(options: TestFederationOptions): Promise<TestFederation> {
  const baseDir = await mkdtemp(join(tmpdir(), 'tracenet-test-'));
  let local: LocalFederation | undefined;
  /** Processes started by `restart`, not known to `startLocalFederation`. */
  const restarted = new Map<string, ChildProcess>();
  const infos = new Map<string, TestNodeInfo>();
  const clients = new Map<string, TracenetClient>();
  const entry = {
    baseDir,
    processes: () => [...(local ? [...local.nodes.values()].map((n) => n.process) : []), ...restarted.values()],
  };
  live.add(entry);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      for (const client of clients.values()) client.close();
      await Promise.all([...restarted.values()].map((child) => stopProcess(child)));
      await local?.stop();
      await rm(baseDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      live.delete(entry);
    })();
    return stopped;
  };

  try {
    local = await startLocalFederation({
      participants: options.participants,
      baseDir,
      keep: true,
      ...(options.policies ? { policies: options.policies } : {}),
      ...(options.logLevel ? { logLevel: options.logLevel } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.nodeEnv ? { nodeEnv: options.nodeEnv } : {}),
      ...(options.ports ? { ports: options.ports } : {}),
    });
    for (const node of local.nodes.values()) {
      const token = await readAuthorityToken(node.dataDir);
      infos.set(node.participantId, {
        participantId: node.participantId,
        dataDir: node.dataDir,
        authorityAddress: node.runtime.authority,
        federationAddress: node.runtime.federation,
        token,
        pid: node.runtime.pid,
      });
      clients.set(node.participantId, connect({ address: node.runtime.authority, token }));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const info = (participantId: string): TestNodeInfo => {
    const found = infos.get(participantId);
    if (!found) throw new Error(`${participantId} is not part of this test federation`);
    return found;
  };

  return {
    participants: [...options.participants],
    baseDir,
    client(participantId) {
      info(participantId);
      return clients.get(participantId) as TracenetClient;
    },
    node: info,
    async restart(participantId) {
      const current = info(participantId);
      const previous = restarted.get(participantId);
      if (previous) await stopProcess(previous);
      else await local?.node(participantId).stop();
      const output: string[] = [];
      const child = spawn(
        process.execPath,
        [
          CLI_PATH,
          'start',
          '--data',
          current.dataDir,
          '--federation-listen',
          current.federationAddress,
          '--authority-listen',
          current.authorityAddress,
          '--metrics-listen',
          options.ports?.[participantId]?.metrics === undefined
            ? ''
            : `127.0.0.1:${options.ports[participantId].metrics}`,
          '--log-level',
          options.logLevel ?? 'warn',
        ],
        {
          env: { ...process.env, ...options.env, ...options.nodeEnv?.[participantId] },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      restarted.set(participantId, child);
      child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      const runtime = await waitForRuntime(current.dataDir, child, output);
      const next = { ...current, pid: runtime.pid };
      infos.set(participantId, next);
      return next;
    },
    stop,
  };
}
