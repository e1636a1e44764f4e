import type { Command } from 'commander';
import {
  Approval,
  type ApprovalActor,
  ApprovalPolicy,
  ApprovalResponse,
  ApprovalState,
  Case,
  CasesClient,
  type CasesServer,
  ListApprovalsRequest,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../api/unary-client.js';
import { actorName, stepName } from '../workflow/approvals.js';
import {
  connection,
  dataOption,
  jsonOption,
  moreLine,
  output,
  type PagingOptions,
  pages,
  pagingOptions,
} from './context.js';
import { caseText } from './trace-commands.js';

function iso(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-';
}

function who(actor: ApprovalActor | undefined): string {
  return actor ? actorName(actor) : '-';
}

/** The lines of one approval: what, by whom, why, and the decision. */
export function approvalText(a: Approval): string[] {
  const state = (ApprovalState[a.state] ?? '').replace('APPROVAL_STATE_', '');
  const lines = [
    `${a.approvalId}  ${state.padEnd(8)}  ${stepName(a.step).padEnd(16)}  ${a.caseId || a.participantId}`,
    `  ${a.summary}`,
    `  drafted by ${who(a.drafter)} at ${iso(a.draftedAtMs)}`,
    ...a.reasons.map((r) => `  waits for: ${r}`),
  ];
  if (a.state !== ApprovalState.APPROVAL_STATE_PENDING)
    lines.push(`  ${state.toLowerCase()} by ${who(a.approver)} at ${iso(a.decidedAtMs)}${a.note ? `: ${a.note}` : ''}`);
  return lines;
}

function policyText(p: ApprovalPolicy): string[] {
  const on = (flag: boolean) => (flag ? 'approval' : 'no approval');
  return [
    `answers releasing record information: ${on(p.answers)}`,
    `share and consent decisions:          ${on(p.disclosures)}`,
    `refusals:                             ${on(p.refusals)}`,
    `peer policy and peer changes:         ${on(p.policyChanges)}`,
    `automatic answers:                    ${on(p.automaticAnswers)}`,
  ];
}

/**
 * Registers `tracenet approvals list|approve|reject|policy` (docs/operations.md, accounts and
 * approvals; docs/protocol.md 12.12): the approvals queue of the running node.
 *
 * @example
 * ```ts
 * registerApprovalCommands(program);
 * ```
 */
export function registerApprovalCommands(program: Command): void {
  const approvals = program
    .command('approvals')
    .description('four-eyes approval: steps waiting for a supervisor, and the approval policy');

  /** Runs `work` with a Cases client of the node in --data. */
  const withCases = async <T>(dataDir: string, work: (cases: UnaryClient<CasesServer>) => Promise<T>): Promise<T> => {
    const { address, token, channel } = await connection(dataDir);
    const cases = connectUnary<CasesServer>(CasesClient, address, token, channel);
    try {
      return await work(cases);
    } finally {
      cases.close();
    }
  };

  pagingOptions(
    approvals
      .command('list')
      .description('the steps waiting for approval, newest first')
      .option('--decided', 'also the approved and rejected ones')
      .option('--case <case>', 'only those of this case'),
    500,
  )
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: PagingOptions & { decided?: boolean; case?: string; data: string; json?: boolean }) => {
      const { items: found, next } = await withCases(options.data, (cases) =>
        pages(options, async (cursor, limit) => {
          const page = await cases.call(
            'listApprovals',
            ListApprovalsRequest.fromPartial({
              all: options.decided === true,
              caseId: options.case ?? '',
              limit,
              cursor,
            }),
          );
          return { items: page.approvals, next: page.nextCursor };
        }),
      );
      output(options.json, { approvals: found.map((a) => Approval.toJSON(a)), nextPageToken: next }, () => [
        ...(found.length === 0 ? [options.decided ? 'no approvals' : 'no step waits for approval'] : []),
        ...found.flatMap(approvalText),
        ...moreLine(next),
      ]);
    });

  approvals
    .command('approve')
    .description('approve a waiting step and carry it out (a supervisor who did not draft it)')
    .argument('<approval>', 'approval id, e.g. apr-000001')
    .option('--note <text>', "the approver's note", '')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (approvalId: string, options: { note: string; data: string; json?: boolean }) => {
      const response = await withCases(options.data, (cases) =>
        cases.call('approveStep', { approvalId, note: options.note }),
      );
      output(options.json, ApprovalResponse.toJSON(response), () => [
        ...(response.approval ? approvalText(response.approval) : []),
        ...(response.case ? caseText(Case.fromPartial(response.case)) : []),
      ]);
    });

  approvals
    .command('reject')
    .description('reject a waiting step: nothing of it is carried out')
    .argument('<approval>', 'approval id, e.g. apr-000001')
    .requiredOption('--reason <text>', 'why, for the drafter and the case timeline')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (approvalId: string, options: { reason: string; data: string; json?: boolean }) => {
      const response = await withCases(options.data, (cases) =>
        cases.call('rejectStep', { approvalId, reason: options.reason }),
      );
      output(options.json, ApprovalResponse.toJSON(response), () =>
        response.approval ? approvalText(response.approval) : [],
      );
    });

  const policy = approvals.command('policy').description('which steps wait for a supervisor (docs/protocol.md 12.12)');
  policy
    .command('show')
    .description('show the approval policy')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: { data: string; json?: boolean }) => {
      const { policy: found } = await withCases(options.data, (cases) => cases.call('getApprovalPolicy', {}));
      const shown = found ?? ApprovalPolicy.fromPartial({});
      output(options.json, ApprovalPolicy.toJSON(shown), () => policyText(shown));
    });
  policy
    .command('set')
    .description('replace the approval policy (an administrator): the steps named wait, the others do not')
    .option('--answers', 'answers and restrictions releasing record information')
    .option('--disclosures', 'share and consent decisions on onward disclosure')
    .option('--refusals', 'refusals')
    .option('--policy-changes', 'peer policy changes, adding and removing peers')
    .option('--automatic-answers', 'automatic answers (drafted by the node)')
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(
      async (options: {
        answers?: boolean;
        disclosures?: boolean;
        refusals?: boolean;
        policyChanges?: boolean;
        automaticAnswers?: boolean;
        data: string;
        json?: boolean;
      }) => {
        const wanted: ApprovalPolicy = {
          answers: options.answers === true,
          disclosures: options.disclosures === true,
          refusals: options.refusals === true,
          policyChanges: options.policyChanges === true,
          automaticAnswers: options.automaticAnswers === true,
        };
        const { policy: stored } = await withCases(options.data, (cases) =>
          cases.call('setApprovalPolicy', { policy: wanted }),
        );
        const shown = stored ?? wanted;
        output(options.json, ApprovalPolicy.toJSON(shown), () => policyText(shown));
      },
    );
}
