import { createHash } from 'node:crypto';
import { chmod, type FileHandle, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCode, type PeerCard, type PeerCardBody, TracenetError } from '@tracenet/proto';
import { signedHeadVerifies, type StoredSignedHead } from '../audit/audit-log.js';
import { SignedHeadWriter } from '../audit/head-file.js';
import { domain, sodium } from '../crypto/sodium.js';
import { dataPaths, type NodeIdentity } from '../identity/data-dir.js';
import { verifyPeerCard } from '../identity/peer-card.js';
import { openFreshStore, rawMetaKey, schemaVersionOf, snapshotEntries } from '../store/backup.js';
import { META } from '../store/repositories.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';

/**
 * Online backups of a node (docs/protocol.md 7.5, docs/adr/0013-backup-and-restore.md): the
 * running node writes the backup file ({@link createBackup}, behind the Authority API's
 * `CreateBackup`), anyone checks it ({@link verifyBackup}), and an operator restores it into a new
 * data directory ({@link restoreBackup}).
 *
 * The file: the line `TRACENET-BACKUP/1\n`, then records `type (1 byte) | key length (u32 BE) |
 * key | value length (u32 BE) | value`: every raw entry of the store (`S`, in key order, read under
 * one snapshot), then the files of the data directory (`F`, key = relative path, value = contents),
 * then one manifest record (`M`, key = the manifest's UTF-8 JSON, value = its 64-byte Ed25519
 * signature). Nothing follows the manifest.
 */

/** `format` of a manifest of this version. */
export const BACKUP_FORMAT = 'tracenet-backup/1';
const MAGIC = Buffer.from('TRACENET-BACKUP/1\n', 'ascii');
const MANIFEST_DOMAIN = domain('tracenet.v1/backup-manifest');
const RECORD = { store: 0x53, file: 0x46, manifest: 0x4d } as const;
/** Largest key and value a reader accepts: a longer length is damage, not data. */
const MAX_KEY_BYTES = 1024 * 1024;
const MAX_VALUE_BYTES = 512 * 1024 * 1024;
/** Bytes of the chunks a backup is streamed in. */
const CHUNK_BYTES = 64 * 1024;

/** Files of the data directory a backup never holds: the store itself (copied from its snapshot), the runtime file, copies aside. */
const NOT_COPIED = [/^store$/, /^store\.damaged-/, /^node\.json$/, /^audit-head\.json$/, /\.tmp$/];
/** The directory of secret files, copied only with `includeKeys`. */
const KEYS_DIR = 'keys';
/** Key files a node cannot start without (relative paths); restored without keys, they must be put back. */
export const REQUIRED_KEY_FILES = [
  'keys/signing.key',
  'keys/encryption.key',
  'keys/tls.key',
  'keys/authority.token',
] as const;

/** A file of the data directory in a backup. */
export interface BackupFile {
  /** Relative to the data directory, `/`-separated. */
  readonly path: string;
  /** Permission bits to restore (0600 for anything under `keys/`, whatever the manifest says). */
  readonly mode: number;
  readonly bytes: number;
}

/** What a backup says about itself, signed by the node that wrote it. */
export interface BackupManifest {
  readonly format: typeof BACKUP_FORMAT;
  readonly participantId: string;
  /** Key id of the keys that signed this manifest. */
  readonly keyId: string;
  /** Base64 Ed25519 public key that verifies the signature. */
  readonly signingPublicKey: string;
  /** Taken just before the store's snapshot: nothing the node committed after it is in the backup. */
  readonly createdAtMs: number;
  readonly softwareVersion: string;
  /** The store's schema version (`meta` `schema`, `{version}`; 1 when absent). */
  readonly schemaVersion: number;
  readonly storeEntries: number;
  readonly files: readonly BackupFile[];
  /** Whether `keys/` is in the backup. */
  readonly keysIncluded: boolean;
  /** SHA-256 (hex) of every byte of the file before the manifest record. */
  readonly contentSha256: string;
  /** The signed audit head in the snapshot (docs/protocol.md 8.4); null for a store without audit entries. */
  readonly auditHead: StoredSignedHead | null;
}

/** What the node gives {@link createBackup}. */
export interface BackupSource {
  readonly store: Pick<Store, 'root'>;
  readonly dataDir: string;
  readonly identity: Pick<NodeIdentity, 'participantId' | 'keyId' | 'keys'>;
  readonly includeKeys: boolean;
  readonly nowMs: () => number;
}

function invalid(message: string, rule: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, message, { field: 'backup', rule });
}

function record(type: number, key: Uint8Array, value: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(key.length, 1);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length, 0);
  return Buffer.concat([head, key, length, value]);
}

