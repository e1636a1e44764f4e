/**
 * Preloaded into the node under test by the memory section (`--import` in its NODE_OPTIONS):
 * records V8's heap in use before and after each full collection, read from `v8.GCProfiler`, and
 * writes them as JSON to `TRACENET_BENCH_GC_OUT` when the process exits. Bench instrumentation
 * only: the node never loads it. The profiler is read and restarted every 200 ms, so what it
 * buffers stays small and each collection is timed to within 200 ms.
 */
import { writeFileSync } from 'node:fs';
import { GCProfiler } from 'node:v8';

/** One full (mark-compact) collection: when it was seen (Unix ms) and V8's heap in use around it. */
export interface FullCollection {
  readonly atMs: number;
  readonly beforeMiB: number;
  readonly afterMiB: number;
}

const out = process.env.TRACENET_BENCH_GC_OUT;
if (out) {
  const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const collections: FullCollection[] = [];
  const started = () => {
    const profiler = new GCProfiler();
    profiler.start();
    return profiler;
  };
  let profiler = started();
  /** Stops the profiler and keeps the full collections it saw. */
  const drain = () => {
    const atMs = Date.now();
    for (const entry of profiler.stop().statistics)
      if (entry.gcType === 'MarkSweepCompact')
        collections.push({
          atMs,
          beforeMiB: mib(entry.beforeGC.heapStatistics.usedHeapSize),
          afterMiB: mib(entry.afterGC.heapStatistics.usedHeapSize),
        });
  };
  setInterval(() => {
    drain();
    profiler = started();
  }, 200).unref();
  process.on('exit', () => {
    drain();
    writeFileSync(out, JSON.stringify(collections));
  });
}
