import { createReadStream, type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, type FieldViolation, TracenetError, type WeaponRecord } from '@tracenet/proto';
import type { Logger } from 'pino';
import { blake2b256, domain } from '../crypto/sodium.js';
import type { SerialPattern } from '../records/serial-pattern.js';
import { importRecords, type RejectedRow } from '../records/import.js';
import { indexedSerials, normaliseName } from '../records/normalise.js';
import type { Scheduler, Timer } from '../util/scheduler.js';
import {
  heldIncomplete,
  heldSerials,
  isIncomplete,
  type RegistryAdapter,
  type RegistryEntry,
  type UnreadableRow,
} from './adapter.js';

const IDS_DOMAIN = domain('tracenet.v1/csv-registry-ids');
/** Quiet time after the last change in the folder before it is read again. */
const DEFAULT_RELOAD_DELAY_MS = 500;

/** What the CSV folder adapter needs. */
export interface CsvFolderOptions {
  /** The folder of `*.csv` files (not its subfolders), in the import format of docs/records.md 5.1. */
  readonly folder: string;
  /** Time, and the quiet time before a reload. */
  readonly clock: Scheduler;
  readonly logger: Logger;
  /** Read the folder again after it changes (default true). */
  readonly watch?: boolean;
  readonly reloadDelayMs?: number;
}

/** The records of one reading of the folder. */
interface Snapshot {
  readonly byId: ReadonlyMap<string, RegistryEntry>;
  readonly bySerial: ReadonlyMap<string, readonly RegistryEntry[]>;
  /** Keys of `bySerial`, sorted: wildcard serials scan the range of their literal prefix. */
  readonly serials: readonly string[];
  /** Every row, file by file: what {@link CsvFolderAdapter.scan} visits. */
  readonly rows: readonly (RegistryEntry | UnreadableRow)[];
}

const EMPTY: Snapshot = { byId: new Map(), bySerial: new Map(), serials: [], rows: [] };

/** The serials an entry is indexed by. */
function entrySerials(entry: RegistryEntry): string[] {
  return isIncomplete(entry) ? heldSerials(entry) : indexedSerials(entry);
}

/**
 * A read-only folder of CSV exports of a registry (docs/integration.md): every `*.csv` file in the
 * folder, in the column format of record imports (docs/records.md 5.1), read into memory at open
 * and again whenever the folder changes. A row that breaks the record rules is kept as a weapon
 * held but incomplete (its identity as read, the problems with their CSV column), found by its
 * serial like a record, and logged with its file and line (never its content); a row without any
 * serial cannot be found and is only counted ({@link scan}). The CSV format has no columns for
 * reports of loss or theft: records of this adapter have no `interest`. Record ids are `csv_` and 22 characters
 * derived from the file name and the row's identity, so they stay the same when rows move or the
 * folder is read again. Meant for registries of up to a few hundred thousand weapons; larger ones
 * belong in a database.
 */
export class CsvFolderAdapter implements RegistryAdapter {
  readonly kind = 'csv';
  readonly idPrefix = 'csv_';
  readonly #options: CsvFolderOptions;
  readonly #logger: Logger;
  #snapshot: Snapshot = EMPTY;
  #problem: string | undefined;
  #watcher: FSWatcher | undefined;
  #timer: Timer | undefined;
  #loading: Promise<void> = Promise.resolve();

