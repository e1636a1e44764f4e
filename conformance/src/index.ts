/**
 * @tracenet/conformance — the black-box suite that decides whether a Tracenet node may join the
 * federation. It plays fake peers over real gRPC against a node under test and checks, one case
 * per rule, that the node follows docs/protocol.md. See docs/conformance.md.
 *
 * @example
 * ```ts
 * import { connectTarget, runSuite, textSummary } from '@tracenet/conformance';
 * const target = await connectTarget({ authority: '127.0.0.1:7444', token });
 * const result = await runSuite(target, { without: ['lookups'] });
 * console.log(textSummary(result));
 * ```
 */
export const PROTOCOL_VERSION = 'tracenet.v1';
export { FEATURES, OPTIONAL_FEATURES, type ConformanceCase, type CaseContext, type Feature, type SuiteSettings, type PeerOptions } from './case.js';
export { ALL_CASES } from './cases/index.js';
export { CaseFailure, type Outcome, type WireError } from './check.js';
export { PeerHost, FakePeer, type ReceivedMessage, type SealOptions } from './fake-peer.js';
export { runSuite, readExpectedFailures, checkWithout, selected, type RunOptions, type SuiteResult, type CaseResult, type CaseStatus, type ExpectedFailure } from './runner.js';
export { textSummary, jsonReport, junitReport, progressLine } from './report.js';
export { connectTarget, spawnTarget, readCardFile, DATA_ENV, type Target, type TargetAddress, type SpawnedTarget } from './target.js';
