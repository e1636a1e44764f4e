/**
 * What the officers' console imports in the browser (node/src/console/web): every message type,
 * enum and JSON codec of tracenet.v1, and the generic definitions of the Authority API services
 * (`CasesDefinition`, ...), from which its calls are typed. The grpc-js service constructors of
 * the same modules are not for the browser: its bundle replaces `@grpc/grpc-js` with an empty
 * stand-in (scripts/build-console.mjs).
 */
export * from './gen/tracenet/v1/analysis.js';
export * from './gen/tracenet/v1/access.js';
export * from './gen/tracenet/v1/audit.js';
export * from './gen/tracenet/v1/authority.js';
export * from './gen/tracenet/v1/cases.js';
export * from './gen/tracenet/v1/cases_service.js';
export * from './gen/tracenet/v1/envelope.js';
export * from './gen/tracenet/v1/error_code.js';
export * from './gen/tracenet/v1/errors.js';
export * from './gen/tracenet/v1/events.js';
export * from './gen/tracenet/v1/keys.js';
export * from './gen/tracenet/v1/lookup.js';
export * from './gen/tracenet/v1/lookups_service.js';
export * from './gen/tracenet/v1/messages.js';
export * from './gen/tracenet/v1/peer_card.js';
export * from './gen/tracenet/v1/policy.js';
export * from './gen/tracenet/v1/receipt.js';
export * from './gen/tracenet/v1/records.js';
export * from './gen/tracenet/v1/records_service.js';
export * from './gen/tracenet/v1/statistics_service.js';
export * from './gen/tracenet/v1/tracing.js';
