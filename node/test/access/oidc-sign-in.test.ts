import { ErrorCode, TracenetError } from '@tracenet/proto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/access/actor.js';
import {
  claimValues,
  type ExternalSignIn,
  mapRoles,
  OIDC_MAX_PENDING_PER_SOURCE,
  OidcSignIn,
  officerIdOf,
} from '../../src/access/oidc-sign-in.js';
import { DEFAULT_CONFIG, loadConfig } from '../../src/config/config.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { signInAsUser, startIdentityProvider, type TestIdentityProvider } from '../support/oidc-provider.js';

const REDIRECT = 'http://127.0.0.1:7450/oidc/callback';
const ROLE_MAP = { 'tracing-officers': ['officer'], 'tracing-supervisors': ['officer', 'supervisor'] } as const;

/** The node's accounts as the sign-in sees them, recording each session opened. */
function recordingSessions() {
  const opened: { officerId: string; displayName: string; roles: readonly Role[]; method: string }[] = [];
  const sessions: ExternalSignIn = {
    signInExternal: async (request) => {
      opened.push({ ...request });
      return { token: `tns_${'a'.repeat(43)}`, session: { sessionId: `ses_${opened.length}`, expiresAtMs: 1 } };
    },
  };
  return { opened, sessions };
}

async function rejection(promise: Promise<unknown>): Promise<TracenetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TracenetError);
  return error as TracenetError;
}

