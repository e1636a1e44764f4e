/** Types of postgres-server.mjs (plain JavaScript so that scripts run it without a build). */

/** A running throwaway PostgreSQL server. */
export interface PostgresServer {
  /** `postgres://tracenet@127.0.0.1:<port>/postgres`: superuser `tracenet`, no password. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Fast shutdown, then removes the cluster's directory; idempotent. */
  stop(): Promise<void>;
}

/** Starts a throwaway PostgreSQL server (see postgres-server.mjs). */
export function startPostgres(options?: { readonly baseDir?: string }): Promise<PostgresServer>;
