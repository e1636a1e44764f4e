import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c, unmaskCrc } from './crc32c.js';
import { snappyUncompress } from './snappy.js';

/**
 * A part of the store's files that does not read back as it was written: a record or block whose
 * checksum fails, a file that is missing or of the wrong size, a structure that does not parse.
 * LevelDB as bound by classic-level checks none of these when it reads (ADR 0010): it drops a
 * damaged log record without a word at open, and reads table blocks without their checksums.
 */
export interface StoreDamage {
  /** File name inside the store directory, e.g. `000012.log`. */
  readonly file: string;
  /** Byte offset of the damaged record or block, when there is one. */
  readonly offset?: number;
  /** What is wrong, e.g. "checksum mismatch", "block checksum mismatch", "missing". */
  readonly problem: string;
}

/** One line per damage: `000012.log at byte 4096: checksum mismatch`. */
export function describeDamage(damage: StoreDamage): string {
  return `${damage.file}${damage.offset === undefined ? '' : ` at byte ${damage.offset}`}: ${damage.problem}`;
}

/** A value as one file holds it: the user key, the sequence number of its write, the value (undefined: a deletion). */
export interface FileEntry {
  readonly key: Buffer;
  readonly seq: number;
  readonly value: Buffer | undefined;
}

/** A file LevelDB reads at open: a table (`.ldb`) of some level, or a write-ahead log (`.log`). */
export interface LiveFile {
  readonly name: string;
  readonly kind: 'table' | 'log';
  readonly number: number;
  /** Level of a table (from the MANIFEST); -1 when the MANIFEST could not be read. */
  readonly level: number;
  /** Size the MANIFEST records for a table. */
  readonly size?: number;
  /** Smallest and largest user key of a table, from the MANIFEST. */
  readonly smallest?: Buffer;
  readonly largest?: Buffer;
}

/** The live files of a store, in the order in which newer values override older ones. */
export interface StoreLayout {
  readonly files: readonly LiveFile[];
  readonly damage: readonly StoreDamage[];
}

/** What {@link readStoreFiles} found. */
export interface StoreFiles {
  /** Every damaged part of every live file; empty when the whole store reads back intact. */
  readonly damage: readonly StoreDamage[];
  /** The live value of every key under the given prefixes, in key order, as LevelDB would return it minus damaged parts. */
  readonly entries: ReadonlyMap<string, string>;
}

/** A store's files checked, and its live values to read. */
export interface StoreScan {
  /** Every damaged part of every live file; empty when the whole store reads back intact. */
  readonly damage: readonly StoreDamage[];
  /**
   * The live values of the keys under `prefixes` (every key without), in key order, resolved as
   * LevelDB resolves them (the newest write of a key wins; a deletion hides it), without what is
   * damaged. Reads the files again as it goes, a few tables at a time, so that memory stays small
   * whatever the size of the store.
   */
  entries(prefixes?: readonly string[]): AsyncGenerator<readonly [string, string]>;
}

const LOG_BLOCK = 32_768;
const LOG_HEADER = 7;
const FOOTER = 48;
const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
const BLOCK_TRAILER = 5;
const FILE_NAME = /^(\d+)\.(log|ldb|sst)$/;

/**
 * Reads a LevelDB store's files directly, without LevelDB, and writes nothing: every file is
 * opened read-only. Checks the CRC-32C of every log record and of every block of every live table
 * (what LevelDB's `paranoid_checks` and `verify_checksums` would do, which classic-level does not
 * expose), that the blocks of each table cover the file exactly, and that every file the MANIFEST
 * names is there with its recorded size. Returns the damage found; {@link StoreScan.entries} then
 * reads the live values.
 *
 * @example
 * ```ts
 * const scan = await scanStore('/srv/tracenet/fra/store');
 * if (scan.damage.length > 0) console.error(scan.damage.map(describeDamage).join('\n'));
 * for await (const [key, value] of scan.entries(['!audit!'])) console.log(key, value);
 * ```
 */
export async function scanStore(location: string): Promise<StoreScan> {
  const layout = await readStoreLayout(location);
  const damage = [...layout.damage];
  // Every checksum of every file, keeping no value.
  for (const file of layout.files) await readLiveFile(location, file, damage, []);
  return { damage, entries: (prefixes) => liveEntries(location, layout, prefixes) };
}

