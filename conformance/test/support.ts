import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connectTarget, runSuite, spawnTarget, type RunOptions, type SuiteResult } from '../src/index.js';

/** The built reference CLI the suite's tests start. */
export const CLI = fileURLToPath(new URL('../../node/dist/cli/main.js', import.meta.url));

/** The `--spawn` command of the real reference node, as docs/conformance.md gives it. */
export const REFERENCE_COMMAND = `sh "${fileURLToPath(new URL('../bin/reference-node.sh', import.meta.url))}"`;

/** The `--spawn` command of a broken variant (built by `tsc -b` to broken/dist). */
export function brokenCommand(name: string): string {
  const launcher = fileURLToPath(new URL(`./broken/dist/${name}.js`, import.meta.url));
  if (!existsSync(launcher))
    throw new Error(`${launcher} is missing: build first with "npx tsc -b" (npm test does it)`);
  return `exec "${process.execPath}" "${launcher}"`;
}

/** Throws a readable error when the node has not been built. */
export function requireBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first with "npx tsc -b" (npm test does it)`);
}

/** Spawns a node with `command`, runs the suite against it with `options`, stops the node. */
export async function runAgainst(
  command: string,
  options: RunOptions = {},
): Promise<{ result: SuiteResult; output: string }> {
  const spawned = await spawnTarget(command, { readyTimeoutMs: 30_000 });
  try {
    const target = await connectTarget(spawned.address);
    try {
      return { result: await runSuite(target, { spawn: { command }, ...options }), output: spawned.output() };
    } finally {
      target.close();
    }
  } finally {
    await spawned.stop();
  }
}
