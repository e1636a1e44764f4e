/**
 * @tracenet/sdk — what integrators import. So far: the typed errors every Tracenet API returns.
 * The Authority API client, registry adapters and the test kit follow (see the issues).
 *
 * @example
 * ```ts
 * import { TracenetError, ErrorCode } from '@tracenet/sdk';
 * try { ... } catch (e) {
 *   const err = TracenetError.from(e);
 *   if (err.code === ErrorCode.ERROR_CODE_MISSING_FIELD) console.error(`fill in ${err.field}`);
 * }
 * ```
 */
export { TracenetError, ErrorCode, ERROR_CODES, errorCodeName, readErrorDetail, type TracenetErrorOptions } from '@tracenet/proto';
