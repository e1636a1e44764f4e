import {
  type Case,
  CaseRole,
  CaseState,
  ErrorCode,
  type ExportedFile,
  ExportFormat,
  type ExportSdgIndicatorRequest,
  Receipt,
  ReceiptBody,
  type SdgIndicatorRequest,
  type SdgReport,
  type TracingPerformance,
  type TracingPerformanceRequest,
  TracenetError,
  WeaponRecord,
  type ReexportReport,
  type ReexportReportRequest,
} from '@tracenet/proto';

import type { Journal } from '../audit/audit-log.js';
import { reexportReport } from '../workflow/reexport.js';
import { ReexportFlagRepository } from '../workflow/reexport-flags.js';
import type { AliasTable } from '../records/alias-table.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { WorkQueue } from '../util/work-queue.js';
import { exportSdg } from './export.js';
import { computePerformance } from './performance.js';
import { periodOf, type ReportingPeriod, sdgPeriodOf } from './period.js';
import { computeSdg, findingIn } from './sdg.js';

/** What the statistics need from the node. */
export interface StatisticsDeps {
  readonly participant: string;
  readonly store: Store;
  readonly journal: Journal;
  readonly clock: Clock;
  /** The alias tables in force (they may be reloaded while the node runs). */
  readonly aliases: () => AliasTable;
}

/** Format names as the audit entry and the CLI write them. */
export const FORMAT_NAMES: Readonly<Record<number, string>> = {
  [ExportFormat.EXPORT_FORMAT_CSV]: 'csv',
  [ExportFormat.EXPORT_FORMAT_XLSX]: 'xlsx',
  [ExportFormat.EXPORT_FORMAT_JSON]: 'json',
};

/**
 * The figures of docs/statistics.md, computed on demand from the node's own store — its records,
 * cases and the signed receipts of the requests it sent — and never from another node: nothing is
 * sent anywhere. An export is the one way a figure leaves, and it is audited (`statistics.export`).
 *
 * @example
 * ```ts
 * const statistics = new Statistics({ participant: 'FRA', store, journal, clock, aliases: () => table });
 * const report = await statistics.sdg({ year: '2026', period: undefined });
 * ```
 */
/** Statistics requests that may wait behind the one being computed (docs/protocol.md 20). */
export const STATISTICS_MAX_WAITING = 8;

export class Statistics {
  readonly #deps: StatisticsDeps;
  /**
   * The SDG report and tracing performance read every case (and the period's records) into memory:
   * one computation runs at a time and at most {@link STATISTICS_MAX_WAITING} wait, so concurrent
   * callers cannot hold many copies of the store (RATE_LIMITED, `statistics_busy`, beyond).
   */
  readonly #queue = new WorkQueue(STATISTICS_MAX_WAITING, 'statistics_busy');

  constructor(deps: StatisticsDeps) {
    this.#deps = deps;
  }

  /** SDG indicator 16.4.2 for the period of `request`; INVALID_FIELD / MISSING_FIELD for a bad period. */
  async sdg(request: SdgIndicatorRequest | undefined, fieldPrefix = ''): Promise<SdgReport> {
    const nowMs = this.#deps.clock.now();
    // The period is checked before queueing: a wrong request is refused at once.
    const period = sdgPeriodOf(request, nowMs, fieldPrefix);
    return this.#queue.run(async () => {
      const [records, cases] = await Promise.all([this.#records(period), this.#cases()]);
      return computeSdg({
        participant: this.#deps.participant,
        period,
        nowMs,
        records,
        cases,
        aliases: this.#deps.aliases(),
      });
    });
  }

  /**
   * The report as a file, written to the audit log first (`statistics.export`: the period, the
   * format, the file's name, size and item count; the entry's actor names the officer).
   */
  async exportSdg(request: ExportSdgIndicatorRequest): Promise<ExportedFile> {
    const format = FORMAT_NAMES[request.format];
    // The format is checked before the figures are computed: a wrong request costs nothing.
    if (format === undefined)
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'format must be CSV, XLSX or JSON', {
        field: 'format',
        rule: 'format',
      });
    const report = await this.sdg(request.period, 'period');
    const file = exportSdg(report, request.format);
    await this.#deps.journal.write(
      [],
      [
        {
          type: 'statistics.export',
          fields: {
            indicator: 'sdg-16.4.2',
            from: report.period?.fromDate ?? '',
            to: report.period?.toDate ?? '',
            format: format ?? '',
            fileName: file.fileName,
            bytes: file.content.length,
            items: report.items.length,
          },
        },
      ],
    );
    return file;
  }

  /**
   * Re-export flags by state (docs/protocol.md 18.6): every flag this node raised and received
   * when no period is given, else those of the period (the rules of `periodOf`).
   */
  async reexport(request: ReexportReportRequest): Promise<ReexportReport> {
    const given = request.period !== undefined && (request.period.fromDate !== '' || request.period.toDate !== '');
    const period = given && request.period ? periodOf(request.period, 'period', this.#deps.clock.now()) : undefined;
    const { raised, received } = await new ReexportFlagRepository(this.#deps.store).all();
    return reexportReport(raised, received, {
      fromDate: period?.fromDate ?? '',
      toDate: period?.toDate ?? '',
    });
  }

  /** Tracing performance, overall and with `by_peer` per peer; the period is optional. */
  async tracing(request: TracingPerformanceRequest): Promise<TracingPerformance> {
    const nowMs = this.#deps.clock.now();
    const given = request.period !== undefined && (request.period.fromDate !== '' || request.period.toDate !== '');
    const period = given && request.period ? periodOf(request.period, 'period', nowMs) : undefined;
    return this.#queue.run(async () => {
      const cases = await this.#cases();
      const sent = this.#deps.store.outbox.sent;
      const delivered = new Map<string, number | undefined>();
      for (const c of cases)
        for (const step of c.timeline)
          if (
            step.messageId !== '' &&
            c.role === CaseRole.CASE_ROLE_REQUESTER &&
            step.toState === CaseState.CASE_STATE_SENT &&
            !delivered.has(step.messageId)
          )
            delivered.set(step.messageId, receivedAt((await sent.get(step.messageId))?.receipt));
      return computePerformance({
        participant: this.#deps.participant,
        period,
        byPeer: request.byPeer,
        nowMs,
        cases,
        deliveredAt: (messageId) => delivered.get(messageId),
      });
    });
  }

  /** The records with a seizure, finding or surrender in the period: only they can be items (20.2). */
  async #records(period: ReportingPeriod): Promise<WeaponRecord[]> {
    const records: WeaponRecord[] = [];
    for await (const stored of this.#deps.store.records.records.values()) {
      const record = WeaponRecord.decode(Buffer.from(stored.record, 'base64'));
      if (findingIn(record, period)) records.push(record);
    }
    return records;
  }

  async #cases(): Promise<Case[]> {
    const cases: Case[] = [];
    for await (const c of this.#deps.store.cases.all()) {
      // Photos (up to 1 MiB each, 12.3) count for nothing here: a year of cases is not held with them.
      for (const photo of c.request?.weapon?.photos ?? []) photo.content = Buffer.alloc(0);
      cases.push(c);
    }
    return cases;
  }
}

/** `received_at_ms` of a stored ACCEPTED receipt (base64), or undefined when there is none. */
function receivedAt(receipt: string | undefined): number | undefined {
  if (!receipt) return undefined;
  try {
    const at = ReceiptBody.decode(Receipt.decode(Buffer.from(receipt, 'base64')).body).receivedAtMs;
    return at > 0 ? at : undefined;
  } catch {
    return undefined;
  }
}
