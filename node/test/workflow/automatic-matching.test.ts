import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CaseState,
  IllicitKind,
  LookupOutcome,
  PeerPolicy,
  TraceOutcome,
  type TraceRequest,
  type WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, theftReport } from '../lookup/support.js';
import { weapon } from '../records/support.js';
import { pinAll, startNode, type TestNode, testConfig, waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';

/**
 * Automatic answers as integrators' data really is (docs/protocol.md 12.8): a near match (a close
 * weapon type) waits for an officer; the opt-in automatic "no record" is given only when every
 * registry is healthy and nothing may be the weapon; lookups honour the calibre alias table.
 */

/** The requester's case once the requested node has decided: answered, or a note after acknowledgement. */
async function sent(fra: TestNode, bel: TestNode, request: TraceRequest, decided: (summary: string) => boolean) {
  const mine = await fra.node.workflow.createCase('BEL', request, true);
  let theirs = '';
  await waitFor(
    async () => {
      const [listed] = (await bel.node.workflow.list({ limit: 100 })).cases.filter((c) => c.traceId === mine.traceId);
      if (!listed) return false;
      theirs = listed.caseId;
      const c = await bel.node.workflow.get(theirs);
      return c.answer !== undefined || c.timeline.some((t) => decided(t.summary));
    },
    15_000,
    'the automatic step',
  );
  return { mine, theirs: await bel.node.workflow.get(theirs) };
}

const rifle = (serialNumber: string, fields: Partial<NonNullable<WeaponRecord['manufacture']>> = {}) =>
  traceRequest(
    {},
    {
      manufacturer: 'FN Herstal',
      serialNumber,
      model: 'FAL',
      calibre: '7.62x51mm',
      type: WeaponType.WEAPON_TYPE_RIFLE,
      ...fields,
    },
  );

describe('automatic answers with near matches and the opt-in "no record"', () => {
  let fra: TestNode;
  let bel: TestNode;
  let carbineId = '';
  beforeAll(async () => {
    [fra, bel] = await Promise.all([startNode('FRA'), startNode('BEL')]);
    await pinAll([fra.node, bel.node]);
    await bel.node.policies.set(
      PeerPolicy.fromPartial({
        participantId: 'FRA',
        acceptRequests: true,
        autoAnswer: true,
        autoAnswerNoRecord: true,
      }),
    );
    carbineId = (
      await bel.node.records.put(weapon({}, { serialNumber: 'FAL-7001', type: WeaponType.WEAPON_TYPE_CARBINE }))
    ).record.recordId;
  });
  afterAll(async () => {
    await Promise.all([fra?.cleanup(), bel?.cleanup()]);
  });

  it('a record of a close type is noted as a near match and waits for an officer, even with the opt-in', async () => {
    const { mine, theirs } = await sent(fra, bel, rifle('FAL 7001'), (s) => s.startsWith('near match'));
    expect(theirs.answer).toBeUndefined();
    expect(theirs.state).toBe(CaseState.CASE_STATE_ACKNOWLEDGED);
    expect(theirs.timeline.map((t) => t.summary)).toContain(
      `near match: ${carbineId} is a CARBINE, the request says RIFLE; waiting for an officer`,
    );
    expect((await fra.node.workflow.get(mine.caseId)).answer).toBeUndefined();
  });

  it('a near match beside an exact one still waits for an officer, and the note counts the exact one', async () => {
    const rifleRecord = await bel.node.records.put(weapon({}, { serialNumber: 'FAL-7002' }));
    const carbine = await bel.node.records.put(
      weapon({}, { serialNumber: 'FAL 7002', type: WeaponType.WEAPON_TYPE_ASSAULT_RIFLE }),
    );
    expect(rifleRecord.record.manufacture?.type).toBe(WeaponType.WEAPON_TYPE_RIFLE);
    const { theirs } = await sent(fra, bel, rifle('fal7002'), (s) => s.startsWith('near match'));
    expect(theirs.answer).toBeUndefined();
    expect(theirs.timeline.map((t) => t.summary)).toContain(
      `near match: ${carbine.record.recordId} is an ASSAULT_RIFLE, the request says RIFLE (and 1 exact match); waiting for an officer`,
    );
  });

  it('with the opt-in and a healthy registry, a weapon nobody holds is answered NO_RECORD automatically', async () => {
    const { mine } = await sent(fra, bel, rifle('ZZ-404-404'), () => false);
    await waitFor(
      async () => (await fra.node.workflow.get(mine.caseId)).state === CaseState.CASE_STATE_ANSWERED,
      15_000,
      'the answer at FRA',
    );
    expect((await fra.node.workflow.get(mine.caseId)).answer).toMatchObject({
      outcome: TraceOutcome.TRACE_OUTCOME_NO_RECORD,
      automatic: true,
      history: [],
      details: 'no record of this weapon in the registries searched: leveldb',
    });
  });

  it('with the opt-in, an unmarked weapon is never answered "no record": it has no identity to search', async () => {
    const unmarked = traceRequest(
      { illicitCriteria: [{ kind: IllicitKind.ILLICIT_KIND_NOT_MARKED, legalBasis: 'ITI para 8' }] },
      { serialNumber: '', manufacturer: '' },
    );
    const { theirs } = await sent(fra, bel, unmarked, (s) => s.startsWith('no composite identity'));
    expect(theirs.answer).toBeUndefined();
    expect(theirs.state).toBe(CaseState.CASE_STATE_ACKNOWLEDGED);
  });

  it('without the opt-in, the same request waits for an officer', async () => {
    await bel.node.policies.set({ ...bel.node.policies.get('FRA'), autoAnswerNoRecord: false });
    const { theirs } = await sent(fra, bel, rifle('ZZ-404-405'), (s) => s.startsWith('no exact record match'));
    expect(theirs.answer).toBeUndefined();
    expect(theirs.timeline.map((t) => t.summary)).toContain('no exact record match; waiting for an officer');
    await bel.node.policies.set({ ...bel.node.policies.get('FRA'), autoAnswerNoRecord: true });
  });

  it('the opt-in is kept in the policy and its audit entry', async () => {
    expect(bel.node.policies.get('FRA').autoAnswerNoRecord).toBe(true);
    expect((await auditOf(bel, 'policy.set')).map((e) => e.autoAnswerNoRecord)).toEqual([true, false, true]);
  });
});

/** An integrator's registry that finds nothing and whose health check fails like an unreachable database. */
const SICK_MODULE = `
export async function createAdapter() {
  return {
    kind: 'sick',
    idPrefix: 'sick_',
    async open() {},
    async close() {},
    async check() { throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:5432'), { code: 'ECONNREFUSED' }); },
    async findBySerial() { return []; },
    async get() { return undefined; },
  };
}
`;

describe('the opt-in "no record" while a registry is unhealthy', () => {
  let dir: string;
  let fra: TestNode;
  let bel: TestNode;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracenet-sick-module-'));
    await writeFile(join(dir, 'sick.mjs'), SICK_MODULE);
    fra = await startNode('FRA');
    bel = await startNode('BEL', {
      config: testConfig({ registry: { adapter: 'module', module: join(dir, 'sick.mjs') } }),
    });
    await pinAll([fra.node, bel.node]);
    await bel.node.policies.set(
      PeerPolicy.fromPartial({
        participantId: 'FRA',
        acceptRequests: true,
        autoAnswer: true,
        autoAnswerNoRecord: true,
      }),
    );
  });
  afterAll(async () => {
    await Promise.all([fra?.cleanup(), bel?.cleanup()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('gives no automatic answer and says which registry cannot answer, without its problem text', async () => {
    expect((await bel.node.registry.health()).map((h) => [h.kind, h.ok])).toEqual([
      ['leveldb', true],
      ['sick', false],
    ]);
    const { theirs } = await sent(fra, bel, rifle('ZZ-500-500'), (s) => s.startsWith('no exact record match'));
    expect(theirs.answer).toBeUndefined();
    expect(theirs.state).toBe(CaseState.CASE_STATE_ACKNOWLEDGED);
    const notes = theirs.timeline.map((t) => t.summary);
    expect(notes).toContain(
      'no exact record match; no automatic "no record" while the sick registry cannot answer; waiting for an officer',
    );
    expect(notes.join('\n')).not.toContain('10.0.0.9');
  });
});

describe('lookups honour the calibre alias table', () => {
  let fra: TestNode;
  let bel: TestNode;
  beforeAll(async () => {
    [fra, bel] = await Promise.all([startNode('FRA'), startNode('BEL')]);
    await pinAll([fra.node, bel.node]);
    await bel.node.policies.set(PeerPolicy.fromPartial({ participantId: 'FRA', allowLookups: true }));
    const { record } = await bel.node.records.put(
      weapon(
        {},
        { serialNumber: 'SP-3006-1', model: 'M1 Garand', calibre: '.30-06', manufacturer: 'Springfield Armory' },
      ),
    );
    await bel.node.records.report(record.recordId, theftReport());
  });
  afterAll(async () => {
    await Promise.all([fra?.cleanup(), bel?.cleanup()]);
  });

  const ask = async (calibre: string) =>
    (
      await fra.node.lookups.client.lookup({
        weapon: {
          manufacturer: 'Springfield Armory',
          serialNumber: 'SP 3006 1',
          model: '',
          calibre,
          type: 0,
        },
        purpose: 'seizure in Lyon, case 2026/12',
        peers: ['BEL'],
        deadlineMs: 5_000,
        requestingAuthority: '',
      })
    ).results[0]?.outcome;

  it('hits by another designation of the calibre with the default table, and stops when the table changes', async () => {
    expect(await ask('.30-06 Springfield')).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    expect(await ask('7.62x63')).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    expect(await ask('.308 Winchester')).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    // A calibre table without the line: the same index, no re-indexing, no hit any more.
    await bel.node.lookups.aliases.load(Buffer.from('9x19,9 mm Luger\n'), 'calibre');
    expect(await ask('.30-06 Springfield')).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
    expect(await ask('.30-06')).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    await bel.node.lookups.aliases.load(Buffer.from('.30-06,30-06 Sprg\n'), 'calibre');
    expect(await ask('30-06 SPRG')).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
  });

  it('an identity search on the owner honours the same table', async () => {
    const found = await bel.node.registry.findExact({
      manufacturer: 'Springfield Armory',
      serialNumber: 'SP-3006-1',
      model: '',
      calibre: '30-06 sprg',
      type: 0,
    });
    expect(found).toHaveLength(1);
  });
});
