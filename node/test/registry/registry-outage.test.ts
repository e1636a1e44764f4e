import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Client,
  credentials,
  makeClientConstructor,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthorityClient,
  type AuthorityServer,
  type Case,
  CaseState,
  PeerPolicy,
  ReasonCode,
  TraceOutcome,
  WeaponType,
} from '@tracenet/proto';
import { connectUnary } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import type { TracenetNode } from '../../src/node.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { RECORDS_UNAVAILABLE_DELAY } from '../../src/workflow/automatic.js';
import { pinAll, startNode, testConfig, type TestNode, waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';
import { FIXTURE } from './fixtures.js';

/**
 * A registry outage as the operator and the requesting officer see it (docs/operations-metrics.md
 * 1.1, docs/protocol.md 12.8): BEL answers from an integrator's adapter module that fails like an
 * unreachable database while `globalThis.registryOutage` is set. Everything runs on logical time;
 * real gRPC, LevelDB and HTTP.
 */
const OUTAGE_MODULE = `
const record = ${JSON.stringify({ ...FIXTURE.fal, recordId: 'flaky_1' })};
export async function createAdapter() {
  const down = () => {
    if (globalThis.registryOutage)
      throw new Error('connect ECONNREFUSED 10.0.0.7:5432 (postgres://tracenet:s3cret@10.0.0.7:5432/registry)');
  };
  return {
    kind: 'flaky',
    idPrefix: 'flaky_',
    async open() {},
    async close() {},
    async check() { down(); },
    async findBySerial(pattern) { down(); return pattern.test('FN19980042') ? [record] : []; },
    async get(id) { down(); return id === record.recordId ? record : undefined; },
  };
}
`;

const outage = (on: boolean) => {
  (globalThis as { registryOutage?: boolean }).registryOutage = on;
};

type HealthClient = Client & {
  Check(
    request: { service: string },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
};
const HealthClientConstructor = makeClientConstructor(
  healthService as unknown as ServiceDefinition,
  'grpc.health.v1.Health',
);

function health(node: TracenetNode, service: string): Promise<string> {
  const client = new HealthClientConstructor(
    node.authorityAddress,
    credentials.createInsecure(),
  ) as unknown as HealthClient;
  return new Promise<string>((resolve, reject) => {
    client.Check({ service }, (error, response) => (error ? reject(error) : resolve(response?.status ?? '')));
  }).finally(() => client.close());
}

async function scrape(node: TracenetNode): Promise<string> {
  const response = await fetch(`http://${node.metrics.address}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one sample of the exposition text, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const UNAVAILABLE_NOTE = /^records unavailable \(UNAVAILABLE\)/;
const notes = (c: Case) => c.timeline.filter((t) => UNAVAILABLE_NOTE.test(t.summary));
const delays = (c: Case) => c.timeline.filter((t) => t.toState === CaseState.CASE_STATE_DELAYED);

describe('a registry outage', () => {
  // Not before the real time: TLS certificates are issued with the real clock and checked with this one.
  const scheduler = new ManualScheduler(Math.max(Date.UTC(2026, 0, 5, 9), Date.now()));
  let dir: string;
  let fra: TestNode;
  const bels: TestNode[] = [];
  const bel = () => bels.at(-1) as TestNode;
  const config = () =>
    testConfig({
      registry: {
        adapter: 'module',
        module: join(dir, 'outage.mjs'),
        healthCheckIntervalMs: 30_000,
        outageDelayAfterMs: 15 * 60_000,
      },
      workflow: { deadlineCheckIntervalMs: 0, autoAnswerRetryMs: 5000 },
      metrics: { listen: '127.0.0.1:0' },
    });

  /** Stops BEL and starts it again on the same data directory, as an operator's restart. */
  async function restartBel(): Promise<void> {
    await bel().node.stop();
    bels.push(await startNode('BEL', { clock: scheduler, config: config(), dataDir: bel().dataDir }));
    // Its Federation port changed: FRA pins the card that names the new one.
    await fra.node.peers.pin(bel().node.card, scheduler.now());
  }

  /** The retry of an automatic answer: the only one-shot timer these nodes set while nothing is being delivered. */
  const retryInMs = () => scheduler.timers().find((t) => t.every === undefined)?.inMs;

  /** Waits until the automatic answer has set its next attempt, and moves the time to it. */
  async function nextAttempt(): Promise<void> {
    await waitFor(() => retryInMs() !== undefined, 10_000, 'the next attempt of the automatic answer');
    await scheduler.advance(Math.max(0, retryInMs() ?? 0));
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracenet-outage-'));
    await writeFile(join(dir, 'outage.mjs'), OUTAGE_MODULE);
    outage(false);
    fra = await startNode('FRA', { clock: scheduler });
    bels.push(await startNode('BEL', { clock: scheduler, config: config() }));
    await pinAll([fra.node, bel().node], scheduler.now());
    await bel().node.policies.set(
      PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: true, autoAcknowledge: true, autoAnswer: true }),
    );
  });
  afterAll(async () => {
    outage(false);
    for (const t of [...bels].reverse()) await t.cleanup();
    await fra?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows in health as tracenet.v1.Registry NOT_SERVING while the node serves, in GetNodeInfo and in the metrics', async () => {
    const node = bel().node;
    await waitFor(() => node.registry.monitor.statuses().every((s) => s.up === true), 5000, 'the check at start');
    expect(await health(node, '')).toBe('SERVING');
    expect(await health(node, 'tracenet.v1.Registry')).toBe('SERVING');

    outage(true);
    const downAt = scheduler.now() + 30_000;
    await scheduler.advance(30_000); // the periodic check
    await waitFor(() => !node.registry.monitor.up, 5000, 'the periodic check to find the outage');
    expect(await health(node, 'tracenet.v1.Registry')).toBe('NOT_SERVING');
    // The node still receives, stores and acknowledges: it stays SERVING (docs/operations-metrics.md 1.1).
    expect(await health(node, '')).toBe('SERVING');
    expect(await health(node, 'tracenet.v1.Authority')).toBe('SERVING');

    const authority = connectUnary<AuthorityServer>(
      AuthorityClient,
      node.authorityAddress,
      await readAuthorityToken(bel().dataDir),
    );
    try {
      const { registry } = await authority.call('getNodeInfo', {});
      expect(registry.map((a) => [a.kind, a.up])).toEqual([
        ['leveldb', true],
        ['flaky', false],
      ]);
      expect(registry[1]).toMatchObject({
        sinceMs: downAt,
        lastErrorAtMs: downAt,
        checkedAtMs: downAt,
        lastError: 'UNAVAILABLE: the flaky registry could not answer: connect ECONNREFUSED 10.0.0.7:5432 (<url>',
      });
      expect(registry[1]?.latencyMs).toBeGreaterThanOrEqual(0);
    } finally {
      authority.client.close();
    }

    const text = await scrape(node);
    expect(sample(text, 'tracenet_registry_up{adapter="leveldb"}')).toBe(1);
    expect(sample(text, 'tracenet_registry_up{adapter="flaky"}')).toBe(0);
    expect(sample(text, 'tracenet_registry_errors_total{adapter="flaky",code="UNAVAILABLE"}')).toBe(1);
    expect(sample(text, 'tracenet_registry_latency_seconds_count{adapter="flaky",result="error"}')).toBe(1);
    expect(sample(text, 'tracenet_registry_latency_seconds_count{adapter="flaky",result="ok"}')).toBe(1);
    expect(text).not.toContain('s3cret');

    outage(false);
    await scheduler.advance(30_000);
    await waitFor(() => node.registry.monitor.up, 5000, 'the periodic check to find the registry back');
    expect(await health(node, 'tracenet.v1.Registry')).toBe('SERVING');
    expect(sample(await scrape(node), 'tracenet_registry_up{adapter="flaky"}')).toBe(1);
  });

  it('notes it once on a waiting case across two restarts, delays the answer once after 15 minutes, then answers', async () => {
    outage(true);
    const mine = await fra.node.workflow.createCase(
      'BEL',
      traceRequest(
        {},
        {
          manufacturer: 'FN Herstal',
          serialNumber: 'FN-1998-0042',
          model: 'FAL',
          calibre: '7.62x51mm',
          type: WeaponType.WEAPON_TYPE_RIFLE,
        },
      ),
      true,
    );
    let theirs = '';
    await waitFor(
      async () => {
        theirs = (await bel().node.workflow.list({ limit: 10 })).cases[0]?.caseId ?? '';
        return theirs !== '' && notes(await bel().node.workflow.get(theirs)).length > 0;
      },
      10_000,
      'the note on the received case',
    );
    const belCase = () => bel().node.workflow.get(theirs);
    const noted = notes(await belCase())[0]?.atMs ?? 0;

    for (let i = 0; i < 3; i += 1) await nextAttempt();
    expect(notes(await belCase())).toHaveLength(1);

    for (let i = 0; i < 2; i += 1) {
      await restartBel();
      // The start tried the answer again (12.5), failed, and set its next attempt.
      await waitFor(() => retryInMs() !== undefined, 10_000, 'the attempt at start');
      expect(notes(await belCase())).toHaveLength(1);
    }

    for (let i = 0; i < 30 && !(await belCase()).delay; i += 1) await nextAttempt();
    const delayed = await belCase();
    expect(delayed.state).toBe(CaseState.CASE_STATE_DELAYED);
    expect(delays(delayed).map((t) => t.atMs)).toEqual([noted + 15 * 60_000]);
    await waitFor(
      async () => (await fra.node.workflow.get(mine.caseId)).state === CaseState.CASE_STATE_DELAYED,
      10_000,
      'the delay notice at FRA',
    );
    expect((await fra.node.workflow.get(mine.caseId)).delay).toMatchObject({
      reason: ReasonCode.REASON_CODE_OTHER,
      explanation: RECORDS_UNAVAILABLE_DELAY,
      expectedBy: '',
    });

    // A third restart, long after: the case keeps its one delay and its one note.
    await restartBel();
    for (let i = 0; i < 5; i += 1) await nextAttempt();
    expect(notes(await belCase())).toHaveLength(1);
    expect(delays(await belCase())).toHaveLength(1);

    // The attempt the last advance set off must have failed (and set the next) before the registry comes back:
    // otherwise it may find the registry back itself, answer, and leave no next attempt to wait for.
    await waitFor(() => retryInMs() !== undefined, 10_000, 'the last attempt of the outage to fail');
    outage(false);
    await nextAttempt();
    await waitFor(
      async () => (await fra.node.workflow.get(mine.caseId)).state === CaseState.CASE_STATE_ANSWERED,
      10_000,
      'the automatic answer at FRA',
    );
    const answered = await fra.node.workflow.get(mine.caseId);
    expect(answered.answer).toMatchObject({ outcome: TraceOutcome.TRACE_OUTCOME_REFERRED, automatic: true });
    expect(delays(answered)).toHaveLength(1);
    expect(notes(await belCase())).toHaveLength(1);
  });

  it('an outage ends for a case when an attempt gets through: a later outage is noted again', async () => {
    outage(true);
    const mine = await fra.node.workflow.createCase(
      'BEL',
      traceRequest({}, { manufacturer: 'FN Herstal', serialNumber: 'FN-2001-7777', model: 'FAL' }),
      true,
    );
    let theirs = '';
    await waitFor(
      async () => {
        const found = (await bel().node.workflow.list({ limit: 10 })).cases.find((c) => c.traceId === mine.traceId);
        theirs = found?.caseId ?? '';
        return theirs !== '' && notes(await bel().node.workflow.get(theirs)).length > 0;
      },
      10_000,
      'the note on the received case',
    );
    const belCase = () => bel().node.workflow.get(theirs);
    outage(false);
    await nextAttempt();
    const waiting = 'no exact record match; waiting for an officer';
    await waitFor(
      async () => (await belCase()).timeline.some((t) => t.summary === waiting),
      10_000,
      'the attempt that got through',
    );
    // The next start tries again (12.5) during a new outage: a new note, then none at the start after.
    outage(true);
    await restartBel();
    await waitFor(async () => notes(await belCase()).length === 2, 10_000, 'the note of the new outage');
    await restartBel();
    await waitFor(() => retryInMs() !== undefined, 10_000, 'the attempt at start');
    expect((await belCase()).timeline.map((t) => t.summary).slice(-3)).toEqual([
      expect.stringMatching(UNAVAILABLE_NOTE),
      waiting,
      expect.stringMatching(UNAVAILABLE_NOTE),
    ]);
    expect(delays(await belCase())).toEqual([]);
  });
});
