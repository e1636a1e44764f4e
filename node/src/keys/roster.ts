import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCode, type PeerCardBody, Roster, RosterBody, type RosterSummary, TracenetError } from '@tracenet/proto';
import type { AuditEvent, Journal } from '../audit/audit-log.js';
import { rosterKeyBytes, type NodeConfig } from '../config/config.js';
import { blake2b256, domain, sodium, toBuffer } from '../crypto/sodium.js';
import { decodeWithSafeIntegers } from '../envelope/safe-integers.js';
import { isParticipantId } from '../identity/participant-id.js';
import type { Store } from '../store/store.js';
import { strictBase64 } from '../util/base64.js';
import type { Clock } from '../util/clock.js';
import { unsafeCharacter } from '../util/unsafe-text.js';
import { keyAuditEvent } from './key-audit.js';

const ROSTER_DOMAIN = domain('tracenet.v1/roster');
/** Format tag of a roster file (`tracenet roster load <file>`). */
export const ROSTER_FILE_FORMAT = 'tracenet-roster/1';

/** Where a roster stands at some instant (docs/protocol.md 15.5). */
export type RosterState = 'none' | 'valid' | 'expired' | 'lapsed';

/**
 * The operator's public key from `federation.rosterKey` or `federation.rosterKeyFile` (relative to
 * the data directory), if any. A roster key needs `federation.name`: a roster is checked against it.
 */
export async function readRosterKey(dataDir: string, config: NodeConfig): Promise<Buffer | undefined> {
  const { rosterKey, rosterKeyFile } = config.federation;
  const text =
    rosterKey !== '' ? rosterKey : rosterKeyFile !== '' ? await readFile(join(dataDir, rosterKeyFile), 'utf8') : '';
  if (text === '') return undefined;
  const key = rosterKeyBytes(text);
  if (!key)
    throw invalid(
      'the roster key must be an Ed25519 public key (64 hex or 44 base64 characters)',
      rosterKey !== '' ? 'federation.rosterKey' : 'federation.rosterKeyFile',
      'config',
    );
  if (config.federation.name === '') {
    throw invalid(
      'a roster key needs the name of the federation whose rosters it signs: set federation.name as well (docs/protocol.md 15.4)',
      'federation.name',
      'config',
    );
  }
  return key;
}

/** Signs a roster body with the federation operator's Ed25519 secret key. */
export function signRoster(body: RosterBody, operatorSecretKey: Uint8Array): Roster {
  const bytes = Buffer.from(RosterBody.encode(body).finish());
  return {
    body: bytes,
    signature: toBuffer(sodium().crypto_sign_detached(Buffer.concat([ROSTER_DOMAIN, bytes]), operatorSecretKey)),
  };
}

/** BLAKE2b-256 of the two public keys: what a roster binds a key id to (its first 8 bytes are the key id). */
export function keysDigest(signingPublicKey: Uint8Array, encryptionPublicKey: Uint8Array): Buffer {
  return blake2b256(signingPublicKey, encryptionPublicKey);
}

function invalid(message: string, field: string, rule: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, message, { field, rule });
}

/**
 * Verifies a roster of `federation` with the operator's public key and returns its body
 * (docs/protocol.md 15.4). Throws INVALID_FIELD naming the field and rule.
 */
