import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalFederation } from '@tracenet/node/dev';
import { LookupOutcome, PeerCard } from '@tracenet/proto';
import { ask, forkScript, stopChild } from '../child.js';
import { FANOUT_WEAPON } from '../dataset.js';
import { type LatencyProxy, startLatencyProxy } from '../latency-proxy.js';
import { cpuTimeMs } from '../proc.js';
import type { Sizes } from '../sizes.js';
import { latency, type Latency, round, target, type Target } from '../stats.js';

export interface FanoutRun {
  readonly participants: number;
  /** Round-trip time added per peer by a latency proxy in front of each participant (0: plain loopback). */
  readonly addedRttMs: number;
  readonly responderProcesses: number;
  readonly lookups: number;
  /** Authority API Lookups.lookup on the asking node until every participant has answered. */
  readonly allAnswered: Latency;
  readonly hitsPerLookup: number;
  /** Answers that were not HIT or NO_HIT (timeouts, errors) over all measured lookups. */
  readonly notAnswered: number;
  readonly askerCpuMsPerLookup: number;
  /** CPU of all responder processes together per lookup: the participants' own work, on the same two cores. */
  readonly respondersCpuMsPerLookup: number;
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
 * participant has answered (or its 5 s deadline passed). The runs of `sizes.fanout.delayed` put a
 * latency proxy in front of each participant (its card advertises the proxy), adding
 * `addedRttMs` to every round trip between FRA and that participant.
 */
export async function benchFanout(sizes: Sizes, log: (line: string) => void): Promise<FanoutResult> {
  const runs: FanoutRun[] = [];
  for (const participants of sizes.fanout.participants) runs.push(await fanoutRun(sizes, participants, 0, log));
  for (const participants of sizes.fanout.delayed)
    runs.push(await fanoutRun(sizes, participants, sizes.fanout.addedRttMs, log));
  const targets: Target[] = [];
  const lookupTarget = (addedRttMs: number, goalMs: number) => {
    const candidates = runs.filter((r) => r.addedRttMs === addedRttMs);
    const run = candidates.find((r) => r.participants === 193) ?? candidates.at(-1);
    const what = addedRttMs === 0 ? 'on loopback' : `with ${addedRttMs} ms added round trip per peer`;
    targets.push(
      target(
        run?.participants === 193
          ? `lookup to 193 participants ${what}, all answered, p99`
          : `lookup ${what}, all answered, p99 (the target is set at 193 participants: run --scale 193${run ? `; this is ${run.participants}` : ''})`,
        run?.allAnswered.p99Ms,
        '<',
        goalMs,
        ' ms',
      ),
    );
  };
  lookupTarget(0, 250);
  lookupTarget(sizes.fanout.addedRttMs, 1000);
  return {
    simulated:
      'the asking node is a real node process; each participant is a complete TracenetNode (own keys, LevelDB with store.sync off, TLS Federation port) but many share one responder process, and all share the same two cores and loopback: on loopback no network latency, and the responders compete with the asker for CPU; the delayed runs add a fixed delay per direction in a user-space TCP proxy (no bandwidth limit, no loss)',
    runs,
    targets,
  };
}

/** One run: a fresh asker and `participants` responders, `sizes.fanout.lookups` lookups measured. */
async function fanoutRun(
  sizes: Sizes,
  participants: number,
  addedRttMs: number,
  log: (line: string) => void,
): Promise<FanoutRun> {
  const workers = Math.min(participants, sizes.fanout.workers);
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
  const proxies: LatencyProxy[] = [];
  try {
    const fra = federation.node('FRA');
    const ids = participantIds(participants);
    if (addedRttMs > 0) for (const _ of ids) proxies.push(await startLatencyProxy(addedRttMs / 2));
    const started = performance.now();
    const shares = children.map((_, w) => ids.flatMap((id, k) => (k % workers === w ? [k] : [])));
    const answers = await Promise.all(
      children.map((child, w) =>
        ask<{ type: 'started'; cards: string[]; addresses: string[] }>(
          child,
          {
            type: 'start',
            ids: shares[w]?.map((k) => ids[k]),
            baseDir: join(dir, `w${w}`),
            // Every tenth participant of the whole federation, however they are spread over processes.
            holders: ids.filter((_, k) => k % 10 === 0),
            ...(proxies.length > 0 ? { advertise: shares[w]?.map((k) => proxies[k]?.address) } : {}),
          },
          { answer: 'started' },
        ),
      ),
    );
    answers.forEach((answer, w) =>
      shares[w]?.forEach((k, j) => {
        const proxy = proxies[k];
        if (proxy) proxy.target = answer.addresses[j];
      }),
    );
    for (const card of answers.flatMap((m) => m.cards))
      await fra.authority.call('addPeer', { card: PeerCard.decode(Buffer.from(card, 'base64')), replaceKeys: false });
    const { card: fraCard } = await fra.authority.call('getNodeInfo', {});
    if (!fraCard) throw new Error('FRA has no card');
    const fraCardBase64 = Buffer.from(PeerCard.encode(fraCard).finish()).toString('base64');
    await Promise.all(children.map((child) => ask(child, { type: 'pin', card: fraCardBase64 }, { answer: 'pinned' })));
    const label = `${participants} participants${addedRttMs > 0 ? ` (+${addedRttMs} ms round trip)` : ''}`;
    log(`  ${label} in ${workers} responder processes ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);

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
    // Connections warm, as in a running federation: the first lookups make FRA's TLS channel to
    // each participant (kept open afterwards) and warm both sides' code.
    for (let w = 0; w < 3; w += 1) await lookup();
    const samples: number[] = [];
    let hits = 0;
    let notAnswered = 0;
    const respondersCpu = () => children.reduce((sum, child) => sum + cpuTimeMs(child.pid ?? 0), 0);
    const cpu0 = cpuTimeMs(fra.runtime.pid);
    const respondersCpu0 = respondersCpu();
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
    const responders = respondersCpu() - respondersCpu0;
    const rss = await Promise.all(children.map((child) => ask<{ type: 'rss'; rss: number }>(child, { type: 'rss' })));
    const run: FanoutRun = {
      participants,
      addedRttMs,
      responderProcesses: workers,
      lookups: sizes.fanout.lookups,
      allAnswered: latency(samples),
      hitsPerLookup: round(hits / sizes.fanout.lookups, 1),
      notAnswered,
      askerCpuMsPerLookup: round(cpu / sizes.fanout.lookups, 1),
      respondersCpuMsPerLookup: round(responders / sizes.fanout.lookups, 1),
      responderRssMiBPerNode: round(rss.reduce((a, m) => a + m.rss, 0) / 2 ** 20 / participants, 1),
    };
    log(
      `  ${label}: all answered p50 ${run.allAnswered.p50Ms} ms, p99 ${run.allAnswered.p99Ms} ms; ${run.hitsPerLookup} hits/lookup, ${notAnswered} not answered; CPU/lookup asker ${run.askerCpuMsPerLookup} ms, responders ${run.respondersCpuMsPerLookup} ms`,
    );
    return run;
  } finally {
    await Promise.all(
      children.map((child) =>
        ask(child, { type: 'stop' }, { answer: 'stopped', timeoutMs: 60_000 }).catch(() => undefined),
      ),
    );
    await Promise.all(children.map((child) => stopChild(child)));
    await federation.stop();
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await rm(dir, { recursive: true, force: true });
  }
}