/** {@link scanStore} with the values under `prefixes` collected in a map: for small stores and tests. */
export async function readStoreFiles(location: string, prefixes?: readonly string[]): Promise<StoreFiles> {
  const scan = await scanStore(location);
  const entries = new Map<string, string>();
  for await (const [key, value] of scan.entries(prefixes)) entries.set(key, value);
  return { damage: scan.damage, entries };
}

/**
 * The live entries under `prefixes` in key order: a merge of the logs (read whole: they are small),
 * each level-0 table, and each deeper level's tables one after the other (they do not overlap), of
 * the tables that can hold such keys. For each key the write with the highest sequence number wins,
 * as in LevelDB. Damage is not reported again (the scan did).
 */
async function* liveEntries(
  location: string,
  layout: StoreLayout,
  prefixes?: readonly string[],
): AsyncGenerator<readonly [string, string]> {
  const wanted = prefixes?.map((p) => Buffer.from(p, 'utf8'));
  const ignored: StoreDamage[] = [];
  const holds = (file: LiveFile) =>
    wanted === undefined ||
    file.smallest === undefined ||
    file.largest === undefined ||
    wanted.some(
      (p) => Buffer.compare(file.largest as Buffer, p) >= 0 && Buffer.compare(file.smallest as Buffer, after(p)) < 0,
    );
  async function* tables(files: readonly LiveFile[]): AsyncGenerator<FileEntry> {
    for (const file of files) yield* await readLiveFile(location, file, ignored, wanted);
  }
  const logged: FileEntry[] = [];
  for (const file of layout.files)
    if (file.kind === 'log') logged.push(...(await readLiveFile(location, file, ignored, wanted)));
  logged.sort((a, b) => Buffer.compare(a.key, b.key) || b.seq - a.seq);
  async function* inOrder(entries: readonly FileEntry[]): AsyncGenerator<FileEntry> {
    yield* entries;
  }
  const sources: Array<AsyncIterator<FileEntry>> = [inOrder(logged)];
  const levels = new Map<number, LiveFile[]>();
  for (const file of layout.files) {
    if (file.kind !== 'table' || !holds(file)) continue;
    // Level 0 (and tables of unknown level) may overlap each other: each is a source of its own.
    if (file.level <= 0) sources.push(tables([file]));
    else levels.set(file.level, [...(levels.get(file.level) ?? []), file]);
  }
  for (const files of levels.values())
    sources.push(
      tables(files.sort((a, b) => Buffer.compare(a.smallest ?? Buffer.alloc(0), b.smallest ?? Buffer.alloc(0)))),
    );
  const heads = await Promise.all(sources.map((source) => source.next()));
  for (;;) {
    let newest: FileEntry | undefined;
    for (const head of heads) {
      if (head.done) continue;
      const order = newest === undefined ? -1 : Buffer.compare(head.value.key, newest.key);
      if (order < 0 || (order === 0 && head.value.seq > (newest as FileEntry).seq)) newest = head.value;
    }
    if (newest === undefined) return;
    for (let i = 0; i < heads.length; i += 1) {
      while (
        !(heads[i] as IteratorResult<FileEntry>).done &&
        (heads[i] as IteratorYieldResult<FileEntry>).value.key.equals(newest.key)
      )
        heads[i] = await (sources[i] as AsyncIterator<FileEntry>).next();
    }
    if (newest.value !== undefined) yield [newest.key.toString('utf8'), newest.value.toString('utf8')];
  }
}

/**
 * The live files of the store in `location`, from its `CURRENT` and `MANIFEST`: tables from the
 * deepest level up, level 0 oldest first, then the logs LevelDB replays at open (those numbered from
 * the MANIFEST's log number on), oldest first. A missing or damaged MANIFEST is damage; the files
 * in the directory are then taken as they are. A missing directory is an empty store.
 */
