import { X509Certificate } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ErrorCode, ParticipantKind, PeerCard, PeerCardBody, TracenetError } from '@tracenet/proto';
import { domain, sodium, toBuffer } from '../crypto/sodium.js';
import { decodeWithSafeIntegers } from '../envelope/safe-integers.js';
import { participantKindOf } from './participant-id.js';
import { keyIdOf } from '../crypto/key-pairs.js';
import { certificateFingerprint } from './tls.js';
import { strictBase64 } from '../util/base64.js';
import { unsafeCharacter } from '../util/unsafe-text.js';
import { verifyRecordsProfile } from './records-profile.js';

const CARD_DOMAIN = domain('tracenet.v1/peer-card');

/** Format tag of an exported card file. */
export const CARD_FILE_FORMAT = 'tracenet-peer-card/1';

/** Signs a card body with the signing key it names. */
export function signPeerCard(body: PeerCardBody, signingSecretKey: Uint8Array): PeerCard {
  const bodyBytes = Buffer.from(PeerCardBody.encode(body).finish());
  const signature = sodium().crypto_sign_detached(Buffer.concat([CARD_DOMAIN, bodyBytes]), signingSecretKey);
  return { body: bodyBytes, signature: toBuffer(signature) };
}

function invalid(message: string, field: string, rule: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, message, { field, rule });
}

/**
 * Decodes a card body: INVALID_PEER_CARD naming a time outside ±(2^53 − 1) (rule `safe_integer`),
 * or `card.body` (rule `protobuf`) for any other decoding failure.
 */
function decodeCardBody(bytes: Uint8Array): PeerCardBody {
  return decodeWithSafeIntegers(
    PeerCardBody,
    bytes,
    'PeerCardBody',
    'card.body',
    { 11: 'card.valid_from_ms', 12: 'card.valid_until_ms', 13: 'card.issued_at_ms' },
    {
      code: ErrorCode.ERROR_CODE_INVALID_PEER_CARD,
    },
  );
}

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

/**
 * Verifies a card completely and returns its body: structure, participant id and kind, display
 * name without control or format characters, key sizes, key id, TLS fingerprint, endpoints,
 * records profile (17.2), validity at `nowMs`, and the self-signature. Throws INVALID_PEER_CARD naming the field and rule.
 */
export function verifyPeerCard(card: PeerCard, nowMs: number): PeerCardBody {
  const body = decodeCardBody(card.body);
  if (body.version !== 1) throw invalid(`card version ${body.version} is not supported`, 'card.version', 'version');
  const kind = participantKindOf(body.participantId);
  if (kind === undefined) throw invalid('participant id is not valid', 'card.participant_id', 'participant_id');
  if (kind !== body.kind) throw invalid('kind does not match the participant id', 'card.kind', 'kind');
  // Endpoints and ids are held to their syntax below; the display name is the card's one free text.
  const unsafe = unsafeCharacter(body.displayName);
  if (unsafe)
    throw invalid(
      `display name contains ${unsafe}, a control or format character (docs/protocol.md 2.3)`,
      'card.display_name',
      'control_character',
    );
  const s = sodium();
  if (body.signingPublicKey.length !== s.crypto_sign_PUBLICKEYBYTES) {
    throw invalid('signing key must be 32 bytes', 'card.signing_public_key', 'length');
  }
  if (body.encryptionPublicKey.length !== s.crypto_box_PUBLICKEYBYTES) {
    throw invalid('encryption key must be 32 bytes', 'card.encryption_public_key', 'length');
  }
  if (body.keyId !== keyIdOf(body.signingPublicKey, body.encryptionPublicKey)) {
    throw invalid('key id does not match the keys', 'card.key_id', 'key_id');
  }
  if (body.tlsCertificate.length === 0) throw invalid('TLS certificate is missing', 'card.tls_certificate', 'required');
  // Parsed so that a broken certificate is refused now, not on every connection for weeks; its
  // dates are checked by TLS when connecting.
  try {
    new X509Certificate(body.tlsCertificate);
  } catch {
    throw invalid('TLS certificate is not a DER X.509 certificate', 'card.tls_certificate', 'x509');
  }
  if (!certificateFingerprint(body.tlsCertificate).equals(body.tlsCertificateSha256)) {
    throw invalid('TLS fingerprint does not match the certificate', 'card.tls_certificate_sha256', 'fingerprint');
  }
  if (body.endpoints.length === 0) throw invalid('at least one endpoint is required', 'card.endpoints', 'required');
  for (const [i, endpoint] of body.endpoints.entries()) {
    const port = Number(ENDPOINT.exec(endpoint)?.[2] ?? 0);
    if (port < 1 || port > 65535)
      throw invalid(`endpoint "${endpoint}" is not host:port`, `card.endpoints[${i}]`, 'host_port');
  }
  if (body.recordsProfile) verifyRecordsProfile(body.recordsProfile, body.issuedAtMs);
  if (!(body.validFromMs <= nowMs && nowMs < body.validUntilMs)) {
    throw invalid('card is outside its validity period', 'card.valid_until_ms', 'validity');
  }
  const signed = Buffer.concat([CARD_DOMAIN, card.body]);
  if (
    card.signature.length !== s.crypto_sign_BYTES ||
    !s.crypto_sign_verify_detached(card.signature, signed, body.signingPublicKey)
  ) {
    throw invalid('card signature does not verify', 'card.signature', 'signature');
  }
  return body;
}

