import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import type { Logger } from 'pino';
import type { AuditEvent, Journal } from '../audit/audit-log.js';
import type { ClientRecord, OfficerRecord, SessionRecord } from '../store/repositories.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { type Actor, currentActor, type Role, runAs } from './actor.js';
import {
  checkPasswordStrength,
  DEFAULT_SCRYPT_COST,
  hashPassword,
  type ScryptCost,
  verifyPassword,
} from './passwords.js';
import { matchTotp, newTotpSecret, totpUri } from './totp.js';

/** The languages of the console (the six UN languages), as an officer's `language` names them. */
export const CONSOLE_LANGUAGES = ['ar', 'zh', 'en', 'fr', 'ru', 'es'] as const;

/** Every role, in the order they are listed. */
export const ROLES: readonly Role[] = ['officer', 'supervisor', 'auditor', 'administrator'];

/** Consecutive failed sign-ins after which an account locks. */
export const LOCK_AFTER_FAILURES = 5;
/** How long a lockout lasts (an administrator's password reset ends it earlier). */
export const LOCKOUT_MS = 15 * 60_000;
/** Default lifetime of a session: short, an officer signs in again after it. */
export const DEFAULT_SESSION_TTL_MS = 60 * 60_000;

const SESSION_TOKEN = /^tns_[A-Za-z0-9_-]{43}$/;
const API_KEY = /^tnk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const ACCOUNT_ID = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

/** The actor of the bootstrap token in setup mode: every role, so that a fresh node can be set up. */
const BOOTSTRAP_ACTOR: Actor = Object.freeze({ kind: 'bootstrap', id: '', roles: ROLES, session: '' });

/** What {@link AccessControl} needs. */
export interface AccessControlOptions {
  readonly store: Store;
  readonly journal: Journal;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The bootstrap token (`<data>/keys/authority.token`): accepted only in setup mode. */
  readonly bootstrapToken: string;
  /** Lifetime of a session; default {@link DEFAULT_SESSION_TTL_MS}. */
  readonly sessionTtlMs?: number;
  /** Roles whose accounts must sign in with a TOTP code; default supervisor and administrator. */
  readonly totpRequiredFor?: readonly Role[];
  /** The issuer shown by authenticator apps; default "Tracenet". */
  readonly issuer?: string;
  /** scrypt cost of new password hashes (tests lower it). */
  readonly scryptCost?: ScryptCost;
}

/** A session opened by a sign-in: the token is shown to the caller once and never stored. */
export interface OpenedSession {
  readonly token: string;
  readonly session: SessionRecord;
  readonly officer: OfficerRecord;
}

/** A TOTP secret issued to an officer, shown once. */
export interface IssuedTotp {
  readonly secret: string;
  readonly uri: string;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function unauthorized(message: string, rule: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_UNAUTHORIZED, message, { field: 'authorization', rule });
}

function invalid(field: string, rule: string, message: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, message, { field, rule });
}

/** The bearer token of `metadata`, or ''. */
export function bearerOf(metadata: Metadata): string {
  const header = metadata.get('authorization')[0];
  return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
}

/** Checks an account or client id: lowercase letters, digits and `._@-`, up to 64 characters. */
export function checkAccountId(id: string, field: string): void {
  if (id === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, `${field} is required`, { field, rule: 'required' });
  if (!ACCOUNT_ID.test(id))
    throw invalid(
      field,
      'account_id',
      `${field} has lowercase letters, digits and . _ @ - (up to 64), starting with a letter or digit`,
    );
}

/** Checks a list of role names: at least one, each a known role; returns them without repeats, in {@link ROLES} order. */
export function checkRoles(roles: readonly string[], field = 'roles'): Role[] {
  if (roles.length === 0)
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, `${field} needs at least one role`, {
      field,
      rule: 'required',
    });
  for (const [i, role] of roles.entries())
    if (!(ROLES as readonly string[]).includes(role))
      throw invalid(`${field}[${i}]`, 'role', `unknown role; the roles are ${ROLES.join(', ')}`);
  return ROLES.filter((r) => roles.includes(r));
}

