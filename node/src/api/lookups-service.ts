import type { ServiceRegistrar } from './service-table.js';
import { type LookupsServer, LookupsService } from '@tracenet/proto';
import type { Logger } from 'pino';
import type { HitStore } from '../lookup/hit-store.js';
import type { LookupClient } from '../lookup/lookup-client.js';
import type { LookupHistory } from '../lookup/lookup-history.js';
import { type CaseOpener, traceFromHit } from '../lookup/trace-from-hit.js';
import { decodingTolerantly, guardedUnary } from './grpc-handlers.js';
import type { AuthorityCredentials } from './grpc-handlers.js';

/** What the Lookups service needs from the node. */
export interface LookupsServiceDeps {
  readonly client: LookupClient;
  readonly hits: HitStore;
  readonly history: LookupHistory;
  readonly workflow: CaseOpener;
  readonly logger: Logger;
  /** What calls are checked with: the node's access control, or one token (a service served alone). */
  readonly token: AuthorityCredentials;
}

/**
 * Registers `tracenet.v1.Lookups` (docs/protocol.md 13.10) on the Authority server: federated
 * hit / no-hit lookups, the hits peers made on this node's records, and traces opened from a
 * hit. Every call needs the Authority bearer token.
 *
 * @example
 * ```ts
 * addLookupsService(authorityServer, { client, hits, history, workflow, logger, token });
 * ```
 */
export function addLookupsService(server: ServiceRegistrar, deps: LookupsServiceDeps): void {
  const logger = deps.logger.child({ component: 'lookups-api' });
  const guarded = guardedUnary(logger, deps.token);
  const implementation: LookupsServer = {
    lookup: guarded((request) => deps.client.lookup(request)),
    listHits: guarded((request) => deps.hits.list({ limit: request.limit, cursor: request.cursor })),
    traceFromHit: guarded(async (request) => ({
      case: await traceFromHit(deps, request.hit, request.request, request.send),
    })),
  };
  server.addService(decodingTolerantly(LookupsService), implementation);
}
