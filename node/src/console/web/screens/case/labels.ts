import {
  CaseRole,
  CaseState,
  FindingKind,
  IllicitKind,
  OnwardDisclosure,
  Priority,
  ReasonCode,
  TraceOutcome,
  WeaponEventType,
} from '@tracenet/proto/browser';
import { participantName, t } from '../../i18n.js';

/** The short lower-case name of an enum value: CaseState.CASE_STATE_SENT → 'sent'; '' for UNSPECIFIED. */
function short(names: Record<number, string>, value: number, prefix: string): string {
  const name = names[value];
  if (!name || name.endsWith('_UNSPECIFIED') || name === 'UNRECOGNIZED') return '';
  return name.slice(prefix.length).toLowerCase();
}

/** Names of the case states the console knows, for filters and badges. */
export const STATES: readonly CaseState[] = [
  CaseState.CASE_STATE_RECEIVED,
  CaseState.CASE_STATE_SENT,
  CaseState.CASE_STATE_ACKNOWLEDGED,
  CaseState.CASE_STATE_CLARIFICATION,
  CaseState.CASE_STATE_DELAYED,
  CaseState.CASE_STATE_ANSWERED,
  CaseState.CASE_STATE_RESTRICTED,
  CaseState.CASE_STATE_REFUSED,
  CaseState.CASE_STATE_CLOSED,
  CaseState.CASE_STATE_WITHDRAWN,
  CaseState.CASE_STATE_DRAFT,
];

export const stateKey = (state: CaseState): string => short(CaseState, state, 'CASE_STATE_') || 'unknown';
export const stateLabel = (state: CaseState): string => t(`case.state.${stateKey(state)}`);
export const roleLabel = (role: CaseRole): string => t(`case.role.${short(CaseRole, role, 'CASE_ROLE_') || 'unknown'}`);
export const priorityLabel = (priority: Priority): string =>
  t(`case.priority.${short(Priority, priority, 'PRIORITY_') || 'unknown'}`);
export const outcomeLabel = (outcome: TraceOutcome): string =>
  t(`case.outcome.${short(TraceOutcome, outcome, 'TRACE_OUTCOME_') || 'unknown'}`);
export const reasonLabel = (reason: ReasonCode): string =>
  t(`case.reason.${short(ReasonCode, reason, 'REASON_CODE_') || 'unknown'}`);
export const onwardLabel = (onward: OnwardDisclosure): string =>
  t(`case.onward.${short(OnwardDisclosure, onward, 'ONWARD_DISCLOSURE_') || 'unknown'}`);
export const eventTypeLabel = (type: WeaponEventType): string =>
  t(`case.event.${short(WeaponEventType, type, 'WEAPON_EVENT_TYPE_') || 'unknown'}`);

export const illicitLabel = (kind: IllicitKind): string =>
  t(`case.illicit.${short(IllicitKind, kind, 'ILLICIT_KIND_') || 'unknown'}`);
export const findingLabel = (kind: FindingKind): string =>
  t(`case.finding.${short(FindingKind, kind, 'FINDING_KIND_') || 'unknown'}`);

/** A state that ends the case: no step is possible any more. */
export const isFinal = (state: CaseState): boolean =>
  state === CaseState.CASE_STATE_CLOSED || state === CaseState.CASE_STATE_WITHDRAWN;

/** Participants as the officer reads them, joined by the language's list format. */
export function participantList(ids: readonly string[]): string {
  const names = ids.map(participantName);
  try {
    return new Intl.ListFormat(document.documentElement.lang || 'en', { type: 'conjunction' }).format(names);
  } catch {
    return names.join(', ');
  }
}

/**
 * Strips control characters (but tab and line breaks) and bidirectional overrides from a peer's
 * free text before it is shown: a BELL or a right-to-left override must not garble the screen.
 */
export function cleanText(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    const control = (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x7f && code <= 0x9f);
    const bidi = (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    if (!control && !bidi) out += ch;
  }
  return out;
}
