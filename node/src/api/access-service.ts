import type { ServiceRegistrar } from './service-table.js';
import {
  type AccessServer,
  AccessService,
  type ApiClient,
  ErrorCode,
  type Officer,
  TracenetError,
} from '@tracenet/proto';
import type { Logger } from 'pino';
import { type AccessControl, checkAccountId } from '../access/access-control.js';
import type { OidcSignIn } from '../access/oidc-sign-in.js';
import type { ClientRecord, OfficerRecord } from '../store/repositories.js';
import { type AuthorityCredentials, decodingTolerantly, guardedUnary } from './grpc-handlers.js';

/** What the Access service needs from the node. */
export interface AccessServiceDeps {
  readonly access: AccessControl;
  /** What calls are checked with (normally `access` itself). */
  readonly token: AuthorityCredentials;
  readonly logger: Logger;
  /** Sign-in through the state's identity provider (BeginOidcSignIn, CompleteOidcSignIn); absent: UNIMPLEMENTED. */
  readonly oidc?: OidcSignIn;
}

/** Longest callback URL CompleteOidcSignIn reads (a code, a state, an issuer: far less). */
const MAX_CALLBACK_URL = 8192;

/** An account as the API shows it: never its password hash or TOTP secret. */
export function officerView(officer: OfficerRecord): Officer {
  return {
    officerId: officer.officerId,
    displayName: officer.displayName,
    roles: [...officer.roles],
    disabled: officer.disabled,
    totpRequired: officer.totpRequired,
    createdAtMs: officer.createdAtMs,
    failedAttempts: officer.failedAttempts,
    lockedUntilMs: officer.lockedUntilMs,
    lastLoginAtMs: officer.lastLoginAtMs,
    language: officer.language ?? '',
  };
}

/** A client as the API shows it: never its key's digest. */
export function clientView(client: ClientRecord): ApiClient {
  return {
    clientId: client.clientId,
    roles: [...client.roles],
    keyId: client.keyId,
    createdAtMs: client.createdAtMs,
    expiresAtMs: client.expiresAtMs,
    revokedAtMs: client.revokedAtMs,
  };
}

function oidcOf(deps: AccessServiceDeps): OidcSignIn {
  if (!deps.oidc)
    throw new TracenetError(
      ErrorCode.ERROR_CODE_UNIMPLEMENTED,
      'sign-in through an identity provider is not offered here',
      { rule: 'oidc_configured' },
    );
  return deps.oidc;
}

function required(value: string, field: string): string {
  if (value === '')
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, `${field} is required`, { field, rule: 'required' });
  return value;
}

/**
 * Registers `tracenet.v1.Access` (docs/protocol.md 7.2) on the Authority server: sign-in and
 * sign-out, the caller's identity, officer accounts and client API keys. Who may call what is the
 * permission table's (access/permissions.ts); Login needs no token.
 *
 * @example
 * ```ts
 * addAccessService(authorityServer, { access, token: access, logger });
 * ```
 */
export function addAccessService(server: ServiceRegistrar, deps: AccessServiceDeps): void {
  const logger = deps.logger.child({ component: 'access-api' });
  const guarded = guardedUnary(logger, deps.token);
  const { access } = deps;

  const implementation: AccessServer = {
    login: guarded(async (request) => {
      required(request.officerId, 'officer_id');
      required(request.password, 'password');
      const opened = await access.login(request);
      return {
        sessionToken: opened.token,
        sessionId: opened.session.sessionId,
        expiresAtMs: opened.session.expiresAtMs,
        officer: officerView(opened.officer),
      };
    }),
    logout: guarded(async (_request, actor) => ({ sessionId: (await access.logout(actor)).sessionId })),
    whoAmI: guarded(async (_request, actor) => ({
      kind: actor.kind,
      id: actor.id,
      roles: [...actor.roles],
      session: actor.session,
      setupMode: access.setupMode,
      expiresAtMs: access.expiryOf(actor),
      language: actor.kind === 'officer' ? (access.officer(actor.id).language ?? '') : '',
    })),
    setMyLanguage: guarded(async (request, actor) => {
      if (actor.kind !== 'officer')
        throw new TracenetError(
          ErrorCode.ERROR_CODE_FORBIDDEN,
          'only an officer has a console language; this caller is a client or the bootstrap token',
          { field: 'authorization', rule: 'officer_only' },
        );
      required(request.language, 'language');
      return { language: (await access.setLanguage(actor.id, request.language)).language ?? '' };
    }),
    addOfficer: guarded(async (request) => {
      const added = await access.addOfficer(request);
      return {
        officer: officerView(added.officer),
        totpSecret: added.totp?.secret ?? '',
        totpUri: added.totp?.uri ?? '',
      };
    }),
    listOfficers: guarded(async () => ({ officers: access.officers().map(officerView) })),
    disableOfficer: guarded(async (request) => {
      checkAccountId(request.officerId, 'officer_id');
      return { officer: officerView(await access.setDisabled(request.officerId, !request.enable)) };
    }),
    setOfficerRoles: guarded(async (request) => {
      checkAccountId(request.officerId, 'officer_id');
      return { officer: officerView(await access.setRoles(request.officerId, request.roles)) };
    }),
    resetOfficerPassword: guarded(async (request) => {
      checkAccountId(request.officerId, 'officer_id');
      const reset = await access.resetPassword(request.officerId, request.password, request.resetTotp);
      return {
        officer: officerView(reset.officer),
        totpSecret: reset.totp?.secret ?? '',
        totpUri: reset.totp?.uri ?? '',
      };
    }),
    addClient: guarded(async (request) => {
      const added = await access.addClient(request);
      return { client: clientView(added.client), apiKey: added.apiKey };
    }),
    listClients: guarded(async () => ({ clients: access.clients().map(clientView) })),
    revokeClient: guarded(async (request) => {
      checkAccountId(request.clientId, 'client_id');
      return { client: clientView(await access.revokeClient(request.clientId)) };
    }),
    beginOidcSignIn: guarded(async (request, _actor, call) => {
      // The caller's address without its port: the console passes the browser's.
      const peer = call.getPeer();
      const begun = await oidcOf(deps).begin(request.redirectUri, peer.slice(0, peer.lastIndexOf(':')));
      return { authorizationUrl: begun.authorizationUrl, redirectUri: begun.redirectUri, expiresAtMs: begun.expiresAt };
    }),
    completeOidcSignIn: guarded(async (request) => {
      required(request.callbackUrl, 'callback_url');
      if (request.callbackUrl.length > MAX_CALLBACK_URL)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          `callback_url is longer than ${MAX_CALLBACK_URL} characters`,
          { field: 'callback_url', rule: 'max_length' },
        );
      const done = await oidcOf(deps).complete(request.callbackUrl);
      return {
        sessionToken: done.token,
        sessionId: done.sessionId,
        expiresAtMs: done.expiresAt,
        officer: officerView(access.officer(done.officerId)),
      };
    }),
  };
  server.addService(decodingTolerantly(AccessService), implementation);
}