/** The readable, exportable form of a card (`tracenet peers export`). Only `card` is authoritative. */
export interface PeerCardFile {
  readonly format: typeof CARD_FILE_FORMAT;
  readonly participantId: string;
  readonly kind: 'state' | 'organisation';
  readonly displayName: string;
  readonly endpoints: readonly string[];
  readonly keyId: string;
  readonly tlsFingerprint: string;
  readonly validUntil: string;
  /** Base64 of the serialized PeerCard. */
  readonly card: string;
}

/** Renders a card as an exportable JSON document. */
export function toPeerCardFile(card: PeerCard): PeerCardFile {
  const body = decodeCardBody(card.body);
  return {
    format: CARD_FILE_FORMAT,
    participantId: body.participantId,
    kind: body.kind === ParticipantKind.PARTICIPANT_KIND_ORGANISATION ? 'organisation' : 'state',
    displayName: body.displayName,
    endpoints: body.endpoints,
    keyId: body.keyId,
    tlsFingerprint: body.tlsCertificateSha256.toString('hex'),
    validUntil: new Date(body.validUntilMs).toISOString(),
    card: Buffer.from(PeerCard.encode(card).finish()).toString('base64'),
  };
}

/** The members of a card file that people read; each must say what the signed card says (2.6). */
const READABLE_MEMBERS = [
  'participantId',
  'kind',
  'displayName',
  'endpoints',
  'keyId',
  'tlsFingerprint',
  'validUntil',
] as const;

/**
 * Reads the signed card out of an exported card file's text. The card itself is not verified
 * yet (that is {@link verifyPeerCard}), but the file is refused unless `card` is standard base64
 * with padding and every readable member equals what the signed card says: an operator who checks
 * `keyId` and `tlsFingerprint` by telephone checks the keys that will be pinned (docs/protocol.md
 * 2.6). Throws INVALID_PEER_CARD naming the member.
 */
export function parsePeerCardFile(text: string): PeerCard {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, 'card file is not JSON', {
      field: 'card',
      rule: 'json',
      cause,
    });
  }
  const file = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (file.format !== CARD_FILE_FORMAT || typeof file.card !== 'string') {
    throw invalid(`card file must have format "${CARD_FILE_FORMAT}" and a card`, 'card', 'format');
  }
  const bytes = strictBase64(file.card);
  if (!bytes) throw invalid('card must be standard base64 with padding (RFC 4648 section 4)', 'card', 'base64');
  let card: PeerCard;
  let signed: PeerCardFile;
  try {
    card = PeerCard.decode(bytes);
    signed = toPeerCardFile(card);
  } catch (cause) {
    // A time outside ±(2^53 − 1) is named; any other decoding failure, of the card or its body, is the card's.
    if (cause instanceof TracenetError && cause.rule === 'safe_integer') throw cause;
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, 'card is not a PeerCard', {
      field: 'card',
      rule: 'protobuf',
      cause,
    });
  }
  for (const member of READABLE_MEMBERS) {
    if (!(member in file)) throw invalid(`the card file has no ${member}`, member, 'required');
    if (!isDeepStrictEqual(file[member], signed[member])) {
      throw invalid(
        `the card file says ${member} ${JSON.stringify(file[member])}, but its signed card says ${JSON.stringify(signed[member])}: the file was altered; do not pin it, ask the participant for its card again`,
        member,
        'signed_content',
      );
    }
  }
  return card;
}