export function verifyRoster(
  roster: Roster,
  operatorPublicKey: Uint8Array,
  nowMs: number,
  federation: string,
): RosterBody {
  const s = sodium();
  if (
    roster.signature.length !== s.crypto_sign_BYTES ||
    !s.crypto_sign_verify_detached(roster.signature, Buffer.concat([ROSTER_DOMAIN, roster.body]), operatorPublicKey)
  ) {
    throw invalid(
      'roster signature does not verify with the operator key (federation.rosterKey)',
      'roster.signature',
      'roster_signature',
    );
  }
  const body = decodeWithSafeIntegers(
    RosterBody,
    roster.body,
    'RosterBody',
    'roster.body',
    { 4: 'roster.issued_at_ms', 5: 'roster.expires_at_ms' },
    {
      uint64Fields: { 3: 'roster.serial' },
    },
  );
  if (body.version !== 1) throw invalid(`roster version ${body.version} is not supported`, 'roster.version', 'version');
  const unsafe = unsafeCharacter(body.federation);
  if (unsafe)
    throw invalid(
      `the roster's federation name contains ${unsafe}, a control or format character`,
      'roster.federation',
      'control_character',
    );
  if (body.federation !== federation) {
    throw invalid(
      `the roster is of federation "${body.federation}", not of this node's federation "${federation}" (federation.name)`,
      'roster.federation',
      'roster_federation',
    );
  }
  if (body.expiresAtMs <= nowMs) throw invalid('roster has expired', 'roster.expires_at_ms', 'roster_expiry');
  const seen = new Set<string>();
  for (const [i, member] of body.members.entries()) {
    if (!isParticipantId(member.participantId))
      throw invalid('not a participant id', `roster.members[${i}].participant_id`, 'participant_id');
    if (seen.has(member.participantId))
      throw invalid(`${member.participantId} is listed twice`, `roster.members[${i}].participant_id`, 'unique_member');
    seen.add(member.participantId);
    for (const [j, key] of member.keys.entries()) {
      if (key.keysDigest.length !== 32 || key.keysDigest.subarray(0, 8).toString('hex') !== key.keyId) {
        throw invalid('key id is not the first 8 bytes of keys_digest', `roster.members[${i}].keys[${j}]`, 'key_id');
      }
    }
    for (const [j, keyId] of member.revokedKeyIds.entries()) {
      if (!/^[0-9a-f]{16}$/.test(keyId))
        throw invalid(
          'not a key id (16 lowercase hex characters)',
          `roster.members[${i}].revoked_key_ids[${j}]`,
          'key_id',
        );
    }
  }
  return body;
}

/** Reads the signed roster out of a roster file's text (not yet verified). */
export function parseRosterFile(text: string): Roster {
  let file: { format?: unknown; roster?: unknown };
  try {
    file = JSON.parse(text) as typeof file;
  } catch (cause) {
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'roster file is not JSON', {
      field: 'roster',
      rule: 'json',
      cause,
    });
  }
  if (file.format !== ROSTER_FILE_FORMAT || typeof file.roster !== 'string') {
    throw invalid(`roster file must have format "${ROSTER_FILE_FORMAT}" and a roster`, 'roster', 'format');
  }
  const bytes = strictBase64(file.roster);
  if (!bytes) throw invalid('roster must be standard base64 with padding (RFC 4648 section 4)', 'roster', 'base64');
  try {
    return Roster.decode(bytes);
  } catch (cause) {
    throw new TracenetError(ErrorCode.ERROR_CODE_MALFORMED, 'roster is not a Roster', {
      field: 'roster',
      rule: 'protobuf',
      cause,
    });
  }
}

/** Renders a signed roster as a roster file. */
export function toRosterFile(roster: Roster): string {
  return `${JSON.stringify({ format: ROSTER_FILE_FORMAT, roster: Buffer.from(Roster.encode(roster).finish()).toString('base64') }, null, 2)}\n`;
}

/**
 * The federation roster as this node enforces it (docs/protocol.md 15.4–15.5). Without an
 * operator key (`federation.rosterKey`) it does nothing and every check passes: the roster is
 * optional. With one, only what the installed roster vouches for can be pinned; keys it revokes
 * are refused; once it expires, nothing new is pinned, and after `graceMs` more every peer is
 * refused until a newer roster is loaded.
 */
export class RosterGuard {
  #body: RosterBody | undefined;
  #raw: Roster | undefined;
  #alerted: RosterState = 'none';
  readonly #afterInstall: Array<(nowMs: number) => Promise<unknown>> = [];
  readonly #logger: Logger;

  constructor(
    private readonly deps: {
      store: Store;
      journal: Journal;
      clock: Clock;
      logger: Logger;
      /** The operator's Ed25519 public key; undefined: no roster. */
      operatorKey: Buffer | undefined;
      /** How long peers keep working after the roster expired. */
      graceMs: number;
      /** This node's federation (`federation.name`): only its rosters are installed. */
      federation: string;
    },
  ) {
    this.#logger = deps.logger.child({ component: 'roster' });
  }

