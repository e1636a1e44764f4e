import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, type PeerCard, type ParticipantKind, type RecordsProfile, TracenetError } from '@tracenet/proto';
import { randomBytes } from '../crypto/sodium.js';
import { generateKeyPairs, keyIdOf, keyPairsFromSecrets, type KeyPairs } from '../crypto/key-pairs.js';
import { participantKindOf } from './participant-id.js';
import { signPeerCard, toPeerCardFile } from './peer-card.js';
import { certificateFingerprint, createSelfSignedCertificate, pemToDer, type TlsMaterial } from './tls.js';
import { unsafeCharacter } from '../util/unsafe-text.js';

/** Where a node keeps its files inside its data directory. */
export function dataPaths(dataDir: string) {
  return {
    identity: join(dataDir, 'identity.json'),
    keysDir: join(dataDir, 'keys'),
    signingKey: join(dataDir, 'keys', 'signing.key'),
    encryptionKey: join(dataDir, 'keys', 'encryption.key'),
    tlsKey: join(dataDir, 'keys', 'tls.key'),
    tlsCertificate: join(dataDir, 'tls.crt'),
    authorityToken: join(dataDir, 'keys', 'authority.token'),
    /** Secret keys replaced by a rotation, `<key id>.signing.key`, `<key id>.encryption.key` and `<key id>.tls.pem` (certificate and key). */
    retiredKeysDir: join(dataDir, 'keys', 'retired'),
    card: join(dataDir, 'card.json'),
    config: join(dataDir, 'config.json'),
    runtime: join(dataDir, 'node.json'),
    store: join(dataDir, 'store'),
    /** The signed audit head kept outside the store (docs/protocol.md 8.4). */
    auditHead: join(dataDir, 'audit-head.json'),
  } as const;
}

/** One set of this node's keys: what seals, signs and opens under one key id. */
export interface OwnKeySet {
  readonly keyId: string;
  readonly keys: KeyPairs;
  /**
   * The TLS certificate and key of these keys: what this node presents as a Federation client
   * when it sends an envelope sealed with them (docs/protocol.md 2.5). Absent for keys retired
   * before this was kept.
   */
  readonly tls?: TlsMaterial;
}

/**
 * Keys this node used before a rotation (docs/protocol.md 15.2). Their secret keys stay loaded
 * while the grace lasts, so that messages sealed to them before the rotation can still be opened;
 * the public keys stay known for ever (audit checkpoints name them).
 */
export interface RetiredKeys {
  readonly keyId: string;
  readonly signingPublicKey: Buffer;
  readonly encryptionPublicKey: Buffer;
  readonly retiredAtMs: number;
  /** Envelopes addressed to these keys are accepted while `now < graceUntilMs`. */
  readonly graceUntilMs: number;
  /** Declared compromised by this node (`tracenet keys revoke`): refused at once. */
  readonly revoked: boolean;
  /** The secret keys, while the grace lasts and the files are there. */
  readonly keys: KeyPairs | undefined;
  /** The TLS certificate and key of these keys, while the grace lasts and the file is there. */
  readonly tls: TlsMaterial | undefined;
}

/** Why an own key id cannot be used (ErrorDetail.rule). */
export type OwnKeyRefusal = 'recipient_key' | 'rotation_grace' | 'revoked_key';

/**
 * A node's own identity, loaded from its data directory. The current keys change when the node
 * rotates them (`tracenet keys rotate`): every component reads `keyId`, `keys` and the TLS
 * material at the time of use, never a copy.
 */
