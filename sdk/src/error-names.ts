import { ERROR_CODES, ErrorCode, errorCodeName, TracenetError } from '@tracenet/proto';

/** Code names without prefix (`RATE_LIMITED`) to their codes. */
const BY_NAME: ReadonlyMap<string, ErrorCode> = new Map(
  Object.keys(ERROR_CODES).map((value) => [errorCodeName(Number(value) as ErrorCode), Number(value) as ErrorCode]),
);

/**
 * The typed error behind a code name that a node reports as text rather than as a failed call:
 * a lookup's per-peer `errorCode` (`RATE_LIMITED`, `KIND_NOT_ALLOWED`), the `lastError` of a
 * queued or failed message in `listMessages` (`UNKNOWN_SENDER`, `WRONG_RECIPIENT`). It gives such
 * codes the same `code`, `codeName` and `retryable` as a thrown {@link TracenetError}. A name
 * this SDK does not know (a newer node) is UNSPECIFIED, as docs/errors.md prescribes; the
 * `ERROR_CODE_` prefix is accepted too.
 *
 * @example
 * ```ts
 * const { results } = await client.lookups.lookup(request);
 * for (const r of results.filter((r) => r.errorCode !== '')) {
 *   const err = errorFromCodeName(r.errorCode, `lookup at ${r.peer}`);
 *   if (err.retryable) console.log(`${r.peer}: ${err.codeName}, ask again later`);
 * }
 * ```
 */
export function errorFromCodeName(name: string, message = name): TracenetError {
  const code = BY_NAME.get(name.replace(/^ERROR_CODE_/, '')) ?? ErrorCode.ERROR_CODE_UNSPECIFIED;
  return new TracenetError(code, message);
}
