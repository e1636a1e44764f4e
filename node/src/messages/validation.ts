import {
  ErrorCode,
  FindingKind,
  IllicitKind,
  Priority,
  ReasonCode,
  TraceOutcome,
  type TraceAnswer,
  type TraceRequest,
  WeaponType,
} from '@tracenet/proto';
import { isParticipantId } from '../identity/participant-id.js';
import { isCalendarDate } from './calendar-date.js';
import { validateRestrictions } from './restrictions.js';
import { checkWithheld } from './withheld.js';
import { answerUndertakingViolations } from './undertaking-rules.js';
import { Violations as SharedViolations } from '../util/violations.js';

const ID = /^[A-Za-z0-9_-]{16,64}$/;
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png']);
const MAX_PHOTO_BYTES = 1024 * 1024;

/** The workflow rules on top of the shared collector. */
class Violations extends SharedViolations {
  override text(field: string, value: string, what: string, max = 10_000): void {
    super.text(field, value, what, max);
  }
  date(field: string, value: string, what: string, required: boolean): void {
    if (value === '') {
      if (required) this.missing(field, `${what} is required`);
    } else if (!isCalendarDate(value)) this.invalid(field, 'date', `${what} must be a date YYYY-MM-DD`);
  }
}

/**
 * A trace request is accepted only with its required content (ITI; docs/protocol.md 12.2):
 * at least one illicit criterion with its legal basis; the circumstances (seized / found /
 * surrendered, date, place); markings, type and calibre; the intended use; the requesting
 * authority and case reference; a priority, with a justification when urgent. Throws
 * REQUEST_INCOMPLETE listing every offending field.
 */
export function validateTraceRequest(request: TraceRequest, prefix = 'request'): void {
  const v = new Violations();
  const f = (name: string) => `${prefix}.${name}`;
  if (!ID.test(request.traceId))
    v.invalid(f('trace_id'), 'trace_id', 'trace id must be 16 to 64 characters of [A-Za-z0-9_-]');
  if (request.chainId !== '' && !ID.test(request.chainId))
    v.invalid(f('chain_id'), 'trace_id', 'chain id must be a trace id');
  v.text(f('requesting_authority'), request.requestingAuthority, 'requesting authority', 500);
  v.text(f('case_reference'), request.caseReference, 'case reference', 200);
  if (request.priority === Priority.PRIORITY_UNSPECIFIED)
    v.missing(f('priority'), 'priority is required (routine or urgent)');
  else if (!(request.priority in Priority) || request.priority === Priority.UNRECOGNIZED)
    v.invalid(f('priority'), 'enum', 'priority is not known');
  if (request.priority === Priority.PRIORITY_URGENT && request.urgencyJustification.trim() === '') {
    v.missing(f('urgency_justification'), 'an urgent request needs a justification');
  }
  if (request.illicitCriteria.length === 0)
    v.missing(f('illicit_criteria'), 'at least one illicit criterion (ITI para 6) is required');
  request.illicitCriteria.forEach((c, i) => {
    if (c.kind === IllicitKind.ILLICIT_KIND_UNSPECIFIED || !(c.kind in IllicitKind))
      v.missing(f(`illicit_criteria[${i}].kind`), 'the illicit criterion is required');
    v.text(f(`illicit_criteria[${i}].legal_basis`), c.legalBasis, 'legal basis', 1000);
  });
  const circumstances = request.circumstances;
  if (!circumstances) v.missing(f('circumstances'), 'circumstances of the finding are required');
  else {
    if (circumstances.kind === FindingKind.FINDING_KIND_UNSPECIFIED || !(circumstances.kind in FindingKind)) {
      v.missing(f('circumstances.kind'), 'seized, found or surrendered is required');
    }
    v.date(f('circumstances.date'), circumstances.date, 'date of the finding', true);
    v.text(f('circumstances.place'), circumstances.place, 'place of the finding', 500);
  }
  const weapon = request.weapon;
  const unmarked = request.illicitCriteria.some((c) => c.kind === IllicitKind.ILLICIT_KIND_NOT_MARKED);
  if (!weapon?.markings) v.missing(f('weapon.markings'), 'markings, type and calibre of the weapon are required');
  else {
    const m = weapon.markings;
    const serial = m.serialNumber.trim() !== '' || (weapon.controlComponent?.serialNumber.trim() ?? '') !== '';
    if (!serial && !unmarked)
      v.missing(f('weapon.markings.serial_number'), 'a serial number is required unless the weapon is not marked');
    if (m.manufacturer.trim() === '' && !unmarked)
      v.missing(
        f('weapon.markings.manufacturer'),
        'the manufacturer marking is required unless the weapon is not marked',
      );
    if (m.type === WeaponType.WEAPON_TYPE_UNSPECIFIED)
      v.missing(f('weapon.markings.type'), 'the weapon type is required');
    v.text(f('weapon.markings.calibre'), m.calibre, 'calibre', 100);
  }
  weapon?.photos.forEach((p, i) => {
    if (!PHOTO_TYPES.has(p.mediaType))
      v.invalid(f(`weapon.photos[${i}].media_type`), 'media_type', 'photos must be image/jpeg or image/png');
    if (p.content.length === 0 || p.content.length > MAX_PHOTO_BYTES)
      v.invalid(f(`weapon.photos[${i}].content`), 'size', 'a photo must be 1 byte to 1 MiB');
  });
  v.text(f('intended_use'), request.intendedUse, 'intended use of the information', 2000);
  v.throwIfAny('the trace request lacks required content', ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE);
}