/** The bytes a manifest's signature covers: the domain `tracenet.v1/backup-manifest` and the manifest's JSON. */
function manifestSignedBytes(json: Buffer): Buffer {
  return Buffer.concat([MANIFEST_DOMAIN, json]);
}

/**
 * The files of `dataDir` a backup holds, in path order: everything but the store, the runtime file,
 * the audit head file (rewritten from the snapshot at restore), copies aside (`*.tmp`) and, unless
 * `includeKeys`, `keys/`.
 */
async function dataFiles(dataDir: string, includeKeys: boolean): Promise<Array<{ path: string; mode: number }>> {
  const found: Array<{ path: string; mode: number }> = [];
  const walk = async (dir: string, prefix: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (NOT_COPIED.some((pattern) => pattern.test(path))) continue;
      if (entry.isDirectory()) {
        if (path !== KEYS_DIR || includeKeys) await walk(join(dir, entry.name), path);
      } else if (entry.isFile()) {
        found.push({ path, mode: (await stat(join(dir, entry.name))).mode & 0o777 });
      }
    }
  };
  await walk(dataDir, '');
  return found;
}

/**
 * Writes a backup of a running node as a stream of chunks: the store under one snapshot, then the
 * data directory's files, then the signed manifest. The node keeps working meanwhile; what it
 * commits after the snapshot is not in the backup.
 *
 * @example
 * ```ts
 * for await (const chunk of createBackup({ store, dataDir, identity, includeKeys: false, nowMs: Date.now })) call.write({ data: chunk });
 * ```
 */
export async function* createBackup(source: BackupSource): AsyncGenerator<Buffer> {
  // One key set signs the whole backup, whatever a rotation does meanwhile.
  const { participantId, keyId, keys } = source.identity;
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const add = (bytes: Buffer) => {
    hash.update(bytes);
    pending.push(bytes);
    pendingBytes += bytes.length;
  };
  const take = () => {
    const chunk = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    return chunk;
  };
  add(MAGIC);
  const createdAtMs = source.nowMs();
  let storeEntries = 0;
  let auditHead: StoredSignedHead | null = null;
  let schemaValue: Buffer | undefined;
  const headKey = Buffer.from(rawMetaKey(META.signedHead), 'utf8');
  const schemaKey = Buffer.from(rawMetaKey(META.schema), 'utf8');
  for await (const { key, value } of snapshotEntries(source.store)) {
    if (key.equals(headKey)) auditHead = JSON.parse(value.toString('utf8')) as StoredSignedHead;
    if (key.equals(schemaKey)) schemaValue = value;
    add(record(RECORD.store, key, value));
    storeEntries += 1;
    if (pendingBytes >= CHUNK_BYTES) yield take();
  }
  const files: BackupFile[] = [];
  for (const file of await dataFiles(source.dataDir, source.includeKeys)) {
    let contents: Buffer;
    try {
      contents = await readFile(join(source.dataDir, file.path));
    } catch (error) {
      // Renamed or removed since it was listed (a key rotation replaces files): not in this backup.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    add(record(RECORD.file, Buffer.from(file.path, 'utf8'), contents));
    files.push({ path: file.path, mode: file.mode, bytes: contents.length });
    if (pendingBytes >= CHUNK_BYTES) yield take();
  }
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    participantId,
    keyId,
    signingPublicKey: keys.signingPublicKey.toString('base64'),
    createdAtMs,
    softwareVersion: VERSION,
    schemaVersion: schemaVersionOf(schemaValue),
    storeEntries,
    files,
    keysIncluded: source.includeKeys,
    contentSha256: hash.digest('hex'),
    auditHead,
  };
  const json = Buffer.from(JSON.stringify(manifest), 'utf8');
  const signature = Buffer.from(sodium().crypto_sign_detached(manifestSignedBytes(json), keys.signingSecretKey));
  pending.push(record(RECORD.manifest, json, signature));
  yield take();
}

/** Reads a file front to back in exact pieces. */
class FileReader {
  #buffer = Buffer.alloc(0);
  #offset = 0;
  #ended = false;

  constructor(private readonly handle: FileHandle) {}

  /** Bytes read so far by {@link exactly}. */
  get offset(): number {
    return this.#offset;
  }

