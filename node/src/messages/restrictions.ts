import {
  type Consent,
  ErrorCode,
  OnwardDisclosure,
  ParticipantKind,
  type PeerPolicy,
  type TraceAnswer,
  TracenetError,
  type UseRestrictions,
} from '@tracenet/proto';
import { isParticipantId, participantKindOf } from '../identity/participant-id.js';
import { Violations } from '../util/violations.js';

/**
 * Use restrictions of answers (docs/protocol.md section 14; UN Firearms Protocol art. 12): the
 * answering node's defaults per peer, an officer's tightening, and the receiving node's check
 * before it passes information on.
 */

export const DAY_MS = 86_400_000;
/** Retention when the policy sets none: 5 years. */
export const DEFAULT_RETENTION_DAYS = 5 * 365;
/** Retention of answers to an organisation (a panel) when the policy sets none: 1 year. */
export const PANEL_RETENTION_DAYS = 365;
/** Longest retention a node accepts: 100 years. */
export const MAX_RETENTION_DAYS = 36_500;

const O = OnwardDisclosure;
/** Looseness of each onward disclosure: NONE is the strictest. */
const LOOSENESS: Readonly<Record<number, number>> = {
  [O.ONWARD_DISCLOSURE_NONE]: 0,
  [O.ONWARD_DISCLOSURE_WITH_CONSENT]: 1,
  [O.ONWARD_DISCLOSURE_LISTED]: 2,
};

/** Whether a participant id names an organisation (a panel such as `org:UN-POE`). */
export function isOrganisation(participantId: string): boolean {
  return participantKindOf(participantId) === ParticipantKind.PARTICIPANT_KIND_ORGANISATION;
}

/** Short readable name: ONWARD_DISCLOSURE_WITH_CONSENT → with consent. */
export function onwardName(onward: OnwardDisclosure): string {
  return (O[onward] ?? 'unspecified').replace('ONWARD_DISCLOSURE_', '').toLowerCase().replace(/_/g, ' ');
}

/**
 * The restrictions an answer to `requester` carries unless an officer tightens them: the policy's
 * `default_restrictions`, field by field, and otherwise onward disclosure WITH_CONSENT and 5 years
 * for a state, NONE and 1 year for an organisation; the purpose is the request's intended use.
 */
export function defaultRestrictions(requester: string, policy: PeerPolicy, intendedUse: string): UseRestrictions {
  const p = policy.defaultRestrictions;
  const panel = isOrganisation(requester);
  const onward =
    p && p.onwardDisclosure in LOOSENESS
      ? p.onwardDisclosure
      : panel
        ? O.ONWARD_DISCLOSURE_NONE
        : O.ONWARD_DISCLOSURE_WITH_CONSENT;
  return {
    purpose: p?.purpose.trim() || intendedUse,
    onwardDisclosure: onward,
    // Stryker disable next-line OptionalChaining,ArrayDeclaration: equivalent: onward is LISTED only when the policy's defaults say so, so `p` is defined and its list (a repeated field) never missing; the line's last `[]` is pinned by the restrictions.test.ts defaults cases
    listedParticipants: onward === O.ONWARD_DISCLOSURE_LISTED ? [...(p?.listedParticipants ?? [])] : [],
    retentionDays:
      p && p.retentionDays > 0
        ? Math.min(p.retentionDays, MAX_RETENTION_DAYS)
        : panel
          ? PANEL_RETENTION_DAYS
          : DEFAULT_RETENTION_DAYS,
  };
}

/**
 * `base` tightened by an officer's `change` (fields left empty keep the base): onward disclosure
 * may only get stricter, listed participants only fewer, retention only shorter. A loosening is
 * refused with INVALID_FIELD naming the field (under `prefix`), never silently ignored.
 */
