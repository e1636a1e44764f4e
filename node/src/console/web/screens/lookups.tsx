import { Screen, Tabs } from '../components.js';
import { t } from '../i18n.js';
import { href, type Route } from '../router.js';
import { HitsView } from './lookups/hits.js';
import { LookupSearch } from './lookups/search.js';

/** Lookups: the hit / no-hit search across the federation, and the owner's view of hits on this node's records. */
export function LookupsScreen(props: { route: Route }) {
  const hits = props.route.query.get('tab') === 'hits';
  return (
    <Screen title={t('nav.lookups')}>
      <Tabs
        label={t('lookups.views')}
        tabs={[
          { href: href('lookups'), label: t('lookups.searchTab'), current: !hits },
          { href: href('lookups', { tab: 'hits' }), label: t('lookups.hitsTab'), current: hits },
        ]}
      />
      {hits ? <HitsView /> : <LookupSearch />}
    </Screen>
  );
}
