/**
 * The Federation port under unauthenticated and misbehaving load (issue 14, section 1;
 * docs/reliability.md, section Security). The node runs as its own process (`tracenet start`,
 * default limits) and is measured there (VmRSS); the attackers are processes of their own
 * (attacker.mjs) on loopback, from the source addresses 127.0.0.2 and up. Meanwhile a pinned peer
 * (FRA) delivers notices one after the other over its connection: each must be accepted, with a
 * p99 under one second, and the node's resident memory may grow by less than 64 MiB.
 */
import { ReceiptBody, ReceiptStatus } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSodium } from '../../src/crypto/sodium.js';
import { dataPaths, loadIdentity, type NodeIdentity } from '../../src/identity/data-dir.js';
import { type NodeProcess, ProcessBed, readAudit, requireBuiltCli, until } from '../integration/processes.js';
import { makeParty, type Party, RawFederationClient, sealFrom } from '../support/parties.js';
import { type Attack, attack, quantile, rssMiB, sampleRss } from './support.js';

/** Growth of the node's resident memory allowed during an attack (issue 14). */
const RSS_GROWTH_MIB = 64;
/** p99 of a pinned peer's Deliver during an attack (issue 14). */
const P99_MS = 1000;
const ATTACK_MS = 13_000;
/** federation.handshakeTimeoutMs by default, and slack for a loaded machine. */
const HANDSHAKE_TIMEOUT_MS = 5000;
const SLACK_MS = 2500;

const bed = new ProcessBed();
let node: NodeProcess;
let identity: NodeIdentity;
/** Pinned, and delivers while the attacks run. */
let fra: Party;
/** Pinned, and misbehaves. */
let ken: Party;
let client: RawFederationClient;

beforeAll(async () => {
  requireBuiltCli();
  await initSodium();
  const dataDir = await bed.init('BEL');
  identity = await loadIdentity(dataDir);
  [fra, ken] = await Promise.all([makeParty('FRA', Date.now()), makeParty('KEN', Date.now())]);
  for (const party of [fra, ken]) await bed.cliOk(['peers', 'add', dataPaths(party.dataDir).card, '--data', dataDir]);
  node = await bed.start(dataDir, { env: { TRACENET_LOG_LEVEL: 'error' } });
  client = new RawFederationClient(node.runtime.federation, identity.tlsCertificatePem, fra.identity.tls);
  // Warm-up: V8, LevelDB and the TLS session of FRA's connection.
  for (let i = 0; i < 50; i += 1) await deliver();
}, 60_000);

afterAll(async () => {
  client?.close();
  await bed.cleanup();
  await Promise.all([fra, ken].map((p) => p?.cleanup()));
});

/** One notice from FRA; resolves with its latency in ms once it is accepted. */
async function deliver(): Promise<number> {
  const started = performance.now();
  const receipt = await client.deliver(sealFrom(fra.identity, identity, Date.now()).bytes);
  expect(ReceiptBody.decode(receipt.body).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
  return performance.now() - started;
}

/** FRA delivers one notice every this many milliseconds during an attack, a steady peer's pace. */
const PACE_MS = 50;

/**
 * Runs the attacks: waits until each is under way (`ready`), then delivers from FRA at its pace
 * until they end, sampling the node's memory. Returns the latencies, the memory growth and the
 * attacks' reports.
 */
async function underAttack(
  attacks: Array<{ attack: Attack; ready: (s: NonNullable<ReturnType<Attack['latest']>>) => boolean; what: string }>,
) {
  const baseline = await rssMiB(node.pid);
  const rss = sampleRss(node.pid);
  try {
    for (const a of attacks)
      await until(
        () => {
          const s = a.attack.latest();
          return s !== undefined && a.ready(s);
        },
        a.what,
        ATTACK_MS,
      );
    const latencies: number[] = [];
    let ended = false;
    const all = Promise.all(attacks.map((a) => a.attack.done));
    void all.finally(() => (ended = true)).catch(() => undefined);
    while (!ended || latencies.length < 50) {
      const latency = await deliver();
      latencies.push(latency);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, PACE_MS - latency)));
    }
    const reports = await all;
    return { latencies, growthMiB: (await rss.stop()) - baseline, reports };
  } catch (error) {
    for (const a of attacks) a.attack.kill();
    await rss.stop();
    throw error;
  }
}

