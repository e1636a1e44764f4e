import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The test tiers (README.md, "Tests"). A test file belongs to the first tier whose
 * list names it; every other file is a unit test. A file that starts a process, needs PostgreSQL
 * or Docker, or runs for minutes must be named here, or it slows down the inner loop.
 *
 * - unit: one process, no PostgreSQL, no Docker (real LevelDB, gRPC on loopback and crypto are
 *   fine): `npm run test:unit`, the inner loop.
 * - integration: `tracenet` processes, the conformance suite against spawned targets, packed
 *   packages, the Python gRPC client; and, as the project `integration-postgres`, the tests that
 *   need PostgreSQL, so that the PostgreSQL server starts only when one of them is selected.
 * - cluster: nodes in Docker containers (node/test/cluster).
 * - long: fuzzing a live node with 100,000 inputs, SIGKILL chaos.
 */
const POSTGRES = [
  'node/test/registry/contract.test.ts',
  'node/test/registry/integration-docs.test.ts',
  'node/test/registry/postgres*.test.ts',
];
const PROCESSES = [
  'node/test/console/import-route.test.ts',
  'node/test/console/**/*.browser.test.ts',
  'bench/test/smoke.test.ts',
  'bench/test/gc-probe.test.ts',
  'conformance/test/broken-variants.test.ts',
  'conformance/test/card-file.test.ts',
  'conformance/test/reference-node.test.ts',
  'node/test/audit/storage-damage.test.ts',
  'node/test/integration/audit-list-cli.test.ts',
  'node/test/audit/tamper.test.ts',
  'node/test/edge/authority.test.ts',
  'node/test/edge/flood.test.ts',
  'node/test/integration/accounts-e2e.test.ts',
  // Runs the tracenet CLI against its nodes to read the flags as an officer does.
  'node/test/workflow/reexport-e2e.test.ts',
  'node/test/integration/backup.test.ts',
  'node/test/integration/cli-access.test.ts',
  'node/test/integration/cli-oidc-login.test.ts',
  'node/test/integration/cli-epipe.test.ts',
  'node/test/integration/cli-peers.test.ts',
  'node/test/integration/cli-trust.test.ts',
  'node/test/integration/cli.test.ts',
  'node/test/integration/console-address.test.ts',
  'node/test/integration/demo-console.test.ts',
  'node/test/integration/delivery.test.ts',
  'node/test/integration/lookups-e2e.test.ts',
  'node/test/integration/restrictions-e2e.test.ts',
  'node/test/integration/statistics-demo.test.ts',
  'node/test/integration/unknown-sender.test.ts',
  'node/test/integration/workflow-e2e.test.ts',
  'node/test/interop/c-core.test.ts',
  'node/test/storage/full-disk.test.ts',
  'sdk/test/errors.test.ts',
  'sdk/test/events.test.ts',
  'sdk/test/import.test.ts',
  'sdk/test/package.test.ts',
  'sdk/test/testing.test.ts',
];
const CLUSTER = ['node/test/cluster/**/*.test.ts'];
const LONG = ['node/test/fuzz/**/*.test.ts', 'node/test/integration/chaos.test.ts'];

/**
 * The `--exclude` globs of the command line (scripts/mutants/run.mjs passes one). Vitest adds
 * them to the `exclude` a project inherits, but drops them for a project that sets `exclude` of
 * its own (4.1), as the unit project must: it gets them back from here.
 */
function commandLineExcludes(argv: readonly string[]): string[] {
  const globs = argv.flatMap((arg, i) => {
    if (arg === '--exclude') return [argv[i + 1] ?? ''];
    return arg.startsWith('--exclude=') ? [arg.slice('--exclude='.length)] : [];
  });
  return globs.filter(Boolean);
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      // Unit files wait more than they compute (LevelDB, loopback gRPC): one worker per core, at
      // least two, instead of vitest's cores − 1, which is one worker on a 2-core machine. Projects
      // with different maxWorkers must run in different groups (groupOrder): when several tiers
      // run, the unit tier runs first, then both integration projects on two workers (they wait
      // on their processes), then cluster and long on one.
      {
        extends: true,
        test: {
          name: 'unit',
          maxWorkers: Math.max(2, availableParallelism()),
          sequence: { groupOrder: 0 },
          include: ['*/test/**/*.test.ts'],
          exclude: [
            ...configDefaults.exclude,
            ...commandLineExcludes(process.argv),
            ...POSTGRES,
            ...PROCESSES,
            ...CLUSTER,
            ...LONG,
          ],
        },
      },
      {
        extends: true,
        test: { name: 'integration', include: PROCESSES, maxWorkers: 2, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: {
          name: 'integration-postgres',
          include: POSTGRES,
          globalSetup: ['./node/test/support/postgres-global.ts'],
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      { extends: true, test: { name: 'cluster', include: CLUSTER, sequence: { groupOrder: 2 } } },
      { extends: true, test: { name: 'long', include: LONG, sequence: { groupOrder: 2 } } },
    ],
  },
});
