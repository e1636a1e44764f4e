import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CaseRole,
  ErrorCode,
  FindingKind,
  IllicitKind,
  InterestCategory,
  type LookupHit,
  LookupOutcome,
  type LookupRequest,
  LookupsClient,
  type LookupsServer,
  PeerPolicy,
  Priority,
  type Receipt,
  RecordsClient,
  type RecordsServer,
  TraceRequest,
  WeaponType,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '../../src/config/config.js';
import type { Peer } from '../../src/federation/peers.js';
import { createGrpcTransport, type DeliverOptions, type Transport } from '../../src/federation/transport.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { pinAll, startNode, type TestNode, waitFor } from '../support/nodes.js';
import { auditOf, expectOnlyHitFields, openAnswer, rifleQuery, SECRETS, stolenRifle, theftReport } from './support.js';

const SAMPLE_ALIASES = fileURLToPath(new URL('../../../docs/examples/manufacturer-aliases.csv', import.meta.url));

/** The real gRPC transport, keeping every lookup answer's bytes as received. */
class AnswerRecorder implements Transport {
  readonly answers: Array<{ peer: string; bytes: Buffer }> = [];
  readonly #inner = createGrpcTransport({ maxEnvelopeBytes: DEFAULT_MAX_ENVELOPE_BYTES });
  deliver(peer: Peer, envelope: Uint8Array, options: DeliverOptions): Promise<Receipt> {
    return this.#inner.deliver(peer, envelope, options);
  }
  async lookup(
    peer: Peer,
    envelope: Uint8Array,
    options: Parameters<NonNullable<Transport['lookup']>>[2],
  ): Promise<Buffer> {
    const bytes = await (this.#inner.lookup as NonNullable<Transport['lookup']>)(peer, envelope, options);
    this.answers.push({ peer: peer.participantId, bytes });
    return bytes;
  }
  close(): void {
    this.#inner.close();
  }
}

let fra: TestNode;
let bel: TestNode;
let ken: TestNode;
let nld: TestNode;
let deu: TestNode;
let recorder: AnswerRecorder;
let lookups: UnaryClient<LookupsServer>;
let belLookups: UnaryClient<LookupsServer>;
let belRecords: UnaryClient<RecordsServer>;
let recordId: string;

beforeAll(async () => {
  recorder = new AnswerRecorder();
  [fra, bel, ken, nld, deu] = await Promise.all([
    startNode('FRA', { transport: recorder }),
    startNode('BEL'),
    startNode('KEN'),
    startNode('NLD'),
    startNode('DEU'),
  ]);
  await pinAll([fra, bel, ken, nld, deu].map((t) => t.node));
  for (const owner of [bel, ken, deu])
    await owner.node.policies.set(
      PeerPolicy.fromPartial({ participantId: 'FRA', allowLookups: true, acceptRequests: true }),
    );
  const { record } = await bel.node.records.put(stolenRifle());
  recordId = record.recordId;
  await bel.node.records.report(recordId, theftReport());
  // KEN holds the same rifle, but not as a record of interest.
  await ken.node.records.put(stolenRifle());
  // DEU is down: its port no longer answers.
  await deu.cleanup();
  lookups = connectUnary<LookupsServer>(
    LookupsClient,
    fra.node.authorityAddress,
    await readAuthorityToken(fra.dataDir),
  );
  belLookups = connectUnary<LookupsServer>(
    LookupsClient,
    bel.node.authorityAddress,
    await readAuthorityToken(bel.dataDir),
  );
  belRecords = connectUnary<RecordsServer>(
    RecordsClient,
    bel.node.authorityAddress,
    await readAuthorityToken(bel.dataDir),
  );
});

afterAll(async () => {
  for (const c of [lookups, belLookups, belRecords]) c?.close();
  await Promise.all([fra, bel, ken, nld, deu].map((t) => t?.cleanup()));
});

function request(fields: Partial<LookupRequest> = {}): LookupRequest {
  return {
    weapon: rifleQuery(),
    purpose: 'seizure at Roissy, case 2026/77',
    peers: [],
    deadlineMs: 800,
    requestingAuthority: 'OCLCTIC',
    ...fields,
  };
}

let hit: LookupHit;

describe('a federated lookup', () => {
  it('asks every pinned peer at once and reports hit, no hit, refusal and the peer that did not answer in time', async () => {
    const started = performance.now();
    const response = await lookups.call('lookup', request());
    const elapsed = performance.now() - started;
    const byPeer = Object.fromEntries(response.results.map((r) => [r.peer, r]));
    expect(Object.keys(byPeer).sort()).toEqual(['BEL', 'DEU', 'KEN', 'NLD']);
    expect(byPeer.BEL).toMatchObject({
      outcome: LookupOutcome.LOOKUP_OUTCOME_HIT,
      hits: [
        {
          owner: 'BEL',
          category: InterestCategory.INTEREST_CATEGORY_STOLEN,
          contactPoint: 'NCB Brussels, +32 2 000 00 00',
          partial: false,
        },
      ],
    });
    expect(byPeer.KEN).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_NO_HIT, hits: [] });
    expect(byPeer.NLD).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_ERROR, errorCode: 'KIND_NOT_ALLOWED' });
    expect(byPeer.DEU).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_TIMEOUT, hits: [] });
    expect(response.notAnswered).toEqual(['DEU']);
    expect(byPeer.DEU?.elapsedMs).toBeGreaterThanOrEqual(750);
    // Concurrently: the whole lookup takes about one deadline, not one per peer.
    expect(elapsed).toBeLessThan(800 + 700);
    hit = byPeer.BEL?.hits[0] as LookupHit;
    expect(hit.reference).toMatch(/^roi_/);
  });

  it('the decrypted bytes of every answer hold only the fields of a hit, and nothing of the record', async () => {
    const owners = { BEL: bel, KEN: ken };
    expect(recorder.answers.map((a) => a.peer).sort()).toEqual(['BEL', 'KEN']);
    for (const { peer, bytes } of recorder.answers) {
      const opened = openAnswer(bytes, fra.node.identity, owners[peer as 'BEL' | 'KEN'].node.identity);
      expectOnlyHitFields(opened, [...SECRETS, recordId]);
    }
  });

  it('the requester audits each query before it leaves and each answer', async () => {
    const queries = await auditOf(fra, 'lookup.query');
    expect(queries.map((q) => q.peer).sort()).toEqual(['BEL', 'DEU', 'KEN', 'NLD']);
    expect(queries.every((q) => q.direction === 'out')).toBe(true);
    const answers = await auditOf(fra, 'lookup.answer');
    expect(Object.fromEntries(answers.map((a) => [a.peer, a.outcome]))).toEqual({
      BEL: 'hit',
      KEN: 'no_hit',
      NLD: 'error',
      DEU: 'timeout',
    });
    expect(Math.max(...queries.map((q) => Number(q.seq)))).toBeLessThan(Math.min(...answers.map((a) => Number(a.seq))));
    expect(JSON.stringify([...queries, ...answers])).not.toContain('Roissy');
  });

  it('the owner lists the hit with who asked, when and the stated purpose', async () => {
    const page = await belLookups.call('listHits', { limit: 0, cursor: '' });
    expect(page.hits).toEqual([
      expect.objectContaining({
        askedBy: 'FRA',
        purpose: 'seizure at Roissy, case 2026/77',
        requestingAuthority: 'OCLCTIC',
        recordId,
        reference: hit.reference,
        partial: false,
      }),
    ]);
    expect(Math.abs(Number(page.hits[0]?.atMs) - Date.now())).toBeLessThan(60_000);
    expect(await bel.node.records.recordIdOfReference(hit.reference)).toBe(recordId);
  });

  it('lists hits newest first, page by page', async () => {
    await lookups.call('lookup', request({ peers: ['BEL'], weapon: rifleQuery({ serialNumber: 'FX04122*' }) }));
    const first = await belLookups.call('listHits', { limit: 1, cursor: '' });
    expect(first.hits).toEqual([expect.objectContaining({ partial: true })]);
    expect(first.nextCursor).not.toBe('');
    const second = await belLookups.call('listHits', { limit: 1, cursor: first.nextCursor });
    expect(second.hits).toEqual([expect.objectContaining({ partial: false })]);
    expect(second.nextCursor).toBe('');
    await expect(belLookups.call('listHits', { limit: 501, cursor: '' })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'limit',
    });
  });

  it('refuses a lookup that names a peer that is not pinned, itself, a deadline above a minute, or no purpose', async () => {
    await expect(lookups.call('lookup', request({ peers: ['BEL', 'ZZZ'] }))).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
      field: 'peers',
    });
    await expect(lookups.call('lookup', request({ peers: ['FRA'] }))).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'peers',
    });
    await expect(lookups.call('lookup', request({ deadlineMs: 60_001 }))).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'deadline_ms',
    });
    await expect(lookups.call('lookup', request({ purpose: ' ' }))).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'purpose',
    });
    await expect(
      lookups.call('lookup', request({ weapon: rifleQuery({ serialNumber: 'F*X' }) })),
    ).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, rule: 'wildcard_known_characters' });
    const noToken = connectUnary<LookupsServer>(LookupsClient, fra.node.authorityAddress, 'wrong');
    await expect(noToken.call('lookup', request())).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHORIZED });
    noToken.close();
  });
});

