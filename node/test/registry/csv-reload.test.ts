import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WeaponRecord } from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { serialPattern } from '../../src/records/serial-pattern.js';
import { CsvFolderAdapter } from '../../src/registry/csv-folder.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { testLogger, waitFor } from '../support/nodes.js';
import { FIXTURE, NOW, recordsToCsv } from './fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The reload timer the adapter set after a change in its folder, if any. */
function reloadWaiting(scheduler: ManualScheduler): number | undefined {
  return scheduler.timers().find((t) => t.every === undefined)?.inMs;
}

describe('the CSV folder adapter reads its folder again after a change (docs/integration.md), on logical time', () => {
  it('waits for the quiet time after the last change, then swaps in the new reading', async () => {
    const first = FIXTURE.fal;
    const added = FIXTURE.glock;
    const folder = await mkdtemp(join(tmpdir(), 'tracenet-csv-reload-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    await writeFile(join(folder, 'a.csv'), recordsToCsv([first]));
    const scheduler = new ManualScheduler(NOW);
    const adapter = new CsvFolderAdapter({ folder, clock: scheduler, logger: testLogger(), reloadDelayMs: 500 });
    await adapter.open();
    cleanups.push(() => adapter.close());
    const holds = async (record: WeaponRecord) =>
      (await adapter.findBySerial(serialPattern(record.manufacture?.serialNumber ?? ''), 10)).length > 0;
    expect(await holds(first)).toBe(true);
    expect(await holds(added)).toBe(false);

    await writeFile(join(folder, 'b.csv'), recordsToCsv([added]));
    await waitFor(() => reloadWaiting(scheduler) !== undefined, 5000, 'the reload timer after the change');
    // Within the quiet time the previous reading stays.
    await scheduler.advance(499);
    expect(await holds(added)).toBe(false);
    await scheduler.advance(1);
    await waitFor(() => holds(added), 5000, 'the new file read');
    expect(await holds(first)).toBe(true);
  });
});
