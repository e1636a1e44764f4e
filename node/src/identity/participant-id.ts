import { ParticipantKind } from '@tracenet/proto';

const STATE_ID = /^[A-Z]{3}$/;
const ORGANISATION_ID = /^org:[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * Kind of a participant id, or undefined when the id is not valid. States use ISO 3166-1
 * alpha-3 (`FRA`); organisations use `org:<name>` (`org:UN-POE`).
 */
export function participantKindOf(id: string): ParticipantKind | undefined {
  if (STATE_ID.test(id)) return ParticipantKind.PARTICIPANT_KIND_STATE;
  if (ORGANISATION_ID.test(id)) return ParticipantKind.PARTICIPANT_KIND_ORGANISATION;
  return undefined;
}

/** Whether `id` is a syntactically valid participant id. */
export function isParticipantId(id: string): boolean {
  return participantKindOf(id) !== undefined;
}
