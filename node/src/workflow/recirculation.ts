import {
  type Case,
  DestructionState,
  NodeEventType,
  type RecirculationFinding,
  type TraceAnswer,
  type TraceRequest,
  WeaponEventType,
} from '@tracenet/proto';
import type { Logger } from 'pino';
import type { AuditEvent, NodeEventInput } from '../audit/audit-log.js';
import type { RecordFinder } from '../ports/record-finder.js';
import { requestQuery } from './auto-answer.js';
import { caseEvent } from './case-book.js';

/**
 * "Recirculated after recorded destruction" in traces (docs/protocol.md 19.5): a finding set on
 * the case, with a `recirculation.flagged` audit entry and a RECIRCULATION_FLAGGED node event in
 * the batch of the case change.
 */

/** The audit entry and node event of a finding set on `c`. */
export function recirculationEntries(
  c: Case,
  finding: RecirculationFinding,
  messageId: string,
): { audit: AuditEvent[]; events: NodeEventInput[] } {
  const where = finding.seenIn === 'trace_request' ? `${finding.seenBy} asks to trace it` : 'the answer shows it';
  return {
    audit: [
      {
        type: 'recirculation.flagged',
        fields: {
          caseId: c.caseId,
          traceId: c.traceId,
          recordId: finding.recordId,
          seenIn: finding.seenIn,
          seenBy: finding.seenBy,
          seenDate: finding.seenDate,
          destroyedBy: finding.destroyedBy,
          destroyedDate: finding.destroyedDate,
          certificateId: finding.certificateId,
        },
      },
    ],
    events: [
      caseEvent(
        NodeEventType.NODE_EVENT_TYPE_RECIRCULATION_FLAGGED,
        c,
        `recorded as destroyed by ${finding.destroyedBy} on ${finding.destroyedDate}, and seized again${finding.seenDate ? ` on ${finding.seenDate}` : ''}: ${where}`,
        messageId,
      ),
    ],
  };
}

/**
 * The requested side: the finding when the weapon of a received request is a record of this node
 * recorded as DESTROYED before the seizure (or the request gives no seizure date). The records
 * are searched as an automatic answer searches them; a search that fails finds nothing (logged):
 * the request is still accepted, and an officer sees the record's destruction when answering.
 */
export async function recirculationOfRequest(
  records: RecordFinder | undefined,
  request: TraceRequest,
  deps: { selfId: string; requester: string; nowMs: number; logger: Logger },
): Promise<RecirculationFinding | undefined> {
  const query = requestQuery(request);
  if (!records || !query || query.serialNumber === '' || query.manufacturer === '') return undefined;
  let found: Awaited<ReturnType<RecordFinder['identify']>>;
  try {
    found = await records.identify(query);
  } catch (error) {
    deps.logger.warn({ err: error, traceId: request.traceId }, 'could not check a request for a destroyed weapon');
    return undefined;
  }
  const seized = request.circumstances?.date ?? '';
  const record = found.records.find(
    (r) =>
      r.destruction?.state === DestructionState.DESTRUCTION_STATE_DESTROYED &&
      (seized === '' || seized > r.destruction.destroyedDate),
  );
  if (!record?.destruction) return undefined;
  return {
    destroyedBy: deps.selfId,
    destroyedDate: record.destruction.destroyedDate,
    certificateId: record.destruction.certificateId,
    seenIn: 'trace_request',
    seenDate: seized,
    seenBy: deps.requester,
    recordId: record.recordId,
    flaggedAtMs: deps.nowMs,
  };
}

/**
 * The requester's side: the finding when an answer's history shows the weapon DESTROYED before
 * the seizure date of the request (19.5). The destruction is the answering peer's word; the
 * certificate id is taken from the event's details when it is there.
 */
export function recirculationOfAnswer(
  c: Case,
  answer: TraceAnswer,
  deps: { selfId: string; nowMs: number },
): RecirculationFinding | undefined {
  const seized = c.request?.circumstances?.date ?? '';
  if (seized === '') return undefined;
  const destroyed = answer.history.find(
    (e) => e.type === WeaponEventType.WEAPON_EVENT_TYPE_DESTROYED && e.date !== '' && e.date < seized,
  );
  if (!destroyed) return undefined;
  return {
    destroyedBy: c.peer,
    destroyedDate: destroyed.date,
    // A Tracenet node writes the id into the event's details (19.2); another may not.
    certificateId: /\bdc_[A-Za-z0-9_-]{22}\b/.exec(destroyed.details)?.[0] ?? '',
    seenIn: 'trace_answer',
    seenDate: seized,
    seenBy: deps.selfId,
    recordId: '',
    flaggedAtMs: deps.nowMs,
  };
}
