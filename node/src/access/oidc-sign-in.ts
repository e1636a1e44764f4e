import { createHash } from 'node:crypto';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import * as oidc from 'openid-client';
import type { Logger } from 'pino';
import { isLoopbackHost, type NodeConfig } from '../config/config.js';
import type { Clock } from '../util/clock.js';
import { unsafeCharacter } from '../util/unsafe-text.js';
import type { Role } from './actor.js';

/** The `access.oidc.*` configuration keys. */
export type OidcSettings = NodeConfig['access']['oidc'];

/** How long a begun sign-in may take to come back (the user types a password, a second factor). */
export const OIDC_SIGN_IN_TTL_MS = 10 * 60_000;

/** Sign-ins begun and not yet completed that the node keeps; beyond it the oldest is forgotten. */
export const OIDC_MAX_PENDING = 1000;

/**
 * Sign-ins one source (a browser's address) may have begun and not completed: Begin needs no
 * token, so without it one address could push every officer's sign-in in progress out of the
 * {@link OIDC_MAX_PENDING} kept.
 */
export const OIDC_MAX_PENDING_PER_SOURCE = 20;

/**
 * Opens a session for an officer whom the identity provider vouched for: the node's accounts
 * (`AccessControl.signInExternal`) create the account or update its name and roles, refuse a
 * disabled one, and audit the sign-in.
 */
export interface ExternalSignIn {
  signInExternal(request: {
    readonly officerId: string;
    readonly displayName: string;
    readonly roles: readonly Role[];
    /** How the officer signed in, as the audit log and the session name it: `oidc`. */
    readonly method: string;
  }): Promise<{
    readonly token: string;
    readonly session: { readonly sessionId: string; readonly expiresAtMs: number };
  }>;
}

/** What {@link OidcSignIn.begin} returns: where to send the user, and where the provider will send them back. */
export interface BegunSignIn {
  readonly authorizationUrl: string;
  readonly redirectUri: string;
  /** Unix milliseconds after which the sign-in can no longer be completed. */
  readonly expiresAt: number;
}

/** An officer signed in: the session token and who it is for. */
export interface CompletedSignIn {
  readonly officerId: string;
  readonly name: string;
  readonly roles: readonly Role[];
  /** The bearer token (`tns_…`); shown once, to the officer who signed in. */
  readonly token: string;
  readonly sessionId: string;
  /** Unix milliseconds. */
  readonly expiresAt: number;
}

/** What {@link OidcSignIn} needs. */
export interface OidcSignInDeps {
  readonly settings: OidcSettings;
  readonly accounts: ExternalSignIn;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Records a refused sign-in in the audit log (`officer.sign_in_failed`): a user the provider
   * vouched for but who has no mapped role, and an ID token that failed its checks. Refusals any
   * caller can provoke without the provider (an unknown state, a forged `iss`) are only logged,
   * so that nobody can fill the audit log with them.
   */
  readonly audit?: (refusal: { readonly officerId: string; readonly reason: string }) => Promise<void>;
  /**
   * The web console's redirect URI (`console.oidcRedirectUri`, its `/auth/oidc/callback`), which a
   * sign-in may ask for instead of `access.oidc.redirectUri`; '' or absent: none.
   */
  readonly consoleRedirectUri?: string;
}

interface Pending {
  /** The address that began it ('' when unknown). */
  readonly source: string;
  readonly redirectUri: string;
  readonly codeVerifier: string;
  readonly nonce: string;
  readonly expiresAt: number;
}

/** oauth4webapi's codes of a failed check of a JWT (the ID token): its claims, times, key or signature. */
const ID_TOKEN_CHECKS: ReadonlySet<string> = new Set([
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_KEY_SELECTION_FAILED',
]);

const ROLE_ORDER: readonly Role[] = ['officer', 'supervisor', 'auditor', 'administrator'];

/**
 * Sign-in through the state's identity provider with OpenID Connect: the authorization code flow
 * with PKCE (S256), a single-use `state` and a `nonce` per sign-in, the ID token checked by
 * openid-client (signature, issuer, audience, expiry, nonce), and the user's roles mapped from one
 * configured claim through `access.oidc.roleMap`. A user none of whose claim values is mapped gets
 * no session.
 *
 * The node is the relying party: it keeps the PKCE verifier and nonce of every begun sign-in in
 * memory (keyed by `state`, at most {@link OIDC_MAX_PENDING}, each for {@link OIDC_SIGN_IN_TTL_MS}),
 * so that neither ever leaves it; a restart forgets them and the user begins again.
 *
 * @example
 * ```ts
 * const signIn = new OidcSignIn({ settings: config.access.oidc, accounts, clock, logger });
 * const { authorizationUrl } = await signIn.begin();           // the user opens it
 * const done = await signIn.complete(urlTheProviderRedirectedTo); // done.token
 * ```
 */
