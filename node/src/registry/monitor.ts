import { EventEmitter } from 'node:events';
import type { TracenetError } from '@tracenet/proto';
import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';
import type { Scheduler, Timer } from '../util/scheduler.js';
import { isIncomplete, type RegistryEntry } from './adapter.js';

/** What the node last saw of one registry adapter (`tracenet status`, health, metrics). */
export interface AdapterStatus {
  /** The adapter's kind: `leveldb`, `postgres`, `csv`, or a module's own. */
  readonly kind: string;
  /** Whether its last call or check was answered; undefined before the first one. */
  readonly up: boolean | undefined;
  /** When it was first seen in its current state (Unix ms); 0 before the first call. */
  readonly sinceMs: number;
  /** The last failure, redacted ({@link redactProblem}); "" when none since the node started. */
  readonly lastError: string;
  /** When that failure happened (Unix ms); 0 when none. */
  readonly lastErrorAtMs: number;
  /** How long the last call or check took, in milliseconds. */
  readonly latencyMs: number;
  /** When the last call or check ended (Unix ms); 0 before the first one. */
  readonly checkedAtMs: number;
}

/** One adapter call as {@link RegistryMonitor} saw it, for the metrics. */
export interface RegistryCall {
  readonly kind: string;
  /** False when the registry could not answer (a retryable failure: it counts as down). */
  readonly ok: boolean;
  readonly seconds: number;
  /** The error code name of a failure (`UNAVAILABLE`, ...); "" when ok. */
  readonly code: string;
  /** Weapons held but incomplete in the entries a search returned. */
  readonly incomplete: number;
}

interface MonitorEvents {
  /** Every adapter call and check. */
  call: [RegistryCall];
  /** An adapter went up or down (or was seen for the first time). */
  change: [AdapterStatus];
}

/** What {@link RegistryMonitor} needs. */
export interface RegistryMonitorOptions {
  /** The kinds of the registry's adapters, in their order. */
  readonly kinds: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** A monotonic time in milliseconds, for latencies; `performance.now` unless given. */
  readonly elapsedMs?: () => number;
}

/** Longest error text kept for status; the rest is cut. */
const MAX_PROBLEM = 300;

/**
 * Makes a failure's text safe to show in `tracenet status`, the log and health: connection URLs
 * (which may carry a user and password) become `<url>`, `password=…` settings of a connection
 * string become `password=<redacted>`, control characters spaces, and the text is cut at 300
 * characters. A driver's message ("connect ECONNREFUSED 127.0.0.1:5432", "password authentication
 * failed for user …") says what went wrong without the secret.
 *
 * @example
 * ```ts
 * redactProblem('connect to postgres://app:s3cret@db/registry failed'); // 'connect to <url> failed'
 * ```
 */
