import { FindingKind, IllicitKind, type ManufactureMarking, Priority, TraceRequest, WeaponType } from '@tracenet/proto';

/**
 * A complete trace request (docs/protocol.md 12.2): an FNX-45 pistol seized in Goma under an arms
 * embargo, with `changes` applied to the request and `markings` to its weapon markings.
 */
export function traceRequest(
  changes: Partial<TraceRequest> = {},
  markings: Partial<ManufactureMarking> = {},
): TraceRequest {
  return TraceRequest.fromPartial({
    requestingAuthority: 'Office central de lutte contre le crime organisé (OCLCO)',
    caseReference: 'OCLCO-2026-0147',
    priority: Priority.PRIORITY_ROUTINE,
    illicitCriteria: [{ kind: IllicitKind.ILLICIT_KIND_ARMS_EMBARGO, legalBasis: 'UNSC res. 2745 (2024) para 1' }],
    circumstances: {
      kind: FindingKind.FINDING_KIND_SEIZED,
      date: '2025-12-02',
      place: 'Goma',
      agency: 'MONUSCO',
      description: '',
      circumstance: 0,
    },
    weapon: {
      markings: {
        manufacturer: 'FN Herstal',
        countryOfManufacture: 'BEL',
        serialNumber: 'FX-0412-2231',
        model: 'FNX-45',
        type: WeaponType.WEAPON_TYPE_PISTOL,
        calibre: '.45 ACP',
        year: 2011,
        ...markings,
      },
    },
    intendedUse: 'criminal investigation and prosecution',
    ...changes,
  });
}
