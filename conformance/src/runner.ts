import { readFile } from 'node:fs/promises';
import {
  caseContext,
  type CaseContext,
  CaseSkipped,
  type ConformanceCase,
  DEFAULT_PORT_LIMITS,
  type Feature,
  FEATURES,
  OPTIONAL_FEATURES,
  type Spawner,
  type SuiteSettings,
} from './case.js';
import { ALL_CASES } from './cases/index.js';
import { CaseFailure, show } from './check.js';
import {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_REPLAY_WINDOW_MS,
  type FakePeer,
  kindName,
  PeerHost,
} from './fake-peer.js';
import type { Target } from './target.js';

/** How one case ended. `xfail`: failed as the expected-failures list says; `xpass`: listed there but passed. */
export type CaseStatus = 'passed' | 'failed' | 'skipped' | 'xfail' | 'xpass';

/** The result of one case. */
export interface CaseResult {
  readonly id: string;
  readonly section: string;
  readonly feature: Feature;
  readonly title: string;
  readonly status: CaseStatus;
  /** Why it failed or was skipped; for `xfail`/`xpass` also the listed reason. */
  readonly message: string;
  readonly durationMs: number;
}

/** The result of a run. */
export interface SuiteResult {
  readonly target: { participantId: string; keyId: string; federation: string };
  readonly startedAt: string;
  readonly durationMs: number;
  readonly results: CaseResult[];
  readonly counts: Record<CaseStatus, number>;
  /** Failures and unexpected passes: what makes the exit code 1. */
  readonly unexpected: number;
}

/** One entry of the expected-failures list (conformance/expected-failures.json). */
export interface ExpectedFailure {
  readonly id: string;
  readonly reason: string;
}

/** Reads an expected-failures file: `{ "expectedFailures": [{ "id", "reason" }] }`. */
export async function readExpectedFailures(path: string): Promise<ExpectedFailure[]> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { expectedFailures?: unknown };
  if (!Array.isArray(parsed.expectedFailures)) throw new Error(`${path}: "expectedFailures" must be a list`);
  return parsed.expectedFailures.map((entry: unknown, i) => {
    const e = entry as Partial<ExpectedFailure>;
    if (typeof e.id !== 'string' || typeof e.reason !== 'string' || e.reason.trim() === '')
      throw new Error(`${path}: expectedFailures[${i}] needs an "id" and a "reason"`);
    return { id: e.id, reason: e.reason };
  });
}

/** How to run the suite. */
export interface RunOptions {
  /** Features the node declares it lacks; only optional ones may be named. */
  readonly without?: readonly string[];
  /** Run only cases whose id equals or starts with one of these (`envelope.` runs a whole area), or whose section is one of them (`4.5`). */
  readonly only?: readonly string[];
  readonly expectedFailures?: readonly ExpectedFailure[];
  readonly settings?: Partial<SuiteSettings>;
  /** Longest time one case may take (default 30 s). */
  readonly caseTimeoutMs?: number;
  /** The cases to choose from (default: all). */
  readonly cases?: readonly ConformanceCase[];
  /** Called after each case, e.g. to print progress. */
  readonly onResult?: (result: CaseResult) => void;
  /** The `--spawn` command, with which cases may start nodes of their own (restarts, given keys, a roster key). */
  readonly spawn?: Spawner;
}

/** Refuses an unknown feature or a core feature in `--without`. */
export function checkWithout(without: readonly string[]): Feature[] {
  for (const f of without) {
    if (!(FEATURES as readonly string[]).includes(f))
      throw new Error(`unknown feature "${f}"; features: ${FEATURES.join(', ')}`);
    if (!OPTIONAL_FEATURES.includes(f as Feature))
      throw new Error(
        `"${f}" is a core feature of tracenet.v1 and cannot be left out; optional: ${OPTIONAL_FEATURES.join(', ')}`,
      );
  }
  return without as Feature[];
}

/** Whether a case is selected by `--only`. */
export function selected(c: ConformanceCase, only: readonly string[] | undefined): boolean {
  if (!only || only.length === 0) return true;
  return only.some(
    (o) =>
      c.id === o ||
      (o.endsWith('.') && c.id.startsWith(o)) ||
      c.id.startsWith(`${o}.`) ||
      c.section === o ||
      (c.cites ?? []).includes(o),
  );
}

function timeout(ms: number, id: string): Promise<never> {
  return new Promise((_, reject) =>
    setTimeout(() => reject(new CaseFailure(`case ${id} to finish within ${ms} ms`, 'no end (timed out)')), ms).unref(),
  );
}

function messageOf(error: unknown): string {
  if (error instanceof CaseFailure) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return show(error);
}

/** What the node sent to the fake peers of a case that no step of the case consumed, and what it sent wrong. */
function peerProblems(peers: readonly FakePeer[]): string[] {
  const problems: string[] = [];
  for (const peer of peers) {
    problems.push(...peer.violations.map((v) => `${peer.participantId}: ${v}`));
    if (peer.inbox.length > 0) {
      problems.push(
        `${peer.participantId} received what no step of the case expected: ${peer.inbox.map((m) => kindName(m.kind)).join(', ')} (a fake peer treats any unexpected message as a failure)`,
      );
    }
  }
  return problems;
}

/**
 * Runs the cases against a connected node: sequentially, each with its own fake peers, each with a
 * timeout. Cases of features the node lacks are skipped; cases on the expected-failures list that
 * fail are `xfail`, those that pass `xpass`. After the last case the suite waits briefly and fails
 * any case whose fake peers received something late that nobody expected.
 *
 * @example
 * ```ts
 * const target = await connectTarget({ authority: '127.0.0.1:7444', token });
 * const result = await runSuite(target, { without: ['lookups'] });
 * process.exitCode = result.unexpected > 0 ? 1 : 0;
 * ```
 */
