import { type Case, CaseRole, CaseState } from '@tracenet/proto/browser';
import { currentSession } from '../../api.js';
import { Time } from '../../components.js';
import { formatDate, participantName, t } from '../../i18n.js';
import { href } from '../../router.js';
import { PeerText } from './answer.js';
import { outcomeLabel, stateLabel } from './labels.js';

/** When the case got its answer (or its last step): the time of the timeline entry that reached its state. */
function stepTime(c: Case): number {
  for (let i = c.timeline.length - 1; i >= 0; i--) {
    const entry = c.timeline[i];
    if (entry && entry.toState === c.state && entry.fromState !== entry.toState) return entry.atMs;
  }
  return c.updatedAtMs;
}

function outcomeOf(c: Case): string {
  const answer = c.answer ?? c.restriction?.partialAnswer;
  if (answer) return outcomeLabel(answer.outcome);
  return stateLabel(c.state);
}

/**
 * The trace chain along the line of supply: each state asked, in chain order (the first request
 * first: usually the state of manufacture), with its outcome and time, then where the weapon was
 * found. An ordered list drawn as a chain; the arrows are decoration and turn with the writing
 * direction (Arabic: right to left).
 */
export function Chain(props: { cases: readonly Case[]; current: string }) {
  const here = currentSession().participantId;
  const first = props.cases[0];
  const finding = first?.request?.circumstances;
  // The requester found the weapon; on the requested side that is the peer.
  const finder = first ? (first.role === CaseRole.CASE_ROLE_REQUESTED ? first.peer : here) : here;
  return (
    <section class="panel" aria-labelledby="chain-title">
      <h2 id="chain-title">{t('case.chain.title')}</h2>
      <p class="muted">{t('case.chain.hint')}</p>
      <ol class="chain">
        {props.cases.map((c, i) => {
          const asked = c.role === CaseRole.CASE_ROLE_REQUESTED ? here : c.peer;
          const answered = c.answer ?? c.restriction?.partialAnswer;
          return (
            <li
              key={c.caseId}
              class={`hop${c.caseId === props.current ? ' hop-current' : ''}`}
              aria-current={c.caseId === props.current ? 'step' : undefined}
            >
              <span class="hop-number">{t('case.chain.hop', { n: i + 1 })}</span>
              <strong class="hop-country">{participantName(asked)}</strong>
              <span class="hop-outcome">{outcomeOf(c)}</span>
              {answered?.referral?.participant && (
                <span class="hop-referral">
                  {t('case.chain.referredTo', { participant: participantName(answered.referral.participant) })}
                </span>
              )}
              <span class="hop-time">
                <Time ms={stepTime(c)} />
              </span>
              {c.caseId === props.current ? (
                <span class="hop-link">{t('case.chain.thisCase')}</span>
              ) : (
                <a class="hop-link" href={href('cases', c.caseId)}>
                  {t('case.chain.open', { id: c.caseId })}
                </a>
              )}
              <span class="chain-arrow" aria-hidden="true">
                →
              </span>
            </li>
          );
        })}
        <li class="hop hop-finding">
          <span class="hop-number">{t('case.chain.found')}</span>
          <strong class="hop-country">{participantName(finder)}</strong>
          {finding && (
            <span class="hop-outcome">
              <PeerText text={finding.place} /> {formatDate(finding.date)}
            </span>
          )}
          {first && first.state === CaseState.CASE_STATE_DRAFT && <span class="muted">{stateLabel(first.state)}</span>}
        </li>
      </ol>
    </section>
  );
}
