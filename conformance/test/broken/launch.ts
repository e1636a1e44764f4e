import { initDataDir, initSodium, loadConfig, TracenetNode } from '@tracenet/node';

/** The participant id every broken variant runs as. */
export const BROKEN_ID = 'FRA';

/**
 * Starts the real reference node with one rule broken: initialises a node in
 * `TRACENET_CONFORMANCE_DATA` (as `tracenet init`), opens it, lets `patch` monkeypatch one method
 * or prototype, then starts it on ephemeral loopback ports (as `tracenet start`), which writes
 * `<data>/node.json`. SIGTERM stops it. The node's production code has no fault switches: every
 * fault lives in a launcher under conformance/test/broken/.
 *
 * @example
 * ```ts
 * await launchBroken('accepts-bad-signature', () => {
 *   EnvelopeOpener.prototype.verifySignature = () => undefined;
 * });
 * ```
 */
export async function launchBroken(name: string, patch: (node: TracenetNode) => void | Promise<void>): Promise<void> {
  const dataDir = process.env.TRACENET_CONFORMANCE_DATA;
  if (!dataDir) throw new Error(`${name}: TRACENET_CONFORMANCE_DATA is not set (run it with tracenet-conformance --spawn)`);
  process.umask(0o077);
  await initSodium();
  await initDataDir({ dataDir, participantId: BROKEN_ID, displayName: `broken: ${name}`, endpoints: ['127.0.0.1:1'], nowMs: Date.now() });
  const config = await loadConfig({
    env: {},
    overrides: { 'federation.listen': '127.0.0.1:0', 'authority.listen': '127.0.0.1:0', 'metrics.listen': '', 'log.level': 'warn' },
  });
  const node = await TracenetNode.open({ dataDir, config });
  await patch(node);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= node.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await node.start();
}

/** Runs a variant's launcher, reporting a failure to start on stderr with exit code 1. */
export function main(name: string, patch: (node: TracenetNode) => void | Promise<void>): void {
  launchBroken(name, patch).catch((error: unknown) => {
    process.stderr.write(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
