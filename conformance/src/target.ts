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

/** A node the suite started with `--spawn`. */
export interface SpawnedTarget {
  readonly address: TargetAddress;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** What the command wrote on stdout and stderr. */
  output(): string;
  /** SIGTERM to the command's process group, SIGKILL after `graceMs`; deletes the data directory unless kept. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** What `<data>/node.json` must say once the node is ready (docs/conformance.md). */
interface ReadyFile {
  readonly federation?: unknown;
  readonly authority?: unknown;
  readonly token?: unknown;
}

/**
 * Starts a node under test with a shell command and waits until it is ready. The command gets an
 * empty data directory in `TRACENET_CONFORMANCE_DATA` and must, once both ports serve, write
 * `<data>/node.json` with `federation` and `authority` ("host:port"); the Authority token is its
 * `token` member or the content of `<data>/keys/authority.token` (what the reference node does).
 *
 * @example
 * ```ts
 * const spawned = await spawnTarget('tracenet init --id FRA --data "$TRACENET_CONFORMANCE_DATA" && exec tracenet start --data "$TRACENET_CONFORMANCE_DATA"');
 * const target = await connectTarget(spawned.address);
 * ```
 */
export async function spawnTarget(command: string, options: { readyTimeoutMs?: number; keep?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<SpawnedTarget> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tracenet-conformance-target-'));
  const output: string[] = [];
  const child = spawn('/bin/sh', ['-c', command], {
    env: { ...process.env, ...options.env, [DATA_ENV]: dataDir },
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
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000) => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup('SIGTERM');
        const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', onExit);
      if (!options.keep) await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the node command exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output.join('')}`);
      }
      const ready = await readReady(dataDir);
      if (ready) return { address: ready, dataDir, process: child, output: () => output.join(''), stop };
      if (Date.now() > deadline) throw new Error(`the node was not ready (no ${join(dataDir, 'node.json')}) after ${options.readyTimeoutMs ?? 30_000} ms:\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await stop(2000);
    throw error;
  }
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
