import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeEvent, NodeEventType } from '@tracenet/proto';
import { createTestFederation, type TestFederation } from '../src/testing.js';
import { traceRequest } from './support/requests.js';

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the event stream', () => {
  let federation: TestFederation;
  beforeAll(async () => {
    // BEL retries its deliveries quickly, so that notices queued while FRA is down arrive soon after.
    federation = await createTestFederation({
      participants: ['FRA', 'BEL'],
      env: { TRACENET_OUTBOX_INITIAL_BACKOFF_MS: '50', TRACENET_OUTBOX_MAX_BACKOFF_MS: '300' },
    });
  });
  afterAll(async () => {
    await federation?.stop();
  });

  it('survives a node restart: events from before, during and after arrive once each, in sequence', async () => {
    const fra = federation.client('FRA');
    const bel = federation.client('BEL');
    const seen: NodeEvent[] = [];
    const controller = new AbortController();
    const consuming = (async () => {
      for await (const event of fra.events({
        afterSequence: 0,
        signal: controller.signal,
        reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
      }))
        seen.push(event);
    })();
    const draft = (n: number) =>
      fra.cases.createCase({ recipient: 'BEL', request: traceRequest(`FX-${n}`), send: false });
    const notice = (n: number) =>
      bel.authority.sendNotice({ recipient: 'FRA', subject: `notice ${n}`, text: 'hello', correlationId: '' });

    await draft(1);
    await draft(2);
    await until(() => seen.length >= 2, 'events before the restart');
    const pid = federation.node('FRA').pid;

    // During: FRA is stopped (SIGTERM) and started again; BEL queues notices meanwhile.
    const restarting = federation.restart('FRA');
    await Promise.all([notice(1), notice(2), notice(3)]);
    const restarted = await restarting;
    expect(restarted.pid).not.toBe(pid);

    await draft(3);
    await draft(4);
    await until(
      () =>
        seen.filter((e) => e.type === NodeEventType.NODE_EVENT_TYPE_MESSAGE_RECEIVED).length >= 3 &&
        seen.filter((e) => e.type === NodeEventType.NODE_EVENT_TYPE_CASE_CREATED).length >= 4,
      'every event',
    );
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    await consuming;

    const sequences = seen.map((e) => e.sequence);
    expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
    expect(seen.filter((e) => e.type === NodeEventType.NODE_EVENT_TYPE_MESSAGE_RECEIVED).map((e) => e.peer)).toEqual([
      'BEL',
      'BEL',
      'BEL',
    ]);
    expect(seen.filter((e) => e.type === NodeEventType.NODE_EVENT_TYPE_CASE_CREATED)).toHaveLength(4);
  });

  it('resumes after a given sequence and ends when its signal aborts', async () => {
    const fra = federation.client('FRA');
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const event of fra.events({ afterSequence: 2, signal: controller.signal })) {
      seen.push(event.sequence);
      if (event.sequence === 4) controller.abort();
    }
    expect(seen).toEqual([3, 4]);
  });
});
