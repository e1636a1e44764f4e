import type { Command } from 'commander';
import { type AuditActor, type AuditEntry, ErrorCode, TracenetError } from '@tracenet/proto';
import { connectAuthority } from '../api/authority-client.js';
import {
  AUDIT_PAGE_MAX,
  type AuditEntrySource,
  type AuditPage,
  scanAuditEntries,
  validateAuditQuery,
} from '../audit/audit-query.js';
import { initSodium } from '../crypto/sodium.js';
import { dataPaths, loadIdentity } from '../identity/data-dir.js';
import { scanStore } from '../store/leveldb-files.js';
import { connection, dataOption, jsonOption, output, parseDuration, running } from './context.js';

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A time with its zone: the node's and the officer's clocks may be in different countries. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The instant a `--since` or `--until` value names: a date (`2026-12-05`, UTC: `--since` from its
 * start, `--until` to its end), a time with its zone (`2026-12-05T14:00:00+01:00`), or a duration
 * back from now (`12h`, `7d`). Anything else is INVALID_FIELD naming the flag.
 *
 * @example
 * ```ts
 * parseWhen('until', '2026-12-05', Date.now()); // 2026-12-06T00:00:00Z: the whole 5th included
 * ```
 */
export function parseWhen(flag: 'since' | 'until', text: string, nowMs: number): number {
  const value = text.trim();
  let ms = Number.NaN;
  if (DATE.test(value)) ms = Date.parse(`${value}T00:00:00Z`) + (flag === 'until' ? DAY_MS : 0);
  else if (DATE_TIME.test(value)) ms = Date.parse(value);
  else if (/^\d+(ms|s|m|h|d)$/.test(value)) ms = nowMs - parseDuration(value);
  if (!Number.isFinite(ms) || ms < 0)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `--${flag} takes a date (2026-12-05, UTC), a time with its zone (2026-12-05T14:00:00Z) or a duration back from now (12h, 7d), not "${text}"`,
      { field: flag, rule: 'date' },
    );
  return ms;
}

/** Who an entry names, as an officer reads it. */
export function describeActor(actor: AuditActor | undefined): string {
  if (!actor) return '(before accounts)';
  switch (actor.kind) {
    case 'officer':
      return `officer ${actor.id}${actor.session ? ` (session ${actor.session})` : ''}`;
    case 'client':
      return `client ${actor.id}${actor.session ? ` (key ${actor.session})` : ''}`;
    case 'bootstrap':
      return 'bootstrap token';
    case 'node':
      return 'node';
    default:
      return `${actor.kind} ${actor.id}`.trim();
  }
}

/** An entry's fields as `name=value` pairs. */
function describeFields(fieldsJson: string): string {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(fieldsJson) as Record<string, unknown>;
  } catch {
    return fieldsJson;
  }
  return Object.entries(fields)
    .map(([name, value]) => `${name}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`)
    .join(' ');
}

/** One line per entry: sequence number, time, who, what. */
export function auditLines(entries: readonly AuditEntry[]): string[] {
  if (entries.length === 0) return ['No audit entries match.'];
  return entries.map((e) =>
    [`#${e.seq}`, new Date(e.atMs).toISOString(), describeActor(e.actor), e.type, describeFields(e.fieldsJson)]
      .filter((part) => part !== '')
      .join('  '),
  );
}

/** The store's audit entries read from its files, without opening LevelDB (a stopped node; ADR 0010). */
async function fileEntries(storeDir: string): Promise<AuditEntrySource> {
  const scan = await scanStore(storeDir);
  return async function* () {
    for await (const [key, text] of scan.entries(['!audit!'])) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      yield [key.slice('!audit!'.length), value] as const;
    }
  };
}

interface ListOptions {
  readonly officer?: string;
  readonly client?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit: number;
  readonly cursor?: string;
  readonly all?: boolean;
  readonly data: string;
  readonly json?: boolean;
}

function wholeNumber(flag: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value.trim());
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        `--${flag} must be a whole number from ${min} to ${max}, not "${value}"`,
        { field: flag, rule: 'range' },
      );
    return n;
  };
}

/**
 * Adds `tracenet audit list` to the `audit` command: the entries of the audit log with who each
 * names (docs/operations.md, "Reading the audit log"), filtered by officer, client and time, a page
 * at a time (`--cursor`, `--all`); from the running node's Authority API, or from a stopped node's
 * store files (read-only).
 */
export function registerAuditListCommand(audit: Command): void {
  audit
    .command('list')
    .description(
      'list audit entries with who did each (officer, client, bootstrap token or the node), a page at a time (--all: every page)',
    )
    .option('--officer <id>', "entries of this officer's actions")
    .option('--client <id>', "entries of this client's actions (with --officer: of either)")
    .option(
      '--since <when>',
      'from this date (2026-12-05, UTC), time with zone (2026-12-05T14:00Z) or duration ago (7d)',
    )
    .option('--until <when>', 'before this time; a date includes that whole day (UTC)')
    .option(
      '--limit <n>',
      `at most this many per page (1 to ${AUDIT_PAGE_MAX})`,
      wholeNumber('limit', 1, AUDIT_PAGE_MAX),
      100,
    )
    .option('--cursor <page-token>', 'continue after the previous page (the page token it printed)')
    .option('--all', 'every page, to the end of the log')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: ListOptions) => {
      const now = Date.now();
      const sinceMs = options.since === undefined ? 0 : parseWhen('since', options.since, now);
      const untilMs = options.until === undefined ? 0 : parseWhen('until', options.until, now);
      if (sinceMs > 0 && untilMs > 0 && untilMs <= sinceMs)
        throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, '--until must be later than --since', {
          field: 'until',
          rule: 'after_since',
        });
      const filter = { officerId: options.officer ?? '', clientId: options.client ?? '', sinceMs, untilMs };
      const first = { ...filter, limit: options.limit, cursor: options.cursor ?? '' };
      const { after } = validateAuditQuery(first);
      let page: AuditPage;
      if (await running(options.data)) {
        const { address, token, channel } = await connection(options.data);
        const client = connectAuthority(address, token, channel);
        try {
          const entries: AuditEntry[] = [];
          let cursor = first.cursor;
          // A page of the node may end early (its read budget); the CLI fills its page, or reads to the end with --all.
          for (;;) {
            const limit = options.all ? options.limit : options.limit - entries.length;
            const next = await client.call('listAudit', { ...filter, limit, cursor });
            entries.push(...next.entries);
            cursor = next.nextCursor;
            if (cursor === '' || (!options.all && entries.length >= options.limit)) break;
          }
          page = { entries, nextCursor: cursor };
        } finally {
          client.close();
        }
      } else {
        // As `audit verify`: a directory that holds no node (a mistyped --data) says so, not "no entries".
        await initSodium();
        await loadIdentity(options.data);
        page = await scanAuditEntries(
          await fileEntries(dataPaths(options.data).store),
          filter,
          after,
          options.all ? Number.POSITIVE_INFINITY : options.limit,
        );
      }
      const more = page.nextCursor ? `More: --cursor ${page.nextCursor}  (or --all)` : '';
      if (options.json) {
        output(
          true,
          page.entries.map(({ fieldsJson, ...entry }) => ({ ...entry, fields: JSON.parse(fieldsJson) as unknown })),
          () => [],
        );
        if (more) process.stderr.write(`tracenet: more: --cursor ${page.nextCursor}\n`);
      } else output(false, page, () => [...auditLines(page.entries), ...(more ? [more] : [])]);
    });
}