  /** The next `length` bytes; undefined at the end of the file before the first byte, a truncation error in the middle. */
  async exactly(length: number): Promise<Buffer | undefined> {
    while (this.#buffer.length < length && !this.#ended) {
      const chunk = Buffer.alloc(Math.max(1024 * 1024, length - this.#buffer.length));
      const { bytesRead } = await this.handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) this.#ended = true;
      else this.#buffer = Buffer.concat([this.#buffer, chunk.subarray(0, bytesRead)]);
    }
    if (this.#buffer.length === 0 && length > 0 && this.#ended) return undefined;
    if (this.#buffer.length < length)
      throw invalid(
        `the backup ends in the middle of a record (offset ${this.#offset + this.#buffer.length})`,
        'backup_truncated',
      );
    const piece = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    this.#offset += length;
    return piece;
  }
}

/** One record of a backup file, in file order. */
type BackupRecord =
  | { readonly type: 'store'; readonly key: Buffer; readonly value: Buffer }
  | { readonly type: 'file'; readonly path: string; readonly value: Buffer };

/** Whether `path` is a plain relative path that stays inside the data directory. */
function safeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/**
 * Reads and checks a backup file, handing each record to `visit` in file order; returns the
 * manifest once everything is checked (see {@link verifyBackup}). `visit` sees records before the
 * manifest is checked: a caller that writes them must undo its writes when this throws.
 */
async function readBackup(
  path: string,
  visit: (entry: BackupRecord) => Promise<void>,
): Promise<{ manifest: BackupManifest; bytes: number }> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT')
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `backup file ${path} does not exist`, {
        field: 'backup',
        rule: 'exists',
        cause,
      });
    throw cause;
  }
  try {
    const reader = new FileReader(handle);
    const hash = createHash('sha256');
    const magic = await reader.exactly(MAGIC.length);
    if (!magic?.equals(MAGIC))
      throw invalid(
        `${path} is not a Tracenet backup (it does not start with ${JSON.stringify(MAGIC.toString('ascii').trim())})`,
        'backup_magic',
      );
    hash.update(magic);
    let previousKey: Buffer | undefined;
    let storeEntries = 0;
    let storedHead: Buffer | undefined;
    const headKey = Buffer.from(rawMetaKey(META.signedHead), 'utf8');
    const files: BackupFile[] = [];
    for (;;) {
      const at = reader.offset;
      const head = await reader.exactly(5);
      if (head === undefined) throw invalid('the backup ends without its manifest', 'backup_truncated');
      const type = head.readUInt8(0);
      const keyLength = head.readUInt32BE(1);
      if (type !== RECORD.store && type !== RECORD.file && type !== RECORD.manifest)
        throw invalid(`unknown record type 0x${type.toString(16)} at offset ${at}`, 'backup_record');
      if (keyLength > MAX_KEY_BYTES)
        throw invalid(`a record key of ${keyLength} bytes at offset ${at}`, 'backup_record');
      const key = (await reader.exactly(keyLength)) ?? Buffer.alloc(0);
      const lengthBytes = await reader.exactly(4);
      if (lengthBytes === undefined)
        throw invalid(`the backup ends in the middle of a record (offset ${reader.offset})`, 'backup_truncated');
      const valueLength = lengthBytes.readUInt32BE(0);
      if (valueLength > MAX_VALUE_BYTES)
        throw invalid(`a record value of ${valueLength} bytes at offset ${at}`, 'backup_record');
      const value = (await reader.exactly(valueLength)) ?? Buffer.alloc(0);
      if (type === RECORD.manifest) {
        if ((await reader.exactly(1)) !== undefined) throw invalid('bytes follow the manifest', 'backup_trailing');
        const manifest = checkManifest(key, value, hash.digest('hex'));
        if (manifest.storeEntries !== storeEntries)
          throw invalid(
            `the manifest counts ${manifest.storeEntries} store entries, the backup holds ${storeEntries}`,
            'backup_count',
          );
        const listed = manifest.files.map((f) => `${f.path}:${f.bytes}`).join('\n');
        if (listed !== files.map((f) => `${f.path}:${f.bytes}`).join('\n'))
          throw invalid('the files of the backup are not those its manifest lists', 'backup_files');
        const stored = storedHead === undefined ? null : (JSON.parse(storedHead.toString('utf8')) as StoredSignedHead);
        if (JSON.stringify(stored) !== JSON.stringify(manifest.auditHead))
          throw invalid("the manifest's audit head is not the one in the store", 'backup_audit_head');
        return { manifest, bytes: reader.offset };
      }
      hash.update(head).update(key).update(lengthBytes).update(value);
      if (type === RECORD.store) {
        if (files.length > 0) throw invalid(`a store entry after the files at offset ${at}`, 'backup_order');
        if (previousKey && Buffer.compare(previousKey, key) >= 0)
          throw invalid(`store entries out of key order at offset ${at}`, 'backup_order');
        previousKey = key;
        storeEntries += 1;
        if (key.equals(headKey)) storedHead = value;
        await visit({ type: 'store', key, value });
      } else {
        const filePath = key.toString('utf8');
        if (!safeRelativePath(filePath) || filePath === 'store' || filePath.startsWith('store/'))
          throw invalid(
            `the file name ${JSON.stringify(filePath)} at offset ${at} leaves the data directory or names the store`,
            'backup_path',
          );
        files.push({ path: filePath, mode: 0, bytes: value.length });
        await visit({ type: 'file', path: filePath, value });
      }
    }
  } finally {
    await handle.close();
  }
}

