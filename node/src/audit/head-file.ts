import { closeSync, fdatasync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32c } from '../store/crc32c.js';

/** A signed checkpoint over the chain head at `seq`. */
export interface StoredCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: number;
  readonly keyId: string;
  /** Base64 Ed25519 signature, see `checkpointSignedBytes` in audit-log.ts. */
  readonly signature: string;
}

/**
 * The signed end of the chain, rewritten with every group commit: the last `seq`, its hash and the
 * commit time, signed under its own domain so that a checkpoint cannot stand in for it.
 */
export type StoredSignedHead = StoredCheckpoint;

/**
 * The signed head kept outside the store (docs/protocol.md 8.4, ADR 0010): the same signed
 * `{seq, hash, at, keyId, signature}` as the store's own head, written to `<data>/audit-head.json`
 * after every commit that adds audit entries. A store that lost its newest records (a damaged or
 * deleted LevelDB log, a rolled-back table) loses its own head with them; this file does not.
 *
 * The file holds two slots of {@link SLOT_BYTES} bytes, written in turn (as LMDB writes its two
 * meta pages): a commit overwrites the slot that does not hold the newest head, in place, with one
 * data flush, so a crash can tear or leave stale only that slot, and the other still names the
 * previous head. Each slot is one line, `<CRC-32C of the body, 8 hex digits> <body>`, padded with
 * spaces to a newline; the body is the JSON `{"generation": n, "head": {...}}`. A reader takes the
 * intact slot (its CRC matches) with the higher generation; the generation, not `seq`, orders the
 * slots, since an accepted truncation (8.4) signs a head with a lower `seq` than the one before.
 */
export interface SignedHeadFile {
  readonly path: string;
  /** Flush the slot's data to disk (the store's `store.sync`). */
  readonly sync: boolean;
  /**
   * Keep the file open between writes (the journal, which writes once per group commit; it calls
   * {@link SignedHeadWriter.close}). Each write still goes to the file that is at `path` now: a
   * file removed or replaced since is closed and the write goes to the one there (or a new one).
   */
  readonly keepOpen?: boolean;
}

/** Bytes of one slot: a page of its own, so that a torn page write cannot reach the other slot. */
export const SLOT_BYTES = 4096;

/** A slot that holds nothing: spaces up to the newline. */
const EMPTY_SLOT = Buffer.concat([Buffer.alloc(SLOT_BYTES - 1, ' '), Buffer.from('\n')]);

/** What is on disk: a head, no file, or a file without an intact slot. */
export type HeadFileContent =
  | { readonly state: 'present'; readonly head: Partial<StoredSignedHead> }
  | { readonly state: 'missing' }
  | { readonly state: 'unreadable'; readonly problem: string };

/** An intact slot: where it is, its generation and its head. */
interface Slot {
  readonly index: 0 | 1;
  readonly generation: number;
  readonly head: Partial<StoredSignedHead>;
}

/** The bytes of a slot holding `head` as generation `generation`. */
export function encodeSlot(generation: number, head: StoredSignedHead): Buffer {
  const body = Buffer.from(JSON.stringify({ generation, head }), 'utf8');
  const text = Buffer.concat([Buffer.from(`${crc32c(body).toString(16).padStart(8, '0')} `, 'latin1'), body]);
  if (text.length >= SLOT_BYTES) throw new RangeError('a signed head does not fit in a slot');
  const slot = Buffer.from(EMPTY_SLOT);
  text.copy(slot);
  return slot;
}

/** The slot at `index` of the file's bytes, if it is intact: whole, its CRC matching its body. */
function decodeSlot(bytes: Buffer, index: 0 | 1): Slot | undefined {
  const slot = bytes.subarray(index * SLOT_BYTES, (index + 1) * SLOT_BYTES);
  if (slot.length !== SLOT_BYTES) return undefined;
  let end = slot.indexOf(0x0a);
  while (end > 9 && slot[end - 1] === 0x20) end -= 1;
  if (end < 10 || slot[8] !== 0x20) return undefined;
  const check = slot.toString('latin1', 0, 8);
  if (!/^[0-9a-f]{8}$/.test(check) || Number.parseInt(check, 16) !== crc32c(slot, 9, end)) return undefined;
  try {
    const { generation, head } = JSON.parse(slot.toString('utf8', 9, end)) as { generation?: unknown; head?: unknown };
    if (
      !Number.isSafeInteger(generation) ||
      (generation as number) < 1 ||
      typeof head !== 'object' ||
      head === null ||
      Array.isArray(head)
    )
      return undefined;
    return { index, generation: generation as number, head: head as Partial<StoredSignedHead> };
  } catch {
    return undefined;
  }
}

/** The intact slot with the higher generation, if any. */
function newestSlot(bytes: Buffer): Slot | undefined {
  const [first, second] = [decodeSlot(bytes, 0), decodeSlot(bytes, 1)];
  if (!first || !second) return first ?? second;
  return second.generation > first.generation ? second : first;
}