describe('sign-in through an OpenID provider (oidc-provider on loopback)', () => {
  let idp: TestIdentityProvider;
  const clock = new ManualScheduler(Date.now());
  const audited: { officerId: string; reason: string }[] = [];
  const signInFor = (accounts: ExternalSignIn, overrides: Partial<typeof DEFAULT_CONFIG.access.oidc> = {}) =>
    new OidcSignIn({
      settings: {
        ...DEFAULT_CONFIG.access.oidc,
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        redirectUri: REDIRECT,
        rolesClaim: 'groups',
        roleMap: ROLE_MAP,
        scopes: ['openid', 'profile', 'groups'],
        ...overrides,
      },
      accounts,
      clock,
      logger: pino({ level: 'silent' }),
      audit: async (refusal) => {
        audited.push({ ...refusal });
      },
    });

  beforeAll(async () => {
    idp = await startIdentityProvider({
      redirectUri: REDIRECT,
      users: {
        ana: { name: 'Ana Officer', groups: ['tracing-officers', 'staff'] },
        sam: { name: 'Sam Supervisor', groups: ['tracing-supervisors'] },
        nora: { name: 'Nora Nogroup' },
        greta: { name: 'Greta Elsewhere', groups: ['finance'] },
      },
    });
  });
  afterAll(() => idp.close());

  it('signs an officer in with PKCE, state and nonce, and opens a session with the mapped roles', async () => {
    const { opened, sessions } = recordingSessions();
    const signIn = signInFor(sessions);
    const begun = await signIn.begin();
    const url = new URL(begun.authorizationUrl);
    expect(url.origin).toBe(idp.issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(begun.redirectUri).toBe(REDIRECT);

    const callback = await signInAsUser(begun.authorizationUrl, REDIRECT, 'sam');
    const done = await signIn.complete(callback);
    expect(done).toMatchObject({
      officerId: 'sam@oidc',
      name: 'Sam Supervisor',
      roles: ['officer', 'supervisor'],
      sessionId: 'ses_1',
    });
    expect(opened).toEqual([
      { officerId: 'sam@oidc', displayName: 'Sam Supervisor', roles: ['officer', 'supervisor'], method: 'oidc' },
    ]);
  });

  it('refuses a wrong state, and the same callback twice (a replayed code)', async () => {
    const { opened, sessions } = recordingSessions();
    const signIn = signInFor(sessions);
    const begun = await signIn.begin();
    const callback = await signInAsUser(begun.authorizationUrl, REDIRECT, 'ana');
    const forged = new URL(callback);
    forged.searchParams.set('state', 'x'.repeat(43));
    const wrong = await rejection(signIn.complete(forged.href));
    expect([wrong.code, wrong.field, wrong.rule]).toEqual([ErrorCode.ERROR_CODE_UNAUTHORIZED, 'state', 'oidc_state']);

    expect((await signIn.complete(callback)).roles).toEqual(['officer']);
    const replay = await rejection(signIn.complete(callback));
    expect(replay.rule).toBe('oidc_state');
    expect(opened).toHaveLength(1);
  });

  it('keeps at most 20 sign-ins in progress per address, so that one address cannot push out the others', async () => {
    const { sessions } = recordingSessions();
    const signIn = signInFor(sessions);
    const kept = await signIn.begin('', 'ipv4:192.0.2.10');
    for (let i = 1; i < OIDC_MAX_PENDING_PER_SOURCE; i++) await signIn.begin('', 'ipv4:203.0.113.7');
    // A 20th from 203.0.113.7 is fine, the 21st is refused; another address still begins.
    await signIn.begin('', 'ipv4:203.0.113.7');
    const flood = await rejection(signIn.begin('', 'ipv4:203.0.113.7'));
    expect([flood.code, flood.field, flood.rule]).toEqual([
      ErrorCode.ERROR_CODE_RATE_LIMITED,
      'source',
      'oidc_pending',
    ]);
    const callback = await signInAsUser(kept.authorizationUrl, REDIRECT, 'ana');
    expect((await signIn.complete(callback)).roles).toEqual(['officer']);
  });

  it('refuses a code redeemed with another sign-in’s PKCE verifier, and the provider refuses it without one', async () => {
    const { opened, sessions } = recordingSessions();
    const signIn = signInFor(sessions);
    const first = await signIn.begin();
    const second = await signIn.begin();
    const callback = new URL(await signInAsUser(first.authorizationUrl, REDIRECT, 'ana'));
    const code = callback.searchParams.get('code') ?? '';

    // Someone who intercepted the code cannot redeem it without the verifier that stayed in the node.
    const stolen = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${idp.clientId}:${idp.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
    });
    expect(stolen.status).toBe(400);
    expect(((await stolen.json()) as { error: string }).error).toBe('invalid_grant');

    // Injected into another sign-in (its state, so its verifier): the provider refuses the code.
    const injected = new URL(callback);
    injected.searchParams.set('state', new URL(second.authorizationUrl).searchParams.get('state') ?? '');
    const refused = await rejection(signIn.complete(injected.href));
    expect([refused.code, refused.field, refused.rule]).toEqual([
      ErrorCode.ERROR_CODE_UNAUTHORIZED,
      'code',
      'oidc_code',
    ]);
    expect(refused.message).toContain('invalid_grant');
    expect(opened).toHaveLength(0);
  });

  it('reports a sign-in the user cancelled at the provider, with the provider’s error', async () => {
    const { opened, sessions } = recordingSessions();
    const signIn = signInFor(sessions);
    const begun = await signIn.begin();
    const callback = await signInAsUser(begun.authorizationUrl, REDIRECT, 'ana', { cancel: true });
    expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
    const error = await rejection(signIn.complete(callback));
    expect([error.code, error.field, error.rule]).toEqual([
      ErrorCode.ERROR_CODE_UNAUTHORIZED,
      'callback_url',
      'oidc_provider_refused',
    ]);
    expect(error.message).toContain('access_denied');
    expect(opened).toHaveLength(0);
  });

  it('refuses a user whose claim is missing or maps to no role, saying which claim', async () => {
    const { opened, sessions } = recordingSessions();
    const signIn = signInFor(sessions);
    audited.length = 0;
    for (const [login, says] of [
      ['nora', 'is missing'],
      ['greta', 'names only "finance"'],
    ] as const) {
      const begun = await signIn.begin();
      const error = await rejection(signIn.complete(await signInAsUser(begun.authorizationUrl, REDIRECT, login)));
      expect([error.code, error.field, error.rule]).toEqual([
        ErrorCode.ERROR_CODE_UNAUTHORIZED,
        'access.oidc.rolesClaim',
        'oidc_no_role',
      ]);
      expect(error.message).toContain(`${login}@oidc`);
      expect(error.message).toContain(`"groups" ${says}`);
    }
    expect(opened).toHaveLength(0);
    expect(audited).toEqual([
      { officerId: 'nora@oidc', reason: 'oidc_no_role' },
      { officerId: 'greta@oidc', reason: 'oidc_no_role' },
    ]);
  });

  it('checks the ID token: another audience, issuer or nonce, signed by the provider’s key, is refused', async () => {
    const { opened, sessions } = recordingSessions();
    const signIn = signInFor(sessions);
    audited.length = 0;
    try {
      for (const [claim, value] of [
        ['aud', 'another-client'],
        ['iss', 'https://idp.elsewhere.example'],
        ['nonce', 'a-nonce-of-another-sign-in'],
      ] as const) {
        idp.tamperIdTokens((claims) => ({ ...claims, [claim]: value }));
        const begun = await signIn.begin();
        const error = await rejection(signIn.complete(await signInAsUser(begun.authorizationUrl, REDIRECT, 'ana')));
        expect([error.code, error.field, error.rule]).toEqual([
          ErrorCode.ERROR_CODE_UNAUTHORIZED,
          'id_token',
          'oidc_id_token',
        ]);
        expect(error.message).toContain(`"${claim}"`);
      }
      // The same tampering, but a valid token: accepted (the test above can fail).
      idp.tamperIdTokens((claims) => claims);
      const begun = await signIn.begin();
      expect((await signIn.complete(await signInAsUser(begun.authorizationUrl, REDIRECT, 'ana'))).roles).toEqual([
        'officer',
      ]);
    } finally {
      idp.tamperIdTokens(undefined);
    }
    expect(opened).toHaveLength(1);
    expect(audited).toEqual(Array.from({ length: 3 }, () => ({ officerId: '', reason: 'oidc_id_token' })));
  });

  it('refuses a sign-in that comes back after ten minutes, and a callback at another address', async () => {
    const { sessions } = recordingSessions();
    const signIn = signInFor(sessions);
    const begun = await signIn.begin();
    const callback = await signInAsUser(begun.authorizationUrl, REDIRECT, 'ana');
    const elsewhere = await rejection(signIn.complete(callback.replace('/oidc/callback', '/other')));
    expect([elsewhere.code, elsewhere.rule]).toEqual([ErrorCode.ERROR_CODE_INVALID_FIELD, 'oidc_redirect_uri']);
    await clock.advance(10 * 60_000);
    expect((await rejection(signIn.complete(callback))).rule).toBe('oidc_state');
  });

  it('logs no secret: neither the client secret, the code, the state nor any token', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const { sessions } = recordingSessions();
    const signIn = new OidcSignIn({
      settings: {
        ...DEFAULT_CONFIG.access.oidc,
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        redirectUri: REDIRECT,
        rolesClaim: 'groups',
        roleMap: ROLE_MAP,
        scopes: ['openid', 'profile', 'groups'],
      },
      accounts: sessions,
      clock,
      logger,
    });
    const secrets: string[] = [idp.clientSecret];
    const attempt = async (login: string) => {
      const begun = await signIn.begin();
      const callback = new URL(await signInAsUser(begun.authorizationUrl, REDIRECT, login));
      secrets.push(callback.searchParams.get('code') ?? '', callback.searchParams.get('state') ?? '');
      return signIn.complete(callback.href).catch((e: unknown) => e);
    };
    await attempt('ana');
    await attempt('nora');
    try {
      idp.tamperIdTokens((claims) => ({ ...claims, aud: 'another-client' }));
      await attempt('ana');
    } finally {
      idp.tamperIdTokens(undefined);
    }
    expect(lines.length).toBeGreaterThan(1);
    const log = lines.join('');
    for (const secret of secrets) expect(secret.length > 10 && log.includes(secret)).toBe(false);
    expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(log).not.toContain('tns_');
  });

  it('says when the provider cannot be reached or is not configured', async () => {
    const { sessions } = recordingSessions();
    const unreachable = await rejection(signInFor(sessions, { issuer: 'http://127.0.0.1:1' }).begin());
    expect([unreachable.code, unreachable.field, unreachable.rule]).toEqual([
      ErrorCode.ERROR_CODE_UNAVAILABLE,
      'access.oidc.issuer',
      'oidc_discovery',
    ]);
    const off = await rejection(signInFor(sessions, { issuer: '' }).begin());
    expect([off.code, off.rule]).toEqual([ErrorCode.ERROR_CODE_UNIMPLEMENTED, 'oidc_configured']);
  });
});