export async function readStoreLayout(location: string): Promise<StoreLayout> {
  const damage: StoreDamage[] = [];
  let names: string[];
  try {
    names = await readdir(location);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], damage };
    throw error;
  }
  const present = new Map<string, { number: number; kind: 'table' | 'log' }>();
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (match) present.set(name, { number: Number(match[1]), kind: match[2] === 'log' ? 'log' : 'table' });
  }
  const manifest = await readManifest(location, names, damage);
  if (!manifest) {
    const all = [...present].map(([name, f]) => ({ name, ...f, level: -1 }));
    const tables = all.filter((f) => f.kind === 'table').sort((a, b) => a.number - b.number);
    const logs = all.filter((f) => f.kind === 'log').sort((a, b) => a.number - b.number);
    return { files: [...tables, ...logs], damage };
  }
  const tables: LiveFile[] = [];
  for (const [number, { level, ...recorded }] of manifest.tables) {
    const name = [`${pad(number)}.ldb`, `${pad(number)}.sst`].find((n) => present.has(n));
    if (name === undefined)
      damage.push({ file: `${pad(number)}.ldb`, problem: `missing: the MANIFEST lists this table (level ${level})` });
    else tables.push({ name, kind: 'table', number, level, ...recorded });
  }
  tables.sort((a, b) => b.level - a.level || a.number - b.number);
  const logs: LiveFile[] = [...present]
    .filter(([, f]) => f.kind === 'log' && (f.number >= manifest.logNumber || f.number === manifest.prevLogNumber))
    .map(([name, f]) => ({ name, kind: 'log' as const, number: f.number, level: -1 }))
    .sort((a, b) => a.number - b.number);
  // The MANIFEST names the log that was current when it was last written; LevelDB keeps it until a
  // newer log is recorded, so it is there unless someone removed it (LevelDB would not notice).
  if (manifest.logNumber > 0 && !present.has(`${pad(manifest.logNumber)}.log`)) {
    damage.push({
      file: `${pad(manifest.logNumber)}.log`,
      problem: 'missing: the MANIFEST names it as the current log',
    });
  }
  return { files: [...tables, ...logs], damage };
}

/**
 * The entries of one live file, checking every checksum on the way; damage goes to `damage`.
 * A table gives the newest version of each key it holds, in key order; a log gives its writes in
 * order. With `prefixes`, only keys under them (and only the table blocks that can hold them).
 */
export async function readLiveFile(
  location: string,
  file: LiveFile,
  damage: StoreDamage[],
  prefixes?: readonly Buffer[],
): Promise<FileEntry[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(location, file.name), { flag: 'r' });
  } catch (error) {
    damage.push({ file: file.name, problem: `unreadable: ${(error as Error).message}` });
    return [];
  }
  const keep = (key: Buffer) =>
    prefixes === undefined || prefixes.some((p) => key.length >= p.length && key.subarray(0, p.length).equals(p));
  if (file.kind === 'log') {
    const entries: FileEntry[] = [];
    for (const { offset, record } of readLogRecords(bytes, file.name, damage)) {
      try {
        for (const entry of decodeWriteBatch(record)) if (keep(entry.key)) entries.push(entry);
      } catch (error) {
        damage.push({ file: file.name, offset, problem: (error as Error).message });
      }
    }
    return entries;
  }
  if (file.size !== undefined && file.size !== bytes.length) {
    damage.push({ file: file.name, problem: `size ${bytes.length} bytes, the MANIFEST records ${file.size}` });
  }
  return readTable(bytes, file.name, damage, prefixes);
}

function pad(number: number): string {
  return String(number).padStart(6, '0');
}

interface Manifest {
  readonly tables: Map<number, { level: number; size: number; smallest: Buffer; largest: Buffer }>;
  logNumber: number;
  prevLogNumber: number;
}

/** The MANIFEST that `CURRENT` names, replayed; undefined (with damage) when it cannot be read. */
async function readManifest(
  location: string,
  names: readonly string[],
  damage: StoreDamage[],
): Promise<Manifest | undefined> {
  if (!names.includes('CURRENT')) {
    if (names.some((n) => FILE_NAME.test(n) || n.startsWith('MANIFEST-')))
      damage.push({ file: 'CURRENT', problem: 'missing' });
    return undefined;
  }
  const current = (await readFile(join(location, 'CURRENT'), { flag: 'r' })).toString('latin1');
  const name = /^(MANIFEST-\d+)\n$/.exec(current)?.[1];
  if (name === undefined) {
    damage.push({ file: 'CURRENT', problem: 'does not name a MANIFEST' });
    return undefined;
  }
  if (!names.includes(name)) {
    damage.push({ file: name, problem: 'missing: CURRENT names it' });
    return undefined;
  }
  const before = damage.length;
  const manifest: Manifest = { tables: new Map(), logNumber: 0, prevLogNumber: 0 };
  for (const { offset, record } of readLogRecords(await readFile(join(location, name), { flag: 'r' }), name, damage)) {
    try {
      applyVersionEdit(manifest, record);
    } catch (error) {
      damage.push({ file: name, offset, problem: (error as Error).message });
    }
  }
  return damage.length === before ? manifest : undefined;
}

