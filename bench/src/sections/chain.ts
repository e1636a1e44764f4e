import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { readAuthorityToken } from '@tracenet/node';
import { type LocalFederation, type LocalNode, startLocalFederation } from '@tracenet/node/dev';
import {
  type AuthorityClient,
  type Case,
  CaseState,
  FindingKind,
  IllicitKind,
  MessageKind,
  type NodeEvent,
  Priority,
  TraceOutcome,
  TraceRequest,
  WeaponEventType as E,
  WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';
import { cpuTimeMs } from '../proc.js';
import type { Sizes } from '../sizes.js';
import { latency, type Latency, round, target, type Target } from '../stats.js';

/** One line of supply: FRA asks the first state, each refers to the next, the last answers "traced". */
interface SupplyLine {
  readonly name: string;
  readonly states: readonly string[];
  /** Serial prefix of this line's weapons. */
  readonly serial: string;
}

/** The demo's chain: BEL made and exported the pistol to KEN, where it was stolen. */
const TWO_HOP: SupplyLine = { name: 'two-hop', states: ['BEL', 'KEN'], serial: 'FX-BENCH-2' };
/** Five automatically answered requests: BEL exported to DEU, which re-exported to ITA, then ZAF, then KEN. */
const FIVE_HOP: SupplyLine = { name: 'five-hop', states: ['BEL', 'DEU', 'ITA', 'ZAF', 'KEN'], serial: 'FX-BENCH-5' };
const LINES = [TWO_HOP, FIVE_HOP];
const REQUESTER = 'FRA';
/** Chains run before the measured ones of each line, not counted: TLS channels between the nodes, V8 compilation. */
const WARMUP = 2;
/** Chains of each line run at log level debug, of which the median one is shown step by step (fewer in a smoke run). */
const TRACED = 7;
const FINAL = [CaseState.CASE_STATE_ANSWERED, CaseState.CASE_STATE_REFUSED, CaseState.CASE_STATE_RESTRICTED];

/** Monotonic ms (CLOCK_MONOTONIC, the clock of the nodes' step lines). */
const mono = () => Number(process.hrtime.bigint() / 1000n) / 1000;

/** One step of a traced chain: when (ms after the request was made), where, what. */
export interface TraceRow {
  readonly atMs: number;
  /** ms since the previous row. */
  readonly deltaMs: number;
  readonly node: string;
  readonly step: string;
  readonly what: string;
}

export interface LineResult {
  readonly name: string;
  readonly states: readonly string[];
  readonly chains: number;
  /** Request to the last state's answer on FRA's case, follow-ons included. */
  readonly wall: Latency;
  /** Each hop apart: request (or follow-on) to that state's answer on FRA's case. */
  readonly hop: Latency;
  /** CPU of all node processes per chain (utime + stime over the measured chains ÷ chains), ms. */
  readonly cpuMsPerChain: number;
  /** The same for each node of the line (FRA first), ms per chain: where the CPU of a chain is spent. */
  readonly cpuMsPerChainByNode: Readonly<Record<string, number>>;
  /** CPU of the bench's own process (the officer's client: calls, event stream) per chain, ms. */
  readonly clientCpuMsPerChain: number;
  /** The first chain after the nodes started (cold TLS channels and V8), not counted in `wall`. */
  readonly firstMs: number;
  /** Wall time of the traced chain shown (the median of the traced ones, run at log level debug). */
  readonly tracedMs: number;
  readonly trace: readonly TraceRow[];
}

export interface ChainResult {
  readonly chains: number;
  /** How the client learns the answer: FRA's WatchEvents stream, not polling. */
  readonly observedBy: string;
  readonly lines: readonly LineResult[];
  readonly humanBaseline: string;
  readonly targets: readonly Target[];
}

/**
 * Pushes FRA's node events to the bench: the moment an answer is committed on a case, the
 * stream says so (WatchEvents, live only). Final states seen before anyone waits are kept.
 */
class CaseWatch {
  readonly #final = new Map<string, NodeEvent>();
  readonly #waiting = new Map<string, (event: NodeEvent) => void>();
  readonly #stream: ReturnType<AuthorityClient['watchEvents']>;
  #failure: Error | undefined;

  constructor(client: AuthorityClient, token: string) {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    this.#stream = client.watchEvents({ afterSequence: 0, liveOnly: true }, metadata);
    this.#stream.on('data', (event: NodeEvent) => {
      if (!FINAL.includes(event.state)) return;
      const waiter = this.#waiting.get(event.caseId);
      if (waiter) {
        this.#waiting.delete(event.caseId);
        waiter(event);
      } else this.#final.set(event.caseId, event);
    });
    this.#stream.on('error', (error: Error) => {
      if (this.#failure === undefined) this.#failure = error;
    });
  }

  /** Resolves with the time the event of `caseId`'s final state arrived. */
  until(caseId: string, timeoutMs = 30_000): Promise<number> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#final.delete(caseId)) return Promise.resolve(mono());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(caseId);
        reject(new Error(`${caseId} got no final state within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(caseId, () => {
        clearTimeout(timer);
        resolve(mono());
      });
    });
  }

  close(): void {
    this.#stream.cancel();
  }
}

function weapon(line: SupplyLine, i: number) {
  return {
    manufacturer: 'FN Herstal',
    countryOfManufacture: 'BEL',
    serialNumber: `${line.serial}-${String(i).padStart(5, '0')}`,
    model: 'FNX-45',
    type: WeaponType.WEAPON_TYPE_PISTOL,
    calibre: '.45 ACP',
    year: 2011,
  };
}

/** Each state's record of weapon `i` of the line: imported from the one before, exported to the next (the last: stolen). */
async function seed(federation: LocalFederation, line: SupplyLine, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    for (const [at, state] of line.states.entries()) {
      const from = line.states[at - 1];
      const to = line.states[at + 1];
      const year = 2011 + at;
      const events = [
        from === undefined
          ? {
              type: E.WEAPON_EVENT_TYPE_MANUFACTURED,
              date: '2011-05-17',
              place: 'Herstal',
              agency: 'FN Herstal',
            }
          : {
              type: E.WEAPON_EVENT_TYPE_IMPORTED,
              date: `${year}-04-02`,
              origin: from,
              licence: `${state}-IMP-${i}`,
            },
        to === undefined
          ? {
              type: E.WEAPON_EVENT_TYPE_STOLEN,
              date: '2019-08-03',
              place: 'Nairobi',
              agency: 'Kenya Police Service',
            }
          : {
              type: E.WEAPON_EVENT_TYPE_EXPORTED,
              date: `${year}-09-14`,
              destination: to,
              licence: `${state}-EXP-${i}`,
              endUser: `importer in ${to}`,
            },
      ];
      await federation.node(state).records.call('putRecord', {
        record: WeaponRecord.fromPartial({
          manufacture: weapon(line, i),
          manufactureMethod: 1,
          imports: from === undefined ? [] : [{ country: state, year }],
          status: to === undefined ? WeaponStatus.WEAPON_STATUS_STOLEN : WeaponStatus.WEAPON_STATUS_EXPORTED,
          events,
        }),
      });
    }
  }
}

function request(line: SupplyLine, i: number): TraceRequest {
  return TraceRequest.fromPartial({
    requestingAuthority: 'Office central de lutte contre le crime organisé (OCLCO)',
    caseReference: `OCLCO-BENCH-${line.name}-${i}`,
    priority: Priority.PRIORITY_ROUTINE,
    illicitCriteria: [
      { kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Code de la sécurité intérieure, art. L317-8' },
    ],
    circumstances: {
      kind: FindingKind.FINDING_KIND_SEIZED,
      date: '2026-10-02',
      place: 'Marseille',
      agency: 'Police judiciaire',
      description: 'seized during a search',
      circumstance: 0,
    },
    weapon: { markings: weapon(line, i), manufactureMethod: 1 },
    intendedUse: 'criminal investigation and prosecution',
  });
}

/** What the client did and saw, on the monotonic clock. */
interface ChainRun {
  readonly startMs: number;
  readonly endMs: number;
  readonly hops: readonly number[];
  readonly marks: ReadonlyArray<{ atMs: number; what: string }>;
}

/**
 * One chain: FRA asks the first state; as soon as a referral is committed on FRA's case, the bench
 * (as FRA's operator) follows on to the state referred to; the last state's answer ends it.
 */
async function runChain(fra: LocalNode, watch: CaseWatch, line: SupplyLine, i: number): Promise<ChainRun> {
  const marks: Array<{ atMs: number; what: string }> = [];
  const hops: number[] = [];
  const recipient = line.states[0] ?? '';
  const startMs = mono();
  marks.push({ atMs: startMs, what: `createCase to ${recipient} called` });
  let c = (await fra.cases.call('createCase', { recipient, request: request(line, i), send: true })).case;
  let hopStart = startMs;
  for (const [at, state] of line.states.entries()) {
    if (!c) throw new Error(`chain ${i}: no case for ${state}`);
    marks.push({ atMs: mono(), what: `${at === 0 ? 'createCase' : 'followOn'} returned (${c.caseId} to ${state})` });
    const answeredMs = await watch.until(c.caseId);
    marks.push({ atMs: answeredMs, what: `event: ${state}'s answer is on ${c.caseId}` });
    hops.push(answeredMs - hopStart);
    if (at === line.states.length - 1) break;
    hopStart = mono();
    marks.push({ atMs: hopStart, what: `followOn to ${line.states[at + 1]} called` });
    // Fails (ILLEGAL_TRANSITION) unless the answer referred: the check that the state referred.
    c = (
      await fra.cases.call('followOn', {
        caseId: c.caseId,
        intendedUse: '',
        otherInformation: `follow-on of the referral by ${state}`,
        send: true,
      })
    ).case;
  }
  const endMs = mono();
  const last = (await fra.cases.call('getCase', { caseId: c?.caseId ?? '' })).case as Case;
  if (last.answer?.outcome !== TraceOutcome.TRACE_OUTCOME_TRACED || last.peer !== line.states.at(-1))
    throw new Error(`chain ${i}: ${last.peer} did not answer traced (state ${CaseState[last.state]})`);
  return { startMs, endMs, hops, marks };
}