/**
 * The accounts, sessions and API keys of a node, and the one place where a bearer token becomes
 * an {@link Actor} (docs/protocol.md 7.1). Everything is kept in memory, written through to the
 * store with an audit entry in the same batch, so that {@link authenticate} is synchronous and
 * runs before a byte of a request is read. Only digests of tokens and keys are stored.
 *
 * @example
 * ```ts
 * const access = new AccessControl({ store, journal, clock, logger, bootstrapToken });
 * await access.start();
 * const actor = access.authenticate(call.metadata); // throws UNAUTHORIZED
 * ```
 */
export class AccessControl {
  readonly #options: AccessControlOptions;
  readonly #logger: Logger;
  readonly #officers = new Map<string, OfficerRecord>();
  /** Token digest → session. */
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #clients = new Map<string, ClientRecord>();
  /** Key id → client id. */
  readonly #keys = new Map<string, string>();
  /** Per-account chain of changes, so that concurrent sign-ins count every failure. */
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #bootstrap: Buffer;
  /** A hash to check when the officer does not exist, so that the answer takes as long. */
  #decoy: Promise<string> | undefined;

  constructor(options: AccessControlOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'access' });
    this.#bootstrap = createHash('sha256').update(options.bootstrapToken, 'utf8').digest();
  }

  /** Loads accounts, live sessions and clients from the store; drops sessions that ended. Idempotent. */
  async start(): Promise<void> {
    const { access } = this.#options.store;
    this.#officers.clear();
    this.#sessions.clear();
    this.#clients.clear();
    this.#keys.clear();
    for await (const officer of access.officers.values()) this.#officers.set(officer.officerId, officer);
    for await (const client of access.clients.values()) this.#remember(client);
    const now = this.#options.clock.now();
    const ended = [];
    for await (const [hash, session] of access.sessions.entries()) {
      if (session.revokedAtMs > 0 || session.expiresAtMs <= now) ended.push(access.sessions.del(hash));
      else this.#sessions.set(hash, session);
    }
    if (ended.length > 0) await this.#options.store.batch(ended);
  }

  /**
   * Removes sessions that ended (expired or revoked) more than a session lifetime ago, from memory
   * and the store; until then their tokens are still refused with the precise rule. Returns how
   * many went. The node calls it every minute.
   */
  async purgeEnded(): Promise<number> {
    const before = this.#options.clock.now() - (this.#options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS);
    const gone = [...this.#sessions.entries()].filter(([, s]) => {
      const endedAt = s.revokedAtMs > 0 ? Math.min(s.revokedAtMs, s.expiresAtMs) : s.expiresAtMs;
      return endedAt <= before;
    });
    if (gone.length === 0) return 0;
    await this.#options.store.batch(gone.map(([hash]) => this.#options.store.access.sessions.del(hash)));
    for (const [hash] of gone) this.#sessions.delete(hash);
    return gone.length;
  }

  /** Whether the node is in setup mode: no administrator account exists, the bootstrap token works. */
  get setupMode(): boolean {
    for (const officer of this.#officers.values()) if (officer.roles.includes('administrator')) return false;
    return true;
  }

  /**
   * Who presents the bearer token of `metadata`: an officer's session (`tns_…`), a client's API
   * key (`tnk_<key id>_<secret>`) or, in setup mode only, the bootstrap token. Synchronous, from
   * memory; compares digests in constant time. Throws UNAUTHORIZED (field `authorization`) with
   * the rule saying why: `bearer_token`, `session_expired`, `session_revoked`, `officer_disabled`,
   * `api_key_expired`, `api_key_revoked`, `bootstrap_retired`. The message never holds the token.
   */
  authenticate(metadata: Metadata): Actor {
    return this.authenticateToken(bearerOf(metadata));
  }

  /** {@link authenticate} for a bare token. */
  authenticateToken(token: string): Actor {
    const now = this.#options.clock.now();
    if (SESSION_TOKEN.test(token)) {
      const session = this.#sessions.get(digest(token));
      if (!session) throw unauthorized('unknown or ended session; sign in again', 'bearer_token');
      if (session.revokedAtMs > 0) throw unauthorized('the session was ended; sign in again', 'session_revoked');
      if (session.expiresAtMs <= now) throw unauthorized('the session expired; sign in again', 'session_expired');
      const officer = this.#officers.get(session.officerId);
      if (!officer || officer.disabled) throw unauthorized('the officer account is disabled', 'officer_disabled');
      return { kind: 'officer', id: officer.officerId, roles: officer.roles, session: session.sessionId };
    }
    const key = API_KEY.exec(token);
    if (key) {
      const client = this.#clients.get(this.#keys.get(key[1] ?? '') ?? '');
      const presented = createHash('sha256')
        .update(key[2] ?? '', 'utf8')
        .digest();
      const expected = client ? Buffer.from(client.secretHash, 'hex') : Buffer.alloc(32);
      if (!timingSafeEqual(presented, expected) || !client) throw unauthorized('unknown API key', 'bearer_token');
      if (client.revokedAtMs > 0) throw unauthorized('the API key was revoked', 'api_key_revoked');
      if (client.expiresAtMs <= now) throw unauthorized('the API key expired', 'api_key_expired');
      return { kind: 'client', id: client.clientId, roles: client.roles, session: client.keyId };
    }
    const presented = createHash('sha256').update(token, 'utf8').digest();
    if (token !== '' && timingSafeEqual(presented, this.#bootstrap)) {
      if (!this.setupMode)
        throw unauthorized(
          'the bootstrap token only works until the first administrator exists; sign in (tracenet login) or use an API key',
          'bootstrap_retired',
        );
      return BOOTSTRAP_ACTOR;
    }
    throw unauthorized('missing or wrong bearer token', 'bearer_token');
  }

  /** When the session or API key of `actor` ends (0: never, the bootstrap token). */
  expiryOf(actor: Actor): number {
    if (actor.kind === 'client') return this.#clients.get(actor.id)?.expiresAtMs ?? 0;
    if (actor.kind === 'officer')
      for (const session of this.#sessions.values())
        if (session.sessionId === actor.session) return session.expiresAtMs;
    return 0;
  }

  // ---- sign-in ----

  /**
   * Signs an officer in with the password and, when the account requires it, a TOTP code (RFC
   * 6238, one step of drift either side, never the same step twice), and opens a session. A
   * failure counts against the account: after it, no attempt is checked for 2^(n-1) s (n failures
   * in a row: RATE_LIMITED, rule `login_backoff`); after {@link LOCK_AFTER_FAILURES} the account is
   * locked for {@link LOCKOUT_MS} (UNAUTHORIZED, rule `account_locked`). A wrong id, password or
   * code answer alike (UNAUTHORIZED, rule `credentials`). Every outcome is audited.
   */
  async login(request: { officerId: string; password: string; totpCode: string }): Promise<OpenedSession> {
    const officer = this.#officers.get(request.officerId);
    if (!officer) {
      // As slow as a real check, so that the answer does not tell which ids exist.
      this.#decoy ??= hashPassword('decoy password never used', this.#scrypt());
      await verifyPassword(request.password, await this.#decoy);
      await this.#audit([], { type: 'officer.sign_in_failed', fields: { officerId: '', reason: 'unknown_officer' } });
      throw unauthorized('wrong officer id, password or code', 'credentials');
    }
    return this.#serially(officer.officerId, async () => {
      const now = this.#options.clock.now();
      const current = this.#officer(officer.officerId);
      if (current.lockedUntilMs > now)
        throw unauthorized(
          `the account is locked after ${current.failedAttempts} failed sign-ins until ${new Date(current.lockedUntilMs).toISOString()}; an administrator can reset it`,
          'account_locked',
        );
      if (current.notBeforeMs > now)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_RATE_LIMITED,
          `too many failed sign-ins; try again in ${Math.ceil((current.notBeforeMs - now) / 1000)} s`,
          { field: 'authorization', rule: 'login_backoff' },
        );
      const passwordOk = current.passwordHash !== '' && (await verifyPassword(request.password, current.passwordHash));
      const needsCode = current.totpRequired || current.totpSecret !== '';
      const step =
        passwordOk && needsCode
          ? current.totpSecret === ''
            ? undefined
            : matchTotp(current.totpSecret, request.totpCode, now, current.lastTotpStep)
          : 0;
      if (!passwordOk || step === undefined) {
        const failures = current.failedAttempts + 1;
        const locked = failures >= LOCK_AFTER_FAILURES;
        const next: OfficerRecord = {
          ...current,
          failedAttempts: failures,
          notBeforeMs: now + Math.min(2 ** (failures - 1) * 1000, LOCKOUT_MS),
          lockedUntilMs: locked ? now + LOCKOUT_MS : current.lockedUntilMs,
        };
        const reason = !passwordOk ? 'password' : request.totpCode === '' ? 'totp_missing' : 'totp';
        const events: AuditEvent[] = [
          { type: 'officer.sign_in_failed', fields: { officerId: current.officerId, reason, failures } },
        ];
        if (locked)
          events.push({
            type: 'officer.locked',
            fields: { officerId: current.officerId, untilMs: next.lockedUntilMs },
          });
        // Written as the node: nobody is authenticated yet; the entry names the account tried.
        await this.#saveOfficer(next, events);
        if (passwordOk && request.totpCode === '')
          throw new TracenetError(ErrorCode.ERROR_CODE_UNAUTHORIZED, 'this account needs a TOTP code', {
            field: 'totp_code',
            rule: 'totp_required',
          });
        throw unauthorized('wrong officer id, password or code', 'credentials');
      }
      if (current.disabled) throw unauthorized('the officer account is disabled', 'officer_disabled');
      const signedIn: OfficerRecord = {
        ...current,
        failedAttempts: 0,
        notBeforeMs: 0,
        lockedUntilMs: 0,
        lastLoginAtMs: now,
        lastTotpStep: step > 0 ? step : current.lastTotpStep,
      };
      return this.#open(signedIn, 'password');
    });
  }

  /**
   * Opens a session for an officer signed in elsewhere (OpenID Connect): the account is created
   * or its roles and name updated from the identity provider; a disabled account is refused.
   */
  async signInExternal(request: {
    officerId: string;
    displayName: string;
    roles: readonly Role[];
    method: string;
  }): Promise<OpenedSession> {
    checkAccountId(request.officerId, 'officer_id');
    const roles = checkRoles(request.roles);
    return this.#serially(request.officerId, async () => {
      const now = this.#options.clock.now();
      const existing = this.#officers.get(request.officerId);
      if (existing?.disabled) throw unauthorized('the officer account is disabled', 'officer_disabled');
      const officer: OfficerRecord = {
        ...(existing ?? this.#newOfficer(request.officerId, request.displayName, roles, '', '', false, now)),
        displayName: request.displayName,
        roles,
        lastLoginAtMs: now,
      };
      return this.#open(officer, request.method);
    });
  }

  async #open(officer: OfficerRecord, method: string): Promise<OpenedSession> {
    const now = this.#options.clock.now();
    const token = `tns_${randomBytes(32).toString('base64url')}`;
    const session: SessionRecord = {
      sessionId: `ses_${randomBytes(8).toString('hex')}`,
      officerId: officer.officerId,
      createdAtMs: now,
      expiresAtMs: now + (this.#options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS),
      revokedAtMs: 0,
      method,
    };
    const hash = digest(token);
    const { access } = this.#options.store;
    await runAs(this.#actorOf(officer, session.sessionId), () =>
      this.#options.journal.write(
        [access.officers.put(officer.officerId, officer), access.sessions.put(hash, session)],
        [{ type: 'officer.signed_in', fields: { officerId: officer.officerId, session: session.sessionId, method } }],
      ),
    );
    this.#officers.set(officer.officerId, officer);
    this.#sessions.set(hash, session);
    this.#logger.info({ officerId: officer.officerId, session: session.sessionId, method }, 'officer signed in');
    return { token, session, officer };
  }

  /**
   * Ends the session of `actor` (sign-out); NOT_FOUND when the caller has no session. The ended
   * session is kept until the node restarts, so that its token is refused as `session_revoked`.
   */
  async logout(actor: Actor): Promise<SessionRecord> {
    const found = [...this.#sessions.entries()].find(
      ([, s]) => actor.kind === 'officer' && s.sessionId === actor.session && s.revokedAtMs === 0,
    );
    if (!found)
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, 'the caller has no session to end', {
        field: 'authorization',
        rule: 'session',
      });
    const [hash, session] = found;
    const ended = { ...session, revokedAtMs: this.#options.clock.now() };
    await this.#options.journal.write(
      [this.#options.store.access.sessions.put(hash, ended)],
      [{ type: 'officer.signed_out', fields: { officerId: session.officerId, session: session.sessionId } }],
    );
    this.#sessions.set(hash, ended);
    return ended;
  }

  // ---- officers ----

  /** Every account, by id. */
  officers(): OfficerRecord[] {
    return [...this.#officers.values()].sort((a, b) => a.officerId.localeCompare(b.officerId));
  }

  /** The account `officerId`; NOT_FOUND (`officer_id`). */
  officer(officerId: string): OfficerRecord {
    return this.#officer(officerId);
  }

  /**
   * Creates an account. A TOTP secret is issued (and returned, once) when one of its roles
   * requires a second factor or `requireTotp` is set. The first administrator ends setup mode.
   */
  async addOfficer(request: {
    officerId: string;
    displayName: string;
    roles: readonly string[];
    password: string;
    requireTotp: boolean;
  }): Promise<{ officer: OfficerRecord; totp?: IssuedTotp }> {
    checkAccountId(request.officerId, 'officer_id');
    const roles = checkRoles(request.roles);
    checkPasswordStrength(request.password);
    if (this.#officers.has(request.officerId))
      throw new TracenetError(ErrorCode.ERROR_CODE_ALREADY_EXISTS, `officer ${request.officerId} exists already`, {
        field: 'officer_id',
        rule: 'unique',
      });
    const totpRequired = request.requireTotp || this.#totpRequiredFor(roles);
    const secret = totpRequired ? newTotpSecret() : '';
    const hash = await hashPassword(request.password, this.#scrypt());
    return this.#serially(request.officerId, async () => {
      if (this.#officers.has(request.officerId))
        throw new TracenetError(ErrorCode.ERROR_CODE_ALREADY_EXISTS, `officer ${request.officerId} exists already`, {
          field: 'officer_id',
          rule: 'unique',
        });
      const now = this.#options.clock.now();
      const officer = this.#newOfficer(request.officerId, request.displayName, roles, hash, secret, totpRequired, now);
      const events: AuditEvent[] = [
        { type: 'officer.added', fields: { officerId: officer.officerId, roles: roles.join(','), totp: totpRequired } },
      ];
      if (this.setupMode && roles.includes('administrator'))
        events.push({ type: 'access.setup_ended', fields: { officerId: officer.officerId } });
      await this.#saveOfficer(officer, events);
      return { officer, ...(secret ? { totp: this.#issued(officer.officerId, secret) } : {}) };
    });
  }

  /** Replaces an officer's roles; the last administrator keeps the role (rule `last_administrator`). */
  async setRoles(officerId: string, requested: readonly string[]): Promise<OfficerRecord> {
    const roles = checkRoles(requested);
    return this.#serially(officerId, async () => {
      const current = this.#officer(officerId);
      if (current.roles.includes('administrator') && !roles.includes('administrator'))
        this.#keepAnAdministrator(officerId);
      if (this.#totpRequiredFor(roles) && current.totpSecret === '' && current.passwordHash !== '')
        throw invalid(
          'roles',
          'totp_required',
          'these roles need a TOTP second factor the account does not have; reset the password with a new TOTP secret first',
        );
      const next = { ...current, roles, totpRequired: current.totpRequired || this.#totpRequiredFor(roles) };
      await this.#saveOfficer(next, [
        { type: 'officer.roles_set', fields: { officerId, roles: roles.join(','), previous: current.roles.join(',') } },
      ]);
      return next;
    });
  }

  /**
   * Sets the console language an officer reads in: one of {@link CONSOLE_LANGUAGES}
   * (`INVALID_FIELD`, `language`, `one_of` otherwise). Audited as `officer.language_set`.
   */
  async setLanguage(officerId: string, language: string): Promise<OfficerRecord> {
    if (!(CONSOLE_LANGUAGES as readonly string[]).includes(language))
      throw invalid('language', 'one_of', `language must be one of ${CONSOLE_LANGUAGES.join(', ')}`);
    return this.#serially(officerId, async () => {
      const current = this.#officer(officerId);
      if ((current.language ?? '') === language) return current;
      const next = { ...current, language };
      await this.#saveOfficer(next, [
        { type: 'officer.language_set', fields: { officerId, language, previous: current.language ?? '' } },
      ]);
      return next;
    });
  }

  /** Disables an account and ends its sessions, or enables it again. */
  async setDisabled(officerId: string, disabled: boolean): Promise<OfficerRecord> {
    return this.#serially(officerId, async () => {
      const current = this.#officer(officerId);
      if (disabled && current.roles.includes('administrator')) this.#keepAnAdministrator(officerId);
      const next = { ...current, disabled };
      await this.#saveOfficer(
        next,
        [{ type: disabled ? 'officer.disabled' : 'officer.enabled', fields: { officerId } }],
        undefined,
        disabled,
      );
      return next;
    });
  }

  /**
   * Sets a new password (an administrator's reset: the officer's own old password is not asked),
   * clears failures and lockout, ends the officer's sessions; `resetTotp` issues a new secret.
   */
  async resetPassword(
    officerId: string,
    password: string,
    resetTotp: boolean,
  ): Promise<{ officer: OfficerRecord; totp?: IssuedTotp }> {
    checkPasswordStrength(password);
    this.#officer(officerId);
    const hash = await hashPassword(password, this.#scrypt());
    return this.#serially(officerId, async () => {
      const current = this.#officer(officerId);
      const secret = resetTotp ? newTotpSecret() : current.totpSecret;
      const next: OfficerRecord = {
        ...current,
        passwordHash: hash,
        totpSecret: secret,
        totpRequired: current.totpRequired || resetTotp,
        lastTotpStep: resetTotp ? 0 : current.lastTotpStep,
        failedAttempts: 0,
        notBeforeMs: 0,
        lockedUntilMs: 0,
      };
      await this.#saveOfficer(
        next,
        [{ type: 'officer.password_reset', fields: { officerId, totpReset: resetTotp } }],
        undefined,
        true,
      );
      return { officer: next, ...(resetTotp ? { totp: this.#issued(officerId, secret) } : {}) };
    });
  }

  // ---- clients ----

  /** Every client, by id. */
  clients(): ClientRecord[] {
    return [...this.#clients.values()].sort((a, b) => a.clientId.localeCompare(b.clientId));
  }

  /** Creates a named client with roles and an expiry; returns its API key, which is not kept. */
  async addClient(request: {
    clientId: string;
    roles: readonly string[];
    expiresAtMs: number;
  }): Promise<{ client: ClientRecord; apiKey: string }> {
    checkAccountId(request.clientId, 'client_id');
    const roles = checkRoles(request.roles);
    const now = this.#options.clock.now();
    if (request.expiresAtMs <= now)
      throw invalid('expires_at_ms', 'future', 'an API key needs an expiry in the future');
    return this.#serially(`client:${request.clientId}`, async () => {
      if (this.#clients.has(request.clientId))
        throw new TracenetError(ErrorCode.ERROR_CODE_ALREADY_EXISTS, `client ${request.clientId} exists already`, {
          field: 'client_id',
          rule: 'unique',
        });
      const keyId = randomBytes(8).toString('hex');
      const secret = randomBytes(32).toString('base64url');
      const client: ClientRecord = {
        clientId: request.clientId,
        roles,
        keyId,
        secretHash: digest(secret),
        createdAtMs: now,
        expiresAtMs: request.expiresAtMs,
        revokedAtMs: 0,
      };
      await this.#options.journal.write(
        [this.#options.store.access.clients.put(client.clientId, client)],
        [
          {
            type: 'client.added',
            fields: { clientId: client.clientId, keyId, roles: roles.join(','), expiresAtMs: client.expiresAtMs },
          },
        ],
      );
      this.#remember(client);
      return { client, apiKey: `tnk_${keyId}_${secret}` };
    });
  }

  /** Revokes a client's API key for good; revoking twice changes nothing more. */
  async revokeClient(clientId: string): Promise<ClientRecord> {
    return this.#serially(`client:${clientId}`, async () => {
      const current = this.#clients.get(clientId);
      if (!current)
        throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no client ${clientId}`, {
          field: 'client_id',
          rule: 'exists',
        });
      if (current.revokedAtMs > 0) return current;
      const next = { ...current, revokedAtMs: this.#options.clock.now() };
      await this.#options.journal.write(
        [this.#options.store.access.clients.put(clientId, next)],
        [{ type: 'client.revoked', fields: { clientId, keyId: next.keyId } }],
      );
      this.#remember(next);
      return next;
    });
  }

  // ---- internals ----

  #scrypt(): ScryptCost {
    return this.#options.scryptCost ?? DEFAULT_SCRYPT_COST;
  }

  #totpRequiredFor(roles: readonly Role[]): boolean {
    const required = this.#options.totpRequiredFor ?? ['supervisor', 'administrator'];
    return roles.some((r) => required.includes(r));
  }

  #issued(officerId: string, secret: string): IssuedTotp {
    return { secret, uri: totpUri(secret, officerId, this.#options.issuer ?? 'Tracenet') };
  }

  #actorOf(officer: OfficerRecord, session: string): Actor {
    return { kind: 'officer', id: officer.officerId, roles: officer.roles, session };
  }

  #newOfficer(
    officerId: string,
    displayName: string,
    roles: Role[],
    passwordHash: string,
    totpSecret: string,
    totpRequired: boolean,
    now: number,
  ): OfficerRecord {
    return {
      officerId,
      displayName,
      roles,
      passwordHash,
      totpSecret,
      totpRequired,
      disabled: false,
      createdAtMs: now,
      failedAttempts: 0,
      notBeforeMs: 0,
      lockedUntilMs: 0,
      lastLoginAtMs: 0,
      lastTotpStep: 0,
    };
  }

  #officer(officerId: string): OfficerRecord {
    const officer = this.#officers.get(officerId);
    if (!officer)
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `no officer ${officerId}`, {
        field: 'officer_id',
        rule: 'exists',
      });
    return officer;
  }

  #keepAnAdministrator(officerId: string): void {
    const others = [...this.#officers.values()].filter(
      (o) => o.officerId !== officerId && o.roles.includes('administrator') && !o.disabled,
    );
    if (others.length === 0)
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        'the node would have no administrator left; give another officer the role first',
        { field: 'officer_id', rule: 'last_administrator' },
      );
  }

  #remember(client: ClientRecord): void {
    this.#clients.set(client.clientId, client);
    this.#keys.set(client.keyId, client.clientId);
  }

  /** Writes `officer` with `events`; `endSessions` ends every session of the officer in the same batch. */
  async #saveOfficer(officer: OfficerRecord, events: AuditEvent[], actor?: Actor, endSessions = false): Promise<void> {
    const { access } = this.#options.store;
    const now = this.#options.clock.now();
    const ended: Array<[string, SessionRecord]> = endSessions
      ? [...this.#sessions.entries()]
          .filter(([, s]) => s.officerId === officer.officerId && s.revokedAtMs === 0)
          .map(([hash, s]) => [hash, { ...s, revokedAtMs: now }])
      : [];
    const write = () =>
      this.#options.journal.write(
        [access.officers.put(officer.officerId, officer), ...ended.map(([hash, s]) => access.sessions.put(hash, s))],
        events,
      );
    await (actor ? runAs(actor, write) : write());
    this.#officers.set(officer.officerId, officer);
    for (const [hash, session] of ended) this.#sessions.set(hash, session);
    const by = actor ?? currentActor();
    this.#logger.info(
      { officerId: officer.officerId, change: events.map((e) => e.type).join(','), by: `${by.kind}:${by.id}` },
      'officer account changed',
    );
  }

  async #audit(operations: [], event: AuditEvent): Promise<void> {
    await this.#options.journal.write(operations, [event]);
  }

  #serially<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.#locks.set(key, tail);
    void tail.then(() => {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    });
    return run;
  }
}
