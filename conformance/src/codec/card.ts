import { createHash } from 'node:crypto';
import { ParticipantKind, PeerCard, PeerCardBody } from '@tracenet/proto';
import { keyId } from './keys.js';
import { domainLabel, ed25519Sign, ed25519Verify } from './primitives.js';

const CARD = domainLabel('tracenet.v1/peer-card');
const STATE = /^[A-Z]{3}$/;
const ORGANISATION = /^org:[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

/** The kind a participant id has by its syntax (protocol 2.1), or undefined when it is none. */
export function participantKindOf(id: string): ParticipantKind | undefined {
  if (STATE.test(id)) return ParticipantKind.PARTICIPANT_KIND_STATE;
  if (ORGANISATION.test(id)) return ParticipantKind.PARTICIPANT_KIND_ORGANISATION;
  return undefined;
}

/** Signs a card body with the signing key it names (protocol 2.3): Ed25519 over D("tracenet.v1/peer-card") || body. */
export function signCard(body: PeerCardBody, signingSecretKey: Uint8Array): PeerCard {
  const bytes = Buffer.from(PeerCardBody.encode(body).finish());
  return { body: bytes, signature: ed25519Sign(Buffer.concat([CARD, bytes]), signingSecretKey) };
}

/** SHA-256 of a certificate's DER bytes: `tls_certificate_sha256` (protocol 2.3). */
export function certificateSha256(der: Uint8Array): Buffer {
  return createHash('sha256').update(der).digest();
}

/** A card that fails protocol 2.3, with the `ErrorDetail` field and rule a node would name. */
export class CardFailure extends Error {
  override readonly name = 'CardFailure';
  constructor(
    readonly field: string,
    readonly rule: string,
    message: string,
  ) {
    super(`${message} (${field}, ${rule})`);
  }
}

/**
 * Verifies a card at `nowMs` with the nine checks of protocol 2.3, in their order; returns the body.
 *
 * @example
 * ```ts
 * const body = verifyCard(target.card, Date.now()); // throws CardFailure('card.key_id', 'key_id', …)
 * ```
 */
export function verifyCard(card: PeerCard, nowMs: number): PeerCardBody {
  let body: PeerCardBody;
  try {
    body = PeerCardBody.decode(card.body);
  } catch {
    throw new CardFailure('card.body', 'protobuf', 'the card body is not a PeerCardBody');
  }
  if (body.version !== 1) throw new CardFailure('card.version', 'version', `version ${body.version}`);
  const kind = participantKindOf(body.participantId);
  if (kind === undefined) throw new CardFailure('card.participant_id', 'participant_id', `${JSON.stringify(body.participantId)} is not a participant id`);
  if (body.kind !== kind) throw new CardFailure('card.kind', 'kind', `kind ${body.kind} does not match ${body.participantId}`);
  if (body.signingPublicKey.length !== 32) throw new CardFailure('card.signing_public_key', 'length', 'the signing key is not 32 bytes');
  if (body.encryptionPublicKey.length !== 32) throw new CardFailure('card.encryption_public_key', 'length', 'the encryption key is not 32 bytes');
  if (body.keyId !== keyId(body.signingPublicKey, body.encryptionPublicKey)) throw new CardFailure('card.key_id', 'key_id', `key id ${body.keyId} is not that of the card's keys`);
  if (body.tlsCertificate.length === 0) throw new CardFailure('card.tls_certificate', 'required', 'no TLS certificate');
  if (!certificateSha256(body.tlsCertificate).equals(Buffer.from(body.tlsCertificateSha256))) throw new CardFailure('card.tls_certificate_sha256', 'fingerprint', 'the fingerprint is not the SHA-256 of the certificate');
  if (body.endpoints.length === 0) throw new CardFailure('card.endpoints', 'required', 'no endpoint');
  body.endpoints.forEach((endpoint, i) => {
    const match = HOST_PORT.exec(endpoint);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65_535) throw new CardFailure(`card.endpoints[${i}]`, 'host_port', `${JSON.stringify(endpoint)} is not host:port`);
  });
  if (!(body.validFromMs <= nowMs && nowMs < body.validUntilMs)) throw new CardFailure('card.valid_until_ms', 'validity', `not valid at ${new Date(nowMs).toISOString()}`);
  if (!ed25519Verify(card.signature, Buffer.concat([CARD, card.body]), body.signingPublicKey)) throw new CardFailure('card.signature', 'signature', 'the card signature does not verify');
  return body;
}

/** Reads the `card` of a card file (protocol 2.6): `{ "format": "tracenet-peer-card/1", "card": "<base64>" }`. */
export function cardOfFile(text: string): PeerCard {
  const file = JSON.parse(text) as { format?: unknown; card?: unknown };
  if (file.format !== 'tracenet-peer-card/1' || typeof file.card !== 'string') throw new Error('not a card file: needs "format": "tracenet-peer-card/1" and a string "card"');
  return PeerCard.decode(Buffer.from(file.card, 'base64'));
}
