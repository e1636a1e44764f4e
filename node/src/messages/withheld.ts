import type { TraceAnswer, WeaponEvent } from '@tracenet/proto';
import type { Violations } from '../util/violations.js';

/** The event fields a rule may name as "history.<field>", with their names in the generated code. */
export const RELEASABLE_EVENT_FIELDS = {
  date: 'date',
  place: 'place',
  agency: 'agency',
  destination: 'destination',
  origin: 'origin',
  licence: 'licence',
  end_user: 'endUser',
  details: 'details',
} as const satisfies Record<string, keyof WeaponEvent>;
export type ReleasableEventField = keyof typeof RELEASABLE_EVENT_FIELDS;

/** The answer texts a rule may name, with their names in the generated code. */
export const TEXT_FIELDS = {
  last_legal_record: 'lastLegalRecord',
  point_of_diversion: 'pointOfDiversion',
  details: 'details',
} as const satisfies Record<string, keyof TraceAnswer>;

/** Limits of a received `withheld` list (docs/protocol.md 12.11). */
const MAX_WITHHELD = 2000;
const MAX_WITHHELD_PATH = 100;
export const MAX_WITHHELD_REASON = 500;

/** A withheld path: dot-separated names, each with an optional index (docs/protocol.md 12.11). */
export const WITHHELD_PATH =
  /^[a-z][a-z0-9_]{0,39}(\[(0|[1-9][0-9]{0,4})\])?(\.[a-z][a-z0-9_]{0,39}(\[(0|[1-9][0-9]{0,4})\])?){0,3}$/;

/** The value at a withheld path of an answer, when the path names a text this version knows. */
function valueAt(answer: TraceAnswer, path: string): string | undefined {
  const event = /^(?:history\[(\d+)\]|referral\.event)\.(undertaking\.end_user|[a-z_]+)$/.exec(path);
  if (event) {
    const e = event[1] === undefined ? answer.referral?.event : answer.history[Number(event[1])];
    // An undertaking's end user follows the event's (docs/protocol.md 18.2).
    if (event[2] === 'undertaking.end_user') return e?.undertaking?.endUser;
    const key = RELEASABLE_EVENT_FIELDS[event[2] as ReleasableEventField] as keyof WeaponEvent | undefined;
    return e && key && typeof e[key] === 'string' ? (e[key] as string) : undefined;
  }
  if (path === 'referral.basis') return answer.referral?.basis;
  const key = (TEXT_FIELDS as Record<string, (typeof TEXT_FIELDS)[keyof typeof TEXT_FIELDS]>)[path];
  return key ? answer[key] : undefined;
}

/**
 * The rules of a `withheld` list, also on answers received from a peer, which may send anything
 * (docs/protocol.md 12.11): at most 2000 entries; each path well formed (WITHHELD_PATH, 100 characters at
 * most), a history index within the history, no path twice, and the value it names empty; a
 * reason of at most 500 characters. Violations are added to `v` under `prefix.withheld[i]`.
 */
export function checkWithheld(answer: TraceAnswer, prefix: string, v: Violations): void {
  const list = answer.withheld;
  if (list.length > MAX_WITHHELD) {
    v.invalid(`${prefix}.withheld`, 'max_items', `an answer withholds at most ${MAX_WITHHELD} values`);
    return;
  }
  const seen = new Set<string>();
  list.forEach((w, i) => {
    const at = `${prefix}.withheld[${i}]`;
    if (w.field.length > MAX_WITHHELD_PATH || !WITHHELD_PATH.test(w.field)) {
      v.invalid(`${at}.field`, 'field_path', 'a withheld field is a path such as history[2].end_user');
    } else if (seen.has(w.field)) {
      v.invalid(`${at}.field`, 'unique', `${w.field} is listed twice`);
    } else {
      seen.add(w.field);
      const index = /^history\[(\d+)\]/.exec(w.field);
      if (index && Number(index[1]) >= answer.history.length)
        v.invalid(`${at}.field`, 'field_path', `${w.field} names an event the history does not have`);
      else if ((valueAt(answer, w.field) ?? '') !== '')
        v.invalid(`${at}.field`, 'withheld_empty', `${w.field} is listed as withheld but carries a value`);
    }
    v.maxLength(`${at}.reason`, w.reason, 'the reason', MAX_WITHHELD_REASON);
  });
}
