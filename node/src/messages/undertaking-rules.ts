import {
  type EndUserUndertaking,
  type FieldViolation,
  ReexportCondition,
  type WeaponEvent,
  WeaponEventType,
} from '@tracenet/proto';
import { isParticipantId } from '../identity/participant-id.js';
import { unsafeCharacter } from '../util/unsafe-text.js';
import { isCalendarDate } from './calendar-date.js';

/** Size limits of an end-user undertaking (docs/protocol.md 18.1). */
export const UNDERTAKING_LIMITS = { text: 200, authorisations: 100 } as const;

/**
 * The rules of the end-user undertaking of one event (docs/protocol.md 18.1), as violations under
 * `at` (e.g. `record.events[2]` or `answer.history[1]`): only an EXPORTED event carries one; the
 * condition is PROHIBITED or WITH_CONSENT; the certificate reference is required; dates are
 * calendar dates `YYYY-MM-DD` not after `latestDate` (when given); an authorisation names a
 * participant; texts are at most 200 characters without control or format characters; at most
 * 100 authorisations. Empty when the event has no undertaking or a valid one.
 *
 * @example
 * ```ts
 * undertakingViolations(event, 'record.events[1]', '2026-12-06');
 * // [{ field: 'record.events[1].undertaking.certificate_reference', rule: 'required', … }]
 * ```
 */
export function undertakingViolations(event: WeaponEvent, at: string, latestDate?: string): FieldViolation[] {
  const u = event.undertaking;
  if (!u) return [];
  const out: FieldViolation[] = [];
  const p = `${at}.undertaking`;
  if (event.type !== WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED) {
    out.push({ field: p, rule: 'not_applicable', message: 'only an EXPORTED event carries an end-user undertaking' });
    return out;
  }
  checkUndertaking(u, p, out, latestDate);
  return out;
}

/**
 * The undertaking rules on the events of an answer (`<prefix>.history[i]`, `<prefix>.referral.event`).
 * A receiver checks the dates' form only: "not in the future" is the sender's rule, on its records.
 */
export function answerUndertakingViolations(
  answer: { history: readonly WeaponEvent[]; referral?: { event?: WeaponEvent | undefined } | undefined },
  prefix: string,
): FieldViolation[] {
  const out = answer.history.flatMap((e, i) => undertakingViolations(e, `${prefix}.history[${i}]`));
  const referred = answer.referral?.event;
  if (referred) out.push(...undertakingViolations(referred, `${prefix}.referral.event`));
  return out;
}

/** The rules of an undertaking itself (18.1), under `p` (e.g. `body.flag.undertaking`). */
export function undertakingRuleViolations(u: EndUserUndertaking, p: string, latestDate?: string): FieldViolation[] {
  const out: FieldViolation[] = [];
  checkUndertaking(u, p, out, latestDate);
  return out;
}

function checkUndertaking(u: EndUserUndertaking, p: string, out: FieldViolation[], latestDate?: string): void {
  if (u.condition === ReexportCondition.REEXPORT_CONDITION_UNSPECIFIED)
    out.push({
      field: `${p}.condition`,
      rule: 'required',
      message: 'the condition is required: re-export prohibited, or only with consent',
    });
  else if (
    u.condition !== ReexportCondition.REEXPORT_CONDITION_PROHIBITED &&
    u.condition !== ReexportCondition.REEXPORT_CONDITION_WITH_CONSENT
  )
    out.push({ field: `${p}.condition`, rule: 'enum', message: `${u.condition} is not a known condition` });
  if (u.certificateReference.trim() === '')
    out.push({
      field: `${p}.certificate_reference`,
      rule: 'required',
      message: "the end-user certificate's reference is required",
    });
  else boundedText(out, `${p}.certificate_reference`, u.certificateReference);
  boundedText(out, `${p}.end_user`, u.endUser);
  date(out, `${p}.date`, u.date, latestDate);
  if (u.authorisations.length > UNDERTAKING_LIMITS.authorisations) {
    out.push({
      field: `${p}.authorisations`,
      rule: 'max_items',
      message: `at most ${UNDERTAKING_LIMITS.authorisations} authorisations`,
    });
    return;
  }
  u.authorisations.forEach((a, i) => {
    const ap = `${p}.authorisations[${i}]`;
    participant(out, `${ap}.destination`, a.destination, 'the authorised destination is required');
    date(out, `${ap}.date`, a.date, latestDate);
    boundedText(out, `${ap}.reference`, a.reference);
  });
}

/** A required participant id; a refusal quotes at most 80 characters of what was sent instead. */
export function participant(
  out: FieldViolation[],
  field: string,
  value: string,
  required = 'a participant id is required',
): void {
  if (value === '') out.push({ field, rule: 'required', message: required });
  else if (!isParticipantId(value))
    out.push({
      field,
      rule: 'participant_id',
      message: `${JSON.stringify(value.slice(0, 80))} is not a participant id`,
    });
}

/**
 * An optional text of an undertaking or a re-export notice: at most `max` characters, no control
 * or format character (docs/protocol.md 2.3).
 */
export function boundedText(
  out: FieldViolation[],
  field: string,
  value: string,
  max: number = UNDERTAKING_LIMITS.text,
): void {
  if (value.length > max) out.push({ field, rule: 'max_length', message: `at most ${max} characters` });
  const unsafe = unsafeCharacter(value);
  if (unsafe)
    out.push({ field, rule: 'control_character', message: `contains ${unsafe}, a control or format character` });
}

/** An optional date: a calendar date YYYY-MM-DD, not after `latestDate`. */
function date(out: FieldViolation[], field: string, value: string, latestDate?: string): void {
  if (value === '') return;
  if (!isCalendarDate(value))
    out.push({
      field,
      rule: 'date',
      message: `the date must be a calendar date YYYY-MM-DD, not ${JSON.stringify(value.slice(0, 40))}`,
    });
  else if (latestDate !== undefined && value > latestDate)
    out.push({ field, rule: 'not_in_future', message: `the date ${value} is in the future` });
}

/**
 * An undertaking as an officer reads it, e.g. "under end-user certificate EUC-77 of 2016-04-20
 * (re-export prohibited; authorised: TZA 2018-01-10)".
 */
export function describeUndertaking(u: EndUserUndertaking): string {
  const condition =
    u.condition === ReexportCondition.REEXPORT_CONDITION_PROHIBITED
      ? 're-export prohibited'
      : u.condition === ReexportCondition.REEXPORT_CONDITION_WITH_CONSENT
        ? "re-export only with the exporter's consent"
        : 'condition not stated';
  const authorised = u.authorisations.map((a) => `${a.destination}${a.date ? ` ${a.date}` : ''}`).join(', ');
  return `under end-user certificate ${u.certificateReference || '-'}${u.date ? ` of ${u.date}` : ''}${u.endUser ? ` for ${u.endUser}` : ''} (${condition}${authorised ? `; authorised: ${authorised}` : ''})`;
}
