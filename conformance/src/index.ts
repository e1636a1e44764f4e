/**
 * @tracenet/conformance — the black-box suite that checks any Tracenet node over the wire.
 * The runner and its cases are the subject of the conformance issue; until then this package
 * only names the protocol version it will check.
 */
export const PROTOCOL_VERSION = 'tracenet.v1';
