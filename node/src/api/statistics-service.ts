import type { ServiceRegistrar } from './service-table.js';
import { type StatisticsServer, StatisticsService } from '@tracenet/proto';
import type { Logger } from 'pino';
import type { Statistics } from '../stats/statistics.js';
import { type AuthorityCredentials, decodingTolerantly, guardedUnary } from './grpc-handlers.js';

/** What the Statistics service needs from the node. */
export interface StatisticsServiceDeps {
  readonly statistics: Statistics;
  readonly logger: Logger;
  readonly token: AuthorityCredentials;
}

/**
 * Registers `tracenet.v1.Statistics` (docs/protocol.md 20) on the Authority server: SDG
 * indicator 16.4.2, its audited export, tracing performance and the re-export report, computed
 * from this node's own store. Every role reads; only officers and supervisors export
 * (access/permissions.ts).
 *
 * @example
 * ```ts
 * addStatisticsService(server, { statistics, logger, token });
 * ```
 */
export function addStatisticsService(server: ServiceRegistrar, deps: StatisticsServiceDeps): void {
  const logger = deps.logger.child({ component: 'statistics-api' });
  const guarded = guardedUnary(logger, deps.token);
  const statistics = deps.statistics;
  const implementation: StatisticsServer = {
    getSdgIndicator: guarded((request) => statistics.sdg(request)),
    exportSdgIndicator: guarded((request) => statistics.exportSdg(request)),
    getTracingPerformance: guarded((request) => statistics.tracing(request)),
    getReexportReport: guarded((request) => statistics.reexport(request)),
  };
  server.addService(decodingTolerantly(StatisticsService), implementation);
}
