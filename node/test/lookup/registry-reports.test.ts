import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CaseState,
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
  RecordsClient,
  type RecordsServer,
  TraceRequest,
  WeaponType,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { AliasTable } from '../../src/records/alias-table.js';
import { serialPattern } from '../../src/records/serial-pattern.js';
import { Registry } from '../../src/registry/registry.js';
import { ManualClock } from '../../src/util/clock.js';
import { pinAll, startNode, testConfig, testLogger, type TestNode, waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';
import { MemoryRegistry, writeMemoryModule } from './memory-registry.js';
import {
  auditOf,
  expectOnlyHitFields,
  openAnswer,
  queryBody,
  rifleQuery,
  SECRETS,
  sealQuery,
  stolenRifle,
  theftReport,
} from './support.js';

/**
 * Hit/no-hit lookups answered from a registry's own reports of loss and theft (issue 16,
 * section 2): a real node whose registry is an adapter module holding a {@link MemoryRegistry}.
 */

const SAMPLE_ALIASES = fileURLToPath(new URL('../../../docs/examples/manufacturer-aliases.csv', import.meta.url));
const ROI = /^roi_[A-Za-z0-9_-]{22}$/;
const registryDesk = theftReport({ contactPoint: 'Registry desk, +32 2 111 11 11' });
const officerDesk = theftReport({
  category: InterestCategory.INTEREST_CATEGORY_LOST,
  contactPoint: 'NCB Brussels officer',
});

let dir: string;
let memory: MemoryRegistry;
let fra: TestNode;
let bel: TestNode;
let config: ReturnType<typeof testConfig>;
let lookups: UnaryClient<LookupsServer>;
let belRecords: UnaryClient<RecordsServer>;
let localCopyId: string;
/** The hit on the registry's stolen rifle, as FRA received it. */
let rifleHit: LookupHit;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracenet-registry-reports-'));
  memory = new MemoryRegistry();
  // The registry's own reports, and what it holds without a report.
  memory.set('mem_rifle', stolenRifle(), registryDesk);
  memory.set('mem_plain', stolenRifle({ serialNumber: 'FX-0412-5555' }));
  memory.set(
    'mem_alias',
    stolenRifle({ manufacturer: 'Fabrique Nationale', serialNumber: 'FX-0412-3000' }),
    theftReport({ category: InterestCategory.INTEREST_CATEGORY_LOST }),
  );
  // A weapon the node's officers copied into its own store and reported there too.
  memory.set('mem_copy', stolenRifle({ serialNumber: 'CP-1000' }), registryDesk);
  // One weapon twice in the registry: a real duplicate, both reported.
  memory.set('mem_dup_a', stolenRifle({ serialNumber: 'DP-2000' }), registryDesk);
  memory.set('mem_dup_b', stolenRifle({ serialNumber: 'DP 2000' }), registryDesk);
  // Held without a report; an officer of the node reports it.
  memory.set('mem_officer', stolenRifle({ serialNumber: 'OF-3000' }));
  const module = await writeMemoryModule(dir, memory);
  config = testConfig({ registry: { adapter: 'module', module } });
  [fra, bel] = await Promise.all([startNode('FRA'), startNode('BEL', { config })]);
  await pinAll([fra.node, bel.node]);
  await bel.node.policies.set(
    PeerPolicy.fromPartial({
      participantId: 'FRA',
      allowLookups: true,
      lookupsPerMinute: 1000,
      acceptRequests: true,
      autoAcknowledge: true,
      autoAnswer: true,
    }),
  );
  await bel.node.lookups.aliases.load(readFileSync(SAMPLE_ALIASES));
  const { record } = await bel.node.records.put(stolenRifle({ serialNumber: 'CP-1000' }));
  localCopyId = record.recordId;
  await bel.node.records.report(localCopyId, officerDesk);
  lookups = connectUnary<LookupsServer>(
    LookupsClient,
    fra.node.authorityAddress,
    await readAuthorityToken(fra.dataDir),
  );
  belRecords = connectUnary<RecordsServer>(
    RecordsClient,
    bel.node.authorityAddress,
    await readAuthorityToken(bel.dataDir),
  );
});

