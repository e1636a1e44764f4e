import {
  DestructionCertificate,
  DestructionState,
  ErrorCode,
  type InterestCategory,
  type InterestReport,
  NodeEventType,
  TracenetError,
  WeaponEventType,
  type WeaponType,
  WeaponRecord,
  WeaponStatus,
} from '@tracenet/proto';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { Logger } from 'pino';
import type { AuditEvent, Journal, NodeEventInput } from '../audit/audit-log.js';
import { blake2b256, domain, randomBytes } from '../crypto/sodium.js';
import type { Operation, Store } from '../store/store.js';
import type { RecordValue, RegistryInterestRecord } from '../store/repositories.js';
import type { Clock } from '../util/clock.js';
import { KeyedLock } from '../util/keyed-lock.js';
import { categoryName, interestViolations, isOfInterest } from './interest.js';
import type { SerialPattern } from './serial-pattern.js';
import { indexedSerials, normaliseCalibre, normaliseModel, normaliseName } from './normalise.js';
import { type Retention, retentionDate, retentionOf, retentionRefusal } from './retention.js';
import { RECORD_ID, recordViolations, violationError } from './validation.js';
import { ddrChangeViolations, recirculatedEvents } from './ddr-rules.js';
import { recirculationOfRecord, type DestructionSigner } from './destruction.js';

/** Key part separator; normalised values hold only letters, digits and spaces. */
const SEP = '\0';
const IDS_DOMAIN = domain('tracenet.v1/record-ids');
const CERT_DIGEST_DOMAIN = domain('tracenet.v1/destruction-certificate-digest');

const EVENT_WORDS: Readonly<Record<number, string>> = {
  [WeaponEventType.WEAPON_EVENT_TYPE_SEIZED]: 'seized',
  [WeaponEventType.WEAPON_EVENT_TYPE_FOUND]: 'found',
  [WeaponEventType.WEAPON_EVENT_TYPE_SURRENDERED]: 'surrendered',
};
const eventWord = (type: number) => EVENT_WORDS[type] ?? 'seen';
/** Records per journal write of {@link RecordStore.putMany}. */
export const IMPORT_BATCH_SIZE = 1000;
/** Serial index entries read at most for one {@link RecordStore.bySerial} (a wildcard serial may scan them all). */
export const MAX_SERIAL_SCAN = 100_000;
/** Entries of the records-of-interest index read at most for one lookup (a wildcard serial may scan them all). */
export const MAX_INTEREST_SCAN = 100_000;
/**
 * Records that {@link RecordStore.bySerial} reads synchronously: a few point reads take LevelDB a
 * few microseconds each, less than one round trip to a libuv thread, whose wake-ups on a busy or
 * shared machine make most of a lookup's tail (docs/adr/0005-records-storage.md). More records
 * (a wildcard search) are read on the thread pool, so that the event loop is never held long.
 */
const SYNC_READS = 8;

/** The value kept under `records/<record_id>` (docs/adr/0005-records-storage.md). */
type StoredRecord = RecordValue;

/**
 * One entry of the records-of-interest index (`interest` sublevel), per indexed serial of a record
 * of interest: what a lookup matches on and what a hit may release, without reading the record.
 */
export interface InterestEntry {
  readonly recordId: string;
  /** The indexed serial, normalised (docs/protocol.md 11.2). */
  readonly serial: string;
  /** Opaque reference given to peers in hits (`roi_` and 22 characters). */
  readonly reference: string;
  /** Manufacturer in its name form (11.2), before aliases: aliases apply when a lookup compares. */
  readonly manufacturer: string;
  /** Model, calibre: normalised (11.2); empty when the record has none. */
  readonly model: string;
  readonly calibre: string;
  readonly type: WeaponType;
  readonly category: InterestCategory;
  readonly contactPoint: string;
  /** Set when the record is recorded as destroyed (docs/protocol.md 19.5): what a hit says of it. */
  readonly destroyedDate?: string;
  readonly certificateId?: string;
}

/** The report of a destroyed record that is not of interest: no category, no contact point. */
const NO_REPORT: InterestReport = { category: 0, date: '', agency: '', reference: '', contactPoint: '' };

