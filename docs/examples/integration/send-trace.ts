/**
 * A case system sends a trace request through its node and waits for the answer
 * (docs/integration.md, step 7). Compiled and run by CI against a node backed by PostgreSQL.
 *
 *   TRACENET_ADDRESS=127.0.0.1:7444 TRACENET_TOKEN_FILE=<data>/keys/authority.token \
 *   TRACE_TO=BEL TRACE_MANUFACTURER="FN Herstal" TRACE_SERIAL=FN-1998-0042 TRACE_CALIBRE=7.62x51mm \
 *   TRACE_TYPE=rifle \
 *   node docs/examples/integration/dist/send-trace.js
 *
 * Prints one JSON line: the case id, its final state and the answer's outcome.
 */
import { readFile } from 'node:fs/promises';
import {
  CaseState,
  connect,
  FindingKind,
  IllicitKind,
  Priority,
  TraceOutcome,
  TraceRequest,
  TracenetError,
  WeaponType,
} from '@tracenet/sdk';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`set ${name}`);
  return value;
};

/** `pistol`, `rifle`, `assault_rifle` … as the WeaponType of the contract. */
const weaponType = (name: string): WeaponType => {
  const type = WeaponType[`WEAPON_TYPE_${name.toUpperCase()}` as keyof typeof WeaponType];
  if (type === undefined) throw new Error(`TRACE_TYPE ${name} is not a weapon type`);
  return type;
};

const token = process.env.TRACENET_TOKEN ?? (await readFile(env('TRACENET_TOKEN_FILE'), 'utf8')).trim();
const client = connect({ address: env('TRACENET_ADDRESS', '127.0.0.1:7444'), token });

// Everything ITI para 17 asks of a request (docs/protocol.md 12.2); the node refuses an incomplete
// one with REQUEST_INCOMPLETE, listing every missing field.
const request = TraceRequest.fromPartial({
  requestingAuthority: env('TRACE_AUTHORITY', 'Office central de lutte contre le crime organisé (OCLCO)'),
  caseReference: env('TRACE_REFERENCE', 'OCLCO-2026-0147'),
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
      manufacturer: env('TRACE_MANUFACTURER'),
      serialNumber: env('TRACE_SERIAL'),
      model: process.env.TRACE_MODEL ?? '',
      countryOfManufacture: process.env.TRACE_COUNTRY ?? '',
      type: weaponType(process.env.TRACE_TYPE ?? 'rifle'),
      calibre: env('TRACE_CALIBRE'),
      year: 0,
    },
  },
  intendedUse: 'criminal investigation and prosecution',
});

const finished = new Set<CaseState>([
  CaseState.CASE_STATE_ANSWERED,
  CaseState.CASE_STATE_REFUSED,
  CaseState.CASE_STATE_RESTRICTED,
  CaseState.CASE_STATE_CLOSED,
]);
const deadline = AbortSignal.timeout(Number(process.env.TRACE_WAIT_MS ?? 60_000));

try {
  const { case: created } = await client.cases.createCase(
    { recipient: env('TRACE_TO'), request, send: true },
    { deadlineMs: 10_000 },
  );
  if (!created) throw new Error('the node returned no case');
  let state = created.state;
  // A case system keeps the last sequence it handled and resumes after it; 0 replays the node's
  // history first. The iterator reconnects by itself if the node restarts meanwhile.
  for await (const event of client.events({
    afterSequence: Number(process.env.TRACENET_AFTER_SEQUENCE ?? 0),
    signal: deadline,
  })) {
    if (event.caseId !== created.caseId) continue;
    state = event.state;
    if (finished.has(state)) break;
  }
  const { case: final } = await client.cases.getCase({ caseId: created.caseId });
  console.log(
    JSON.stringify({
      caseId: created.caseId,
      state: CaseState[final?.state ?? state],
      outcome: TraceOutcome[final?.answer?.outcome ?? 0],
      automatic: final?.answer?.automatic ?? false,
      referral: final?.answer?.referral?.participant ?? '',
      lastLegalRecord: final?.answer?.lastLegalRecord ?? '',
      // Values the answering state's release policy withheld (docs/protocol.md 12.11).
      withheld: final?.answer?.withheld.map((w) => w.field) ?? [],
    }),
  );
} catch (error) {
  const failure = TracenetError.from(error);
  console.error(`trace failed: ${failure.codeName} ${failure.field ?? ''} ${failure.message}`);
  process.exitCode = 1;
} finally {
  client.close();
}