/**
 * An answer states its outcome, and a referral names the participant and the basis; its
 * `withheld` list is well formed (docs/protocol.md 12.11); the use restrictions it carries, when
 * it carries any, are valid (docs/protocol.md 14.2).
 */
export function validateAnswer(answer: TraceAnswer, prefix: string): void {
  const v = new Violations();
  if (answer.outcome === TraceOutcome.TRACE_OUTCOME_UNSPECIFIED || !(answer.outcome in TraceOutcome))
    v.missing(`${prefix}.outcome`, 'the outcome is required');
  // A text the release policy withheld is listed in `withheld` rather than missing (12.11).
  const withheld = (field: string) => answer.withheld.some((w) => w.field === field);
  if (answer.outcome === TraceOutcome.TRACE_OUTCOME_REFERRED) {
    const referral = answer.referral;
    if (!referral || !isParticipantId(referral.participant))
      v.missing(`${prefix}.referral.participant`, 'a referral names the participant referred to');
    if (!referral || (referral.basis.trim() === '' && !withheld('referral.basis')))
      v.missing(`${prefix}.referral.basis`, 'a referral states its basis, e.g. the export');
  }
  if (
    answer.outcome === TraceOutcome.TRACE_OUTCOME_TRACED &&
    answer.lastLegalRecord.trim() === '' &&
    !withheld('last_legal_record')
  ) {
    v.missing(`${prefix}.last_legal_record`, 'a traced answer states the last legal record');
  }
  checkWithheld(answer, prefix, v);
  v.list.push(...answerUndertakingViolations(answer, prefix));
  // protocol 12.2, kind 6: an incomplete answer is INVALID_FIELD whatever its first rule.
  v.throwIfAny('the answer is incomplete', ErrorCode.ERROR_CODE_INVALID_FIELD);
  if (answer.restrictions) validateRestrictions(answer.restrictions, `${prefix}.restrictions`);
}

/** Delay, restriction and refusal need a reason code and an explanation. */
export function validateReason(reason: ReasonCode, explanation: string, prefix: string): void {
  const v = new Violations();
  if (reason === ReasonCode.REASON_CODE_UNSPECIFIED || !(reason in ReasonCode)) {
    v.missing(
      `${prefix}.reason`,
      'a reason code is required (ongoing criminal investigation, legal confidentiality, national security, other)',
    );
  }
  v.text(`${prefix}.explanation`, explanation, 'an explanation', 5000);
  // protocol 12.2, kinds 7–9: MISSING_FIELD, also for an explanation that is too long.
  v.throwIfAny('a delay, restriction or refusal needs its reason', ErrorCode.ERROR_CODE_MISSING_FIELD);
}

/** A required text field of a workflow message. */
export function requireText(value: string, field: string, what: string, max = 10_000): void {
  const v = new Violations();
  v.text(field, value, what, max);
  // protocol 12.2, kinds 3–5: MISSING_FIELD, also for a text that is too long (rule max_length).
  v.throwIfAny(`${what} is required`, ErrorCode.ERROR_CODE_MISSING_FIELD);
}

/** A date field, YYYY-MM-DD, optional unless `required`. */
export function requireDate(value: string, field: string, what: string, required: boolean): void {
  const v = new Violations();
  v.date(field, value, what, required);
  v.throwIfAny(`${what} is not a date`);
}
