import { Screen } from '../components.js';
import { t } from '../i18n.js';
import type { Route } from '../router.js';

/** Built in issue 18 by its owner (see /work/i18-common.md). */
export function InboxScreen(_props: { route: Route }) {
  return <Screen title={t('nav.inbox')}>{null}</Screen>;
}
