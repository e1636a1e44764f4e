import { LookupsDefinition, NodeEventType } from '@tracenet/proto/browser';
import { useEffect, useRef } from 'preact/hooks';
import { onNodeEvent, rpc } from '../../api.js';
import { ErrorMessage, Pager, Time } from '../../components.js';
import { participantName, t } from '../../i18n.js';
import { usePaged } from '../../paged.js';
import { href } from '../../router.js';

const PAGE = 50;

/**
 * The owner's view: the hits other states made on this node's records of interest (Lookups/ListHits),
 * newest first — who asked, when, for what stated purpose, on which record. Live: a new hit reloads
 * the first page.
 */
export function HitsView() {
  const listing = usePaged(async (cursor) => {
    const page = await rpc(LookupsDefinition, 'listHits', { limit: PAGE, cursor });
    return { items: page.hits, next: page.nextCursor };
  }, []);
  const hits = listing.items;
  // The newest hit of the first page as first loaded: hits after it are announced as new.
  const baseline = useRef<number | undefined>(undefined);
  const newest = useRef(0);
  newest.current = Math.max(newest.current, ...hits.map((h) => h.atMs));
  if (!listing.loading) baseline.current ??= newest.current;
  useEffect(
    () =>
      onNodeEvent((event) => {
        // The stream also replays earlier events; only a hit after the newest shown reloads.
        if (event.type !== NodeEventType.NODE_EVENT_TYPE_LOOKUP_HIT || event.atMs <= newest.current) return;
        listing.reload();
      }),
    [],
  );
  const fresh = baseline.current === undefined ? 0 : hits.filter((h) => h.atMs > (baseline.current ?? 0)).length;

  return (
    <section aria-labelledby="hits-title">
      <h2 id="hits-title">{t('lookups.hitsTitle')}</h2>
      <p class="hint">{t('lookups.hitsHint')}</p>
      <p role="status" class="visually-hidden">
        {fresh > 0 ? t('lookups.newHits', { count: fresh }) : ''}
      </p>
      <ErrorMessage error={listing.error} />
      {listing.loading && hits.length === 0 ? (
        <p class="loading" aria-busy="true">
          {t('common.loading')}
        </p>
      ) : hits.length === 0 ? (
        listing.error === undefined && <p>{t('lookups.noHits')}</p>
      ) : (
        <>
          <table class="hits">
            <thead>
              <tr>
                <th scope="col">{t('lookups.when')}</th>
                <th scope="col">{t('lookups.askedBy')}</th>
                <th scope="col">{t('lookups.purpose')}</th>
                <th scope="col">{t('lookups.record')}</th>
                <th scope="col">{t('lookups.categoryHeading')}</th>
              </tr>
            </thead>
            <tbody>
              {hits.map((hit) => (
                <tr key={hit.hitId}>
                  <td>
                    <Time ms={hit.atMs} />
                  </td>
                  <td>
                    {participantName(hit.askedBy)} <span class="mono">{hit.askedBy}</span>
                    {hit.requestingAuthority !== '' && (
                      <span class="sub">
                        <bdi>{t('lookups.onBehalfOf', { authority: hit.requestingAuthority })}</bdi>
                      </span>
                    )}
                  </td>
                  <td class="purpose" dir="auto">
                    {hit.purpose}
                  </td>
                  <td>
                    <a href={href('records', hit.recordId)} class="mono">
                      {hit.recordId}
                    </a>
                    <bdi class="sub mono">{hit.reference}</bdi>
                  </td>
                  <td>
                    {t(`lookups.category.${hit.category}`)}
                    {hit.partial && <span class="sub">{t('lookups.partial')}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager shown={hits.length} hasMore={listing.next !== ''} onMore={listing.more} />
        </>
      )}
    </section>
  );
}
