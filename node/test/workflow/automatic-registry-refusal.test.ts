import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaseState, ErrorCode, PeerPolicy, TracenetError, WeaponType } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryEntry } from '../../src/registry/adapter.js';
import { MemoryRegistry, writeMemoryModule } from '../lookup/memory-registry.js';
import { pinAll, startNode, type TestNode, testConfig, waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';

/**
 * A registry that refuses a search for good (a PostgreSQL mapping it refuses at its first use,
 * after the database was unreachable at start) is not the request's fault: the automatic step
 * says that the records cannot be searched, never that the weapon has no identity to match.
 */
class RefusingRegistry extends MemoryRegistry {
  override async findBySerial(): Promise<RegistryEntry[]> {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'column "nature_arme" (weapons.columns.type): 900 of 1000 weapon rows have no value',
      { field: 'weapons.columns.type', rule: 'mapping' },
    );
  }
}

describe('an automatic answer whose registry refuses the search', () => {
  let dir: string;
  let fra: TestNode;
  let bel: TestNode;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracenet-refusing-registry-'));
    const module = await writeMemoryModule(dir, new RefusingRegistry());
    [fra, bel] = await Promise.all([
      startNode('FRA'),
      startNode('BEL', { config: testConfig({ registry: { adapter: 'module', module, includeLocal: false } }) }),
    ]);
    await pinAll([fra.node, bel.node]);
    await bel.node.policies.set(
      PeerPolicy.fromPartial({ participantId: 'FRA', acceptRequests: true, autoAnswer: true }),
    );
  });
  afterAll(async () => {
    await Promise.all([fra?.cleanup(), bel?.cleanup()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('notes that the records cannot be searched, with the code and field, and waits for an officer', async () => {
    const request = traceRequest(
      {},
      { manufacturer: 'FN Herstal', serialNumber: 'FN-1998-0042', type: WeaponType.WEAPON_TYPE_RIFLE },
    );
    const mine = await fra.node.workflow.createCase('BEL', request, true);
    let notes: string[] = [];
    await waitFor(
      async () => {
        const listed = (await bel.node.workflow.list({ limit: 100 })).cases.find((c) => c.traceId === mine.traceId);
        if (!listed) return false;
        const c = await bel.node.workflow.get(listed.caseId);
        notes = c.timeline.map((t) => t.summary);
        return c.state === CaseState.CASE_STATE_ACKNOWLEDGED && notes.some((s) => s.endsWith('waiting for an officer'));
      },
      15_000,
      'the automatic step',
    );
    expect(notes).toContain(
      'the records cannot be searched (INVALID_FIELD weapons.columns.type); waiting for an officer',
    );
    expect(notes.some((s) => s.startsWith('no composite identity'))).toBe(false);
  });
});
