import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorityClient,
  type AuthorityServer,
  CasesClient,
  type CasesServer,
  LookupsClient,
  type LookupsServer,
  type PeerCard,
  type PeerCardBody,
  RecordsClient,
  type RecordsServer,
} from '@tracenet/proto';
import { type ServiceClient, serviceClient } from './service-client.js';
import { cardOfFile, initCodec, pem, verifyCard } from './codec/index.js';

/** How to reach a node under test: the two ports and what authenticates each. */
export interface TargetAddress {
  /** Authority API, "host:port" (plaintext, loopback). */
  readonly authority: string;
  /** The bearer token of the Authority API. */
  readonly token: string;
  /** Federation port, "host:port"; taken from `GetNodeInfo` when absent. */
  readonly federation?: string;
  /** The node's peer card (its TLS certificate is pinned); taken from `GetNodeInfo` when absent. */
  readonly card?: PeerCard;
}

/** A node under test, connected: its identity as its card says, and clients for its Authority port. */
export interface Target {
  readonly participantId: string;
  readonly keyId: string;
  readonly card: PeerCard;
  readonly cardBody: PeerCardBody;
  /** Federation address the suite dials. */
  readonly federation: string;
  /** PEM of the Federation port's certificate, the only trust anchor of the suite's client (protocol 2.5). */
  readonly tlsCertificatePem: string;
  readonly authorityAddress: string;
  readonly token: string;
  readonly authority: ServiceClient<AuthorityServer>;
  readonly cases: ServiceClient<CasesServer>;
  readonly records: ServiceClient<RecordsServer>;
  readonly lookups: ServiceClient<LookupsServer>;
  close(): void;
}

/**
 * Connects to a node under test: asks `GetNodeInfo` (which also proves the token works), verifies
 * its card (protocol 2.3) and prepares a client per Authority service.
 */
export async function connectTarget(address: TargetAddress): Promise<Target> {
  await initCodec();
  const authority = serviceClient<AuthorityServer>(AuthorityClient, address.authority, address.token);
  try {
    const info = await authority.call('getNodeInfo', {}, 10_000);
    const card = address.card ?? info.card;
    if (!card) throw new Error('GetNodeInfo returned no card and none was given (--card)');
    const cardBody = verifyCard(card, Date.now());
    const federation = address.federation ?? (info.federationAddress || cardBody.endpoints[0]);
    if (!federation) throw new Error('the node told no Federation address and none was given (--federation)');
    const tlsCertificatePem = pem('CERTIFICATE', cardBody.tlsCertificate);
    const cases = serviceClient<CasesServer>(CasesClient, address.authority, address.token);
    const records = serviceClient<RecordsServer>(RecordsClient, address.authority, address.token);
    const lookups = serviceClient<LookupsServer>(LookupsClient, address.authority, address.token);
    return {
      participantId: cardBody.participantId,
      keyId: cardBody.keyId,
      card,
      cardBody,
      federation,
      tlsCertificatePem,
      authorityAddress: address.authority,
      token: address.token,
      authority,
      cases,
      records,
      lookups,
      close() {
        for (const client of [authority, cases, records, lookups]) client.close();
      },
    };
  } catch (error) {
    authority.close();
    throw error;
  }
}

/** Reads a card file (`tracenet peers export`, protocol 2.6). */
export async function readCardFile(path: string): Promise<PeerCard> {
  return cardOfFile(await readFile(path, 'utf8'));
}

/** The environment variable naming the data directory a spawned node must use. */
export const DATA_ENV = 'TRACENET_CONFORMANCE_DATA';

/**
 * What the suite may ask of a node it spawns, besides its data directory (docs/conformance.md
 * section 3): each becomes one environment variable of the command.
 */
export interface SpawnIdentity {
  /** `TRACENET_CONFORMANCE_ID`: the node's participant id. */
  readonly participantId?: string;
  /** `TRACENET_CONFORMANCE_KEYS` = `<Ed25519 seed hex>:<X25519 secret key hex>`: the node's keys. */
  readonly keys?: { readonly signingSeed: Uint8Array; readonly encryptionSecretKey: Uint8Array };
  /** `TRACENET_CONFORMANCE_ROSTER_KEY`: the federation operator's Ed25519 public key (hex) the node trusts for rosters (15.4). */
  readonly rosterKey?: Uint8Array;
  /** `TRACENET_CONFORMANCE_FEDERATION`: the name of the node's federation, which rosters must carry (15.4); given with `rosterKey`. */
  readonly federation?: string;
  /** `TRACENET_CONFORMANCE_ROSTER_GRACE_MS`: the node's roster grace (15.5). */
  readonly rosterGraceMs?: number;
}

/** The environment variables of {@link SpawnIdentity}. */
export function spawnEnvironment(identity: SpawnIdentity): Record<string, string> {
  const env: Record<string, string> = {};
  if (identity.participantId) env.TRACENET_CONFORMANCE_ID = identity.participantId;
  if (identity.keys)
    env.TRACENET_CONFORMANCE_KEYS = `${Buffer.from(identity.keys.signingSeed.subarray(0, 32)).toString('hex')}:${Buffer.from(identity.keys.encryptionSecretKey).toString('hex')}`;
  if (identity.rosterKey) env.TRACENET_CONFORMANCE_ROSTER_KEY = Buffer.from(identity.rosterKey).toString('hex');
  if (identity.federation !== undefined) env.TRACENET_CONFORMANCE_FEDERATION = identity.federation;
  if (identity.rosterGraceMs !== undefined) env.TRACENET_CONFORMANCE_ROSTER_GRACE_MS = String(identity.rosterGraceMs);
  return env;
}

