import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalFederation } from '@tracenet/node/dev';
import { LookupOutcome, PeerCard } from '@tracenet/proto';
import { ask, forkScript, stopChild } from '../child.js';
import { FANOUT_WEAPON } from '../dataset.js';
import { cpuTimeMs } from '../proc.js';
import type { Sizes } from '../sizes.js';
import { latency, type Latency, round, target, type Target } from '../stats.js';

export interface FanoutRun {
  readonly participants: number;
  readonly responderProcesses: number;
  readonly lookups: number;
  /** Authority API Lookups.lookup on the asking node until every participant has answered. */
  readonly allAnswered: Latency;
  readonly hitsPerLookup: number;
  /** Answers that were not HIT or NO_HIT (timeouts, errors) over all measured lookups. */
  readonly notAnswered: number;
  readonly askerCpuMsPerLookup: number;
  readonly responderRssMiBPerNode: number;
}

export interface FanoutResult {
  readonly simulated: string;
  readonly runs: readonly FanoutRun[];
  readonly targets: readonly Target[];
}

/** Participant ids AAA, AAB, … skipping the asker's. */
function participantIds(count: number): string[] {
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n += 1) {
    const id = [2, 1, 0].map((p) => String.fromCharCode(65 + (Math.floor(n / 26 ** p) % 26))).join('');
    if (id !== 'FRA') ids.push(id);
  }
  return ids;
}

/**
 * Federated lookup fan-out (section 5): the asking node FRA is a real node process; the N
 * participants are complete TracenetNodes hosted many to a process (see fanout-worker.ts), each
 * with its own keys, store and TLS port, all pinned both ways and allowing FRA's lookups. Every
 * tenth holds the weapon as stolen, so answers mix hits and no-hits. Lookups run one after
 * another; each is timed from the Authority API call to its response, which comes when every
 * participant has answered (or its 5 s deadline passed).
 */
export async function benchFanout(sizes: Sizes, log: (line: string) => void): Promise<FanoutResult> {
  const runs: FanoutRun[] = [];
  for (const participants of sizes.fanout.participants) {
    const workers = Math.min(
      participants,
      participants > 60 ? Math.max(4, sizes.fanout.workers) : sizes.fanout.workers,
    );
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-bench-fanout-'));
    const federation = await startLocalFederation({ participants: ['FRA'], baseDir: join(dir, 'asker') }).catch(
      async (error: unknown) => {
        await rm(dir, { recursive: true, force: true });
        throw error;
      },
    );
    const children = Array.from({ length: workers }, () =>
      forkScript('fanout-worker.js', [], { execArgv: ['--max-semi-space-size=16'] }),
    );
    try {
      const fra = federation.node('FRA');
      const ids = participantIds(participants);
      const started = performance.now();
      const cards = (
        await Promise.all(
          children.map((child, w) =>
            ask<{ type: 'started'; cards: string[] }>(
              child,
              {
                type: 'start',
                ids: ids.filter((_, k) => k % workers === w),
                baseDir: join(dir, `w${w}`),
                hitEvery: 10,
              },
              { answer: 'started' },
            ),
          ),
        )
      ).flatMap((m) => m.cards);
      for (const card of cards)
        await fra.authority.call('addPeer', { card: PeerCard.decode(Buffer.from(card, 'base64')), replaceKeys: false });
      const { card: fraCard } = await fra.authority.call('getNodeInfo', {});
      if (!fraCard) throw new Error('FRA has no card');
      const fraCardBase64 = Buffer.from(PeerCard.encode(fraCard).finish()).toString('base64');
      await Promise.all(
        children.map((child) => ask(child, { type: 'pin', card: fraCardBase64 }, { answer: 'pinned' })),
      );
      log(
        `  ${participants} participants in ${workers} responder processes ready in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );

      const lookup = () =>
        fra.lookups.call(
          'lookup',
          {
            weapon: { ...FANOUT_WEAPON },
            purpose: 'benchmark: seizure, case BENCH-1',
            peers: [],
            deadlineMs: 5000,
            requestingAuthority: 'bench',
          },
          60_000,
        );
      for (let w = 0; w < 2; w += 1) await lookup(); // TLS handshakes and warm-up
      const samples: number[] = [];
      let hits = 0;
      let notAnswered = 0;
      const cpu0 = cpuTimeMs(fra.runtime.pid);
      for (let k = 0; k < sizes.fanout.lookups; k += 1) {
        const t0 = performance.now();
        const response = await lookup();
        samples.push(performance.now() - t0);
        if (response.results.length !== participants)
          throw new Error(`lookup asked ${response.results.length} peers, not ${participants}`);
        hits += response.results.filter((r) => r.outcome === LookupOutcome.LOOKUP_OUTCOME_HIT).length;
        notAnswered += response.results.filter(
          (r) => r.outcome !== LookupOutcome.LOOKUP_OUTCOME_HIT && r.outcome !== LookupOutcome.LOOKUP_OUTCOME_NO_HIT,
        ).length;
      }
      const cpu = cpuTimeMs(fra.runtime.pid) - cpu0;
      const rss = await Promise.all(children.map((child) => ask<{ type: 'rss'; rss: number }>(child, { type: 'rss' })));
      const run: FanoutRun = {
        participants,
        responderProcesses: workers,
        lookups: sizes.fanout.lookups,
        allAnswered: latency(samples),
        hitsPerLookup: round(hits / sizes.fanout.lookups, 1),
        notAnswered,
        askerCpuMsPerLookup: round(cpu / sizes.fanout.lookups, 1),
        responderRssMiBPerNode: round(rss.reduce((a, m) => a + m.rss, 0) / 2 ** 20 / participants, 1),
      };
      log(
        `  ${participants} participants: all answered p50 ${run.allAnswered.p50Ms} ms, p99 ${run.allAnswered.p99Ms} ms; ${run.hitsPerLookup} hits/lookup, ${notAnswered} not answered`,
      );
      runs.push(run);
    } finally {
      await Promise.all(
        children.map((child) =>
          ask(child, { type: 'stop' }, { answer: 'stopped', timeoutMs: 60_000 }).catch(() => undefined),
        ),
      );
      await Promise.all(children.map((child) => stopChild(child)));
      await federation.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
  const at = (n: number) => runs.find((r) => r.participants === n);
  const largest = runs.at(-1);
  const targets: Target[] = [];
  if (at(193))
    targets.push(target('lookup to 193 participants, all answered, p99', at(193)?.allAnswered.p99Ms, '<', 1000, ' ms'));
  else if (largest)
    targets.push(
      target(
        `lookup to ${largest.participants} participants, all answered, p99 (the target is set at 193: run --scale 193)`,
        largest.allAnswered.p99Ms,
        '<',
        1000,
        ' ms',
      ),
    );
  return {
    simulated:
      'the asking node is a real node process; each participant is a complete TracenetNode (own keys, LevelDB with store.sync off, TLS Federation port) but many share one responder process, and all share the same two cores and loopback: no network latency, and the responders compete with the asker for CPU',
    runs,
    targets,
  };
}
