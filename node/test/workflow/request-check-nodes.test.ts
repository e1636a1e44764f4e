import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Case,
  CaseState,
  CasesClient,
  type CasesServer,
  ErrorCode,
  Likelihood as L,
  ListCasesRequest,
  PeerCardBody,
  PeerPolicy,
  RecordKind as R,
  type RequestCheck,
  TraceOutcome,
  TraceRequest,
  TracenetError,
} from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { signPeerCard } from '../../src/identity/peer-card.js';
import { TracenetNode } from '../../src/node.js';
import { ManualClock } from '../../src/util/clock.js';
import { makeDataDir, pinAll, startNode, testConfig, testLogger, type TestNode, waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';

async function failure(work: Promise<unknown>): Promise<TracenetError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => TracenetError.from(e),
  );
  if (!error) throw new Error('the call was not refused');
  return error;
}

/** The FNX-45 of the fixtures, made in BEL in `year`, imported into COD in 2015, without its frame serial or photos. */
function withoutSerialOrPhotos(year: number): TraceRequest {
  const request = traceRequest({}, { serialNumber: '', year });
  const weapon = request.weapon as NonNullable<TraceRequest['weapon']>;
  weapon.imports = [{ country: 'COD', year: 2015 }];
  weapon.components = [{ kind: 5, serialNumber: 'SL-7781', marking: 'slide' }];
  return request;
}

const DONE_WHEN_MISSING = [
  { item: 'control_serial', field: 'request.weapon.markings.serial_number', weight: 25 },
  { item: 'photos', field: 'request.weapon.photos', weight: 15 },
  { item: 'serial_obliterated', field: 'request.weapon.serial_obliterated', weight: 5 },
];

