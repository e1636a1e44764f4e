import { Screen, Tabs } from '../components.js';
import { t } from '../i18n.js';
import { href, type Route } from '../router.js';
import { AccountsTab } from './admin/accounts.js';
import { KeysTab } from './admin/keys.js';
import { PeersTab } from './admin/peers.js';
import { PoliciesTab } from './admin/policies.js';
import { canAdminister } from './admin/shared.js';

const TABS = ['peers', 'policies', 'keys', 'accounts'] as const;
type Tab = (typeof TABS)[number];

/**
 * Administration: peers, policies, keys and roster, accounts and clients (`#/admin/<tab>`).
 * Administrators change them; auditors see the same screens without the buttons that change
 * (the node refuses those calls to them anyway).
 */
export function AdminScreen({ route }: { route: Route }) {
  const tab: Tab = (TABS as readonly string[]).includes(route.path[1] ?? '') ? (route.path[1] as Tab) : 'peers';
  return (
    <Screen title={t('nav.admin')}>
      {!canAdminister() && (
        <p class="notice" role="note">
          {t('admin.readOnly')}
        </p>
      )}
      <Tabs
        label={t('admin.sections')}
        tabs={TABS.map((name) => ({ href: href('admin', name), label: t(`admin.tab.${name}`), current: tab === name }))}
      />
      {tab === 'peers' && <PeersTab />}
      {tab === 'policies' && <PoliciesTab peer={route.path[2] ?? ''} />}
      {tab === 'keys' && <KeysTab />}
      {tab === 'accounts' && <AccountsTab />}
    </Screen>
  );
}
