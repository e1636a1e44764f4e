import {
  type Case,
  CaseRole,
  CaseState,
  FindingKind,
  type Period,
  ReexportCondition,
  type ReexportFlag,
  type ReexportHop,
  type ReexportReport,
  type ReexportStateCount,
  type TraceAnswer,
  WeaponEvent,
  WeaponEventType,
} from '@tracenet/proto';
import { isParticipantId } from '../identity/participant-id.js';

/**
 * Possible unauthorised re-exports in a trace chain (docs/protocol.md 18.3), and the report of the
 * flags a node raised and received (18.6). Pure: the workflow (`reexport-flags.ts`) stores what
 * this finds.
 */

/** What the analysis finds; the node adds the flag id, who raised it and when. */
export type ReexportFinding = Omit<ReexportFlag, 'flagId' | 'raisedBy' | 'raisedAtMs' | 'notifiedAtMs'>;

/** The kinds of flag (ReexportFlag.kind). */
export const REEXPORTED = 'reexported';
export const FOUND_IN_THIRD_STATE = 'found_in_third_state';

const E = WeaponEventType;
/** At most this many flags from one analysis of a chain (docs/protocol.md 18.7). */
export const MAX_FINDINGS = 100;
/** At most this many (export, later export) pairs looked at in one analysis. */
const MAX_STEPS = 1_000_000;
/** States in which the requested participant has responded to a trace (an answer, a restriction, a refusal). */
const RESPONDED = new Set<CaseState>([
  CaseState.CASE_STATE_ANSWERED,
  CaseState.CASE_STATE_RESTRICTED,
  CaseState.CASE_STATE_REFUSED,
  CaseState.CASE_STATE_CLOSED,
]);
const FOUND_EVENT: Readonly<Record<number, WeaponEventType>> = {
  [FindingKind.FINDING_KIND_SEIZED]: E.WEAPON_EVENT_TYPE_SEIZED,
  [FindingKind.FINDING_KIND_FOUND]: E.WEAPON_EVENT_TYPE_FOUND,
  [FindingKind.FINDING_KIND_SURRENDERED]: E.WEAPON_EVENT_TYPE_SURRENDERED,
};

/** The answer a requester case holds and may still use: its answer or a restriction's partial answer, unless purged. */
export function heldAnswer(c: Case): TraceAnswer | undefined {
  if (c.role !== CaseRole.CASE_ROLE_REQUESTER || c.purgedAtMs > 0) return undefined;
  return c.answer ?? c.restriction?.partialAnswer;
}

/** The identity of a flag for deduplication: the same export, the same kind, the same later state. */
export function flagKey(
  f: Pick<ReexportFlag, 'exporter' | 'undertakingState' | 'undertaking' | 'kind' | 'laterState'>,
): string {
  return [f.exporter, f.undertakingState, f.undertaking?.certificateReference ?? '', f.kind, f.laterState].join(
    '\u0000',
  );
}

/**
 * The evidence of a chain in chain order: the events of each answer held by the requester cases
 * (in the order the cases were opened; a referral's event when the history does not hold it),
 * then the requester's own finding of the weapon (its request's circumstances) as a SEIZED, FOUND
 * or SURRENDERED event of `selfId`.
 */
export function chainHops(selfId: string, cases: readonly Case[]): { hops: ReexportHop[]; found?: ReexportHop } {
  const requester = cases
    .filter((c) => c.role === CaseRole.CASE_ROLE_REQUESTER)
    .sort((a, b) => a.createdAtMs - b.createdAtMs || a.caseId.localeCompare(b.caseId));
  const hops: ReexportHop[] = [];
  for (const c of requester) {
    const answer = heldAnswer(c);
    if (!answer) continue;
    const events = [...answer.history];
    const referred = answer.referral?.event;
    const same = (e: WeaponEvent) => JSON.stringify(WeaponEvent.toJSON(e));
    if (referred && !events.some((e) => same(e) === same(referred))) events.push(referred);
    for (const event of events) hops.push({ source: c.peer, caseId: c.caseId, event });
  }
  const first = requester.find((c) => c.request?.circumstances);
  const circumstances = first?.request?.circumstances;
  const type = circumstances ? FOUND_EVENT[circumstances.kind] : undefined;
  if (!first || !circumstances || type === undefined) return { hops };
  const found: ReexportHop = {
    source: selfId,
    caseId: first.caseId,
    event: WeaponEvent.fromPartial({
      type,
      date: circumstances.date,
      place: circumstances.place,
      agency: circumstances.agency,
      circumstance: circumstances.circumstance,
    }),
  };
  return { hops, found };
}

const underUndertaking = (h: ReexportHop): boolean => {
  const e = h.event;
  const condition = e?.undertaking?.condition;
  return (
    e?.type === E.WEAPON_EVENT_TYPE_EXPORTED &&
    (condition === ReexportCondition.REEXPORT_CONDITION_PROHIBITED ||
      condition === ReexportCondition.REEXPORT_CONDITION_WITH_CONSENT) &&
    isParticipantId(e.destination) &&
    e.destination !== h.source
  );
};

