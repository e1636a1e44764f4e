/**
 * Crash consistency of the signed head kept outside the store (docs/protocol.md 8.4, ADR 0010): two
 * slots written in turn, each with a CRC. Whatever a crash leaves of a write — cut short at any
 * byte, written out of order, zeroed, or not written at all — the file names the previous head or
 * the new one, never a torn or stale slot as the newer head; and a write never touches the slot of
 * the newest head, also after a restart or a failed write.
 */
import { mkdir, mkdtemp, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredSignedHead } from '../../src/audit/audit-log.js';
import { encodeSlot, readSignedHeadFile, SignedHeadWriter, SLOT_BYTES } from '../../src/audit/head-file.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A head for `seq`; the file's reader does not check signatures (verification does, 8.6). */
const head = (seq: number): StoredSignedHead => ({
  seq,
  hash: seq.toString(16).padStart(64, '0'),
  at: 1_700_000_000_000 + seq,
  keyId: 'k'.repeat(16),
  signature: 's'.repeat(88),
});

const writers: SignedHeadWriter[] = [];
afterEach(() => {
  for (const writer of writers.splice(0)) writer.close();
});

/**
 * Whether the writers of the running test keep the file open between writes (the journal's way):
 * every test runs both ways, and must hold the same either way.
 */
let keepOpen = false;

function writerOf(path: string): SignedHeadWriter {
  const writer = new SignedHeadWriter({ path, sync: true, keepOpen });
  writers.push(writer);
  return writer;
}

async function file(): Promise<{ path: string; writer: SignedHeadWriter }> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-head-file-'));
  dirs.push(dir);
  const path = join(dir, 'audit-head.json');
  return { path, writer: writerOf(path) };
}

async function seqOf(path: string): Promise<number | string> {
  const content = await readSignedHeadFile(path);
  return content.state === 'present' ? (content.head.seq as number) : content.state;
}

/** The slot (0 or 1) in which `before` and `after` differ: the one the write went to. */
function writtenSlot(before: Buffer, after: Buffer): 0 | 1 {
  const index = before.subarray(0, SLOT_BYTES).equals(after.subarray(0, SLOT_BYTES)) ? 1 : 0;
  expect(before.subarray((1 - index) * SLOT_BYTES, (2 - index) * SLOT_BYTES)).toEqual(
    after.subarray((1 - index) * SLOT_BYTES, (2 - index) * SLOT_BYTES),
  );
  return index;
}