describe('the Federation port under attack (issue 14, section 1)', () => {
  it('800 idle TCP connections and half-open TLS handshakes from 100 addresses: capped, timed out, and a pinned peer still delivers', async () => {
    const target = node.runtime.federation;
    const idle = attack({ target, mode: 'idle', firstAddress: 2, addresses: 50, perAddress: 8, durationMs: ATTACK_MS });
    const partial = attack({
      target,
      mode: 'partial',
      firstAddress: 52,
      addresses: 50,
      perAddress: 8,
      durationMs: ATTACK_MS,
    });
    const { latencies, growthMiB, reports } = await underAttack([
      { attack: idle, ready: (s) => s.connected >= 300, what: 'idle connections' },
      { attack: partial, ready: (s) => s.connected >= 300, what: 'half-open handshakes' },
    ]);
    for (const report of reports) {
      // No connection outlives the handshake timeout, and the cap of 256 closes the rest at once.
      expect(report.longestOpenMs).toBeLessThan(HANDSHAKE_TIMEOUT_MS + SLACK_MS);
      expect(report.closedAtOnce).toBeGreaterThan(0);
    }
    expect(quantile(latencies, 0.99), `p99 of ${latencies.length} deliveries`).toBeLessThan(P99_MS);
    expect(growthMiB).toBeLessThan(RSS_GROWTH_MIB);
  }, 60_000);

  it('stalled 4 MiB messages on every stream a pinned peer may open, and an outsider without certificate: bounded memory, a pinned peer still delivers', async () => {
    const target = node.runtime.federation;
    const misbehaving = attack({
      target,
      mode: 'stall',
      // More connections than federation.maxConnectionsPerPeer (4), each with more streams than the 16 it may open.
      connections: 12,
      addresses: 12,
      streams: 32,
      tls: {
        ca: identity.tlsCertificatePem,
        cert: ken.identity.tls.certificatePem,
        key: ken.identity.tls.privateKeyPem,
      },
      durationMs: ATTACK_MS,
    });
    const outsider = attack({
      target,
      mode: 'stall',
      connections: 8,
      firstAddress: 20,
      addresses: 8,
      streams: 32,
      tls: { ca: identity.tlsCertificatePem },
      durationMs: ATTACK_MS,
    });
    const { latencies, growthMiB, reports } = await underAttack([
      { attack: misbehaving, ready: (s) => s.bytesSent >= 8 * 1024 * 1024, what: '8 MiB of stalled messages sent' },
      { attack: outsider, ready: (s) => s.sessionErrors >= 8, what: 'outsider handshakes' },
    ]);
    const [bad, stranger] = reports as [
      NonNullable<ReturnType<Attack['latest']>>,
      NonNullable<ReturnType<Attack['latest']>>,
    ];
    // The outsider never got an HTTP/2 session, let alone a gRPC answer.
    expect([stranger.sessions, stranger.statuses]).toEqual([0, {}]);
    // The pinned peer's connections over its cap were closed; its stalled messages were cancelled (DEADLINE_EXCEEDED).
    expect(bad.sessions).toBeGreaterThanOrEqual(4);
    expect(bad.sessionErrors).toBeGreaterThan(0);
    expect(bad.statuses['4'] ?? 0).toBeGreaterThan(0);
    expect(quantile(latencies, 0.99), `p99 of ${latencies.length} deliveries`).toBeLessThan(P99_MS);
    expect(growthMiB).toBeLessThan(RSS_GROWTH_MIB);
  }, 60_000);

  it('writes what it refused as at most 101 entries per source and minute (docs/protocol.md 4.13)', async () => {
    const dataDir = node.dataDir;
    expect(await node.stop()).toEqual({ code: 0, signal: null });
    const counted = (await readAudit(dataDir)).filter((e) => e.type === 'refusals.counted');
    const perInterval = new Map<number, number>();
    for (const entry of counted)
      perInterval.set(Number(entry.fromMs), (perInterval.get(Number(entry.fromMs)) ?? 0) + 1);
    expect(counted.length).toBeGreaterThan(0);
    for (const entries of perInterval.values()) expect(entries).toBeLessThanOrEqual(101);
    const reasons = new Set(counted.flatMap((e) => Object.keys(e).filter((k) => k.startsWith('refused.'))));
    expect(reasons).toContain('refused.tls.handshake_timeout');
    expect(reasons).toContain('refused.connection.max_connections');
    expect(reasons).toContain('refused.tls.no_certificate');
    expect(reasons).toContain('refused.connection.max_connections_per_peer');
  }, 60_000);
});
