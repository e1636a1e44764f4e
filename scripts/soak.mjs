// Soak test (docs/reliability.md, section 7): real node processes on loopback exchange notices in
// both directions for a long time at half their measured maximum throughput; the report gives
// the error count and each node's memory (RSS) at start and end, with its growth per minute.
//
//   npm run soak                          # build, then 10 minutes at half the measured maximum
//   npm run soak -- --minutes 2 --rate 300 --out soak.json
//
// Options: --minutes N (10), --rate msgs/s (default: half the maximum measured for
// --measure-seconds, 5), --participants FRA,BEL (2 or more; every node sends to every other),
// --sample-seconds N (10), --out FILE (the report as JSON). Exit code 1 when anything went wrong:
// an API call refused, a message failed or not delivered after the run.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startLocalFederation } from '@tracenet/node/dev';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string' },
    'measure-seconds': { type: 'string', default: '5' },
    participants: { type: 'string', default: 'FRA,BEL' },
    'sample-seconds': { type: 'string', default: '10' },
    out: { type: 'string' },
  },
});
const minutes = Number(args.minutes);
const measureSeconds = Number(args['measure-seconds']);
const sampleSeconds = Number(args['sample-seconds']);
const participants = args.participants
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean);
if (!(minutes > 0) || !(measureSeconds > 0) || !(sampleSeconds > 0) || participants.length < 2) {
  console.error(
    'usage: soak.mjs [--minutes N] [--rate msgs/s] [--measure-seconds N] [--participants FRA,BEL] [--sample-seconds N] [--out FILE]',
  );
  process.exit(2);
}

const log = (line) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pairs = participants.flatMap((from) => participants.filter((to) => to !== from).map((to) => ({ from, to })));

/** Resident set size of a process in MB (Linux /proc; `ps` elsewhere). */
function rssMb(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}

const errors = { apiCalls: 0, failedMessages: 0, undelivered: 0, skipped: 0, firstErrors: [] };
function noteError(error) {
  errors.apiCalls++;
  if (errors.firstErrors.length < 5) errors.firstErrors.push(String(error?.message ?? error));
}

log(`starting ${participants.join(', ')} as separate processes`);
const federation = await startLocalFederation({ participants, logLevel: 'warn' });
const nodes = participants.map((id) => federation.node(id));
let stopping = false;
const shutdown = async () => {
  stopping = true;
  await federation.stop();
};
process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));

let counter = 0;
const send = (from, to) =>
  federation.node(from).authority.call(
    'sendNotice',
    {
      recipient: to,
      subject: `soak ${counter}`,
      text: `soak notice ${counter++} from ${from} to ${to}`,
      correlationId: '',
    },
    10_000,
  );
const totals = async () => {
  const stats = await Promise.all(nodes.map((n) => n.authority.call('getDeliveryStats', {})));
  return stats.reduce((t, s) => ({ sent: t.sent + s.sent, outbox: t.outbox + s.outbox, failed: t.failed + s.failed }), {
    sent: 0,
    outbox: 0,
    failed: 0,
  });
};
const drain = async (timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await totals();
    if (t.outbox === 0) return t;
    if (Date.now() > deadline) return t;
    await sleep(200);
  }
};