/** Parses the manifest and checks its signature against the key it names, and the content hash. */
function checkManifest(json: Buffer, signature: Buffer, contentSha256: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(json.toString('utf8')) as BackupManifest;
  } catch (cause) {
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'the manifest is not JSON', {
      field: 'backup',
      rule: 'backup_manifest',
      cause,
    });
  }
  if (typeof manifest !== 'object' || manifest === null || manifest.format !== BACKUP_FORMAT)
    throw invalid(`the manifest is not ${BACKUP_FORMAT}`, 'backup_manifest');
  const fields: Array<[string, boolean]> = [
    ['participantId', typeof manifest.participantId === 'string'],
    ['keyId', typeof manifest.keyId === 'string'],
    ['signingPublicKey', typeof manifest.signingPublicKey === 'string'],
    ['createdAtMs', Number.isSafeInteger(manifest.createdAtMs)],
    ['schemaVersion', Number.isSafeInteger(manifest.schemaVersion)],
    ['storeEntries', Number.isSafeInteger(manifest.storeEntries)],
    [
      'files',
      Array.isArray(manifest.files) &&
        manifest.files.every(
          (f) => typeof f?.path === 'string' && Number.isSafeInteger(f.mode) && Number.isSafeInteger(f.bytes),
        ),
    ],
    ['keysIncluded', typeof manifest.keysIncluded === 'boolean'],
    ['contentSha256', typeof manifest.contentSha256 === 'string'],
    [
      'auditHead',
      manifest.auditHead === null || (typeof manifest.auditHead === 'object' && !Array.isArray(manifest.auditHead)),
    ],
  ];
  const wrong = fields.find(([, ok]) => !ok);
  if (wrong) throw invalid(`the manifest's ${wrong[0]} is missing or of the wrong type`, 'backup_manifest');
  const publicKey = Buffer.from(manifest.signingPublicKey, 'base64');
  const s = sodium();
  if (
    publicKey.length !== s.crypto_sign_PUBLICKEYBYTES ||
    signature.length !== s.crypto_sign_BYTES ||
    !s.crypto_sign_verify_detached(signature, manifestSignedBytes(json), publicKey)
  ) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_BAD_SIGNATURE,
      'the signature of the manifest does not verify under the key it names',
      { field: 'backup', rule: 'backup_signature' },
    );
  }
  if (manifest.contentSha256 !== contentSha256)
    throw invalid(
      `the content's SHA-256 is ${contentSha256}, the manifest says ${manifest.contentSha256}`,
      'backup_hash',
    );
  return manifest;
}

/** What {@link verifyBackup} found. */
export interface BackupSummary {
  readonly manifest: BackupManifest;
  /** Size of the file. */
  readonly bytes: number;
  /** Whether the audit head's signature verifies under the manifest's key (false: signed by another key id of the node, not checked here). */
  readonly auditHeadVerified: boolean;
  /** Whether the signer was checked against a peer card. */
  readonly cardChecked: boolean;
}

/**
 * Checks a backup file completely without writing anything: its structure, the store entries in
 * strictly increasing key order, the manifest's signature (under the key it names and, with
 * `card`, that this key is the card's), the SHA-256 of the content, the counts and files, and the
 * audit head (the store's own, signed by the node). Throws INVALID_FIELD (`backup`, rule
 * `backup_*`) or BAD_SIGNATURE naming what is wrong.
 */
export async function verifyBackup(path: string, options: { card?: PeerCard } = {}): Promise<BackupSummary> {
  const { manifest, bytes } = await readBackup(path, async () => undefined);
  return { manifest, bytes, ...checkSigner(manifest, options.card) };
}