/** Applies one VersionEdit (`db/version_edit.cc`) to `manifest`. */
function applyVersionEdit(manifest: Manifest, record: Buffer): void {
  const reader = new Reader(record);
  while (!reader.done) {
    const tag = reader.varint();
    switch (tag) {
      case 1: {
        const comparator = reader.prefixed().toString('latin1');
        if (comparator !== 'leveldb.BytewiseComparator') throw new Error(`unexpected comparator ${comparator}`);
        break;
      }
      case 2:
        manifest.logNumber = reader.varint();
        break;
      case 9:
        manifest.prevLogNumber = reader.varint();
        break;
      case 3:
      case 4:
        reader.varint();
        break;
      case 5:
        reader.varint();
        reader.prefixed();
        break;
      case 6: {
        reader.varint();
        manifest.tables.delete(reader.varint());
        break;
      }
      case 7: {
        const level = reader.varint();
        const number = reader.varint();
        const size = reader.varint();
        // Internal keys: the user key, then 8 bytes of sequence number and type.
        const smallest = Buffer.from(reader.prefixed().subarray(0, -8));
        const largest = Buffer.from(reader.prefixed().subarray(0, -8));
        manifest.tables.set(number, { level, size, smallest, largest });
        break;
      }
      default:
        throw new Error(`VersionEdit: unknown tag ${tag}`);
    }
  }
}

/**
 * The records of a log file (`db/log_reader.cc`, same decisions): a record whose checksum or
 * length is wrong is damage, and like LevelDB the reader then skips the rest of its 32 KiB block;
 * a record cut off by the end of the file is what a writer that died leaves and is not damage
 * (nothing it held was acknowledged). Zero-filled space is skipped, as LevelDB does.
 */
function* readLogRecords(
  bytes: Buffer,
  file: string,
  damage: StoreDamage[],
): Generator<{ offset: number; record: Buffer }> {
  let pending: Buffer[] | undefined;
  let pendingOffset = 0;
  for (let block = 0; block < bytes.length; block += LOG_BLOCK) {
    const end = Math.min(block + LOG_BLOCK, bytes.length);
    let pos = block;
    while (end - pos >= LOG_HEADER) {
      const length = bytes.readUInt16LE(pos + 4);
      const type = bytes[pos + 6] as number;
      if (pos + LOG_HEADER + length > end) {
        // At the end of the file: a record the writer did not finish. Elsewhere: a damaged length.
        if (end === bytes.length) return;
        damage.push({ file, offset: pos, problem: 'bad record length' });
        pending = undefined;
        break;
      }
      if (type === 0 && length === 0) break;
      if (unmaskCrc(bytes.readUInt32LE(pos)) !== crc32c(bytes, pos + 6, pos + LOG_HEADER + length)) {
        damage.push({ file, offset: pos, problem: 'checksum mismatch' });
        pending = undefined;
        break;
      }
      const fragment = bytes.subarray(pos + LOG_HEADER, pos + LOG_HEADER + length);
      if (type === 1) {
        if (pending && pending.length > 0)
          damage.push({ file, offset: pendingOffset, problem: 'partial record without end' });
        pending = undefined;
        yield { offset: pos, record: fragment };
      } else if (type === 2) {
        if (pending && pending.length > 0)
          damage.push({ file, offset: pendingOffset, problem: 'partial record without end' });
        pending = [fragment];
        pendingOffset = pos;
      } else if (type === 3 || type === 4) {
        if (!pending) damage.push({ file, offset: pos, problem: 'missing start of fragmented record' });
        else if (type === 3) pending.push(fragment);
        else {
          yield { offset: pendingOffset, record: Buffer.concat([...pending, fragment]) };
          pending = undefined;
        }
      } else {
        damage.push({ file, offset: pos, problem: `unknown record type ${type}` });
        pending = undefined;
      }
      pos += LOG_HEADER + length;
    }
    // The writer fills the last bytes of a block that cannot hold a header with zeros.
    if (end - pos < LOG_HEADER && end < bytes.length && bytes.subarray(pos, end).some((b) => b !== 0)) {
      damage.push({ file, offset: pos, problem: 'block trailer changed' });
    }
  }
}

