import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { DEFAULT_CONFIG, type NodeConfig } from '../../src/config/config.js';
import { initSodium } from '../../src/crypto/sodium.js';
import { initDataDir } from '../../src/identity/data-dir.js';
import { TracenetNode } from '../../src/node.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import type { Clock } from '../../src/util/clock.js';
import type { Transport } from '../../src/federation/transport.js';

/** A logger that prints nothing unless TRACENET_TEST_LOG is set (then at that level). */
export function testLogger(): Logger {
  return pino({ level: process.env.TRACENET_TEST_LOG ?? 'silent' });
}

/** Deeply merges config overrides into the defaults, with both ports on loopback port 0. */
export function testConfig(overrides: { [K in keyof NodeConfig]?: Partial<NodeConfig[K]> } = {}): NodeConfig {
  const base: NodeConfig = {
    ...DEFAULT_CONFIG,
    federation: { ...DEFAULT_CONFIG.federation, listen: '127.0.0.1:0', advertise: [] },
    authority: { ...DEFAULT_CONFIG.authority, listen: '127.0.0.1:0' },
    metrics: { listen: '' },
    workflow: { deadlineCheckIntervalMs: 0, autoAnswerRetryMs: 100 },
    outbox: { ...DEFAULT_CONFIG.outbox, initialBackoffMs: 50, maxBackoffMs: 500, attemptTimeoutMs: 2000 },
  };
  const merged = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides))
    merged[key] = { ...(base as unknown as Record<string, object>)[key], ...value };
  return merged as unknown as NodeConfig;
}

/** A temporary data directory with an initialised identity. */
export async function makeDataDir(participantId: string, nowMs = Date.now()): Promise<string> {
  await initSodium();
  const dataDir = await mkdtemp(join(tmpdir(), `tracenet-${participantId.replace(':', '_')}-`));
  await initDataDir({ dataDir, participantId, endpoints: ['127.0.0.1:1'], nowMs });
  return dataDir;
}

/** A started in-process node on loopback ports with its data directory and a cleanup. */
export interface TestNode {
  readonly node: TracenetNode;
  readonly dataDir: string;
  /** Stops the node and deletes its data directory. Idempotent. */
  cleanup(): Promise<void>;
}

/**
 * Starts a real node (real LevelDB, real gRPC with TLS, real crypto) in this process; with
 * `memory`, on an in-memory store (a test whose subject is not storage).
 */
export async function startNode(
  participantId: string,
  options: { clock?: Clock; config?: NodeConfig; transport?: Transport; dataDir?: string; memory?: boolean } = {},
): Promise<TestNode> {
  const dataDir = options.dataDir ?? (await makeDataDir(participantId, options.clock?.now()));
  const node = await TracenetNode.open({
    dataDir,
    config: options.config ?? testConfig(),
    logger: testLogger(),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.transport ? { transport: options.transport } : {}),
    ...(options.memory ? { store: await openMemoryStore() } : {}),
  });
  await node.start();
  let cleaned = false;
  return {
    node,
    dataDir,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await node.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Pins every node's current card on every other node. */
export async function pinAll(nodes: readonly TracenetNode[], nowMs = Date.now()): Promise<void> {
  for (const a of nodes) for (const b of nodes) if (a !== b) await a.peers.pin(b.card, nowMs);
}

/** Resolves when `predicate` holds, polling every 20 ms; rejects after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