describe('a trace from a hit', () => {
  const content = (): TraceRequest =>
    TraceRequest.fromPartial({
      caseReference: 'OCLCTIC-2026-77',
      priority: Priority.PRIORITY_ROUTINE,
      illicitCriteria: [{ kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Code pénal art. 222-52' }],
      circumstances: {
        kind: FindingKind.FINDING_KIND_SEIZED,
        date: '2025-05-30',
        place: 'Roissy',
        agency: 'Douane',
        description: '',
        circumstance: 0,
      },
      weapon: { markings: { type: WeaponType.WEAPON_TYPE_RIFLE, calibre: '7.62x51mm' } },
    });

  it('opens a case to the owner quoting the reference, with the weapon and purpose of the lookup', async () => {
    const { case: c } = await lookups.call('traceFromHit', { hit, request: content(), send: true });
    expect(c).toMatchObject({ peer: 'BEL', role: CaseRole.CASE_ROLE_REQUESTER });
    expect(c?.request).toMatchObject({
      hitReference: hit.reference,
      intendedUse: 'seizure at Roissy, case 2026/77',
      requestingAuthority: 'OCLCTIC',
      weapon: {
        markings: expect.objectContaining({
          manufacturer: 'FN Herstal',
          serialNumber: 'FX-0412-2231',
          calibre: '7.62x51mm',
          type: WeaponType.WEAPON_TYPE_RIFLE,
        }),
      },
    });
    // The owner receives it with the reference and finds its record from it.
    await waitFor(
      async () => (await bel.node.workflow.list({})).cases.some((x) => x.traceId === c?.traceId),
      10_000,
      'the request on BEL',
    );
    const received = (await bel.node.workflow.list({})).cases.find((x) => x.traceId === c?.traceId);
    const full = await bel.node.workflow.get(received?.caseId ?? '');
    expect(full.request?.hitReference).toBe(hit.reference);
    expect(await bel.node.records.recordIdOfReference(full.request?.hitReference ?? '')).toBe(recordId);
  });

  it('refuses a hit this node never received, a hit without owner, and an incomplete request', async () => {
    await expect(
      lookups.call('traceFromHit', {
        hit: { ...hit, reference: `roi_${'x'.repeat(22)}` },
        request: content(),
        send: false,
      }),
    ).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
      field: 'hit.reference',
    });
    await expect(
      lookups.call('traceFromHit', { hit: { ...hit, owner: 'KEN' }, request: content(), send: false }),
    ).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NOT_FOUND });
    await expect(
      lookups.call('traceFromHit', { hit: { ...hit, owner: '' }, request: content(), send: false }),
    ).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_MISSING_FIELD, field: 'hit.owner' });
    await expect(lookups.call('traceFromHit', { hit, request: undefined, send: false })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_REQUEST_INCOMPLETE,
    });
  });
});