function checkSigner(
  manifest: BackupManifest,
  card: PeerCard | undefined,
): Pick<BackupSummary, 'auditHeadVerified' | 'cardChecked'> {
  const publicKey = Buffer.from(manifest.signingPublicKey, 'base64');
  if (card) {
    // The card must have been valid when the backup was made, and name the key that signed it.
    const body: PeerCardBody = verifyPeerCard(card, manifest.createdAtMs);
    if (body.participantId !== manifest.participantId) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_BAD_SIGNATURE,
        `the backup is of ${manifest.participantId}, the card of ${body.participantId}`,
        { field: 'card', rule: 'backup_signer' },
      );
    }
    if (!Buffer.from(body.signingPublicKey).equals(publicKey) || body.keyId !== manifest.keyId) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_BAD_SIGNATURE,
        `the backup is signed by key ${manifest.keyId}, the card names key ${body.keyId}`,
        { field: 'card', rule: 'backup_signer' },
      );
    }
  }
  const head = manifest.auditHead;
  let auditHeadVerified = false;
  if (head && head.keyId === manifest.keyId) {
    if (!signedHeadVerifies(head, publicKey))
      throw new TracenetError(
        ErrorCode.ERROR_CODE_BAD_SIGNATURE,
        'the audit head in the backup is not signed by the node',
        { field: 'backup', rule: 'backup_audit_head' },
      );
    auditHeadVerified = true;
  }
  return { auditHeadVerified, cardChecked: card !== undefined };
}

/** What {@link restoreBackup} wrote. */
export interface RestoreResult extends BackupSummary {
  readonly dataDir: string;
  /** Key files (relative paths) the operator must put back before the node can start; empty when the backup held its keys. */
  readonly missingKeyFiles: readonly string[];
}

/**
 * Restores a backup into `dataDir`, which must not exist or be empty: the whole file is verified
 * first ({@link verifyBackup}; nothing is written if it fails), then the files are written with
 * their modes (0600 under `keys/`), the store is written as a new LevelDB and `audit-head.json` is
 * written from the manifest's audit head, so that `tracenet start` finds a store whose files and
 * chain agree with its head. Refuses a non-empty directory with ALREADY_EXISTS.
 */
export async function restoreBackup(
  path: string,
  dataDir: string,
  options: { card?: PeerCard } = {},
): Promise<RestoreResult> {
  const summary = await verifyBackup(path, options);
  let existing: string[] | undefined;
  try {
    existing = await readdir(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing && existing.length > 0)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_ALREADY_EXISTS,
      `${dataDir} is not empty; restore into a new directory`,
      { field: 'data', rule: 'empty_directory' },
    );
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  try {
    return await writeRestore(path, dataDir, summary);
  } catch (error) {
    // The directory was empty or absent: what is in it now was written here. One that existed
    // (perhaps a mount point) is kept, empty.
    if (existing)
      await Promise.all(
        (await readdir(dataDir)).map((name) => rm(join(dataDir, name), { recursive: true, force: true })),
      );
    else await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function writeRestore(path: string, dataDir: string, summary: BackupSummary): Promise<RestoreResult> {
  const paths = dataPaths(dataDir);
  const modes = new Map(summary.manifest.files.map((f) => [f.path, f.mode]));
  const store = await openFreshStore(paths.store);
  let written = 0;
  try {
    const { manifest } = await readBackup(path, async (entry) => {
      if (entry.type === 'store') {
        await store.put(entry.key, entry.value);
        written += 1;
        return;
      }
      const target = join(dataDir, ...entry.path.split('/'));
      const secret = entry.path.startsWith(`${KEYS_DIR}/`);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      const mode = secret ? 0o600 : (modes.get(entry.path) ?? 0o600) & 0o644;
      await writeFile(target, entry.value, { mode, flag: 'wx' });
      await chmod(target, mode);
    });
    // The file changed between the two passes: what was written is not what was verified.
    if (manifest.contentSha256 !== summary.manifest.contentSha256)
      throw invalid('the backup file changed while it was restored', 'backup_hash');
    // The mark that makes the first start ask the peers for what the backup lacks (docs/protocol.md 5.6).
    await store.put(
      Buffer.from(rawMetaKey(META.restored), 'utf8'),
      Buffer.from(JSON.stringify({ backupCreatedAtMs: manifest.createdAtMs }), 'utf8'),
    );
  } finally {
    await store.close();
  }
  if (written !== summary.manifest.storeEntries)
    throw invalid(`wrote ${written} of ${summary.manifest.storeEntries} store entries`, 'backup_count');
  if (summary.manifest.auditHead)
    await new SignedHeadWriter({ path: paths.auditHead, sync: true }).write(summary.manifest.auditHead);
  const present = new Set(summary.manifest.files.map((f) => f.path));
  return { ...summary, dataDir, missingKeyFiles: REQUIRED_KEY_FILES.filter((file) => !present.has(file)) };
}