async function startFederation(dir: string, logLevel: string): Promise<LocalFederation> {
  const autoAnswer = { participantId: REQUESTER, acceptRequests: true, autoAcknowledge: true, autoAnswer: true };
  const states = [...new Set(LINES.flatMap((l) => l.states))];
  return startLocalFederation({
    participants: [REQUESTER, ...states],
    baseDir: dir,
    logLevel,
    policies: states.map((of) => ({ of, policy: autoAnswer })),
  });
}

async function watchOf(fra: LocalNode): Promise<CaseWatch> {
  return new CaseWatch(fra.authority.client as AuthorityClient, await readAuthorityToken(fra.dataDir));
}

const KIND = (kind: unknown) =>
  (MessageKind[Number(kind)] ?? String(kind)).replace('MESSAGE_KIND_', '').replace('TRACE_', '').toLowerCase();

interface StepLine {
  readonly step: string;
  readonly mono: number;
  readonly [field: string]: unknown;
}

/** The step lines (`traceStep`, log level debug) a node wrote between `from` and `to`. */
function stepsOf(node: LocalNode, from: number, to: number): StepLine[] {
  const steps: StepLine[] = [];
  for (const line of node.output.join('').split('\n')) {
    if (!line.includes('"step"')) continue;
    try {
      const parsed = JSON.parse(line) as StepLine;
      if (typeof parsed.mono === 'number' && parsed.mono >= from && parsed.mono <= to) steps.push(parsed);
    } catch {
      // a line cut by a chunk boundary: not a step line
    }
  }
  return steps;
}

