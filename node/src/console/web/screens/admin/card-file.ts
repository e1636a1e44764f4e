import { fromBase64, toBase64 } from '../../buffer-shim.js';
import { blake2b } from './blake2b.js';

/**
 * Peer card files (`tracenet peers export`, node/src/identity/peer-card.ts) read in the browser:
 * the same checks as `tracenet peers show` before anything is sent to the node, and the same
 * fingerprints for the telephone check, computed from the signed card, never copied from the
 * file. The node checks the card again when it is pinned (AddPeer).
 */

/** Format tag of an exported card file. */
export const CARD_FILE_FORMAT = 'tracenet-peer-card/1';
/** A card file is about 2 kB; anything larger is not one (and is not read). */
export const CARD_FILE_MAX_BYTES = 64 * 1024;

/** Why a file is not a card to pin: the rule broken and the member or field it concerns. */
export class CardFileError extends Error {
  constructor(
    readonly rule: string,
    readonly field: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

/** What the administrator reads aloud to the participant before pinning, as the CLI prints it. */
export interface CardFingerprints {
  readonly participantId: string;
  readonly kind: 'state' | 'organisation';
  readonly displayName: string;
  readonly endpoints: readonly string[];
  readonly validFromMs: number;
  readonly validUntilMs: number;
  readonly issuedAtMs: number;
  readonly keyId: string;
  readonly tlsFingerprint: string;
  readonly signingPublicKey: string;
  readonly encryptionPublicKey: string;
}

/** A verified card: its two parts (for AddPeer) and its fingerprints. */
export interface ReadCard {
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
  readonly fingerprints: CardFingerprints;
}

type Value = bigint | Uint8Array;

/** The fields of a protobuf message by number (varints and length-delimited only, as cards use). */
function fields(bytes: Uint8Array, field: string): Map<number, Value[]> {
  const out = new Map<number, Value[]>();
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= bytes.length) throw new CardFileError('protobuf', field);
      const byte = bytes[at++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
    throw new CardFileError('protobuf', field);
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const number = key >>> 3;
    let value: Value;
    if ((key & 7) === 0) value = varint();
    else if ((key & 7) === 2) {
      const length = Number(varint());
      if (at + length > bytes.length) throw new CardFileError('protobuf', field);
      value = bytes.subarray(at, at + length);
      at += length;
    } else throw new CardFileError('protobuf', field);
    if (number === 0) throw new CardFileError('protobuf', field);
    out.set(number, [...(out.get(number) ?? []), value]);
  }
  return out;
}

/** Bytes as lower-case hex, as fingerprints are written. */
export const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const text = (bytes: Uint8Array, field: string) => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CardFileError('protobuf', field);
  }
};

/** Hex in groups of four, as it is read aloud: "548f ba50 e9ff d19c" (the CLI's spelling). */
export const grouped = (value: string) => value.replace(/(.{4})(?=.)/g, '$1 ');

/** The last value of a field of the expected wire type. */
function one(map: Map<number, Value[]>, number: number, kind: 'bytes', field: string): Uint8Array;
function one(map: Map<number, Value[]>, number: number, kind: 'varint', field: string): bigint;
function one(map: Map<number, Value[]>, number: number, kind: 'bytes' | 'varint', field: string): Value {
  const values = map.get(number) ?? [];
  const value = values[values.length - 1] ?? (kind === 'bytes' ? new Uint8Array(0) : 0n);
  if ((kind === 'bytes') !== value instanceof Uint8Array) throw new CardFileError('protobuf', field);
  return value;
}

/** An int64 time as a JavaScript number: refused outside ±(2^53 − 1), as the node refuses it. */
function time(value: bigint, field: string): number {
  const signed = value >= 1n << 63n ? value - (1n << 64n) : value;
  if (signed > BigInt(Number.MAX_SAFE_INTEGER) || signed < -BigInt(Number.MAX_SAFE_INTEGER))
    throw new CardFileError('safe_integer', field);
  return Number(signed);
}

/** A copy in a plain ArrayBuffer, as WebCrypto takes it. */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', own(bytes)));
}