export async function runSuite(target: Target, options: RunOptions = {}): Promise<SuiteResult> {
  const started = Date.now();
  const without = checkWithout(options.without ?? []);
  const expected = new Map((options.expectedFailures ?? []).map((e) => [e.id, e.reason]));
  const settings: SuiteSettings = {
    maxEnvelopeBytes: options.settings?.maxEnvelopeBytes ?? 4 * 1024 * 1024,
    replayWindowMs: options.settings?.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS,
    attemptTimeoutMs: options.settings?.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
    maxConnectionsPerAddress:
      options.settings?.maxConnectionsPerAddress ?? DEFAULT_PORT_LIMITS.maxConnectionsPerAddress,
    handshakeTimeoutMs: options.settings?.handshakeTimeoutMs ?? DEFAULT_PORT_LIMITS.handshakeTimeoutMs,
    maxConnectionsPerPeer: options.settings?.maxConnectionsPerPeer ?? DEFAULT_PORT_LIMITS.maxConnectionsPerPeer,
    maxArrivingPerPeer: options.settings?.maxArrivingPerPeer ?? DEFAULT_PORT_LIMITS.maxArrivingPerPeer,
    arrivalTimeoutMs: options.settings?.arrivalTimeoutMs ?? DEFAULT_PORT_LIMITS.arrivalTimeoutMs,
  };
  const cases = (options.cases ?? ALL_CASES).filter((c) => selected(c, options.only));
  const host = await PeerHost.start(target, { replayWindowMs: settings.replayWindowMs });
  // All fake peers share the host's TLS client certificate, which the node admits only once a
  // pinned card names it (protocol 2.5): one fake peer is pinned first, so that a case that pins
  // none of its own (raw bytes to Deliver) reaches the node whatever cases ran before it.
  await target.authority.call('addPeer', { card: host.createPeer().card, replaceKeys: false });
  const results: CaseResult[] = [];
  const contexts = new Map<string, CaseContext>();
  const verdict = (c: ConformanceCase, failure: string | undefined, durationMs: number): CaseResult => {
    const reason = expected.get(c.id);
    const base = { id: c.id, section: c.section, feature: c.feature, title: c.title, durationMs };
    if (failure === undefined) {
      return reason === undefined
        ? { ...base, status: 'passed', message: '' }
        : {
            ...base,
            status: 'xpass',
            message: `listed as an expected failure (${reason}) but passed: remove it from the list`,
          };
    }
    return reason === undefined
      ? { ...base, status: 'failed', message: failure }
      : { ...base, status: 'xfail', message: `${failure} [expected: ${reason}]` };
  };
  try {
    for (const c of cases) {
      if (without.includes(c.feature)) {
        const result: CaseResult = {
          id: c.id,
          section: c.section,
          feature: c.feature,
          title: c.title,
          status: 'skipped',
          message: `the node declares it lacks "${c.feature}"`,
          durationMs: 0,
        };
        results.push(result);
        options.onResult?.(result);
        continue;
      }
      const ctx = caseContext(target, host, settings, options.spawn);
      contexts.set(c.id, ctx);
      const t0 = Date.now();
      let failure: string | undefined;
      let skipped: string | undefined;
      try {
        await Promise.race([c.run(ctx), timeout(options.caseTimeoutMs ?? 30_000, c.id)]);
        const problems = peerProblems(ctx.peers);
        if (problems.length > 0) failure = `protocol violations seen by the fake peers: ${problems.join('; ')}`;
      } catch (error) {
        if (error instanceof CaseSkipped) skipped = error.message;
        else {
          failure = `protocol ${c.section}: ${messageOf(error)}`;
          // What the fake peers saw helps to read the failure.
          const problems = peerProblems(ctx.peers).filter((p) => !failure?.includes(p));
          if (problems.length > 0) failure += ` (fake peers also saw: ${problems.join('; ')})`;
        }
        for (const peer of ctx.peers) peer.inbox.length = 0;
      } finally {
        await ctx.dispose();
      }
      const result: CaseResult =
        skipped === undefined
          ? verdict(c, failure, Date.now() - t0)
          : {
              id: c.id,
              section: c.section,
              feature: c.feature,
              title: c.title,
              status: 'skipped',
              message: skipped,
              durationMs: Date.now() - t0,
            };
      results.push(result);
      options.onResult?.(result);
    }
    // Late deliveries: anything a passed case's peers received after it ended fails that case.
    await new Promise((r) => setTimeout(r, 300));
    for (const [i, result] of results.entries()) {
      if (result.status !== 'passed' && result.status !== 'xpass') continue;
      const ctx = contexts.get(result.id);
      const problems = ctx ? peerProblems(ctx.peers) : [];
      if (problems.length === 0) continue;
      const c = cases.find((x) => x.id === result.id) as ConformanceCase;
      results[i] = verdict(c, `after the case ended: ${problems.join('; ')}`, result.durationMs);
    }
    if (host.strays.length > 0) {
      // Deliveries no case could own are reported on a synthetic result so they are not lost.
      results.push({
        id: 'suite.stray-messages',
        section: '5.5',
        feature: 'outbound',
        title: 'the node sent nothing to participants that no case created',
        status: 'failed',
        message: host.strays.join('; '),
        durationMs: 0,
      });
    }
  } finally {
    await host.stop();
  }
  const counts: Record<CaseStatus, number> = { passed: 0, failed: 0, skipped: 0, xfail: 0, xpass: 0 };
  for (const r of results) counts[r.status] += 1;
  return {
    target: { participantId: target.participantId, keyId: target.keyId, federation: target.federation },
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    results,
    counts,
    unexpected: counts.failed + counts.xpass,
  };
}
