/**
 * @tracenet/sdk — what integrators import: a promise-based client of a node's Authority API
 * ({@link connect}) whose failures are typed {@link TracenetError}s, and the event stream as an
 * async iterator that survives node restarts. The test kit is the subpath `@tracenet/sdk/testing`.
 *
 * @example
 * ```ts
 * import { connect, TracenetError, ErrorCode } from '@tracenet/sdk';
 * const client = connect({ address: '127.0.0.1:7444', token });
 * try {
 *   await client.authority.sendNotice({ recipient: '', subject: 's', text: 't', correlationId: '' });
 * } catch (e) {
 *   const err = TracenetError.from(e);
 *   if (err.code === ErrorCode.ERROR_CODE_MISSING_FIELD) console.error(`fill in ${err.field}`);
 * }
 * ```
 */
export { TracenetError, ErrorCode, ERROR_CODES, errorCodeName, readErrorDetail, type TracenetErrorOptions, type NodeEvent } from '@tracenet/proto';
export { connect, IDEMPOTENT_METHODS, type TracenetClient, type ServiceClient, type CallOptions, type ConnectOptions, type RetryOptions, type EventsOptions } from './client.js';
