/**
 * @tracenet/node/dev — development helpers, not the node's API: a local federation of real node
 * processes on loopback (the demo, the soak script, the benchmarks and `@tracenet/sdk/testing`
 * use it), the path of the built CLI, the text the CLI prints for a case and a trace chain, and a
 * logger that says nothing, for a component built in a test.
 *
 * @example
 * ```ts
 * import { chainText, startLocalFederation } from '@tracenet/node/dev';
 * const federation = await startLocalFederation({ participants: ['FRA', 'BEL'] });
 * await federation.stop();
 * ```
 */
import { pino, type Logger } from 'pino';

export {
  startLocalFederation,
  CLI_PATH,
  type LocalFederation,
  type LocalNode,
  type LocalFederationOptions,
  type LocalNodePorts,
  type LocalOfficer,
  type LocalOfficerSpec,
} from './local-federation.js';
export { caseText, chainText } from '../cli/trace-commands.js';
export { DEMO_SEIZURES, DEMO_WEAPON, demoChainRecords, demoTraceRequest, seedDemoSeizures } from './demo-data.js';

/** A pino logger at level `silent`: what a registry or store built in a test logs to. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
