import {
  ErrorCode,
  type LookupHit,
  type ManufactureMarking,
  TraceRequest,
  TracenetError,
  type WeaponDescription,
} from '@tracenet/proto';
import type { Case } from '@tracenet/proto';
import type { LookupHistory } from './lookup-history.js';

/** What opening a trace needs of the workflow. */
export interface CaseOpener {
  createCase(recipient: string, request: TraceRequest, send: boolean): Promise<Case>;
}

const EMPTY_WEAPON: WeaponDescription = {
  markings: undefined,
  imports: [],
  governmentTransfer: undefined,
  controlComponent: undefined,
  components: [],
  manufactureMethod: 0,
  photos: [],
  otherInformation: '',
  serialObliterated: false,
};

/**
 * Opens a trace request to the owner of a hit (docs/protocol.md 13.9): the hit must be one this
 * node received (its owner and reference as a lookup answered them), else NOT_FOUND. The request
 * is the one given, with `hit_reference` set to the hit's reference, the markings the request
 * leaves empty (manufacturer, model, serial number, calibre, type) taken from the lookup's query,
 * and the intended use and requesting authority taken from the lookup's purpose and authority
 * when empty. The workflow then validates it as any request (REQUEST_INCOMPLETE naming what is
 * still missing: circumstances, illicit criteria, ...) and records it as a draft or sends it.
 *
 * @example
 * ```ts
 * const c = await traceFromHit({ history, workflow }, { owner: 'BEL', reference: 'roi_…', ... }, request, true);
 * ```
 */
export async function traceFromHit(
  deps: { history: LookupHistory; workflow: CaseOpener },
  hit: LookupHit | undefined,
  request: TraceRequest | undefined,
  send: boolean,
): Promise<Case> {
  if (!hit || hit.owner === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'the hit and its owner are required', {
      field: 'hit.owner',
      rule: 'required',
    });
  if (hit.reference === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'the reference of the hit is required', {
      field: 'hit.reference',
      rule: 'required',
    });
  const remembered = await deps.history.hit(hit.owner, hit.reference);
  if (!remembered) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_NOT_FOUND,
      `no lookup of this node received the hit ${hit.reference} from ${hit.owner}`,
      { field: 'hit.reference', rule: 'known_hit' },
    );
  }
  const asked = remembered.query.weapon;
  const base = request ?? TraceRequest.fromPartial({});
  const weapon = base.weapon ?? EMPTY_WEAPON;
  const given: ManufactureMarking = weapon.markings ?? {
    manufacturer: '',
    countryOfManufacture: '',
    serialNumber: '',
    model: '',
    type: 0,
    calibre: '',
    year: 0,
  };
  const markings: ManufactureMarking = {
    ...given,
    manufacturer: given.manufacturer || (asked?.manufacturer ?? ''),
    model: given.model || (asked?.model ?? ''),
    serialNumber: given.serialNumber || (asked?.serialNumber ?? ''),
    calibre: given.calibre || (asked?.calibre ?? ''),
    type: given.type || (asked?.type ?? 0),
  };
  const full: TraceRequest = {
    ...base,
    weapon: { ...weapon, markings },
    intendedUse: base.intendedUse || remembered.query.purpose,
    requestingAuthority: base.requestingAuthority || remembered.query.requestingAuthority,
    hitReference: hit.reference,
  };
  return deps.workflow.createCase(hit.owner, full, send);
}