async function signatureVerifies(publicKey: Uint8Array, signature: Uint8Array, signed: Uint8Array): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey('raw', own(publicKey), { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, own(signature), own(signed));
  } catch {
    return false;
  }
}

const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;
const PARTICIPANT = /^(?:[A-Z]{3}|org:[A-Za-z0-9][A-Za-z0-9._-]{0,62})$/;
// Control and format characters (Unicode Cc, Cf), line and paragraph separators, unpaired surrogates.
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

/**
 * Reads and verifies the text of a card file at `nowMs`: JSON of format `tracenet-peer-card/1`,
 * the card in strict base64, every readable member equal to what the signed card says, then the
 * card itself (version, participant id and kind, display name, key sizes, key id, TLS
 * fingerprint, endpoints, validity, self-signature). Throws CardFileError naming the rule.
 */
export async function readCardFile(fileText: string, nowMs: number): Promise<ReadCard> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fileText);
  } catch {
    throw new CardFileError('json', 'card');
  }
  const file = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (file.format !== CARD_FILE_FORMAT || typeof file.card !== 'string') throw new CardFileError('format', 'card');
  const base64 = file.card;
  let cardBytes: Uint8Array;
  try {
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(base64)) throw new Error('alphabet');
    cardBytes = fromBase64(base64);
    if (toBase64(cardBytes) !== base64) throw new Error('padding bits');
  } catch {
    throw new CardFileError('base64', 'card');
  }
  const card = fields(cardBytes, 'card');
  const body = one(card, 1, 'bytes', 'card');
  const signature = one(card, 2, 'bytes', 'card');
  const b = fields(body, 'card');
  const kindNumber = Number(one(b, 3, 'varint', 'card'));
  const displayName = text(one(b, 4, 'bytes', 'card'), 'card');
  const endpoints = (b.get(5) ?? []).map((v) => {
    if (!(v instanceof Uint8Array)) throw new CardFileError('protobuf', 'card');
    return text(v, 'card');
  });
  const participantId = text(one(b, 2, 'bytes', 'card'), 'card');
  const signingKey = one(b, 6, 'bytes', 'card');
  const encryptionKey = one(b, 7, 'bytes', 'card');
  const statedKeyId = text(one(b, 8, 'bytes', 'card'), 'card');
  const certificate = one(b, 9, 'bytes', 'card');
  const statedTls = one(b, 10, 'bytes', 'card');
  const validFromMs = time(one(b, 11, 'varint', 'card.valid_from_ms'), 'card.valid_from_ms');
  const validUntilMs = time(one(b, 12, 'varint', 'card.valid_until_ms'), 'card.valid_until_ms');
  const issuedAtMs = time(one(b, 13, 'varint', 'card.issued_at_ms'), 'card.issued_at_ms');
  let validUntil: string;
  try {
    validUntil = new Date(validUntilMs).toISOString();
  } catch {
    throw new CardFileError('safe_integer', 'card.valid_until_ms');
  }
  // What `tracenet peers export` writes next to the card: each must say what the signed card says.
  const signed: Record<string, unknown> = {
    participantId,
    kind: kindNumber === 2 ? 'organisation' : 'state',
    displayName,
    endpoints,
    keyId: statedKeyId,
    tlsFingerprint: hex(statedTls),
    validUntil,
  };
  for (const [member, value] of Object.entries(signed)) {
    if (!(member in file)) throw new CardFileError('required', member);
    if (JSON.stringify(file[member]) !== JSON.stringify(value)) throw new CardFileError('signed_content', member);
  }

  if (Number(one(b, 1, 'varint', 'card.version')) !== 1) throw new CardFileError('version', 'card.version');
  if (!PARTICIPANT.test(participantId)) throw new CardFileError('participant_id', 'card.participant_id');
  if (kindNumber !== (participantId.startsWith('org:') ? 2 : 1)) throw new CardFileError('kind', 'card.kind');
  if (UNSAFE.test(displayName)) throw new CardFileError('control_character', 'card.display_name');
  if (signingKey.length !== 32) throw new CardFileError('length', 'card.signing_public_key');
  if (encryptionKey.length !== 32) throw new CardFileError('length', 'card.encryption_public_key');
  const both = new Uint8Array(64);
  both.set(signingKey);
  both.set(encryptionKey, 32);
  const keyId = hex(blake2b(both, 32).subarray(0, 8));
  if (keyId !== statedKeyId) throw new CardFileError('key_id', 'card.key_id');
  if (certificate.length === 0) throw new CardFileError('required', 'card.tls_certificate');
  const tlsFingerprint = hex(await sha256(certificate));
  if (tlsFingerprint !== hex(statedTls)) throw new CardFileError('fingerprint', 'card.tls_certificate_sha256');
  if (endpoints.length === 0) throw new CardFileError('required', 'card.endpoints');
  for (const [i, endpoint] of endpoints.entries()) {
    const port = Number(ENDPOINT.exec(endpoint)?.[2] ?? 0);
    if (port < 1 || port > 65535) throw new CardFileError('host_port', `card.endpoints[${i}]`);
  }
  if (!(validFromMs <= nowMs && nowMs < validUntilMs)) throw new CardFileError('validity', 'card.valid_until_ms');
  const domain = new TextEncoder().encode('tracenet.v1/peer-card\0');
  const signedBytes = new Uint8Array(domain.length + body.length);
  signedBytes.set(domain);
  signedBytes.set(body, domain.length);
  if (signature.length !== 64 || !(await signatureVerifies(signingKey, signature, signedBytes)))
    throw new CardFileError('signature', 'card.signature');
  return {
    body,
    signature,
    fingerprints: {
      participantId,
      kind: signed.kind as 'state' | 'organisation',
      displayName,
      endpoints,
      validFromMs,
      validUntilMs,
      issuedAtMs,
      keyId,
      tlsFingerprint,
      signingPublicKey: hex(signingKey),
      encryptionPublicKey: hex(encryptionKey),
    },
  };
}