describe('records of interest through the Records service', () => {
  it('ReportRecord checks the report and lists every problem; ClearReport withdraws it; PutRecord keeps it', async () => {
    const { record } = await belRecords.call('putRecord', { record: stolenRifle({ serialNumber: 'FX-7777' }) });
    const id = record?.recordId ?? '';
    await expect(
      belRecords.call('reportRecord', {
        recordId: id,
        report: theftReport({ category: 0, date: '2026-02-30', agency: '' }),
      }),
    ).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      violations: [
        expect.objectContaining({ field: 'report.category' }),
        expect.objectContaining({ field: 'report.date', rule: 'date' }),
        expect.objectContaining({ field: 'report.agency' }),
      ],
    });
    await expect(
      belRecords.call('reportRecord', { recordId: `rec_${'Z'.repeat(22)}`, report: theftReport() }),
    ).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NOT_FOUND });
    const reported = await belRecords.call('reportRecord', {
      recordId: id,
      report: theftReport({ category: InterestCategory.INTEREST_CATEGORY_LOST }),
    });
    expect(reported.record?.interest?.category).toBe(InterestCategory.INTEREST_CATEGORY_LOST);
    const ask = async () =>
      (await lookups.call('lookup', request({ peers: ['BEL'], weapon: rifleQuery({ serialNumber: 'FX-7777' }) })))
        .results[0]?.outcome;
    expect(await ask()).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    // An edit that does not carry the report keeps it.
    await belRecords.call('putRecord', {
      record: { ...stolenRifle({ serialNumber: 'FX-7777' }), recordId: id, notes: 'edited' },
    });
    expect(await ask()).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    const cleared = await belRecords.call('clearReport', { recordId: id });
    expect(cleared.record?.interest).toBeUndefined();
    expect(await ask()).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    const types = (await auditOf(bel, 'record.reported')).length + (await auditOf(bel, 'record.report_cleared')).length;
    expect(types).toBeGreaterThanOrEqual(3);
  });

  it('LoadAliases replaces the table at once and the node reads it again after a restart', async () => {
    const ask = async () =>
      (
        await lookups.call(
          'lookup',
          request({ peers: ['BEL'], weapon: rifleQuery({ manufacturer: 'Fabrique Nationale' }) }),
        )
      ).results[0]?.outcome;
    expect(await ask()).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    await expect(
      belRecords.call('loadAliases', { csv: Buffer.from('FN Herstal,FN\nOther,fn\n'), calibres: false }),
    ).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, rule: 'alias_conflict' });
    expect(await belRecords.call('loadAliases', { csv: readFileSync(SAMPLE_ALIASES), calibres: false })).toMatchObject({
      names: 6,
    });
    expect(await ask()).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    const dataDir = bel.dataDir;
    await bel.node.stop();
    const again = await startNode('BEL', { dataDir });
    try {
      expect(again.node.lookups.aliases.table.canonical('Fabrique Nationale')).toBe('fn herstal');
    } finally {
      await again.node.stop();
    }
  });
});