/** The writes of one log record, a WriteBatch (`db/write_batch.cc`): sequence, count, then puts and deletions. */
function decodeWriteBatch(record: Buffer): FileEntry[] {
  if (record.length < 12) throw new Error('log record too small');
  const first = record.readUInt32LE(0) + record.readUInt32LE(4) * 2 ** 32;
  const count = record.readUInt32LE(8);
  const reader = new Reader(record, 12);
  const entries: FileEntry[] = [];
  while (!reader.done) {
    const tag = reader.byte();
    if (tag === 1) {
      const key = reader.prefixed();
      entries.push({ key, seq: first + entries.length, value: reader.prefixed() });
    } else if (tag === 0) entries.push({ key: reader.prefixed(), seq: first + entries.length, value: undefined });
    else throw new Error('unknown WriteBatch tag');
  }
  if (entries.length !== count) throw new Error('WriteBatch has wrong count');
  return entries;
}

/**
 * A table file (`table/format.cc`, `table/block.cc`): checks the footer, the checksum of every block
 * (data, filter, meta index, index) and that the blocks and the footer cover the file without a gap,
 * so that no byte of it can change unnoticed; returns the newest version of each key under
 * `prefixes` (all keys without).
 */
function readTable(bytes: Buffer, file: string, damage: StoreDamage[], prefixes?: readonly Buffer[]): FileEntry[] {
  if (bytes.length < FOOTER || !bytes.subarray(bytes.length - 8).equals(TABLE_MAGIC)) {
    damage.push({ file, offset: Math.max(0, bytes.length - FOOTER), problem: 'not a table (bad magic number)' });
    return [];
  }
  const footerAt = bytes.length - FOOTER;
  const spans: Array<[number, number]> = [];
  /** Checks a block's checksum and returns its contents, decompressed (`decode`) or as stored. */
  const block = (handle: BlockHandle, what: string, decode = true): Buffer | undefined => {
    const end = handle.offset + handle.size + BLOCK_TRAILER;
    if (end > footerAt) {
      damage.push({ file, offset: handle.offset, problem: `${what} block lies outside the file` });
      return undefined;
    }
    spans.push([handle.offset, end]);
    const at = handle.offset + handle.size;
    if (unmaskCrc(bytes.readUInt32LE(at + 1)) !== crc32c(bytes, handle.offset, at + 1)) {
      damage.push({ file, offset: handle.offset, problem: `${what} block checksum mismatch` });
      return undefined;
    }
    const raw = bytes.subarray(handle.offset, at);
    const type = bytes[at];
    try {
      if (type === 0 || !decode) return raw;
      if (type === 1) {
        const plain = snappyUncompress(raw);
        return Buffer.from(plain.buffer, plain.byteOffset, plain.length);
      }
      throw new Error('bad block type');
    } catch (error) {
      damage.push({ file, offset: handle.offset, problem: `${what} block: ${(error as Error).message}` });
      return undefined;
    }
  };
  let metaindex: BlockHandle;
  let index: BlockHandle;
  try {
    const footer = new Reader(bytes.subarray(footerAt, bytes.length - 8));
    metaindex = footer.handle();
    index = footer.handle();
    if (footer.rest().some((b) => b !== 0)) throw new Error('footer padding changed');
  } catch (error) {
    damage.push({ file, offset: footerAt, problem: `footer: ${(error as Error).message}` });
    return [];
  }
  const entries: FileEntry[] = [];
  try {
    const meta = block(metaindex, 'meta index');
    if (meta) for (const [, value] of blockEntries(meta)) block(new Reader(value).handle(), 'filter', false);
    const indexBlock = block(index, 'index');
    if (!indexBlock) return [];
    let lowest: Buffer | undefined;
    let lastKey: Buffer | undefined;
    for (const [separator, value] of blockEntries(indexBlock)) {
      const handle = new Reader(value).handle();
      const highest = separator.subarray(0, separator.length - 8);
      const wanted =
        prefixes === undefined ||
        prefixes.some(
          (p) => Buffer.compare(highest, p) >= 0 && (lowest === undefined || Buffer.compare(lowest, after(p)) < 0),
        );
      lowest = highest;
      // Every block's checksum is checked; only the blocks that can hold wanted keys are decompressed.
      const data = block(handle, 'data', wanted);
      if (!data || !wanted) continue;
      try {
        for (const [internal, value] of blockEntries(data)) {
          const entry = internalEntry(internal, value);
          // Versions of one key are stored newest first: keep the first.
          if (lastKey?.equals(entry.key)) continue;
          lastKey = entry.key;
          if (
            prefixes === undefined ||
            prefixes.some((p) => entry.key.length >= p.length && entry.key.subarray(0, p.length).equals(p))
          )
            entries.push(entry);
        }
      } catch (error) {
        damage.push({ file, offset: handle.offset, problem: `data block: ${(error as Error).message}` });
      }
    }
  } catch (error) {
    damage.push({ file, problem: `table structure: ${(error as Error).message}` });
    return entries;
  }
  spans.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [start, end] of spans) {
    if (start !== covered) {
      damage.push({ file, offset: covered, problem: 'bytes outside every block' });
      return entries;
    }
    covered = end;
  }
  if (covered !== footerAt) damage.push({ file, offset: covered, problem: 'bytes outside every block' });
  return entries;
}