/** Every step of one chain, all nodes and the client, in time order. */
function timeline(federation: LocalFederation, run: ChainRun): TraceRow[] {
  const events: Array<{ atMs: number; node: string; step: string; what: string }> = run.marks.map((m) => ({
    atMs: m.atMs,
    node: 'bench',
    step: 'client',
    what: m.what,
  }));
  for (const node of federation.nodes.values()) {
    const steps = stepsOf(node, run.startMs, run.endMs + 1);
    // outbox.attempt and outbox.receipt name only the message: its kind and peer come from outbox.queued.
    const messages = new Map<unknown, string>();
    for (const s of steps)
      if (s.step === 'outbox.queued') messages.set(s.messageId, `${KIND(s.kind)} to ${String(s.peer)}`);
    for (const s of steps) {
      const what =
        s.step.startsWith('outbox.') && s.step !== 'outbox.queued'
          ? (messages.get(s.messageId) ?? String(s.messageId))
          : s.step.startsWith('outbox.')
            ? `${KIND(s.kind)} to ${String(s.peer)}`
            : s.step.startsWith('inbound.')
              ? `${KIND(s.kind)} from ${String(s.peer)}`
              : s.step.startsWith('case.')
                ? `${String(s.caseId)}${s.kind ? ` ${String(s.kind)}` : ''}`
                : String(s.caseId ?? '');
      events.push({ atMs: s.mono, node: node.participantId, step: s.step, what });
    }
  }
  events.sort((a, b) => a.atMs - b.atMs);
  let previous = run.startMs;
  return events.map((e) => {
    const row = {
      atMs: round(e.atMs - run.startMs, 2),
      deltaMs: round(e.atMs - previous, 2),
      node: e.node,
      step: e.step,
      what: e.what,
    };
    previous = e.atMs;
    return row;
  });
}

