import { createServer } from 'node:net';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcSignIn } from '../../src/access/oidc-sign-in.js';
import { loginThroughIdentityProvider } from '../../src/cli/oidc-login.js';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { signInAsUser, startIdentityProvider, type TestIdentityProvider } from '../support/oidc-provider.js';

/** A port nobody listens on right now (the provider must know the redirect URI before the CLI listens). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('tracenet login --oidc: the loopback redirect listener', () => {
  let idp: TestIdentityProvider;
  let redirectUri: string;
  const scheduler = new ManualScheduler(Date.now());
  let signIn: OidcSignIn;

  beforeAll(async () => {
    redirectUri = `http://127.0.0.1:${await freePort()}/oidc/callback`;
    idp = await startIdentityProvider({
      redirectUri,
      users: { ana: { name: 'Ana Officer', groups: ['tracing-officers'] }, nora: { name: 'Nora Nogroup' } },
    });
    signIn = new OidcSignIn({
      settings: {
        ...DEFAULT_CONFIG.access.oidc,
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        redirectUri,
        rolesClaim: 'groups',
        roleMap: { 'tracing-officers': ['officer'] },
        scopes: ['openid', 'profile', 'groups'],
      },
      accounts: {
        signInExternal: async () => ({
          token: `tns_${'b'.repeat(43)}`,
          session: { sessionId: 'ses_1', expiresAtMs: 7 },
        }),
      },
      clock: scheduler,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(() => idp.close());

  const steps = (browser: (url: string) => Promise<void>) => ({
    begin: async () => {
      const begun = await signIn.begin();
      return { ...begun, expiresAtMs: begun.expiresAt };
    },
    complete: (callbackUrl: string) => signIn.complete(callbackUrl),
    announce: (url: string) => {
      void browser(url);
    },
    scheduler,
  });

  it('receives the browser on the redirect URI, completes the sign-in and tells the browser', async () => {
    let page = '';
    const done = await loginThroughIdentityProvider(
      steps(async (url) => {
        const callback = await signInAsUser(url, redirectUri, 'ana');
        // Something else the browser asks for is not the sign-in.
        expect((await fetch(new URL('/favicon.ico', redirectUri))).status).toBe(404);
        const response = await fetch(callback);
        page = `${response.status} ${await response.text()}`;
      }),
    );
    expect(done).toMatchObject({ officerId: 'ana@oidc', token: `tns_${'b'.repeat(43)}`, roles: ['officer'] });
    await expect.poll(() => page).toContain('200');
    expect(page).toContain('You are signed in');
  });

  it('reports a refused sign-in in the terminal and in the browser', async () => {
    let page = '';
    const error = await loginThroughIdentityProvider(
      steps(async (url) => {
        const response = await fetch(await signInAsUser(url, redirectUri, 'nora'));
        page = `${response.status} ${await response.text()}`;
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TracenetError);
    expect((error as TracenetError).rule).toBe('oidc_no_role');
    await expect.poll(() => page).toContain('401');
  });

  it('gives up when the browser does not come back before the sign-in expires', async () => {
    let announced: () => void = () => {};
    const listening = new Promise<void>((resolve) => {
      announced = resolve;
    });
    const waiting = loginThroughIdentityProvider({ ...steps(async () => {}), announce: () => announced() }).catch(
      (e: unknown) => e,
    );
    // The listener is up once the URL is announced; then ten minutes pass without the browser.
    await listening;
    await scheduler.advance(10 * 60_000);
    const error = (await waiting) as TracenetError;
    expect([error.code, error.rule]).toEqual([ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED, 'oidc_sign_in_expired']);
  });

  it('refuses a redirect URI it cannot listen on', async () => {
    const error = await loginThroughIdentityProvider({
      begin: async () => ({
        authorizationUrl: 'https://sso.example/auth',
        redirectUri: 'https://console.example/cb',
        expiresAtMs: 0,
      }),
      complete: async () => undefined,
      announce: () => {},
      scheduler,
    }).catch((e: unknown) => e as TracenetError);
    expect([error?.field, error?.rule]).toEqual(['access.oidc.redirectUri', 'oidc_loopback_redirect']);
  });
});
