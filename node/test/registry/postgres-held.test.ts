/**
 * A node answering from the French PostgreSQL registry (./french-registry.ts): a trace for a weapon
 * whose row lacks its category waits for an officer with "held but incomplete", never "no record",
 * while traces for complete weapons are answered automatically (traced, referred).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaseState, PeerPolicy, TraceOutcome, WeaponType } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinAll, startNode, testConfig, type TestNode, waitFor } from '../support/nodes.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { traceRequest } from '../support/requests.js';
import { FRENCH_REGISTRY_SQL, frenchMapping } from './french-registry.js';

describe('automatic answers from a PostgreSQL registry with broken rows', () => {
  let db: TestDatabase;
  let dir: string;
  let fra: TestNode;
  let bel: TestNode;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(FRENCH_REGISTRY_SQL);
    dir = await mkdtemp(join(tmpdir(), 'tracenet-postgres-held-'));
    const mapping = join(dir, 'mapping.json');
    await writeFile(mapping, JSON.stringify(frenchMapping()));
    const config = testConfig({
      registry: { adapter: 'postgres', postgres: { url: db.url, mapping, poolSize: 2, statementTimeoutMs: 5_000 } },
    });
    [bel, fra] = await Promise.all([startNode('BEL'), startNode('FRA', { config })]);
    await pinAll([fra.node, bel.node]);
    await fra.node.policies.set(
      PeerPolicy.fromPartial({ participantId: 'BEL', acceptRequests: true, autoAcknowledge: true, autoAnswer: true }),
    );
  });
  afterAll(async () => {
    await Promise.all([fra?.cleanup(), bel?.cleanup()]);
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** BEL traces a MAS pistol with this serial; FRA's case once it has acted on it. */
  async function trace(serialNumber: string) {
    const mine = await bel.node.workflow.createCase(
      'FRA',
      traceRequest(
        {},
        {
          manufacturer: 'MAS',
          serialNumber,
          model: 'MAS 1950',
          calibre: '9x19mm',
          type: WeaponType.WEAPON_TYPE_PISTOL,
          countryOfManufacture: 'FRA',
          year: 0,
        },
      ),
      true,
    );
    let theirs: Awaited<ReturnType<typeof fra.node.workflow.get>> | undefined;
    await waitFor(
      async () => {
        const listed = (await fra.node.workflow.list({ limit: 100 })).cases.find((c) => c.traceId === mine.traceId);
        theirs = listed && (await fra.node.workflow.get(listed.caseId));
        return (
          theirs?.state === CaseState.CASE_STATE_ANSWERED ||
          theirs?.timeline.some((t) => /waiting for an officer/.test(t.summary)) === true
        );
      },
      20_000,
      `FRA acting on the trace of ${serialNumber}`,
    );
    return theirs;
  }

  it('waits for an officer on a weapon held but incomplete, saying so', async () => {
    const held = await trace('F-0007');
    expect(held?.state).toBe(CaseState.CASE_STATE_ACKNOWLEDGED);
    const notes = held?.timeline.map((t) => t.summary) ?? [];
    expect(notes).toContainEqual(
      expect.stringMatching(/held but incomplete: pg_7 \(record\.manufacture\.type\); waiting for an officer/),
    );
    expect(notes.join('\n')).not.toMatch(/no exact record match/);
  });

  it('answers complete weapons automatically: referred after an export, traced otherwise', async () => {
    const referred = await trace('F 0003');
    expect(referred?.answer).toMatchObject({
      outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
      automatic: true,
      referral: { participant: 'KEN' },
    });
    const traced = await trace('f0020');
    expect(traced?.answer).toMatchObject({ outcome: TraceOutcome.TRACE_OUTCOME_TRACED, automatic: true });
  });
});