/** The smallest byte string above every string that starts with `prefix`. */
function after(prefix: Buffer): Buffer {
  const bytes = Buffer.from(prefix);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) + 1;
  return bytes;
}

/** An internal key (user key, then 8 bytes: sequence << 8 | type, little-endian) and its value. */
function internalEntry(internal: Buffer, value: Buffer): FileEntry {
  if (internal.length < 8) throw new Error('internal key too short');
  const at = internal.length - 8;
  const low = internal.readUInt32LE(at);
  const type = low & 0xff;
  if (type > 1) throw new Error(`unknown value type ${type}`);
  const seq = internal.readUInt32LE(at + 4) * 2 ** 24 + (low >>> 8);
  return { key: Buffer.from(internal.subarray(0, at)), seq, value: type === 1 ? Buffer.from(value) : undefined };
}

/** The key/value pairs of a block: prefix-compressed entries, then the restart array and its length. */
function* blockEntries(block: Buffer): Generator<[Buffer, Buffer]> {
  if (block.length < 4) throw new Error('block too short');
  const restarts = block.readUInt32LE(block.length - 4);
  const limit = block.length - 4 - restarts * 4;
  if (restarts === 0 || limit < 0) throw new Error('bad restart array');
  const reader = new Reader(block.subarray(0, limit));
  let key = Buffer.alloc(0);
  while (!reader.done) {
    const shared = reader.varint();
    const unshared = reader.varint();
    const valueLength = reader.varint();
    if (shared > key.length) throw new Error('bad entry in block');
    key = Buffer.concat([key.subarray(0, shared), reader.bytes(unshared)]);
    yield [key, reader.bytes(valueLength)];
  }
}

interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/** Reads LevelDB's varints, length-prefixed strings and block handles, refusing to run past the end. */
class Reader {
  #pos: number;
  constructor(
    private readonly buffer: Buffer,
    start = 0,
  ) {
    this.#pos = start;
  }

  get done(): boolean {
    return this.#pos >= this.buffer.length;
  }

  byte(): number {
    if (this.#pos >= this.buffer.length) throw new Error('truncated');
    return this.buffer[this.#pos++] as number;
  }

  /** A varint32 or varint64; values beyond 2^53 are refused. */
  varint(): number {
    let value = 0;
    for (let shift = 0; shift <= 49; shift += 7) {
      const byte = this.byte();
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error('varint too long');
  }

  bytes(length: number): Buffer {
    if (this.#pos + length > this.buffer.length) throw new Error('truncated');
    const bytes = this.buffer.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return bytes;
  }

  prefixed(): Buffer {
    return this.bytes(this.varint());
  }

  handle(): BlockHandle {
    return { offset: this.varint(), size: this.varint() };
  }

  rest(): Buffer {
    return this.buffer.subarray(this.#pos);
  }
}
