import { FindingKind, IllicitKind, Priority, TraceRequest, WeaponType } from '@tracenet/proto';

/** A complete trace request for an FNX-45 with serial `serial`. */
export function traceRequest(serial = 'FX-0412-2231', reference = 'OCLCO-2026-0147'): TraceRequest {
  return TraceRequest.fromPartial({
    requestingAuthority: 'Office central de lutte contre le crime organisé (OCLCO)',
    caseReference: reference,
    priority: Priority.PRIORITY_ROUTINE,
    illicitCriteria: [
      { kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Code de la sécurité intérieure, art. L317-8' },
    ],
    circumstances: {
      kind: FindingKind.FINDING_KIND_SEIZED,
      date: '2026-10-02',
      place: 'Marseille',
      agency: 'Police judiciaire',
      description: '',
      circumstance: 0,
    },
    weapon: {
      markings: {
        manufacturer: 'FN Herstal',
        countryOfManufacture: 'BEL',
        serialNumber: serial,
        model: 'FNX-45',
        type: WeaponType.WEAPON_TYPE_PISTOL,
        calibre: '.45 ACP',
        year: 2011,
      },
    },
    intendedUse: 'criminal investigation and prosecution',
  });
}

/** Whether a process with this id is still running. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
