import {
  type Case,
  CaseRole,
  CaseState,
  type DirectionFigures,
  type PeerPerformance,
  ReasonCode,
  type TracingPerformance,
} from '@tracenet/proto';
import { nearestRank, type ReportingPeriod } from './period.js';

/** What tracing performance is computed from (docs/statistics.md 3). */
export interface PerformanceInputs {
  readonly participant: string;
  /** Absent: every case. */
  readonly period: ReportingPeriod | undefined;
  readonly byPeer: boolean;
  readonly nowMs: number;
  /** Every case of the node (requester and requested cases are read). */
  readonly cases: Iterable<Case>;
  /**
   * When the recipient received a request this node sent, as the recipient's signed receipt
   * states it (`ReceiptBody.received_at_ms`), by the request's message id; undefined when no
   * accepted receipt is kept.
   */
  readonly deliveredAt: (messageId: string) => number | undefined;
}

const S = CaseState;
const ACKNOWLEDGED = new Set([S.CASE_STATE_ACKNOWLEDGED]);
const RESPONDED = new Set([S.CASE_STATE_ANSWERED, S.CASE_STATE_RESTRICTED, S.CASE_STATE_REFUSED]);
/** Any step after which the request is known to have been acknowledged: a response implies it. */
const ACKNOWLEDGED_OR_LATER = new Set([
  ...ACKNOWLEDGED,
  S.CASE_STATE_CLARIFICATION,
  S.CASE_STATE_DELAYED,
  ...RESPONDED,
]);

/** One request with the instants its figures are made of. */
interface Measured {
  readonly c: Case;
  readonly startMs: number;
  /** 0: not acknowledged. */
  readonly acknowledgedMs: number;
  /** 0: no response. */
  readonly respondedMs: number;
  readonly refused: boolean;
  readonly overdue: boolean;
}

function firstAt(c: Case, states: ReadonlySet<CaseState>, fromMs: number): number {
  return c.timeline.find((t) => states.has(t.toState) && t.atMs >= fromMs)?.atMs ?? 0;
}

/**
 * The instants of one request (docs/statistics.md 3.2). Start: for a sent request, its delivery as
 * the recipient's signed receipt states it (else the step "request sent"); for a received one, the
 * step that accepted it. Ends: the case's first step into ACKNOWLEDGED (or, without one, the first
 * later step, which implies it) and its first step into ANSWERED, RESTRICTED or REFUSED.
 */
function measure(c: Case, deliveredAt: PerformanceInputs['deliveredAt'], nowMs: number): Measured | undefined {
  let startMs: number;
  if (c.role === CaseRole.CASE_ROLE_REQUESTER) {
    const sent = c.timeline.find((t) => t.toState === S.CASE_STATE_SENT);
    if (!sent) return undefined;
    startMs = (sent.messageId === '' ? undefined : deliveredAt(sent.messageId)) ?? sent.atMs;
  } else {
    startMs = c.timeline.find((t) => t.toState === S.CASE_STATE_RECEIVED)?.atMs ?? c.createdAtMs;
  }
  const ackStep = firstAt(c, ACKNOWLEDGED, 0);
  const acknowledgedMs = ackStep > 0 ? ackStep : firstAt(c, ACKNOWLEDGED_OR_LATER, 0);
  const respondedMs = firstAt(c, RESPONDED, 0);
  // A request stopped waiting at its step, or when it was withdrawn or closed without it; else it waits now.
  const stopped = c.state === S.CASE_STATE_WITHDRAWN || c.state === S.CASE_STATE_CLOSED ? c.updatedAtMs : nowMs;
  const late = (doneMs: number, dueMs: number) => dueMs > 0 && (doneMs > 0 ? doneMs : stopped) > dueMs;
  return {
    c,
    startMs,
    acknowledgedMs,
    respondedMs,
    refused: c.timeline.some((t) => t.toState === S.CASE_STATE_REFUSED),
    overdue: late(acknowledgedMs, c.acknowledgeDueAtMs) || late(respondedMs, c.answerDueAtMs),
  };
}

/** The figures of requests in one direction. */
function figuresOf(measured: readonly Measured[]): DirectionFigures {
  const ack = measured.filter((m) => m.acknowledgedMs > 0).map((m) => Math.max(0, m.acknowledgedMs - m.startMs));
  const answer = measured.filter((m) => m.respondedMs > 0).map((m) => Math.max(0, m.respondedMs - m.startMs));
  const reasons = new Map<string, number>();
  for (const m of measured.filter((x) => x.refused)) {
    const reason = ReasonCode[m.c.refusal?.reason ?? ReasonCode.REASON_CODE_UNSPECIFIED] ?? 'REASON_CODE_UNSPECIFIED';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  return {
    requests: measured.length,
    acknowledged: ack.length,
    answered: answer.length,
    refused: measured.filter((m) => m.refused).length,
    overdue: measured.filter((m) => m.overdue).length,
    acknowledgeP50Ms: nearestRank(ack, 50),
    acknowledgeP90Ms: nearestRank(ack, 90),
    answerP50Ms: nearestRank(answer, 50),
    answerP90Ms: nearestRank(answer, 90),
    refusedByReason: [...reasons]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    caseIds: measured.map((m) => m.c.caseId),
  };
}

/**
 * Tracing performance (docs/statistics.md 3): requests sent and received in the period — by the
 * instant a request was delivered (sent) or accepted (received) — acknowledged, answered,
 * refused, overdue, and nearest-rank p50/p90 times to acknowledge and to answer; per peer with
 * `byPeer`. A pure function of its inputs.
 *
 * @example
 * ```ts
 * computePerformance({ participant: 'FRA', period, byPeer: true, nowMs, cases, deliveredAt }).sent?.answerP50Ms;
 * ```
 */
export function computePerformance(inputs: PerformanceInputs): TracingPerformance {
  const sent: Measured[] = [];
  const received: Measured[] = [];
  for (const c of inputs.cases) {
    if (c.role !== CaseRole.CASE_ROLE_REQUESTER && c.role !== CaseRole.CASE_ROLE_REQUESTED) continue;
    const m = measure(c, inputs.deliveredAt, inputs.nowMs);
    if (!m) continue;
    const period = inputs.period;
    if (period && (m.startMs < period.fromMs || m.startMs >= period.untilMs)) continue;
    (c.role === CaseRole.CASE_ROLE_REQUESTER ? sent : received).push(m);
  }
  const order = (a: Measured, b: Measured) => a.startMs - b.startMs || a.c.caseId.localeCompare(b.c.caseId);
  sent.sort(order);
  received.sort(order);
  const peers: PeerPerformance[] = [];
  if (inputs.byPeer) {
    const ids = [...new Set([...sent, ...received].map((m) => m.c.peer))].sort();
    for (const peer of ids)
      peers.push({
        peer,
        sent: figuresOf(sent.filter((m) => m.c.peer === peer)),
        received: figuresOf(received.filter((m) => m.c.peer === peer)),
      });
  }
  return {
    period: inputs.period ? { fromDate: inputs.period.fromDate, toDate: inputs.period.toDate } : undefined,
    participant: inputs.participant,
    computedAtMs: inputs.nowMs,
    sent: figuresOf(sent),
    received: figuresOf(received),
    peers,
  };
}
