import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WeaponRecord } from '@tracenet/proto';
import { registryAdapterContract } from '@tracenet/sdk/testing';
import type { RegistryAdapter } from '../../src/registry/adapter.js';
import { contractRegistry, SUBJECTS } from './fixtures.js';

/**
 * The registry adapter contract (issue 5, docs/integration.md "The adapter contract"), as
 * integrators run it from `@tracenet/sdk/testing`: the same questions, asked of the node's own
 * store, of a PostgreSQL registry and of a folder of CSV exports holding the same weapons, get the
 * same answers. The registry around each adapter is built from the node's sources.
 */
describe.each(SUBJECTS)('registry contract: $name', (subject) => {
  const contract = registryAdapterContract({
    createAdapter: (records) => subject.createAdapter(records),
    registry: contractRegistry,
  });
  beforeAll(() => contract.setup());
  afterAll(() => contract.teardown());
  for (const check of contract.checks) it(check.name, () => check.run());
});

/**
 * The contract over the node's own store seen through `change`: the records the store returns
 * pass through it. The adapter gets another kind, since the node deletes only from its own store.
 */
function contractOfBroken(change: (records: WeaponRecord[]) => WeaponRecord[]) {
  const [leveldb] = SUBJECTS;
  return registryAdapterContract({
    registry: contractRegistry,
    async createAdapter(records) {
      const { adapter, cleanup } = await leveldb!.createAdapter(records);
      const broken: RegistryAdapter = {
        kind: 'broken',
        idPrefix: adapter.idPrefix,
        open: () => adapter.open(),
        close: () => adapter.close(),
        check: () => adapter.check(),
        // The node's own store holds only complete records (its import refuses the others).
        findBySerial: async (serial, limit) => change((await adapter.findBySerial(serial, limit)) as WeaponRecord[]),
        get: async (recordId) =>
          change([(await adapter.get(recordId)) as WeaponRecord | undefined].filter((r) => r !== undefined))[0],
      };
      return { adapter: broken, cleanup };
    },
  });
}

describe('the published contract fails an adapter that breaks it', () => {
  it('an adapter that loses records is refused before the checks run', async () => {
    const forgetful = contractOfBroken((records) =>
      records.filter((r) => !r.manufacture?.serialNumber.startsWith('GK')),
    );
    // The contract looks every record up first: a registry that does not hold them all is refused.
    await expect(forgetful.setup()).rejects.toThrow(/does not hold exactly one glock/);
    await forgetful.teardown();
  });

  it('an adapter that gives events newest first fails the events-order check, and only it', async () => {
    const reversed = contractOfBroken((records) => records.map((r) => ({ ...r, events: [...r.events].reverse() })));
    await reversed.setup();
    try {
      const failed: string[] = [];
      for (const check of reversed.checks) await check.run().catch(() => failed.push(check.name));
      expect(failed).toEqual([expect.stringMatching(/^events order/)]);
    } finally {
      await reversed.teardown();
    }
  });
});