afterAll(async () => {
  for (const c of [lookups, belRecords]) c?.close();
  await Promise.all([fra, bel].map((t) => t?.cleanup()));
  await rm(dir, { recursive: true, force: true });
});

function request(fields: Partial<LookupRequest> = {}): LookupRequest {
  return {
    weapon: rifleQuery(),
    purpose: 'seizure at Roissy, case 2026/91',
    peers: ['BEL'],
    deadlineMs: 5_000,
    requestingAuthority: 'OCLCTIC',
    ...fields,
  };
}

/** BEL's answer to FRA for `weapon`: the outcome, the hits and the error code. */
async function ask(weapon: Partial<LookupRequest['weapon']> & object = {}) {
  const response = await lookups.call('lookup', request({ weapon: rifleQuery(weapon) }));
  const result = response.results[0];
  return { outcome: result?.outcome, hits: result?.hits ?? [], errorCode: result?.errorCode };
}

describe('lookups from the registry', () => {
  it("hit a weapon the registry reports, with the registry's category and contact point and an opaque reference; the owner records the hit", async () => {
    const before = memory.calls.findReported;
    const { outcome, hits } = await ask();
    expect(outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    expect(hits).toHaveLength(1);
    rifleHit = hits[0] as LookupHit;
    expect(rifleHit).toMatchObject({
      owner: 'BEL',
      category: InterestCategory.INTEREST_CATEGORY_STOLEN,
      contactPoint: registryDesk.contactPoint,
      partial: false,
    });
    expect(rifleHit.reference).toMatch(ROI);
    expect(memory.calls.findReported).toBeGreaterThan(before);
    // The owner's notice names the registry record; the reference resolves to it.
    const [notice] = (await bel.node.lookups.hits.list({ limit: 1 })).hits;
    expect(notice).toMatchObject({ askedBy: 'FRA', recordId: 'mem_rifle', reference: rifleHit.reference });
    expect(await bel.node.records.recordIdOfReference(rifleHit.reference)).toBe('mem_rifle');
    // The same record keeps its reference.
    expect((await ask()).hits[0]?.reference).toBe(rifleHit.reference);
    // Held without a report: no hit.
    expect((await ask({ serialNumber: 'FX-0412-5555' })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
  });

  it('the answer carries the five fields of a hit and nothing of the registry record or its key', async () => {
    const sealed = sealQuery(fra.node.identity, bel.node.identity, Date.now(), queryBody(rifleQuery()));
    const bytes = await bel.node.lookups.responder.lookup(sealed.bytes);
    const opened = openAnswer(bytes, fra.node.identity, bel.node.identity);
    expect(opened.answer.hits.map((h) => h.reference)).toEqual([rifleHit.reference]);
    expectOnlyHitFields(opened, [...SECRETS, 'mem_']);
  });

  it('match with the rules of the node: wildcards give candidates, aliases join spellings, model, calibre and type narrow', async () => {
    const wildcard = await ask({ serialNumber: 'fx-0412-*' });
    expect(wildcard.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    // The rifle and the one the registry spells "Fabrique Nationale"; not the one without a report.
    expect(wildcard.hits).toHaveLength(2);
    expect(wildcard.hits.every((h) => h.partial)).toBe(true);
    expect(wildcard.hits.map((h) => h.reference)).toContain(rifleHit.reference);
    expect(wildcard.hits.map((h) => h.category).sort()).toEqual([
      InterestCategory.INTEREST_CATEGORY_LOST,
      InterestCategory.INTEREST_CATEGORY_STOLEN,
    ]);
    const alias = await ask({ manufacturer: 'FN', serialNumber: 'FX 0412 3000' });
    expect(alias.hits).toMatchObject([{ category: InterestCategory.INTEREST_CATEGORY_LOST, partial: false }]);
    expect((await ask({ manufacturer: 'Glock' })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    expect((await ask({ model: 'FAL 50.63' })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    expect((await ask({ model: 'FNC' })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    expect((await ask({ calibre: '5.56x45mm' })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    expect((await ask({ type: WeaponType.WEAPON_TYPE_PISTOL })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    expect((await ask({ type: WeaponType.WEAPON_TYPE_RIFLE })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
  });

  it("a weapon both the node's store and the registry report is one hit, the node's; one weapon twice in the registry is two", async () => {
    const copy = await ask({ serialNumber: 'CP-1000' });
    expect(copy.hits).toHaveLength(1);
    expect(copy.hits[0]).toMatchObject({
      category: InterestCategory.INTEREST_CATEGORY_LOST,
      contactPoint: officerDesk.contactPoint,
    });
    expect(await bel.node.records.recordIdOfReference(copy.hits[0]?.reference ?? '')).toBe(localCopyId);
    const duplicate = await ask({ serialNumber: 'DP-2000' });
    expect(duplicate.hits).toHaveLength(2);
    expect(new Set(duplicate.hits.map((h) => h.reference)).size).toBe(2);
  });

  it('searches and automatic answers find one record of a weapon the node and the registry both hold', async () => {
    const query = { manufacturer: 'FN', serialNumber: 'CP1000', model: '', calibre: '', type: 0 };
    expect((await bel.node.registry.findExact(query)).map((r) => r.recordId)).toEqual([localCopyId]);
    expect((await bel.node.registry.search({ ...query, serialNumber: 'CP*0' })).map((r) => r.recordId)).toEqual([
      localCopyId,
    ]);
    const twice = await bel.node.registry.findExact({ ...query, serialNumber: 'DP-2000' });
    expect(twice.map((r) => r.recordId).sort()).toEqual(['mem_dup_a', 'mem_dup_b']);
    // Another weapon of the same serial (another model): both stay.
    const { record: other } = await bel.node.records.put(stolenRifle({ serialNumber: 'DP-2000', model: 'FNC' }));
    expect((await bel.node.registry.findExact({ ...query, serialNumber: 'DP-2000' })).map((r) => r.recordId)).toEqual([
      other.recordId,
      'mem_dup_a',
      'mem_dup_b',
    ]);
  });

  it('an automatic answer finds one record of a weapon the node copied from the registry, not two', async () => {
    const mine = await fra.node.workflow.createCase(
      'BEL',
      traceRequest(
        {},
        {
          manufacturer: 'FN',
          serialNumber: 'CP 1000',
          model: 'FAL-50.63',
          calibre: '7.62x51mm',
          type: WeaponType.WEAPON_TYPE_RIFLE,
        },
      ),
      true,
    );
    await waitFor(
      async () => (await fra.node.workflow.get(mine.caseId)).state === CaseState.CASE_STATE_ANSWERED,
      20_000,
      'the automatic answer',
    );
    expect((await fra.node.workflow.get(mine.caseId)).answer?.automatic).toBe(true);
  });

  it('an officer reports a registry record: one hit, the registry reporting it too gives no second, clear-report withdraws only the node’s', async () => {
    expect((await ask({ serialNumber: 'OF-3000' })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    await expect(
      belRecords.call('reportRecord', { recordId: 'mem_nothing', report: officerDesk }),
    ).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_NOT_FOUND, field: 'record_id' });
    await expect(
      belRecords.call('reportRecord', { recordId: 'mem_officer', report: theftReport({ agency: '', date: 'soon' }) }),
    ).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      violations: [
        expect.objectContaining({ field: 'report.date', rule: 'date' }),
        expect.objectContaining({ field: 'report.agency', rule: 'required' }),
      ],
    });
    const { record } = await belRecords.call('reportRecord', { recordId: 'mem_officer', report: officerDesk });
    expect(record).toMatchObject({ recordId: 'mem_officer', interest: officerDesk });
    expect((await belRecords.call('getRecord', { recordId: 'mem_officer' })).record?.interest).toEqual(officerDesk);
    const own = await ask({ serialNumber: 'OF-3000' });
    expect(own.hits).toMatchObject([
      { category: InterestCategory.INTEREST_CATEGORY_LOST, contactPoint: officerDesk.contactPoint },
    ]);
    const reference = own.hits[0]?.reference ?? '';
    expect(reference).toMatch(ROI);
    expect(await bel.node.records.recordIdOfReference(reference)).toBe('mem_officer');
    expect(await auditOf(bel, 'record.reported')).toContainEqual(
      expect.objectContaining({ recordId: 'mem_officer', category: 'lost', reference, replaced: false }),
    );

    // The registry reports it too: still one hit, the node's report, the same reference.
    memory.setReport('mem_officer', registryDesk);
    expect((await ask({ serialNumber: 'OF-3000' })).hits).toEqual(own.hits);

    // Withdrawn on the node: the registry's own report remains, under the same reference.
    const cleared = await belRecords.call('clearReport', { recordId: 'mem_officer' });
    expect(cleared.record?.interest).toEqual(registryDesk);
    expect((await ask({ serialNumber: 'OF-3000' })).hits).toMatchObject([
      { reference, category: InterestCategory.INTEREST_CATEGORY_STOLEN, contactPoint: registryDesk.contactPoint },
    ]);
    expect(await auditOf(bel, 'record.report_cleared')).toContainEqual(
      expect.objectContaining({ recordId: 'mem_officer', reference }),
    );
    // Withdrawn in the registry: no hit.
    memory.setReport('mem_officer', undefined);
    expect((await ask({ serialNumber: 'OF-3000' })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    // A second clear writes nothing and returns the record.
    const audited = (await auditOf(bel, 'record.report_cleared')).length;
    expect((await belRecords.call('clearReport', { recordId: 'mem_officer' })).record?.interest).toBeUndefined();
    expect(await auditOf(bel, 'record.report_cleared')).toHaveLength(audited);
  });

  it('a report of the node on a weapon the registry no longer holds is still withdrawn by clear-report', async () => {
    memory.set('mem_gone', stolenRifle({ serialNumber: 'GN-4000' }));
    await belRecords.call('reportRecord', { recordId: 'mem_gone', report: officerDesk });
    memory.records = memory.records.filter((r) => r.recordId !== 'mem_gone');
    // The node's report stays until it is withdrawn (docs/protocol.md 13.12).
    expect((await ask({ serialNumber: 'GN-4000' })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    expect((await belRecords.call('clearReport', { recordId: 'mem_gone' })).record).toMatchObject({
      recordId: 'mem_gone',
      interest: undefined,
    });
    expect((await ask({ serialNumber: 'GN-4000' })).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    await expect(belRecords.call('clearReport', { recordId: 'mem_gone' })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_NOT_FOUND,
    });
  });

  it('while the registry is down a lookup is refused UNAVAILABLE, never answered "no hit", and nothing is noted', async () => {
    const notices = (await bel.node.lookups.hits.list({ limit: 500 })).hits.length;
    memory.down = true;
    try {
      for (const serialNumber of ['FX-0412-2231', 'NOTHING-9', 'CP-1000']) {
        const { outcome, errorCode } = await ask({ serialNumber });
        expect(outcome, serialNumber).toBe(LookupOutcome.LOOKUP_OUTCOME_ERROR);
        expect(errorCode).toBe('UNAVAILABLE');
      }
    } finally {
      memory.down = false;
    }
    expect((await bel.node.lookups.hits.list({ limit: 500 })).hits).toHaveLength(notices);
    const refused = (await auditOf(bel, 'lookup.refused')).slice(-3);
    expect(refused.map((r) => [r.code, r.rule])).toEqual(Array(3).fill(['UNAVAILABLE', 'registry_unavailable']));
    expect(JSON.stringify(refused)).not.toContain('10.9.8.7');
    expect((await ask()).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
  });

  it('a trace from a registry hit reaches the owner, which resolves the reference to the registry record', async () => {
    const content = TraceRequest.fromPartial({
      caseReference: 'OCLCTIC-2026-91',
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
    const { case: c } = await lookups.call('traceFromHit', { hit: rifleHit, request: content, send: true });
    expect(c?.request?.hitReference).toBe(rifleHit.reference);
    await waitFor(
      async () => (await bel.node.workflow.list({})).cases.some((x) => x.traceId === c?.traceId),
      10_000,
      'the request on BEL',
    );
    const received = (await bel.node.workflow.list({})).cases.find((x) => x.traceId === c?.traceId);
    const full = await bel.node.workflow.get(received?.caseId ?? '');
    expect(await bel.node.records.recordIdOfReference(full.request?.hitReference ?? '')).toBe('mem_rifle');
  });

  it('references of registry records stay the same and resolve after a restart; the hit notices remain', async () => {
    const officer = await bel.node.records.registryReference('mem_officer');
    await bel.node.stop();
    const again = await startNode('BEL', { dataDir: bel.dataDir, config });
    bel = again;
    expect(await again.node.records.recordIdOfReference(rifleHit.reference)).toBe('mem_rifle');
    expect(await again.node.records.registryReference('mem_rifle')).toBe(rifleHit.reference);
    expect(await again.node.records.registryReference('mem_officer')).toBe(officer);
    const sealed = sealQuery(fra.node.identity, again.node.identity, Date.now(), queryBody(rifleQuery()));
    const opened = openAnswer(
      await again.node.lookups.responder.lookup(sealed.bytes),
      fra.node.identity,
      again.node.identity,
    );
    expect(opened.answer.hits.map((h) => h.reference)).toEqual([rifleHit.reference]);
    const notices = (await again.node.lookups.hits.list({ limit: 500 })).hits;
    expect(notices.filter((n) => n.recordId === 'mem_rifle').length).toBeGreaterThanOrEqual(4);
  });
});

describe('Registry.findOfInterest', () => {
  const registryOf = (adapter: MemoryRegistry) =>
    new Registry({
      adapters: [adapter],
      aliases: () => AliasTable.EMPTY,
      clock: new ManualClock(0),
      logger: testLogger(),
    });

  it("reads the registry's reports with findReported, or with findBySerial when the adapter has none", async () => {
    for (const withFind of [true, false]) {
      const adapter = new MemoryRegistry({ findReported: withFind });
      adapter.set('mem_a', stolenRifle(), registryDesk);
      adapter.set('mem_b', stolenRifle({ serialNumber: 'FX-0412-2232' }));
      adapter.set('mem_c', stolenRifle({ serialNumber: 'FX-0412-2233' }), registryDesk);
      const registry = registryOf(adapter);
      const found = await registry.findOfInterest(serialPattern('FX0412223*'), 100);
      expect(found.map((r) => r.recordId).sort(), `findReported: ${withFind}`).toEqual(['mem_a', 'mem_c']);
      expect(adapter.calls).toEqual(
        withFind ? { findBySerial: 0, findReported: 1 } : { findBySerial: 1, findReported: 0 },
      );
      expect(await registry.findOfInterest(serialPattern('FX04122231'), 100)).toHaveLength(1);
      expect(await registry.findOfInterest(serialPattern('FX0412223*'), 1)).toHaveLength(1);
    }
  });

  it('fails UNAVAILABLE when the registry cannot answer', async () => {
    const adapter = new MemoryRegistry();
    adapter.down = true;
    await expect(registryOf(adapter).findOfInterest(serialPattern('FX04122231'), 100)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
    });
  });
});