try {
  // 1. Maximum: every pair sends as fast as 32 calls in flight allow; the rate is what was delivered.
  let rate = args.rate === undefined ? undefined : Number(args.rate);
  let measured;
  if (rate === undefined) {
    const before = await totals();
    const started = performance.now();
    let accepted = 0;
    await Promise.all(
      pairs.flatMap(({ from, to }) =>
        Array.from({ length: Math.max(1, Math.ceil(32 / pairs.length)) }, async () => {
          while (performance.now() - started < measureSeconds * 1000) {
            await send(from, to).then(() => accepted++, noteError);
          }
        }),
      ),
    );
    const acceptedSeconds = (performance.now() - started) / 1000;
    // Acceptance runs ahead of delivery into the outbox: the maximum is what was delivered by the
    // time the outboxes were empty again.
    const after = await drain(120_000);
    const seconds = (performance.now() - started) / 1000;
    measured = {
      seconds: measureSeconds,
      acceptedPerSecond: accepted / acceptedSeconds,
      deliveredPerSecond: (after.sent - before.sent) / seconds,
    };
    rate = Math.max(1, Math.round(measured.deliveredPerSecond / 2));
    log(
      `maximum: ${accepted} notices accepted in ${acceptedSeconds.toFixed(1)} s (${measured.acceptedPerSecond.toFixed(0)}/s), all delivered after ${seconds.toFixed(1)} s: ${measured.deliveredPerSecond.toFixed(0)}/s end to end; soaking at ${rate} msgs/s`,
    );
  } else {
    log(`soaking at ${rate} msgs/s (--rate)`);
  }
  const measureErrors = errors.apiCalls;

  // 2. Soak at `rate`, paced every 100 ms, at most 64 calls in flight.
  const samples = [];
  const takeSample = async (tMin) => {
    const t = await totals().catch(() => ({ sent: NaN, outbox: NaN, failed: NaN }));
    samples.push({ tMin, rss: Object.fromEntries(nodes.map((n) => [n.participantId, rssMb(n.process.pid)])), ...t });
  };
  const soakStart = performance.now();
  const startTotals = await totals();
  await takeSample(0);
  let accepted = 0;
  let inFlight = 0;
  let issued = 0;
  let nextSample = sampleSeconds;
  let nextProgress = 60;
  while (!stopping) {
    const elapsed = (performance.now() - soakStart) / 1000;
    if (elapsed >= minutes * 60) break;
    // Paced by the clock, not by the timer: sends due so far, minus those issued.
    while (issued < rate * elapsed) {
      issued++;
      if (inFlight >= 64) {
        errors.skipped++; // the node is behind: skip the send rather than pile up calls
        continue;
      }
      const { from, to } = pairs[counter % pairs.length];
      inFlight++;
      send(from, to)
        .then(() => accepted++, noteError)
        .finally(() => inFlight--);
    }
    if (elapsed >= nextSample) {
      nextSample += sampleSeconds;
      await takeSample(elapsed / 60);
    }
    if (elapsed >= nextProgress) {
      nextProgress += 60;
      const last = samples.at(-1);
      log(
        `${(elapsed / 60).toFixed(0)} min: ${accepted} accepted, backlog ${last.outbox}, RSS ${Object.entries(last.rss)
          .map(([id, mb]) => `${id} ${mb.toFixed(0)} MB`)
          .join(', ')}, errors ${errors.apiCalls - measureErrors}`,
      );
    }
    await sleep(100);
  }
  while (inFlight > 0) await sleep(20);
  const soakSeconds = (performance.now() - soakStart) / 1000;
  await takeSample(soakSeconds / 60);

  // 3. Everything accepted must be delivered.
  const end = await drain(120_000);
  errors.failedMessages = end.failed;
  errors.undelivered = Math.max(0, startTotals.sent + accepted - end.sent);
  const memory = nodes.map((n) => {
    const points = samples.map((s) => ({ x: s.tMin, y: s.rss[n.participantId] })).filter((p) => Number.isFinite(p.y));
    const secondHalf = points.filter((p) => p.x >= soakSeconds / 120);
    return {
      node: n.participantId,
      startMb: points[0]?.y,
      endMb: points.at(-1)?.y,
      maxMb: Math.max(...points.map((p) => p.y)),
      slopeMbPerMin: slope(points),
      secondHalfSlopeMbPerMin: slope(secondHalf),
    };
  });
  const report = {
    when: new Date().toISOString(),
    participants,
    minutes: soakSeconds / 60,
    measured,
    rate,
    accepted,
    achievedPerSecond: accepted / soakSeconds,
    delivered: end.sent - startTotals.sent,
    errors: {
      apiCalls: errors.apiCalls - measureErrors,
      skippedSends: errors.skipped,
      measurePhaseApiCalls: measureErrors,
      failedMessages: errors.failedMessages,
      undelivered: errors.undelivered,
      firstErrors: errors.firstErrors,
    },
    memory,
    samples,
  };
  const errorCount = report.errors.apiCalls + report.errors.failedMessages + report.errors.undelivered;
  log(
    `done: ${accepted} notices in ${(soakSeconds / 60).toFixed(1)} min (${report.achievedPerSecond.toFixed(0)}/s), ${report.delivered} delivered`,
  );
  log(
    `errors: ${errorCount} (API calls refused ${report.errors.apiCalls}, failed ${report.errors.failedMessages}, undelivered ${report.errors.undelivered}); sends skipped because 64 were in flight: ${errors.skipped}`,
  );
  for (const m of memory) {
    log(
      `RSS ${m.node}: ${m.startMb.toFixed(1)} MB -> ${m.endMb.toFixed(1)} MB (max ${m.maxMb.toFixed(1)}), slope ${m.slopeMbPerMin.toFixed(2)} MB/min overall, ${m.secondHalfSlopeMbPerMin.toFixed(2)} MB/min in the second half`,
    );
  }
  if (args.out) writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = errorCount === 0 ? 0 : 1;
} finally {
  await shutdown();
}
