import { latency, type Latency, round } from './stats.js';

/** What a closed-loop run measured. */
export interface LoadResult {
  readonly concurrency: number;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latency: Latency;
  /** The first error message seen, to tell a broken run from a slow one. */
  readonly firstError?: string;
}

/**
 * Closed-loop load: `concurrency` callers, each sending its next request as soon as the previous
 * one is answered, until `requests` have been sent (`warmup` more are sent first and not counted).
 * `call(i)` gets a number unique within the run, so that each request may carry unique content.
 *
 * @example
 * ```ts
 * const r = await closedLoop({ concurrency: 16, requests: 5000, warmup: 500 }, (i) => client.echo(payloads[i]));
 * r.requestsPerSecond;
 * ```
 */
export async function closedLoop(
  options: { concurrency: number; requests: number; warmup: number; onMeasureStart?: () => void | Promise<void> },
  call: (i: number) => Promise<unknown>,
): Promise<LoadResult> {
  let next = 0;
  const warm = async () => {
    for (;;) {
      const i = next;
      if (i >= options.warmup) return;
      next += 1;
      await call(i).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, Math.max(1, options.warmup)) }, warm));
  const total = options.warmup + options.requests;
  const samples: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  await options.onMeasureStart?.();
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next;
      if (i >= total) return;
      next += 1;
      const t0 = performance.now();
      try {
        await call(i);
        samples.push(performance.now() - t0);
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    concurrency: options.concurrency,
    requests: options.requests,
    errors,
    seconds: round(seconds, 3),
    requestsPerSecond: round(samples.length / seconds, 0),
    latency: latency(samples),
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** Runs `op` repeatedly for at least `ms` milliseconds (and at least `min` times); operations per second. */
export function opsPerSecond(
  ms: number,
  op: (i: number) => void,
  min = 10,
): { ops: number; seconds: number; perSecond: number } {
  const started = performance.now();
  let i = 0;
  while (i < min || performance.now() - started < ms) {
    op(i);
    i += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  return { ops: i, seconds: round(seconds, 3), perSecond: round(i / seconds, 0) };
}
