/**
 * The suite's own codec for the wire formats of docs/protocol.md sections 2–5, 8 and 15 — keys and
 * key ids, pair key, envelope seal/open, digests, receipts, peer cards, rosters, audit hashes and a
 * TLS certificate for the fake peers — written from the spec on libsodium-wrappers. It imports
 * nothing of `@tracenet/node`: a node and the suite that shared this code would agree on any bug.
 */
export * from './audit.js';
export * from './card.js';
export * from './envelope.js';
export * from './keys.js';
export * from './primitives.js';
export * from './receipt.js';
export * from './roster.js';
export * from './tls.js';
