import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MessageDirection } from '@tracenet/proto';
import { sendNotices, until } from '../integration/processes.js';
import { Cluster, dockerForTests } from './cluster.js';
import { describeTally, exactlyOnce, figure, printFigures, skipTitle } from './counting.js';

const docker = await dockerForTests();
const { MESSAGE_DIRECTION_INBOX: INBOX } = MessageDirection;

/** How long the partition lasts: longer than the outbox's maximum backoff (5 s) and the attempt timeout (10 s). */
const PARTITION_MS = 15_000;
/** What a queued message may take to arrive once the network is back (docs/reliability.md 1). */
const DELIVERY_BUDGET_MS = 10_000;

describe.skipIf(!docker.ok)(skipTitle('cluster tier: network partition', docker), () => {
  let cluster: Cluster | undefined;
  /** How long after the reconnection the slower of FRA and BEL had delivered its queue (test 1). */
  let slowestMs: number | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => printFigures());

  it('delivers every message queued for a partitioned node exactly once after reconnection, without new traffic', async () => {
    if (!docker.ok) return;
    cluster = await Cluster.start({ image: docker.image, participants: ['FRA', 'BEL', 'KEN'] });
    const [fra, bel, ken] = ['FRA', 'BEL', 'KEN'].map((id) => cluster!.node(id)) as [
      ReturnType<Cluster['node']>,
      ReturnType<Cluster['node']>,
      ReturnType<Cluster['node']>,
    ];

    // Warm channels: both senders have a live connection to KEN when it is cut off.
    const warm = [...(await sendNotices(fra.client, 'KEN', 10)), ...(await sendNotices(bel.client, 'KEN', 10))];
    await until(
      async () => (await fra.stats()).sent === 10 && (await bel.stats()).sent === 10,
      'warm-up delivered',
      20_000,
      50,
    );

    const address = await ken.disconnect();
    const cutAt = performance.now();
    const queued = [...(await sendNotices(fra.client, 'KEN', 100)), ...(await sendNotices(bel.client, 'KEN', 100))];
    // Nothing gets through while the partition lasts.
    await new Promise((r) => setTimeout(r, PARTITION_MS - (performance.now() - cutAt)));
    const during = await Promise.all([fra, bel].map((n) => n.stats()));
    expect(during.map((s) => s.outbox)).toEqual([100, 100]);
    expect(during.map((s) => s.failed)).toEqual([0, 0]);

    await ken.reconnect(address);
    const healedAt = performance.now();
    const drainedAt = new Map<string, number>();
    await until(
      async () => {
        for (const n of [fra, bel]) {
          if (drainedAt.has(n.participantId)) continue;
          const s = await n.stats();
          if (s.outbox === 0 && s.sent === 110) drainedAt.set(n.participantId, performance.now() - healedAt);
        }
        return drainedAt.size === 2;
      },
      'FRA and BEL outboxes drained after the partition healed',
      60_000,
      100,
    );
    slowestMs = Math.max(...drainedAt.values());
    figure(
      `partition of KEN for ${Math.round(healedAt - cutAt)} ms with 200 notices queued (FRA 100, BEL 100): ` +
        `all delivered ${Math.round(drainedAt.get('FRA') ?? 0)} ms (FRA) / ${Math.round(drainedAt.get('BEL') ?? 0)} ms (BEL) after reconnection`,
    );

    // Why the senders waited: their failed attempts (time relative to the reconnection, gRPC code).
    const healedWall = Date.now() - (performance.now() - healedAt);
    for (const n of [fra, bel]) {
      const attempts = (await n.logs(2000))
        .split('\n')
        .filter((l) => l.includes('delivery attempt failed'))
        .map((l) => JSON.parse(l) as { time: number; code: string; failures: number });
      figure(
        `  ${n.participantId} failed attempts (ms from reconnection: code): ${attempts
          .slice(-6)
          .map((a) => `${Math.round(a.time - healedWall)}: ${a.code}`)
          .join(', ')}`,
      );
    }

    await ken.ready();
    const inbox = await ken.listAll(INBOX);
    expect(inbox).toHaveLength(warm.length + queued.length);
    await cluster.stopNodes();
    figure(
      `  FRA+BEL -> KEN: ${describeTally(await exactlyOnce({ senders: [fra, bel], receiver: ken, ids: [...warm, ...queued] }))}`,
    );
  }, 120_000);

  // The budget of issue 8. It held only once the transport waited for the channel (waitForReady)
  // and dropped a channel whose call ran out of time: before, an attempt on the connection that
  // died in the partition waited out its 10 s and delivery resumed about 13 s after reconnection.
  it('delivers them within 10 s of reconnection', () => {
    expect(slowestMs, 'the partition test above did not measure a delivery time').toBeDefined();
    expect(slowestMs, `slowest outbox drained ${Math.round(slowestMs ?? 0)} ms after reconnection`).toBeLessThan(
      DELIVERY_BUDGET_MS,
    );
  });
});
