import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initDataDir, initSodium, loadConfig, TracenetNode } from '@tracenet/node';

/** The participant id a broken variant runs as unless the suite asks for another. */
export const BROKEN_ID = 'FRA';

/** The reference launcher's helper that gives a fresh node the keys the suite asks for. */
const USE_KEYS = fileURLToPath(new URL('../../../bin/use-keys.mjs', import.meta.url));

/**
 * Starts the real reference node with one rule broken, following the launch contract of
 * docs/conformance.md section 3 as conformance/bin/reference-node.sh does: initialises a node in
 * an empty `TRACENET_CONFORMANCE_DATA` (as `tracenet init`, with the id and keys the suite asks
 * for; a restart finds it initialised), opens it, lets `patch` monkeypatch one method or
 * prototype, then starts it on ephemeral loopback ports (as `tracenet start`), which writes
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
  if (!dataDir)
    throw new Error(`${name}: TRACENET_CONFORMANCE_DATA is not set (run it with tracenet-conformance --spawn)`);
  process.umask(0o077);
  await initSodium();
  const env = process.env;
  if (!existsSync(join(dataDir, 'identity.json'))) {
    await initDataDir({
      dataDir,
      participantId: env.TRACENET_CONFORMANCE_ID ?? BROKEN_ID,
      displayName: `broken: ${name}`,
      endpoints: ['127.0.0.1:1'],
      nowMs: Date.now(),
    });
    if (env.TRACENET_CONFORMANCE_KEYS)
      execFileSync(process.execPath, [USE_KEYS, dataDir, env.TRACENET_CONFORMANCE_KEYS]);
  }
  const config = await loadConfig({
    env: {
      ...(env.TRACENET_CONFORMANCE_ROSTER_KEY
        ? { TRACENET_FEDERATION_ROSTER_KEY: env.TRACENET_CONFORMANCE_ROSTER_KEY }
        : {}),
      ...(env.TRACENET_CONFORMANCE_FEDERATION ? { TRACENET_FEDERATION_NAME: env.TRACENET_CONFORMANCE_FEDERATION } : {}),
      ...(env.TRACENET_CONFORMANCE_ROSTER_GRACE_MS
        ? { TRACENET_FEDERATION_ROSTER_GRACE_MS: env.TRACENET_CONFORMANCE_ROSTER_GRACE_MS }
        : {}),
    },
    overrides: {
      'federation.listen': '127.0.0.1:0',
      'authority.listen': '127.0.0.1:0',
      'metrics.listen': '',
      'log.level': 'warn',
    },
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
