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
  return signCardBytes(PeerCardBody.encode(body).finish(), signingSecretKey);
}

/** A card whose body is `body` as given (any valid encoding, unknown fields included), self-signed (protocol 2.3). */
export function signCardBytes(body: Uint8Array, signingSecretKey: Uint8Array): PeerCard {
  const bytes = Buffer.from(body);
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

/** Characters a card's display name must not hold (protocol 2.3): categories Cc, Cf, Zl and Zp, but for U+200C and U+200D. */
const REFUSED_IN_TEXT = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** The first character of `text` that protocol 2.3 refuses in a display name, as `U+XXXX at character n`, or undefined. */
export function refusedCharacter(text: string): string | undefined {
  let at = 0;
  for (const c of text) {
    at += 1;
    if (c !== '\u200c' && c !== '\u200d' && REFUSED_IN_TEXT.test(c))
      return `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')} at character ${at}`;
  }
  return undefined;
}

/**
 * Verifies a card at `nowMs` with the ten checks of protocol 2.3, in their order; returns the body.
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
  if (kind === undefined)
    throw new CardFailure(
      'card.participant_id',
      'participant_id',
      `${JSON.stringify(body.participantId)} is not a participant id`,
    );
  if (body.kind !== kind)
    throw new CardFailure('card.kind', 'kind', `kind ${body.kind} does not match ${body.participantId}`);
  const refused = refusedCharacter(body.displayName);
  if (refused) throw new CardFailure('card.display_name', 'control_character', `the display name holds ${refused}`);
  if (body.signingPublicKey.length !== 32)
    throw new CardFailure('card.signing_public_key', 'length', 'the signing key is not 32 bytes');
  if (body.encryptionPublicKey.length !== 32)
    throw new CardFailure('card.encryption_public_key', 'length', 'the encryption key is not 32 bytes');
  if (body.keyId !== keyId(body.signingPublicKey, body.encryptionPublicKey))
    throw new CardFailure('card.key_id', 'key_id', `key id ${body.keyId} is not that of the card's keys`);
  if (body.tlsCertificate.length === 0) throw new CardFailure('card.tls_certificate', 'required', 'no TLS certificate');
  if (!certificateSha256(body.tlsCertificate).equals(Buffer.from(body.tlsCertificateSha256)))
    throw new CardFailure(
      'card.tls_certificate_sha256',
      'fingerprint',
      'the fingerprint is not the SHA-256 of the certificate',
    );
  if (body.endpoints.length === 0) throw new CardFailure('card.endpoints', 'required', 'no endpoint');
  body.endpoints.forEach((endpoint, i) => {
    const match = HOST_PORT.exec(endpoint);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65_535)
      throw new CardFailure(`card.endpoints[${i}]`, 'host_port', `${JSON.stringify(endpoint)} is not host:port`);
  });
  if (!(body.validFromMs <= nowMs && nowMs < body.validUntilMs))
    throw new CardFailure('card.valid_until_ms', 'validity', `not valid at ${new Date(nowMs).toISOString()}`);
  if (!ed25519Verify(card.signature, Buffer.concat([CARD, card.body]), body.signingPublicKey))
    throw new CardFailure('card.signature', 'signature', 'the card signature does not verify');
  return body;
}

/** The readable members of a card file and how each is written from the signed card (protocol 2.6), in the order a reader compares them. */
const READABLE: ReadonlyArray<readonly [string, (body: PeerCardBody) => unknown]> = [
  ['participantId', (b) => b.participantId],
  [
    'kind',
    (b) =>
      b.kind === ParticipantKind.PARTICIPANT_KIND_STATE
        ? 'state'
        : b.kind === ParticipantKind.PARTICIPANT_KIND_ORGANISATION
          ? 'organisation'
          : String(b.kind),
  ],
  ['displayName', (b) => b.displayName],
  ['endpoints', (b) => b.endpoints],
  ['keyId', (b) => b.keyId],
  ['tlsFingerprint', (b) => Buffer.from(b.tlsCertificateSha256).toString('hex')],
  ['validUntil', (b) => new Date(b.validUntilMs).toISOString()],
];

/**
 * Reads the card of a card file (protocol 2.6) as a reader must, refusing in this order with a
 * {@link CardFailure}: not a JSON object with `format` `tracenet-peer-card/1` and a string `card`
 * (`card`, `json` / `format`); `card` not standard base64 with padding exactly (`card`, `base64`) or
 * not a `PeerCard` whose body decodes (`card`, `protobuf`); a readable member missing (the member,
 * `required`) or other than the signed card says (the member, `signed_content`). The card itself
 * is then verified by the caller (2.3, {@link verifyCard}).
 *
 * @example
 * ```ts
 * const card = cardOfFile(await readFile('bel.card.json', 'utf8'));
 * ```
 */
export function cardOfFile(text: string): PeerCard {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch {
    throw new CardFailure('card', 'json', 'the card file is not JSON');
  }
  if (typeof file !== 'object' || file === null || Array.isArray(file))
    throw new CardFailure('card', 'json', 'the card file is not a JSON object');
  const members = file as Record<string, unknown>;
  if (members.format !== 'tracenet-peer-card/1' || typeof members.card !== 'string')
    throw new CardFailure('card', 'format', 'a card file has "format": "tracenet-peer-card/1" and a string "card"');
  const bytes = Buffer.from(members.card, 'base64');
  if (members.card === '' || bytes.toString('base64') !== members.card)
    throw new CardFailure('card', 'base64', '"card" is not standard base64 with padding, without white space');
  let card: PeerCard;
  let body: PeerCardBody;
  try {
    card = PeerCard.decode(bytes);
    body = PeerCardBody.decode(card.body);
  } catch {
    throw new CardFailure('card', 'protobuf', '"card" is not a PeerCard with a PeerCardBody');
  }
  for (const [member, value] of READABLE) {
    if (!(member in members)) throw new CardFailure(member, 'required', `the card file has no "${member}"`);
    if (JSON.stringify(members[member]) !== JSON.stringify(value(body)))
      throw new CardFailure(member, 'signed_content', `"${member}" is not what the signed card says`);
  }
  return card;
}
