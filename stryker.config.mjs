// @ts-check
/**
 * StrykerJS: code-level mutation testing of the security-critical modules (docs/reliability.md,
 * "Code-level mutation testing"). The wire-level harness (scripts/mutants/, `npm run mutants`)
 * breaks whole nodes and asks the conformance suite to notice; this one mutates single
 * expressions and asks the fast unit tests of the module to notice.
 *
 * `npm run mutation`; not part of `npm test` (it takes minutes on two cores).
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  mutate: [
    'node/src/envelope/*.ts',
    'node/src/federation/receiver.ts',
    'node/src/federation/envelope-opener.ts',
    'node/src/messages/restrictions.ts',
    'node/src/lookup/matcher.ts',
    'node/src/records/serial-pattern.ts',
    'node/src/audit/verify.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  // Static mutants run while a module loads (a regular expression or domain label in a module
  // constant), so Stryker cannot tie them to a test and reruns every test file for each. Without
  // this option it counted 503 mutants as static (also those reached from beforeAll hooks) and
  // estimated them at 81 % of a two-hour run; with it, the 28 purely static ones are ignored and
  // the rest run against the tests that cover them. `npm run mutation -- --ignoreStatic false`
  // runs them all (docs/reliability.md section 10).
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 90, break: null },
  timeoutMS: 10_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
