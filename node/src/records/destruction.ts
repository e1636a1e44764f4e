import {
  DestructionCertificate,
  DestructionCertificateBody,
  type RecirculationFinding,
  type VerifyDestructionCertificateResponse,
  type WeaponEvent,
  type WeaponRecord,
} from '@tracenet/proto';
import { domain, randomBytes, sodium, toBuffer } from '../crypto/sodium.js';
import { CERTIFICATE_ID } from './ddr-rules.js';

/**
 * Destruction certificates (docs/protocol.md 19.3): a node's signed statement that it destroyed a
 * weapon, which any node that knows the issuer's signing key verifies — its own, or a pinned
 * peer's. The signature is Ed25519 over `"tracenet.v1/destruction-certificate" || 0x00 || body`,
 * body being the serialized DestructionCertificateBody as carried (never re-serialized).
 */

/** The signature domain of a destruction certificate. */
export const CERTIFICATE_DOMAIN = domain('tracenet.v1/destruction-certificate');
/** Format tag of a certificate file (`tracenet records certificate --out`). */
export const CERTIFICATE_FILE_FORMAT = 'tracenet-destruction-certificate/1';
/** A certificate body larger than this is refused unread (50 witnesses of 200 characters fit in 16 KiB). */
export const MAX_CERTIFICATE_BODY_BYTES = 64 * 1024;

/** Makes the certificate of a destruction: RecordStore.recordDestruction calls it inside its lock. */
export type DestructionSigner = (
  record: WeaponRecord,
  destruction: { destroyedDate: string; method: string; witnesses: readonly string[] },
  nowMs: number,
) => { certificate: DestructionCertificate; certificateId: string };

/** The signer of this node: its participant id, current key id and signing key. */
export function destructionSigner(identity: {
  readonly participantId: string;
  readonly keyId: string;
  readonly keys: { readonly signingSecretKey: Uint8Array };
}): DestructionSigner {
  return (record, destruction, nowMs) => {
    const certificateId = `dc_${randomBytes(16).toString('base64url')}`;
    const body: DestructionCertificateBody = {
      version: 1,
      certificateId,
      issuer: identity.participantId,
      issuerKeyId: identity.keyId,
      marking: record.manufacture,
      controlComponentSerial: record.controlComponent?.serialNumber ?? '',
      uniqueMark: record.collection?.uniqueMark ?? '',
      programme: record.collection?.programme ?? '',
      itemCategory: record.itemCategory,
      destroyedDate: destruction.destroyedDate,
      method: destruction.method,
      witnesses: [...destruction.witnesses],
      issuedAtMs: nowMs,
    };
    return { certificate: signCertificate(body, identity.keys.signingSecretKey), certificateId };
  };
}

/** Signs a certificate body (19.3). */
export function signCertificate(
  body: DestructionCertificateBody,
  signingSecretKey: Uint8Array,
): DestructionCertificate {
  const bytes = Buffer.from(DestructionCertificateBody.encode(body).finish());
  const signature = sodium().crypto_sign_detached(Buffer.concat([CERTIFICATE_DOMAIN, bytes]), signingSecretKey);
  return { body: bytes, signature: toBuffer(signature) };
}

/** Where a verifier finds the issuer's signing keys. */
export interface CertificateKeys {
  /** This node's participant id. */
  readonly selfId: string;
  /** This node's signing key of a key id it has had, current or retired. */
  ownKey(keyId: string): Uint8Array | undefined;
  /**
   * A pinned peer's signing key of `keyId`: its pinned card's, or a previous card's still kept.
   * `unknown_issuer` when the peer is not pinned, `revoked_key` when it revoked the key,
   * `unknown_key` for any other key id.
   */
  peerKey(participantId: string, keyId: string): Uint8Array | 'unknown_issuer' | 'revoked_key' | 'unknown_key';
}

const refuse = (
  field: string,
  rule: string,
  body?: DestructionCertificateBody,
): VerifyDestructionCertificateResponse => ({
  valid: false,
  body,
  field,
  rule,
});

