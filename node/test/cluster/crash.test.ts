import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CaseRole, CaseState } from '@tracenet/proto';
import { sendNotices, until } from '../integration/processes.js';
import { Cluster, type ClusterNode, dockerForTests } from './cluster.js';
import { describeTally, exactlyOnce, figure, printFigures, skipTitle } from './counting.js';
import { listAllCases, sendTraces } from './traces.js';

const docker = await dockerForTests();
const TRACES = 1000;
const NOTICES = 200;

describe.skipIf(!docker.ok)(skipTitle('cluster tier: SIGKILL of a node container', docker), () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => printFigures());

  it('loses no receipted trace and processes none twice when BEL is killed (SIGKILL) while 1,000 traces flow', async () => {
    if (!docker.ok) return;
    cluster = await Cluster.start({
      image: docker.image,
      participants: ['FRA', 'BEL', 'KEN'],
      // BEL takes FRA's requests and acknowledges each at once: the acknowledgements flow back
      // through BEL's own outbox, which the crash must not lose or double either.
      policies: [{ of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true, autoAcknowledge: true } }],
    });
    const node = (id: string) => (cluster as Cluster).node(id);
    const [fra, bel, ken] = [node('FRA'), node('BEL'), node('KEN')] as [ClusterNode, ClusterNode, ClusterNode];

    let inboxAtKill = 0;
    const started = performance.now();
    const crash = (async () => {
      await until(
        async () => {
          inboxAtKill = (await bel.stats()).inbox;
          return inboxAtKill >= 300;
        },
        'BEL inbox >= 300',
        60_000,
        20,
      );
      await bel.kill();
      return performance.now();
    })();
    const [traceIds, noticeIds] = await Promise.all([
      sendTraces(fra.cases, 'BEL', TRACES, 16),
      sendNotices(ken.client, 'BEL', NOTICES, 4),
    ]);
    const killedAt = await crash;
    const sentMs = performance.now() - started;
    expect(await bel.exitCode()).toBe(137);
    const atCrash = await fra.stats();
    expect(atCrash.outbox, 'BEL died before FRA had delivered everything').toBeGreaterThan(0);

    await bel.start();
    const readyAt = performance.now();
    await until(
      async () => {
        const [f, k, b] = await Promise.all([fra.stats(), ken.stats(), bel.stats()]);
        return f.outbox === 0 && k.outbox === 0 && b.outbox === 0 && f.sent >= TRACES && k.sent === NOTICES;
      },
      'every outbox drained after the restart',
      90_000,
      100,
    );
    // Every request was acknowledged: BEL's acknowledgements reached FRA.
    await until(
      async () => (await listAllCases(fra.cases)).every((c) => c.state === CaseState.CASE_STATE_ACKNOWLEDGED),
      'all of FRA’s cases acknowledged',
      30_000,
      200,
    );
    const drainedAt = performance.now();

    const fraCases = await listAllCases(fra.cases);
    const belCases = (await listAllCases(bel.cases)).filter(
      (c) => c.role === CaseRole.CASE_ROLE_REQUESTED && c.peer === 'FRA',
    );
    expect(fraCases).toHaveLength(TRACES);
    expect(new Set(fraCases.map((c) => c.traceId))).toEqual(new Set(traceIds));
    // One case per trace at BEL: no request opened a second case.
    expect(belCases).toHaveLength(TRACES);
    expect(new Set(belCases.map((c) => c.traceId))).toEqual(new Set(traceIds));

    await cluster.stopNodes();
    const requests = await exactlyOnce({ senders: [fra, ken], receiver: bel, ids: noticeIds });
    const acknowledgements = await exactlyOnce({ senders: [bel], receiver: fra, ids: [] });
    expect(requests.receipted).toBe(TRACES + NOTICES);
    expect(acknowledgements.receipted).toBe(TRACES);
    figure(
      `SIGKILL of BEL (container) at inbox ${inboxAtKill}, ${Math.round(killedAt - started)} ms into the run; ` +
        `1,000 traces + 200 notices accepted in ${Math.round(sentMs)} ms, FRA then had ${atCrash.outbox} queued; BEL started again after that, ready ${Math.round(readyAt - killedAt)} ms after the kill; ` +
        `all delivered and acknowledged ${Math.round(drainedAt - readyAt)} ms after ready`,
    );
    figure(`  FRA+KEN -> BEL: ${describeTally(requests)}`);
    figure(`  BEL -> FRA acknowledgements: ${describeTally(acknowledgements)}`);
  }, 180_000);
});
