import type { Route } from '../router.js';
import { ImportScreen } from './records/import.js';
import { RecordScreen } from './records/record.js';
import { SearchScreen } from './records/search.js';
import { VerifyScreen } from './records/verify.js';

/** The Records section: `#/records` (search), `#/records/import`, `#/records/verify`, `#/records/<recordId>`. */
export function RecordsScreen({ route }: { route: Route }) {
  const sub = route.path[1];
  if (sub === 'import') return <ImportScreen />;
  if (sub === 'verify') return <VerifyScreen />;
  if (sub) return <RecordScreen recordId={sub} />;
  return <SearchScreen route={route} />;
}
