import { type Case, OnwardDisclosure, type UseRestrictions } from '@tracenet/proto/browser';
import { formatNumber, participantName, t } from '../../i18n.js';
import { Time } from '../../components.js';

/** The use restrictions an answer of `c` travels under: the answer's, a partial answer's, or shared information's. */
export function restrictionsOf(c: Case): UseRestrictions | undefined {
  return c.answer?.restrictions ?? c.restriction?.partialAnswer?.restrictions ?? c.shared?.restrictions;
}

const ONWARD: Record<number, string> = {
  [OnwardDisclosure.ONWARD_DISCLOSURE_NONE]: 'none',
  [OnwardDisclosure.ONWARD_DISCLOSURE_WITH_CONSENT]: 'withConsent',
  [OnwardDisclosure.ONWARD_DISCLOSURE_LISTED]: 'listed',
};

/** The restrictions spelled out: purpose, onward disclosure (and to whom), retention and when it ends. */
export function Restrictions(props: { c: Case }) {
  const r = restrictionsOf(props.c);
  if (!r) return <p class="hint">{t('sharing.noRestrictions')}</p>;
  const onward = ONWARD[r.onwardDisclosure] ?? 'withConsent';
  return (
    <dl class="facts restrictions">
      <dt>{t('sharing.usePurpose')}</dt>
      <dd>{r.purpose === '' ? t('sharing.purposeOfRequest') : <bdi>{r.purpose}</bdi>}</dd>
      <dt>{t('sharing.onward')}</dt>
      <dd>
        {t(`sharing.onward.${onward}`)}
        {onward === 'listed' &&
          r.listedParticipants.length > 0 &&
          ` — ${r.listedParticipants.map(participantName).join(', ')}`}
      </dd>
      <dt>{t('sharing.retention')}</dt>
      <dd>
        {t('sharing.retentionDays', { count: r.retentionDays, days: formatNumber(r.retentionDays) })}
        {props.c.purgedAtMs > 0 ? (
          <span class="sub">
            {t('sharing.purged')} <Time ms={props.c.purgedAtMs} />
          </span>
        ) : (
          props.c.retainUntilMs > 0 && (
            <span class="sub">
              {t('sharing.retainUntil')} <Time ms={props.c.retainUntilMs} />
            </span>
          )
        )}
      </dd>
    </dl>
  );
}

/** "FRA (France)" as a cell: the country name in the officer's language and the participant id. */
export function Participant({ id }: { id: string }) {
  return (
    <>
      {participantName(id)} <span class="mono">{id}</span>
    </>
  );
}

/** The basis of a disclosure: "listed" or a consent id. */
export function Basis({ basis }: { basis: string }) {
  if (basis === 'listed') return <>{t('sharing.basisListed')}</>;
  if (basis.startsWith('consent:'))
    return (
      <>
        {t('sharing.basisConsent')} <span class="mono">{basis.slice('consent:'.length)}</span>
      </>
    );
  return <span class="mono">{basis}</span>;
}
