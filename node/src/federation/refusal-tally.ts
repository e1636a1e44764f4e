import type { Logger } from 'pino';
import type { AuditEvent, Journal } from '../audit/audit-log.js';
import type { Scheduler, Timer } from '../util/scheduler.js';

/** Where a refused request or connection came from. */
export interface RefusalSource {
  /** The caller's IP address (without port). */
  readonly address: string;
  /** The pinned peer whose certificate authenticated the connection, when it did. */
  readonly peer?: string;
}

/** How the tally groups and bounds its entries (docs/protocol.md 4.13). */
export interface RefusalTallyConfig {
  /** Length of one interval; intervals start at multiples of it (Unix time). */
  readonly intervalMs: number;
  /** Sources counted apart per interval; refusals from further sources go to the source `other`. */
  readonly maxSources: number;
}

/** Counts of one source in one interval: reason → refusals. */
type Counts = Map<string, number>;

interface Interval {
  readonly fromMs: number;
  readonly untilMs: number;
  readonly sources: Map<string, { source: RefusalSource | 'other'; counts: Counts }>;
}

/**
 * Counts the refusals a node gives before it knows who is calling — envelopes refused before
 * authentication, connections refused at the TLS handshake or by a connection cap — and writes
 * them to the audit log as one `refusals.counted` entry per source and interval, with a count per
 * reason, instead of one entry per refusal (docs/protocol.md 4.13). At most `maxSources` sources
 * are counted apart per interval, plus one entry `other`: a flood from any number of addresses
 * adds at most `maxSources + 1` entries per interval. Intervals are written when they end and
 * at {@link stop}.
 *
 * @example
 * ```ts
 * const tally = new RefusalTally({ journal, clock, logger, config: { intervalMs: 60_000, maxSources: 100 } });
 * tally.start();
 * tally.count({ address: '203.0.113.7' }, 'tls.unpinned_certificate');
 * await tally.stop(); // writes what was counted
 * ```
 */
export class RefusalTally {
  readonly #logger: Logger;
  #current: Interval | undefined;
  /** When the last interval was written before its end: the next one starts there. */
  #cutAt = 0;
  #ended: Interval[] = [];
  #timer: Timer | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { journal: Journal; clock: Scheduler; logger: Logger; config: RefusalTallyConfig },
  ) {
    this.#logger = deps.logger.child({ component: 'refusal-tally' });
  }

  /** Writes ended intervals every interval even without new refusals. Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#timer = this.deps.clock.setInterval(() => void this.flush(), this.deps.config.intervalMs).unref();
  }

  /** Stops the timer and writes everything counted, the running interval included. Idempotent. */
  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.flush({ now: true });
  }

  /** Counts one refusal of `source` for `reason` (e.g. `HEADER_AUTH_FAILED.header_auth`, `tls.handshake_timeout`). */
  count(source: RefusalSource, reason: string): void {
    const interval = this.#interval();
    const key = source.peer !== undefined ? `peer:${source.peer}` : source.address;
    let entry = interval.sources.get(key);
    if (!entry) {
      const full = interval.sources.size >= this.deps.config.maxSources;
      entry = (full ? interval.sources.get('') : undefined) ?? { source: full ? 'other' : source, counts: new Map() };
      interval.sources.set(full ? '' : key, entry);
    }
    entry.counts.set(reason, (entry.counts.get(reason) ?? 0) + 1);
  }

  /**
   * Writes the intervals that have ended, one audit entry per source; with `now`, also the running
   * interval, cut at the current time. A write that fails is logged and dropped.
   */
  flush(options: { now?: boolean } = {}): Promise<void> {
    const now = this.deps.clock.now();
    if (this.#current && (options.now || now >= this.#current.untilMs)) {
      this.#ended.push({ ...this.#current, untilMs: Math.min(this.#current.untilMs, now) });
      this.#cutAt = now;
      this.#current = undefined;
    }
    const ended = this.#ended;
    this.#ended = [];
    if (ended.length === 0) return this.#writing;
    const events = ended.flatMap((interval) =>
      [...interval.sources.values()].map(({ source, counts }) => entryOf(interval, source, counts)),
    );
    this.#writing = this.#writing.then(async () => {
      try {
        await this.deps.journal.write([], events);
      } catch (error) {
        this.#logger.error(
          { err: error, entries: events.length },
          'could not audit the refusals counted before authentication',
        );
      }
      for (const event of events) this.#logger.warn(event.fields, 'requests refused before authentication');
    });
    return this.#writing;
  }

  /** The running interval; one that has ended by the clock is queued for writing first. */
  #interval(): Interval {
    const now = this.deps.clock.now();
    if (this.#current && now < this.#current.untilMs) return this.#current;
    if (this.#current) this.#ended.push(this.#current);
    const start = now - (now % this.deps.config.intervalMs);
    this.#current = {
      fromMs: Math.max(start, this.#cutAt),
      untilMs: start + this.deps.config.intervalMs,
      sources: new Map(),
    };
    return this.#current;
  }
}

function entryOf(interval: Interval, source: RefusalSource | 'other', counts: Counts): AuditEvent {
  const reasons = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
  return {
    type: 'refusals.counted',
    fields: {
      source: source === 'other' ? 'other' : source.address,
      ...(source !== 'other' && source.peer !== undefined ? { peer: source.peer } : {}),
      fromMs: interval.fromMs,
      untilMs: interval.untilMs,
      total: reasons.reduce((sum, [, n]) => sum + n, 0),
      ...Object.fromEntries(reasons.map(([reason, n]) => [`refused.${reason}`, n])),
    },
  };
}
