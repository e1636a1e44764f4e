import { type FieldViolation, ReexportNotice, type ReexportHop, WeaponEventType } from '@tracenet/proto';
import { decodeWithSafeIntegers } from '../envelope/safe-integers.js';
import { boundedText, participant, undertakingRuleViolations, undertakingViolations } from './undertaking-rules.js';
import { violationError } from '../util/violations.js';
import { isCalendarDate } from './calendar-date.js';

/** A flag id, a trace id, a chain id: 16 to 64 characters of [A-Za-z0-9_-] (docs/protocol.md 18.5). */
export const FLAG_ID = /^[A-Za-z0-9_-]{16,64}$/;
/** Limits of a received notice (docs/protocol.md 18.5). */
export const NOTICE_LIMITS = { evidence: 50, text: 200, details: 2000 } as const;
const KINDS = ['reexported', 'found_in_third_state'];
/** The event texts of a hop, with their limits. */
const EVENT_TEXTS = [
  ['place', 'place', NOTICE_LIMITS.text],
  ['agency', 'agency', NOTICE_LIMITS.text],
  ['destination', 'destination', NOTICE_LIMITS.text],
  ['origin', 'origin', NOTICE_LIMITS.text],
  ['licence', 'licence', NOTICE_LIMITS.text],
  ['end_user', 'endUser', NOTICE_LIMITS.text],
  ['details', 'details', NOTICE_LIMITS.details],
] as const;

/** Decodes the body of a MESSAGE_KIND_REEXPORT_NOTICE: MALFORMED (`body`, `protobuf`) when it does not decode. */
export function decodeReexportNotice(body: Uint8Array): ReexportNotice {
  return decodeWithSafeIntegers(ReexportNotice, body, 'ReexportNotice', 'body', {});
}

function hopViolations(out: FieldViolation[], hop: ReexportHop, at: string): void {
  participant(out, `${at}.source`, hop.source);
  boundedText(out, `${at}.case_id`, hop.caseId, 64);
  const e = hop.event;
  if (!e) {
    out.push({ field: `${at}.event`, rule: 'required', message: 'a hop carries its event' });
    return;
  }
  if (e.type === WeaponEventType.WEAPON_EVENT_TYPE_UNSPECIFIED || !(e.type in WeaponEventType) || e.type < 0)
    out.push({ field: `${at}.event.type`, rule: 'enum', message: 'the event type is not known' });
  if (e.date !== '' && !isCalendarDate(e.date))
    out.push({ field: `${at}.event.date`, rule: 'date', message: 'the date must be a calendar date YYYY-MM-DD' });
  for (const [name, key, max] of EVENT_TEXTS) boundedText(out, `${at}.event.${name}`, e[key], max);
  out.push(...undertakingViolations(e, `${at}.event`));
}

/**
 * The body rules of a ReexportNotice received from `sender` by `recipient` (docs/protocol.md
 * 18.5), in order: `flag_id` and `exporter_trace_id` syntax; `flag` present, with the same flag
 * id, naming the recipient as exporter, participants as undertaking and later states, a known
 * kind, its undertaking (18.1), `raised_by` empty or the sender, times not negative; 1 to 50
 * evidence hops, each with a participant as source and an event whose texts are bounded and free
 * of control characters. Throws MISSING_FIELD or INVALID_FIELD (after the first violation) with
 * every violation listed.
 */
export function validateReexportNotice(notice: ReexportNotice, sender: string, recipient: string): void {
  const out: FieldViolation[] = [];
  if (notice.flagId === '') out.push({ field: 'body.flag_id', rule: 'required', message: 'the flag id is required' });
  else if (!FLAG_ID.test(notice.flagId))
    out.push({ field: 'body.flag_id', rule: 'flag_id', message: 'a flag id is 16 to 64 characters of [A-Za-z0-9_-]' });
  if (notice.exporterTraceId !== '' && !FLAG_ID.test(notice.exporterTraceId))
    out.push({
      field: 'body.exporter_trace_id',
      rule: 'trace_id',
      message: 'a trace id is 16 to 64 characters of [A-Za-z0-9_-]',
    });
  const flag = notice.flag;
  if (!flag) {
    out.push({ field: 'body.flag', rule: 'required', message: 'the notice carries its flag' });
    throw violationError(out, 'the re-export notice is not valid');
  }
  const f = 'body.flag';
  if (flag.flagId !== notice.flagId)
    out.push({ field: `${f}.flag_id`, rule: 'same_flag_id', message: 'the flag carries the notice’s flag id' });
  if (flag.exporter !== recipient)
    out.push({
      field: `${f}.exporter`,
      rule: 'recipient_is_exporter',
      message: `a notice goes to the exporter; it names ${JSON.stringify(flag.exporter.slice(0, 80))}, not ${recipient}`,
    });
  participant(out, `${f}.undertaking_state`, flag.undertakingState);
  participant(out, `${f}.later_state`, flag.laterState);
  if (!KINDS.includes(flag.kind))
    out.push({ field: `${f}.kind`, rule: 'enum', message: 'the kind is reexported or found_in_third_state' });
  if (!flag.undertaking)
    out.push({ field: `${f}.undertaking`, rule: 'required', message: 'the flag carries the undertaking' });
  else out.push(...undertakingRuleViolations(flag.undertaking, `${f}.undertaking`));
  if (flag.raisedBy !== '' && flag.raisedBy !== sender)
    out.push({ field: `${f}.raised_by`, rule: 'sender', message: `the flag was raised by the sender ${sender}` });
  if (flag.chainId !== '' && !FLAG_ID.test(flag.chainId))
    out.push({ field: `${f}.chain_id`, rule: 'trace_id', message: 'a chain id is a trace id' });
  for (const [name, value] of [
    ['raised_at_ms', flag.raisedAtMs],
    ['notified_at_ms', flag.notifiedAtMs],
  ] as const)
    if (value < 0) out.push({ field: `${f}.${name}`, rule: 'non_negative', message: 'a time is not negative' });
  if (flag.evidence.length === 0)
    out.push({ field: `${f}.evidence`, rule: 'required', message: 'a flag carries its evidence' });
  else if (flag.evidence.length > NOTICE_LIMITS.evidence)
    out.push({ field: `${f}.evidence`, rule: 'max_items', message: `at most ${NOTICE_LIMITS.evidence} hops` });
  else flag.evidence.forEach((hop, i) => hopViolations(out, hop, `${f}.evidence[${i}]`));
  if (out.length > 0) throw violationError(out, 'the re-export notice is not valid');
}

/**
 * The body rules of 18.5 without the parties (the sender's check before queueing, 5.5, and
 * `validateBody`): the flag's own exporter and raiser stand for recipient and sender, which the
 * receiver checks against the envelope.
 */
export function checkReexportNoticeBody(body: Uint8Array): void {
  const notice = decodeReexportNotice(body);
  validateReexportNotice(notice, notice.flag?.raisedBy ?? '', notice.flag?.exporter ?? '');
}