describe.each([
  { mode: 'opened for each write', open: false },
  { mode: 'kept open between writes', open: true },
])('a signed head file $mode', ({ open }) => {
  beforeEach(() => {
    keepOpen = open;
  });

  it('names the head of the newest intact slot, ordered by generation: an accepted truncation lowers seq', async () => {
    const { path, writer } = await file();
    expect(await seqOf(path)).toBe('missing');
    for (const seq of [1, 2, 3, 4]) {
      await writer.write(head(seq));
      expect(await seqOf(path)).toBe(seq);
    }
    await writer.write(head(2));
    expect(await seqOf(path)).toBe(2);
    expect(await readFile(path)).toHaveLength(2 * SLOT_BYTES);
  });

  it('leaves the previous head when a write is cut short at any byte, written out of order or lost', async () => {
    const { path, writer } = await file();
    await writer.write(head(10));
    await writer.write(head(11));
    const before = await readFile(path);
    await writer.write(head(12));
    const after = await readFile(path);
    const index = writtenSlot(before, after);
    const start = index * SLOT_BYTES;
    const old = before.subarray(start, start + SLOT_BYTES);
    const fresh = after.subarray(start, start + SLOT_BYTES);
    /** Length of the new slot's text, up to the padding. */
    const text = fresh.lastIndexOf('}') + 1;

    /** What the file names when the slot holds `slot`: the previous head, or the new one only when its text is whole. */
    const check = async (slot: Buffer) => {
      const torn = Buffer.from(before);
      slot.copy(torn, start);
      await writeFile(path, torn);
      const seq = await seqOf(path);
      expect(seq === 11 || (seq === 12 && slot.subarray(0, text).equals(after.subarray(start, start + text)))).toBe(
        true,
      );
    };
    for (let cut = 0; cut <= text + 2; cut += 1) {
      // The first `cut` bytes reached the disk, the rest did not; and the other way round.
      await check(Buffer.concat([fresh.subarray(0, cut), old.subarray(cut)]));
      await check(Buffer.concat([old.subarray(0, cut), fresh.subarray(cut)]));
    }
    for (const cut of [SLOT_BYTES / 2, SLOT_BYTES - 1])
      await check(Buffer.concat([fresh.subarray(0, cut), old.subarray(cut)]));
    // A page lost in a power cut can read back as zeros.
    await check(Buffer.alloc(SLOT_BYTES));
    expect(await seqOf(path)).toBe(11);
    await check(Buffer.from(fresh));
    expect(await seqOf(path)).toBe(12);
  });

  it('never takes a stale slot for the newer head, even one with a higher seq', async () => {
    const { path, writer } = await file();
    await writer.write(head(99));
    await writer.write(head(100));
    // Damage accepted after entries were lost: the new head names a lower seq than the stale slot.
    await writer.write(head(90));
    expect(await seqOf(path)).toBe(90);
    const before = await readFile(path);
    await writer.write(head(91));
    const after = await readFile(path);
    const start = writtenSlot(before, after) * SLOT_BYTES;
    // The write of 91 went over the slot of 100; cut short, it leaves 90, not 100.
    const torn = Buffer.from(before);
    after.copy(torn, start, start, start + 40);
    await writeFile(path, torn);
    expect(await seqOf(path)).toBe(90);
  });

  it('never writes over the newest head: not after a restart, not after a failed write', async () => {
    const { path, writer } = await file();
    for (const seq of [1, 2, 3]) await writer.write(head(seq));
    /** The slot holding `seq` (written as generation `seq`) and its bytes. */
    const slotOf = async (seq: number) => {
      const bytes = await readFile(path);
      const index = [0, 1].find((i) =>
        bytes.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES).equals(encodeSlot(seq, head(seq))),
      ) as number;
      expect(index).toBeDefined();
      return () => readFile(path).then((now) => now.subarray(index * SLOT_BYTES, (index + 1) * SLOT_BYTES));
    };

    // A new writer (a restart) learns from the file where the newest head is.
    const third = await slotOf(3);
    const held = await third();
    const restarted = writerOf(path);
    await restarted.write(head(4));
    expect(await third()).toEqual(held);
    expect(await seqOf(path)).toBe(4);

    // A write that fails (a directory stands where the file was) leaves the writer aiming at the same slot.
    const fourth = await slotOf(4);
    const kept = await fourth();
    await rename(path, `${path}.kept`);
    await mkdir(path);
    await expect(restarted.write(head(5))).rejects.toThrow(/EISDIR/);
    await rmdir(path);
    await rename(`${path}.kept`, path);
    await restarted.write(head(5));
    expect(await fourth()).toEqual(kept);
    expect(await seqOf(path)).toBe(5);
  });

  it('writes a new file when there is none or none of its slots is intact', async () => {
    const { path, writer } = await file();
    await writer.write(head(1));
    await rm(path);
    await writer.write(head(2));
    expect(await seqOf(path)).toBe(2);

    await writeFile(path, '{"seq": 7}\n');
    expect(await readSignedHeadFile(path)).toEqual({ state: 'unreadable', problem: 'no intact slot' });
    const restarted = writerOf(path);
    await restarted.write(head(3));
    expect(await seqOf(path)).toBe(3);
    expect(await readFile(path)).toHaveLength(2 * SLOT_BYTES);
  });
});
