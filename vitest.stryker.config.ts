import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant of the security-critical modules
 * (stryker.config.mjs): in-process unit and single-node tests only — no child processes, no
 * cluster, no PostgreSQL (so no global setup), each file a few seconds at most.
 */
export default defineConfig({
  test: {
    include: [
      'node/test/envelope.test.ts',
      'node/test/vectors.test.ts',
      'node/test/receiver.test.ts',
      'node/test/key-announcements.test.ts',
      'node/test/audit.test.ts',
      'node/test/lookup/matcher.test.ts',
      'node/test/lookup/wildcard-attacks.test.ts',
      'node/test/lookup/responder.test.ts',
      'node/test/workflow/restrictions.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