describe('roles from a claim', () => {
  it('reads a list, a string of several values, or a nested claim', () => {
    expect(claimValues({ groups: ['a', 'b', 3] }, 'groups')).toEqual(['a', 'b']);
    expect(claimValues({ groups: 'a b,c' }, 'groups')).toEqual(['a', 'b', 'c']);
    expect(claimValues({ realm_access: { roles: ['x'] } }, 'realm_access.roles')).toEqual(['x']);
    expect(claimValues({ 'realm_access.roles': ['y'], realm_access: { roles: ['x'] } }, 'realm_access.roles')).toEqual([
      'y',
    ]);
    expect(claimValues({}, 'groups')).toBeUndefined();
    expect(claimValues({ groups: { a: 1 } }, 'groups')).toEqual([]);
  });

  it('names the officer after the subject, or a digest of a subject that is no account id', () => {
    expect(officerIdOf('ana.lopez')).toBe('ana.lopez@oidc');
    expect(officerIdOf('00uA1b2C3')).toMatch(/^[0-9a-f]{24}@oidc$/);
    expect(officerIdOf('00uA1b2C3')).not.toBe(officerIdOf('00ua1b2c3'));
    expect(officerIdOf('x'.repeat(60))).toMatch(/^[0-9a-f]{24}@oidc$/);
  });

  it('maps values through the role map, each role once, never through inherited keys', () => {
    expect(mapRoles(['tracing-supervisors', 'tracing-officers'], ROLE_MAP)).toEqual(['officer', 'supervisor']);
    expect(mapRoles(['constructor', 'toString'], ROLE_MAP)).toEqual([]);
  });
});

