import type { Logger } from 'pino';

/**
 * Milliseconds (to the microsecond) on the machine's monotonic clock (`CLOCK_MONOTONIC`, what
 * `process.hrtime` reads): the same clock in every process of the machine, so the steps of nodes
 * running side by side on one host line up, and never set back like the wall clock.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

/**
 * Logs one step of a message's way through the node at debug level — `{"step": "outbox.sealed",
 * "mono": 81234567.891, "traceId": …}` — so that an operator who sets `log.level` to `debug`
 * sees where the time of a trace goes (where it waited, what took long), and the benchmark
 * breaks one chain down step by step. Free when debug is off: nothing is built.
 *
 * @example
 * ```ts
 * traceStep(logger, 'outbox.receipt', () => ({ messageId, correlationId }));
 * ```
 */
export function traceStep(logger: Logger, step: string, fields: () => Record<string, unknown>): void {
  if (!logger.isLevelEnabled('debug')) return;
  logger.debug({ ...fields(), step, mono: monotonicMs() }, 'step');
}
