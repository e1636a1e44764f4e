import { createPrivateKey, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

/** A user of the test identity provider: the claims its ID token and UserInfo carry beside `sub`. */
export interface TestUser {
  readonly name: string;
  /** The value of the `groups` claim; absent: the user has no such claim. */
  readonly groups?: readonly string[];
}

/** A real OpenID provider (oidc-provider, with its development login and consent pages) on 127.0.0.1. */
export interface TestIdentityProvider {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly provider: Provider;
  /**
   * Rewrites the claims of every ID token the token endpoint returns from now on and signs it
   * again with the provider's own key: a provider that issues a token for another audience or
   * under another issuer. `undefined` stops it.
   */
  tamperIdTokens(rewrite: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined): void;
  close(): Promise<void>;
}

/**
 * Starts oidc-provider on a free loopback port with one confidential client (PKCE required) and
 * the given users; scopes `openid profile groups`, the `groups` claim in the `groups` scope.
 */
export async function startIdentityProvider(options: {
  readonly users: Readonly<Record<string, TestUser>>;
  readonly redirectUri: string;
  readonly clientId?: string;
}): Promise<TestIdentityProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = options.clientId ?? 'tracenet-node';
  const clientSecret = `secret-${randomUUID()}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: [randomUUID()] },
    pkce: { required: () => true, methods: ['S256'] },
    ttl: { AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'groups'],
    findAccount: (_ctx: KoaContextWithOIDC, sub: string) => {
      const user = options.users[sub];
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({ sub, name: user.name, ...(user.groups ? { groups: [...user.groups] } : {}) }),
      };
    },
  });
  let rewrite: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined;
  const key = createPrivateKey({ key: jwk as never, format: 'jwk' });
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: unknown } | undefined;
    if (rewrite && ctx.path === '/token' && body && typeof body.id_token === 'string') {
      ctx.body = { ...body, id_token: resign(body.id_token, rewrite, key) };
    }
  });
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    redirectUri: options.redirectUri,
    provider,
    tamperIdTokens: (next) => {
      rewrite = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function resign(token: string, rewrite: (claims: Record<string, unknown>) => Record<string, unknown>, key: KeyObject) {
  const [header = '', payload = ''] = token.split('.');
  const claims = rewrite(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>);
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/**
 * Plays the user's browser: opens `authorizationUrl`, follows redirects with cookies, fills the
 * provider's login form as `login` and accepts the consent form (or, with `cancel`, presses the
 * provider's Cancel link), and returns the URL the
 * provider finally redirects to (the redirect URI with `code` and `state`), without opening it.
 */
export async function signInAsUser(
  authorizationUrl: string,
  redirectUri: string,
  login: string,
  options: { readonly cancel?: boolean } = {},
): Promise<string> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  let init: { method: 'GET' | 'POST'; body?: URLSearchParams } = { method: 'GET' };
  for (let step = 0; step < 20; step++) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url).href;
      if (next.startsWith(redirectUri)) return next;
      url = next;
      init = { method: 'GET' };
      continue;
    }
    const html = await response.text();
    // The user presses "Cancel" on the provider's page: it sends them back with access_denied.
    const cancel = /<a href="([^"]+)">\[ Cancel \]<\/a>/.exec(html)?.[1];
    if (options.cancel && cancel) {
      url = new URL(cancel.replace(/&amp;/g, '&'), url).href;
      init = { method: 'GET' };
      continue;
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
    if (!action || !prompt)
      throw new Error(`the provider showed no login or consent form at ${url} (${response.status})`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    init = {
      method: 'POST',
      body: new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt }),
    };
  }
  throw new Error('the sign-in did not come back to the redirect URI within 20 steps');
}
