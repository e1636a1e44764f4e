import { Screen } from '../components.js';
import { t } from '../i18n.js';
import type { Route } from '../router.js';

/** Built in issue 18 by its owner (see /work/i18-common.md). */
export function CaseScreen(props: { caseId: string; route: Route }) {
  return <Screen title={t('case.title', { id: props.caseId })}>{null}</Screen>;
}