describe('request check between real nodes (docs/protocol.md 17)', () => {
  // June of this year: the year of the check is the clock's, whatever day the suite runs.
  const clock = new ManualClock(Math.max(Date.now(), Date.UTC(2026, 5, 1)));
  const thisYear = new Date(clock.now()).getUTCFullYear();
  let fra: TestNode;
  let bel: TestNode;
  let cases: UnaryClient<CasesServer>;

  beforeAll(async () => {
    fra = await startNode('FRA', { clock, memory: true });
    bel = await startNode('BEL', {
      clock,
      memory: true,
      config: testConfig({ records: { profile: { manufacture: 1950, import: 1990 } } }),
    });
    await pinAll([fra.node, bel.node], clock.now());
    cases = connectUnary<CasesServer>(CasesClient, fra.node.authorityAddress, await readAuthorityToken(fra.dataDir));
  });
  afterAll(async () => {
    cases?.close();
    await fra?.cleanup();
    await bel?.cleanup();
  });

  it("carries the node's records profile in its signed card to the peer that pins it", () => {
    const own = PeerCardBody.decode(bel.node.card.body).recordsProfile;
    expect(own).toEqual({
      coverage: [
        { kind: R.RECORD_KIND_MANUFACTURE, earliestYear: 1950 },
        { kind: R.RECORD_KIND_IMPORT, earliestYear: 1990 },
      ],
    });
    expect(fra.node.peers.get('BEL')?.body.recordsProfile).toEqual(own);
    expect(PeerCardBody.decode(fra.node.card.body).recordsProfile).toBeUndefined();
  });

  it('a request missing its frame serial and photos gets 55 and the list, and nothing is stored', async () => {
    const before = (await cases.call('listCases', ListCasesRequest.fromPartial({ limit: 500 }))).cases.length;
    const { check } = await cases.call('checkRequest', { recipient: 'BEL', request: withoutSerialOrPhotos(1960) });
    expect(check?.completeness).toEqual({ score: 55, missing: DONE_WHEN_MISSING });
    expect(check?.recipient).toBe('BEL');
    expect(check?.checkedAtMs).toBe(clock.now());
    // BEL declares manufacturing records from 1950: a weapon of 1960, beyond the ITI minimum, is covered.
    const bel = check?.traceability?.askFirst.find((a) => a.participant === 'BEL');
    expect(bel?.likelihood).toBe(L.LIKELIHOOD_LIKELY);
    expect(bel?.reasons.map((r) => [r.code, r.values])).toEqual([
      ['country_of_manufacture', { participant: 'BEL' }],
      ['profile_covers', { participant: 'BEL', kind: 'manufacture', earliest_year: '1950', year: '1960' }],
    ]);
    expect((await cases.call('listCases', ListCasesRequest.fromPartial({ limit: 500 }))).cases.length).toBe(before);
  });

  it('refuses a recipient that is not pinned, an empty one, and a missing request', async () => {
    const request = withoutSerialOrPhotos(2011);
    const unpinned = await failure(cases.call('checkRequest', { recipient: 'KEN', request }));
    expect([unpinned.code, unpinned.field, unpinned.rule]).toEqual([
      ErrorCode.ERROR_CODE_NOT_FOUND,
      'recipient',
      'pinned_peer',
    ]);
    const empty = await failure(cases.call('checkRequest', { recipient: '', request }));
    expect([empty.code, empty.field, empty.rule]).toEqual([
      ErrorCode.ERROR_CODE_MISSING_FIELD,
      'recipient',
      'required',
    ]);
    const none = await failure(cases.call('checkRequest', { recipient: 'BEL', request: undefined }));
    expect([none.code, none.field, none.rule]).toEqual([
      ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE,
      'request',
      'required',
    ]);
  });

  it('takes hostile years and thousands of photos without failing', async () => {
    const request = withoutSerialOrPhotos(99_999);
    const weapon = request.weapon as NonNullable<TraceRequest['weapon']>;
    weapon.imports = [{ country: 'COD', year: 0 }];
    weapon.photos = Array.from({ length: 20_000 }, () => ({
      mediaType: 'image/png',
      content: Buffer.from([0x89]),
      caption: '',
    }));
    const { check } = await cases.call('checkRequest', { recipient: 'BEL', request });
    expect(check?.completeness?.score).toBe(70);
    expect(check?.traceability?.likelihood).toBe(L.LIKELIHOOD_UNKNOWN);
    expect(check?.traceability?.reasons.find((r) => r.code === 'year_out_of_range')?.values.field).toBe(
      'request.weapon.markings.year',
    );
    // Beyond the Authority port's 4 MiB a request is refused before any handler runs.
    weapon.photos = Array.from({ length: 5 }, () => ({
      mediaType: 'image/png',
      content: Buffer.alloc(1024 * 1024, 1),
      caption: '',
    }));
    const large = await failure(cases.call('checkRequest', { recipient: 'BEL', request }));
    expect(large.code).toBe(ErrorCode.ERROR_CODE_ENVELOPE_TOO_LARGE);
  });

  it('records the check on a created case, and again when its draft is sent', async () => {
    const request = withoutSerialOrPhotos(thisYear - 10);
    // A frame serial wholly obliterated and flagged: the serial counts as missing, the flag as present.
    (request.weapon?.markings as { serialNumber: string }).serialNumber = '*********';
    (request.weapon as { serialObliterated: boolean }).serialObliterated = true;
    const created = (await cases.call('createCase', { recipient: 'BEL', request, send: false })).case as Case;
    const recorded = created.check as RequestCheck;
    expect(recorded.completeness).toEqual({ score: 60, missing: DONE_WHEN_MISSING.slice(0, 2) });
    expect(recorded.checkedAtMs).toBe(clock.now());
    expect((await cases.call('getCase', { caseId: created.caseId })).case?.check).toEqual(recorded);
    clock.advance(60_000);
    const sent = (await cases.call('sendCase', { caseId: created.caseId })).case as Case;
    expect(sent.check?.checkedAtMs).toBe(clock.now());
    expect(sent.check?.completeness).toEqual(recorded.completeness);
    expect(sent.check?.traceability?.askFirst.map((a) => [a.participant, a.likelihood])).toEqual([
      ['BEL', L.LIKELIHOOD_LIKELY],
      ['COD', L.LIKELIHOOD_LIKELY],
    ]);
  });

  it('refuses to pin a card whose records profile breaks a rule, naming the field and rule', async () => {
    const body = PeerCardBody.decode(bel.node.card.body);
    const signed = (profile: PeerCardBody['recordsProfile']) =>
      signPeerCard(
        { ...body, issuedAtMs: body.issuedAtMs + 1, recordsProfile: profile },
        bel.node.identity.keys.signingSecretKey,
      );
    const cases_: Array<[PeerCardBody['recordsProfile'], string, string]> = [
      [
        {
          coverage: [
            { kind: R.RECORD_KIND_EXPORT, earliestYear: 1990 },
            { kind: R.RECORD_KIND_EXPORT, earliestYear: 1995 },
          ],
        },
        'card.records_profile.coverage[1].kind',
        'duplicate_kind',
      ],
      [
        { coverage: [{ kind: R.RECORD_KIND_IMPORT, earliestYear: thisYear + 1 }] },
        'card.records_profile.coverage[0].earliest_year',
        'earliest_year',
      ],
      [{ coverage: [{ kind: 7 as R, earliestYear: 1990 }] }, 'card.records_profile.coverage[0].kind', 'record_kind'],
    ];
    for (const [profile, field, rule] of cases_) {
      const error = await failure(fra.node.peers.pin(signed(profile), clock.now()));
      expect([error.code, error.field, error.rule]).toEqual([ErrorCode.ERROR_CODE_INVALID_PEER_CARD, field, rule]);
    }
    // The pinned card, and its profile, are the ones before.
    expect(fra.node.peers.get('BEL')?.body.issuedAtMs).toBe(body.issuedAtMs);
  });
});

