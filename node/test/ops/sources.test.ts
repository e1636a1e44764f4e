import { CaseState } from '@tracenet/proto';
import { describe, expect, it } from 'vitest';
import { createCaseStats, outboxOldestAgeSeconds, stateLabel, type CaseLister } from '../../src/ops/sources.js';
import { openMemoryStore } from '../../src/store/memory-store.js';
import type { OutboxRecord } from '../../src/store/repositories.js';
import { ManualClock } from '../../src/util/clock.js';

type Listed = Awaited<ReturnType<CaseLister['list']>>['cases'][number];

/** A Workflow.list stand-in serving `cases` in pages of `pageSize`, counting its calls. */
function lister(cases: Listed[], pageSize: number): CaseLister & { calls: number; fail: boolean } {
  const fake = {
    calls: 0,
    fail: false,
    async list(filter: { readonly cursor?: string }) {
      fake.calls += 1;
      if (fake.fail) throw new Error('store closed');
      const start = filter.cursor ? Number(filter.cursor) : 0;
      const end = start + pageSize;
      return { cases: cases.slice(start, end), nextCursor: end < cases.length ? String(end) : '' };
    },
  };
  return fake;
}

const c = (state: CaseState, overdue = false): Listed => ({ state, overdue });

describe('case stats for the metrics', () => {
  it('counts every state (zeros included) and overdue cases across pages', async () => {
    const cases = [
      ...Array.from({ length: 700 }, () => c(CaseState.CASE_STATE_CLOSED)),
      c(CaseState.CASE_STATE_RECEIVED, true),
      c(CaseState.CASE_STATE_RECEIVED),
      c(CaseState.CASE_STATE_ACKNOWLEDGED, true),
    ];
    const stats = createCaseStats(lister(cases, 500));
    const byState = await stats.byState();
    expect(byState).toMatchObject({ closed: 700, received: 2, acknowledged: 1, answered: 0, withdrawn: 0 });
    expect(Object.keys(byState)).not.toContain('unspecified');
    expect(await stats.overdue()).toBe(2);
  });

  it('shares one pass between the two gauges of a scrape, and retries after a failure', async () => {
    let time = 0;
    const fake = lister([c(CaseState.CASE_STATE_SENT)], 500);
    const stats = createCaseStats(fake, { now: () => time });
    await Promise.all([stats.byState(), stats.overdue()]);
    expect(fake.calls).toBe(1);
    time = 5000;
    fake.fail = true;
    await expect(stats.overdue()).rejects.toThrow('store closed');
    fake.fail = false;
    expect((await stats.byState()).sent).toBe(1);
    expect(fake.calls).toBe(3);
  });

  it('labels states as the workflow names them', () => {
    expect(stateLabel(CaseState.CASE_STATE_CLARIFICATION)).toBe('clarification');
  });
});

/** A queued message created at `createdAtMs`. */
const queued = (messageId: string, createdAtMs: number): OutboxRecord => ({
  messageId,
  recipient: 'FRA',
  kind: 1,
  body: '',
  correlationId: '',
  createdAtMs,
  expiresAtMs: createdAtMs + 60_000,
  attempts: 0,
  lastError: '',
  seq: 1,
  orderKey: '',
});

describe('outbox oldest age', () => {
  it('is the age of the oldest pending message, 0 when empty', async () => {
    const store = await openMemoryStore();
    const clock = new ManualClock(1_000_000);
    expect(await outboxOldestAgeSeconds(store, clock)).toBe(0);
    await store.batch([
      store.outbox.queue.put('m1', queued('m1', 990_000)),
      store.outbox.queue.put('m2', queued('m2', 940_000)),
    ]);
    expect(await outboxOldestAgeSeconds(store, clock)).toBe(60);
  });
});