function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** The serialized `{ body, signature }` message (PeerCard or Roster: fields 1 and 2, bytes). */
function signedMessage(body: Uint8Array, signature: Uint8Array): Uint8Array {
  return new Uint8Array([0x0a, ...varint(body.length), ...body, 0x12, ...varint(signature.length), ...signature]);
}

/**
 * The text of the card file of a card given in protobuf JSON (`GetNodeInfo`), as `tracenet peers
 * export` writes it: the readable members and the signed card in base64.
 */
export function cardFileText(card: { body: string; signature: string }): string {
  const body = fromBase64(card.body);
  const b = fields(body, 'card');
  const bytes = (n: number) => one(b, n, 'bytes', 'card');
  const file = {
    format: CARD_FILE_FORMAT,
    participantId: text(bytes(2), 'card'),
    kind: Number(one(b, 3, 'varint', 'card')) === 2 ? 'organisation' : 'state',
    displayName: text(bytes(4), 'card'),
    endpoints: (b.get(5) ?? []).map((v) => text(v as Uint8Array, 'card')),
    keyId: text(bytes(8), 'card'),
    tlsFingerprint: hex(bytes(10)),
    validUntil: new Date(time(one(b, 12, 'varint', 'card'), 'card')).toISOString(),
    card: toBase64(signedMessage(body, fromBase64(card.signature))),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Format tag of a roster file (`tracenet roster load`). */
export const ROSTER_FILE_FORMAT = 'tracenet-roster/1';

/** The signed roster of a roster file, for LoadRoster (the node verifies it with the operator key). */
export function readRosterFile(fileText: string): { body: Uint8Array; signature: Uint8Array } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fileText);
  } catch {
    throw new CardFileError('json', 'roster');
  }
  const file = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (file.format !== ROSTER_FILE_FORMAT || typeof file.roster !== 'string')
    throw new CardFileError('rosterFormat', 'roster');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(file.roster);
    if (toBase64(bytes) !== file.roster) throw new Error('not canonical');
  } catch {
    throw new CardFileError('base64', 'roster');
  }
  const roster = fields(bytes, 'roster');
  return { body: one(roster, 1, 'bytes', 'roster'), signature: one(roster, 2, 'bytes', 'roster') };
}
