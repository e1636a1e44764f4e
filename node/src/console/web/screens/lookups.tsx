import { Screen } from '../components.js';
import { t } from '../i18n.js';
import { href, type Route } from '../router.js';
import { HitsView } from './lookups/hits.js';
import { LookupSearch } from './lookups/search.js';

/** Lookups: the hit / no-hit search across the federation, and the owner's view of hits on this node's records. */
export function LookupsScreen(props: { route: Route }) {
  const hits = props.route.query.get('tab') === 'hits';
  return (
    <Screen title={t('nav.lookups')}>
      <nav class="tabs" aria-label={t('lookups.views')}>
        <a href={href('lookups')} aria-current={hits ? undefined : 'page'}>
          {t('lookups.searchTab')}
        </a>
        <a href={href('lookups', { tab: 'hits' })} aria-current={hits ? 'page' : undefined}>
          {t('lookups.hitsTab')}
        </a>
      </nav>
      {hits ? <HitsView /> : <LookupSearch />}
    </Screen>
  );
}