describe('access.oidc configuration', () => {
  it('takes the keys from the file, a role map as an object, and the environment', async () => {
    const config = await loadConfig({
      overrides: {
        'access.oidc.issuer': 'https://sso.interior.example/realms/police',
        'access.oidc.clientId': 'tracenet',
        'access.oidc.roleMap': { officers: ['officer'] },
      },
      env: { TRACENET_ACCESS_OIDC_CLIENT_SECRET: 's3cret', TRACENET_ACCESS_OIDC_SCOPES: 'openid,groups' },
    });
    expect(config.access.oidc).toMatchObject({ clientSecret: 's3cret', scopes: ['openid', 'groups'] });
    const fromEnv = await loadConfig({
      env: {
        TRACENET_ACCESS_OIDC_ISSUER: 'http://127.0.0.1:9000',
        TRACENET_ACCESS_OIDC_CLIENT_ID: 'tracenet',
        TRACENET_ACCESS_OIDC_ROLE_MAP: '{"g":["auditor"]}',
      },
    });
    expect(fromEnv.access.oidc.roleMap).toEqual({ g: ['auditor'] });
  });

  it.each([
    ['access.oidc.issuer', 'http://sso.example', 'must be an https URL'],
    ['access.oidc.redirectUri', 'http://example.org/cb', 'must be an https URL'],
    ['access.oidc.roleMap', { g: ['root'] }, '"g" names "root"'],
    ['access.oidc.roleMap', { g: [] }, '"g" names none'],
    ['access.oidc.scopes', ['profile'], 'includes openid'],
    ['access.oidc.rolesClaim', 'a..b', 'claim name'],
  ])('refuses %s = %j', async (key, value, problem) => {
    const error = await rejection(loadConfig({ overrides: { [key]: value } }));
    expect([error.field, error.rule]).toEqual([key, 'config']);
    expect(error.message).toContain(problem);
  });

  it('needs a client id and a role map once an issuer is set', async () => {
    const noClient = await rejection(loadConfig({ overrides: { 'access.oidc.issuer': 'https://sso.example' } }));
    expect(noClient.field).toBe('access.oidc.clientId');
    const noMap = await rejection(
      loadConfig({ overrides: { 'access.oidc.issuer': 'https://sso.example', 'access.oidc.clientId': 'c' } }),
    );
    expect(noMap.field).toBe('access.oidc.roleMap');
  });
});