describe('records profile across a restart', () => {
  const clock = new ManualClock(Math.max(Date.now(), Date.UTC(2026, 5, 1)));
  const thisYear = new Date(clock.now()).getUTCFullYear();

  it('a changed profile re-issues the card, and the peer that pins it estimates with it', async () => {
    const fra = await startNode('FRA', { clock, memory: true });
    const dataDir = await makeDataDir('BEL', clock.now());
    let bel = await startNode('BEL', { clock, dataDir, config: testConfig({}) });
    try {
      await pinAll([fra.node, bel.node], clock.now());
      const cases = connectUnary<CasesServer>(
        CasesClient,
        fra.node.authorityAddress,
        await readAuthorityToken(fra.dataDir),
      );
      const request = withoutSerialOrPhotos(1960);
      let check = (await cases.call('checkRequest', { recipient: 'BEL', request })).check;
      expect(check?.traceability?.reasons.map((r) => r.code)).toContain('no_profile');
      expect(check?.traceability?.askFirst.find((a) => a.participant === 'BEL')?.likelihood).toBe(
        L.LIKELIHOOD_POSSIBLE,
      );
      await bel.node.stop();
      clock.advance(1000);
      bel = await startNode('BEL', {
        clock,
        dataDir,
        config: testConfig({ records: { profile: { manufacture: 1970 } } }),
      });
      const card = PeerCardBody.decode(bel.node.card.body);
      expect(card.recordsProfile?.coverage).toEqual([{ kind: R.RECORD_KIND_MANUFACTURE, earliestYear: 1970 }]);
      expect((await fra.node.peers.pin(bel.node.card, clock.now())).replaced).toBe(true);
      check = (await cases.call('checkRequest', { recipient: 'BEL', request })).check;
      const entry = check?.traceability?.askFirst.find((a) => a.participant === 'BEL');
      expect(entry?.likelihood).toBe(L.LIKELIHOOD_UNLIKELY);
      expect(entry?.reasons[1]?.code).toBe('profile_not_covered');
      cases.close();
      // A year still to come is refused before the node opens anything.
      await bel.node.stop();
      const error = await failure(
        TracenetNode.open({
          dataDir,
          config: testConfig({ records: { profile: { export: thisYear + 1 } } }),
          logger: testLogger(),
          clock,
        }),
      );
      expect([error.code, error.field, error.rule]).toEqual([
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'records.profile',
        'config',
      ]);
    } finally {
      await fra.cleanup();
      await bel.cleanup();
    }
  });
});

describe('a follow-on records its own check', () => {
  const clock = new ManualClock(Math.max(Date.now(), Date.UTC(2026, 5, 1)));

  it("for the referred participant, with that participant's profile", async () => {
    const fra = await startNode('FRA', { clock, memory: true });
    const bel = await startNode('BEL', { clock, memory: true });
    const ken = await startNode('KEN', {
      clock,
      memory: true,
      config: testConfig({ records: { profile: { import: 1990 } } }),
    });
    const cases = connectUnary<CasesServer>(
      CasesClient,
      fra.node.authorityAddress,
      await readAuthorityToken(fra.dataDir),
    );
    try {
      await pinAll([fra.node, bel.node, ken.node], clock.now());
      await bel.node.policies.set(PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: true }));
      const request = traceRequest();
      (request.weapon as NonNullable<TraceRequest['weapon']>).imports = [{ country: 'KEN', year: 1995 }];
      const first = (await cases.call('createCase', { recipient: 'BEL', request, send: true })).case as Case;
      expect(first.check?.recipient).toBe('BEL');
      let theirs: Case | undefined;
      await waitFor(async () => {
        theirs = (await bel.node.workflow.list({ limit: 500 })).cases.find((c) => c.traceId === first.traceId);
        return theirs !== undefined;
      });
      const caseId = (theirs as Case).caseId;
      await bel.node.workflow.acknowledge(caseId);
      await bel.node.workflow.answer(caseId, {
        outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
        referral: {
          participant: 'KEN',
          basis: 'exported to KEN on 1995-03-14 under licence L-1995-77',
          event: undefined,
        },
        lastLegalRecord: '',
        pointOfDiversion: '',
        history: [],
        details: '',
        restrictions: undefined,
        release: ['referral.basis'],
      });
      await waitFor(async () => (await fra.node.workflow.get(first.caseId)).state === CaseState.CASE_STATE_ANSWERED);
      const next = (
        await cases.call('followOn', { caseId: first.caseId, intendedUse: '', otherInformation: '', send: false })
      ).case as Case;
      expect(next.peer).toBe('KEN');
      expect(next.check?.recipient).toBe('KEN');
      const entry = next.check?.traceability?.askFirst[0];
      expect([entry?.participant, entry?.recordKind, entry?.likelihood]).toEqual([
        'KEN',
        R.RECORD_KIND_IMPORT,
        L.LIKELIHOOD_LIKELY,
      ]);
      expect(entry?.reasons.map((r) => r.code)).toEqual(['last_import_mark', 'profile_covers']);
    } finally {
      cases.close();
      await fra.cleanup();
      await bel.cleanup();
      await ken.cleanup();
    }
  });
});
