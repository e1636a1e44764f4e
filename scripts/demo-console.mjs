// `npm run demo -- --console` (through scripts/demo.mjs): the demo federation with the officers'
// web consoles. Starts BEL, KEN, FRA and org:UN-POE with their consoles on fixed loopback ports
// (7445-7448, or from `--port <first>`), creates four demo officers on each (officer, supervisor,
// administrator, auditor: fixed demo passwords, printed), seeds the records of `npm run demo`, prints
// each console's address and sign-ins and how two officers complete a trace in two browser tabs,
// then runs until Ctrl-C (SIGINT) or SIGTERM, stops every node and deletes the data. Exit code 0.
import { createInterface } from 'node:readline';
import { seedDemoSeizures, startLocalFederation } from '@tracenet/node/dev';
import { secondsLeft, totpCode } from './totp.mjs';

/** The demo's one password (a demo only: fixed, printed; a real node's officers choose their own). */
export const DEMO_PASSWORD = 'demo-password';

/** The demo nodes, in the order of the story, with their console port offset from the first port. */
const NODES = [
  { id: 'FRA', offset: 2, what: 'France: the pistol was seized in Marseille; its officer asks' },
  { id: 'BEL', offset: 0, what: 'Belgium: the manufacturer; its officer answers by hand' },
  { id: 'KEN', offset: 1, what: 'Kenya: the importer; answers FRA automatically from its records' },
  { id: 'org:UN-POE', offset: 3, what: 'a UN panel of experts (an organisation)' },
];
const ROLES = [
  ['officer', 'officer'],
  ['supervisor', 'supervisor'],
  ['admin', 'administrator'],
  ['auditor', 'auditor'],
];

/** `fra`, `bel`, `un-poe`: the host name label and officer id prefix of a participant. */
const slug = (participantId) => participantId.toLowerCase().replace(/^org:/, '');

/**
 * The console's URL with a host name of its own: `*.localhost` is this machine (browsers resolve
 * it themselves), and cookies are kept per host, not per port, so two consoles on 127.0.0.1 in
 * one browser would overwrite each other's sign-in.
 */
const consoleUrl = (node) => `https://${slug(node.participantId)}.localhost:${node.consoleUrl.split(':').pop()}/`;

function parsePort(argv) {
  const at = argv.indexOf('--port');
  if (at < 0) return 7445;
  const port = Number(argv[at + 1]);
  if (!Number.isInteger(port) || port < 1 || port > 65_532)
    throw new Error(`--port ${argv[at + 1] ?? ''}: the first of four console ports (1-65532)`);
  return port;
}