export class OidcSignIn {
  readonly #deps: OidcSignInDeps;
  readonly #logger: Logger;
  readonly #pending = new Map<string, Pending>();
  #configuration: Promise<oidc.Configuration> | undefined;

  constructor(deps: OidcSignInDeps) {
    this.#deps = deps;
    this.#logger = deps.logger.child({ component: 'oidc-sign-in' });
  }

  /** Whether sign-in through an identity provider is configured (`access.oidc.issuer` is set). */
  get configured(): boolean {
    return this.#deps.settings.issuer !== '';
  }

  /**
   * Begins a sign-in: a fresh state, nonce and PKCE verifier, and the provider's authorization URL.
   * `redirectUri` is '' (access.oidc.redirectUri) or the console's (`console.oidcRedirectUri`).
   *
   * `source` names who asks (a browser's address): one source has at most
   * {@link OIDC_MAX_PENDING_PER_SOURCE} sign-ins in progress.
   *
   * @throws TracenetError INVALID_FIELD rule `oidc_redirect_uri` for any other redirect URI;
   *   RATE_LIMITED rule `oidc_pending` for a source with too many sign-ins in progress.
   */
  async begin(requestedRedirectUri = '', source = ''): Promise<BegunSignIn> {
    const { settings, clock } = this.#deps;
    const redirectUri = requestedRedirectUri === '' ? settings.redirectUri : requestedRedirectUri;
    if (redirectUri !== settings.redirectUri && redirectUri !== (this.#deps.consoleRedirectUri ?? '')) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_INVALID_FIELD,
        "redirect_uri must be empty (access.oidc.redirectUri) or the console's console.oidcRedirectUri",
        { field: 'redirect_uri', rule: 'oidc_redirect_uri' },
      );
    }
    this.#forgetExpired(clock.now());
    if (
      source !== '' &&
      [...this.#pending.values()].filter((p) => p.source === source).length >= OIDC_MAX_PENDING_PER_SOURCE
    )
      throw new TracenetError(
        ErrorCode.ERROR_CODE_RATE_LIMITED,
        `${OIDC_MAX_PENDING_PER_SOURCE} sign-ins begun from this address are still in progress; finish one or wait ${OIDC_SIGN_IN_TTL_MS / 60_000} minutes`,
        { field: 'source', rule: 'oidc_pending' },
      );
    const configuration = await this.#discover();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const now = clock.now();
    this.#forgetExpired(now);
    while (this.#pending.size >= OIDC_MAX_PENDING) {
      const oldest = this.#pending.keys().next().value;
      if (oldest === undefined) break;
      this.#pending.delete(oldest);
    }
    const expiresAt = now + OIDC_SIGN_IN_TTL_MS;
    this.#pending.set(state, { source, redirectUri, codeVerifier, nonce, expiresAt });
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: settings.scopes.join(' '),
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { authorizationUrl: url.href, redirectUri, expiresAt };
  }

  /**
   * Completes a sign-in from the URL the provider redirected the user's browser to (with `code`
   * and `state`, or `error`): exchanges the code with the PKCE verifier, checks the ID token,
   * maps the roles and opens a session. Each begun sign-in completes at most once.
   *
   * @throws TracenetError UNAUTHORIZED with rule `oidc_state` (unknown, used or expired state),
   *   `oidc_provider_refused` (the provider answered an error), `oidc_code` (the provider did not
   *   redeem the code: replayed, or the PKCE verifier does not match), `oidc_id_token` (issuer,
   *   audience, nonce or signature wrong), `oidc_no_role` (no mapped role); INVALID_FIELD for a
   *   callback URL that is not the redirect URI; UNAVAILABLE when the provider cannot be reached.
   */
  async complete(callbackUrl: string): Promise<CompletedSignIn> {
    const { settings } = this.#deps;
    const url = parseCallback(callbackUrl, [settings.redirectUri, this.#deps.consoleRedirectUri ?? '']);
    const state = url.searchParams.get('state') ?? '';
    const pending = this.#take(state);
    parseCallback(callbackUrl, [pending.redirectUri]);
    const configuration = await this.#discover();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, url, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      const refusal = this.#refusal(error);
      if (refusal.rule === 'oidc_id_token') await this.#deps.audit?.({ officerId: '', reason: 'oidc_id_token' });
      throw refusal;
    }
    const claims = tokens.claims();
    if (!claims) throw idTokenError('the provider returned no ID token');
    const sub = claims.sub;
    if (sub.length > 255 || unsafeCharacter(sub) !== undefined)
      throw idTokenError('the ID token names a subject that is not printable text of at most 255 characters');
    // Providers put the groups claim in the ID token or only in the UserInfo response (OpenID
    // Connect Core 5.4): ask UserInfo, for the subject of the ID token, when the token lacks it.
    let profile: Readonly<Record<string, unknown>> = claims;
    let values = claimValues(claims, settings.rolesClaim);
    if (values === undefined && tokens.access_token) {
      try {
        profile = { ...(await oidc.fetchUserInfo(configuration, tokens.access_token, sub)), ...claims };
      } catch (error) {
        throw this.#refusal(error);
      }
      values = claimValues(profile, settings.rolesClaim);
    }
    const roles = mapRoles(values ?? [], settings.roleMap);
    const officerId = officerIdOf(sub);
    if (roles.length === 0) {
      this.#logger.info({ officer: officerId }, 'sign-in through the identity provider refused: no mapped role');
      await this.#deps.audit?.({ officerId, reason: 'oidc_no_role' });
      throw new TracenetError(
        ErrorCode.ERROR_CODE_UNAUTHORIZED,
        `the identity provider signed in ${officerId}, but its claim "${settings.rolesClaim}" ${
          values === undefined || values.length === 0
            ? 'is missing'
            : `names only ${values
                .slice(0, 10)
                .map((v) => JSON.stringify(v))
                .join(', ')}`
        }, which access.oidc.roleMap maps to no role; no session was opened`,
        { field: 'access.oidc.rolesClaim', rule: 'oidc_no_role' },
      );
    }
    const name = displayName(profile);
    const opened = await this.#deps.accounts.signInExternal({ officerId, displayName: name, roles, method: 'oidc' });
    return {
      officerId,
      name,
      roles,
      token: opened.token,
      sessionId: opened.session.sessionId,
      expiresAt: opened.session.expiresAtMs,
    };
  }

  /** Forgets every begun sign-in (the node stops). */
  clear(): void {
    this.#pending.clear();
  }

  async #discover(): Promise<oidc.Configuration> {
    const { settings } = this.#deps;
    if (!this.configured) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_UNIMPLEMENTED,
        'sign-in through an identity provider is not configured on this node (access.oidc.issuer)',
        { field: 'access.oidc.issuer', rule: 'oidc_configured' },
      );
    }
    this.#configuration ??= discover(settings).catch((error: unknown) => {
      this.#configuration = undefined;
      this.#logger.warn(
        { reason: describe(error), issuer: settings.issuer },
        'the identity provider could not be discovered',
      );
      throw new TracenetError(
        ErrorCode.ERROR_CODE_UNAVAILABLE,
        `the identity provider ${settings.issuer} could not be reached or did not describe itself as that issuer: ${describe(error)}`,
        { field: 'access.oidc.issuer', rule: 'oidc_discovery', cause: error },
      );
    });
    return this.#configuration;
  }

  #take(state: string): Pending {
    this.#forgetExpired(this.#deps.clock.now());
    const pending = state === '' ? undefined : this.#pending.get(state);
    if (!pending) {
      throw new TracenetError(
        ErrorCode.ERROR_CODE_UNAUTHORIZED,
        'no sign-in was begun with this state, or it expired or was already completed; begin the sign-in again',
        { field: 'state', rule: 'oidc_state' },
      );
    }
    // Single use: whatever happens next, this state, its verifier and nonce are gone.
    this.#pending.delete(state);
    return pending;
  }

  #forgetExpired(now: number): void {
    for (const [state, pending] of this.#pending) if (pending.expiresAt <= now) this.#pending.delete(state);
  }

  #refusal(error: unknown): TracenetError {
    if (error instanceof oidc.AuthorizationResponseError) {
      return new TracenetError(
        ErrorCode.ERROR_CODE_UNAUTHORIZED,
        `the identity provider did not sign the user in: ${safeCode(error.error)}`,
        { field: 'callback_url', rule: 'oidc_provider_refused', cause: error },
      );
    }
    if (error instanceof oidc.ResponseBodyError) {
      this.#logger.info(
        { error: safeCode(error.error) },
        'the identity provider refused to redeem an authorization code',
      );
      return new TracenetError(
        ErrorCode.ERROR_CODE_UNAUTHORIZED,
        `the identity provider refused the authorization code (${safeCode(error.error)}): it was used before, expired, or the PKCE verifier does not match; begin the sign-in again`,
        { field: 'code', rule: 'oidc_code', cause: error },
      );
    }
    if (error instanceof oidc.ClientError) {
      // openid-client's message is generic; its cause (oauth4webapi) says which check failed.
      const detail = error.cause instanceof Error ? error.cause.message : error.message;
      if (/"iss" \(issuer\) response parameter/.test(detail)) {
        this.#logger.warn({ reason: detail }, 'a sign-in came back from another issuer than the configured one');
        return new TracenetError(
          ErrorCode.ERROR_CODE_UNAUTHORIZED,
          `the sign-in came back from another issuer than ${this.#deps.settings.issuer}: ${detail}`,
          { field: 'iss', rule: 'oidc_issuer', cause: error },
        );
      }
      if (ID_TOKEN_CHECKS.has(error.code ?? '') || /JWT|ID Token|nonce/.test(detail)) {
        this.#logger.warn({ reason: detail }, 'an ID token from the identity provider was refused');
        return idTokenError(detail, error);
      }
    }
    if (error instanceof TracenetError) return error;
    // The message only: a cause may hold the provider's response, which is not for the log.
    this.#logger.warn({ reason: describe(error) }, 'sign-in through the identity provider failed');
    return new TracenetError(
      ErrorCode.ERROR_CODE_UNAVAILABLE,
      `the identity provider could not complete the sign-in: ${describe(error)}`,
      { field: 'access.oidc.issuer', rule: 'oidc_provider', cause: error },
    );
  }
}

