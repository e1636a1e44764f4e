import { CommanderError } from 'commander';
import { TracenetError } from '@tracenet/proto';
import { escapeUnsafe, safeJson } from '../util/unsafe-text.js';

/**
 * Exit codes of `tracenet` (docs/operations.md, "Exit codes"). A script tells what went wrong
 * from the code alone; the one stderr line (or the JSON object with --json) says the rest.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Failed for a reason not listed below (refused by this node's rules, internal error). */
  failed: 1,
  /** `records import` and `registry check`: some rows rejected, the others imported or valid. */
  partialImport: 2,
  /** The command line or an input file is wrong: unknown option, bad value, missing flag. */
  usage: 3,
  /** What the command names does not exist: case, record, hit, peer, file, data directory. */
  notFound: 4,
  /** A peer refused: its policy, its checks of our envelope, its certificate. */
  refusedByPeer: 5,
  /** The node or a peer could not be reached, or did not answer in time. */
  unreachable: 6,
  /** `audit verify` (or a start) found the audit log broken. */
  auditBroken: 7,
} as const;

/**
 * Error codes that only a peer returns (docs/errors.md, Federation): its policy or its checks of
 * our envelope refused it. Codes this node also uses for its own checks (BAD_SIGNATURE of a
 * backup, EXPIRED of a card) keep exit code 1.
 */
const PEER_REFUSALS = new Set([
  'KIND_NOT_ALLOWED',
  'UNKNOWN_SENDER',
  'SENDER_KEY_MISMATCH',
  'WRONG_RECIPIENT',
  'HEADER_AUTH_FAILED',
]);

/** The exit code for a failure with this error code name (TracenetError.codeName). */
export function exitCodeOf(codeName: string, rule = ''): number {
  if (rule === 'audit_damaged') return EXIT.auditBroken;
  switch (codeName) {
    case 'USAGE':
    case 'MALFORMED':
    case 'MISSING_FIELD':
    case 'INVALID_FIELD':
    case 'REQUEST_INCOMPLETE':
      return EXIT.usage;
    case 'NOT_FOUND':
      return EXIT.notFound;
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
    case 'SHUTTING_DOWN':
      return EXIT.unreachable;
    default:
      return PEER_REFUSALS.has(codeName) ? EXIT.refusedByPeer : EXIT.failed;
  }
}

/** A failure as the CLI reports it: its exit code and the text for stderr (one line, or JSON). */
export interface ReportedFailure {
  readonly exitCode: number;
  readonly text: string;
}

/**
 * How the CLI reports a failed command: `tracenet: CODE: message (field)` on one line, or with
 * `--json` one JSON object `{"error":{"code","message","field","rule","violations"}}`; a command
 * line commander refused is code USAGE. Help and version (commander's exit 0) report nothing.
 */
export function reportFailure(error: unknown, json: boolean): ReportedFailure | undefined {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return undefined;
    const message = error.message.replace(/^error: /, '');
    return {
      exitCode: EXIT.usage,
      text: json ? `${safeJson({ error: { code: 'USAGE', message, rule: error.code } })}\n` : '',
    };
  }
  const failure = TracenetError.from(error);
  const exitCode = exitCodeOf(failure.codeName, failure.rule);
  if (json) {
    const body = {
      error: {
        code: failure.codeName,
        message: failure.message,
        ...(failure.field ? { field: failure.field } : {}),
        ...(failure.rule ? { rule: failure.rule } : {}),
        ...(failure.violations.length > 0
          ? { violations: failure.violations.map((v) => ({ field: v.field, rule: v.rule, message: v.message })) }
          : {}),
      },
    };
    return { exitCode, text: `${safeJson(body)}\n` };
  }
  const where = failure.field ? ` (${failure.field})` : '';
  return { exitCode, text: `${escapeUnsafe(`tracenet: ${failure.codeName}: ${failure.message}${where}`)}\n` };
}