/** Runs the console demo; resolves with the exit code once the nodes have stopped after a signal. */
export async function runConsoleDemo({ argv, weapon, seedRecords, say }) {
  const first = parsePort(argv);
  say(`starting BEL, KEN, FRA and org:UN-POE with their consoles on 127.0.0.1:${first}-${first + 3} ...`);
  const manual = { acceptRequests: true, autoAcknowledge: false, autoAnswer: false, allowLookups: true };
  let federation;
  try {
    federation = await startLocalFederation({
      participants: ['BEL', 'KEN', 'FRA', 'org:UN-POE'],
      console: true,
      // A busy or slow machine: four nodes start at once.
      readyTimeoutMs: 60_000,
      ports: Object.fromEntries(NODES.map((n) => [n.id, { console: first + n.offset }])),
      officers: Object.fromEntries(
        NODES.map((n) => [
          n.id,
          ROLES.map(([name, role]) => ({
            officerId: `${slug(n.id)}.${name}`,
            password: DEMO_PASSWORD,
            roles: [role],
            displayName: `${n.id} demo ${role}`,
          })),
        ]),
      ),
      policies: [
        { of: 'BEL', policy: { participantId: 'FRA', ...manual } },
        { of: 'BEL', policy: { participantId: 'org:UN-POE', ...manual } },
        { of: 'KEN', policy: { participantId: 'FRA', ...manual, autoAcknowledge: true, autoAnswer: true } },
        { of: 'KEN', policy: { participantId: 'org:UN-POE', ...manual } },
      ],
    });
  } catch (error) {
    process.stderr.write(`demo failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    if (/is taken/.test(String(error)))
      process.stderr.write('Another program uses that port: stop it, or choose other ports with --port <first>.\n');
    return 1;
  }
  let stopping;
  const stop = (signal) => {
    stopping ??= (async () => {
      process.stdout.write('\n');
      say(`${signal}: stopping every node and deleting the demo data ...`);
      await federation.stop();
      say('all nodes stopped; demo data deleted');
      return 0;
    })();
    return stopping;
  };
  const signalled = new Promise((resolve) => {
    process.once('SIGINT', () => resolve(stop('SIGINT')));
    process.once('SIGTERM', () => resolve(stop('SIGTERM')));
  });
  try {
    await seedRecords(federation.node('BEL'), federation.node('KEN'));
    // FRA's year of seizures, with its traces to KEN (which answers FRA by itself): the statistics screen's figures.
    await seedDemoSeizures({ fra: federation.node('FRA'), ken: federation.node('KEN') }, say);
  } catch (error) {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    await federation.stop();
    return 1;
  }
  const text = guide(federation, weapon);
  process.stdout.write(text);
  // Fresh codes on Enter. `terminal: false` leaves the terminal as it is, so Ctrl-C stays a signal.
  if (process.stdin.isTTY) {
    const input = createInterface({ input: process.stdin, terminal: false });
    input.on('line', () => process.stdout.write(codes(federation)));
    signalled.then(() => input.close());
  }
  return signalled;
}

/** What the terminal shows once the consoles are up. */
function guide(federation, weapon) {
  const fra = federation.node('FRA');
  const bel = federation.node('BEL');
  const lines = [
    '',
    "The demo federation's officers' consoles are running (until Ctrl-C: then every node stops and",
    'the demo data is deleted).',
    '',
    'Each node uses its own self-signed certificate (a first start): the browser warns once per',
    'console; choose "Advanced" then "Proceed" (Chrome, Edge) or "Accept the risk" (Firefox).',
    '*.localhost is this machine: a host name per console keeps the sign-ins of two consoles apart',
    'in one browser (cookies are per host, not per port).',
    '',
    `Demo accounts only: every password is "${DEMO_PASSWORD}", fixed and printed here. Supervisors`,
    'and administrators also type the 6-digit code of their TOTP secret (it changes every 30 s).',
  ];
  for (const spec of NODES) {
    const node = federation.node(spec.id);
    lines.push('', `${spec.id.padEnd(10)}  ${consoleUrl(node).padEnd(31)}  ${spec.what}`);
    lines.push(
      `    ${'officer id'.padEnd(20)}${'role'.padEnd(15)}${'password'.padEnd(16)}${'code now'.padEnd(10)}TOTP secret`,
    );
    for (const officer of node.officers.values())
      lines.push(
        `    ${officer.officerId.padEnd(20)}${officer.roles.join(', ').padEnd(15)}${officer.password.padEnd(16)}${(officer.totpSecret ? totpCode(officer.totpSecret) : '-').padEnd(10)}${officer.totpSecret || '-'}`,
      );
  }
  const m = weapon;
  lines.push(
    '',
    `Codes now are valid ${secondsLeft()} s more. Fresh codes: press Enter here, or run`,
    '    node scripts/totp.mjs <TOTP secret>          (--watch prints each new code)',
    'or add the secret to an authenticator app.',
    '',
    'A trace between two officers, in two tabs of one browser:',
    `  1. Tab 1: ${consoleUrl(fra)}  sign in as ${slug('FRA')}.officer. Compose a trace request to`,
    `     Belgium: ${m.manufacturer} (made in Belgium), ${m.model} pistol, ${m.calibre}, serial ${m.serialNumber},`,
    `     import mark KEN 2012; seized in Marseille on 2 October 2026. Send it.`,
    `  2. Tab 2: ${consoleUrl(bel)}  sign in as ${slug('BEL')}.officer. The request is in the inbox:`,
    '     open it, acknowledge it, then answer "referred" to Kenya: BEL\'s records (Records, serial',
    `     ${m.serialNumber}) show the pistol exported to KEN on 14 March 2012, licence BE-EXP-2012-0413.`,
    '  3. Tab 1: the answer is on the case. Follow on to Kenya in one click: KEN answers by itself',
    '     from its records ("traced": stolen from the Nairobi police armoury on 3 August 2019), and',
    '     the case draws the chain France -> Belgium -> Kenya. (Markings typed differently from',
    "     KEN's record are left to KEN's officers: sign in as ken.officer and answer.)",
    `Then: a lookup of serial ${m.serialNumber} from FRA (a hit at KEN, which sees who asked and why);`,
    'supervisors see the approvals queue, auditors the audit log, administrators peers and accounts.',
    'The guide: docs/console.md.',
    '',
    'Running. Ctrl-C here stops every node and deletes the demo data.',
  );
  return `${lines.join('\n')}\n`;
}

/** The codes of every TOTP account now, a line per node. */
function codes(federation) {
  const now = Date.now();
  const lines = [`codes now, valid ${secondsLeft(now)} s more:`];
  for (const spec of NODES) {
    const officers = [...federation.node(spec.id).officers.values()].filter((o) => o.totpSecret);
    lines.push(`    ${officers.map((o) => `${o.officerId.padEnd(18)}${totpCode(o.totpSecret, now)}`).join('    ')}`);
  }
  return `${lines.join('\n')}\n`;
}
