import { readFile } from 'node:fs/promises';
import { credentials } from '@grpc/grpc-js';
import { type Command, Option } from 'commander';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import type { AuthorityChannel } from '../api/unary-client.js';
import { NOT_AUTHENTICATED_HINT } from '../federation/envelope-opener.js';
import { dataPaths, exists } from '../identity/data-dir.js';
import type { RuntimeInfo } from '../node.js';
import { escapeUnsafe, safeJson } from '../util/unsafe-text.js';
import { cliToken } from './login-file.js';

/** Data directory when --data is not given. */
export const DEFAULT_DATA = process.env.TRACENET_DATA ?? './tracenet-data';

/** `-d, --data <dir>` with its default. */
export function dataOption(): Option {
  return new Option('-d, --data <dir>', 'data directory of the node (env TRACENET_DATA)').default(DEFAULT_DATA);
}

/** `--json`. */
export function jsonOption(): Option {
  return new Option('--json', 'print machine-readable JSON');
}

/**
 * Lines as the CLI prints them, each through {@link escapeUnsafe}: whatever a peer put in a value
 * (or a value stored before control characters were refused), it stays on its line and cannot
 * move the cursor or reorder the text. Every CLI printer goes through this function.
 */
export function printable(lines: readonly string[]): string {
  return `${lines.map(escapeUnsafe).join('\n')}\n`;
}

/** A result as the CLI prints it: JSON with --json (unsafe characters escaped), {@link printable} lines otherwise. */
export function render(json: boolean | undefined, value: unknown, lines: () => readonly string[]): string {
  return json ? `${safeJson(value)}\n` : printable(lines());
}

/** Prints a result on standard output (see {@link render}). */
export function output(json: boolean | undefined, value: unknown, lines: () => readonly string[]): void {
  process.stdout.write(render(json, value, lines));
}

/**
 * A code name the node reports as text (the last error of a queued message, a lookup's per-peer
 * error). A peer that did not authenticate an envelope says nothing more (docs/protocol.md 4.4),
 * so the operator is told what to compare.
 */
export function reportedCode(name: string): string {
  return name === 'UNKNOWN_SENDER' ? `${name} (${NOT_AUTHENTICATED_HINT})` : name;
}

/** Reads a file the user pointed at; a missing file is NOT_FOUND with `missing` as its message. */
export async function readInput(path: string, missing: string, field?: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, missing, {
      ...(field ? { field } : {}),
      rule: 'exists',
      cause,
    });
  }
}

/** The running node's runtime info, or undefined when no node runs on this data directory. */
export async function running(dataDir: string): Promise<RuntimeInfo | undefined> {
  const path = dataPaths(dataDir).runtime;
  if (!(await exists(path))) return undefined;
  const info = JSON.parse(await readFile(path, 'utf8')) as RuntimeInfo;
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

/** How local tools reach a running node's Authority API. */
export interface AuthorityEndpoint {
  readonly address: string;
  readonly token: string;
  readonly channel: AuthorityChannel;
}

/**
 * How to reach a running node's Authority port: plaintext on loopback; with TLS
 * (`authority.tls`, docs/protocol.md 7.1) the certificate file the port presents is the trust
 * anchor, and the client certificate and key named by TRACENET_CLI_CERTIFICATE and
 * TRACENET_CLI_KEY (files) are presented when set (a port with `authority.tls.clientCa` needs them).
 */
export async function authorityChannel(info: RuntimeInfo): Promise<AuthorityChannel> {
  if (!info.authorityCertificate) return { credentials: credentials.createInsecure() };
  const file = (name: string) =>
    process.env[name]
      ? readInput(process.env[name], `${name} names ${process.env[name]}, which does not exist`, name)
      : undefined;
  const [trusted, key, certificate] = await Promise.all([
    readFile(info.authorityCertificate),
    file('TRACENET_CLI_KEY'),
    file('TRACENET_CLI_CERTIFICATE'),
  ]);
  return {
    credentials: credentials.createSsl(
      trusted,
      key === undefined ? null : Buffer.from(key),
      certificate === undefined ? null : Buffer.from(certificate),
      {
        // Trusting the node's own certificate file, a host name check adds nothing.
        checkServerIdentity: () => undefined,
      },
    ),
    // A server name, not the IP address of the port (TLS takes none).
    options: { 'grpc.ssl_target_name_override': 'localhost' },
  };
}

/**
 * Address, token (the preferred one, see {@link cliToken}) and channel credentials of the running
 * node's Authority API, or a one-line error when none runs.
 */
export async function connection(dataDir: string): Promise<AuthorityEndpoint> {
  const info = await running(dataDir);
  if (!info) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_UNAVAILABLE,
      `no node is running on ${dataDir}; start it with: tracenet start --data ${dataDir}`,
      { rule: 'node_running' },
    );
  }
  return { address: info.authority, token: await cliToken(dataDir), channel: await authorityChannel(info) };
}