export interface NodeIdentity {
  readonly participantId: string;
  readonly kind: ParticipantKind;
  readonly displayName: string;
  readonly keys: KeyPairs;
  readonly keyId: string;
  readonly tlsCertificatePem: string;
  readonly tlsPrivateKeyPem: string;
  readonly tlsCertificateDer: Buffer;
  /** The current TLS certificate and key, presented on the Federation port and to peers' ports. */
  readonly tls: TlsMaterial;
  readonly cardValidityDays: number;
  /** Keys replaced by rotations, oldest first. */
  readonly retired: readonly RetiredKeys[];
  /**
   * The key set that an envelope addressed to `keyId` is opened (and its receipt signed) with at
   * `nowMs`: the current keys, or retired keys inside their grace and not revoked. Otherwise the
   * reason to refuse.
   */
  keySet(keyId: string, nowMs: number): OwnKeySet | OwnKeyRefusal;
  /** The Ed25519 public key of any key id this node ever had (audit checkpoints). */
  signingPublicKeyOf(keyId: string): Buffer | undefined;
}

interface RetiredKeyFile {
  readonly keyId: string;
  readonly signingPublicKey: string;
  readonly encryptionPublicKey: string;
  readonly retiredAtMs: number;
  readonly graceUntilMs: number;
  readonly revoked: boolean;
}

interface IdentityFile {
  readonly format: 'tracenet-identity/1';
  readonly participantId: string;
  readonly displayName: string;
  readonly keyId: string;
  readonly createdAt: string;
  readonly cardValidityDays: number;
  readonly retired?: readonly RetiredKeyFile[];
}

/** The current keys and TLS material of an identity. */
interface CurrentKeys {
  readonly keys: KeyPairs;
  readonly keyId: string;
  readonly tlsCertificatePem: string;
  readonly tlsPrivateKeyPem: string;
  readonly tlsCertificateDer: Buffer;
}

/** The one implementation of {@link NodeIdentity}; {@link rotateKeys} swaps its keys. */
class LocalIdentity implements NodeIdentity {
  #current: CurrentKeys;
  #retired: RetiredKeys[];

  constructor(
    readonly participantId: string,
    readonly kind: ParticipantKind,
    readonly displayName: string,
    readonly cardValidityDays: number,
    current: CurrentKeys,
    retired: RetiredKeys[],
  ) {
    this.#current = current;
    this.#retired = retired;
  }

