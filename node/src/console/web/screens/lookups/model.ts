import { type LookupRequest, type LookupResponse, WeaponType } from '@tracenet/proto/browser';
import type { DeepPartial } from '../../api.js';

/** One lookup of this officer in this browser session (the node keeps no list of an officer's lookups). */
export interface AskedLookup {
  readonly at: number;
  readonly request: DeepPartial<LookupRequest> & { weapon: NonNullable<DeepPartial<LookupRequest>['weapon']> };
  readonly response: LookupResponse;
}

/** The weapon types a query may name, in the protocol's order (0: any). */
export const WEAPON_TYPES = Object.values(WeaponType).filter(
  (v): v is WeaponType => typeof v === 'number' && v > 0,
) as readonly number[];