export function tighten(base: UseRestrictions, change: UseRestrictions | undefined, prefix: string): UseRestrictions {
  if (!change) return base;
  const v = new Violations();
  const onward =
    change.onwardDisclosure === O.ONWARD_DISCLOSURE_UNSPECIFIED ? base.onwardDisclosure : change.onwardDisclosure;
  const rank = LOOSENESS[onward];
  if (rank === undefined) v.invalid(`${prefix}.onward_disclosure`, 'enum', 'onward disclosure is not known');
  else if (rank > (LOOSENESS[base.onwardDisclosure] ?? 0)) {
    v.invalid(
      `${prefix}.onward_disclosure`,
      'no_loosening',
      `onward disclosure ${onwardName(onward)} is looser than the policy's ${onwardName(base.onwardDisclosure)}`,
    );
  }
  let listed: string[] = [];
  if (onward === O.ONWARD_DISCLOSURE_LISTED) {
    listed = change.listedParticipants.length > 0 ? [...change.listedParticipants] : [...base.listedParticipants];
    const outside = listed.filter((id) => !base.listedParticipants.includes(id));
    if (outside.length > 0)
      v.invalid(
        `${prefix}.listed_participants`,
        'no_loosening',
        `${outside.join(', ')} not among the participants the policy lists`,
      );
  }
  const retentionDays = change.retentionDays > 0 ? change.retentionDays : base.retentionDays;
  if (retentionDays > base.retentionDays)
    v.invalid(
      `${prefix}.retention_days`,
      'no_loosening',
      `retention of ${retentionDays} days is longer than the policy's ${base.retentionDays}`,
    );
  v.throwIfAny('use restrictions may only be tightened', ErrorCode.ERROR_CODE_INVALID_FIELD);
  return {
    purpose: change.purpose.trim() || base.purpose,
    onwardDisclosure: onward,
    listedParticipants: listed,
    retentionDays,
  };
}

/** Checks restrictions a peer sent (or an officer gave in full): known values, sane bounds. */
export function validateRestrictions(r: UseRestrictions, prefix: string): void {
  const v = new Violations();
  if (!(r.onwardDisclosure in LOOSENESS))
    v.invalid(`${prefix}.onward_disclosure`, 'enum', 'onward disclosure must be none, with consent or listed');
  if (r.retentionDays < 1 || r.retentionDays > MAX_RETENTION_DAYS)
    v.invalid(`${prefix}.retention_days`, 'range', `retention must be 1 to ${MAX_RETENTION_DAYS} days`);
  r.listedParticipants.forEach((id, i) => {
    if (!isParticipantId(id))
      v.invalid(`${prefix}.listed_participants[${i}]`, 'participant_id', `${id} is not a participant id`);
  });
  v.maxLength(`${prefix}.purpose`, r.purpose, 'purpose', 2000);
  v.throwIfAny('the use restrictions are invalid', ErrorCode.ERROR_CODE_INVALID_FIELD);
}

/**
 * Restrictions of a received answer, which its body check validated when present
 * (validateAnswer): an answer from a node that sent none is held as the state default
 * (WITH_CONSENT, 5 years, the request's intended use).
 */
export function receivedRestrictions(answer: TraceAnswer, intendedUse: string): UseRestrictions {
  return (
    answer.restrictions ?? {
      purpose: intendedUse,
      onwardDisclosure: O.ONWARD_DISCLOSURE_WITH_CONSENT,
      listedParticipants: [],
      retentionDays: DEFAULT_RETENTION_DAYS,
    }
  );
}

/**
 * Why `third` may receive information under `restrictions` — "listed" or "consent:<id>" — or
 * DISCLOSURE_NOT_ALLOWED when neither the restrictions list it nor a granted consent names it.
 */
export function disclosureBasis(
  restrictions: UseRestrictions,
  consents: readonly Consent[],
  third: string,
  provider: string,
): string {
  if (restrictions.onwardDisclosure === O.ONWARD_DISCLOSURE_LISTED && restrictions.listedParticipants.includes(third))
    return 'listed';
  const consent = consents.find((c) => c.thirdParticipant === third && c.granted);
  if (consent) return `consent:${consent.consentId}`;
  throw new TracenetError(
    ErrorCode.ERROR_CODE_DISCLOSURE_NOT_ALLOWED,
    `${provider}'s restrictions (onward disclosure ${onwardName(restrictions.onwardDisclosure)}) do not allow disclosure to ${third} and no consent of ${provider} for it is on record`,
    { field: 'third_participant', rule: 'use_restrictions' },
  );
}

/** An answer with its content removed at the end of retention: outcome and restrictions stay. */
export function purgedAnswer(answer: TraceAnswer): TraceAnswer {
  return {
    traceId: answer.traceId,
    outcome: answer.outcome,
    lastLegalRecord: '',
    pointOfDiversion: '',
    referral: undefined,
    history: [],
    details: '',
    automatic: answer.automatic,
    restrictions: answer.restrictions,
    withheld: [],
  };
}
