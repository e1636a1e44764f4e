import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { until } from '../integration/processes.js';
import { Cluster, type ClusterNode, dockerForTests } from './cluster.js';
import { exactlyOnce, figure, printFigures, skipTitle } from './counting.js';

const docker = await dockerForTests();
const IDS = ['FRA', 'BEL', 'KEN'] as const;

/**
 * Notices from every node to every other, one call at a time per pair with `pauseMs` between calls,
 * until stopped. A call that fails (its sender is down) is counted and retried later; only ids the
 * API returned are in `ids` (a call cut off by a stop may still have queued its message).
 */
class Traffic {
  readonly ids = new Map<string, string[]>();
  failedCalls = 0;
  #running = true;
  readonly #loops: Promise<void>[] = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly pauseMs = 20,
  ) {
    for (const from of IDS) {
      for (const to of IDS) {
        if (from !== to) this.#loops.push(this.#loop(from, to));
      }
    }
  }

  async #loop(from: string, to: string): Promise<void> {
    const ids: string[] = [];
    this.ids.set(`${from}>${to}`, ids);
    for (let i = 0; this.#running; i++) {
      try {
        const { messageId } = await this.cluster
          .node(from)
          .client.call(
            'sendNotice',
            { recipient: to, subject: `traffic ${i}`, text: `from ${from} to ${to}, number ${i}`, correlationId: '' },
            2000,
          );
        ids.push(messageId);
        await new Promise((r) => setTimeout(r, this.pauseMs));
      } catch {
        this.failedCalls++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  get accepted(): number {
    return [...this.ids.values()].reduce((n, ids) => n + ids.length, 0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }
}

async function drained(cluster: Cluster, what: string): Promise<number> {
  const since = performance.now();
  await until(
    async () =>
      (await Promise.all([...cluster.nodes.values()].map((n) => n.stats()))).every(
        (s) => s.outbox === 0 && s.failed === 0,
      ),
    what,
    60_000,
    100,
  );
  return performance.now() - since;
}

/** The exactly-once check for every ordered pair of the cluster (its nodes stopped). */
async function everyPairExactlyOnce(cluster: Cluster, traffic: Traffic): Promise<string> {
  let receipted = 0;
  let duplicates = 0;
  for (const to of IDS) {
    for (const from of IDS) {
      if (from === to) continue;
      const tally = await exactlyOnce({
        senders: [cluster.node(from)],
        receiver: cluster.node(to),
        ids: traffic.ids.get(`${from}>${to}`) ?? [],
      });
      receipted += tally.receipted;
      duplicates += tally.duplicates;
    }
  }
  return `${receipted} receipted = ${receipted} in inboxes and audited once each; ${duplicates} redeliveries answered as duplicates`;
}

describe.skipIf(!docker.ok)(skipTitle('cluster tier: pause and rolling restart under traffic', docker), () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => printFigures());

  it('delivers everything exactly once when BEL is frozen (docker pause) for 8 s while traffic flows', async () => {
    if (!docker.ok) return;
    cluster = await Cluster.start({ image: docker.image, participants: [...IDS] });
    const bel: ClusterNode = cluster.node('BEL');
    const traffic = new Traffic(cluster);
    await new Promise((r) => setTimeout(r, 3000));
    await bel.pause();
    const pausedAt = performance.now();
    await new Promise((r) => setTimeout(r, 8000));
    const queued = await Promise.all(['FRA', 'KEN'].map(async (id) => (await cluster!.node(id).stats()).outbox));
    await bel.unpause();
    const unpausedAt = performance.now();
    await new Promise((r) => setTimeout(r, 3000));
    await traffic.stop();
    const drainMs = await drained(cluster, 'all outboxes drained after the unpause');
    // The freeze was real: FRA and KEN had to queue for BEL.
    expect(
      queued.every((n) => n > 0),
      `FRA and KEN queued messages for the frozen BEL: ${queued.join(', ')}`,
    ).toBe(true);
    await cluster.stopNodes();
    const summary = await everyPairExactlyOnce(cluster, traffic);
    figure(
      `pause of BEL for ${Math.round(unpausedAt - pausedAt)} ms under traffic (6 pairs): FRA/KEN had ${queued.join('/')} queued for it; ` +
        `${traffic.accepted} notices accepted (${traffic.failedCalls} API calls refused while BEL was frozen); drained ${Math.round(drainMs)} ms after traffic stopped; ${summary}`,
    );
  }, 120_000);

  it('delivers everything exactly once through a rolling restart (docker stop + start) of all three nodes while traffic flows', async () => {
    if (!docker.ok) return;
    cluster = await Cluster.start({ image: docker.image, participants: [...IDS] });
    const traffic = new Traffic(cluster);
    await new Promise((r) => setTimeout(r, 2000));
    const restarts: string[] = [];
    for (const id of IDS) {
      const node = cluster.node(id);
      const began = performance.now();
      await node.stop();
      expect(await node.exitCode(), `${id} stopped gracefully:\n${await node.logs()}`).toBe(0);
      await node.start();
      restarts.push(`${id} ${Math.round(performance.now() - began)} ms`);
      await new Promise((r) => setTimeout(r, 1500));
    }
    await traffic.stop();
    const drainMs = await drained(cluster, 'all outboxes drained after the rolling restart');
    await cluster.stopNodes();
    const summary = await everyPairExactlyOnce(cluster, traffic);
    figure(
      `rolling restart (stop + start, down time each: ${restarts.join(', ')}) under traffic: ${traffic.accepted} notices accepted, ` +
        `${traffic.failedCalls} API calls refused while their node was down; drained ${Math.round(drainMs)} ms after traffic stopped; ${summary}`,
    );
  }, 150_000);
});
