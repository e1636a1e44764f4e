import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, type PeerCard, type ParticipantKind, TracenetError } from '@tracenet/proto';
import { randomBytes } from '../crypto/sodium.js';
import { generateKeyPairs, keyIdOf, keyPairsFromSecrets, type KeyPairs } from './keys.js';
import { participantKindOf } from './participant-id.js';
import { signPeerCard, toPeerCardFile } from './peer-card.js';
import { certificateFingerprint, createSelfSignedCertificate, pemToDer } from './tls.js';

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
    card: join(dataDir, 'card.json'),
    config: join(dataDir, 'config.json'),
    runtime: join(dataDir, 'node.json'),
    store: join(dataDir, 'store'),
  } as const;
}

/** A node's own identity, loaded from its data directory. */
export interface NodeIdentity {
  readonly participantId: string;
  readonly kind: ParticipantKind;
  readonly displayName: string;
  readonly keys: KeyPairs;
  readonly keyId: string;
  readonly tlsCertificatePem: string;
  readonly tlsPrivateKeyPem: string;
  readonly tlsCertificateDer: Buffer;
  readonly cardValidityDays: number;
}

interface IdentityFile {
  readonly format: 'tracenet-identity/1';
  readonly participantId: string;
  readonly displayName: string;
  readonly keyId: string;
  readonly createdAt: string;
  readonly cardValidityDays: number;
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

async function readSecret(path: string): Promise<string> {
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
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `"${options.participantId}" is not a participant id (ISO 3166-1 alpha-3 such as FRA, or org:<name>)`, {
      field: 'id',
      rule: 'participant_id',
    });
  }
  const paths = dataPaths(options.dataDir);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  try {
    await stat(paths.identity);
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${options.dataDir} already holds a node identity`, { field: 'data', rule: 'already_initialised' });
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
    throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `${dataDir} holds no node identity; run: tracenet init --id <ID> --data ${dataDir}`, {
      field: 'data',
      rule: 'initialised',
      cause,
    });
  }
  const keys = keyPairsFromSecrets(
    Buffer.from(await readSecret(paths.signingKey), 'base64'),
    Buffer.from(await readSecret(paths.encryptionKey), 'base64'),
  );
  const keyId = keyIdOf(keys.signingPublicKey, keys.encryptionPublicKey);
  if (keyId !== file.keyId) {
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `key files do not match identity.json (key id ${keyId}, expected ${file.keyId})`, {
      field: 'keys',
      rule: 'key_id',
    });
  }
  const tlsCertificatePem = await readFile(paths.tlsCertificate, 'utf8');
  const kind = participantKindOf(file.participantId);
  if (kind === undefined) throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'identity.json names no valid participant', { field: 'participantId', rule: 'participant_id' });
  return {
    participantId: file.participantId,
    kind,
    displayName: file.displayName,
    keys,
    keyId,
    tlsCertificatePem,
    tlsPrivateKeyPem: await readSecret(paths.tlsKey),
    tlsCertificateDer: pemToDer(tlsCertificatePem),
    cardValidityDays: file.cardValidityDays,
  };
}

/**
 * Signs a fresh peer card for this identity with the given endpoints, valid for the configured
 * days but never longer than the TLS certificate it pins (renewing that certificate is a key
 * rotation, a later issue).
 */
export function issuePeerCard(identity: NodeIdentity, endpoints: readonly string[], nowMs: number): PeerCard {
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
      validUntilMs: Math.min(nowMs + identity.cardValidityDays * 86_400_000, Date.parse(new X509Certificate(identity.tlsCertificateDer).validTo)),
      issuedAtMs: nowMs,
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

