// Writes the fixture of a store of layout version 1 (node/test/fixtures/store-v1): BEL's data
// directory after a tiny exchange — a record, a trace request from FRA answered automatically
// from it, a notice — written by the code of commit a79a564, the last one before the store
// recorded its layout version (docs/adr/0011-typed-repositories.md). Its keys are throw-away test
// keys. Run it with that commit's build:
//
//   git archive a79a564 | tar -x -C /tmp/v1   (link node_modules, then `npx tsc -b node` there)
//   node scripts/make-store-fixture.mjs /tmp/v1 node/test/fixtures/store-v1
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, target] = process.argv.slice(2);
if (!root || !target)
  throw new Error('usage: node scripts/make-store-fixture.mjs <checkout of a79a564, built> <fixture directory>');
const { startLocalFederation } = await import(pathToFileURL(resolve(root, 'node/dist/index.js')).href);
const {
  CaseState,
  WeaponEventType: E,
  WeaponStatus,
  WeaponType,
  Priority,
  IllicitKind,
  FindingKind,
} = await import(pathToFileURL(resolve(root, 'proto/dist/index.js')).href);

const weapon = {
  manufacturer: 'FN Herstal',
  countryOfManufacture: 'BEL',
  serialNumber: 'FX-0412-2231',
  model: 'FNX-45',
  type: WeaponType.WEAPON_TYPE_PISTOL,
  calibre: '.45 ACP',
  year: 2011,
};
const event = (fields) => ({
  date: '',
  place: '',
  agency: '',
  destination: '',
  origin: '',
  licence: '',
  endUser: '',
  details: '',
  circumstance: 0,
  undertaking: undefined,
  ...fields,
});

const base = await mkdtemp(join(tmpdir(), 'tracenet-fixture-'));
const federation = await startLocalFederation({
  participants: ['BEL', 'FRA'],
  baseDir: base,
  keep: true,
  policies: [
    { of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true, autoAcknowledge: true, autoAnswer: true } },
  ],
});
try {
  const bel = federation.node('BEL');
  const fra = federation.node('FRA');
  await bel.records.call('putRecord', {
    record: {
      recordId: '',
      manufacture: weapon,
      imports: [],
      governmentTransfer: undefined,
      controlComponent: undefined,
      components: [],
      manufactureMethod: 1,
      secondaryMarks: [],
      status: WeaponStatus.WEAPON_STATUS_EXPORTED,
      events: [
        event({ type: E.WEAPON_EVENT_TYPE_MANUFACTURED, date: '2011-05-17', place: 'Herstal', agency: 'FN Herstal' }),
        event({
          type: E.WEAPON_EVENT_TYPE_EXPORTED,
          date: '2012-03-14',
          destination: 'KEN',
          licence: 'BE-EXP-2012-0413',
          endUser: 'Kenya Police Service',
        }),
      ],
      recordedAtMs: 0,
      updatedAtMs: 0,
      notes: '',
      itemCategory: 0,
      quantity: 0,
      illicitOrigin: undefined,
      collection: undefined,
      destruction: undefined,
    },
  });
  const request = {
    traceId: '',
    requestingAuthority: 'OCLCO',
    caseReference: 'OCLCO-2026-0147',
    priority: Priority.PRIORITY_ROUTINE,
    urgencyJustification: '',
    illicitCriteria: [{ kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'art. L317-8' }],
    circumstances: {
      kind: FindingKind.FINDING_KIND_SEIZED,
      date: '2026-10-02',
      place: 'Marseille',
      agency: 'Police judiciaire',
      description: 'seized',
      circumstance: 0,
    },
    weapon: {
      markings: weapon,
      imports: [],
      governmentTransfer: undefined,
      controlComponent: undefined,
      components: [],
      manufactureMethod: 1,
      photos: [],
      otherInformation: '',
    },
    intendedUse: 'criminal investigation',
    previousTraceId: '',
    chainId: '',
  };
  const { case: sent } = await fra.cases.call('createCase', { recipient: 'BEL', request, send: true });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { case: c } = await fra.cases.call('getCase', { caseId: sent.caseId });
    if (c.state === CaseState.CASE_STATE_ANSWERED) break;
    if (Date.now() > deadline) throw new Error(`the case stayed ${CaseState[c.state]}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await bel.authority.call('sendNotice', {
    recipient: 'FRA',
    subject: 'fixture',
    text: 'a notice from BEL',
    correlationId: '',
  });
  for (;;) {
    const stats = await bel.authority.call('getDeliveryStats', {});
    if (stats.outbox === 0) break;
    if (Date.now() > deadline) throw new Error('the notice was not delivered');
    await new Promise((r) => setTimeout(r, 50));
  }
} finally {
  await federation.stop();
}
await rm(target, { recursive: true, force: true });
const dataDir = federation.node('BEL').dataDir;
await cp(dataDir, target, { recursive: true, filter: (source) => !/(runtime\.json|LOCK)$/.test(source) });
await rm(base, { recursive: true, force: true });
process.stdout.write(`wrote ${target}\n`);