/** Each node's CPU per chain and the bench's client's: "FRA 27.8, BEL 13.4, KEN 13.35; client 6.28". */
export function cpuSplitText(line: Pick<LineResult, 'cpuMsPerChainByNode' | 'clientCpuMsPerChain'>): string {
  const byNode = Object.entries(line.cpuMsPerChainByNode).map(([id, ms]) => `${id} ${ms}`);
  return `${byNode.join(', ')}; client ${line.clientCpuMsPerChain}`;
}

/** The rows as text lines: "  +12.34  (+0.56)  BEL  inbound.stored  request from FRA". */
export function traceText(rows: readonly TraceRow[]): string[] {
  return rows.map(
    (r) =>
      `${`+${r.atMs.toFixed(2)}`.padStart(9)} ${`(+${r.deltaMs.toFixed(2)})`.padStart(9)}  ${r.node.padEnd(5)} ${r.step.padEnd(17)} ${r.what}`,
  );
}

/** The chains of each line at log level warn (measured), after warm-up. */
async function measure(
  federation: LocalFederation,
  count: number,
  log: (line: string) => void,
): Promise<Map<SupplyLine, Omit<LineResult, 'tracedMs' | 'trace'>>> {
  const fra = federation.node(REQUESTER);
  const watch = await watchOf(fra);
  const results = new Map<SupplyLine, Omit<LineResult, 'tracedMs' | 'trace'>>();
  try {
    for (const line of LINES) {
      const first = await runChain(fra, watch, line, 0);
      for (let i = 1; i < WARMUP; i += 1) await runChain(fra, watch, line, i);
      const pids = [...federation.nodes.values()].map((n) => n.process.pid as number);
      const cpu0 = pids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0);
      const named = [REQUESTER, ...line.states].map((id) => ({ id, pid: federation.node(id).process.pid as number }));
      const byNode0 = named.map(({ pid }) => cpuTimeMs(pid));
      const client0 = process.cpuUsage();
      const wall: number[] = [];
      const hops: number[] = [];
      for (let i = WARMUP; i < WARMUP + count; i += 1) {
        const run = await runChain(fra, watch, line, i);
        wall.push(run.endMs - run.startMs);
        hops.push(...run.hops);
      }
      const cpuMsPerChain = round((pids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0) - cpu0) / count, 2);
      const cpuMsPerChainByNode = Object.fromEntries(
        named.map(({ id, pid }, at) => [id, round((cpuTimeMs(pid) - (byNode0[at] ?? 0)) / count, 2)]),
      );
      const client = process.cpuUsage(client0);
      const clientCpuMsPerChain = round((client.user + client.system) / 1000 / count, 2);
      const result = {
        name: line.name,
        states: line.states,
        chains: count,
        wall: latency(wall),
        hop: latency(hops),
        cpuMsPerChain,
        cpuMsPerChainByNode,
        clientCpuMsPerChain,
        firstMs: round(first.endMs - first.startMs, 2),
      };
      log(
        `  ${line.name} (${REQUESTER} → ${line.states.join(' → ')}), ${count} chains: wall p50 ${result.wall.p50Ms} ms, p99 ${result.wall.p99Ms} ms (hop p50 ${result.hop.p50Ms} ms, p99 ${result.hop.p99Ms} ms); node CPU ${cpuMsPerChain} ms per chain (${cpuSplitText(result)}); first chain after start ${result.firstMs} ms`,
      );
      results.set(line, result);
    }
  } finally {
    watch.close();
  }
  return results;
}