  get keys(): KeyPairs {
    return this.#current.keys;
  }
  get keyId(): string {
    return this.#current.keyId;
  }
  get tlsCertificatePem(): string {
    return this.#current.tlsCertificatePem;
  }
  get tlsPrivateKeyPem(): string {
    return this.#current.tlsPrivateKeyPem;
  }
  get tlsCertificateDer(): Buffer {
    return this.#current.tlsCertificateDer;
  }
  get tls(): TlsMaterial {
    return tlsOf(this.#current);
  }
  get retired(): readonly RetiredKeys[] {
    return this.#retired;
  }

  keySet(keyId: string, nowMs: number): OwnKeySet | OwnKeyRefusal {
    const current = this.#current;
    if (keyId === current.keyId) return { keyId, keys: current.keys, tls: tlsOf(current) };
    const retired = this.#retired.find((r) => r.keyId === keyId);
    if (!retired) return 'recipient_key';
    if (retired.revoked) return 'revoked_key';
    if (nowMs >= retired.graceUntilMs || !retired.keys) return 'rotation_grace';
    return { keyId, keys: retired.keys, ...(retired.tls ? { tls: retired.tls } : {}) };
  }

  signingPublicKeyOf(keyId: string): Buffer | undefined {
    if (keyId === this.#current.keyId) return this.#current.keys.signingPublicKey;
    return this.#retired.find((r) => r.keyId === keyId)?.signingPublicKey;
  }

  /** Drops the secret keys and TLS keys of these retired key sets from memory (their files were erased). */
  forgetSecrets(keyIds: readonly string[]): void {
    this.#retired = this.#retired.map((r) =>
      keyIds.includes(r.keyId) ? { ...r, keys: undefined, tls: undefined } : r,
    );
  }

  /** Makes `next` current and `retired` the new list (after the files were written). */
  replace(next: CurrentKeys, retired: RetiredKeys[]): void {
    this.#current = next;
    this.#retired = retired;
  }
}

function tlsOf(current: CurrentKeys): TlsMaterial {
  return { certificatePem: current.tlsCertificatePem, privateKeyPem: current.tlsPrivateKeyPem };
}

/** What `tracenet init` needs. */
export interface InitOptions {
  readonly dataDir: string;
  readonly participantId: string;
  readonly displayName?: string;
  /** Advertised Federation endpoints, "host:port". */
  readonly endpoints: readonly string[];
  /** Validity of the card and the TLS certificate; 365 days when absent. */
  readonly validityDays?: number;
  readonly nowMs: number;
}

/** Writes a secret file readable by its owner only (mode 0600), refusing to overwrite. */
async function writeSecret(path: string, data: string): Promise<void> {
  await writeFile(path, data, { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
}

/**
 * Refuses a data directory without its current key files (NOT_FOUND, rule `key_files`), naming
 * every missing one: a directory restored from a backup made without `--include-keys` holds none
 * until the operator puts them back (docs/operations.md section 10).
 */
async function requireKeyFiles(dataDir: string): Promise<void> {
  const paths = dataPaths(dataDir);
  const required = [paths.signingKey, paths.encryptionKey, paths.tlsKey, paths.authorityToken];
  const missing: string[] = [];
  for (const path of required) if (!(await exists(path))) missing.push(path);
  if (missing.length === 0) return;
  throw new TracenetError(
    ErrorCode.ERROR_CODE_NOT_FOUND,
    `${dataDir} lacks the key files ${missing.join(', ')}; a directory restored from a backup without keys needs them put back (mode 0600) before the node can start`,
    { field: 'keys', rule: 'key_files' },
  );
}

/** Reads a secret file, refusing one readable by group or others (INVALID_FIELD naming the file, rule `key_file_mode`). */
export async function readSecret(path: string): Promise<string> {
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `${path} is readable by group or others (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      { field: path, rule: 'key_file_mode' },
    );
  }
  return (await readFile(path, 'utf8')).trim();
}

/**
 * Creates a node's identity in an empty data directory: signing and encryption keys, a
 * self-signed TLS certificate, the Authority API token (all secret files mode 0600) and a signed
 * peer card. Refuses to touch a directory that already holds an identity.
 */
export async function initDataDir(options: InitOptions): Promise<{ identity: NodeIdentity; card: PeerCard }> {
  const kind = participantKindOf(options.participantId);
  if (kind === undefined) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `"${options.participantId}" is not a participant id (ISO 3166-1 alpha-3 such as FRA, or org:<name>)`,
      {
        field: 'id',
        rule: 'participant_id',
      },
    );
  }
  const unsafe = unsafeCharacter(options.displayName ?? '');
  if (unsafe) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `the display name contains ${unsafe}, a control or format character that peers refuse`,
      { field: 'name', rule: 'control_character' },
    );
  }
  const paths = dataPaths(options.dataDir);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  try {
    await stat(paths.identity);
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${options.dataDir} already holds a node identity`, {
      field: 'data',
      rule: 'already_initialised',
    });
  } catch (error) {
    if (error instanceof TracenetError) throw error;
  }
  await mkdir(paths.keysDir, { recursive: true, mode: 0o700 });
  await chmod(paths.keysDir, 0o700);
  const validityDays = options.validityDays ?? 365;
  const keys = generateKeyPairs();
  const keyId = keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey);
  const tls = await createSelfSignedCertificate(options.participantId, validityDays);
  await writeSecret(paths.signingKey, keys.signingSecretKey.toString('base64'));
  await writeSecret(paths.encryptionKey, keys.encryptionSecretKey.toString('base64'));
  await writeSecret(paths.tlsKey, tls.privateKeyPem);
  await writeSecret(paths.authorityToken, randomBytes(32).toString('base64url'));
  await writeFile(paths.tlsCertificate, tls.certificatePem, { mode: 0o644 });
  const file: IdentityFile = {
    format: 'tracenet-identity/1',
    participantId: options.participantId,
    displayName: options.displayName ?? options.participantId,
    keyId,
    createdAt: new Date(options.nowMs).toISOString(),
    cardValidityDays: validityDays,
  };
  await writeFile(paths.identity, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o644 });
  const identity = await loadIdentity(options.dataDir);
  const card = issuePeerCard(identity, options.endpoints, options.nowMs);
  await writeCardFile(options.dataDir, card);
  return { identity, card };
}

