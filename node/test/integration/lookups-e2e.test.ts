import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  CaseState,
  InterestCategory,
  LookupOutcome,
  type LookupRequest,
  type LookupResponse,
  type PeerLookupResult,
  WeaponEventType,
  WeaponType,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/local-federation.js';
import { loadIdentity, type NodeIdentity } from '../../src/identity/data-dir.js';
import {
  expectOnlyHitFields,
  openAnswer,
  queryBody,
  rifleQuery,
  SECRETS,
  sealQuery,
  stolenRifle,
  theftReport,
} from '../lookup/support.js';
import { event, weapon } from '../records/support.js';
import { RawFederationClient, rejectionOf } from '../support/parties.js';
import { isAlive, ProcessBed, readAudit, requireBuiltCli } from './processes.js';
import { EXIT } from '../../src/cli/exit-codes.js';

/**
 * Hit / no-hit lookups across five `tracenet start` processes on loopback: FRA asks; BEL, KEN, NLD
 * and DEU own records. Driven through the `tracenet` CLI and the Authority APIs; the answers'
 * plaintext is checked by playing FRA (its keys from its data directory) against each owner.
 */

const ALIASES = fileURLToPath(new URL('../../../docs/examples/manufacturer-aliases.csv', import.meta.url));
const CALIBRES = fileURLToPath(new URL('../../../docs/examples/calibre-aliases.csv', import.meta.url));
const PURPOSE = 'seizure at the port of Marseille, case OCLCO-2026-0211';

/** KEN's smuggled rifle, entered under the maker's old name. */
const smuggledAk = () =>
  weapon(
    {
      components: [],
      secondaryMarks: [{ location: 'gas block', value: 'KEN-SECRET-44' }],
      notes: 'KEN-NOTE-informant',
      imports: [],
      events: [event(WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED, '1989-01-10', { details: 'KEN-DETAIL-batch 12' })],
    },
    {
      manufacturer: 'Izhmash',
      serialNumber: 'KA 1989-55173',
      model: 'AKM-M1989',
      calibre: '7.62x39mm',
      type: WeaponType.WEAPON_TYPE_ASSAULT_RIFLE,
      year: 1989,
      countryOfManufacture: '',
    },
  );
/** NLD's lost pistol. */
const lostPistol = () =>
  weapon(
    {
      components: [],
      secondaryMarks: [{ location: 'slide', value: 'NLD-SECRET-9' }],
      notes: 'NLD-NOTE',
      imports: [],
      events: [],
    },
    {
      manufacturer: 'Glock',
      serialNumber: 'BXZ-771',
      model: '17',
      calibre: '9x19mm',
      type: WeaponType.WEAPON_TYPE_PISTOL,
      year: 2015,
      countryOfManufacture: 'AUT',
    },
  );
// Secrets are long enough that no random roi_ reference (22 base64url characters) can hold one by chance.
const ALL_SECRETS = [
  ...SECRETS,
  'KA198955173',
  'KA 1989-55173',
  'AKM-M1989',
  'KEN-SECRET-44',
  'KEN-NOTE-informant',
  'KEN-DETAIL-batch 12',
  'BXZ771',
  'BXZ-771',
  'NLD-SECRET-9',
  'NLD-NOTE',
];

