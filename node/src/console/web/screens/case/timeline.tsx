import {
  type Approval,
  ApprovalState,
  AuthorityDefinition,
  type Case,
  CaseState,
  type TimelineEntry,
} from '@tracenet/proto/browser';
import { rpc } from '../../api.js';
import { Time } from '../../components.js';
import { participantName, t } from '../../i18n.js';
import { PeerText } from './answer.js';
import { stateKey, stateLabel } from './labels.js';

/** Who did one step, as the audit log names it: kind ("officer", "client", "node") and id. */
export interface StepActor {
  kind: string;
  id: string;
}

/**
 * Who took each local step of the case. The timeline says only "local" (docs/protocol.md 12.1);
 * the audit log names the officer, client or node of each `case.changed` entry (8.1, 8.5), so the
 * entries written within a few seconds of each local step are read and matched by case and state.
 * Returns actors by timeline index; a step the log does not show (no permission, a busy node)
 * stays unnamed.
 */
export async function stepActors(c: Case): Promise<Map<number, StepActor>> {
  const found = new Map<number, StepActor>();
  const local = c.timeline.map((entry, index) => ({ entry, index })).filter(({ entry }) => entry.actor === 'local');
  await Promise.all(
    local.map(async ({ entry, index }) => {
      try {
        const { entries } = await rpc(AuthorityDefinition, 'listAudit', {
          sinceMs: entry.atMs - 1,
          untilMs: entry.atMs + 3_000,
          limit: 100,
        });
        for (const audit of entries) {
          if (audit.type !== 'case.changed' && audit.type !== 'case.created') continue;
          const fields = JSON.parse(audit.fieldsJson) as { caseId?: string; state?: string };
          if (fields.caseId !== c.caseId || fields.state !== stateKey(entry.toState)) continue;
          if (audit.actor) found.set(index, { kind: audit.actor.kind, id: audit.actor.id });
          break;
        }
      } catch {
        // the step stays "this node"
      }
    }),
  );
  return found;
}

function who(entry: TimelineEntry, actor: StepActor | undefined, approval: Approval | undefined): string {
  if (approval?.drafter && approval.approver && approval.state === ApprovalState.APPROVAL_STATE_APPROVED)
    return t('case.who.approved', { drafter: actorName(approval.drafter), approver: actorName(approval.approver) });
  if (entry.actor !== 'local') return t('case.who.peer', { peer: participantName(entry.actor) });
  if (actor) return actorName(actor);
  return t('case.who.local');
}

/** An actor in words: "officer amina", "the node (automatic)", "client case-system". */
export function actorName(actor: StepActor): string {
  // An id in Latin letters inside Arabic text: isolated (FSI … PDI) so that it keeps its own order.
  const id = `\u2068${actor.id}\u2069`;
  if (actor.kind === 'officer') return t('case.who.officer', { id });
  if (actor.kind === 'client') return t('case.who.client', { id });
  if (actor.kind === 'node') return t('case.who.node');
  return t('case.who.local');
}

/** Every step of the case, oldest first: when, what (states in words, the node's note), who. */
export function Timeline(props: { c: Case; actors: Map<number, StepActor>; approvals: readonly Approval[] }) {
  return (
    <section class="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">{t('case.timeline.title')}</h2>
      <div class="table-scroll">
        <table class="timeline">
          <thead>
            <tr>
              <th scope="col">{t('case.timeline.when')}</th>
              <th scope="col">{t('case.timeline.step')}</th>
              <th scope="col">{t('case.timeline.who')}</th>
            </tr>
          </thead>
          <tbody>
            {props.c.timeline.map((entry, index) => {
              const approval = props.approvals.find(
                (a) => a.approvalId !== '' && entry.summary.includes(a.approvalId) && entry.fromState !== entry.toState,
              );
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: the timeline only grows at its end
                <tr key={index}>
                  <td>
                    <Time ms={entry.atMs} />
                  </td>
                  <td>
                    <strong>
                      {entry.fromState === entry.toState
                        ? t('case.timeline.note')
                        : entry.fromState === CaseState.CASE_STATE_UNSPECIFIED
                          ? t('case.timeline.created', { to: stateLabel(entry.toState) })
                          : t('case.timeline.move', {
                              from: stateLabel(entry.fromState),
                              to: stateLabel(entry.toState),
                            })}
                    </strong>
                    <div class="muted" lang="en">
                      <PeerText text={entry.summary} />
                    </div>
                  </td>
                  <td>{who(entry, props.actors.get(index), approval)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
