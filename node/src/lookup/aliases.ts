import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import type { Journal } from '../audit/audit-log.js';
import { type AliasKind, type AliasRow, AliasTable, parseAliasCsv } from '../records/alias-table.js';
import { normaliseCalibre, normaliseName } from '../records/normalise.js';
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

  /**
   * The rows of the manufacturer table (with `kind` `calibre`, the calibre table) one of whose
   * spellings begins with `prefix`, compared in its name form (calibre form), in the table's order,
   * at most `limit` (1 to {@link MAX_SUGGESTIONS}). `prefix` is plain text: `*`, `?` and `%` are
   * characters like any other. Throws INVALID_FIELD for a prefix longer than
   * {@link MAX_SUGGEST_PREFIX} characters (`prefix`, `max_length`), with a control character
   * (`prefix`, `control_character`), or a limit above {@link MAX_SUGGESTIONS} (`limit`, `range`).
   */
  suggest(kind: AliasKind, prefix: string, limit: number): AliasRow[] {
    checkSuggestion(prefix, limit);
    const table = kind === 'calibre' ? this.#calibres : this.#manufacturers;
    const wanted = prefix.trim() === '' ? '' : kind === 'calibre' ? normaliseCalibre(prefix) : normaliseName(prefix);
    const found: AliasRow[] = [];
    // A prefix of punctuation only ("*", "%") has an empty name form: it names nothing.
    if (wanted === '' && prefix.trim() !== '') return found;
    for (const row of table.rows) {
      if (found.length >= (limit || DEFAULT_SUGGESTIONS)) break;
      if (row.forms.some((form) => form.startsWith(wanted))) found.push(row);
    }
    return found;
  }

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

/** Longest prefix SearchAliases takes. */
export const MAX_SUGGEST_PREFIX = 100;
/** Most names SearchAliases returns. */
export const MAX_SUGGESTIONS = 20;
const DEFAULT_SUGGESTIONS = 10;
const CONTROL = /\p{Cc}/u;

function checkSuggestion(prefix: string, limit: number): void {
  const invalid = (field: string, rule: string, message: string) =>
    new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, message, { field, rule });
  if (prefix.length > MAX_SUGGEST_PREFIX)
    throw invalid('prefix', 'max_length', `the prefix is longer than ${MAX_SUGGEST_PREFIX} characters`);
  if (CONTROL.test(prefix)) throw invalid('prefix', 'control_character', 'the prefix has a control character');
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_SUGGESTIONS)
    throw invalid('limit', 'range', `limit must be 0 to ${MAX_SUGGESTIONS}`);
}
