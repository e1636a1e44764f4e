import { parse as parseCsv } from 'csv-parse/sync';
import { ErrorCode, type FieldViolation, TracenetError } from '@tracenet/proto';
import { blake2b256, domain } from '../crypto/sodium.js';
import { type NameAliases, normaliseCalibre, normaliseName } from './normalise.js';

/** Largest alias file accepted: 1 MiB. */
export const MAX_ALIAS_FILE_BYTES = 1024 * 1024;
/** Most rows (canonical names) of an alias table. */
export const MAX_ALIAS_ROWS = 10_000;
const DOMAINS = {
  manufacturer: domain('tracenet.v1/manufacturer-aliases'),
  calibre: domain('tracenet.v1/calibre-aliases'),
} as const;

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** One row of an alias file as written: the canonical name and its aliases, each with its compared form. */
export interface AliasRow {
  readonly name: string;
  readonly aliases: readonly string[];
  /** The compared form (name form, or calibre form) of the name and of each alias. */
  readonly forms: readonly string[];
}

/**
 * What an alias table names: manufacturers (docs/protocol.md 13.5, compared in their name form) or
 * calibres (compared in their calibre form, 11.2).
 */
export type AliasKind = 'manufacturer' | 'calibre';

/**
 * The alias tables of a node: every spelling of a manufacturer, in its name form (docs/protocol.md
 * 11.2), mapped to the name form of its canonical name, and every designation of a calibre, in its
 * calibre form, mapped to the calibre form of its canonical designation. Immutable; loading a new
 * table replaces the whole one. `names`, `aliases` and `digest` describe the file it was read from.
 *
 * @example
 * ```ts
 * const table = parseAliasCsv('FN Herstal,FN,Fabrique Nationale\n');
 * table.canonical('Fabrique  Nationale'); // 'fn herstal'
 * table.canonical('Glock');               // 'glock' (not in the table: its own name form)
 * table.withCalibres(defaultCalibreAliases()).canonicalCalibre('.30-06 Springfield'); // '.30-06'
 * ```
 */
export class AliasTable implements NameAliases {
  /** Name form of every spelling (canonical names included) → name form of the canonical name. */
  readonly manufacturers: ReadonlyMap<string, string>;
  /** Calibre form of every designation (canonical ones included) → calibre form of the canonical one. */
  readonly calibres: ReadonlyMap<string, string>;
  /** Canonical names in the table. */
  readonly names: number;
  /** Aliases (spellings other than the canonical name) in all. */
  readonly aliases: number;
  /** BLAKE2b-256 (hex) of the file the table was read from; empty for the empty table. */
  readonly digest: string;
  /** The rows of the file the table was read from, as written (what SearchAliases lists); empty when built otherwise. */
  readonly rows: readonly AliasRow[];

  constructor(
    manufacturers: ReadonlyMap<string, string>,
    digest = '',
    calibres: ReadonlyMap<string, string> = new Map(),
    rows: readonly AliasRow[] = [],
  ) {
    this.manufacturers = manufacturers;
    this.calibres = calibres;
    this.rows = rows;
    this.names = new Set(manufacturers.values()).size + new Set(calibres.values()).size;
    this.aliases = manufacturers.size + calibres.size - this.names;
    this.digest = digest;
  }

  /** The name form of the manufacturer that `name` spells: its canonical name when it is in the table. */
  canonical(name: string): string {
    const normal = normaliseName(name);
    return this.manufacturers.get(normal) ?? normal;
  }

  /** The calibre form of the calibre `calibre` designates: its canonical designation when it is in the table. */
  canonicalCalibre(calibre: string): string {
    return normaliseCalibre(calibre, this);
  }

  /** This table's manufacturers with the calibres of `table` (the tables in force of a node). */
  withCalibres(table: AliasTable): AliasTable {
    return new AliasTable(this.manufacturers, this.digest, table.calibres);
  }

