import { type Case, FindingKind, IllicitKind, Priority, TraceRequest, WeaponType } from '@tracenet/proto';
import type { UnaryClient } from '../../src/api/unary-client.js';
import type { CasesServer } from '@tracenet/proto';
import { mapLimit } from '../integration/processes.js';

/** A complete trace request for pistol number `i` (no registry holds it: the answer would be manual). */
export function traceRequest(i: number): TraceRequest {
  return TraceRequest.fromPartial({
    requestingAuthority: 'Office central de lutte contre le crime organisé (OCLCO)',
    caseReference: `CHAOS-${i}`,
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
        serialNumber: `FX-${String(i).padStart(6, '0')}`,
        model: 'FNX-45',
        type: WeaponType.WEAPON_TYPE_PISTOL,
        calibre: '.45 ACP',
        year: 2011,
      },
    },
    intendedUse: 'criminal investigation and prosecution',
  });
}

/** Creates and sends `count` traces to `recipient` with `concurrency` calls in flight; trace ids in order. */
export function sendTraces(
  cases: UnaryClient<CasesServer>,
  recipient: string,
  count: number,
  concurrency = 16,
  first = 0,
): Promise<string[]> {
  return mapLimit(
    Array.from({ length: count }, (_, i) => first + i),
    concurrency,
    async (i) =>
      ((await cases.call('createCase', { recipient, request: traceRequest(i), send: true })).case as Case).traceId,
  );
}

/** Every case of a node, paging with the API's cursor. */
export async function listAllCases(cases: UnaryClient<CasesServer>): Promise<Case[]> {
  const all: Case[] = [];
  let cursor = '';
  do {
    const page = await cases.call('listCases', { role: 0, state: 0, peer: '', overdueOnly: false, limit: 500, cursor });
    all.push(...page.cases);
    cursor = page.nextCursor;
  } while (cursor !== '');
  return all;
}