describe('hit / no-hit lookups across five node processes', () => {
  const bed = new ProcessBed();
  let federation: LocalFederation | undefined;
  let nodes: Record<'FRA' | 'BEL' | 'KEN' | 'NLD' | 'DEU', LocalNode>;
  let fraIdentity: NodeIdentity;
  let kenIdentity: NodeIdentity;
  const recordIds: string[] = [];
  let pids: number[] = [];
  let started = 0;

  const cli = (node: LocalNode, args: readonly string[]) => bed.cliOk([...args, '--data', node.dataDir]);
  const cliJson = async <T>(node: LocalNode, args: readonly string[]) =>
    JSON.parse((await cli(node, [...args, '--json'])).stdout) as T;
  const search = (args: readonly string[]) =>
    cliJson<Record<string, unknown>>(nodes.FRA, ['lookups', 'search', '--purpose', PURPOSE, ...args]);
  /** The API form of a lookup, for exact assertions. */
  const lookup = (node: LocalNode, fields: Partial<LookupRequest>): Promise<LookupResponse> =>
    node.lookups.call('lookup', {
      weapon: rifleQuery(),
      purpose: PURPOSE,
      peers: [],
      deadlineMs: 3000,
      requestingAuthority: 'OCLCO',
      ...fields,
    });
  const byPeer = (response: LookupResponse): Record<string, PeerLookupResult> =>
    Object.fromEntries(response.results.map((r) => [r.peer, r]));
  /** Plays FRA (or another node whose identity is given) against `owner`'s Federation port and opens the answer. */
  const askAs = async (as: NodeIdentity, owner: LocalNode, body: Buffer) => {
    const ownerIdentity = await loadIdentity(owner.dataDir);
    const client = new RawFederationClient(owner.runtime.federation, ownerIdentity.tlsCertificatePem, as.tls);
    try {
      const bytes = await client.lookup(sealQuery(as, ownerIdentity, Date.now(), body).bytes);
      return openAnswer(bytes, as, ownerIdentity);
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    requireBuiltCli();
    started = performance.now();
    const lookupsFromFra = { participantId: 'FRA', allowLookups: true };
    federation = await startLocalFederation({
      participants: ['FRA', 'BEL', 'KEN', 'NLD', 'DEU'],
      baseDir: await bed.tempDir('lookups'),
      keep: true,
      policies: [
        { of: 'BEL', policy: { ...lookupsFromFra, acceptRequests: true } },
        { of: 'KEN', policy: lookupsFromFra },
        { of: 'DEU', policy: lookupsFromFra },
        // NLD lets KEN look up twice a minute; FRA gets its policy from the CLI below.
        { of: 'NLD', policy: { participantId: 'KEN', allowLookups: true, lookupsPerMinute: 2 } },
      ],
    });
    const f = federation;
    nodes = { FRA: f.node('FRA'), BEL: f.node('BEL'), KEN: f.node('KEN'), NLD: f.node('NLD'), DEU: f.node('DEU') };
    pids = Object.values(nodes).map((n) => n.runtime.pid);
    [fraIdentity, kenIdentity] = await Promise.all([loadIdentity(nodes.FRA.dataDir), loadIdentity(nodes.KEN.dataDir)]);
    const put = async (node: LocalNode, record: ReturnType<typeof weapon>) => {
      const id = (await node.records.call('putRecord', { record })).record?.recordId ?? '';
      recordIds.push(id);
      return id;
    };
    const rifle = await put(nodes.BEL, stolenRifle());
    const ak = await put(nodes.KEN, smuggledAk());
    await put(nodes.KEN, stolenRifle()); // the same serial, not of interest: never a hit
    const pistol = await put(nodes.NLD, lostPistol());
    // Reports: BEL's through the CLI, the others through the Records service.
    const report = theftReport();
    await cli(nodes.BEL, [
      'records',
      'report',
      rifle,
      '--category',
      'stolen',
      '--date',
      report.date,
      '--agency',
      report.agency,
      '--reference',
      report.reference,
      '--contact',
      report.contactPoint,
    ]);
    await nodes.KEN.records.call('reportRecord', {
      recordId: ak,
      report: theftReport({
        category: InterestCategory.INTEREST_CATEGORY_SMUGGLED,
        contactPoint: 'NCB Nairobi',
        agency: 'DCI Kenya',
        reference: 'KEN-REF-77',
      }),
    });
    await nodes.NLD.records.call('reportRecord', {
      recordId: pistol,
      report: theftReport({
        category: InterestCategory.INTEREST_CATEGORY_LOST,
        contactPoint: 'NCB The Hague',
        agency: 'Politie',
        reference: 'NLD-REF-3',
      }),
    });
  });

  afterAll(async () => {
    // A stopped process must be resumed to stop; SIGCONT to a running one is harmless.
    try {
      if (nodes?.DEU.process.pid) process.kill(nodes.DEU.process.pid, 'SIGCONT');
    } catch {
      // already gone
    }
    await federation?.stop();
    await bed.cleanup();
    for (const pid of pids) expect(isAlive(pid), `node ${pid} outlived the suite`).toBe(false);
    console.log(`lookups-e2e: five node processes, whole suite ${Math.round(performance.now() - started)} ms`);
  });

  it('hit and no hit: FRA asks every peer; a peer whose policy does not allow lookups refuses; the CLI sets the policy', async () => {
    const first = byPeer(await lookup(nodes.FRA, {}));
    expect(first.BEL).toMatchObject({
      outcome: LookupOutcome.LOOKUP_OUTCOME_HIT,
      hits: [
        expect.objectContaining({ owner: 'BEL', category: InterestCategory.INTEREST_CATEGORY_STOLEN, partial: false }),
      ],
    });
    expect(first.KEN).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_NO_HIT });
    expect(first.DEU).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_NO_HIT });
    expect(first.NLD).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_ERROR, errorCode: 'KIND_NOT_ALLOWED' });

    const policy = await cli(nodes.NLD, ['peers', 'policy', 'FRA', '--allow-lookups', '--lookups-per-minute', '100']);
    expect(policy.stdout).toContain('lookups allowed, 100 per minute');
    const noRecord = await cli(nodes.NLD, ['peers', 'policy', 'FRA', '--auto-answer', '--auto-no-record']);
    expect(noRecord.stdout).toContain('auto-answer on (no record too)');
    expect((await cli(nodes.NLD, ['peers', 'policy', 'FRA', '--no-auto-answer'])).stdout).toContain('auto-answer off');
    const result = await search(['--manufacturer', 'FN Herstal', '--serial', 'FX-0412-2231']);
    const results = result.results as Array<Record<string, unknown>>;
    expect(Object.fromEntries(results.map((r) => [r.peer, r.outcome]))).toEqual({
      BEL: 'LOOKUP_OUTCOME_HIT',
      DEU: 'LOOKUP_OUTCOME_NO_HIT',
      KEN: 'LOOKUP_OUTCOME_NO_HIT',
      NLD: 'LOOKUP_OUTCOME_NO_HIT',
    });
    // The readable form names the hit and says it releases nothing.
    const text = (
      await cli(nodes.FRA, [
        'lookups',
        'search',
        '--manufacturer',
        'FN Herstal',
        '--serial',
        'FX-0412-2231',
        '--purpose',
        PURPOSE,
        '--peers',
        'BEL,KEN',
      ])
    ).stdout;
    expect(text).toMatch(/BEL\s+HIT/);
    expect(text).toMatch(/KEN\s+NO HIT/);
    expect(text).toContain('stolen');
  });

  it('wildcard and alias matches: an obliterated serial gives a partial hit; other spellings hit once the owner loaded its alias table', async () => {
    const wild = byPeer(await lookup(nodes.FRA, { weapon: rifleQuery({ serialNumber: 'FX-04?2-22*' }) }));
    expect(wild.BEL?.hits).toEqual([expect.objectContaining({ partial: true, owner: 'BEL' })]);
    expect(wild.KEN?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);

    const spelled = () =>
      lookup(nodes.FRA, { weapon: rifleQuery({ manufacturer: 'Fabrique Nationale' }), peers: ['BEL'] });
    expect(byPeer(await spelled()).BEL?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    const loaded = await cli(nodes.BEL, ['records', 'aliases', 'load', ALIASES]);
    expect(loaded.stdout).toMatch(/Loaded 6 manufacturer/);
    expect(existsSync(`${nodes.BEL.dataDir}/aliases.csv`)).toBe(true);
    expect(byPeer(await spelled()).BEL?.hits).toEqual([expect.objectContaining({ partial: false })]);

    // KEN recorded the AK under "Izhmash"; FRA asks for the Kalashnikov Concern.
    const ak = () =>
      lookup(nodes.FRA, {
        weapon: rifleQuery({ manufacturer: 'Kalashnikov Concern', serialNumber: 'KA-1989-55173' }),
        peers: ['KEN'],
      });
    expect(byPeer(await ak()).KEN?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    await cli(nodes.KEN, ['records', 'aliases', 'load', ALIASES]);
    expect(byPeer(await ak()).KEN?.hits).toEqual([
      expect.objectContaining({ category: InterestCategory.INTEREST_CATEGORY_SMUGGLED, contactPoint: 'NCB Nairobi' }),
    ]);
  });

  it('calibre designations hit through the default calibre table, and `records aliases load --calibres` replaces it', async () => {
    // BEL recorded the rifle as 7.62x51mm; "7.62 NATO" is the same calibre in the default table.
    const nato = async () =>
      byPeer(await lookup(nodes.FRA, { weapon: rifleQuery({ calibre: '7.62 NATO' }), peers: ['BEL'] })).BEL?.outcome;
    expect(await nato()).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    const own = join(nodes.BEL.dataDir, 'my-calibres.csv');
    await writeFile(own, '9x19,9 mm Luger\n');
    const loaded = await cli(nodes.BEL, ['records', 'aliases', 'load', '--calibres', own]);
    expect(loaded.stdout).toMatch(/Loaded 1 calibre\(s\) with 1 alias\(es\)/);
    expect(readFileSync(join(nodes.BEL.dataDir, 'calibre-aliases.csv'), 'utf8')).toBe('9x19,9 mm Luger\n');
    expect(await nato()).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    await cli(nodes.BEL, ['records', 'aliases', 'load', '--calibres', CALIBRES]);
    expect(await nato()).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
  });

  it('a peer that does not answer in time is reported as such, and the others are not held up', async () => {
    const deu = nodes.DEU.process.pid ?? 0;
    process.kill(deu, 'SIGSTOP');
    try {
      const t0 = performance.now();
      const response = await lookup(nodes.FRA, { deadlineMs: 700 });
      const elapsed = performance.now() - t0;
      const r = byPeer(response);
      expect(response.notAnswered).toEqual(['DEU']);
      expect(r.DEU).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_TIMEOUT, hits: [] });
      expect(r.BEL?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
      expect(r.KEN?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
      expect(r.NLD?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
      expect(elapsed).toBeLessThan(700 + 1500);
      const text = (
        await cli(nodes.FRA, [
          'lookups',
          'search',
          '--manufacturer',
          'FN Herstal',
          '--serial',
          'FX-0412-2231',
          '--purpose',
          PURPOSE,
          '--deadline',
          '500ms',
        ])
      ).stdout;
      expect(text).toContain('Not answered in time: DEU');
    } finally {
      process.kill(deu, 'SIGCONT');
    }
  });

  it('the decrypted bytes of every lookup answer hold only reference, category, owner, contact point and partial, and nothing of the records', async () => {
    const bodies = [
      queryBody(rifleQuery()),
      queryBody(rifleQuery({ serialNumber: 'FX-04?2-22*' })),
      queryBody(rifleQuery({ manufacturer: 'FN' })),
      queryBody(rifleQuery({ serialNumber: 'NO-SUCH-1' })),
      queryBody(rifleQuery({ manufacturer: 'Kalashnikov Concern', serialNumber: 'KA1989*' })),
      queryBody(rifleQuery({ manufacturer: 'Glock', serialNumber: 'BXZ 771', type: WeaponType.WEAPON_TYPE_PISTOL })),
    ];
    let hits = 0;
    let answers = 0;
    for (const owner of [nodes.BEL, nodes.KEN, nodes.NLD, nodes.DEU]) {
      for (const body of bodies) {
        const opened = await askAs(fraIdentity, owner, body);
        expectOnlyHitFields(opened, [...ALL_SECRETS, ...recordIds]);
        expect(opened.header).toMatchObject({ sender: owner.participantId, recipient: 'FRA' });
        hits += opened.answer.hits.length;
        answers += 1;
      }
    }
    expect(answers).toBe(24);
    // BEL: exact, wildcard, alias; KEN: wildcard + alias; NLD: the pistol.
    expect(hits).toBe(5);
  });

  it('the owner lists every hit with who asked, when and the stated purpose', async () => {
    const listed = await cliJson<{ hits: Array<Record<string, unknown>> }>(nodes.BEL, ['lookups', 'hits']);
    expect(listed.hits.length).toBeGreaterThanOrEqual(6);
    const newest = listed.hits[0] ?? {};
    expect(newest).toMatchObject({
      askedBy: 'FRA',
      purpose: 'seizure at Zaventem, case 2026/118',
      recordId: recordIds[0],
      category: 'INTEREST_CATEGORY_STOLEN',
    });
    expect(
      listed.hits.some((h) => h.purpose === PURPOSE && h.requestingAuthority === 'OCLCO' && h.partial === true),
    ).toBe(true);
    expect(Math.abs(Number(newest.atMs) - Date.now())).toBeLessThan(120_000);
    const text = (await cli(nodes.BEL, ['lookups', 'hits', '--limit', '2'])).stdout;
    expect(text).toContain('by FRA');
    expect(text).toContain('purpose: seizure at Zaventem, case 2026/118  (for OCRC)');
    expect(text).toContain('More: --cursor ');
  });

  it('a hit opens a trace request to its owner with one command, quoting the reference', async () => {
    const found = await search([
      '--manufacturer',
      'FN Herstal',
      '--serial',
      'FX-0412-2231',
      '--peers',
      'BEL',
      '--authority',
      'OCLCO',
    ]);
    const reference = String(
      ((found.results as Array<{ hits: Array<{ reference: string }> }>)[0]?.hits[0] ?? { reference: '' }).reference,
    );
    expect(reference).toMatch(/^roi_/);
    const created = await cliJson<Record<string, unknown>>(nodes.FRA, [
      'lookups',
      'trace',
      reference,
      '--owner',
      'BEL',
      '--type',
      'rifle',
      '--calibre',
      '7.62x51mm',
      '--criterion',
      'national-law:Code de la sécurité intérieure, art. L317-8',
      '--finding',
      'seized',
      '--date',
      '2025-05-30',
      '--place',
      'Marseille',
      '--reference',
      'OCLCO-2026-0211',
      // A trace states its own purpose: the lookup's is not reused (issue 17, section 4).
      '--intended-use',
      'trace of the rifle seized in Marseille, case OCLCO-2026-0211',
    ]);
    expect(created).toMatchObject({
      peer: 'BEL',
      state: 'CASE_STATE_SENT',
      request: expect.objectContaining({
        hitReference: reference,
        intendedUse: 'trace of the rifle seized in Marseille, case OCLCO-2026-0211',
        requestingAuthority: 'OCLCO',
      }),
    });
    const traceId = String(created.traceId);
    const deadline = Date.now() + 15_000;
    let theirs;
    while (!theirs) {
      theirs = (
        await nodes.BEL.cases.call('listCases', {
          role: 0,
          state: 0,
          peer: 'FRA',
          overdueOnly: false,
          limit: 100,
          cursor: '',
        })
      ).cases.find((c) => c.traceId === traceId);
      if (!theirs && Date.now() > deadline) throw new Error('the request did not reach BEL');
      if (!theirs) await new Promise((r) => setTimeout(r, 25));
    }
    expect(theirs.state).toBe(CaseState.CASE_STATE_RECEIVED);
    const full = (await nodes.BEL.cases.call('getCase', { caseId: theirs.caseId })).case;
    expect(full?.request?.hitReference).toBe(reference);
    expect(full?.request?.weapon?.markings).toMatchObject({ manufacturer: 'FN Herstal', serialNumber: 'FX-0412-2231' });
    // The same from the saved --json output of the search (owner taken from it), kept as a draft.
    const saved = `${await bed.tempDir('search')}/search.json`;
    await writeFile(saved, JSON.stringify(found));
    const draft = await cliJson<Record<string, unknown>>(nodes.FRA, [
      'lookups',
      'trace',
      reference,
      '--from',
      saved,
      '--draft',
      '--type',
      'rifle',
      '--calibre',
      '7.62x51mm',
      '--criterion',
      'national-law:CSI art. L317-8',
      '--finding',
      'seized',
      '--date',
      '2025-05-30',
      '--place',
      'Marseille',
      '--reference',
      'OCLCO-2026-0212',
      '--intended-use',
      'trace of the rifle seized in Marseille',
    ]);
    expect(draft).toMatchObject({
      peer: 'BEL',
      state: 'CASE_STATE_DRAFT',
      request: expect.objectContaining({ hitReference: reference }),
    });
    // An unknown reference is a one-line failure.
    const bad = await bed.cli([
      'lookups',
      'trace',
      'roi_unknown',
      '--owner',
      'BEL',
      '--intended-use',
      'trace',
      '--data',
      nodes.FRA.dataDir,
    ]);
    expect(bad.code).toBe(EXIT.notFound);
    expect(bad.stderr).toMatch(/^tracenet: NOT_FOUND: .*\n$/);
  });

  it('over the rate limit a peer is answered RESOURCE_EXHAUSTED, and the requester reports RATE_LIMITED for that peer', async () => {
    // NLD allows KEN two lookups a minute.
    const asKen = () =>
      lookup(nodes.KEN, { peers: ['NLD'], weapon: rifleQuery({ manufacturer: 'Glock', serialNumber: 'BXZ-771' }) });
    expect(byPeer(await asKen()).NLD?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    expect(byPeer(await asKen()).NLD?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    expect(byPeer(await asKen()).NLD).toMatchObject({
      outcome: LookupOutcome.LOOKUP_OUTCOME_ERROR,
      errorCode: 'RATE_LIMITED',
    });
    const nld = await loadIdentity(nodes.NLD.dataDir);
    const client = new RawFederationClient(nodes.NLD.runtime.federation, nld.tlsCertificatePem, kenIdentity.tls);
    try {
      const thrown = (await rejectionOf(
        client.lookup(sealQuery(kenIdentity, nld, Date.now(), queryBody(rifleQuery())).bytes),
      )) as ServiceError;
      expect(thrown.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    } finally {
      client.close();
    }
    // FRA's own allowance at NLD is untouched.
    expect(byPeer(await lookup(nodes.FRA, { peers: ['NLD'] })).NLD?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
  });

  it('round trip of a lookup across four peers (measured)', async () => {
    const times: number[] = [];
    for (let i = 0; i < 15; i += 1) {
      const t0 = performance.now();
      const response = await lookup(nodes.FRA, {});
      times.push(performance.now() - t0);
      expect(response.results).toHaveLength(4);
    }
    times.sort((a, b) => a - b);
    const p50 = times[Math.floor(times.length / 2)] ?? 0;
    console.log(
      `lookups-e2e: lookup across 4 peers, p50 ${p50.toFixed(1)} ms, min ${times[0]?.toFixed(1)} ms, max ${times.at(-1)?.toFixed(1)} ms (Authority API call, ${times.length} runs)`,
    );
    expect(p50).toBeLessThan(1000);
  });

  it('every query and answer is in the audit logs of both sides', async () => {
    await federation?.stop();
    const fra = await readAudit(nodes.FRA.dataDir);
    const bel = await readAudit(nodes.BEL.dataDir);
    const sent = fra.filter((e) => e.type === 'lookup.query');
    const received = fra.filter((e) => e.type === 'lookup.answer');
    expect(sent.length).toBe(received.length);
    expect(new Set(received.map((e) => e.outcome))).toEqual(new Set(['hit', 'no_hit', 'error', 'timeout']));
    const answeredByBel = bel.filter((e) => e.type === 'lookup.answer');
    const hitsAtBel = bel.filter((e) => e.type === 'lookup.hit');
    expect(bel.filter((e) => e.type === 'lookup.query').length).toBe(answeredByBel.length);
    expect(hitsAtBel.length).toBeGreaterThanOrEqual(6);
    expect(bel.some((e) => e.type === 'aliases.loaded')).toBe(true);
    expect(bel.some((e) => e.type === 'record.reported')).toBe(true);
    for (const line of [...fra, ...bel]) expect(JSON.stringify(line)).not.toContain('FX-0412-2231');
  });
});
