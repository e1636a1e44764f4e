import { type HitNotice, NodeEventType } from '@tracenet/proto';
import type { AuditEvent, NodeEventInput } from '../audit/audit-log.js';
import type { InterestMatch } from './matcher.js';

/**
 * The record owner's side of a lookup that hit a weapon it recorded as destroyed
 * (docs/protocol.md 19.5): one `recirculation.flagged` audit entry and one
 * RECIRCULATION_FLAGGED node event per such hit, written in the batch of the hit notices. The
 * weapon was seen by the peer that asked, on the day it asked (a lookup names no seizure date).
 *
 * @example
 * ```ts
 * const { audit, events } = recirculationOfHits(matches, notices, 'FRA', now);
 * ```
 */
export function recirculationOfHits(
  matches: readonly InterestMatch[],
  notices: readonly HitNotice[],
  askedBy: string,
  nowMs: number,
): { audit: AuditEvent[]; events: NodeEventInput[] } {
  const audit: AuditEvent[] = [];
  const events: NodeEventInput[] = [];
  const seenDate = new Date(nowMs).toISOString().slice(0, 10);
  matches.forEach(({ entry }, i) => {
    if (entry.destroyedDate === undefined) return;
    const hitId = notices[i]?.hitId ?? '';
    audit.push({
      type: 'recirculation.flagged',
      fields: {
        recordId: entry.recordId,
        seenIn: 'lookup',
        seenBy: askedBy,
        seenDate,
        destroyedDate: entry.destroyedDate,
        certificateId: entry.certificateId ?? '',
        hitId,
      },
    });
    events.push({
      type: NodeEventType.NODE_EVENT_TYPE_RECIRCULATION_FLAGGED,
      caseId: '',
      traceId: '',
      peer: askedBy,
      state: 0,
      messageId: '',
      summary: `${askedBy} looked up ${entry.recordId}, recorded as destroyed on ${entry.destroyedDate} (certificate ${entry.certificateId ?? ''}): ${hitId}`,
    });
  });
  return { audit, events };
}
