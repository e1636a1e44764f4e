import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/util/clock.js';
import { ManualScheduler, schedulerOf, systemScheduler } from '../src/util/scheduler.js';

const T0 = Date.UTC(2026, 0, 1);

describe('ManualScheduler', () => {
  it('fires the timers that fall due, in time order, each at its own time, and ends at the time asked', async () => {
    const scheduler = new ManualScheduler(T0);
    const fired: Array<[string, number]> = [];
    const at = (name: string) => () => fired.push([name, scheduler.now() - T0]);
    scheduler.setTimeout(at('c'), 300);
    scheduler.setTimeout(at('a'), 100);
    scheduler.setTimeout(at('b'), 100);
    scheduler.setTimeout(at('late'), 1000);
    await scheduler.advance(99);
    expect(fired).toEqual([]);
    await scheduler.advance(400);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 100],
      ['c', 300],
    ]);
    expect(scheduler.now()).toBe(T0 + 499);
    expect(scheduler.timers()).toEqual([{ inMs: 501 }]);
  });

  it('lets the async work a timer starts finish before the next fires, and fires timers that work sets within the advance', async () => {
    const scheduler = new ManualScheduler(T0);
    const log: string[] = [];
    scheduler.setTimeout(() => {
      void (async () => {
        for (let i = 0; i < 5; i += 1) await Promise.resolve();
        await new Promise<void>((resolve) => setImmediate(resolve));
        log.push(`work done at ${scheduler.now() - T0}`);
        scheduler.setTimeout(() => log.push(`follow-up at ${scheduler.now() - T0}`), 50);
      })();
    }, 100);
    scheduler.setTimeout(() => log.push(`second at ${scheduler.now() - T0}`), 120);
    await scheduler.advance(200);
    expect(log).toEqual(['work done at 100', 'second at 120', 'follow-up at 150']);
  });

  it('fires an interval at each period until cancelled, also when cancelled from its own callback', async () => {
    const scheduler = new ManualScheduler(T0);
    const ticks: number[] = [];
    const timer = scheduler.setInterval(() => {
      ticks.push(scheduler.now() - T0);
      if (ticks.length === 3) timer.cancel();
    }, 60_000);
    await scheduler.advance(10 * 60_000);
    expect(ticks).toEqual([60_000, 120_000, 180_000]);
    expect(scheduler.timers()).toEqual([]);
  });

  it('set() moves the time without firing; what fell due meanwhile fires once at the next advance', async () => {
    const scheduler = new ManualScheduler(T0);
    let ticks = 0;
    let once = 0;
    scheduler.setInterval(() => (ticks += 1), 50);
    scheduler.setTimeout(() => (once += 1), 10);
    scheduler.set(T0 + 24 * 3_600_000);
    expect([ticks, once]).toEqual([0, 0]);
    await scheduler.advance(0);
    expect([ticks, once]).toEqual([1, 1]);
    // The time never runs backwards.
    await scheduler.advance(-1000);
    expect(scheduler.now()).toBe(T0 + 24 * 3_600_000);
    expect(scheduler.timers()).toEqual([{ inMs: 50, every: 50 }]);
  });

  it('cancels a timeout before it fires', async () => {
    const scheduler = new ManualScheduler(T0);
    let fired = false;
    const timer = scheduler.setTimeout(() => (fired = true), 10).unref();
    timer.cancel();
    timer.cancel();
    await scheduler.advance(100);
    expect(fired).toBe(false);
  });

  it('sleep resolves when the time is advanced past it, and rejects with the reason of an abort', async () => {
    const scheduler = new ManualScheduler(T0);
    let woke = 0;
    const sleeping = scheduler.sleep(1000).then(() => (woke = scheduler.now() - T0));
    await scheduler.advance(999);
    expect(woke).toBe(0);
    await scheduler.advance(1);
    await sleeping;
    expect(woke).toBe(1000);

    const abort = new AbortController();
    const aborted = scheduler.sleep(1000, abort.signal);
    abort.abort(new Error('stopping'));
    await expect(aborted).rejects.toThrow('stopping');
    expect(scheduler.timers()).toEqual([]);
    await expect(scheduler.sleep(10, abort.signal)).rejects.toThrow('stopping');
  });

  it('next() jumps to the earliest timer and fires it; false when none waits', async () => {
    const scheduler = new ManualScheduler(T0);
    expect(await scheduler.next()).toBe(false);
    const fired: number[] = [];
    scheduler.setTimeout(() => fired.push(scheduler.now() - T0), 5000);
    scheduler.setTimeout(() => fired.push(scheduler.now() - T0), 7000);
    expect(await scheduler.next()).toBe(true);
    expect(fired).toEqual([5000]);
    expect(scheduler.now()).toBe(T0 + 5000);
  });

  it('rejects the advance when a timer callback throws, as the process would crash', async () => {
    const scheduler = new ManualScheduler(T0);
    scheduler.setTimeout(() => {
      throw new Error('boom');
    }, 10);
    await expect(scheduler.advance(20)).rejects.toThrow('boom');
  });

  it('draws the same random numbers for the same seed, in [0, 1), and other numbers for another seed', () => {
    const draw = (scheduler: ManualScheduler) => Array.from({ length: 1000 }, () => scheduler.random());
    const a = draw(new ManualScheduler(T0, { seed: 7 }));
    expect(draw(new ManualScheduler(T0, { seed: 7 }))).toEqual(a);
    expect(draw(new ManualScheduler(T0, { seed: 8 }))).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
    // Spread over the range, not stuck in a corner of it.
    expect(a.filter((x) => x < 0.5).length).toBeGreaterThan(400);
    expect(a.filter((x) => x < 0.5).length).toBeLessThan(600);
    const bytes = new ManualScheduler(T0, { seed: 7 }).randomBytes(32);
    expect(bytes).toHaveLength(32);
    expect(new Set(bytes).size).toBeGreaterThan(16);
  });
});

describe('the system scheduler', () => {
  it('runs real timers: a timeout fires, a cancelled one does not, and sleep can be aborted', async () => {
    const fired: string[] = [];
    systemScheduler.setTimeout(() => fired.push('kept'), 1);
    systemScheduler.setTimeout(() => fired.push('cancelled'), 1).cancel();
    await systemScheduler.sleep(20);
    expect(fired).toEqual(['kept']);
    const abort = new AbortController();
    const sleeping = systemScheduler.sleep(60_000, abort.signal);
    abort.abort(new Error('stopping'));
    await expect(sleeping).rejects.toThrow('stopping');
    expect(systemScheduler.randomBytes(16)).toHaveLength(16);
  });

  it('schedulerOf keeps a scheduler and gives a plain clock the system timers with its time', () => {
    const manual = new ManualScheduler(T0);
    expect(schedulerOf(manual)).toBe(manual);
    const clock = new ManualClock(T0);
    const scheduler = schedulerOf(clock);
    clock.advance(5);
    expect(scheduler.now()).toBe(T0 + 5);
  });
});
