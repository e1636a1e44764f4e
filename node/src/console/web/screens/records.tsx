import { currentSession } from '../api.js';
import type { Route } from '../router.js';
import { ImportScreen } from './records/import.js';
import { RecordScreen } from './records/record.js';
import { SearchScreen } from './records/search.js';
import './records.css';

/** Whether the signed-in officer may change records (import, report): the `officer` role (permissions.ts). */
export function mayWriteRecords(): boolean {
  return currentSession().who?.roles.includes('officer') ?? false;
}

/** The Records section: `#/records` (search), `#/records/import`, `#/records/<recordId>`. */
export function RecordsScreen({ route }: { route: Route }) {
  const sub = route.path[1];
  if (sub === 'import') return <ImportScreen />;
  if (sub) return <RecordScreen recordId={sub} />;
  return <SearchScreen route={route} />;
}
