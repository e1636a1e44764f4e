import { InterestCategory, type LookupHit, LookupOutcome, type PeerLookupResult } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { formatDate, formatNumber, participantName, t } from '../../i18n.js';
import type { AskedLookup } from './model.js';
import { TraceFromHitForm } from './trace-from-hit.js';

const OUTCOME: Record<number, string> = {
  [LookupOutcome.LOOKUP_OUTCOME_HIT]: 'hit',
  [LookupOutcome.LOOKUP_OUTCOME_NO_HIT]: 'noHit',
  [LookupOutcome.LOOKUP_OUTCOME_TIMEOUT]: 'timeout',
  [LookupOutcome.LOOKUP_OUTCOME_ERROR]: 'error',
};
/** Refusal codes the officer gets explained; any other is named as it is. */
const EXPLAINED = new Set(['KIND_NOT_ALLOWED', 'RATE_LIMITED', 'UNAVAILABLE', 'UNKNOWN_SENDER', 'BAD_SIGNATURE']);

function Refusal({ code }: { code: string }) {
  return (
    <>
      {EXPLAINED.has(code) ? t(`lookups.refusal.${code}`) : t('lookups.refusalOther')} <code>{code}</code>
    </>
  );
}

function Hit(props: { hit: LookupHit; lookup: AskedLookup }) {
  const [open, setOpen] = useState(false);
  const { hit } = props;
  return (
    <div class="lookup-hit">
      <p>
        {hit.recordedDestroyed && <span class="badge destroyed">{t('lookups.recordedDestroyed')}</span>}{' '}
        {(!hit.recordedDestroyed || hit.category !== InterestCategory.INTEREST_CATEGORY_UNSPECIFIED) && (
          <span class="badge danger">{t(`lookups.category.${hit.category}`)}</span>
        )}{' '}
        {hit.partial && <span class="badge">{t('lookups.partial')}</span>}
      </p>
      {hit.recordedDestroyed && (
        <p class="lookup-destroyed">
          {hit.destroyedDate !== ''
            ? t('lookups.destroyedOn', { date: formatDate(hit.destroyedDate) })
            : t('lookups.destroyedUndated')}{' '}
          {hit.certificateId !== '' && (
            <>
              {t('lookups.destroyedCertificate')} <bdi class="mono">{hit.certificateId}</bdi>
            </>
          )}
        </p>
      )}
      {hit.partial && <p class="hint">{t('lookups.partialHint')}</p>}
      <dl class="facts">
        <dt>{t('lookups.reference')}</dt>
        <dd>
          <bdi class="mono">{hit.reference}</bdi>
        </dd>
        <dt>{t('lookups.contactPoint')}</dt>
        <dd>{hit.contactPoint === '' ? t('lookups.noContactPoint') : <bdi>{hit.contactPoint}</bdi>}</dd>
      </dl>
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        {t('lookups.openTrace')}
      </button>
      {open && <TraceFromHitForm hit={hit} lookup={props.lookup} />}
    </div>
  );
}

function Row(props: { result: PeerLookupResult; lookup: AskedLookup }) {
  const { result } = props;
  const outcome = OUTCOME[result.outcome] ?? 'error';
  return (
    <tr class={`outcome-${outcome}`}>
      <th scope="row">
        {participantName(result.peer)} <span class="mono">{result.peer}</span>
      </th>
      <td>
        <span class={`badge${outcome === 'hit' ? ' danger' : outcome === 'noHit' ? ' ok' : ''}`}>
          {t(`lookups.outcome.${outcome}`)}
        </span>
      </td>
      <td>
        {result.hits.map((hit) => (
          <Hit key={hit.reference} hit={hit} lookup={props.lookup} />
        ))}
        {outcome === 'noHit' && t('lookups.noHitHint')}
        {outcome === 'timeout' && t('lookups.timeoutHint')}
        {outcome === 'error' && <Refusal code={result.errorCode} />}
      </td>
      <td class="nowrap">{t('lookups.elapsed', { ms: formatNumber(result.elapsedMs) })}</td>
    </tr>
  );
}

/** Each peer's answer to one lookup: hit (what the protocol releases of it), no hit, refused, or no answer in time. */
export function LookupResults(props: { lookup: AskedLookup }) {
  const { response } = props.lookup;
  const hits = response.results.filter((r) => r.outcome === LookupOutcome.LOOKUP_OUTCOME_HIT).length;
  return (
    <section class="lookup-results" aria-labelledby="lookup-results-title">
      <h2 id="lookup-results-title">{t('lookups.results')}</h2>
      <p role="status">
        {t('lookups.summary', { count: hits, peers: response.results.length })}{' '}
        {response.notAnswered.length > 0 &&
          t('lookups.notAnswered', {
            count: response.notAnswered.length,
            names: response.notAnswered.map(participantName).join(', '),
          })}
      </p>
      {response.results.length === 0 ? (
        <p>{t('lookups.noPeers')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('lookups.peer')}</th>
              <th scope="col">{t('lookups.answer')}</th>
              <th scope="col">{t('lookups.details')}</th>
              <th scope="col">{t('lookups.time')}</th>
            </tr>
          </thead>
          <tbody>
            {response.results.map((result) => (
              <Row key={result.peer} result={result} lookup={props.lookup} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
