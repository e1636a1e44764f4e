import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { TracenetError } from '@tracenet/proto';
import type { Journal } from '../audit/audit-log.js';
import { AliasTable, parseAliasCsv } from '../records/alias-table.js';

/**
 * The node's manufacturer alias table, kept in `<data>/aliases.csv`: read at start, replaced by
 * {@link ManufacturerAliases.load} (the `LoadAliases` call, `tracenet records aliases load`),
 * which checks the new table, writes the file (aside, then renamed) and audits `aliases.loaded`.
 * Lookups read {@link ManufacturerAliases.table} on every query, so a new table applies at once.
 *
 * @example
 * ```ts
 * const aliases = new ManufacturerAliases({ path: join(dataDir, 'aliases.csv'), journal, logger });
 * await aliases.init();
 * aliases.table.canonical('H&K'); // 'heckler koch' once a table with that row is loaded
 * ```
 */
export class ManufacturerAliases {
  #table: AliasTable = AliasTable.EMPTY;

  constructor(private readonly deps: { path: string; journal: Journal; logger: Logger }) {}

  /** The table in force. */
  get table(): AliasTable {
    return this.#table;
  }

  /** Reads `<data>/aliases.csv` when it exists. A file that is not a valid table stops the start. */
  async init(): Promise<void> {
    let text: Buffer;
    try {
      text = await readFile(this.deps.path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw cause;
    }
    try {
      this.#table = parseAliasCsv(text);
    } catch (cause) {
      const failure = TracenetError.from(cause);
      throw new TracenetError(failure.code, `${this.deps.path}: ${failure.message}`, {
        field: failure.field,
        rule: failure.rule,
        violations: failure.violations,
        cause,
      });
    }
    this.deps.logger.info({ names: this.#table.names, aliases: this.#table.aliases }, 'manufacturer aliases loaded');
  }

  /**
   * Replaces the table with the CSV given; on any problem nothing changes. Loads run one at a
   * time, so that concurrent loads cannot move each other's file aside (the last one wins).
   */
  load(csv: Uint8Array): Promise<AliasTable> {
    const run = this.#loading.then(() => this.#load(csv));
    this.#loading = run.catch(() => undefined);
    return run;
  }

  #loading: Promise<unknown> = Promise.resolve();

  async #load(csv: Uint8Array): Promise<AliasTable> {
    const table = parseAliasCsv(csv);
    const aside = `${this.deps.path}.tmp`;
    await writeFile(aside, csv, { mode: 0o600 });
    await this.deps.journal.write(
      [],
      [{ type: 'aliases.loaded', fields: { names: table.names, aliases: table.aliases, digest: table.digest } }],
    );
    await rename(aside, this.deps.path);
    this.#table = table;
    this.deps.logger.info({ names: table.names, aliases: table.aliases }, 'manufacturer aliases replaced');
    return table;
  }
}