/** A node the suite started with `--spawn`. */
export interface SpawnedTarget {
  /** Where it serves now (new ports after each restart). */
  readonly address: TargetAddress;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** What the command wrote on stdout and stderr, over every start. */
  output(): string;
  /**
   * Stops the node (SIGTERM to the process group, as {@link stop}) and runs the command again on
   * the same data directory, which now holds the node's data; resolves once it is ready again.
   */
  restart(): Promise<TargetAddress>;
  /** SIGTERM to the command's process group, SIGKILL after `graceMs`; deletes the data directory unless kept. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** What `<data>/node.json` must say once the node is ready (docs/conformance.md). */
interface ReadyFile {
  readonly federation?: unknown;
  readonly authority?: unknown;
  readonly token?: unknown;
}

/** How to start a node: the command and what the suite asks of it. */
export interface SpawnOptions {
  readonly readyTimeoutMs?: number;
  readonly keep?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** One run of the command in `dataDir`, until it exits. */
interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /**
   * SIGTERM, then SIGKILL after `graceMs`; resolves once every process of the group exited (a
   * node started by the command's shell may still be closing its store after the shell ended).
   */
  stop(graceMs: number): Promise<void>;
}

function launch(command: string, dataDir: string, env: NodeJS.ProcessEnv, output: string[]): Run {
  const child = spawn('/bin/sh', ['-c', command], {
    env: { ...process.env, ...env, [DATA_ENV]: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const groupAlive = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 0);
      return child.pid !== undefined;
    } catch {
      return false;
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  void exited.then(() => process.off('exit', onExit));
  return {
    child,
    exited,
    async stop(graceMs) {
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      await exited;
      while (groupAlive()) await new Promise((r) => setTimeout(r, 20));
      clearTimeout(timer);
    },
  };
}

async function waitReady(run: Run, dataDir: string, readyTimeoutMs: number, output: string[]): Promise<TargetAddress> {
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) {
      throw new Error(
        `the node command exited (${run.child.exitCode ?? run.child.signalCode}) before it was ready:\n${output.join('')}`,
      );
    }
    const ready = await readReady(dataDir);
    if (ready) return ready;
    if (Date.now() > deadline)
      throw new Error(
        `the node was not ready (no ${join(dataDir, 'node.json')}) after ${readyTimeoutMs} ms:\n${output.join('')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a node under test with a shell command and waits until it is ready. The command gets an
 * empty data directory in `TRACENET_CONFORMANCE_DATA` and must, once both ports serve, write
 * `<data>/node.json` with `federation` and `authority` ("host:port"); the Authority token is its
 * `token` member or the content of `<data>/keys/authority.token` (what the reference node does).
 * `restart()` runs it again on the same directory, which then holds the node's data.
 *
 * @example
 * ```ts
 * const spawned = await spawnTarget('[ -f "$TRACENET_CONFORMANCE_DATA/identity.json" ] || tracenet init --id FRA --data "$TRACENET_CONFORMANCE_DATA"; exec tracenet start --data "$TRACENET_CONFORMANCE_DATA"');
 * const target = await connectTarget(spawned.address);
 * ```
 */
export async function spawnTarget(command: string, options: SpawnOptions = {}): Promise<SpawnedTarget> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tracenet-conformance-target-'));
  const output: string[] = [];
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const env = options.env ?? {};
  let run = launch(command, dataDir, env, output);
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000) => {
    stopping ??= (async () => {
      await run.stop(graceMs);
      if (!options.keep) await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  let address: TargetAddress;
  try {
    address = await waitReady(run, dataDir, readyTimeoutMs, output);
  } catch (error) {
    await stop(2000);
    throw error;
  }
  return {
    get address() {
      return address;
    },
    dataDir,
    get process() {
      return run.child;
    },
    output: () => output.join(''),
    async restart() {
      if (stopping) throw new Error('the node was stopped for good');
      await run.stop(10_000);
      await rm(join(dataDir, 'node.json'), { force: true });
      run = launch(command, dataDir, env, output);
      address = await waitReady(run, dataDir, readyTimeoutMs, output);
      return address;
    },
    stop,
  };
}

async function readReady(dataDir: string): Promise<TargetAddress | undefined> {
  let file: ReadyFile;
  try {
    file = JSON.parse(await readFile(join(dataDir, 'node.json'), 'utf8')) as ReadyFile;
  } catch {
    return undefined;
  }
  if (typeof file.authority !== 'string' || typeof file.federation !== 'string') return undefined;
  let token = typeof file.token === 'string' ? file.token : undefined;
  if (token === undefined) {
    try {
      token = (await readFile(join(dataDir, 'keys', 'authority.token'), 'utf8')).trim();
    } catch {
      return undefined;
    }
  }
  return { authority: file.authority, federation: file.federation, token };
}
