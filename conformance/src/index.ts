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
export {
  FEATURES,
  OPTIONAL_FEATURES,
  DEFAULT_PORT_LIMITS,
  CaseSkipped,
  type ConformanceCase,
  type CaseContext,
  type Feature,
  type SuiteSettings,
  type PeerOptions,
  type NodeUnderTest,
  type OwnNode,
  type Spawner,
} from './case.js';
export { ALL_CASES } from './cases/index.js';
export { CaseFailure, type Outcome, type WireError } from './check.js';
export {
  PeerHost,
  FakePeer,
  type ReceivedMessage,
  type SealOptions,
  type KeySet,
  type DeliverAnswer,
  type DeliverResponder,
} from './fake-peer.js';
export {
  runSuite,
  readExpectedFailures,
  checkWithout,
  selected,
  type RunOptions,
  type SuiteResult,
  type CaseResult,
  type CaseStatus,
  type ExpectedFailure,
} from './runner.js';
export { textSummary, jsonReport, junitReport, progressLine } from './report.js';
export {
  connectTarget,
  spawnTarget,
  spawnEnvironment,
  readCardFile,
  DATA_ENV,
  type Target,
  type TargetAddress,
  type SpawnedTarget,
  type SpawnIdentity,
} from './target.js';
/** The suite's own codec of protocol.md sections 2–5, 8 and 15 (docs/conformance.md section 10). */
export * as codec from './codec/index.js';
export { VECTORS } from './vectors.js';