/** Loads the identity; refuses key files that others can read. */
export async function loadIdentity(dataDir: string): Promise<NodeIdentity> {
  const paths = dataPaths(dataDir);
  let file: IdentityFile;
  try {
    file = JSON.parse(await readFile(paths.identity, 'utf8')) as IdentityFile;
  } catch (cause) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_NOT_FOUND,
      `${dataDir} holds no node identity; run: tracenet init --id <ID> --data ${dataDir}`,
      {
        field: 'data',
        rule: 'initialised',
        cause,
      },
    );
  }
  await requireKeyFiles(dataDir);
  const keys = keyPairsFromSecrets(
    Buffer.from(await readSecret(paths.signingKey), 'base64'),
    Buffer.from(await readSecret(paths.encryptionKey), 'base64'),
  );
  const keyId = keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey);
  if (keyId !== file.keyId) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `key files do not match identity.json (key id ${keyId}, expected ${file.keyId})`,
      {
        field: 'keys',
        rule: 'key_id',
      },
    );
  }
  const tlsCertificatePem = await readFile(paths.tlsCertificate, 'utf8');
  const kind = participantKindOf(file.participantId);
  if (kind === undefined)
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'identity.json names no valid participant', {
      field: 'participantId',
      rule: 'participant_id',
    });
  const retired: RetiredKeys[] = [];
  for (const entry of file.retired ?? []) retired.push(await loadRetired(paths.retiredKeysDir, entry));
  return new LocalIdentity(
    file.participantId,
    kind,
    file.displayName,
    file.cardValidityDays,
    {
      keys,
      keyId,
      tlsCertificatePem,
      tlsPrivateKeyPem: await readSecret(paths.tlsKey),
      tlsCertificateDer: pemToDer(tlsCertificatePem),
    },
    retired,
  );
}

/** Reads a retired key set; its secret keys only while they may still be used. */
async function loadRetired(dir: string, entry: RetiredKeyFile): Promise<RetiredKeys> {
  let keys: KeyPairs | undefined;
  let tls: TlsMaterial | undefined;
  if (!entry.revoked) {
    try {
      keys = keyPairsFromSecrets(
        Buffer.from(await readSecret(join(dir, `${entry.keyId}.signing.key`)), 'base64'),
        Buffer.from(await readSecret(join(dir, `${entry.keyId}.encryption.key`)), 'base64'),
      );
      tls = parseTlsFile(await readSecret(join(dir, `${entry.keyId}.tls.pem`)));
    } catch (error) {
      // A file readable by others is refused like the current keys; a deleted one ends the grace
      // (a missing TLS file only: keys retired before it was kept).
      if (error instanceof TracenetError) throw error;
    }
  }
  return {
    keyId: entry.keyId,
    signingPublicKey: Buffer.from(entry.signingPublicKey, 'base64'),
    encryptionPublicKey: Buffer.from(entry.encryptionPublicKey, 'base64'),
    retiredAtMs: entry.retiredAtMs,
    graceUntilMs: entry.graceUntilMs,
    revoked: entry.revoked,
    keys,
    tls,
  };
}

/** The certificate and private key of a `<key id>.tls.pem` file. */
function parseTlsFile(text: string): TlsMaterial | undefined {
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(text)?.[0];
  return certificate && key ? { certificatePem: certificate, privateKeyPem: key } : undefined;
}

/** What {@link rotateKeys} did. */
export interface Rotation {
  readonly previousKeyId: string;
  readonly keyId: string;
  readonly graceUntilMs: number;
}

