/**
 * A case system's test with the SDK's test kit (docs/integration.md, section 3): two real nodes,
 * BEL holding a record and answering FRA automatically, FRA sending a trace and listing its
 * cases. Every request is built with its message's `fromPartial`, which fills the fields not
 * given with their defaults. Compiled by `npm run build`; CI copies the compiled file into a
 * project that installed the packed packages (sdk/test/package.test.ts) and runs it there.
 *
 *   node docs/examples/integration/dist/test-kit-trace.js
 *
 * Prints one JSON line: the cases listed, the state, outcome and referral of the trace.
 */
import {
  CaseRole,
  CaseState,
  CreateCaseRequest,
  FindingKind,
  IllicitKind,
  ListCasesRequest,
  Priority,
  PutRecordRequest,
  TraceOutcome,
  TraceRequest,
  WeaponEventType,
  WeaponRecord,
  WeaponType,
} from '@tracenet/sdk';
import { createTestFederation } from '@tracenet/sdk/testing';

const federation = await createTestFederation({
  participants: ['FRA', 'BEL'],
  policies: [
    { of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true, autoAcknowledge: true, autoAnswer: true } },
  ],
});
try {
  const bel = federation.client('BEL');
  const fra = federation.client('FRA');

  await bel.records.putRecord(
    PutRecordRequest.fromPartial({
      record: WeaponRecord.fromPartial({
        manufacture: {
          manufacturer: 'FN Herstal',
          serialNumber: 'FN-1998-0042',
          model: 'FAL',
          calibre: '7.62x51mm',
          type: WeaponType.WEAPON_TYPE_RIFLE,
          countryOfManufacture: 'BEL',
          year: 1998,
        },
        events: [
          { type: WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED, date: '1998-03-02', place: 'Herstal' },
          {
            type: WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED,
            date: '1999-05-10',
            destination: 'KEN',
            licence: 'BE-EX-1999-17',
            endUser: 'Kenya Police',
          },
        ],
      }),
    }),
  );

  const request = TraceRequest.fromPartial({
    requestingAuthority: 'Office central de lutte contre le crime organisé (OCLCO)',
    caseReference: 'OCLCO-2026-0147',
    priority: Priority.PRIORITY_ROUTINE,
    illicitCriteria: [
      { kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Code de la sécurité intérieure, art. L317-8' },
    ],
    circumstances: {
      kind: FindingKind.FINDING_KIND_SEIZED,
      date: '2026-10-02',
      place: 'Marseille',
      agency: 'Police judiciaire',
    },
    weapon: {
      markings: {
        manufacturer: 'FN Herstal',
        serialNumber: 'FN 1998 0042',
        model: 'FAL',
        calibre: '7.62x51mm',
        type: WeaponType.WEAPON_TYPE_RIFLE,
      },
    },
    intendedUse: 'criminal investigation and prosecution',
  });
  const { case: created } = await fra.cases.createCase(
    CreateCaseRequest.fromPartial({ recipient: 'BEL', request, send: true }),
  );
  if (!created) throw new Error('the node returned no case');

  // Wait for the answer: the events of FRA's node, from the first one.
  for await (const event of fra.events({ afterSequence: 0, signal: AbortSignal.timeout(30_000) })) {
    if (event.caseId === created.caseId && event.state === CaseState.CASE_STATE_ANSWERED) break;
  }

  const { cases } = await fra.cases.listCases(
    ListCasesRequest.fromPartial({ role: CaseRole.CASE_ROLE_REQUESTER, limit: 10 }),
  );
  const listed = cases.find((c) => c.caseId === created.caseId);
  console.log(
    JSON.stringify({
      listed: cases.length,
      state: CaseState[listed?.state ?? CaseState.CASE_STATE_UNSPECIFIED],
      outcome: TraceOutcome[listed?.answer?.outcome ?? TraceOutcome.TRACE_OUTCOME_UNSPECIFIED],
      referral: listed?.answer?.referral?.participant ?? '',
    }),
  );
} finally {
  await federation.stop();
}
