import {
  AccessClient,
  type AccessServer,
  ErrorCode,
  RecordsClient,
  type RecordsServer,
  TracenetError,
} from '@tracenet/proto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { oidcLoginLines, runOidcLogin } from '../../src/cli/oidc-login.js';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { systemScheduler } from '../../src/util/scheduler.js';
import { startNode, testConfig, type TestNode } from '../support/nodes.js';
import { signInAsUser, startIdentityProvider, type TestIdentityProvider } from '../support/oidc-provider.js';
import { weapon } from '../records/support.js';

/** A port nobody listens on right now: the CLI's redirect listener binds it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The Access API's BeginOidcSignIn / CompleteOidcSignIn on a real node, with a real OpenID
 * provider on loopback: the session is a real one, checked by the node's permission table.
 */
describe('Access: sign-in through the identity provider', () => {
  let idp: TestIdentityProvider;
  let bed: TestNode;
  let anonymous: UnaryClient<AccessServer>;
  let REDIRECT = '';

  beforeAll(async () => {
    REDIRECT = `http://127.0.0.1:${await freePort()}/oidc/callback`;
    idp = await startIdentityProvider({
      redirectUri: REDIRECT,
      users: {
        ana: { name: 'Ana Officer', groups: ['tracing-officers'] },
        aud: { name: 'Audrey Auditor', groups: ['oversight'] },
        nora: { name: 'Nora Nogroup' },
      },
    });
    bed = await startNode('FRA', {
      memory: true,
      config: testConfig({
        access: {
          oidc: {
            ...DEFAULT_CONFIG.access.oidc,
            issuer: idp.issuer,
            clientId: idp.clientId,
            clientSecret: idp.clientSecret,
            redirectUri: REDIRECT,
            rolesClaim: 'groups',
            roleMap: { 'tracing-officers': ['officer'], oversight: ['auditor'] },
            scopes: ['openid', 'profile', 'groups'],
          },
        },
      }),
    });
    anonymous = connectUnary<AccessServer>(AccessClient, bed.node.authorityAddress, '');
  });
  afterAll(async () => {
    anonymous.close();
    await bed.cleanup();
    await idp.close();
  });

  async function signIn(login: string) {
    const begun = await anonymous.call('beginOidcSignIn', { redirectUri: '' });
    expect(begun.redirectUri).toBe(REDIRECT);
    const callbackUrl = await signInAsUser(begun.authorizationUrl, REDIRECT, login);
    return { callbackUrl, done: await anonymous.call('completeOidcSignIn', { callbackUrl }) };
  }

  it('gives a signed-in officer a session with the mapped roles, which can call an officer method', async () => {
    const { done } = await signIn('ana');
    expect(done.sessionToken).toMatch(/^tns_[A-Za-z0-9_-]{43}$/);
    expect(done.officer).toMatchObject({ officerId: 'ana@oidc', displayName: 'Ana Officer', roles: ['officer'] });
    const access = connectUnary<AccessServer>(AccessClient, bed.node.authorityAddress, done.sessionToken);
    const records = connectUnary<RecordsServer>(RecordsClient, bed.node.authorityAddress, done.sessionToken);
    try {
      expect(await access.call('whoAmI', {})).toMatchObject({
        kind: 'officer',
        id: 'ana@oidc',
        roles: ['officer'],
        session: done.sessionId,
      });
      const put = await records.call('putRecord', { record: weapon({}, { serialNumber: 'OIDC-0001' }) });
      expect(put.record?.recordId).not.toBe('');
      // The officer role is no administrator's.
      await expect(access.call('listOfficers', {})).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
    } finally {
      access.close();
      records.close();
    }
  });

  it('gives an auditor-mapped user a session that cannot change records', async () => {
    const { done } = await signIn('aud');
    expect(done.officer?.roles).toEqual(['auditor']);
    const records = connectUnary<RecordsServer>(RecordsClient, bed.node.authorityAddress, done.sessionToken);
    try {
      await expect(
        records.call('putRecord', { record: weapon({}, { serialNumber: 'OIDC-0002' }) }),
      ).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_FORBIDDEN });
    } finally {
      records.close();
    }
  });

  it('sends the browser back only to a redirect URI of its configuration', async () => {
    // Named explicitly, the CLI's own redirect URI is the one an empty field means.
    expect((await anonymous.call('beginOidcSignIn', { redirectUri: REDIRECT })).redirectUri).toBe(REDIRECT);
    // Anything else, near or far, is refused: the provider's code would go to whoever listens there.
    // This node has no console, so the console's callback is not one of them either.
    const url = new URL(REDIRECT);
    for (const redirectUri of [
      'https://evil.example/oidc/callback',
      `${REDIRECT}/`,
      `${REDIRECT}?next=https://evil.example`,
      REDIRECT.replace('http:', 'https:'),
      REDIRECT.replace('/oidc/callback', '/OIDC/callback'),
      `http://127.0.0.1:${Number(url.port) + 1}/oidc/callback`,
      `https://127.0.0.1:${url.port}/auth/oidc/callback`,
      `${REDIRECT}\n`,
      `${REDIRECT}${'x'.repeat(100_000)}`,
    ]) {
      await expect(anonymous.call('beginOidcSignIn', { redirectUri }), redirectUri.slice(0, 80)).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'redirect_uri',
        rule: 'oidc_redirect_uri',
      });
    }
  });

  it('refuses a replayed callback, a forged state and a user without a mapped role, opening no session', async () => {
    const { callbackUrl } = await signIn('ana');
    const replay = await anonymous.call('completeOidcSignIn', { callbackUrl }).catch((e: unknown) => e);
    expect(replay).toBeInstanceOf(TracenetError);
    expect(replay).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAUTHORIZED, field: 'state', rule: 'oidc_state' });

    const begun = await anonymous.call('beginOidcSignIn', { redirectUri: '' });
    const forged = new URL(await signInAsUser(begun.authorizationUrl, REDIRECT, 'ana'));
    forged.searchParams.set('state', 'forged');
    await expect(anonymous.call('completeOidcSignIn', { callbackUrl: forged.href })).rejects.toMatchObject({
      rule: 'oidc_state',
    });

    const before = bed.node.access.officers().length;
    const nora = await anonymous.call('beginOidcSignIn', { redirectUri: '' });
    await expect(
      anonymous.call('completeOidcSignIn', {
        callbackUrl: await signInAsUser(nora.authorizationUrl, REDIRECT, 'nora'),
      }),
    ).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAUTHORIZED,
      field: 'access.oidc.rolesClaim',
      rule: 'oidc_no_role',
    });
    expect(bed.node.access.officers().map((o) => o.officerId)).not.toContain('nora@oidc');
    expect(bed.node.access.officers()).toHaveLength(before);

    // Audited: ana's sign-ins by method, nora's refusal with its reason; the state refusals are not.
    const lines = (await bed.node.store.audit.entries.all()).map((e) => JSON.parse(e.line) as Record<string, unknown>);
    const fields = (type: string) =>
      lines.filter((l) => l.type === type).map((l) => (l.fields ?? l) as Record<string, unknown>);
    expect(fields('officer.signed_in')).toContainEqual(
      expect.objectContaining({ officerId: 'ana@oidc', method: 'oidc' }),
    );
    const failed = fields('officer.sign_in_failed');
    expect(failed).toEqual([
      expect.objectContaining({ officerId: 'nora@oidc', reason: 'oidc_no_role', method: 'oidc' }),
    ]);
  });

  it('refuses an empty or oversized callback URL before anything else', async () => {
    await expect(anonymous.call('completeOidcSignIn', { callbackUrl: '' })).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_MISSING_FIELD,
      field: 'callback_url',
    });
    await expect(
      anonymous.call('completeOidcSignIn', { callbackUrl: `${REDIRECT}?state=${'x'.repeat(9000)}` }),
    ).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD, field: 'callback_url', rule: 'max_length' });
  });

  it('tracenet login --oidc: prints the URL, receives the browser, keeps a working session', async () => {
    const told: string[] = [];
    const saved: { officerId: string; sessionId: string; token: string; expiresAtMs: number }[] = [];
    const result = await runOidcLogin({
      access: anonymous,
      save: async (login) => {
        saved.push(login);
        return '/home/ana/.config/tracenet/logins.json';
      },
      tell: (text) => told.push(text),
      scheduler: systemScheduler,
      browser: async (url) => {
        await fetch(await signInAsUser(url, REDIRECT, 'ana'));
      },
    });
    expect(told.join('')).toContain('Open this address in your browser');
    expect(told.join('')).toContain(`${idp.issuer}/auth?`);
    expect(result).toMatchObject({ officerId: 'ana@oidc', displayName: 'Ana Officer', roles: ['officer'] });
    expect(saved).toHaveLength(1);
    expect(oidcLoginLines(result).join('\n')).not.toContain(saved[0]?.token ?? 'no token');
    expect(oidcLoginLines(result)[0]).toContain('Signed in as ana@oidc (Ana Officer), roles officer');
    const access = connectUnary<AccessServer>(AccessClient, bed.node.authorityAddress, saved[0]?.token ?? '');
    try {
      expect(await access.call('whoAmI', {})).toMatchObject({
        kind: 'officer',
        id: 'ana@oidc',
        session: result.sessionId,
      });
    } finally {
      access.close();
    }
  });

  it('says UNIMPLEMENTED on a node without an identity provider', async () => {
    const plain = await startNode('BEL', { memory: true });
    const client = connectUnary<AccessServer>(AccessClient, plain.node.authorityAddress, '');
    try {
      await expect(client.call('beginOidcSignIn', { redirectUri: '' })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_UNIMPLEMENTED,
        field: 'access.oidc.issuer',
        rule: 'oidc_configured',
      });
    } finally {
      client.close();
      await plain.cleanup();
    }
  });
});