/**
 * Replaces the identity's keys and TLS certificate by fresh ones (docs/protocol.md 15.2): the
 * current secret keys move to `keys/retired/<key id>.*` (mode 0600) and stay usable until
 * `graceUntilMs` unless `revoke`; the new keys take the usual file names (written aside and
 * renamed, mode 0600); `identity.json` is rewritten last. The identity object then answers with
 * the new keys. The caller issues the new card.
 *
 * @example
 * ```ts
 * const { previousKeyId, keyId } = await rotateKeys(dataDir, identity, { nowMs, graceMs: 86_400_000, revoke: false });
 * ```
 */
export async function rotateKeys(
  dataDir: string,
  identity: NodeIdentity,
  options: { nowMs: number; graceMs: number; revoke: boolean },
): Promise<Rotation> {
  if (!(identity instanceof LocalIdentity))
    throw new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'only a loaded identity can rotate its keys');
  const paths = dataPaths(dataDir);
  const file = JSON.parse(await readFile(paths.identity, 'utf8')) as IdentityFile;
  const previous: CurrentKeys = {
    keys: identity.keys,
    keyId: identity.keyId,
    tlsCertificatePem: identity.tlsCertificatePem,
    tlsPrivateKeyPem: identity.tlsPrivateKeyPem,
    tlsCertificateDer: identity.tlsCertificateDer,
  };
  const keys = generateKeyPairs();
  const keyId = keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey);
  const tls = await createSelfSignedCertificate(identity.participantId, identity.cardValidityDays);
  await mkdir(paths.retiredKeysDir, { recursive: true, mode: 0o700 });
  await chmod(paths.retiredKeysDir, 0o700);
  const graceUntilMs = options.revoke ? options.nowMs : options.nowMs + options.graceMs;
  if (!options.revoke) {
    await replaceSecret(
      join(paths.retiredKeysDir, `${previous.keyId}.signing.key`),
      previous.keys.signingSecretKey.toString('base64'),
    );
    await replaceSecret(
      join(paths.retiredKeysDir, `${previous.keyId}.encryption.key`),
      previous.keys.encryptionSecretKey.toString('base64'),
    );
    // Presented to peers that have not processed the KEY_ROTATION yet (docs/protocol.md 2.5).
    await replaceSecret(
      join(paths.retiredKeysDir, `${previous.keyId}.tls.pem`),
      `${previous.tlsCertificatePem}${previous.tlsPrivateKeyPem}`,
    );
  }
  await replaceSecret(paths.signingKey, keys.signingSecretKey.toString('base64'));
  await replaceSecret(paths.encryptionKey, keys.encryptionSecretKey.toString('base64'));
  await replaceSecret(paths.tlsKey, tls.privateKeyPem);
  await writeFile(`${paths.tlsCertificate}.tmp`, tls.certificatePem, { mode: 0o644 });
  await rename(`${paths.tlsCertificate}.tmp`, paths.tlsCertificate);
  const retiredEntry: RetiredKeyFile = {
    keyId: previous.keyId,
    signingPublicKey: previous.keys.signingPublicKey.toString('base64'),
    encryptionPublicKey: previous.keys.encryptionPublicKey.toString('base64'),
    retiredAtMs: options.nowMs,
    graceUntilMs,
    revoked: options.revoke,
  };
  const updated: IdentityFile = { ...file, keyId, retired: [...(file.retired ?? []), retiredEntry] };
  await writeFile(`${paths.identity}.tmp`, `${JSON.stringify(updated, null, 2)}\n`, { mode: 0o644 });
  await rename(`${paths.identity}.tmp`, paths.identity);
  identity.replace(
    {
      keys,
      keyId,
      tlsCertificatePem: tls.certificatePem,
      tlsPrivateKeyPem: tls.privateKeyPem,
      tlsCertificateDer: pemToDer(tls.certificatePem),
    },
    [
      ...identity.retired,
      {
        keyId: previous.keyId,
        signingPublicKey: previous.keys.signingPublicKey,
        encryptionPublicKey: previous.keys.encryptionPublicKey,
        retiredAtMs: options.nowMs,
        graceUntilMs,
        revoked: options.revoke,
        keys: options.revoke ? undefined : previous.keys,
        tls: options.revoke ? undefined : tlsOf(previous),
      },
    ],
  );
  return { previousKeyId: previous.keyId, keyId, graceUntilMs };
}

