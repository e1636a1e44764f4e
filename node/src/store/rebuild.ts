import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Level } from 'level';
import { readLiveFile, readStoreLayout, type FileEntry, type StoreDamage } from './leveldb-files.js';

/** Writes per LevelDB batch while rebuilding. */
const BATCH = 1000;

/**
 * Replaces the damaged store in `location` by a new one holding what its files still hold intact,
 * and keeps the damaged store, untouched, at `aside` (evidence for whoever investigates).
 *
 * Why not LevelDB's own repair: it reads logs without checksums and tables without
 * `verify_checksums`, so it would carry a changed record into the new store as if it were good. This
 * reads every file with the store's own reader (checksums checked, damaged records and blocks
 * left out) and writes the values into a new LevelDB in the order in which LevelDB resolves them
 * (older levels first, logs last), so the new store returns what the old one returned except what
 * was damaged. Where the newest version of a value was in a damaged block, an older version can
 * reappear. Built beside the store and moved into place by renames, so an interrupted rebuild
 * leaves the damaged store where it was.
 */
export async function rebuildStore(location: string, aside: string): Promise<readonly StoreDamage[]> {
  const building = `${location}.rebuilding`;
  await rm(building, { recursive: true, force: true });
  const layout = await readStoreLayout(location);
  const damage = [...layout.damage];
  const db = new Level<Buffer, Buffer>(building, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    const pending: FileEntry[] = [];
    // The last write is synced, which flushes the log with everything written before it.
    const flush = (sync: boolean) =>
      db.batch(
        pending
          .splice(0)
          .map((e) =>
            e.value === undefined
              ? { type: 'del' as const, key: e.key }
              : { type: 'put' as const, key: e.key, value: e.value },
          ),
        { sync },
      );
    for (const file of layout.files) {
      for (const entry of await readLiveFile(location, file, damage)) {
        if (pending.length === BATCH) await flush(false);
        pending.push(entry);
      }
    }
    await flush(true);
  } finally {
    await db.close();
  }
  await rename(location, aside);
  await rename(building, location);
  const parent = await open(dirname(location), 'r');
  try {
    await parent.sync();
  } finally {
    await parent.close();
  }
  return damage;
}