/**
 * Writes the signed head of each commit into the file's slots. One writer per journal: it keeps
 * which slot holds the newest head, reading the file once at its first write.
 */
export class SignedHeadWriter {
  readonly #file: SignedHeadFile;
  /** Generation and slot of the newest head written; undefined until known. */
  #newest: Pick<Slot, 'index' | 'generation'> | undefined;
  /** The file kept open (`keepOpen`), with its identity to tell a file replaced at the path. */
  #held: { readonly fd: number; readonly dev: number; readonly ino: number } | undefined;

  constructor(file: SignedHeadFile) {
    this.#file = file;
  }

  /**
   * Writes `head` into the slot that does not hold the newest head. Only once the write is done does
   * that slot become the newest: after a failed write the next one goes to the same slot again, so
   * the newest head is never the one overwritten.
   */
  async write(head: StoredSignedHead): Promise<void> {
    this.#newest ??= await this.#readNewest();
    const newest = this.#newest;
    if (!newest) {
      await this.#create(head, 1);
      return;
    }
    const next = { index: newest.index === 0 ? 1 : 0, generation: newest.generation + 1 } as const;
    if (this.#file.keepOpen) {
      await this.#writeHeld(head, next);
      return;
    }
    let handle: FileHandle;
    try {
      handle = await open(this.#file.path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await this.#create(head, next.generation);
      return;
    }
    try {
      const { bytesWritten } = await handle.write(
        encodeSlot(next.generation, head),
        0,
        SLOT_BYTES,
        next.index * SLOT_BYTES,
      );
      if (bytesWritten !== SLOT_BYTES)
        throw new Error(`wrote ${bytesWritten} of the ${SLOT_BYTES} bytes of a slot of ${this.#file.path}`);
      if (this.#file.sync) await handle.datasync();
    } finally {
      await handle.close();
    }
    this.#newest = next;
  }

  /** Releases the file kept open (`keepOpen`); a later write opens it again. Harmless when none is. */
  close(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held) closeSync(held.fd);
  }

  /**
   * The `keepOpen` write: the slot goes into the page cache synchronously (a 4 KiB `pwrite`, a few
   * microseconds) and only the data flush leaves the event loop, so a group commit pays one round
   * trip to libuv's threads instead of four (open, write, flush, close). Any failure closes the
   * file: the next write opens whatever is at the path then.
   */
  async #writeHeld(head: StoredSignedHead, next: Pick<Slot, 'index' | 'generation'>): Promise<void> {
    const fd = this.#heldFd();
    if (fd === undefined) {
      await this.#create(head, next.generation);
      return;
    }
    try {
      const bytesWritten = writeSync(fd, encodeSlot(next.generation, head), 0, SLOT_BYTES, next.index * SLOT_BYTES);
      if (bytesWritten !== SLOT_BYTES)
        throw new Error(`wrote ${bytesWritten} of the ${SLOT_BYTES} bytes of a slot of ${this.#file.path}`);
      if (this.#file.sync)
        await new Promise<void>((resolve, reject) => {
          fdatasync(fd, (error) => (error ? reject(error) : resolve()));
        });
    } catch (error) {
      this.close();
      throw error;
    }
    this.#newest = next;
  }

  /**
   * The descriptor of the file at the path now: the one held while the path still names it, else
   * the file there opened anew; undefined when there is none (ENOENT).
   */
  #heldFd(): number | undefined {
    const path = this.#file.path;
    let now: { dev: number; ino: number };
    try {
      now = statSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.close();
      return undefined;
    }
    const held = this.#held;
    if (held && held.dev === now.dev && held.ino === now.ino) return held.fd;
    this.close();
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const opened = fstatSync(fd);
    this.#held = { fd, dev: opened.dev, ino: opened.ino };
    return fd;
  }

  async #readNewest(): Promise<Slot | undefined> {
    try {
      return newestSlot(await readFile(this.#file.path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * A new file (none there, or none of its slots intact) with `head` in slot 0: written aside,
   * flushed, renamed over the old one and the directory flushed, so a crash leaves the old file or
   * the new one, never a part of it.
   */
  async #create(head: StoredSignedHead, generation: number): Promise<void> {
    const aside = `${this.#file.path}.tmp`;
    const handle = await open(aside, 'w', 0o600);
    try {
      await handle.writeFile(Buffer.concat([encodeSlot(generation, head), EMPTY_SLOT]));
      if (this.#file.sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(aside, this.#file.path);
    if (this.#file.sync) {
      const directory = await open(dirname(this.#file.path), 'r');
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
    }
    this.#newest = { index: 0, generation };
  }
}

/** Reads the file without changing it: the head of its newest intact slot. */
export async function readSignedHeadFile(path: string): Promise<HeadFileContent> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path, { flag: 'r' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'unreadable', problem: (error as Error).message };
  }
  const newest = newestSlot(bytes);
  return newest ? { state: 'present', head: newest.head } : { state: 'unreadable', problem: 'no intact slot' };
}
