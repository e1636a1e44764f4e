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
 * const summary = await client.records.importRecords(createReadStream('registry.csv'), { format: 'csv' });
 * ```
 */
// The messages and enums of the contract (TraceRequest, CaseState, WeaponRecord, ...) and the typed
// errors: a case system needs nothing else from @tracenet/proto.
export * from '@tracenet/proto';
export {
  connect,
  signIn,
  type SignInOptions,
  type SignedIn,
  IDEMPOTENT_METHODS,
  type TracenetClient,
  type RecordsClient,
  type ServiceClient,
  type CallOptions,
  type AuthorityTlsOptions,
  type ConnectOptions,
  type RetryOptions,
  type EventsOptions,
} from './client.js';
export { errorFromCodeName } from './error-names.js';
export type {
  ImportSource,
  ImportRecordsOptions,
  ImportProgress,
  ImportSummary,
  ImportPass,
} from './import-records.js';
