import type { ServiceRegistrar } from './service-table.js';
import {
  ErrorCode,
  type Period,
  type ReexportReport,
  type StatisticsServer,
  StatisticsService,
  TracenetError,
} from '@tracenet/proto';
import type { Logger } from 'pino';
import { periodOf } from '../stats/period.js';
import type { Statistics } from '../stats/statistics.js';
import type { Clock } from '../util/clock.js';
import { type AuthorityCredentials, decodingTolerantly, guardedUnary } from './grpc-handlers.js';

/** What the Statistics service needs from the node. */
export interface StatisticsServiceDeps {
  readonly statistics: Statistics;
  /**
   * The re-export flags by state (docs/protocol.md 18), provided by the re-export part of the
   * node; absent: GetReexportReport answers UNIMPLEMENTED.
   */
  readonly reexportReport?: (period: Period | undefined) => Promise<ReexportReport>;
  /** Today, for the period rules of the re-export report. */
  readonly clock: Clock;
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
 * addStatisticsService(server, { statistics, clock, logger, token });
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
    getReexportReport: guarded(async (request) => {
      if (!deps.reexportReport)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_UNIMPLEMENTED,
          'the re-export report is not available on this node',
          {
            rule: 'unimplemented',
          },
        );
      // The period follows the rules of 20.1 before the provider sees it; absent, every flag counts.
      const given = request.period !== undefined && (request.period.fromDate !== '' || request.period.toDate !== '');
      if (given && request.period) periodOf(request.period, 'period', deps.clock.now());
      return deps.reexportReport(given ? request.period : undefined);
    }),
  };
  server.addService(decodingTolerantly(StatisticsService), implementation);
}
