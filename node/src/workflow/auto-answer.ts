import {
  type RecordQuery,
  TraceOutcome,
  type TraceAnswer,
  type TraceRequest,
  type WeaponEvent,
  WeaponEventType,
  type WeaponRecord,
} from '@tracenet/proto';

const E = WeaponEventType;
/** Events after which the weapon is no longer under legal control. */
const DIVERSIONS = new Set<WeaponEventType>([E.WEAPON_EVENT_TYPE_LOST, E.WEAPON_EVENT_TYPE_STOLEN]);
/** Events recording that authorities recovered the weapon: not part of the legal line of supply. */
const RECOVERIES = new Set<WeaponEventType>([
  E.WEAPON_EVENT_TYPE_SEIZED,
  E.WEAPON_EVENT_TYPE_FOUND,
  E.WEAPON_EVENT_TYPE_SURRENDERED,
]);

/**
 * The records query of a trace request's weapon, or undefined for a request without markings: the
 * serial is the marked one, else the control component's. The automatic answer and the check for
 * a destroyed weapon (docs/protocol.md 19.5) search the records with it.
 */
export function requestQuery(request: TraceRequest | undefined): RecordQuery | undefined {
  const markings = request?.weapon?.markings;
  if (!markings) return undefined;
  return {
    manufacturer: markings.manufacturer,
    model: markings.model,
    serialNumber: markings.serialNumber || request?.weapon?.controlComponent?.serialNumber || '',
    calibre: markings.calibre,
    type: markings.type,
  };
}

/** One line describing an event: "exported 2012-03-14 to KEN under licence L, end user E". */
export function describeEvent(event: WeaponEvent): string {
  const parts = [(E[event.type] ?? 'event').replace('WEAPON_EVENT_TYPE_', '').toLowerCase()];
  if (event.date) parts.push(event.date);
  if (event.destination) parts.push(`to ${event.destination}`);
  if (event.origin) parts.push(`from ${event.origin}`);
  if (event.place) parts.push(`at ${event.place}`);
  if (event.agency) parts.push(`by ${event.agency}`);
  if (event.licence) parts.push(`under licence ${event.licence}`);
  let text = parts.join(' ');
  if (event.endUser) text += `, end user ${event.endUser}`;
  return text;
}

/** The texts an automatic answer derives from the events of a record (docs/protocol.md 12.8). */
export type DerivedAnswer = Pick<TraceAnswer, 'outcome' | 'lastLegalRecord' | 'pointOfDiversion' | 'referral'>;

/**
 * The outcome and texts of an automatic answer: the last recorded event of `events` decides. An
 * export refers the trace to the destination with the export as its basis; otherwise the weapon is
 * traced to its last legal record, with the point of diversion when a loss or theft is recorded
 * after it. The texts describe the events of `shown` at the same places — the released events
 * when a release policy emptied some of their fields (docs/protocol.md 12.11), so that a derived
 * text never carries a withheld value. Undefined when there are no events.
 *
 * @example
 * ```ts
 * deriveAnswer(record.events, releasedHistory)?.lastLegalRecord; // "transferred 2015-06-02 at Liège"
 * ```
 */
export function deriveAnswer(
  events: readonly WeaponEvent[],
  shown: readonly WeaponEvent[] = events,
): DerivedAnswer | undefined {
  const at = events.length - 1;
  const last = events[at];
  if (!last) return undefined;
  const describe = (i: number) => describeEvent(shown[i] ?? (events[i] as WeaponEvent));
  if (last.type === E.WEAPON_EVENT_TYPE_EXPORTED && last.destination) {
    return {
      outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
      lastLegalRecord: describe(at),
      pointOfDiversion: '',
      referral: { participant: last.destination, basis: describe(at), event: shown[at] ?? last },
    };
  }
  let legal = -1;
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const type = (events[i] as WeaponEvent).type;
    if (!DIVERSIONS.has(type) && !RECOVERIES.has(type)) {
      legal = i;
      break;
    }
  }
  const diversion = events.findIndex((e, i) => i > legal && DIVERSIONS.has(e.type));
  return {
    outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
    lastLegalRecord: legal >= 0 ? describe(legal) : 'no legal transfer recorded',
    pointOfDiversion: diversion >= 0 ? describe(diversion) : '',
    referral: undefined,
  };
}

/**
 * The answer a node gives automatically from one exactly matching record (deriveAnswer). Returns
 * undefined when the record has no events (an officer must answer). Only events are released —
 * never secondary marks or notes; the release policy applies afterwards, when the answer is given.
 */
export function answerFromRecord(
  record: WeaponRecord,
  traceId: string,
): Omit<TraceAnswer, 'automatic' | 'withheld'> | undefined {
  const derived = deriveAnswer(record.events);
  if (!derived) return undefined;
  return { traceId, history: record.events, details: '', restrictions: undefined, ...derived };
}

/**
 * The automatic "no record" answer (docs/protocol.md 12.8), given only with the peer's opt-in
 * `auto_answer_no_record`, when every registry of the node answered its health check and none
 * holds a record, an incomplete entry or a near match of the weapon. `details` names the
 * registries searched, so the requester knows what "no record" covers.
 */
export function noRecordAnswer(
  traceId: string,
  searched: readonly string[],
): Omit<TraceAnswer, 'automatic' | 'withheld'> {
  return {
    traceId,
    outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
    history: [],
    details: `no record of this weapon in the registries searched: ${searched.join(', ')}`,
    lastLegalRecord: '',
    pointOfDiversion: '',
    referral: undefined,
    restrictions: undefined,
  };
}