/** Chains of each line at log level debug; the median one's steps. */
async function trace(
  federation: LocalFederation,
  tracedChains: number,
  log: (line: string) => void,
): Promise<Map<SupplyLine, { tracedMs: number; trace: TraceRow[] }>> {
  const fra = federation.node(REQUESTER);
  const watch = await watchOf(fra);
  const traced = new Map<SupplyLine, { tracedMs: number; trace: TraceRow[] }>();
  try {
    for (const line of LINES) {
      for (let i = 0; i < WARMUP; i += 1) await runChain(fra, watch, line, i);
      const runs: ChainRun[] = [];
      for (let i = WARMUP; i < WARMUP + tracedChains; i += 1) runs.push(await runChain(fra, watch, line, i));
      const median = [...runs].sort((a, b) => a.endMs - a.startMs - (b.endMs - b.startMs))[
        Math.floor(tracedChains / 2)
      ];
      if (!median) continue;
      const rows = timeline(federation, median);
      const tracedMs = round(median.endMs - median.startMs, 2);
      log(`  ${line.name}: the median of ${tracedChains} chains at log level debug (${tracedMs} ms), step by step:`);
      for (const text of traceText(rows)) log(`  ${text}`);
      traced.set(line, { tracedMs, trace: rows });
    }
  } finally {
    watch.close();
  }
  return traced;
}

/**
 * Trace chains along a line of supply, as separate node processes on loopback: FRA asks the first
 * state, which answers automatically from its records "referred to" the next; FRA's operator (this
 * script, as soon as the referral is committed on FRA's case) follows on to it; the last state
 * answers "traced". Two lines: the demo's BEL → KEN (two hops) and BEL → DEU → ITA → ZAF → KEN
 * (five hops: five requests, each acknowledged and answered automatically). Each chain is another
 * weapon; chains run one after another. The client learns of each answer from FRA's WatchEvents
 * stream. Then, in a second federation at log level debug, a few chains of each line are traced
 * step by step (`traceStep` lines of every node, on the machine's monotonic clock).
 */
export async function benchChain(sizes: Sizes, log: (line: string) => void): Promise<ChainResult> {
  const count = sizes.chains;
  const tracedChains = Math.min(TRACED, Math.max(3, count));
  const perLine = WARMUP + Math.max(count, tracedChains);
  const run = async <T>(logLevel: string, work: (federation: LocalFederation) => Promise<T>): Promise<T> => {
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-bench-chain-'));
    try {
      const federation = await startFederation(dir, logLevel);
      try {
        for (const line of LINES) await seed(federation, line, perLine);
        return await work(federation);
      } finally {
        await federation.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const measured = await run('warn', (federation) => measure(federation, count, log));
  const traced = await run('debug', (federation) => trace(federation, tracedChains, log));
  const lines = LINES.map((line) => {
    const m = measured.get(line);
    if (!m) throw new Error(`${line.name} was not measured`);
    return { ...m, tracedMs: traced.get(line)?.tracedMs ?? Number.NaN, trace: traced.get(line)?.trace ?? [] };
  });
  const [two, five] = lines;
  return {
    chains: count,
    observedBy: "FRA's WatchEvents stream (live only)",
    lines,
    humanBaseline: 'days to weeks (letters and e-mail between national focal points)',
    targets: [
      target('two-hop chain, request to final answer, p99', two?.wall.p99Ms, '<', 50, ' ms'),
      target('five-hop chain, request to final answer, p99', five?.wall.p99Ms, '<', 150, ' ms'),
    ],
  };
}