/** Discovers the provider's metadata; http is allowed only for an issuer on loopback (tests). */
async function discover(settings: OidcSettings): Promise<oidc.Configuration> {
  const issuer = new URL(settings.issuer);
  const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
  return oidc.discovery(
    issuer,
    settings.clientId,
    settings.clientSecret === '' ? undefined : settings.clientSecret,
    settings.clientSecret === '' ? oidc.None() : oidc.ClientSecretBasic(settings.clientSecret),
    { timeout: 10, ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) },
  );
}

/** The callback URL, which must be one of the configured redirect URIs with query parameters. */
function parseCallback(callbackUrl: string, redirectUris: readonly string[]): URL {
  let url: URL | undefined;
  try {
    url = new URL(callbackUrl);
  } catch {
    url = undefined;
  }
  const candidates = redirectUris.filter((u) => u !== '').map((u) => new URL(u));
  const expected = candidates.find((e) => url && url.origin === e.origin && url.pathname === e.pathname);
  if (!url || !expected) {
    const first = candidates[0] ?? new URL('http://127.0.0.1/');
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `callback_url must be the URL the identity provider redirected to, starting with ${first.origin}${first.pathname}`,
      { field: 'callback_url', rule: 'oidc_redirect_uri' },
    );
  }
  return url;
}

