import {
  ErrorCode,
  ExportFormat,
  ItemCategory,
  type SdgReport,
  type SdgRow,
  SdgStatus,
  SeizureCircumstance,
  StatisticsClient,
  type StatisticsServer,
  WeaponEventType,
  WeaponRecord,
} from '@tracenet/proto';
import type { CaseContext, ConformanceCase } from '../case.js';
import { CaseFailure, ensureEqual, ensureOk, ensureRefused } from '../check.js';
import { newMessageId } from '../fake-peer.js';
import { weaponRecord } from '../fixtures.js';
import { serviceClient } from '../service-client.js';

const E = ErrorCode;

/** Runs `work` with a client of the node's Statistics service (protocol 20). */
async function withStatistics<T>(
  ctx: CaseContext,
  work: (client: ReturnType<typeof statistics>) => Promise<T>,
): Promise<T> {
  const client = statistics(ctx);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

function statistics(ctx: CaseContext) {
  return serviceClient<StatisticsServer>(StatisticsClient, ctx.target.authorityAddress, ctx.target.token);
}

/** The rows of a report (protocol 20.2), in the order of its tables. */
function rows(report: SdgReport): SdgRow[] {
  return [
    ...(report.total ? [report.total] : []),
    ...report.byType,
    ...report.byModel,
    ...report.byCircumstance,
    ...report.otherItems,
  ];
}

/** Protocol 20.2: each row adds up, and its item indexes name items whose quantities make its total. */
function ensureRowsAddUp(report: SdgReport): void {
  for (const row of rows(report)) {
    const what = `row ${row.dimension}/${row.key}`;
    ensureEqual(row.seized + row.found + row.surrendered, row.total, `${what}: seized + found + surrendered`);
    ensureEqual(
      row.traced + row.establishedOtherwise + row.pending + row.notEstablished + row.notAttempted,
      row.total,
      `${what}: the statuses`,
    );
    const quantities = row.itemIndexes.map((i) => {
      const item = report.items[i];
      if (!item)
        throw new CaseFailure(
          `${what}: item indexes into items`,
          `index ${i} of ${report.items.length} items`,
          'protocol 20.2',
        );
      return item.quantity;
    });
    ensureEqual(
      quantities.reduce((a, b) => a + b, 0),
      row.total,
      `${what}: the quantities of its items`,
    );
    const proportion = row.total === 0 ? 0 : (row.traced + row.establishedOtherwise) / row.total;
    if (Math.abs(row.proportion - proportion) > 1e-9)
      throw new CaseFailure(`${what}: proportion ${proportion}`, `${row.proportion}`, 'protocol 20.2');
  }
}

/** Statistics service (protocol 20): periods, the items of SDG 16.4.2, the export. */
export const STATISTICS_CASES: readonly ConformanceCase[] = [
  {
    id: 'statistics.period-rules',
    section: '20.1',
    feature: 'authority',
    title:
      'a period is a year or two calendar dates in order, at most ten years: otherwise MISSING_FIELD / INVALID_FIELD with the field and rule',
    async run(ctx) {
      await withStatistics(ctx, async (client) => {
        const refused = async (
          request: Parameters<typeof client.call<'getSdgIndicator'>>[1],
          code: ErrorCode,
          field: string,
          rule: string,
        ) => ensureRefused(await ctx.call(client.call('getSdgIndicator', request)), { code, field, rule });
        await refused({ year: '', period: undefined }, E.ERROR_CODE_MISSING_FIELD, 'year', 'year_or_period');
        await refused(
          { year: '2020', period: { fromDate: '2020-01-01', toDate: '2020-01-31' } },
          E.ERROR_CODE_INVALID_FIELD,
          'year',
          'year_or_period',
        );
        await refused({ year: '20x0', period: undefined }, E.ERROR_CODE_INVALID_FIELD, 'year', 'year');
        await refused(
          { year: '', period: { fromDate: '2021-02-29', toDate: '2021-03-01' } },
          E.ERROR_CODE_INVALID_FIELD,
          'period.from_date',
          'date',
        );
        await refused(
          { year: '', period: { fromDate: '2021-03-02', toDate: '2021-03-01' } },
          E.ERROR_CODE_INVALID_FIELD,
          'period.to_date',
          'period_order',
        );
        await refused(
          { year: '', period: { fromDate: '2000-01-01', toDate: '2010-12-31' } },
          E.ERROR_CODE_INVALID_FIELD,
          'period.to_date',
          'period_span',
        );
        const tracing = await ctx.call(
          client.call('getTracingPerformance', {
            period: { fromDate: '2021-03-02', toDate: '2021-03-01' },
            byPeer: false,
          }),
        );
        ensureRefused(tracing, { code: E.ERROR_CODE_INVALID_FIELD, field: 'period.to_date', rule: 'period_order' });
      });
    },
  },
  {
    id: 'statistics.sdg-record-item',
    section: '20.2',
    cites: ['20', '20.3'],
    feature: 'authority',
    title:
      'a record seized in the period is an item of SDG 16.4.2 (its record, finding, date, circumstance; not attempted without a trace), and every row adds up',
    async run(ctx) {
      const serial = `ST-${newMessageId()
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 10)
        .toUpperCase()}`;
      const base = weaponRecord(serial);
      const seized = {
        ...(base.events?.[0] ?? {}),
        type: WeaponEventType.WEAPON_EVENT_TYPE_SEIZED,
        date: '2016-02-01',
        agency: 'Conformance Customs',
        circumstance: SeizureCircumstance.SEIZURE_CIRCUMSTANCE_TRAFFICKING,
      };
      const { record } = await ctx.target.records.call('putRecord', {
        record: WeaponRecord.fromPartial({
          ...base,
          secondaryMarks: [],
          events: [...(base.events ?? []).slice(0, 1), seized],
        }),
      });
      if (!record) throw new CaseFailure('PutRecord to return the record', 'nothing');
      await withStatistics(ctx, async (client) => {
        const report = ensureOk(
          await ctx.call(
            client.call('getSdgIndicator', { year: '', period: { fromDate: '2016-02-01', toDate: '2016-02-01' } }),
          ),
          'GetSdgIndicator',
        );
        const item = report.items.find((i) => i.recordId === record.recordId);
        if (!item)
          throw new CaseFailure(
            `an item for record ${record.recordId}`,
            `${report.items.length} items, none of it`,
            'protocol 20.2',
          );
        ensureEqual(
          {
            finding: item.finding,
            date: item.date,
            category: item.category,
            circumstance: item.circumstance,
            quantity: item.quantity,
            status: item.status,
          },
          {
            finding: 'seized',
            date: '2016-02-01',
            category: ItemCategory.ITEM_CATEGORY_FIREARM,
            circumstance: SeizureCircumstance.SEIZURE_CIRCUMSTANCE_TRAFFICKING,
            quantity: 1,
            status: SdgStatus.SDG_STATUS_NOT_ATTEMPTED,
          },
          'the item',
        );
        ensureRowsAddUp(report);
        const outside = ensureOk(
          await ctx.call(
            client.call('getSdgIndicator', { year: '', period: { fromDate: '2016-02-02', toDate: '2016-12-31' } }),
          ),
          'GetSdgIndicator',
        );
        if (outside.items.some((i) => i.recordId === record.recordId))
          throw new CaseFailure(
            'no item for a seizure outside the period',
            `record ${record.recordId} counted`,
            'protocol 20.2',
          );
      });
    },
  },
  {
    id: 'statistics.export',
    section: '20.4',
    cites: ['8.5'],
    feature: 'authority',
    title:
      'ExportSdgIndicator answers a CSV file with a UTF-8 byte order mark and no formula cell, audits it as statistics.export, and refuses a missing format (INVALID_FIELD format)',
    async run(ctx) {
      const serial = `SX-${newMessageId()
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 10)
        .toUpperCase()}`;
      const base = weaponRecord(serial);
      const marking = {
        ...base.manufacture,
        manufacturer: '=HYPERLINK("http://conformance.example")',
      } as WeaponRecord['manufacture'];
      const seized = {
        ...(base.events?.[0] ?? {}),
        type: WeaponEventType.WEAPON_EVENT_TYPE_SEIZED,
        date: '2016-03-01',
        agency: 'Conformance Customs',
        circumstance: SeizureCircumstance.SEIZURE_CIRCUMSTANCE_CRIME,
      };
      await ctx.target.records.call('putRecord', {
        record: WeaponRecord.fromPartial({
          ...base,
          manufacture: marking,
          secondaryMarks: [],
          events: [...(base.events ?? []).slice(0, 1), seized],
        }),
      });
      const sinceMs = Date.now() - 1000;
      await withStatistics(ctx, async (client) => {
        const period = { year: '', period: { fromDate: '2016-03-01', toDate: '2016-03-01' } };
        const file = ensureOk(
          await ctx.call(client.call('exportSdgIndicator', { period, format: ExportFormat.EXPORT_FORMAT_CSV })),
          'ExportSdgIndicator',
        );
        ensureEqual([...file.content.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the first bytes of the CSV');
        ensureEqual(file.mediaType.split(';')[0], 'text/csv', 'media_type');
        const text = Buffer.from(file.content).subarray(3).toString('utf8');
        if (!text.includes(`"'=HYPERLINK(""http://conformance.example"")"`))
          throw new CaseFailure(
            "the manufacturer =HYPERLINK(...) written as '=HYPERLINK(...), quoted",
            text.split('\r\n').find((l) => l.includes('HYPERLINK')) ?? 'no such cell',
            'protocol 20.4',
          );
        const none = await ctx.call(
          client.call('exportSdgIndicator', { period, format: ExportFormat.EXPORT_FORMAT_UNSPECIFIED }),
        );
        ensureRefused(none, { code: E.ERROR_CODE_INVALID_FIELD, field: 'format', rule: 'format' });
      });
      const { entries } = await ctx.target.authority.call('listAudit', {
        officerId: '',
        clientId: '',
        sinceMs,
        untilMs: 0,
        limit: 1000,
        cursor: '',
      });
      const exports = entries
        .filter((e) => e.type === 'statistics.export')
        .map((e) => JSON.parse(e.fieldsJson) as Record<string, unknown>);
      ensureEqual(
        exports.map((f) => [f.from, f.to, f.format]),
        [['2016-03-01', '2016-03-01', 'csv']],
        'the statistics.export entries of this case (the refused export writes none)',
      );
    },
  },
];