export function redactProblem(text: string): string {
  const redacted = text
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>')
    .replace(/\b(password|passwd|pwd|secret|token)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1$2<redacted>')
    .replace(/[\p{Cc}\p{Cf}]+/gu, ' ')
    .trim();
  return redacted.length > MAX_PROBLEM ? `${redacted.slice(0, MAX_PROBLEM - 1)}…` : redacted;
}

type Mutable = { -readonly [K in keyof AdapterStatus]: AdapterStatus[K] };

/**
 * What the node knows of its registry adapters, from every call it makes to them and from the
 * periodic check ({@link PeriodicRegistryCheck}): up or down, since when, the last error (redacted)
 * and the last latency. An adapter is down when a call failed in a way that may pass (a retryable
 * error: UNAVAILABLE, a timeout) or on a mapping the registry refuses, up when a call was answered — a refusal such as NOT_FOUND or
 * INVALID_FIELD is an answer. Transitions are logged once (`error` when down, `info` when back),
 * and emitted as `change`; every call is emitted as `call` (metrics).
 *
 * @example
 * ```ts
 * const monitor = new RegistryMonitor({ kinds: ['leveldb', 'postgres'], clock, logger });
 * monitor.on('change', (s) => health.dependency('tracenet.v1.Registry', monitor.up));
 * const stopwatch = monitor.stopwatch();
 * monitor.succeeded('postgres', stopwatch, rows);
 * ```
 */
export class RegistryMonitor extends EventEmitter<MonitorEvents> {
  readonly #states = new Map<string, Mutable>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #elapsedMs: () => number;

  constructor(options: RegistryMonitorOptions) {
    super();
    this.#clock = options.clock;
    this.#logger = options.logger.child({ component: 'registry' });
    this.#elapsedMs = options.elapsedMs ?? (() => performance.now());
    for (const kind of options.kinds) {
      this.#states.set(kind, {
        kind,
        up: undefined,
        sinceMs: 0,
        lastError: '',
        lastErrorAtMs: 0,
        latencyMs: 0,
        checkedAtMs: 0,
      });
    }
  }

  /** Every adapter's status, in the registry's order. */
  statuses(): AdapterStatus[] {
    return [...this.#states.values()].map((s) => ({ ...s }));
  }

  /** False while any adapter is down; true when every one is up or not called yet. */
  get up(): boolean {
    return [...this.#states.values()].every((s) => s.up !== false);
  }

  /** Starts timing one call: give the result to {@link succeeded} or {@link failed}. */
  stopwatch(): () => number {
    const started = this.#elapsedMs();
    return () => Math.max(0, this.#elapsedMs() - started);
  }

  /** A call of adapter `kind` was answered; `result` is what it returned (searches: entries counted). */
  succeeded(kind: string, stopwatch: () => number, result: unknown): void {
    const latencyMs = stopwatch();
    const incomplete = Array.isArray(result)
      ? result.filter((entry) => typeof entry === 'object' && entry !== null && isIncomplete(entry as RegistryEntry))
          .length
      : 0;
    this.#record(kind, latencyMs, undefined);
    this.emit('call', { kind, ok: true, seconds: latencyMs / 1000, code: '', incomplete });
  }

  /**
   * A call of adapter `kind` failed with `failure`. A retryable failure means the registry could
   * not answer: the adapter is down; so does a mapping the registry refuses (rule `mapping`: found
   * at the first use when the database was down at start), which fails every search until fixed.
   * Anything else was an answer (a refusal), and the adapter up.
   */
  failed(kind: string, stopwatch: () => number, failure: TracenetError): void {
    const latencyMs = stopwatch();
    if (!failure.retryable && failure.rule !== 'mapping') {
      this.#record(kind, latencyMs, undefined);
      this.emit('call', { kind, ok: true, seconds: latencyMs / 1000, code: '', incomplete: 0 });
      return;
    }
    this.#record(kind, latencyMs, `${failure.codeName}: ${redactProblem(failure.message)}`);
    this.emit('call', { kind, ok: false, seconds: latencyMs / 1000, code: failure.codeName, incomplete: 0 });
  }

  #record(kind: string, latencyMs: number, problem: string | undefined): void {
    const state = this.#states.get(kind);
    if (!state) return;
    const now = this.#clock.now();
    const up = problem === undefined;
    state.latencyMs = latencyMs;
    state.checkedAtMs = now;
    if (problem !== undefined) {
      state.lastError = problem;
      state.lastErrorAtMs = now;
    }
    if (state.up === up) return;
    const was = state.up;
    const downSinceMs = state.sinceMs;
    state.up = up;
    state.sinceMs = now;
    if (!up) this.#logger.error({ adapter: kind, problem }, 'registry down: it cannot answer; automatic answers wait');
    else if (was === false)
      this.#logger.info({ adapter: kind, downForMs: now - downSinceMs }, 'registry back up: it answers again');
    this.emit('change', { ...state });
  }
}

/** What {@link PeriodicRegistryCheck} needs. */
export interface PeriodicRegistryCheckOptions {
  readonly scheduler: Scheduler;
  /** Every this many milliseconds; 0 checks only once, at start. */
  readonly intervalMs: number;
  /** One check of every adapter (`Registry.health`); it reports to the monitor itself. */
  readonly check: () => Promise<unknown>;
  readonly logger: Logger;
}

/**
 * Checks the registry at start and then every `registry.healthCheckIntervalMs`, so that an outage
 * shows in health, status and metrics while nobody searches. One check at a time: a check that
 * takes longer than the interval (a database that does not answer, until its timeout) is not
 * stacked. `stop()` cancels the timer and waits for a check in progress, so that the registry is
 * closed after it.
 *
 * @example
 * ```ts
 * const checks = new PeriodicRegistryCheck({ scheduler, intervalMs: 30_000, check: () => registry.health(), logger });
 * await checks.start();
 * await checks.stop();
 * ```
 */
export class PeriodicRegistryCheck {
  readonly #options: PeriodicRegistryCheckOptions;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;

  constructor(options: PeriodicRegistryCheckOptions) {
    this.#options = options;
  }

  /** Runs the first check in the background and starts the timer. Idempotent. */
  async start(): Promise<void> {
    if (this.#timer) return;
    this.#run();
    const { intervalMs } = this.#options;
    if (intervalMs > 0) this.#timer = this.#options.scheduler.setInterval(() => this.#run(), intervalMs).unref();
    else this.#timer = { cancel: () => undefined, unref: () => this.#timer as Timer };
  }

  /** Cancels the timer and waits for a check in progress. Idempotent. */
  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#running;
  }

  #run(): void {
    if (this.#running) return;
    this.#running = this.#options
      .check()
      .then(
        () => undefined,
        (error: unknown) => this.#options.logger.warn({ err: error }, 'registry check failed'),
      )
      .finally(() => {
        this.#running = undefined;
      });
  }
}
