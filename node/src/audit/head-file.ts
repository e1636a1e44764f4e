import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredSignedHead } from './audit-log.js';

/**
 * The signed head kept outside the store (docs/protocol.md 8.4, ADR 0010): the same signed
 * `{seq, hash, at, keyId, signature}` as the store's own head, written to `<data>/audit-head.json`
 * after every commit that adds audit entries. A store that lost its newest records (a damaged or
 * deleted LevelDB log, a rolled-back table) loses its own head with them; this file does not.
 */
export interface SignedHeadFile {
  readonly path: string;
  /** fsync the file and its directory (the store's `store.sync`). */
  readonly sync: boolean;
}

/** What is on disk: a head, no file, or a file that is not a head. */
export type HeadFileContent = { readonly state: 'present'; readonly head: Partial<StoredSignedHead> } | { readonly state: 'missing' } | { readonly state: 'unreadable'; readonly problem: string };

/**
 * Replaces the file atomically: written aside, flushed, renamed over the old one, and the
 * directory flushed, so that a crash leaves the old head or the new one, never a torn file.
 */
export async function writeSignedHeadFile(file: SignedHeadFile, head: StoredSignedHead): Promise<void> {
  const aside = `${file.path}.tmp`;
  const handle = await open(aside, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(head)}\n`);
    if (file.sync) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(aside, file.path);
  if (file.sync) {
    const directory = await open(dirname(file.path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}

/** Reads the file without changing it. */
export async function readSignedHeadFile(path: string): Promise<HeadFileContent> {
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', flag: 'r' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'unreadable', problem: (error as Error).message };
  }
  try {
    const head = JSON.parse(text) as unknown;
    if (typeof head !== 'object' || head === null || Array.isArray(head)) return { state: 'unreadable', problem: 'not a JSON object' };
    return { state: 'present', head: head as Partial<StoredSignedHead> };
  } catch {
    return { state: 'unreadable', problem: 'not JSON' };
  }
}
