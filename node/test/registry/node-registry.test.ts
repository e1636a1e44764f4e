import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CaseState,
  ErrorCode,
  PeerPolicy,
  TraceOutcome,
  WeaponEventType as E,
  type WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import { TracenetNode } from '../../src/node.js';
import { makeDataDir, pinAll, startNode, testConfig, testLogger, type TestNode, waitFor } from '../support/nodes.js';
import { FIXTURE, recordsToCsv } from './fixtures.js';
import { traceRequest } from '../support/requests.js';

/**
 * Nodes answering from another registry than their own store: a folder of CSV exports and an
 * integrator's adapter module, configured as an operator would (`registry.*`), with the automatic
 * answer retried while the registry cannot answer.
 */

const query = (manufacturer: string, serialNumber: string) => ({
  manufacturer,
  serialNumber,
  model: '',
  calibre: '',
  type: 0,
});

/**
 * An adapter module holding one record, as an integrator would write it (plain JavaScript, no
 * Tracenet import): it fails like an unreachable database while `globalThis.registryDown` > 0.
 */
const FLAKY_MODULE = (record: WeaponRecord, serial: string) => `
const record = ${JSON.stringify({ ...record, recordId: 'flaky_1' })};
export async function createAdapter(context) {
  const down = () => {
    if (globalThis.registryDown > 0) {
      globalThis.registryDown -= 1;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    }
  };
  return {
    kind: 'flaky',
    idPrefix: 'flaky_',
    async open() { context.logger.info('flaky registry open'); },
    async close() {},
    async check() { down(); },
    async findBySerial(pattern) { down(); return pattern.test(${JSON.stringify(serial)}) ? [record] : []; },
    async get(id) { return id === record.recordId ? record : undefined; },
  };
}
`;

describe('a node with a CSV folder registry', () => {
  let folder: string;
  let bel: TestNode;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'tracenet-registry-folder-'));
    await writeFile(join(folder, 'weapons.csv'), recordsToCsv([FIXTURE.fal, FIXTURE.glock]));
    bel = await startNode('BEL', { config: testConfig({ registry: { adapter: 'csv', csv: { folder } } }) });
  });
  afterAll(async () => {
    await bel?.cleanup();
    await rm(folder, { recursive: true, force: true });
  });

  it('searches the folder and its own records together, reads CSV records by id and refuses to delete them', async () => {
    const { record: own } = await bel.node.records.put({
      ...FIXTURE.glock,
      manufacture: { ...FIXTURE.glock.manufacture!, serialNumber: 'GK-99001' },
    });
    const fals = await bel.node.registry.search(query('fn herstal', 'FN-1998-0042'));
    expect(fals).toHaveLength(1);
    const fal = fals[0] as WeaponRecord;
    expect(fal.recordId).toMatch(/^csv_[A-Za-z0-9_-]{22}$/);
    expect((await bel.node.registry.search(query('Glock', 'GK*1*'))).map((r) => r.recordId.slice(0, 4)).sort()).toEqual(
      ['csv_', 'rec_'],
    );
    expect(await bel.node.registry.get(fal.recordId)).toEqual(fal);
    expect(await bel.node.registry.get(own.recordId)).toEqual(own);
    await expect(bel.node.registry.delete(fal.recordId)).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_RETENTION_PERIOD,
    });
    await expect(bel.node.registry.get('pg_1')).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_INVALID_FIELD,
      field: 'record_id',
      rule: 'record_id',
    });
  });

  it('reads the folder again when a file changes, keeping the ids of unchanged rows', async () => {
    const [before] = await bel.node.registry.findExact(query('FN Herstal', 'FN19980042'));
    await writeFile(join(folder, 'more.csv'), recordsToCsv([FIXTURE.minimi]));
    await waitFor(
      async () => (await bel.node.registry.findExact(query('Fabrique Nationale', 'MN4471'))).length === 1,
      10_000,
      'the new file read',
    );
    const [after] = await bel.node.registry.findExact(query('FN Herstal', 'FN19980042'));
    expect(after?.recordId).toBe(before?.recordId);
  });
});

describe('a node with an adapter module, while its registry is down', () => {
  let dir: string;
  let fra: TestNode;
  let bel: TestNode;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracenet-adapter-module-'));
    await writeFile(join(dir, 'flaky.mjs'), FLAKY_MODULE(FIXTURE.fal, 'FN19980042'));
    fra = await startNode('FRA');
    bel = await startNode('BEL', {
      config: testConfig({ registry: { adapter: 'module', module: join(dir, 'flaky.mjs') } }),
    });
    await pinAll([fra.node, bel.node]);
    await bel.node.policies.set(
      PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: true, autoAcknowledge: true, autoAnswer: true }),
    );
  });
  afterAll(async () => {
    await Promise.all([fra?.cleanup(), bel?.cleanup()]);
    delete (globalThis as { registryDown?: number }).registryDown;
    await rm(dir, { recursive: true, force: true });
  });

  it('notes that the records are unavailable, retries, and answers automatically once they are back', async () => {
    (globalThis as { registryDown?: number }).registryDown = 3;
    const mine = await fra.node.workflow.createCase(
      'BEL',
      traceRequest(
        {},
        {
          manufacturer: 'F.N. Herstal',
          serialNumber: 'FN 1998 0042',
          model: 'FAL',
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
    const answered = await fra.node.workflow.get(mine.caseId);
    expect(answered.answer).toMatchObject({
      outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
      automatic: true,
      referral: { participant: 'KEN' },
    });
    expect(answered.answer?.history.map((e) => e.type)).toEqual([
      E.WEAPON_EVENT_TYPE_MANUFACTURED,
      E.WEAPON_EVENT_TYPE_EXPORTED,
    ]);
    const [listed] = (await bel.node.workflow.list({ limit: 10 })).cases;
    const theirs = await bel.node.workflow.get(listed?.caseId ?? '');
    expect(theirs?.timeline.filter((t) => /records unavailable \(UNAVAILABLE\)/.test(t.summary))).toHaveLength(1);
    expect((globalThis as { registryDown?: number }).registryDown).toBe(0);
  });

  it('reports the registry in health while it is down', async () => {
    (globalThis as { registryDown?: number }).registryDown = 1;
    expect(await bel.node.registry.health()).toEqual([
      { kind: 'leveldb', ok: true },
      { kind: 'flaky', ok: false, problem: expect.stringContaining('ECONNREFUSED') },
    ]);
  });
});

describe('registry configuration mistakes stop the node before it serves', () => {
  it('an adapter module without createAdapter, and a CSV folder that does not exist, name their key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-bad-module-'));
    await writeFile(join(dir, 'empty.mjs'), 'export const nothing = 1;\n');
    const dataDir = await makeDataDir('BEL');
    try {
      await expect(
        TracenetNode.open({
          dataDir,
          config: testConfig({ registry: { adapter: 'module', module: join(dir, 'empty.mjs') } }),
          logger: testLogger(),
        }),
      ).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'registry.module',
        message: expect.stringContaining('does not export a createAdapter(context) function'),
      });
      const node = await TracenetNode.open({
        dataDir,
        config: testConfig({ registry: { adapter: 'csv', csv: { folder: join(dir, 'missing') } } }),
        logger: testLogger(),
      });
      await expect(node.start()).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'registry.csv.folder',
      });
      await node.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
