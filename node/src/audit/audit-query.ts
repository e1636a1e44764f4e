import type { AuditEntry, ListAuditRequest } from '@tracenet/proto';
import { padNumber, type Store } from '../store/store.js';
import { Violations } from '../util/violations.js';
import { actorOfLine } from './audit-log.js';

/** Entries per page when the caller does not say. */
export const AUDIT_PAGE_DEFAULT = 100;
/** The most entries one page holds. */
export const AUDIT_PAGE_MAX = 1000;
/**
 * The most entries one call reads: a filter that matches little does not make one call read a
 * whole log of millions of entries; the page then ends early with a cursor to go on from.
 */
export const AUDIT_SCAN_BUDGET = 20_000;
/** The longest officer or client id a filter takes. */
const MAX_ID_LENGTH = 200;

/** Members of an entry's line that are not the event's fields (docs/protocol.md 8.1). */
const NOT_FIELDS = new Set(['actor', 'seq', 'at', 'type', 'prev']);

/** Which entries to list (docs/protocol.md 8.1, `ListAudit`); see {@link listAuditEntries}. */
export type AuditQuery = Pick<ListAuditRequest, 'officerId' | 'clientId' | 'sinceMs' | 'untilMs' | 'limit' | 'cursor'>;

/** One page of entries and where the next one starts ('' on the last page). */
export interface AuditPage {
  readonly entries: AuditEntry[];
  readonly nextCursor: string;
}

/**
 * Checks a query at the edge and names every broken rule at once (INVALID_FIELD with a
 * FieldViolation per problem); returns the page size and the `seq` the page starts after.
 */
export function validateAuditQuery(query: AuditQuery): { limit: number; after: number } {
  const v = new Violations();
  if (query.limit > AUDIT_PAGE_MAX) v.invalid('limit', 'max', `limit must be at most ${AUDIT_PAGE_MAX}`);
  if (query.sinceMs < 0) v.invalid('since_ms', 'non_negative', 'since_ms must not be negative');
  if (query.untilMs < 0) v.invalid('until_ms', 'non_negative', 'until_ms must not be negative');
  if (query.sinceMs > 0 && query.untilMs > 0 && query.untilMs <= query.sinceMs)
    v.invalid('until_ms', 'after_since', 'until_ms must be later than since_ms');
  v.maxLength('officer_id', query.officerId, 'officer_id', MAX_ID_LENGTH);
  v.maxLength('client_id', query.clientId, 'client_id', MAX_ID_LENGTH);
  const after = query.cursor === '' ? 0 : /^[0-9]{1,15}$/.test(query.cursor) ? Number(query.cursor) : -1;
  if (after < 0) v.invalid('cursor', 'format', 'cursor is not one of this listing: pass next_cursor as it came');
  v.throwIfAny('the audit listing request is invalid');
  return { limit: query.limit === 0 ? AUDIT_PAGE_DEFAULT : query.limit, after };
}

/**
 * The stored entries after `after` (a `seq`; 0 for all), in key order: the key (the zero-padded
 * `seq`) and the stored value, read as it is.
 */
export type AuditEntrySource = (after: number) => AsyncIterable<readonly [string, unknown]>;

/** The entries of a live store. */
export function storeAuditEntries(store: Store): AuditEntrySource {
  return (after) => store.audit.evidence.entries(after > 0 ? { gt: padNumber(after) } : {});
}

/**
 * Lists audit entries in sequence order with the actor each names (docs/protocol.md 8.1):
 * `officerId` and `clientId` select the entries of that officer or client (either, when both are
 * given), `sinceMs` (inclusive) and `untilMs` (exclusive) the time of their commit. An entry
 * written before accounts existed names no actor: no actor filter selects it. A page reads at most
{@link AUDIT_SCAN_BUDGET} entries, so one may end with fewer entries than `limit`, even none, and a
cursor: follow `nextCursor` until it is empty. Reads; verifies
 * nothing (`checkAuditLog` does): an entry that is not an audit entry is listed with type
 * `unreadable` when no filter excludes it. Bad input is INVALID_FIELD naming every problem.
 *
 * @example
 * ```ts
 * const query = { officerId: 'o-ana', clientId: '', sinceMs: 0, untilMs: 0, limit: 50, cursor: '' };
 * const page = await listAuditEntries(storeAuditEntries(store), query);
 * for (const e of page.entries) console.log(e.seq, e.type, e.actor?.id);
 * ```
 */
export async function listAuditEntries(source: AuditEntrySource, query: AuditQuery): Promise<AuditPage> {
  const { limit, after } = validateAuditQuery(query);
  return scanAuditEntries(source, query, after, limit, AUDIT_SCAN_BUDGET);
}

/**
 * {@link listAuditEntries} without the checks, for a caller that validated the query and may ask
 * for every entry at once (`limit` and `budget` Infinity: an offline listing reads the store's
 * files once). Reads at most `budget` entries after `after`; when more follow, the page ends there
 * with a cursor, however few entries it holds.
 */
export async function scanAuditEntries(
  source: AuditEntrySource,
  query: Omit<AuditQuery, 'limit' | 'cursor'>,
  after: number,
  limit: number,
  budget = Number.POSITIVE_INFINITY,
): Promise<AuditPage> {
  const entries: AuditEntry[] = [];
  let last = after;
  let read = 0;
  const byActor = query.officerId !== '' || query.clientId !== '';
  for await (const [key, value] of source(after)) {
    const seq = Number(key);
    // A source that cannot seek (the store's files) starts from the first entry.
    if (!(seq > after)) continue;
    if (entries.length === limit || read === budget) return { entries, nextCursor: String(last) };
    read += 1;
    last = seq;
    const stored = (typeof value === 'object' && value !== null ? value : {}) as { line?: unknown; hash?: unknown };
    let parsed: Record<string, unknown> | undefined;
    try {
      const json: unknown = typeof stored.line === 'string' ? JSON.parse(stored.line) : undefined;
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) parsed = json as Record<string, unknown>;
    } catch {
      // Listed as unreadable below.
    }
    const atMs = typeof parsed?.at === 'number' ? parsed.at : 0;
    const actor = actorOfLine(parsed);
    if (byActor) {
      const matches =
        (query.officerId !== '' && actor?.kind === 'officer' && actor.id === query.officerId) ||
        (query.clientId !== '' && actor?.kind === 'client' && actor.id === query.clientId);
      if (!matches) continue;
    }
    if (query.sinceMs > 0 && atMs < query.sinceMs) continue;
    if (query.untilMs > 0 && atMs >= query.untilMs) continue;
    const fields: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(parsed ?? {})) if (!NOT_FIELDS.has(name)) fields[name] = member;
    entries.push({
      seq,
      atMs,
      type: parsed && typeof parsed.type === 'string' ? parsed.type : 'unreadable',
      actor,
      fieldsJson: JSON.stringify(fields),
      hash: typeof stored.hash === 'string' ? stored.hash : '',
    });
  }
  return { entries, nextCursor: '' };
}