/**
 * The possible unauthorised re-exports of one chain held by `selfId` (docs/protocol.md 18.3). For
 * every EXPORTED event under an undertaking (PROHIBITED or WITH_CONSENT) from exporter X (the
 * participant whose answer gave it) to D:
 *
 * - **reexported**: D's answer shows an EXPORTED event to Y, Y ≠ X and Y ≠ D, not dated before
 *   X's export, and the undertaking records no authorisation for Y. Evidence: X's export, D's
 *   import from X when D's answer has one, D's export.
 * - **found_in_third_state**: the requester (`selfId` ≠ X, ≠ D) found the weapon, D has responded
 *   in the chain, D's answer shows no export at all, and the undertaking records no authorisation
 *   for the requester. Evidence: X's export, D's import, the requester's finding.
 *
 * Findings are deduplicated by {@link flagKey}; one analysis gives at most {@link MAX_FINDINGS}.
 *
 * @example
 * ```ts
 * const findings = findReexports('FRA', chainId, cases); // [{ exporter: 'BEL', undertakingState: 'KEN', laterState: 'UGA', kind: 'reexported', … }]
 * ```
 */
export function findReexports(selfId: string, chainId: string, cases: readonly Case[]): ReexportFinding[] {
  const { hops, found } = chainHops(selfId, cases);
  const responded = new Set(
    cases
      .filter((c) => c.role === CaseRole.CASE_ROLE_REQUESTER && RESPONDED.has(c.state) && c.purgedAtMs === 0)
      .map((c) => c.peer),
  );
  const out = new Map<string, ReexportFinding>();
  const bySource = new Map<string, ReexportHop[]>();
  for (const h of hops) {
    const list = bySource.get(h.source);
    if (list) list.push(h);
    else bySource.set(h.source, [h]);
  }
  const origins = new Map<string, ReexportHop>();
  for (const h of hops.filter(underUndertaking)) {
    const key = [h.source, h.event?.destination, h.event?.undertaking?.certificateReference, h.event?.date].join(
      '\u0000',
    );
    if (!origins.has(key)) origins.set(key, h);
  }
  // A hostile answer cannot make the analysis run long: pairs of exports looked at are bounded.
  let steps = 0;
  for (const origin of origins.values()) {
    if (out.size >= MAX_FINDINGS || steps > MAX_STEPS) break;
    const event = origin.event as WeaponEvent;
    const undertaking = event.undertaking;
    const exporter = origin.source;
    const state = event.destination;
    const authorised = new Set(undertaking?.authorisations.map((a) => a.destination));
    const ofState = bySource.get(state) ?? [];
    const imported = ofState.find(
      (h) => h.event?.type === E.WEAPON_EVENT_TYPE_IMPORTED && (h.event.origin === exporter || h.event.origin === ''),
    );
    const exports = ofState.filter((h) => h.event?.type === E.WEAPON_EVENT_TYPE_EXPORTED);
    // One export per destination is enough to judge it: the latest (the date rule below is "not before").
    const latest = new Map<string, ReexportHop>();
    for (const h of exports) {
      const d = h.event?.destination ?? '';
      const kept = latest.get(d);
      if (!kept || (h.event?.date ?? '') >= (kept.event?.date ?? '')) latest.set(d, h);
    }
    const add = (kind: string, laterState: string, last: ReexportHop) => {
      const finding: ReexportFinding = {
        exporter,
        undertakingState: state,
        undertaking,
        laterState,
        kind,
        evidence: [origin, ...(imported ? [imported] : []), last],
        chainId,
      };
      const key = flagKey(finding);
      if (!out.has(key)) out.set(key, finding);
    };
    for (const later of latest.values()) {
      steps += 1;
      if (out.size >= MAX_FINDINGS || steps > MAX_STEPS) break;
      const e = later.event as WeaponEvent;
      if (e.destination === exporter || e.destination === state || !isParticipantId(e.destination)) continue;
      if (event.date !== '' && e.date !== '' && e.date < event.date) continue;
      if (!authorised.has(e.destination)) add(REEXPORTED, e.destination, later);
    }
    if (
      found &&
      exports.length === 0 &&
      responded.has(state) &&
      selfId !== exporter &&
      selfId !== state &&
      !authorised.has(selfId)
    )
      add(FOUND_IN_THIRD_STATE, selfId, found);
  }
  return [...out.values()];
}

/** The calendar date (UTC) of a time in milliseconds. */
function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Re-export flags by state (docs/protocol.md 18.6; Statistics.GetReexportReport): the flags this
 * node raised (counted on the day raised, `raised_at_ms`) and received (on the day received,
 * `notified_at_ms` of a received flag), in the period (both dates included; an empty date leaves
 * that side open), grouped by the state that gave the undertaking, in state order.
 *
 * @example
 * ```ts
 * const report = reexportReport(raised, received, { fromDate: '2026-01-01', toDate: '2026-12-31' });
 * // { period, byState: [{ state: 'KEN', raised: 1, received: 0, flagIds: ['rx_…'] }] }
 * ```
 */
export function reexportReport(
  raised: readonly ReexportFlag[],
  received: readonly ReexportFlag[],
  period: Period,
): ReexportReport {
  const within = (ms: number) => {
    const day = dayOf(ms);
    return (period.fromDate === '' || day >= period.fromDate) && (period.toDate === '' || day <= period.toDate);
  };
  const states = new Map<string, ReexportStateCount>();
  const count = (flag: ReexportFlag, side: 'raised' | 'received') => {
    const row = states.get(flag.undertakingState) ?? {
      state: flag.undertakingState,
      raised: 0,
      received: 0,
      flagIds: [],
    };
    row[side] += 1;
    row.flagIds.push(flag.flagId);
    states.set(flag.undertakingState, row);
  };
  for (const f of raised) if (within(f.raisedAtMs)) count(f, 'raised');
  for (const f of received) if (within(f.notifiedAtMs || f.raisedAtMs)) count(f, 'received');
  return {
    period,
    byState: [...states.values()].sort((a, b) => a.state.localeCompare(b.state)),
  };
}
