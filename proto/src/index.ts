/**
 * The tracenet.v1 wire contract: message types and @grpc/grpc-js service definitions generated
 * by ts-proto from `proto/tracenet/v1/*.proto`. Never edit `src/gen/`; run `npm run generate`.
 *
 * @example
 * ```ts
 * import { Envelope, FederationService } from '@tracenet/proto';
 * const bytes = Envelope.encode({ header, nonce, ciphertext }).finish();
 * ```
 */
export * from './gen/tracenet/v1/envelope.js';
export * from './gen/tracenet/v1/messages.js';
export * from './gen/tracenet/v1/peer_card.js';
export * from './gen/tracenet/v1/receipt.js';
export * from './gen/tracenet/v1/error_code.js';
export * from './gen/tracenet/v1/errors.js';
export * from './gen/tracenet/v1/audit.js';
export * from './gen/tracenet/v1/federation.js';
export * from './gen/tracenet/v1/authority.js';
export { Status as RpcStatus } from './gen/google/rpc/status.js';
export { Any } from './gen/google/protobuf/any.js';
export * from './errors.js';
export * from './gen/tracenet/v1/records.js';
export * from './gen/tracenet/v1/records_service.js';
export * from './gen/tracenet/v1/tracing.js';
export * from './gen/tracenet/v1/cases.js';
export * from './gen/tracenet/v1/cases_service.js';
export * from './gen/tracenet/v1/policy.js';
export * from './gen/tracenet/v1/events.js';
export * from './proto-files.js';
export * from './gen/tracenet/v1/lookup.js';
export * from './gen/tracenet/v1/lookups_service.js';
export * from './gen/tracenet/v1/keys.js';
export * from './gen/tracenet/v1/access.js';
export * from './gen/tracenet/v1/analysis.js';
export * from './gen/tracenet/v1/statistics_service.js';
