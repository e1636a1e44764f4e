import {
  type Case,
  OnwardDisclosure,
  type TraceAnswer,
  TraceOutcome,
  type UseRestrictions,
  type WeaponEvent,
} from '@tracenet/proto/browser';
import type { ComponentChildren } from 'preact';
import { Time } from '../../components.js';
import { formatDate, formatNumber, participantName, t } from '../../i18n.js';
import { cleanText, eventTypeLabel, onwardLabel, outcomeLabel, participantList, reasonLabel } from './labels.js';

/** A label and a value, skipped when the value is empty. */
export function Item(props: { label: string; children: ComponentChildren; when?: boolean }) {
  if (props.when === false) return null;
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

/** A peer's free text: shown as text (Preact escapes it), without control characters, line breaks kept, isolated from the page's direction. */
export function PeerText({ text }: { text: string }) {
  return <bdi class="peer-text">{cleanText(text)}</bdi>;
}

/** The use restrictions of an answer in words: what it may be used for, who may receive it, how long it is kept. */
export function Restrictions(props: { restrictions: UseRestrictions; provider: string; c: Case }) {
  const r = props.restrictions;
  const provider = participantName(props.provider);
  return (
    <section class="restrictions" aria-labelledby="restrictions-title">
      <h3 id="restrictions-title">{t('case.restrictions.title')}</h3>
      <ul>
        <li>
          {r.purpose.trim() ? (
            <>
              {t('case.restrictions.purpose')} <PeerText text={r.purpose} />
            </>
          ) : (
            t('case.restrictions.purposeRequest')
          )}
        </li>
        <li>
          <strong>{onwardLabel(r.onwardDisclosure)}</strong>{' '}
          {r.onwardDisclosure === OnwardDisclosure.ONWARD_DISCLOSURE_NONE &&
            t('case.restrictions.onwardNone', { provider })}
          {r.onwardDisclosure === OnwardDisclosure.ONWARD_DISCLOSURE_WITH_CONSENT &&
            t('case.restrictions.onwardConsent', { provider })}
          {r.onwardDisclosure === OnwardDisclosure.ONWARD_DISCLOSURE_LISTED &&
            t('case.restrictions.onwardListed', { provider, listed: participantList(r.listedParticipants) })}
        </li>
        {r.retentionDays > 0 && (
          <li>
            {t('case.restrictions.retention', { count: r.retentionDays, days: formatNumber(r.retentionDays) })}{' '}
            {props.c.retainUntilMs > 0 &&
              t('case.restrictions.retainUntil', { date: formatDate(props.c.retainUntilMs) })}
          </li>
        )}
        {props.c.purgedAtMs > 0 && (
          <li>
            <strong>{t('case.restrictions.purged', { date: formatDate(props.c.purgedAtMs) })}</strong>
          </li>
        )}
      </ul>
    </section>
  );
}

function History({ events }: { events: readonly WeaponEvent[] }) {
  if (events.length === 0) return null;
  return (
    <div class="table-scroll">
      <table class="history">
        <caption>{t('case.history.title')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('case.history.date')}</th>
            <th scope="col">{t('case.history.event')}</th>
            <th scope="col">{t('case.history.place')}</th>
            <th scope="col">{t('case.history.parties')}</th>
            <th scope="col">{t('case.history.details')}</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: events have no id and never reorder
            <tr key={i}>
              <td>{formatDate(e.date)}</td>
              <td>{eventTypeLabel(e.type)}</td>
              <td>
                <PeerText text={[e.place, e.agency].filter(Boolean).join(' · ')} />
              </td>
              <td>
                {e.origin && <div>{t('case.history.from', { participant: participantName(e.origin) })}</div>}
                {e.destination && <div>{t('case.history.to', { participant: participantName(e.destination) })}</div>}
                {e.endUser && (
                  <div>
                    {t('case.history.endUser')} <PeerText text={e.endUser} />
                  </div>
                )}
                {e.licence && (
                  <div>
                    {t('case.history.licence')} <PeerText text={e.licence} />
                  </div>
                )}
              </td>
              <td>
                <PeerText text={e.details} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** An answer (or the partial answer of a restriction): outcome in words, what it established, history, withheld values, restrictions. */
export function AnswerView(props: { answer: TraceAnswer; c: Case; provider: string; children?: ComponentChildren }) {
  const a = props.answer;
  return (
    <div class="answer">
      <p class="outcome">
        <strong class={`badge outcome-${a.outcome}`}>{outcomeLabel(a.outcome)}</strong>{' '}
        {a.automatic && <span class="badge">{t('case.answer.automatic')}</span>}
      </p>
      <dl class="facts">
        <Item label={t('case.answer.lastLegalRecord')} when={a.lastLegalRecord !== ''}>
          <PeerText text={a.lastLegalRecord} />
        </Item>
        <Item label={t('case.answer.pointOfDiversion')} when={a.pointOfDiversion !== ''}>
          <PeerText text={a.pointOfDiversion} />
        </Item>
        <Item label={t('case.answer.referredTo')} when={a.outcome === TraceOutcome.TRACE_OUTCOME_REFERRED}>
          <strong>{participantName(a.referral?.participant ?? '')}</strong>
          {a.referral?.basis && (
            <div>
              <PeerText text={a.referral.basis} />
            </div>
          )}
        </Item>
        <Item label={t('case.answer.details')} when={a.details !== ''}>
          <PeerText text={a.details} />
        </Item>
      </dl>
      {props.children}
      <History events={a.history} />
      {a.withheld.length > 0 && (
        <div class="withheld">
          <h4>{t('case.answer.withheld')}</h4>
          <ul>
            {a.withheld.map((w) => (
              <li key={w.field}>
                <code>{cleanText(w.field)}</code> {w.reason && <PeerText text={w.reason} />}{' '}
                {w.availableOnRequest && <em>{t('case.answer.availableOnRequest')}</em>}
              </li>
            ))}
          </ul>
        </div>
      )}
      {a.restrictions && <Restrictions restrictions={a.restrictions} provider={props.provider} c={props.c} />}
    </div>
  );
}

/** Everything the peer (or this node) said in the case's steps: delay, restriction, refusal, withdrawal, closure. */
export function Outcomes(props: { c: Case; provider: string; followOn?: ComponentChildren }) {
  const c = props.c;
  return (
    <>
      {c.answer && (
        <section class="panel" aria-labelledby="answer-title">
          <h2 id="answer-title">{t('case.answer.title', { peer: participantName(props.provider) })}</h2>
          <AnswerView answer={c.answer} c={c} provider={props.provider}>
            {props.followOn}
          </AnswerView>
        </section>
      )}
      {c.restriction && (
        <section class="panel" aria-labelledby="restriction-title">
          <h2 id="restriction-title">{t('case.restriction.title')}</h2>
          <dl class="facts">
            <Item label={t('case.reasonLabel')}>{reasonLabel(c.restriction.reason)}</Item>
            <Item label={t('case.explanation')}>
              <PeerText text={c.restriction.explanation} />
            </Item>
          </dl>
          {c.restriction.partialAnswer ? (
            <AnswerView answer={c.restriction.partialAnswer} c={c} provider={props.provider}>
              {props.followOn}
            </AnswerView>
          ) : (
            <p>{t('case.restriction.nothing')}</p>
          )}
        </section>
      )}
      {c.refusal && (
        <section class="panel refusal" aria-labelledby="refusal-title">
          <h2 id="refusal-title">{t('case.refusal.title')}</h2>
          <dl class="facts">
            <Item label={t('case.reasonLabel')}>{reasonLabel(c.refusal.reason)}</Item>
            <Item label={t('case.explanation')}>
              <PeerText text={c.refusal.explanation} />
            </Item>
          </dl>
        </section>
      )}
      {c.delay && (
        <section class="panel" aria-labelledby="delay-title">
          <h2 id="delay-title">{t('case.delay.title')}</h2>
          <dl class="facts">
            <Item label={t('case.reasonLabel')}>{reasonLabel(c.delay.reason)}</Item>
            <Item label={t('case.explanation')}>
              <PeerText text={c.delay.explanation} />
            </Item>
            <Item label={t('case.delay.expectedBy')} when={c.delay.expectedBy !== ''}>
              {formatDate(c.delay.expectedBy)}
            </Item>
          </dl>
        </section>
      )}
      {c.withdrawal && (
        <section class="panel" aria-labelledby="withdrawal-title">
          <h2 id="withdrawal-title">{t('case.withdrawal.title')}</h2>
          <p>
            <PeerText text={c.withdrawal.reason || t('case.withdrawal.noReason')} />
          </p>
        </section>
      )}
      {c.closure && (
        <section class="panel" aria-labelledby="closure-title">
          <h2 id="closure-title">{t('case.closure.title')}</h2>
          <p>{c.closure.useful ? t('case.closure.useful') : t('case.closure.notUseful')}</p>
          {c.closure.feedback && (
            <p>
              <PeerText text={c.closure.feedback} />
            </p>
          )}
        </section>
      )}
      {c.clarifications.length > 0 && (
        <section class="panel" aria-labelledby="clarifications-title">
          <h2 id="clarifications-title">{t('case.clarifications.title')}</h2>
          <ol class="clarifications">
            {c.clarifications.map((q) => (
              <li key={q.clarificationId}>
                <p>
                  <strong>{t('case.clarifications.question')}</strong> <Time ms={q.askedAtMs} />
                </p>
                <p>
                  <PeerText text={q.question} />
                </p>
                {q.answeredAtMs > 0 ? (
                  <>
                    <p>
                      <strong>{t('case.clarifications.answer')}</strong> <Time ms={q.answeredAtMs} />
                    </p>
                    <p>
                      <PeerText text={q.answer} />
                    </p>
                  </>
                ) : (
                  <p class="muted">{t('case.clarifications.open')}</p>
                )}
              </li>
            ))}
          </ol>
        </section>
      )}
    </>
  );
}
