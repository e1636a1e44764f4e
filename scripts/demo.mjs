// `npm run demo`: a local federation of four nodes, each its own process on loopback —
// BEL (manufacturer), KEN (importer), FRA (where a weapon was seized) and org:UN-POE (a UN panel of
// experts) — and one trace along the line of supply: FRA asks BEL, BEL answers automatically from
// its records "referred to KEN" (exported), FRA follows on to KEN, KEN answers "traced" with the
// point of diversion (stolen from a police armoury). Prints the chain with its times and exits 0,
// leaving no process or data directory behind.
//
// `npm run demo -- --console` (scripts/demo-console.mjs) starts the same nodes with their officers'
// web consoles instead, seeds the same records, prints a sign-in for each demo officer and keeps
// running until Ctrl-C, for a trace between two officers in two browser tabs.
//
// Both also seed FRA's year of 2026 seizures (node/src/dev/demo-data.ts), so that the statistics
// (`tracenet stats sdg --period 2026`, docs/statistics.md) have figures that mean something.
import { CaseState } from '@tracenet/proto';
import {
  DEMO_WEAPON,
  chainText,
  demoChainRecords,
  demoTraceRequest,
  seedDemoSeizures,
  startLocalFederation,
} from '@tracenet/node/dev';

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2)} s`;
const say = (text) => process.stdout.write(`[${elapsed().padStart(7)}] ${text}\n`);

const weapon = DEMO_WEAPON;
/** BEL's record of the weapon (manufactured, exported to KEN) and KEN's (imported, stolen). */
async function seedRecords(bel, ken) {
  const records = demoChainRecords();
  await bel.records.call('putRecord', { record: records.bel });
  await ken.records.call('putRecord', { record: records.ken });
  say(
    'seeded records: BEL manufactured and exported the FNX-45 FX-0412-2231 to KEN; KEN imported it and reports it stolen',
  );
}

/** Polls a case until it reaches one of `states`. */
async function until(node, caseId, states, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { case: c } = await node.cases.call('getCase', { caseId });
    if (states.includes(c.state)) return c;
    if (Date.now() > deadline) throw new Error(`${node.participantId} ${caseId} stayed ${CaseState[c.state]}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

if (process.argv.includes('--console')) {
  const { runConsoleDemo } = await import('./demo-console.mjs');
  process.exit(await runConsoleDemo({ argv: process.argv.slice(2), weapon, seedRecords, say }));
}

say('starting BEL, KEN, FRA and org:UN-POE as separate processes on loopback ...');
const autoAnswer = { acceptRequests: true, autoAcknowledge: true, autoAnswer: true };
const federation = await startLocalFederation({
  participants: ['BEL', 'KEN', 'FRA', 'org:UN-POE'],
  policies: [
    { of: 'BEL', policy: { participantId: 'FRA', ...autoAnswer } },
    { of: 'KEN', policy: { participantId: 'FRA', ...autoAnswer } },
    {
      of: 'BEL',
      policy: { participantId: 'org:UN-POE', acceptRequests: true, autoAcknowledge: true, autoAnswer: false },
    },
  ],
});
let exitCode = 0;
try {
  for (const node of federation.nodes.values())
    say(
      `  ${node.participantId.padEnd(11)} federation ${node.runtime.federation}  authority ${node.runtime.authority}  (pid ${node.runtime.pid})`,
    );
  say('every node pinned the signed peer cards of the others; BEL and KEN accept and auto-answer requests from FRA');

  const bel = federation.node('BEL');
  const ken = federation.node('KEN');
  const fra = federation.node('FRA');
  await seedRecords(bel, ken);

  const request = demoTraceRequest();
  const first = (await fra.cases.call('createCase', { recipient: 'BEL', request, send: true })).case;
  say(`FRA sent trace request ${first.caseId} to BEL (trace ${first.traceId})`);
  const referred = await until(fra, first.caseId, [
    CaseState.CASE_STATE_ANSWERED,
    CaseState.CASE_STATE_REFUSED,
    CaseState.CASE_STATE_RESTRICTED,
  ]);
  say(`BEL answered: ${referred.timeline.at(-1).summary}`);

  const second = (
    await fra.cases.call('followOn', {
      caseId: first.caseId,
      intendedUse: '',
      otherInformation: 'follow-on of the referral by BEL',
      send: true,
    })
  ).case;
  say(`FRA opened follow-on ${second.caseId} to KEN`);
  const traced = await until(fra, second.caseId, [
    CaseState.CASE_STATE_ANSWERED,
    CaseState.CASE_STATE_REFUSED,
    CaseState.CASE_STATE_RESTRICTED,
  ]);
  say(`KEN answered: ${traced.timeline.at(-1).summary}`);

  const chain = await fra.cases.call('getTraceChain', { caseId: second.caseId });
  process.stdout.write(`\n${chainText(chain.chainId, chain.cases).join('\n')}\n\n`);
  const wall = (traced.updatedAtMs - first.createdAtMs) / 1000;
  say(
    `line of supply BEL → KEN → point of diversion established in ${wall.toFixed(2)} s of node time (by letter: weeks)`,
  );
  await seedDemoSeizures({ fra, ken }, say);
  const sdg = await fra.statistics.call('getSdgIndicator', { year: '2026', period: undefined });
  const total = sdg.total;
  say(
    `FRA's SDG 16.4.2 for 2026: ${total.traced + total.establishedOtherwise} of ${total.total} firearms seized, found or surrendered have their illicit origin established (tracenet stats sdg --period 2026)`,
  );
  if (traced.answer?.outcome !== 1 || referred.answer?.outcome !== 2)
    throw new Error('the chain did not end as traced after a referral');
} catch (error) {
  exitCode = 1;
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  for (const node of federation.nodes.values())
    process.stderr.write(`--- ${node.participantId} log ---\n${node.output.join('').slice(-4000)}\n`);
} finally {
  await federation.stop();
  say(exitCode === 0 ? 'all nodes stopped; demo finished' : 'all nodes stopped');
}
process.exit(exitCode);
