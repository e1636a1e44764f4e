/** Summary statistics of latency samples and throughput, the shape every section reports. */

/** Percentiles of a sample in milliseconds, rounded to microseconds. */
export interface Latency {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The value below which `q` (0..1) of the sorted samples lie (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/**
 * p50/p90/p99/max/mean of samples in milliseconds.
 *
 * @example
 * ```ts
 * latency([1.2, 0.8, 3.4]).p99Ms; // 3.4
 * ```
 */
export function latency(samplesMs: readonly number[]): Latency {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50Ms: round3(percentile(sorted, 0.5)),
    p90Ms: round3(percentile(sorted, 0.9)),
    p99Ms: round3(percentile(sorted, 0.99)),
    maxMs: round3(sorted.at(-1) ?? Number.NaN),
    meanMs: round3(sorted.length === 0 ? Number.NaN : sum / sorted.length),
  };
}

/** Rounds to `digits` decimals (for figures written to results.json). */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A target and whether it was met: what docs/benchmarks.md prints for each figure with a goal. */
export interface Target {
  readonly name: string;
  readonly goal: string;
  readonly value: number | null;
  readonly met: boolean | null;
  readonly note?: string;
}

/** A target of the form value ≥ / < threshold; `met` is null when the value could not be measured. */
export function target(
  name: string,
  value: number | null | undefined,
  op: '>=' | '<' | '<=',
  threshold: number,
  unit: string,
  note?: string,
): Target {
  const v = value === undefined || value === null || Number.isNaN(value) ? null : value;
  const met = v === null ? null : op === '>=' ? v >= threshold : op === '<' ? v < threshold : v <= threshold;
  return {
    name,
    goal: `${op === '>=' ? '≥' : op === '<' ? '<' : '≤'} ${threshold}${unit}`,
    value: v,
    met,
    ...(note === undefined ? {} : { note }),
  };
}