/**
 * Erases the secret key files of retired keys whose grace has ended (docs/protocol.md 15.2): every
 * `keys/retired/<key id>.*` file (signing, encryption and any TLS key kept for the grace) is
 * unlinked, and the identity forgets those secrets. The public keys stay in `identity.json`
 * (audit checkpoints name them). Files are unlinked, not overwritten first: on a journaling or
 * copy-on-write file system, or an SSD, an overwrite does not reach the old blocks, so it would
 * promise what it cannot do; disk encryption is what protects erased blocks. Returns the key ids
 * whose files were erased.
 */
export async function eraseRetiredSecrets(dataDir: string, identity: NodeIdentity, nowMs: number): Promise<string[]> {
  if (!(identity instanceof LocalIdentity))
    throw new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, 'only a loaded identity can erase its retired keys');
  const dir = dataPaths(dataDir).retiredKeysDir;
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const ended = identity.retired.filter((r) => nowMs >= r.graceUntilMs).map((r) => r.keyId);
  const erased: string[] = [];
  for (const keyId of ended) {
    const own = files.filter((file) => file.startsWith(`${keyId}.`));
    for (const file of own) await rm(join(dir, file), { force: true });
    if (own.length > 0) erased.push(keyId);
  }
  identity.forgetSecrets(ended);
  return erased;
}

/** Writes a secret file (mode 0600) aside and renames it over `path`, so a reader never sees half of it. */
async function replaceSecret(path: string, data: string): Promise<void> {
  const aside = `${path}.tmp`;
  await writeFile(aside, data, { mode: 0o600 });
  await chmod(aside, 0o600);
  await rename(aside, path);
}

/**
 * Signs a fresh peer card for this identity with the given endpoints, valid for the configured
 * days but never longer than the TLS certificate it pins (renewing that certificate is a key
 * rotation, {@link rotateKeys}), with the records profile the node declares (docs/protocol.md 17.2).
 */
export function issuePeerCard(
  identity: Pick<
    NodeIdentity,
    'participantId' | 'kind' | 'displayName' | 'keys' | 'keyId' | 'tlsCertificateDer' | 'cardValidityDays'
  >,
  endpoints: readonly string[],
  nowMs: number,
  recordsProfile?: RecordsProfile,
): PeerCard {
  return signPeerCard(
    {
      version: 1,
      participantId: identity.participantId,
      kind: identity.kind,
      displayName: identity.displayName,
      endpoints: [...endpoints],
      signingPublicKey: identity.keys.signingPublicKey,
      encryptionPublicKey: identity.keys.encryptionPublicKey,
      keyId: identity.keyId,
      tlsCertificate: identity.tlsCertificateDer,
      tlsCertificateSha256: certificateFingerprint(identity.tlsCertificateDer),
      validFromMs: nowMs - 60_000,
      // Never beyond the TLS certificate the card pins: peers would refuse the port before then.
      validUntilMs: Math.min(
        nowMs + identity.cardValidityDays * 86_400_000,
        Date.parse(new X509Certificate(identity.tlsCertificateDer).validTo),
      ),
      issuedAtMs: nowMs,
      recordsProfile,
    },
    identity.keys.signingSecretKey,
  );
}

/** Writes the card file that `tracenet peers export` prints. */
export async function writeCardFile(dataDir: string, card: PeerCard): Promise<void> {
  await writeFile(dataPaths(dataDir).card, `${JSON.stringify(toPeerCardFile(card), null, 2)}\n`, { mode: 0o644 });
}

/** Reads the Authority API token. */
export async function readAuthorityToken(dataDir: string): Promise<string> {
  return readSecret(dataPaths(dataDir).authorityToken);
}

/** Whether a file exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