function idTokenError(reason: string, cause?: unknown): TracenetError {
  return new TracenetError(
    ErrorCode.ERROR_CODE_UNAUTHORIZED,
    `the ID token from the identity provider was refused: ${reason}`,
    { field: 'id_token', rule: 'oidc_id_token', ...(cause === undefined ? {} : { cause }) },
  );
}

/**
 * The values of a claim as strings: a string (several separated by spaces or commas), or a list
 * of strings; a dotted name reaches a nested claim (`realm_access.roles`) unless a claim of that
 * very name exists. Undefined when the claim is absent.
 */
export function claimValues(claims: Readonly<Record<string, unknown>>, name: string): string[] | undefined {
  let value: unknown = Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (value === undefined && name.includes('.')) {
    value = name
      .split('.')
      .reduce<unknown>(
        (o, part) =>
          o && typeof o === 'object' && Object.hasOwn(o, part) ? (o as Record<string, unknown>)[part] : undefined,
        claims,
      );
  }
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((v) => v !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The Tracenet roles that `values` map to through `roleMap`, each once, in a fixed order. */
export function mapRoles(values: readonly string[], roleMap: OidcSettings['roleMap']): Role[] {
  const roles = new Set<Role>();
  for (const value of values) {
    const mapped = Object.hasOwn(roleMap, value) ? roleMap[value] : undefined;
    for (const role of mapped ?? []) roles.add(role);
  }
  return ROLE_ORDER.filter((r) => roles.has(r));
}

/**
 * The officer id of a subject of the identity provider: `<sub>@oidc` when the subject is already
 * an account id (lowercase letters, digits, `._-`), else a digest of it, `<24 hex>@oidc` (a
 * subject is case-sensitive and may hold any character). The suffix keeps it apart from local
 * accounts; the name the provider gives is the account's display name.
 */
export function officerIdOf(sub: string): string {
  return /^[a-z0-9][a-z0-9._-]{0,58}$/.test(sub)
    ? `${sub}@oidc`
    : `${createHash('sha256').update(sub, 'utf8').digest('hex').slice(0, 24)}@oidc`;
}

function displayName(claims: Readonly<Record<string, unknown>>): string {
  for (const key of ['name', 'preferred_username', 'email']) {
    const value = claims[key];
    if (typeof value === 'string' && value.length <= 256 && unsafeCharacter(value) === undefined) return value;
  }
  return '';
}

/** An OAuth error code as the provider sent it, kept to its grammar (RFC 6749 A.7) so that it can be shown. */
function safeCode(code: string): string {
  return /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(code) ? code : 'an unreadable error';
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