/**
 * Verifies a certificate (docs/protocol.md 19.3, in this order): body size and signature length,
 * the body decodes, version 1, certificate id syntax, the issuer is this node or a pinned peer,
 * its key id names a key of the issuer, the signature. The first failure gives `valid: false`
 * with its field and rule; nothing is thrown for a bad certificate.
 *
 * @example
 * ```ts
 * verifyCertificate(certificate, keys); // { valid: true, body: { issuer: 'BEL', … }, field: '', rule: '' }
 * ```
 */
export function verifyCertificate(
  certificate: DestructionCertificate,
  keys: CertificateKeys,
): VerifyDestructionCertificateResponse {
  if (certificate.body.length === 0) return refuse('certificate.body', 'required');
  if (certificate.body.length > MAX_CERTIFICATE_BODY_BYTES) return refuse('certificate.body', 'max_size');
  if (certificate.signature.length !== 64) return refuse('certificate.signature', 'length');
  let body: DestructionCertificateBody;
  try {
    body = DestructionCertificateBody.decode(certificate.body);
  } catch {
    return refuse('certificate.body', 'protobuf');
  }
  if (!Number.isSafeInteger(body.issuedAtMs)) return refuse('certificate.issued_at_ms', 'safe_integer');
  if (body.version !== 1) return refuse('certificate.version', 'version', body);
  if (!CERTIFICATE_ID.test(body.certificateId)) return refuse('certificate.certificate_id', 'certificate_id', body);
  let key: Uint8Array | undefined;
  if (body.issuer === keys.selfId) {
    key = keys.ownKey(body.issuerKeyId);
    if (!key) return refuse('certificate.issuer_key_id', 'unknown_key', body);
  } else {
    const found = keys.peerKey(body.issuer, body.issuerKeyId);
    if (found === 'unknown_issuer') return refuse('certificate.issuer', 'unknown_issuer', body);
    if (found === 'revoked_key' || found === 'unknown_key') return refuse('certificate.issuer_key_id', found, body);
    key = found;
  }
  const signed = Buffer.concat([CERTIFICATE_DOMAIN, certificate.body]);
  if (!sodium().crypto_sign_verify_detached(certificate.signature, signed, key))
    return refuse('certificate.signature', 'signature', body);
  return { valid: true, body, field: '', rule: '' };
}

/**
 * The file a certificate travels in: JSON `{ "format": "tracenet-destruction-certificate/1",
 * "body": base64, "signature": base64 }` (19.3), with the issuer and id repeated for a reader,
 * not verified.
 */
export function certificateFile(certificate: DestructionCertificate): string {
  let body: DestructionCertificateBody | undefined;
  try {
    body = DestructionCertificateBody.decode(certificate.body);
  } catch {
    body = undefined;
  }
  return `${JSON.stringify(
    {
      format: CERTIFICATE_FILE_FORMAT,
      issuer: body?.issuer ?? '',
      certificateId: body?.certificateId ?? '',
      body: Buffer.from(certificate.body).toString('base64'),
      signature: Buffer.from(certificate.signature).toString('base64'),
    },
    null,
    2,
  )}\n`;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Reads a certificate file ({@link certificateFile}); a message naming what is wrong otherwise. */
export function readCertificateFile(text: string): DestructionCertificate | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'the file is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'the file is not a JSON object';
  const { format, body, signature } = parsed as Record<string, unknown>;
  if (format !== CERTIFICATE_FILE_FORMAT) return `the file's format is not ${CERTIFICATE_FILE_FORMAT}`;
  if (typeof body !== 'string' || !BASE64.test(body)) return 'body is not base64';
  if (typeof signature !== 'string' || !BASE64.test(signature)) return 'signature is not base64';
  return DestructionCertificate.fromPartial({
    body: Buffer.from(body, 'base64'),
    signature: Buffer.from(signature, 'base64'),
  });
}

/** The finding of a destroyed record of this node that a new version shows seized, found or surrendered (19.5). */
export function recirculationOfRecord(record: WeaponRecord, event: WeaponEvent, nowMs: number): RecirculationFinding {
  return {
    destroyedBy: '',
    destroyedDate: record.destruction?.destroyedDate ?? '',
    certificateId: record.destruction?.certificateId ?? '',
    seenIn: 'record',
    seenDate: event.date,
    seenBy: '',
    recordId: record.recordId,
    flaggedAtMs: nowMs,
  };
}