  /** A table without aliases: every manufacturer and calibre is only itself. */
  static readonly EMPTY = new AliasTable(new Map());
}

/**
 * Reads an alias table from CSV (docs/protocol.md 13.5): on each line a canonical manufacturer
 * name (or, for `kind` `calibre`, a canonical calibre designation), then its aliases,
 * comma-separated; cells may be double-quoted (RFC 4180); a line whose first character is `#` is a
 * comment; blank lines and empty cells are ignored. Names compare in their name form, so
 * `F.N. Herstal` and `FN Herstal` are one spelling; calibres in their calibre form, so `7,62x39`
 * and `7.62×39mm` are one designation. A spelling that belongs to two canonical names is refused.
 * Throws INVALID_FIELD (field `aliases`) listing every problem with its line number; nothing is
 * loaded then.
 */
export function parseAliasCsv(text: string | Uint8Array, kind: AliasKind = 'manufacturer'): AliasTable {
  const form = kind === 'calibre' ? (calibre: string) => normaliseCalibre(calibre) : normaliseName;
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  if (bytes.length > MAX_ALIAS_FILE_BYTES) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `the alias table is ${bytes.length} bytes; the limit is ${MAX_ALIAS_FILE_BYTES}`,
      { field: 'aliases', rule: 'max_bytes' },
    );
  }
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    rows = parseCsv(bytes.toString('utf8'), {
      bom: true,
      comment: '#',
      comment_no_infix: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  } catch (cause) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `the alias table is not valid CSV: ${(cause as Error).message}`,
      { field: 'aliases', rule: 'csv', cause },
    );
  }
  const violations: FieldViolation[] = [];
  const map = new Map<string, string>();
  /** Line where each spelling was first given. */
  const where = new Map<string, number>();
  let count = 0;
  const written: AliasRow[] = [];
  for (const { record, info } of rows) {
    const names = record.filter((cell) => cell !== '');
    if (names.length === 0) continue;
    const line = info.lines;
    count += 1;
    if (count > MAX_ALIAS_ROWS) {
      violations.push({
        field: `aliases[line ${line}]`,
        rule: 'max_rows',
        message: `an alias table has at most ${MAX_ALIAS_ROWS} names`,
      });
      break;
    }
    const forms = names.map(form);
    const canonical = forms[0] ?? '';
    if (!LETTER_OR_DIGIT.test(canonical)) {
      violations.push({
        field: `aliases[line ${line}]`,
        rule: 'name',
        message: `the canonical name ${JSON.stringify(names[0])} has no letter or digit`,
      });
      continue;
    }
    forms.forEach((spelling, i) => {
      if (!LETTER_OR_DIGIT.test(spelling)) {
        violations.push({
          field: `aliases[line ${line}]`,
          rule: 'name',
          message: `${JSON.stringify(names[i])} has no letter or digit`,
        });
        return;
      }
      const owner = map.get(spelling);
      if (owner !== undefined && owner !== canonical) {
        violations.push({
          field: `aliases[line ${line}]`,
          rule: 'alias_conflict',
          message: `${JSON.stringify(names[i])} (${spelling}) is already a spelling of "${owner}" (line ${where.get(spelling) ?? '?'})`,
        });
        return;
      }
      map.set(spelling, canonical);
      if (!where.has(spelling)) where.set(spelling, line);
    });
    written.push({ name: names[0] ?? '', aliases: names.slice(1), forms });
  }
  if (violations.length > 0) {
    const first = violations[0];
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `the alias table is not valid: ${violations
        .slice(0, 5)
        .map((v) => `${v.field}: ${v.message}`)
        .join('; ')}`,
      {
        field: first?.field ?? 'aliases',
        rule: first?.rule ?? '',
        violations,
      },
    );
  }
  const digest = blake2b256(DOMAINS[kind], bytes).toString('hex');
  return kind === 'calibre'
    ? new AliasTable(new Map(), digest, map, written)
    : new AliasTable(map, digest, new Map(), written);
}