  /** Whether an operator key is configured. */
  get configured(): boolean {
    return this.deps.operatorKey !== undefined;
  }

  /** Loads the installed roster from the store (verified again; a bad one is dropped with an error log). */
  async load(): Promise<void> {
    if (!this.deps.operatorKey) return;
    const stored = await this.deps.store.meta.roster.get();
    if (!stored?.roster) return;
    const roster = Roster.decode(Buffer.from(stored.roster, 'base64'));
    try {
      // Verified with an instant before its expiry: an expired roster is still the roster in force.
      const body = RosterBody.decode(roster.body);
      verifyRoster(roster, this.deps.operatorKey, body.expiresAtMs - 1, this.deps.federation);
      this.#body = body;
      this.#raw = roster;
    } catch (error) {
      this.#logger.error(
        { err: error },
        'the stored roster does not verify with federation.rosterKey and federation.name; no roster is in force',
      );
    }
    this.check();
  }

  /** Verifies and installs a roster; refuses one that is not newer than the installed one. */
  async install(roster: Roster): Promise<RosterSummary> {
    if (!this.deps.operatorKey) {
      throw invalid(
        'this node has no roster key; set federation.rosterKey (or federation.rosterKeyFile) first',
        'federation.rosterKey',
        'roster_key',
      );
    }
    const now = this.deps.clock.now();
    const body = verifyRoster(roster, this.deps.operatorKey, now, this.deps.federation);
    if (this.#body && body.serial <= this.#body.serial) {
      throw invalid(
        `roster serial ${body.serial} is not newer than the installed ${this.#body.serial}`,
        'roster.serial',
        'roster_serial',
      );
    }
    const revoked = body.members.reduce((n, m) => n + m.revokedKeyIds.length, 0);
    const audit: AuditEvent = keyAuditEvent('roster.loaded', {
      federation: body.federation,
      serial: body.serial,
      issuedAtMs: body.issuedAtMs,
      expiresAtMs: body.expiresAtMs,
      members: body.members.length,
      revoked,
    });
    await this.deps.journal.write(
      [
        this.deps.store.meta.roster.put({
          roster: Buffer.from(Roster.encode(roster).finish()).toString('base64'),
          loadedAtMs: now,
        }),
      ],
      [audit],
    );
    this.#body = body;
    this.#raw = roster;
    this.#alerted = 'valid';
    this.#logger.info({ serial: body.serial, members: body.members.length, revoked }, 'roster loaded');
    for (const hook of this.#afterInstall) await hook(now);
    return this.summary() as RosterSummary;
  }

  /** The state at `nowMs`. */
  state(nowMs = this.deps.clock.now()): RosterState {
    if (!this.#body) return 'none';
    if (nowMs < this.#body.expiresAtMs) return 'valid';
    return nowMs < this.#body.expiresAtMs + this.deps.graceMs ? 'expired' : 'lapsed';
  }

  /** Logs an alert when the roster has expired or its grace has ended (once per change). Returns the state. */
  check(nowMs = this.deps.clock.now()): RosterState {
    const state = this.state(nowMs);
    if (state !== this.#alerted && (state === 'expired' || state === 'lapsed') && this.#body) {
      const graceUntil = new Date(this.#body.expiresAtMs + this.deps.graceMs).toISOString();
      if (state === 'expired') {
        this.#logger.error(
          { alert: 'roster_expired', serial: this.#body.serial, graceUntil },
          `ALERT: the federation roster expired; no peer can be pinned, and pinned peers are refused from ${graceUntil} unless a newer roster is loaded`,
        );
      } else {
        this.#logger.error(
          { alert: 'roster_lapsed', serial: this.#body.serial },
          'ALERT: the federation roster expired and its grace has ended; every peer is refused until a newer roster is loaded',
        );
      }
    }
    this.#alerted = state;
    return state;
  }

  /** A readable view, or undefined without a roster. */
  summary(nowMs = this.deps.clock.now()): RosterSummary | undefined {
    const body = this.#body;
    if (!body) return undefined;
    return {
      federation: body.federation,
      serial: body.serial,
      issuedAtMs: body.issuedAtMs,
      expiresAtMs: body.expiresAtMs,
      members: body.members.map((m) => m.participantId).sort(),
      revoked: body.members.flatMap((m) => m.revokedKeyIds.map((k) => `${m.participantId}:${k}`)),
      state: this.state(nowMs),
      graceUntilMs: body.expiresAtMs + this.deps.graceMs,
    };
  }

  /** The signed roster in force, to pass on. */
  get roster(): Roster | undefined {
    return this.#raw;
  }

  /** Runs `hook` after each roster is installed (the pins apply rotations the new roster lists). */
  afterInstall(hook: (nowMs: number) => Promise<unknown>): void {
    this.#afterInstall.push(hook);
  }

  /** Whether the installed roster lists the keys of `body` (key id and digest) for its participant; true without a roster key. */
  lists(body: PeerCardBody): boolean {
    if (!this.deps.operatorKey) return true;
    const member = this.#body?.members.find((m) => m.participantId === body.participantId);
    const digest = keysDigest(body.signingPublicKey, body.encryptionPublicKey);
    return member?.keys.some((k) => k.keyId === body.keyId && Buffer.from(k.keysDigest).equals(digest)) ?? false;
  }

  /** Whether the roster revokes `keyId` of `participantId`. */
  isRevoked(participantId: string, keyId: string): boolean {
    return this.#body?.members.find((m) => m.participantId === participantId)?.revokedKeyIds.includes(keyId) ?? false;
  }

  /**
   * May this card be pinned as a new peer, or replace a pinned card's keys, by operator action
   * (AddPeer)? With an operator key: the roster must be valid, list the participant and list the
   * card's keys (key id and full digest), and not revoke them. Throws INVALID_PEER_CARD.
   */
  checkPin(body: PeerCardBody, nowMs: number): void {
    if (!this.deps.operatorKey) return;
    const refuse = (message: string, field: string, rule: string) =>
      new TracenetError(ErrorCode.ERROR_CODE_INVALID_PEER_CARD, message, { field, rule });
    const state = this.check(nowMs);
    if (state === 'none')
      throw refuse(
        'this node has a roster key but no roster; load one first (tracenet roster load)',
        'roster',
        'roster_missing',
      );
    if (state !== 'valid')
      throw refuse(
        'the federation roster has expired; no peer can be pinned until a newer roster is loaded',
        'roster',
        'roster_expired',
      );
    if (this.isRevoked(body.participantId, body.keyId))
      throw refuse(`the roster revokes key ${body.keyId} of ${body.participantId}`, 'card.key_id', 'revoked_key');
    if (!this.#body?.members.some((m) => m.participantId === body.participantId))
      throw refuse(
        `${body.participantId} is not a member of the federation roster`,
        'card.participant_id',
        'roster_member',
      );
    if (!this.lists(body))
      throw refuse(`the roster does not list key ${body.keyId} for ${body.participantId}`, 'card.key_id', 'roster_key');
  }

  /**
   * May `participantId` send with `keyId` now? Throws SENDER_KEY_MISMATCH (`revoked_key`) for a
   * revoked key, UNKNOWN_SENDER (`roster_member`) for a participant the roster no longer lists,
   * and UNKNOWN_SENDER (`roster_expired`) once the roster's grace has ended.
   */
  checkSender(participantId: string, keyId: string, nowMs: number): void {
    if (!this.deps.operatorKey || !this.#body) return;
    if (this.isRevoked(participantId, keyId)) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_SENDER_KEY_MISMATCH,
        `the federation roster revokes key ${keyId} of ${participantId}`,
        { field: 'header.sender_key_id', rule: 'revoked_key' },
      );
    }
    if (this.check(nowMs) === 'lapsed') {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
        'the federation roster expired and its grace has ended; peers are refused until a newer roster is loaded',
        {
          field: 'header.sender',
          rule: 'roster_expired',
        },
      );
    }
    if (!this.#body.members.some((m) => m.participantId === participantId)) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_UNKNOWN_SENDER,
        `${participantId} is not a member of the federation roster`,
        { field: 'header.sender', rule: 'roster_member' },
      );
    }
  }
}
