import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { NODE_ACTOR, runAs } from '../access/actor.js';
import { type Clock, ManualClock } from './clock.js';

/** A timer of a {@link Scheduler}. */
export interface Timer {
  /** Stops the timer; harmless when it has fired or was cancelled already. */
  cancel(): void;
  /** Lets the process exit while the timer waits (a background chore, not work in progress). */
  unref(): Timer;
}

/**
 * Time, timers and randomness, injected so that tests run on logical time (docs/reliability.md,
 * "Time"). The node passes one scheduler to every part: what decides when something happens
 * (retries, deadlines, purges, reloads, intervals of the audit tally) asks it, never the global
 * `setTimeout` or `Math.random`. Cryptographic randomness (keys, nonces, message ids) stays with
 * `crypto/`; {@link random} is for jitter and sampling.
 *
 * @example
 * ```ts
 * const timer = scheduler.setTimeout(() => retry(), 500).unref();
 * timer.cancel();
 * await scheduler.sleep(100, signal);
 * ```
 */
export interface Scheduler extends Clock {
  /** Calls `callback` once, `ms` from now. */
  setTimeout(callback: () => void, ms: number): Timer;
  /** Calls `callback` every `ms` from now on, until cancelled. */
  setInterval(callback: () => void, ms: number): Timer;
  /** Resolves `ms` from now; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1). */
  random(): number;
  /** `size` random bytes. */
  randomBytes(size: number): Buffer;
}

/**
 * A timer's callback runs as the node (docs/protocol.md 8.1): what fires later is the node's own
 * step, not the officer's whose request happened to set the timer (a timer inherits the context it
 * was set in).
 */
function asNode(callback: () => void): () => void {
  return () => runAs(NODE_ACTOR, callback);
}

function nodeTimer(handle: NodeJS.Timeout, clear: (handle: NodeJS.Timeout) => void): Timer {
  const timer: Timer = {
    cancel: () => clear(handle),
    unref: () => {
      handle.unref();
      return timer;
    },
  };
  return timer;
}

function sleepOn(scheduler: Pick<Scheduler, 'setTimeout'>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const abort = () => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = scheduler.setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/**
 * The scheduler of the process: Node's timers, `clock` for the time (the system clock unless
 * given). A node given only a {@link Clock} (a test that sets the time but lets timers run) uses
 * this with that clock.
 */
export function systemSchedulerWith(clock: Clock): Scheduler {
  const scheduler: Scheduler = {
    now: () => clock.now(),
    setTimeout: (callback, ms) => nodeTimer(setTimeout(asNode(callback), ms), clearTimeout),
    setInterval: (callback, ms) => nodeTimer(setInterval(asNode(callback), ms), clearInterval),
    sleep: (ms, signal) => sleepOn(scheduler, ms, signal),
    random: () => Math.random(),
    randomBytes: (size) => cryptoRandomBytes(size),
  };
  return scheduler;
}

/** The scheduler of the process: wall-clock time and Node's timers. */
export const systemScheduler: Scheduler = systemSchedulerWith({ now: () => Date.now() });

/** `clock` itself when it is a scheduler, else the system's timers with its time. */
export function schedulerOf(clock: Clock): Scheduler {
  return 'setTimeout' in clock ? (clock as Scheduler) : systemSchedulerWith(clock);
}

interface Pending {
  readonly id: number;
  at: number;
  readonly every: number | undefined;
  readonly callback: () => void;
}

/** Turns of the event loop after each timer, so that what it started (promise chains, quick I/O) gets on. */
const SETTLE_TURNS = 20;

/**
 * A scheduler on logical time, for tests: the time moves only when the test says, and
 * {@link advance} fires the timers that fall due, in time order, each at its own time, letting the
 * work each one starts run on (promise callbacks and a few turns of the event loop) before the
 * next. Work that waits on real I/O (LevelDB, sockets) is not waited for: the test waits for its
 * outcome with a condition, never with a fixed sleep. {@link random} is seeded, so jitter repeats.
 *
 * @example
 * ```ts
 * const scheduler = new ManualScheduler();
 * const node = await startNode('FRA', { clock: scheduler });
 * await scheduler.advance(60_000); // the minute timer fires once
 * ```
 */
export class ManualScheduler extends ManualClock implements Scheduler {
  readonly #timers = new Map<number, Pending>();
  #nextId = 1;
  readonly #random: () => number;

  constructor(start?: number, options: { seed?: number } = {}) {
    super(start);
    this.#random = seededRandom(options.seed ?? 0x2f6b_1a3d);
  }

  setTimeout(callback: () => void, ms: number): Timer {
    return this.#add(callback, ms, undefined);
  }

  setInterval(callback: () => void, ms: number): Timer {
    return this.#add(callback, ms, Math.max(1, ms));
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  random(): number {
    return this.#random();
  }

  randomBytes(size: number): Buffer {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i += 1) bytes[i] = Math.floor(this.random() * 256);
    return bytes;
  }

  /**
   * Moves the time `ms` forward, firing every timer that falls due on the way at its own time (in
   * order of due time, then of creation), and settling the work each starts before the next.
   * Timers set meanwhile fire too when they fall due within `ms`. An interval fires at each of its
   * periods on the way: to jump over days, {@link set} the time (nothing fires) and advance a
   * little (what fell due fires once). A callback that throws rejects the advance, as it would
   * crash the process.
   */
  override async advance(ms: number): Promise<void> {
    const until = this.now() + Math.max(0, ms);
    await settle();
    for (let due = this.#due(until); due; due = this.#due(until)) {
      // A timer left behind by set() fires once, late, as a real one does after the process slept.
      this.set(Math.max(this.now(), due.at));
      if (due.every === undefined) this.#timers.delete(due.id);
      else due.at = this.now() + due.every;
      due.callback();
      await settle();
    }
    this.set(until);
    await settle();
  }

  /** Moves the time to the next timer and fires it (and any due at the same time). Returns false when none is waiting. */
  async next(): Promise<boolean> {
    const first = this.#due(Number.POSITIVE_INFINITY);
    if (!first) return false;
    await this.advance(first.at - this.now());
    return true;
  }

  /** When each waiting timer fires next, soonest first (ms from now, negative when left behind by set()); `every` for intervals. */
  timers(): Array<{ inMs: number; every?: number }> {
    return [...this.#timers.values()]
      .sort(byDue)
      .map((t) => ({ inMs: t.at - this.now(), ...(t.every !== undefined ? { every: t.every } : {}) }));
  }

  #add(callback: () => void, ms: number, every: number | undefined): Timer {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.now() + Math.max(0, ms), every, callback: asNode(callback) });
    const timer: Timer = { cancel: () => this.#timers.delete(id), unref: () => timer };
    return timer;
  }

  #due(until: number): Pending | undefined {
    let first: Pending | undefined;
    for (const t of this.#timers.values()) if (t.at <= until && (!first || byDue(t, first) < 0)) first = t;
    return first;
  }
}

function byDue(a: Pending, b: Pending): number {
  return a.at - b.at || a.id - b.id;
}

async function settle(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * mulberry32: numbers in [0, 1) from a seed, the same sequence for the same seed (logical time's
 * randomness, and randomised tests that print their seed to be replayed).
 *
 * @example
 * ```ts
 * const next = seededRandom(42);
 * const roll = Math.floor(next() * 6) + 1;
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
