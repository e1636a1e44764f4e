import type { Command } from 'commander';
import {
  Case,
  CasesClient,
  type CasesServer,
  ListReexportFlagsResponse,
  ReexportDirection,
  type ReexportFlag,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../api/unary-client.js';
import { describeUndertaking } from '../messages/undertaking-rules.js';
import { connection, dataOption, jsonOption, output } from './context.js';
import { describeEvent } from './records-commands.js';

function when(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * A re-export flag as an officer reads it (docs/protocol.md 18): what it says, who raised it and
 * whether the exporter was notified, then its evidence hop by hop.
 *
 * @example
 * ```text
 * possible unauthorised re-export rx_5Gq…  raised by FRA 2026-01-05 09:00  exporter not notified yet
 *   BEL exported to KEN under end-user certificate EUC-KEN-2016-77 (re-export prohibited)
 *   KEN re-exported it to UGA
 *   evidence:
 *     BEL  case-000001  2016-05-10  EXPORTED  to KEN  licence BEL-EXP-2016-114  …
 * ```
 */
export function flagLines(f: ReexportFlag, received = false, indent = ''): string[] {
  const status = received
    ? `received ${when(f.notifiedAtMs)} from ${f.raisedBy}`
    : `raised by ${f.raisedBy} ${when(f.raisedAtMs)}  ${f.notifiedAtMs > 0 ? `${f.exporter} notified ${when(f.notifiedAtMs)}` : `${f.exporter} not notified yet`}`;
  const later =
    f.kind === 'reexported'
      ? `${f.undertakingState} re-exported it to ${f.laterState}`
      : `found in ${f.laterState}, a third state; ${f.undertakingState} recorded no export`;
  const width = Math.max(0, ...f.evidence.map((h) => h.source.length));
  return [
    `${indent}possible unauthorised re-export ${f.flagId}  ${status}`,
    `${indent}  ${f.exporter} exported to ${f.undertakingState} ${f.undertaking ? describeUndertaking(f.undertaking) : ''}`.trimEnd(),
    `${indent}  ${later}`,
    `${indent}  evidence:`,
    ...f.evidence.map(
      (h) =>
        // A received flag's case ids are the sender's: not shown.
        `${indent}    ${h.source.padEnd(width)}  ${received ? '' : `${(h.caseId || '-').padEnd(11)}  `}${h.event ? describeEvent(h.event) : '-'}`,
    ),
  ];
}

/** `tracenet trace flags` and `tracenet trace notify-exporter` (docs/records.md, "Re-export flags"). */
export function registerReexportCommands(trace: Command, printCase: (c: Case) => string[]): void {
  const run = async <T>(data: string, work: (cases: UnaryClient<CasesServer>) => Promise<T>): Promise<T> => {
    const { address, token, channel } = await connection(data);
    const cases = connectUnary<CasesServer>(CasesClient, address, token, channel);
    try {
      return await work(cases);
    } finally {
      cases.close();
    }
  };
  trace
    .command('flags')
    .description('possible unauthorised re-exports: flagged in our chains, and notified to us as the exporter')
    .option('--raised', 'only the flags this node raised')
    .option('--received', 'only the flags peers notified this node of')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (o: { raised?: boolean; received?: boolean; data: string; json?: boolean }) => {
      const D = ReexportDirection;
      const direction =
        o.raised && !o.received
          ? D.REEXPORT_DIRECTION_RAISED
          : o.received && !o.raised
            ? D.REEXPORT_DIRECTION_RECEIVED
            : D.REEXPORT_DIRECTION_UNSPECIFIED;
      const listed = await run(o.data, (cases) => cases.call('listReexportFlags', { direction }));
      output(o.json, ListReexportFlagsResponse.toJSON(listed), () => {
        const lines: string[] = [];
        const section = (title: string, flags: ReexportFlag[], received: boolean) => {
          if (lines.length > 0) lines.push('');
          lines.push(`${title}: ${flags.length === 0 ? 'none' : flags.length}`);
          for (const f of flags) lines.push('', ...flagLines(f, received, '  '));
        };
        if (direction !== D.REEXPORT_DIRECTION_RECEIVED) section('raised in our trace chains', listed.raised, false);
        if (direction !== D.REEXPORT_DIRECTION_RAISED)
          section('received from peers (we are the exporter)', listed.received, true);
        return lines;
      });
    });
  trace
    .command('notify-exporter')
    .description(
      "send a re-export flag to the original exporter; other states' information in its evidence goes only as their use restrictions or consent allow",
    )
    .argument('<case>', 'case id that holds the flag, e.g. case-000002')
    .argument('<flag>', 'flag id, e.g. rx_…')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (caseId: string, flagId: string, o: { data: string; json?: boolean }) => {
      const c = (await run(o.data, (cases) => cases.call('notifyReexport', { caseId, flagId }))).case as Case;
      output(o.json, Case.toJSON(c), () => printCase(c));
    });
}