/** Parses a duration such as 90s, 15m, 12h, 7d into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `"${text}" is not a duration such as 90s, 15m, 12h or 7d`,
      { rule: 'duration' },
    );
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/**
 * A policy deadline as it was set, in the largest unit that divides it exactly: `60 s`,
 * `90 min`, `36 h`, `7 d`, `1500 ms` (the units {@link parseDuration} reads). A deadline of a
 * minute is never rounded to "0 d".
 */
export function deadlineText(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  return `${ms} ms`;
}

/**
 * An option value naming an enum member, e.g. "referred" for TRACE_OUTCOME_REFERRED: lowercase,
 * dashes for underscores, without the prefix. Anything else is INVALID_FIELD listing the choices.
 */
export function choice<T extends number>(
  enumObject: Record<string, string | number>,
  prefix: string,
  value: string,
  field: string,
): T {
  const found = enumObject[`${prefix}${value.toUpperCase().replace(/-/g, '_')}`];
  if (typeof found !== 'number' || found === 0) {
    const names = Object.keys(enumObject)
      .filter((k) => k.startsWith(prefix) && !k.endsWith('UNSPECIFIED'))
      .map((k) => k.slice(prefix.length).toLowerCase().replace(/_/g, '-'));
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `--${field} must be one of ${names.join(', ')}`, {
      field,
      rule: 'choice',
    });
  }
  return found as T;
}

/**
 * An option parser for a whole number from `min` to `max`: `--limit abc` is INVALID_FIELD naming
 * the flag (exit code 3), never an INTERNAL error from the request it would have made.
 */
export function wholeNumber(flag: string, min: number, max: number): (value: string) => number {
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

/** One page of a list the Authority API pages through. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Page token of the next page; empty on the last page. */
  readonly next: string;
}

/** The paging flags of a list command: `--limit`, `--cursor` and `--all`. */
export interface PagingOptions {
  readonly limit: number;
  readonly cursor?: string;
  readonly all?: boolean;
}

/**
 * Adds `--limit <n>` (page size, 1 to `max`), `--cursor <page-token>` (continue after a page)
 * and `--all` (every page) to a list command.
 */
export function pagingOptions(command: Command, max: number): Command {
  return command
    .option('--limit <n>', `at most this many per page (1 to ${max})`, wholeNumber('limit', 1, max), 100)
    .option('--cursor <page-token>', 'continue after the previous page (the page token it printed)')
    .option('--all', 'every page, to the end of the list');
}

/**
 * Fetches one page (from `--cursor`) or, with `--all`, every page in turn. The returned `next`
 * is the page token of the page after the last one fetched (empty at the end).
 */
export async function pages<T>(
  options: PagingOptions,
  fetch: (cursor: string, limit: number) => Promise<Page<T>>,
): Promise<Page<T>> {
  const items: T[] = [];
  let cursor = options.cursor ?? '';
  for (;;) {
    const page = await fetch(cursor, options.limit);
    items.push(...page.items);
    cursor = page.next;
    if (!options.all || cursor === '') return { items, next: cursor };
  }
}

/** The text line after a page that has a next one: how to get it. */
export function moreLine(next: string): string[] {
  return next ? [`More: --cursor ${next}  (or --all)`] : [];
}

/**
 * With --json a list stays a JSON array (as scripts read it); the page token of the next page,
 * when there is one, goes to standard error as `tracenet: more: --cursor <token>`.
 */
export function morePages(json: boolean | undefined, next: string): void {
  if (json && next) process.stderr.write(`tracenet: more: --cursor ${next}\n`);
}

/**
 * Refuses a data directory that does not exist before a command reads it: a mistyped `--data`
 * is NOT_FOUND saying so, instead of "no node is running" or "run tracenet init".
 */
export async function requireDataDir(dataDir: string, given: boolean): Promise<void> {
  if (await exists(dataDir)) return;
  throw new TracenetError(
    ErrorCode.ERROR_CODE_NOT_FOUND,
    given
      ? `the data directory ${dataDir} does not exist; check --data (or TRACENET_DATA)`
      : `the data directory ${dataDir} (the default) does not exist; name the node's directory with --data <dir> or TRACENET_DATA`,
    { field: 'data', rule: 'exists' },
  );
}
