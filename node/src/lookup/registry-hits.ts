import { ErrorCode, type RecordQuery, TracenetError } from '@tracenet/proto';
import type { Logger } from 'pino';
import type { AliasTable } from '../records/alias-table.js';
import { type InterestEntry, interestEntriesOf, type RecordStore } from '../records/record-store.js';
import { MAX_CANDIDATES, type Registry } from '../registry/registry.js';
import { identityOfRecord, type WeaponIdentity, WeaponsSeen } from '../registry/same-weapon.js';
import { compileLookup, type InterestMatch, MAX_HITS, matchInterest } from './matcher.js';

/** Where a lookup finds records of interest. */
export interface InterestSources {
  /** The node's records-of-interest index: its own records and its reports on registry records. */
  readonly records: RecordStore;
  /** The registries the node answers from, whose own reports of loss and theft are matched too. */
  readonly registry?: Pick<Registry, 'findOfInterest'> | undefined;
  readonly logger: Logger;
}

/**
 * Every record of interest a (valid) query matches (docs/protocol.md 13.4), one hit per weapon:
 *
 * 1. the node's records-of-interest index — its own records and the reports its officers made on
 *    records of another registry — as {@link matchInterest} reads it;
 * 2. then the registries' own reports ({@link Registry.findOfInterest}), each record viewed as the
 *    index entries it would have ({@link interestEntriesOf}) and matched by the same
 *    {@link compileLookup}. A registry record the node reported itself gives no second hit (the
 *    node's report wins: category and contact point are its); nor does one that is the same
 *    weapon ({@link sameWeapon}) as a hit of the node's own store. Its reference is the record's
 *    own opaque one ({@link RecordStore.registryReference}), never the registry's key.
 *
 * At most `limit` hits, the node's index first. A registry that cannot answer refuses the query
 * with UNAVAILABLE (rule `registry_unavailable`, retryable): "no hit" is never said of a registry
 * that was not read.
 */
export async function findHits(
  sources: InterestSources,
  weapon: RecordQuery,
  aliases: AliasTable,
  limit = MAX_HITS,
): Promise<InterestMatch[]> {
  const hits = await matchInterest(sources.records, weapon, aliases, limit);
  if (!sources.registry || hits.length >= limit) return hits;
  const matcher = compileLookup(weapon, aliases);
  let reported: Awaited<ReturnType<Registry['findOfInterest']>>;
  try {
    reported = await sources.registry.findOfInterest(matcher.serial, MAX_CANDIDATES);
  } catch (error) {
    const failure = TracenetError.from(error);
    if (failure.code === ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE) throw failure;
    // The cause stays here: a peer learns that the registry is down, not its address or driver.
    sources.logger.error(
      { code: failure.codeName, problem: failure.message },
      'lookup refused: the registry could not be read',
    );
    throw new TracenetError(
      ErrorCode.ERROR_CODE_UNAVAILABLE,
      'the registry this node answers lookups from cannot answer now; ask again later (it is not a "no hit")',
      { rule: 'registry_unavailable', cause: error },
    );
  }
  const ids = new Set(hits.map((h) => h.entry.recordId));
  const seen = new WeaponsSeen<string>();
  for (const { entry } of hits) seen.add(sourceOf(entry.recordId), identityOfEntry(entry, aliases));
  for (const record of reported) {
    if (hits.length >= limit) break;
    if (ids.has(record.recordId) || !record.interest) continue;
    const entry = interestEntriesOf(record, '', record.interest).find(matcher.accepts);
    if (!entry || seen.heldElsewhere(sourceOf(record.recordId), identityOfRecord(record, aliases))) continue;
    const reference = await sources.records.registryReference(record.recordId);
    hits.push({ entry: { ...entry, reference }, partial: matcher.serial.partial });
    ids.add(record.recordId);
  }
  return hits;
}

/** The source a record id names: its prefix (`rec_` for the node's own store, `pg_`, …). */
function sourceOf(recordId: string): string {
  return recordId.slice(0, recordId.indexOf('_') + 1);
}

/** The identity an index entry tells of its record: manufacturer and calibre after aliases, and the serial it matched by. */
function identityOfEntry(entry: InterestEntry, aliases: AliasTable): WeaponIdentity {
  return {
    manufacturer: aliases.canonical(entry.manufacturer),
    serials: [entry.serial],
    model: entry.model,
    calibre: aliases.canonicalCalibre(entry.calibre),
    type: entry.type,
  };
}
