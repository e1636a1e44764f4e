/**
 * Vitest global setup: ONE throwaway PostgreSQL server for the whole test run
 * (scripts/postgres-server.mjs), whose URL tests read with `inject('postgresUrl')` — through
 * `createTestDatabase()` of ./postgres.ts, which gives each test file a database of its own.
 *
 * `TRACENET_TEST_POSTGRES_URL` points the tests at a server of your own instead (a CI service
 * container); it must let its user create databases. When no server can be started (no
 * PostgreSQL and no way to install it) the run goes on: the tests that need PostgreSQL fail with
 * the reason, the others are not held up.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from '../../../scripts/postgres-server.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the test run's PostgreSQL server (its `postgres` database); '' when none could be started. */
    postgresUrl: string;
    /** Why there is no server, when `postgresUrl` is ''. */
    postgresError: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.TRACENET_TEST_POSTGRES_URL;
  if (external) {
    project.provide('postgresUrl', external);
    project.provide('postgresError', '');
    return undefined;
  }
  try {
    const server = await startPostgres();
    project.provide('postgresUrl', server.url);
    project.provide('postgresError', '');
    return () => server.stop();
  } catch (error) {
    project.provide('postgresUrl', '');
    project.provide('postgresError', error instanceof Error ? error.message : String(error));
    return undefined;
  }
}