  constructor(options: CsvFolderOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'csv-registry' });
  }

  /** Reads the folder; INVALID_FIELD (`registry.csv.folder`) when it is not a readable folder. */
  async open(): Promise<void> {
    const info = await stat(this.#options.folder).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `${this.#options.folder} is not a folder (configuration key registry.csv.folder)`,
        {
          field: 'registry.csv.folder',
          rule: 'folder',
        },
      );
    }
    await this.reload();
    if (this.#options.watch ?? true) {
      this.#watcher = watch(this.#options.folder, () => this.#scheduleReload());
      this.#watcher.on('error', (error) => {
        this.#problem = `watching the folder failed: ${error.message}`;
      });
    }
  }

  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#timer?.cancel();
    await this.#loading;
  }

  async check(): Promise<void> {
    if (this.#problem !== undefined)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_UNAVAILABLE,
        `CSV registry ${this.#options.folder}: ${this.#problem}`,
      );
  }

  /** Reads every file again and swaps the records in at once; queries meanwhile see the previous reading. */
  reload(): Promise<void> {
    this.#loading = this.#loading.then(() => this.#load());
    return this.#loading;
  }

  async findBySerial(serial: SerialPattern, limit: number): Promise<RegistryEntry[]> {
    const { bySerial, serials } = this.#snapshot;
    const found = new Map<string, RegistryEntry>();
    const add = (records: readonly RegistryEntry[] | undefined) => {
      for (const record of records ?? []) if (found.size < limit) found.set(record.recordId, record);
    };
    if (!serial.partial) add(bySerial.get(serial.pattern));
    else {
      for (let i = lowerBound(serials, serial.prefix); i < serials.length && found.size < limit; i += 1) {
        const key = serials[i] as string;
        if (!key.startsWith(serial.prefix)) break;
        if (serial.test(key)) add(bySerial.get(key));
      }
    }
    return [...found.values()];
  }

  async get(recordId: string): Promise<RegistryEntry | undefined> {
    return this.#snapshot.byId.get(recordId);
  }

  /** Every row of the last reading, file by file in name order; unreadable rows keyed `file:line`, or the file's name when it could not be read. */
  async scan(visit: (entry: RegistryEntry | UnreadableRow) => void | Promise<void>): Promise<void> {
    for (const row of this.#snapshot.rows) await visit(row);
  }

  #scheduleReload(): void {
    this.#timer?.cancel();
    this.#timer = this.#options.clock.setTimeout(
      () => void this.reload(),
      this.#options.reloadDelayMs ?? DEFAULT_RELOAD_DELAY_MS,
    );
  }

  async #load(): Promise<void> {
    const started = Date.now();
    let names: string[];
    try {
      names = (await readdir(this.#options.folder, { withFileTypes: true }))
        .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.csv'))
        .map((e) => e.name)
        .sort();
    } catch (error) {
      this.#problem = `the folder cannot be read: ${(error as Error).message}`;
      this.#logger.error(
        { folder: this.#options.folder, err: error },
        'CSV registry folder unreadable; keeping the records read before',
      );
      return;
    }
    const byId = new Map<string, RegistryEntry>();
    const rows: (RegistryEntry | UnreadableRow)[] = [];
    let rejected = 0;
    /** Files whose rows were not all read (a header or a quote that cannot be read): their weapons cannot be found. */
    const unread: string[] = [];
    for (const name of names) {
      const occurrences = new Map<string, number>();
      /** `csv_` and 22 characters of the file name and the row's identity (and how often it came before). */
      const idOf = (input: WeaponRecord) => {
        const identity = [normaliseName(input.manufacture?.manufacturer ?? ''), ...indexedSerials(input)].join('\0');
        const seen = occurrences.get(identity) ?? 0;
        occurrences.set(identity, seen + 1);
        return `csv_${blake2b256(IDS_DOMAIN, Buffer.from(`${name}\0${identity}\0${seen}`))
          .toString('base64url')
          .slice(0, 22)}`;
      };
      const held = (row: RejectedRow) => {
        const problems: FieldViolation[] = row.violations.map((v) => ({
          field: v.field,
          rule: v.rule,
          message: `column "${row.fieldName(v.field)}": ${v.message}`,
        }));
        const input = row.record;
        if (!input && row.violations.some((v) => v.rule === 'csv')) unread.push(name);
        if (!input || indexedSerials(input).length === 0) {
          rows.push({ unreadable: true, key: `${name}:${row.line}`, problems });
          return;
        }
        // A CSV folder carries no reports: `interest` stays unset.
        const entry = heldIncomplete({ ...input, recordId: idOf(input), interest: undefined }, problems, this.kind);
        byId.set(entry.recordId, entry);
        rows.push(entry);
      };
      try {
        const summary = await importRecords(createReadStream(join(this.#options.folder, name)), {
          format: 'csv',
          nowMs: this.#options.clock.now(),
          maxReportedErrors: 100,
          onRejected: held,
          records: {
            get: async () => undefined,
            putMany: async (records) =>
              records.map((input) => {
                const record: WeaponRecord = { ...input, recordId: idOf(input) };
                byId.set(record.recordId, record);
                rows.push(record);
                return { record, created: true };
              }),
          },
        });
        rejected += summary.rowsRejected;
        for (const error of summary.errors)
          this.#logger.warn(
            { file: name, line: error.line, field: error.field },
            'CSV registry row held but incomplete: it breaks the record rules',
          );
      } catch (error) {
        const failure = TracenetError.from(error);
        this.#logger.error(
          { file: name, field: failure.field, rule: failure.rule },
          `CSV registry file left out: ${failure.message}`,
        );
        rejected += 1;
        unread.push(name);
        rows.push({
          unreadable: true,
          key: name,
          problems: [{ field: failure.field || 'file', rule: failure.rule || 'csv', message: failure.message }],
        });
      }
    }
    const bySerial = new Map<string, RegistryEntry[]>();
    for (const record of byId.values()) {
      for (const serial of entrySerials(record)) {
        const list = bySerial.get(serial);
        if (list) list.push(record);
        else bySerial.set(serial, [record]);
      }
    }
    this.#snapshot = { byId, bySerial, serials: [...bySerial.keys()].sort(), rows };
    // The registry is not complete then: check() fails, so health shows it and no automatic "no record" is given.
    this.#problem =
      unread.length === 0
        ? undefined
        : `${unread.length} file(s) not read in full, whose weapons cannot be found: ${unread.slice(0, 5).join(', ')}`;
    this.#logger.info(
      { files: names.length, entries: byId.size, rejected, ms: Date.now() - started },
      'CSV registry read',
    );
  }
}

/** Index of the first element of sorted `list` that is not below `key`. */
function lowerBound(list: readonly string[], key: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((list[mid] as string) < key) low = mid + 1;
    else high = mid;
  }
  return low;
}
