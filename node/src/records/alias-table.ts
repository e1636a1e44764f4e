import { parse as parseCsv } from 'csv-parse/sync';
import { ErrorCode, type FieldViolation, TracenetError } from '@tracenet/proto';
import { blake2b256, domain } from '../crypto/sodium.js';
import { normaliseName, type NameAliases } from './normalise.js';

/** Largest alias file accepted: 1 MiB. */
export const MAX_ALIAS_FILE_BYTES = 1024 * 1024;
/** Most rows (canonical names) of an alias table. */
export const MAX_ALIAS_ROWS = 10_000;
const ALIASES_DOMAIN = domain('tracenet.v1/manufacturer-aliases');

/**
 * A manufacturer alias table: every spelling, in its name form (docs/protocol.md 11.2), mapped to
 * the name form of its canonical name. Immutable; loading a new table replaces the whole one.
 *
 * @example
 * ```ts
 * const table = parseAliasCsv('FN Herstal,FN,Fabrique Nationale\n');
 * table.canonical('Fabrique  Nationale'); // 'fn herstal'
 * table.canonical('Glock');               // 'glock' (not in the table: its own name form)
 * ```
 */
export class AliasTable implements NameAliases {
  /** Name form of every spelling (canonical names included) → name form of the canonical name. */
  readonly manufacturers: ReadonlyMap<string, string>;
  /** Canonical names in the table. */
  readonly names: number;
  /** Aliases (spellings other than the canonical name) in all. */
  readonly aliases: number;
  /** BLAKE2b-256 (hex) of the file the table was read from; empty for the empty table. */
  readonly digest: string;

  constructor(manufacturers: ReadonlyMap<string, string>, digest = '') {
    this.manufacturers = manufacturers;
    this.names = new Set(manufacturers.values()).size;
    this.aliases = manufacturers.size - this.names;
    this.digest = digest;
  }

  /** The name form of the manufacturer that `name` spells: its canonical name when it is in the table. */
  canonical(name: string): string {
    const normal = normaliseName(name);
    return this.manufacturers.get(normal) ?? normal;
  }

  /** A table without aliases: every manufacturer is only itself. */
  static readonly EMPTY = new AliasTable(new Map());
}

/**
 * Reads an alias table from CSV (docs/protocol.md 13.5): on each line a canonical manufacturer
 * name, then its aliases, comma-separated; cells may be double-quoted (RFC 4180); a line whose
 * first character is `#` is a comment; blank lines and empty cells are ignored. Names compare in
 * their name form, so `F.N. Herstal` and `FN Herstal` are one spelling. A spelling that belongs to
 * two canonical names is refused. Throws INVALID_FIELD (field `aliases`) listing every problem
 * with its line number; nothing is loaded then.
 */
export function parseAliasCsv(text: string | Uint8Array): AliasTable {
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
    const forms = names.map(normaliseName);
    const canonical = forms[0] ?? '';
    if (canonical === '') {
      violations.push({
        field: `aliases[line ${line}]`,
        rule: 'name',
        message: `the canonical name ${JSON.stringify(names[0])} has no letter or digit`,
      });
      continue;
    }
    forms.forEach((form, i) => {
      if (form === '') {
        violations.push({
          field: `aliases[line ${line}]`,
          rule: 'name',
          message: `${JSON.stringify(names[i])} has no letter or digit`,
        });
        return;
      }
      const owner = map.get(form);
      if (owner !== undefined && owner !== canonical) {
        violations.push({
          field: `aliases[line ${line}]`,
          rule: 'alias_conflict',
          message: `${JSON.stringify(names[i])} (${form}) is already a spelling of "${owner}" (line ${where.get(form) ?? '?'})`,
        });
        return;
      }
      map.set(form, canonical);
      if (!where.has(form)) where.set(form, line);
    });
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
  return new AliasTable(map, blake2b256(ALIASES_DOMAIN, bytes).toString('hex'));
}
