import { writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import {
  type DirectionFigures,
  ErrorCode,
  ExportFormat,
  type ExportedFile,
  type SdgIndicatorRequest,
  type SdgReport,
  type SdgRow,
  type StatisticsServer,
  StatisticsClient,
  TracenetError,
  TracingPerformance,
  type TracingPerformanceRequest,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../api/unary-client.js';
import { categoryLabel, circumstanceLabel, statusLabel, weaponTypeLabel } from '../stats/sdg.js';
import { connection, dataOption, jsonOption, output, printable } from './context.js';

/** The largest report or export the CLI accepts: 256 MiB. */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

async function withStatistics<T>(
  dataDir: string,
  work: (client: UnaryClient<StatisticsServer>) => Promise<T>,
): Promise<T> {
  const { address, token, channel } = await connection(dataDir);
  // A year of a large state's items is more than gRPC's default 4 MiB per answer.
  const options = { ...channel.options, 'grpc.max_receive_message_length': MAX_ANSWER_BYTES };
  const client = connectUnary<StatisticsServer>(StatisticsClient, address, token, { ...channel, options });
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

/**
 * The period of `--period`: a year ("2026") or two dates ("2026-01-01..2026-06-30"). Anything else
 * goes to the node as a year, whose refusal names the rule.
 */
export function periodArgument(value: string): SdgIndicatorRequest {
  const dates = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(value);
  if (dates) return { year: '', period: { fromDate: dates[1] ?? '', toDate: dates[2] ?? '' } };
  return { year: value, period: undefined };
}

/** A duration as a person reads it: "850 ms", "4.2 s", "12 min", "5.5 h", "3.2 days"; "-" for none. */
export function durationText(ms: number): string {
  if (ms <= 0) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}

function percent(proportion: number): string {
  return `${(proportion * 100).toFixed(1)} %`;
}

/** Columns of a table: left-aligned first column, right-aligned numbers. */
function table(header: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `${indent}${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

const SDG_HEADER = [
  '',
  'Seized',
  'Found',
  'Surrendered',
  'Total',
  'Traced',
  'Established otherwise',
  'Pending',
  'Not established',
  'Not attempted',
  'Established',
];

function sdgCells(row: SdgRow): string[] {
  return [
    row.label,
    ...[
      row.seized,
      row.found,
      row.surrendered,
      row.total,
      row.traced,
      row.establishedOtherwise,
      row.pending,
      row.notEstablished,
      row.notAttempted,
    ].map(String),
    row.total === 0 ? '-' : percent(row.proportion),
  ];
}

/** The SDG 16.4.2 report as the terminal shows it: the headline, each table, then the items behind the figures. */
export function sdgText(report: SdgReport): string[] {
  const total = report.total;
  const established = total ? total.traced + total.establishedOtherwise : 0;
  const lines = [
    `SDG indicator 16.4.2 — ${report.participant} — ${report.period?.fromDate} to ${report.period?.toDate}`,
    `Firearms seized, found or surrendered whose illicit origin or context was traced or established: ${established} of ${total?.total ?? 0}${total && total.total > 0 ? ` (${percent(total.proportion)})` : ''}`,
    '',
  ];
  const section = (title: string, rows: readonly SdgRow[]) => {
    // The table's name heads its first column.
    const cells = rows.map((row) => [`  ${row.label}`, ...sdgCells(row).slice(1)]);
    lines.push(...table([title, ...SDG_HEADER.slice(1)], cells, ''), '');
  };
  section('Firearms', total ? [total] : []);
  section('By type', report.byType);
  section('By circumstance', report.byCircumstance);
  section('By manufacturer and model', report.byModel);
  section('Parts, accessories, ammunition', report.otherItems);
  lines.push(`Items (${report.items.length}): what each figure counts`);
  report.items.forEach((item, i) => {
    const what = [item.manufacturer, item.model].filter((s) => s !== '').join(' ') || 'not described';
    const kind =
      item.category === 1
        ? weaponTypeLabel(item.type).toLowerCase()
        : `${categoryLabel(item.category).toLowerCase()}, ${item.quantity}`;
    lines.push(
      `  #${String(i + 1).padEnd(3)} ${item.date}  ${item.finding.padEnd(11)}  ${what} (${kind}) — ${circumstanceLabel(item.circumstance).toLowerCase()}`,
    );
    lines.push(`        ${statusLabel(item.status)}: ${item.basis}`);
  });
  lines.push(
    '',
    'Nothing was sent anywhere. To file it: tracenet stats sdg --period <year> --format xlsx --out <file> (audited).',
  );
  return lines;
}

function directionCells(label: string, f: DirectionFigures | undefined): string[] {
  if (!f) return [label];
  return [
    label,
    String(f.requests),
    String(f.acknowledged),
    String(f.answered),
    String(f.refused),
    String(f.overdue),
    durationText(f.acknowledgeP50Ms),
    durationText(f.acknowledgeP90Ms),
    durationText(f.answerP50Ms),
    durationText(f.answerP90Ms),
  ];
}

const TRACING_HEADER = [
  '',
  'Requests',
  'Acknowledged',
  'Answered',
  'Refused',
  'Overdue',
  'Ack p50',
  'Ack p90',
  'Answer p50',
  'Answer p90',
];

function reasonText(reason: string): string {
  return reason.replace('REASON_CODE_', '').toLowerCase().replace(/_/g, ' ');
}

