import { currentSession } from '../../api.js';

/** Whether the signed-in officer may change records (import, report): the `officer` role (permissions.ts). */
export function mayWriteRecords(): boolean {
  return currentSession().who?.roles.includes('officer') ?? false;
}