/** What the record store needs. */
export interface RecordStoreOptions {
  readonly store: Store;
  readonly journal: Journal;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A stored record and whether this write created it. */
export interface PutResult {
  readonly record: WeaponRecord;
  readonly created: boolean;
}

/** Audit metadata of one import batch. */
export interface ImportBatchInfo {
  readonly importId: string;
  readonly batch: number;
  /**
   * The caller has already checked every record against the record rules (`recordViolations`,
   * and `interestViolations` for a report), as the import does row by row: {@link RecordStore.putMany}
   * then does not check them a second time, which was a tenth of an import's time.
   */
  readonly validated?: boolean;
}

/**
 * One writer for every record encoded: `finish()` copies the bytes out and resets it, keeping its
 * buffer, which a fresh writer per record grew three times (a twentieth of an import's time).
 */
const RECORD_WRITER = new BinaryWriter();

/** The record's bytes, through {@link RECORD_WRITER}; a failed encoding leaves the writer empty for the next. */
function encodeRecord(record: WeaponRecord): Uint8Array {
  try {
    return WeaponRecord.encode(record, RECORD_WRITER).finish();
  } catch (error) {
    RECORD_WRITER.finish();
    throw error;
  }
}

const ID_BYTES = 16;
let idPool: Buffer = Buffer.alloc(0);
let idPoolAt = 0;

/**
 * A new record id: "rec_" and 22 base64url characters of 16 random bytes. Bytes come from the
 * CSPRNG 4 KiB at a time; one call per id was a twentieth of an import's time.
 */
export function newRecordId(): string {
  if (idPoolAt + ID_BYTES > idPool.length) {
    idPool = randomBytes(ID_BYTES * 256);
    idPoolAt = 0;
  }
  const id = idPool.toString('base64url', idPoolAt, idPoolAt + ID_BYTES);
  idPoolAt += ID_BYTES;
  return `rec_${id}`;
}

function decode(stored: StoredRecord): { record: WeaponRecord; stored: StoredRecord } {
  return { record: WeaponRecord.decode(Buffer.from(stored.record, 'base64')), stored };
}

/** A record's content as bytes, without the id and times the node sets: equal for a row imported again. */
function contentKey(record: WeaponRecord): string {
  return Buffer.from(
    WeaponRecord.encode({ ...record, recordId: '', recordedAtMs: 0, updatedAtMs: 0 }).finish(),
  ).toString('base64');
}

function notFound(recordId: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no record ${recordId}`, {
    field: 'record_id',
    rule: 'exists',
  });
}

/**
 * The first string after every string that starts with `prefix` (its last code point plus one):
 * keys compare as UTF-8 bytes, whose order is the order of code points.
 */
function afterPrefix(prefix: string): string {
  const points = [...prefix];
  const last = points.pop() as string;
  return points.join('') + String.fromCodePoint((last.codePointAt(0) ?? 0) + 1);
}

/** A new opaque reference of a record of interest: "roi_" and 22 base64url characters. */
function newReference(): string {
  return `roi_${randomBytes(16).toString('base64url')}`;
}

/**
 * The records-of-interest index entries of a record with `report`, one per indexed serial (11.3):
 * what a lookup matches (node/src/lookup/matcher.ts) — the node's own records, its reports on
 * records of another registry, and the views of a registry's own reports are all matched as these.
 */
export function interestEntriesOf(record: WeaponRecord, reference: string, report: InterestReport): InterestEntry[] {
  const m = record.manufacture;
  return indexedSerials(record).map((serial) => ({
    recordId: record.recordId,
    serial,
    reference,
    manufacturer: normaliseName(m?.manufacturer ?? ''),
    model: normaliseModel(m?.model ?? ''),
    calibre: normaliseCalibre(m?.calibre ?? ''),
    type: m?.type ?? 0,
    category: report.category,
    contactPoint: report.contactPoint,
  }));
}

/** Key of what the node keeps of a record of another registry: `g` NUL record id. */
const registryKey = (recordId: string) => `g${SEP}${recordId}`;

/** Key of an index entry of a record of interest: `s` NUL serial NUL record id. */
const interestKey = (serial: string, recordId: string) => `s${SEP}${serial}${SEP}${recordId}`;
/** Key that resolves a reference to its record: `r` NUL reference. */
const referenceKey = (reference: string) => `r${SEP}${reference}`;

/**
 * A new version without an interest report keeps the report of the version it replaces: reports
 * are made and withdrawn with {@link RecordStore.report} and {@link RecordStore.clearReport}, so
 * that replacing a record (an edit, a re-import) never silently withdraws one.
 */
function keepReport(input: WeaponRecord, previous: WeaponRecord | undefined): WeaponRecord {
  return input.interest === undefined && previous?.interest !== undefined
    ? { ...input, interest: previous.interest }
    : input;
}

function checkRecordId(recordId: string): void {
  if (recordId === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'record_id is required', {
      field: 'record_id',
      rule: 'required',
    });
  if (!RECORD_ID.test(recordId))
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'a record id is "rec_" and 22 characters of [A-Za-z0-9_-]',
      { field: 'record_id', rule: 'record_id' },
    );
}

/** A record id of another registry: not empty, not one of the node's own (`rec_`). */
function checkRegistryId(recordId: string): void {
  if (recordId === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'record_id is required', {
      field: 'record_id',
      rule: 'required',
    });
  if (recordId.startsWith('rec_'))
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${recordId} is a record of this node's own store`, {
      field: 'record_id',
      rule: 'record_id',
    });
}