/** Tracing performance as the terminal shows it. */
export function tracingText(p: TracingPerformance): string[] {
  const period = p.period ? `${p.period.fromDate} to ${p.period.toDate}` : 'all requests';
  const lines = [`Tracing performance — ${p.participant} — ${period}`, ''];
  lines.push(
    ...table(
      ['Overall', ...TRACING_HEADER.slice(1)],
      [directionCells('  Sent (we asked)', p.sent), directionCells('  Received (we were asked)', p.received)],
      '',
    ),
  );
  const refusals = (label: string, f: DirectionFigures | undefined) => {
    if (f && f.refusedByReason.length > 0)
      lines.push(
        `  ${label} refused by reason: ${f.refusedByReason.map((r) => `${reasonText(r.reason)} ${r.count}`).join(', ')}`,
      );
  };
  refusals('Sent', p.sent);
  refusals('Received', p.received);
  if (p.peers.length > 0) {
    lines.push('');
    const rows: string[][] = [];
    for (const peer of p.peers) {
      rows.push(directionCells(`  ${peer.peer}  sent`, peer.sent));
      rows.push(directionCells(`  ${' '.repeat(peer.peer.length)}  received`, peer.received));
    }
    lines.push(...table(['By peer', ...TRACING_HEADER.slice(1)], rows, ''));
  }
  lines.push(
    '',
    "Times run from the delivery of a request (the peer's signed receipt) or its acceptance here to the",
    'acknowledgement and to the answer; p50 and p90 are nearest-rank percentiles (docs/statistics.md).',
  );
  return lines;
}

const FORMATS: Readonly<Record<string, ExportFormat>> = {
  csv: ExportFormat.EXPORT_FORMAT_CSV,
  xlsx: ExportFormat.EXPORT_FORMAT_XLSX,
  json: ExportFormat.EXPORT_FORMAT_JSON,
};

/**
 * Registers `tracenet stats sdg` and `tracenet stats tracing` (docs/statistics.md): the figures
 * of this node, computed by the node from its own store. A table is read; a file (`--format
 * csv|xlsx|json`) is an export, which the node audits.
 */
export function registerStatsCommands(program: Command): Command {
  const stats = program
    .command('stats')
    .description("this node's statistics: SDG indicator 16.4.2 and tracing performance (nothing is sent to peers)");

  stats
    .command('sdg')
    .description(
      'SDG indicator 16.4.2 for a period: weapons seized, found or surrendered and whether their illicit origin was established',
    )
    .requiredOption('--period <period>', 'a year (2026) or two dates (2026-01-01..2026-06-30)')
    .addOption(
      new Option('--format <format>', 'table on the terminal, or an export file (audited)')
        .choices(['table', 'xlsx', 'csv', 'json'])
        .default('table'),
    )
    .option(
      '--out <file>',
      'write the export to this file (required for xlsx; csv and json go to standard output without it)',
    )
    .addOption(dataOption())
    .addHelpText(
      'after',
      '\nExamples:\n  tracenet stats sdg --period 2026\n  tracenet stats sdg --period 2026 --format xlsx --out fra-sdg-2026.xlsx',
    )
    .action(async (options: { period: string; format: string; out?: string; data: string }) => {
      const period = periodArgument(options.period);
      if (options.format === 'table') {
        const report = await withStatistics(options.data, (client) => client.call('getSdgIndicator', period));
        process.stdout.write(printable(sdgText(report)));
        return;
      }
      if (options.format === 'xlsx' && !options.out)
        throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, '--format xlsx writes a file: give --out <file>', {
          field: 'out',
          rule: 'required',
        });
      const file: ExportedFile = await withStatistics(options.data, (client) =>
        client.call('exportSdgIndicator', {
          period,
          format: FORMATS[options.format] ?? ExportFormat.EXPORT_FORMAT_UNSPECIFIED,
        }),
      );
      if (options.out) {
        await writeFile(options.out, file.content);
        process.stderr.write(
          `wrote ${options.out} (${file.content.length} bytes; the node's name for it: ${file.fileName}); the export is in the audit log\n`,
        );
      } else process.stdout.write(file.content);
    });

  stats
    .command('tracing')
    .description(
      'tracing performance: requests sent and received, acknowledged, answered, refused, overdue, and how long it took',
    )
    .option(
      '--period <period>',
      'by the date a request was delivered or received: a year (2026) or two dates (2026-01-01..2026-06-30); default: every request',
    )
    .addOption(new Option('--by <what>', 'break the figures down').choices(['peer']))
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: { period?: string; by?: string; data: string; json?: boolean }) => {
      const period = options.period === undefined ? undefined : periodArgument(options.period);
      if (period && period.year !== '' && !/^\d{4}$/.test(period.year))
        throw new TracenetError(
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          `--period ${JSON.stringify(options.period)}: a year (2026) or two dates (2026-01-01..2026-06-30)`,
          { field: 'period', rule: 'period' },
        );
      const request: TracingPerformanceRequest = {
        period:
          period === undefined
            ? undefined
            : (period.period ?? { fromDate: `${period.year}-01-01`, toDate: `${period.year}-12-31` }),
        byPeer: options.by === 'peer',
      };
      const performance = await withStatistics(options.data, (client) => client.call('getTracingPerformance', request));
      output(options.json, TracingPerformance.toJSON(performance), () => tracingText(performance));
    });
  return stats;
}
