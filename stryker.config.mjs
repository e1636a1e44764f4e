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
    'node/src/workflow/restrictions.ts',
    'node/src/lookup/matcher.ts',
    'node/src/audit/verify.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  // A static mutant (one reached only while a module loads or a test file's beforeAll starts its
  // nodes) cannot be tied to a test, so Stryker reruns every test file for it: here about 500
  // of them, 80 % of a two-hour run. They are left out by default; `npm run mutation --
  // --ignoreStatic false` runs them too (docs/reliability.md).
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
