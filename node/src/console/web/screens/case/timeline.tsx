import { type Approval, ApprovalState, type Case, CaseState, type TimelineEntry } from '@tracenet/proto/browser';
import { Time } from '../../components.js';
import { participantName, t } from '../../i18n.js';
import { PeerText } from './answer.js';
import { stateLabel } from './labels.js';

/** Who did a step: kind ("officer", "client", "node") and id. */
interface StepActor {
  kind: string;
  id: string;
}

/** The actor of a local step from its `by` ("officer:amina", "client:cms", "node"), or undefined. */
function byOf(entry: TimelineEntry): StepActor | undefined {
  if (entry.by === '') return undefined;
  const at = entry.by.indexOf(':');
  return at < 0 ? { kind: entry.by, id: '' } : { kind: entry.by.slice(0, at), id: entry.by.slice(at + 1) };
}

function who(entry: TimelineEntry, approval: Approval | undefined): string {
  if (approval?.drafter && approval.approver && approval.state === ApprovalState.APPROVAL_STATE_APPROVED)
    return t('case.who.approved', { drafter: actorName(approval.drafter), approver: actorName(approval.approver) });
  if (entry.actor !== 'local') return t('case.who.peer', { peer: participantName(entry.actor) });
  const actor = byOf(entry);
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
export function Timeline(props: { c: Case; approvals: readonly Approval[] }) {
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
                  <td>{who(entry, approval)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
