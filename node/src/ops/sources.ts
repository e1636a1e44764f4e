import { CaseState } from '@tracenet/proto';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { stateName } from '../workflow/state-machine.js';

/** Label value of a case state: the workflow's {@link stateName}, `unknown` for a value outside the enum. */
export function stateLabel(state: CaseState): string {
  return CaseState[state] === undefined ? 'unknown' : stateName(state);
}

/** What {@link createCaseStats} reads: `Workflow.list` has this shape. */
export interface CaseLister {
  list(filter: {
    readonly limit?: number;
    readonly cursor?: string;
  }): Promise<{ cases: ReadonlyArray<{ readonly state: CaseState; readonly overdue: boolean }>; nextCursor: string }>;
}

/** Case counts for the `tracenet_cases` and `tracenet_cases_overdue` gauges. */
export interface CaseStats {
  /** Every case state (zeros included, so a state that empties shows 0 rather than vanishing) → count. */
  byState(): Promise<Record<string, number>>;
  /** Open cases past their acknowledgement or answer deadline. */
  overdue(): Promise<number>;
}

/**
 * Counts cases by state and overdue ones in one pass over `Workflow.list` (which computes
 * `overdue` at call time). Both gauges are read in the same scrape, so a pass is shared by calls
 * within `maxAgeMs` (default 1 s) and by concurrent calls.
 *
 * @example
 * ```ts
 * const cases = createCaseStats(workflow);
 * createMetrics({ ..., casesByState: cases.byState, overdueCases: cases.overdue });
 * ```
 */
export function createCaseStats(
  lister: CaseLister,
  options: { maxAgeMs?: number; now?: () => number } = {},
): CaseStats {
  const maxAgeMs = options.maxAgeMs ?? 1000;
  const now = options.now ?? Date.now;
  let last: { at: number; counts: Promise<{ byState: Record<string, number>; overdue: number }> } | undefined;

  const count = async () => {
    const byState: Record<string, number> = {};
    for (const value of Object.values(CaseState)) {
      if (typeof value === 'number' && value !== CaseState.CASE_STATE_UNSPECIFIED && value !== CaseState.UNRECOGNIZED)
        byState[stateLabel(value)] = 0;
    }
    let overdue = 0;
    let cursor = '';
    do {
      const page = await lister.list(cursor ? { limit: 500, cursor } : { limit: 500 });
      for (const c of page.cases) {
        const label = stateLabel(c.state);
        byState[label] = (byState[label] ?? 0) + 1;
        if (c.overdue) overdue += 1;
      }
      cursor = page.nextCursor;
    } while (cursor !== '');
    return { byState, overdue };
  };

  const counts = () => {
    const at = now();
    if (!last || at - last.at > maxAgeMs) {
      const pass = count();
      last = { at, counts: pass };
      // A failed pass is not reused: the next scrape tries again.
      pass.catch(() => {
        if (last?.counts === pass) last = undefined;
      });
    }
    return last.counts;
  };

  return {
    byState: async () => (await counts()).byState,
    overdue: async () => (await counts()).overdue,
  };
}

/**
 * Age in seconds of the oldest message in the outbox queue (entries carry `createdAtMs`), or 0
 * when it is empty: one pass over the pending messages, which are few unless a peer is down.
 *
 * @example
 * ```ts
 * createMetrics({ ..., outboxOldestAgeSeconds: () => outboxOldestAgeSeconds(store, clock) });
 * ```
 */
export async function outboxOldestAgeSeconds(store: Store, clock: Clock): Promise<number> {
  let oldest = Number.POSITIVE_INFINITY;
  for await (const value of store.outbox.queue.values()) {
    const created = value.createdAtMs;
    if (Number.isFinite(created) && created < oldest) oldest = created;
  }
  return oldest === Number.POSITIVE_INFINITY ? 0 : Math.max(0, (clock.now() - oldest) / 1000);
}