/**
 * The state's own weapon records on LevelDB, indexed by normalised serial (`record-serials`) and,
 * for records of interest, in `interest` (lookups). Searches by identity go through the registry
 * (node/src/registry/registry.ts), which applies the matching rules. Every write goes
 * through the journal, so a record, its index entries and its audit entry land in one batch.
 * Retention (ITI para 12) is enforced on delete. Secondary marks are stored but never audited.
 *
 * @example
 * ```ts
 * const records = new RecordStore({ store, journal, clock, logger });
 * const { record } = await records.put(weaponRecord);
 * await records.bySerial(serialPattern('FN 123'), 10);
 * ```
 */
export class RecordStore {
  readonly #store: Store;
  readonly #journal: Journal;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #locks = new KeyedLock();

  constructor(options: RecordStoreOptions) {
    this.#store = options.store;
    this.#journal = options.journal;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ component: 'records' });
  }

  get #records() {
    return this.#store.records.records;
  }

  /**
   * Creates the record (empty `record_id`: the node assigns one) or replaces an existing one.
   * Validated first (MISSING_FIELD / INVALID_FIELD with every violation); NOT_FOUND when a given
   * id does not exist. The previous version's index entries are replaced in the same batch.
   */
  async put(input: WeaponRecord): Promise<PutResult> {
    const now = this.#clock.now();
    this.#validate(input, now);
    const id = input.recordId;
    const write = async (): Promise<PutResult> => {
      const previous = id === '' ? undefined : await this.#load(id);
      if (id !== '' && !previous) throw notFound(id);
      const change = ddrChangeViolations(previous?.record, input);
      if (change.length > 0) throw violationError(change);
      const prepared = this.#prepare(
        keepReport(input, previous?.record),
        previous?.stored,
        previous?.record.recordedAtMs,
        now,
      );
      const flagged = this.#recirculation(previous?.record, prepared.record, now);
      await this.#journal.write(
        prepared.operations,
        [
          {
            type: 'record.put',
            fields: { recordId: prepared.record.recordId, created: !previous, events: prepared.record.events.length },
          },
          ...flagged.audit,
        ],
        flagged.events,
      );
      return { record: prepared.record, created: !previous };
    };
    return id === '' ? write() : this.#locks.run(id, write);
  }

  /**
   * Stores many validated records in journal writes of up to {@link IMPORT_BATCH_SIZE}, one
   * `records.imported` audit entry per write (count, created, replaced and a BLAKE2b digest of the
   * record ids). Throws on the first invalid record before writing anything of its write,
   * unless `info.validated` says the caller has checked them.
   */
  async putMany(inputs: readonly WeaponRecord[], info: ImportBatchInfo): Promise<PutResult[]> {
    const results: PutResult[] = [];
    for (let start = 0; start < inputs.length; start += IMPORT_BATCH_SIZE) {
      const slice = inputs.slice(start, start + IMPORT_BATCH_SIZE);
      results.push(
        ...(await this.#putBatch(
          slice,
          { importId: info.importId, batch: info.batch + start / IMPORT_BATCH_SIZE },
          info.validated === true,
        )),
      );
    }
    return results;
  }

  async #putBatch(inputs: readonly WeaponRecord[], info: ImportBatchInfo, validated: boolean): Promise<PutResult[]> {
    const now = this.#clock.now();
    if (!validated) for (const input of inputs) this.#validate(input, now);
    const ids = [...new Set(inputs.map((r) => r.recordId).filter((id) => id !== ''))].sort();
    return this.#withLocks(ids, async () => {
      const existing = new Map<string, { record: WeaponRecord; stored: StoredRecord }>();
      if (ids.length > 0) {
        const values = await this.#records.getMany(ids);
        values.forEach((value, i) => {
          const id = ids[i];
          if (value !== undefined && id !== undefined) existing.set(id, decode(value));
        });
      }
      const operations: Operation[] = [];
      const results: PutResult[] = [];
      const flaggedAudit: AuditEvent[] = [];
      const flaggedEvents: NodeEventInput[] = [];
      for (const input of inputs) {
        const previous = input.recordId === '' ? undefined : existing.get(input.recordId);
        if (input.recordId !== '' && !previous) throw notFound(input.recordId);
        const change = ddrChangeViolations(previous?.record, input);
        if (change.length > 0) throw violationError(change);
        const prepared = this.#prepare(
          keepReport(input, previous?.record),
          previous?.stored,
          previous?.record.recordedAtMs,
          now,
        );
        const flagged = this.#recirculation(previous?.record, prepared.record, now);
        flaggedAudit.push(...flagged.audit);
        flaggedEvents.push(...flagged.events);
        for (const operation of prepared.operations) operations.push(operation);
        results.push({ record: prepared.record, created: !previous });
        // A later row of the same batch replaces this version, not the one on disk.
        if (input.recordId !== '') existing.set(input.recordId, { record: prepared.record, stored: prepared.stored });
      }
      const created = results.filter((r) => r.created).length;
      const digest = blake2b256(IDS_DOMAIN, Buffer.from(results.map((r) => r.record.recordId).join('\n'))).toString(
        'hex',
      );
      const event: AuditEvent = {
        type: 'records.imported',
        fields: {
          importId: info.importId,
          batch: info.batch,
          count: results.length,
          created,
          replaced: results.length - created,
          idsDigest: digest,
        },
      };
      await this.#journal.write(operations, [event, ...flaggedAudit], flaggedEvents);
      return results;
    });
  }

  /** The record, secondary marks included, or undefined. INVALID_FIELD for a malformed id. */
  async get(recordId: string): Promise<WeaponRecord | undefined> {
    checkRecordId(recordId);
    return (await this.#load(recordId))?.record;
  }

  /**
   * Deletes a record once its retention period has passed (ITI para 12). Inside it, refuses with
   * RETENTION_PERIOD naming the first day the record may be deleted; NOT_FOUND when absent.
   */
  async delete(recordId: string): Promise<{ recordId: string; deletableFrom: string }> {
    checkRecordId(recordId);
    return this.#locks.run(recordId, async () => {
      const found = await this.#load(recordId);
      if (!found) throw notFound(recordId);
      const { untilMs, reason, rule } = this.#retention(found.record, found.stored);
      const deletableFrom = retentionDate(untilMs);
      if (this.#clock.now() < untilMs) throw retentionRefusal(recordId, reason, untilMs, rule);
      const { records, serials, identities, interest } = this.#store.records;
      const operations: Operation[] = [
        records.del(recordId),
        ...found.stored.serialKeys.map((key) => serials.del(key)),
        ...(found.stored.identityKeys ?? []).map((key) => identities.del(key)),
        ...(found.stored.interestKeys ?? []).map((key) => interest.del(key)),
      ];
      await this.#journal.write(operations, [{ type: 'record.deleted', fields: { recordId, deletableFrom } }]);
      this.#logger.info({ recordId }, 'record deleted');
      return { recordId, deletableFrom };
    });
  }

  /**
   * Reports a record as lost, stolen, trafficked or smuggled: it becomes a record of interest that
   * peers' lookups can hit (docs/protocol.md 13.2), or its report is replaced. The report is
   * validated (MISSING_FIELD / INVALID_FIELD with every violation under `report.*`); NOT_FOUND when
   * the record does not exist. The record, its index entries and the audit entry
   * `record.reported` are written in one batch.
   */
  async report(recordId: string, report: InterestReport): Promise<WeaponRecord> {
    checkRecordId(recordId);
    const violations = interestViolations(report, { prefix: 'report', nowMs: this.#clock.now() });
    if (violations.length > 0) throw violationError(violations, 'the report is not valid');
    return this.#locks.run(recordId, async () => {
      const found = await this.#load(recordId);
      if (!found) throw notFound(recordId);
      const replaced = isOfInterest(found.record.interest);
      const prepared = this.#prepare(
        { ...found.record, interest: { ...report } },
        found.stored,
        found.record.recordedAtMs,
        this.#clock.now(),
      );
      await this.#journal.write(prepared.operations, [
        {
          type: 'record.reported',
          fields: {
            recordId,
            category: categoryName(report.category),
            reference: prepared.stored.reference ?? '',
            replaced,
          },
        },
      ]);
      this.#logger.info({ recordId, category: categoryName(report.category) }, 'record reported as of interest');
      return prepared.record;
    });
  }

  /**
   * Withdraws the report of a record: it is no longer a record of interest and lookups no longer
   * hit it. A record without a report is returned unchanged and nothing is written; NOT_FOUND when
   * the record does not exist. Audited as `record.report_cleared`.
   */
  async clearReport(recordId: string): Promise<WeaponRecord> {
    checkRecordId(recordId);
    return this.#locks.run(recordId, async () => {
      const found = await this.#load(recordId);
      if (!found) throw notFound(recordId);
      if (!isOfInterest(found.record.interest)) return found.record;
      const prepared = this.#prepare(
        { ...found.record, interest: undefined },
        found.stored,
        found.record.recordedAtMs,
        this.#clock.now(),
      );
      await this.#journal.write(prepared.operations, [
        { type: 'record.report_cleared', fields: { recordId, reference: found.stored.reference ?? '' } },
      ]);
      this.#logger.info({ recordId }, 'report of interest withdrawn');
      return prepared.record;
    });
  }

  /**
   * Records the destruction of a weapon designated for destruction (docs/protocol.md 19.2): the
   * record becomes DESTROYED (status too) with a DESTROYED event, and `sign` makes its certificate,
   * kept with it. The record, its index entries (a destroyed record is matched by lookups, 19.5),
   * the certificate and the audit entry `record.destroyed` are written in one batch.
   * ILLEGAL_TRANSITION unless the record is PENDING destruction; NOT_FOUND when absent.
   */
  async recordDestruction(
    recordId: string,
    request: { destroyedDate: string; method: string; witnesses: readonly string[] },
    sign: DestructionSigner,
  ): Promise<{ record: WeaponRecord; certificate: DestructionCertificate }> {
    checkRecordId(recordId);
    return this.#locks.run(recordId, async () => {
      const found = await this.#load(recordId);
      if (!found) throw notFound(recordId);
      const was = found.record.destruction;
      if (was?.state !== DestructionState.DESTRUCTION_STATE_PENDING)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_ILLEGAL_TRANSITION,
          was?.state === DestructionState.DESTRUCTION_STATE_DESTROYED
            ? `record ${recordId} was destroyed already on ${was.destroyedDate} (certificate ${was.certificateId})`
            : `record ${recordId} is not designated for destruction: designate it first (tracenet records designate ${recordId} --date YYYY-MM-DD)`,
          { field: 'record_id', rule: 'pending_destruction' },
        );
      if (request.destroyedDate < was.designatedDate)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          `the weapon was designated for destruction on ${was.designatedDate}; it cannot have been destroyed before, on ${request.destroyedDate}`,
          { field: 'destroyed_date', rule: 'chronological' },
        );
      const lastEvent = found.record.events.at(-1)?.date ?? '';
      if (request.destroyedDate < lastEvent)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          `the record has an event of ${lastEvent}, after ${request.destroyedDate}: events are in the order they happened`,
          { field: 'destroyed_date', rule: 'chronological' },
        );
      const now = this.#clock.now();
      const { certificate, certificateId } = sign(found.record, request, now);
      const record: WeaponRecord = {
        ...found.record,
        status: WeaponStatus.WEAPON_STATUS_DESTROYED,
        destruction: {
          ...was,
          state: DestructionState.DESTRUCTION_STATE_DESTROYED,
          destroyedDate: request.destroyedDate,
          method: request.method,
          witnesses: [...request.witnesses],
          certificateId,
        },
        events: [
          ...found.record.events,
          {
            type: WeaponEventType.WEAPON_EVENT_TYPE_DESTROYED,
            date: request.destroyedDate,
            place: '',
            agency: '',
            destination: '',
            origin: '',
            licence: '',
            endUser: '',
            details: `${request.method}; certificate ${certificateId}`.slice(0, 2000),
            circumstance: 0,
            undertaking: undefined,
          },
        ],
      };
      const violations = recordViolations(record, { nowMs: now });
      if (violations.length > 0) throw violationError(violations, 'the destruction cannot be recorded');
      const encoded = Buffer.from(DestructionCertificate.encode(certificate).finish()).toString('base64');
      const prepared = this.#prepare(record, { ...found.stored, certificate: encoded }, record.recordedAtMs, now);
      await this.#journal.write(prepared.operations, [
        {
          type: 'record.destroyed',
          fields: {
            recordId,
            certificateId,
            destroyedDate: request.destroyedDate,
            witnesses: request.witnesses.length,
            certificateDigest: blake2b256(CERT_DIGEST_DOMAIN, certificate.body, certificate.signature).toString('hex'),
          },
        },
      ]);
      this.#logger.info({ recordId, certificateId }, 'destruction recorded');
      return { record: prepared.record, certificate };
    });
  }

  /** The destruction certificate kept with a destroyed record of this store, or undefined. */
  async certificate(recordId: string): Promise<DestructionCertificate | undefined> {
    checkRecordId(recordId);
    const found = await this.#load(recordId);
    if (!found) throw notFound(recordId);
    const kept = found.stored.certificate;
    return kept === undefined ? undefined : DestructionCertificate.decode(Buffer.from(kept, 'base64'));
  }

  /** Audit entry and node event of a destroyed weapon that a new version shows seized, found or surrendered again (19.5). */
  #recirculation(
    previous: WeaponRecord | undefined,
    record: WeaponRecord,
    now: number,
  ): { audit: AuditEvent[]; events: NodeEventInput[] } {
    const seen = recirculatedEvents(previous, record);
    const first = seen[0];
    if (!first) return { audit: [], events: [] };
    const finding = recirculationOfRecord(record, first, now);
    this.#logger.warn({ recordId: record.recordId }, 'a weapon recorded as destroyed turned up again');
    return {
      audit: [
        {
          type: 'recirculation.flagged',
          fields: {
            recordId: record.recordId,
            seenIn: finding.seenIn,
            seenDate: finding.seenDate,
            destroyedDate: finding.destroyedDate,
            certificateId: finding.certificateId,
          },
        },
      ],
      events: [
        {
          type: NodeEventType.NODE_EVENT_TYPE_RECIRCULATION_FLAGGED,
          caseId: '',
          traceId: '',
          peer: '',
          state: 0,
          messageId: '',
          summary: `record ${record.recordId}, destroyed on ${finding.destroyedDate}, was recorded ${eventWord(first.type)} on ${finding.seenDate}`,
        },
      ],
    };
  }

  /**
   * Reads the records-of-interest index for a lookup: every entry whose normalised serial is
   * `serial` (`exact`), or starts with `serial` (a wildcard query's literal prefix, possibly
   * empty), and that `accept` takes — one entry per record, at most `limit`, reading at most
   * {@link MAX_INTEREST_SCAN} entries. The matching rules themselves are the lookup's
   * (node/src/lookup/matcher.ts).
   */
  async findInterest(
    scan: { serial: string; exact: boolean },
    accept: (entry: InterestEntry) => boolean,
    limit: number,
  ): Promise<InterestEntry[]> {
    const prefix = scan.exact ? `s${SEP}${scan.serial}${SEP}` : `s${SEP}${scan.serial}`;
    const found = new Map<string, InterestEntry>();
    let read = 0;
    for await (const [key, entry] of this.#store.records.interest.entries({ gte: prefix })) {
      if (!key.startsWith(prefix) || read >= MAX_INTEREST_SCAN) break;
      read += 1;
      if (!('serial' in entry)) continue;
      if (!found.has(entry.recordId) && accept(entry)) found.set(entry.recordId, entry);
      if (found.size >= limit) break;
    }
    return [...found.values()];
  }

  /**
   * The opaque reference of a record of another registry (its id does not start with `rec_`),
   * given to peers in its hits instead of the registry's key (docs/protocol.md 13.2): made of 16
   * random bytes at its first use and kept, with the pointer that resolves it
   * ({@link recordIdOfReference}), before the caller answers with it — so it stays the same for
   * the record, across reports, withdrawals and restarts.
   */
  async registryReference(recordId: string): Promise<string> {
    checkRegistryId(recordId);
    return this.#locks.run(recordId, async () => {
      const kept = await this.#registryState(recordId);
      if (kept) return kept.reference;
      const reference = newReference();
      const { interest } = this.#store.records;
      await this.#journal.write(
        [
          interest.put(registryKey(recordId), { recordId, reference }),
          interest.put(referenceKey(reference), { recordId }),
        ],
        [],
      );
      return reference;
    });
  }

  /**
   * The report an officer of this node made on a record of another registry, or undefined
   * ({@link reportRegistryRecord}).
   */
  async registryReport(recordId: string): Promise<InterestReport | undefined> {
    const report = (await this.#registryState(recordId))?.report;
    return report === undefined ? undefined : { ...report };
  }

  /**
   * Reports a record of another registry (a `pg_…` record, read by the caller from its adapter)
   * as lost, stolen, trafficked or smuggled: the node keeps the report as its own layer over the
   * registry, keyed by the record id, with records-of-interest index entries built from the
   * record's identity as it is now (docs/protocol.md 13.2) — lookups then hit it like a record of
   * the node's own store. Replaces an earlier report of this node; the registry is never written.
   * Validated as {@link report}; audited as `record.reported` in the same batch. Returns the
   * record with the report as its `interest`.
   */
  async reportRegistryRecord(record: WeaponRecord, report: InterestReport): Promise<WeaponRecord> {
    const recordId = record.recordId;
    checkRegistryId(recordId);
    const violations = interestViolations(report, { prefix: 'report', nowMs: this.#clock.now() });
    if (violations.length > 0) throw violationError(violations, 'the report is not valid');
    return this.#locks.run(recordId, async () => {
      const kept = await this.#registryState(recordId);
      const reference = kept?.reference ?? newReference();
      const entries = interestEntriesOf(record, reference, report);
      const interestKeys = entries.map((e) => interestKey(e.serial, recordId));
      const { interest } = this.#store.records;
      const operations: Operation[] = [
        ...(kept?.interestKeys ?? []).filter((key) => !interestKeys.includes(key)).map((key) => interest.del(key)),
        ...entries.map((entry) => interest.put(interestKey(entry.serial, recordId), entry)),
        interest.put(referenceKey(reference), { recordId }),
        interest.put(registryKey(recordId), {
          recordId,
          reference,
          report: {
            category: report.category,
            date: report.date,
            agency: report.agency,
            reference: report.reference,
            contactPoint: report.contactPoint,
          },
          interestKeys,
        }),
      ];
      await this.#journal.write(operations, [
        {
          type: 'record.reported',
          fields: {
            recordId,
            category: categoryName(report.category),
            reference,
            replaced: kept?.report !== undefined,
          },
        },
      ]);
      this.#logger.info(
        { recordId, category: categoryName(report.category) },
        'registry record reported as of interest by this node',
      );
      return { ...record, interest: { ...report } };
    });
  }

  /**
   * Withdraws this node's report on a record of another registry ({@link reportRegistryRecord}):
   * its index entries go, its reference stays (a later report or a hit on the registry's own
   * report gives the same one). Without such a report nothing is written. Audited as
   * `record.report_cleared`. A report the registry itself holds is not touched: it is withdrawn
   * in the registry. Returns whether a report was withdrawn.
   */
  async clearRegistryReport(recordId: string): Promise<boolean> {
    checkRegistryId(recordId);
    return this.#locks.run(recordId, async () => {
      const kept = await this.#registryState(recordId);
      if (kept?.report === undefined) return false;
      const { interest } = this.#store.records;
      await this.#journal.write(
        [
          ...(kept.interestKeys ?? []).map((key) => interest.del(key)),
          interest.put(registryKey(recordId), { recordId, reference: kept.reference }),
        ],
        [{ type: 'record.report_cleared', fields: { recordId, reference: kept.reference } }],
      );
      this.#logger.info({ recordId }, "this node's report on a registry record withdrawn");
      return true;
    });
  }

  async #registryState(recordId: string): Promise<RegistryInterestRecord | undefined> {
    const value = await this.#store.records.interest.get(registryKey(recordId));
    return value !== undefined && 'reference' in value && !('serial' in value) ? value : undefined;
  }

  /** The record id a reference of a record of interest names, or undefined. */
  async recordIdOfReference(reference: string): Promise<string | undefined> {
    return (await this.#store.records.interest.get(referenceKey(reference)))?.recordId;
  }

  /** The first day a record may be deleted and why (NOT_FOUND when absent). */
  async retention(recordId: string): Promise<{ deletableFrom: string; reason: string }> {
    checkRecordId(recordId);
    const found = await this.#load(recordId);
    if (!found) throw notFound(recordId);
    const { untilMs, reason } = this.#retention(found.record, found.stored);
    return { deletableFrom: retentionDate(untilMs), reason };
  }

  /**
   * Records with an indexed serial (the manufacture serial or the control component's, 11.2) that
   * `serial` matches — equal, or its wildcard pattern (13.4) — whatever their manufacturer: the
   * built-in adapter's part of a registry search (node/src/registry). An exact serial reads its
   * own index range, a pattern the range of its literal prefix (every entry when it starts with a
   * wildcard), reading at most {@link MAX_SERIAL_SCAN} entries. One record once, at most `limit`.
   */
  async bySerial(serial: SerialPattern, limit: number): Promise<WeaponRecord[]> {
    const prefix = serial.partial ? serial.prefix : serial.pattern + SEP;
    const ids = new Set<string>();
    // Bounded above, so that the iterator does not read ahead past the prefix (most lookups find
    // one key; an open-ended iterator fetched a whole batch of the keys after it).
    const range = prefix === '' ? {} : { lt: afterPrefix(prefix) };
    // The store reads keys in batches: an exact serial's few keys come back from one call into
    // LevelDB, which also learns there that the range has ended (key by key took two calls for
    // one key). The limit stops a wildcard scan after MAX_SERIAL_SCAN keys.
    for await (const key of this.#store.records.serials.keys({ gte: prefix, ...range, limit: MAX_SERIAL_SCAN })) {
      if (ids.size >= limit) break;
      const at = key.indexOf(SEP);
      if (serial.test(key.slice(0, at))) ids.add(key.slice(at + 1));
    }
    return this.#loadAll([...ids]);
  }

  /**
   * The id of a record stored before `beforeMs` (its `recorded_at_ms`) with the same content as
   * `record` — every field but the id and the times the node sets — found through its indexed
   * serials; undefined when none. An import does not write such a row again, so that importing
   * the same file twice creates no duplicates (docs/records.md 5).
   */
  async sameAs(record: WeaponRecord, beforeMs: number): Promise<string | undefined> {
    const content = contentKey(record);
    for (const serial of indexedSerials(record)) {
      const prefix = serial + SEP;
      const ids: string[] = [];
      for await (const key of this.#store.records.serials.keys({ gte: prefix, lt: afterPrefix(prefix), limit: 100 }))
        ids.push(key.slice(prefix.length));
      for (const stored of await this.#loadAll(ids))
        if (stored.recordedAtMs < beforeMs && contentKey(stored) === content) return stored.recordId;
    }
    return undefined;
  }

  /** Whether any record is stored (an import into an empty store has nothing to compare rows with). */
  async holdsAny(): Promise<boolean> {
    for await (const _ of this.#records.keys({ limit: 1 })) return true;
    return false;
  }

  async #loadAll(ids: string[]): Promise<WeaponRecord[]> {
    if (ids.length === 0) return [];
    const records = this.#records;
    // While the store cannot read synchronously (a reopen after a write failure), getMany behaves as reads always did.
    const sync = ids.length <= SYNC_READS ? ids.map((id) => records.getSync(id)) : [];
    const values =
      sync.length > 0 && sync.every((read) => read !== undefined)
        ? sync.map((read) => read?.value)
        : await records.getMany(ids);
    return values.filter((v): v is StoredRecord => v !== undefined).map((v) => decode(v).record);
  }

  async #load(recordId: string): Promise<{ record: WeaponRecord; stored: StoredRecord } | undefined> {
    const value = await this.#records.get(recordId);
    return value === undefined ? undefined : decode(value);
  }

  #validate(record: WeaponRecord, nowMs: number): void {
    const violations = recordViolations(record, { nowMs });
    if (record.interest !== undefined)
      violations.push(...interestViolations(record.interest, { prefix: 'record.interest', nowMs }));
    if (violations.length > 0) throw violationError(violations);
  }

  #retention(
    record: WeaponRecord,
    stored: StoredRecord | undefined,
  ): { untilMs: number; reason: string; rule?: Retention['rule'] } {
    const computed = retentionOf(record);
    if (stored && stored.retainUntilMs > computed.untilMs)
      return {
        untilMs: stored.retainUntilMs,
        reason: `${stored.retainReason} (an earlier version of the record; changes never shorten retention)`,
      };
    return computed;
  }

  /** The operations that store `input` in place of `previous`, with the node-set fields filled in. */
  #prepare(
    input: WeaponRecord,
    previous: StoredRecord | undefined,
    recordedAtMs: number | undefined,
    now: number,
  ): { record: WeaponRecord; stored: StoredRecord; operations: Operation[] } {
    const record: WeaponRecord = {
      ...input,
      recordId: input.recordId || newRecordId(),
      recordedAtMs: recordedAtMs ?? now,
      updatedAtMs: now,
    };
    const id = record.recordId;
    const serials = indexedSerials(record);
    const serialKeys = serials.map((s) => s + SEP + id);
    const retention = this.#retention(record, previous);
    const interest = isOfInterest(record.interest) ? record.interest : undefined;
    // A weapon recorded as destroyed is matched by lookups too (19.5): it is indexed as if of interest.
    const destroyed =
      record.destruction?.state === DestructionState.DESTRUCTION_STATE_DESTROYED ? record.destruction : undefined;
    const indexed = interest !== undefined || destroyed !== undefined;
    const reference = indexed ? (previous?.reference ?? newReference()) : '';
    const interestKeys =
      indexed && reference ? [...serials.map((s) => interestKey(s, id)), referenceKey(reference)] : [];
    const encoded = encodeRecord(record);
    const stored: StoredRecord = {
      v: 1,
      // A view of the encoder's bytes, not a copy: base64 reads them once.
      record: Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('base64'),
      retainUntilMs: retention.untilMs,
      retainReason: retention.reason,
      serialKeys,
      ...(indexed ? { interestKeys, reference } : {}),
      ...(previous?.certificate === undefined ? {} : { certificate: previous.certificate }),
    };
    const { records, serials: serialIndex, identities, interest: interestIndex } = this.#store.records;
    const operations: Operation[] = [];
    if (previous) {
      for (const key of previous.serialKeys) if (!serialKeys.includes(key)) operations.push(serialIndex.del(key));
      for (const key of previous.identityKeys ?? []) operations.push(identities.del(key));
      for (const key of previous.interestKeys ?? [])
        if (!interestKeys.includes(key)) operations.push(interestIndex.del(key));
    }
    operations.push(records.put(id, stored));
    for (const key of serialKeys) operations.push(serialIndex.put(key, { recordId: id }));
    if (indexed && reference) {
      for (const entry of interestEntriesOf(record, reference, interest ?? NO_REPORT)) {
        const marked = destroyed
          ? { ...entry, destroyedDate: destroyed.destroyedDate, certificateId: destroyed.certificateId }
          : entry;
        operations.push(interestIndex.put(interestKey(entry.serial, id), marked));
      }
      operations.push(interestIndex.put(referenceKey(reference), { recordId: id }));
    }
    return { record, stored, operations };
  }

  async #withLocks<T>(ids: readonly string[], work: () => Promise<T>): Promise<T> {
    const [first, ...rest] = ids;
    if (first === undefined) return work();
    return this.#locks.run(first, () => this.#withLocks(rest, work));
  }
}
