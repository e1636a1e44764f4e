import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { TracenetError } from '@tracenet/proto';
import type { Journal } from '../audit/audit-log.js';
import { type AliasKind, AliasTable, parseAliasCsv } from '../records/alias-table.js';
import { defaultCalibreAliases } from '../records/calibre-aliases.js';

/**
 * The node's alias tables (docs/protocol.md 13.5): manufacturers, kept in `<data>/aliases.csv`,
 * and calibres, kept in `<data>/calibre-aliases.csv` (the node's default calibre table,
 * {@link defaultCalibreAliases}, while there is none). Read at start, replaced by
 * {@link AliasTables.load} (the `LoadAliases` call, `tracenet records aliases load [--calibres]`),
 * which checks the new table, writes the file (aside, then renamed) and audits `aliases.loaded`.
 * Identity searches, automatic answers and lookups read {@link AliasTables.table} on every query,
 * so a new table applies at once.
 *
 * @example
 * ```ts
 * const aliases = new AliasTables({ path: join(dataDir, 'aliases.csv'), calibrePath: join(dataDir, 'calibre-aliases.csv'), journal, logger });
 * await aliases.init();
 * aliases.table.canonical('H&K'); // 'heckler koch' once a table with that row is loaded
 * aliases.table.canonicalCalibre('.30-06 Springfield'); // '.30-06' (the default calibre table)
 * ```
 */
export class AliasTables {
  #manufacturers: AliasTable = AliasTable.EMPTY;
  #calibres: AliasTable = defaultCalibreAliases();
  #table: AliasTable = AliasTable.EMPTY.withCalibres(this.#calibres);

  constructor(private readonly deps: { path: string; calibrePath: string; journal: Journal; logger: Logger }) {}

  /** The tables in force: the manufacturer table with the calibre table's calibres. */
  get table(): AliasTable {
    return this.#table;
  }

  /** Reads the files that exist. A file that is not a valid table stops the start. */
  async init(): Promise<void> {
    const manufacturers = await this.#read(this.deps.path, 'manufacturer');
    const calibres = await this.#read(this.deps.calibrePath, 'calibre');
    if (manufacturers) this.#manufacturers = manufacturers;
    if (calibres) this.#calibres = calibres;
    this.#table = this.#manufacturers.withCalibres(this.#calibres);
    this.deps.logger.info(
      {
        names: this.#manufacturers.names,
        aliases: this.#manufacturers.aliases,
        calibres: this.#calibres.names,
        calibreTable: calibres ? 'file' : 'default',
      },
      'alias tables loaded',
    );
  }

  async #read(path: string, kind: AliasKind): Promise<AliasTable | undefined> {
    let text: Buffer;
    try {
      text = await readFile(path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw cause;
    }
    try {
      return parseAliasCsv(text, kind);
    } catch (cause) {
      const failure = TracenetError.from(cause);
      throw new TracenetError(failure.code, `${path}: ${failure.message}`, {
        field: failure.field,
        rule: failure.rule,
        violations: failure.violations,
        cause,
      });
    }
  }

  /**
   * Replaces the manufacturer table, or with `kind` `calibre` the calibre table, with the CSV
   * given; on any problem nothing changes. Loads run one at a time, so that concurrent loads cannot
   * move each other's file aside (the last one wins). Returns the table loaded.
   */
  load(csv: Uint8Array, kind: AliasKind = 'manufacturer'): Promise<AliasTable> {
    const run = this.#loading.then(() => this.#load(csv, kind));
    this.#loading = run.catch(() => undefined);
    return run;
  }

  #loading: Promise<unknown> = Promise.resolve();

  async #load(csv: Uint8Array, kind: AliasKind): Promise<AliasTable> {
    const table = parseAliasCsv(csv, kind);
    const path = kind === 'calibre' ? this.deps.calibrePath : this.deps.path;
    const aside = `${path}.tmp`;
    await writeFile(aside, csv, { mode: 0o600 });
    await this.deps.journal.write(
      [],
      [
        {
          type: 'aliases.loaded',
          fields: { kind, names: table.names, aliases: table.aliases, digest: table.digest },
        },
      ],
    );
    await rename(aside, path);
    if (kind === 'calibre') this.#calibres = table;
    else this.#manufacturers = table;
    this.#table = this.#manufacturers.withCalibres(this.#calibres);
    this.deps.logger.info({ kind, names: table.names, aliases: table.aliases }, 'alias table replaced');
    return table;
  }
}
