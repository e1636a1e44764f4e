import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/console/server/console-server.js';
import { base32Decode, totp } from '../../src/access/totp.js';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import { NodeEventType } from '@tracenet/proto';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { startNode, testConfig, type TestNode } from '../support/nodes.js';
import { signInAsUser, startIdentityProvider, type TestIdentityProvider } from '../support/oidc-provider.js';

/** A port nobody listens on right now: the console binds it, so that its callback URL is known before. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly setCookies: readonly string[];
  json(): { error?: { code: string; message: string; field: string; rule: string } } & Record<string, unknown>;
}

/** A browser's cookies for the console: what the server set, as a browser keeps them. */
class Jar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(lines: readonly string[]): void {
    for (const line of lines) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0\b/i.test(line))
        this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

describe('the console server over HTTPS', () => {
  const clock = new ManualScheduler();
  let bed: TestNode;
  let idp: TestIdentityProvider;
  let origin = '';
  let callback = '';
  let adminSecret = '';

  /** One HTTPS request to the console, the path sent exactly as given (no normalising). */
  const send = (
    method: string,
    path: string,
    options: { jar?: Jar; body?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const url = new URL(origin);
      const headers: Record<string, string> = { ...options.headers };
      if (options.jar && options.jar.cookies.size > 0) headers.cookie = options.jar.header();
      if (options.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = String(Buffer.byteLength(options.body));
      }
      const req = httpsRequest(
        { host: url.hostname, port: url.port, method, path, headers, rejectUnauthorized: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const setCookies = res.headers['set-cookie'] ?? [];
            options.jar?.take(setCookies);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              setCookies,
              json: () => JSON.parse(text),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The server may answer (413) and close before the whole body is sent.
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      });
      if (options.body !== undefined) req.write(options.body);
      req.end();
    });

  /** A browser that has loaded the console: its cookies and CSRF token. */
  const browser = async () => {
    const jar = new Jar();
    const session = (await send('GET', '/api/session', { jar })).json() as { csrfToken: string };
    return { jar, csrf: session.csrfToken };
  };
  const post = (b: { jar: Jar; csrf: string }, path: string, body: unknown) =>
    send('POST', path, { jar: b.jar, body: JSON.stringify(body), headers: { 'x-csrf-token': b.csrf } });
  const rpc = (b: { jar: Jar; csrf: string }, method: string, body: unknown = {}) =>
    post(b, `/api/rpc/tracenet.v1.${method}`, body);
  /** Sign-ins through POST /api/session so far: the route allows 20 a minute from one address. */
  let signIns = 0;
  const signIn = async (officerId: string, password = 'correct horse battery') => {
    const b = await browser();
    signIns += 1;
    // A TOTP code is good once: the next sign-in of the administrator is in a later 30-second step.
    if (officerId === 'ada') await clock.advance(30_000);
    const totpCode = officerId === 'ada' ? totp(base32Decode(adminSecret), clock.now()) : '';
    const answer = await post(b, '/api/session', { officerId, password, totpCode });
    expect(answer.status, answer.text).toBe(200);
    return { ...b, answer };
  };

  /** GET /api/events for a signed-in browser: the ids of the events it receives, as they come. */
  const events = (b: { jar: Jar }, options: { lastEventId?: string; query?: string } = {}) =>
    new Promise<{ status: number; ids: number[]; ended: Promise<void>; received(count: number): Promise<void> }>(
      (resolve, reject) => {
        const url = new URL(origin);
        const headers: Record<string, string> = { cookie: b.jar.header() };
        if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
        const req = httpsRequest(
          {
            host: url.hostname,
            port: url.port,
            path: `/api/events${options.query ?? ''}`,
            rejectUnauthorized: false,
            headers,
          },
          (res) => {
            const ids: number[] = [];
            const waiting: Array<() => void> = [];
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              text += chunk;
              for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
                const id = /^id: (\d+)$/m.exec(text.slice(0, end));
                if (id) ids.push(Number(id[1]));
                text = text.slice(end + 2);
              }
              for (const wake of waiting.splice(0)) wake();
            });
            const ended = new Promise<void>((done) => res.on('end', () => done()));
            const received = async (count: number) => {
              while (ids.length < count) await new Promise<void>((wake) => waiting.push(wake));
            };
            resolve({ status: res.statusCode ?? 0, ids, ended, received });
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ECONNRESET') reject(error);
        });
        req.end();
      },
    );
  /** One node event committed now (a case changed): the next sequence. */
  const happen = async () => {
    await bed.node.journal.write(
      [],
      [],
      [
        {
          type: NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
          caseId: 'c-1',
          traceId: '',
          peer: '',
          state: 0,
          messageId: '',
          summary: 'changed',
        },
      ],
    );
    return bed.node.journal.lastEventSequence;
  };

  beforeAll(async () => {
    const port = await freePort();
    origin = `https://127.0.0.1:${port}`;
    callback = `${origin}/auth/oidc/callback`;
    idp = await startIdentityProvider({
      redirectUri: callback,
      users: { ana: { name: 'Ana Officer', groups: ['tracing-officers'] }, nora: { name: 'Nora Nogroup' } },
    });
    bed = await startNode('FRA', {
      memory: true,
      clock,
      config: testConfig({
        console: {
          ...DEFAULT_CONFIG.console,
          listen: `127.0.0.1:${port}`,
          idleTimeoutMs: 60_000,
          oidcRedirectUri: callback,
        },
        access: {
          sessionTtlMs: 120_000,
          oidc: {
            ...DEFAULT_CONFIG.access.oidc,
            issuer: idp.issuer,
            clientId: idp.clientId,
            clientSecret: idp.clientSecret,
            rolesClaim: 'groups',
            roleMap: { 'tracing-officers': ['officer'] },
            scopes: ['openid', 'profile', 'groups'],
          },
        },
      }),
    });
    const officer = { displayName: 'Officer', password: 'correct horse battery', requireTotp: false };
    const admin = await bed.node.access.addOfficer({ ...officer, officerId: 'ada', roles: ['administrator'] });
    adminSecret = admin.totp?.secret ?? '';
    await bed.node.access.addOfficer({ ...officer, officerId: 'olga', roles: ['officer'] });
    await bed.node.access.addOfficer({ ...officer, officerId: 'audra', roles: ['auditor'] });
  });
  afterAll(async () => {
    await bed?.cleanup();
    await idp?.close();
  });

  it('sets the session cookie __Host-, HttpOnly, Secure, SameSite=Strict, Path=/, and never shows the token', async () => {
    const { answer } = await signIn('olga');
    const line = answer.setCookies.find((l) => l.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    const attributes = line
      .split(';')
      .slice(1)
      .map((a) => a.trim().split('=')[0]?.toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['path', 'httponly', 'secure', 'samesite']));
    expect(line).toMatch(/; Path=\/(;|$)/);
    expect(line).toMatch(/SameSite=Strict/);
    expect(attributes).not.toContain('domain');
    // A browser-session cookie: kept past the node session's end, so the console can say it expired.
    expect(attributes).not.toContain('expires');
    expect(attributes).not.toContain('max-age');
    expect(answer.json().sessionToken ?? '').toBe('');
    expect(answer.headers['cache-control']).toBe('no-store');
  });

  it('sends the exact Content Security Policy: nothing inline, nothing from outside the node', async () => {
    const page = await send('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none';script-src 'self';style-src 'self';img-src 'self' data: blob:;connect-src 'self';" +
        "font-src 'self';manifest-src 'self';form-action 'self';base-uri 'none';frame-ancestors 'none';object-src 'none'",
    );
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.text).not.toMatch(/\bstyle=|https?:\/\//);
  });

  it('refuses a call without the CSRF token, with a wrong one, or cross-site without cookies, and writes nothing', async () => {
    const admin = await signIn('ada');
    const before = bed.node.access.officers().length;
    const add = { officerId: 'mallory', displayName: 'M', roles: ['officer'], password: 'correct horse battery' };
    const path = '/api/rpc/tracenet.v1.Access/AddOfficer';
    const missing = await send('POST', path, { jar: admin.jar, body: JSON.stringify(add) });
    const wrong = await send('POST', path, {
      jar: admin.jar,
      body: JSON.stringify(add),
      headers: { 'x-csrf-token': `${admin.csrf.slice(0, -2)}xx` },
    });
    const crossSite = await send('POST', path, {
      body: JSON.stringify(add),
      headers: { origin: 'https://evil.example', 'x-csrf-token': admin.csrf },
    });
    for (const refused of [missing, wrong, crossSite]) {
      expect(refused.status).toBe(403);
      expect(refused.json().error).toMatchObject({ code: 'FORBIDDEN', field: 'request' });
    }
    expect(bed.node.access.officers()).toHaveLength(before);
    // The same call with the token is accepted: the refusals were the CSRF check's.
    const done = await rpc(admin, 'Access/AddOfficer', add);
    expect(done.status, done.text).toBe(200);
    expect(bed.node.access.officers()).toHaveLength(before + 1);
  });

  it('refuses unknown methods, streaming methods, the sign-in methods and other HTTP methods', async () => {
    const olga = await signIn('olga');
    const unknown = await rpc(olga, 'Cases/DropEverything');
    expect([unknown.status, unknown.json().error?.rule]).toEqual([404, 'known_method']);
    const streaming = await rpc(olga, 'Authority/WatchEvents');
    expect([streaming.status, streaming.json().error?.rule]).toEqual([404, 'known_method']);
    const login = await rpc(olga, 'Access/Login', { officerId: 'olga', password: 'x' });
    expect([login.status, login.json().error?.rule]).toEqual([404, 'known_method']);
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const other = await send(method, '/api/session', { jar: olga.jar, headers: { 'x-csrf-token': olga.csrf } });
      expect(other.status).toBe(404);
      expect(other.json().error).toMatchObject({ code: 'NOT_FOUND', rule: 'known_path' });
    }
  });

  it('refuses a body over the limit (413), malformed JSON and prototype pollution with a Tracenet body', async () => {
    const olga = await signIn('olga');
    const path = '/api/rpc/tracenet.v1.Cases/GetCase';
    const headers = { 'x-csrf-token': olga.csrf };
    const huge = await send('POST', path, {
      jar: olga.jar,
      headers,
      body: Buffer.alloc(12 * 1024 * 1024 + 1, 0x20),
    });
    expect(huge.status, huge.text.slice(0, 300)).toBe(413);
    expect(huge.json().error).toMatchObject({ code: 'ENVELOPE_TOO_LARGE' });
    const malformed = await send('POST', path, { jar: olga.jar, headers, body: '{"caseId": "c_1",' });
    expect(malformed.status).toBe(400);
    expect(malformed.json().error).toMatchObject({ code: 'MALFORMED' });
    for (const body of [
      '{"__proto__": {"admin": true}, "caseId": "c_1"}',
      '{"constructor": {"prototype": {"admin": true}}}',
      '[1, 2]',
      '"c_1"',
    ]) {
      const polluted = await send('POST', path, { jar: olga.jar, headers, body });
      expect(polluted.status, body).toBe(400);
      expect(polluted.json().error?.code, body).toBe('MALFORMED');
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses huge strings and control characters in fields by the node’s own validation', async () => {
    const olga = await signIn('olga');
    for (const caseId of ['c'.repeat(1024 * 1024), 'c_1\u0000', 'c_1\u202e', 'c_1\n']) {
      const refused = await rpc(olga, 'Cases/GetCase', { caseId });
      expect(refused.status, JSON.stringify(caseId.slice(0, 8))).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(refused.text.length, refused.text.slice(0, 300)).toBeLessThan(2000);
    }
    const control = await post(await browser(), '/api/session', { officerId: 'olga\u0000', password: 'x\u0007' });
    signIns += 1;
    expect(control.status).toBeGreaterThanOrEqual(400);
    expect(control.status).toBeLessThan(500);
  });

  it('answers an internal error with "internal error; nothing was written" and no detail', async () => {
    const admin = await signIn('ada');
    const access = bed.node.access as unknown as { officers: () => unknown };
    const real = access.officers;
    access.officers = () => {
      throw new Error('ENOENT /var/lib/tracenet/secret-path leveldb exploded');
    };
    try {
      const failed = await rpc(admin, 'Access/ListOfficers');
      expect(failed.status).toBe(500);
      expect(failed.json().error).toMatchObject({
        code: 'INTERNAL',
        message: 'internal error; nothing was written',
        rule: 'internal',
      });
      expect(failed.text).not.toMatch(/secret-path|leveldb|ENOENT|at /);
    } finally {
      access.officers = real;
    }
  });

  it('answers 404 to every path that leaves the web folder, plain or encoded', async () => {
    for (const path of [
      '/assets/../../config.json',
      '/assets/%2e%2e/%2e%2e/config.json',
      '/assets/..%2f..%2fconfig.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/..%5c..%5cconfig.json',
      '/..%2f..%2f..%2fetc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/assets/%252e%252e/%252e%252e/config.json',
      '/assets/..%00/config.json',
    ]) {
      const answer = await send('GET', path);
      expect([path, answer.status]).toEqual([path, answer.status === 400 ? 400 : 404]);
      expect(answer.text, path).not.toMatch(/participantId|"dependencies"|root:/);
    }
  });

  it('refuses a role without the permission with FORBIDDEN naming the role needed', async () => {
    const olga = await signIn('olga');
    const refused = await rpc(olga, 'Access/ListOfficers');
    expect(refused.status).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'FORBIDDEN', field: 'authorization', rule: 'role' });
    expect(refused.json().error?.message).toMatch(/administrator/);
  });

  it('keeps an officer’s console language on the node (SetMyLanguage), validated and audited', async () => {
    const olga = await signIn('olga');
    expect((await rpc(olga, 'Access/WhoAmI')).json().language ?? '').toBe('');
    for (const language of ['de', 'AR', 'ar\u0000', 'x'.repeat(100_000)]) {
      const refused = await rpc(olga, 'Access/SetMyLanguage', { language });
      expect([refused.status, refused.json().error?.rule]).toEqual([400, 'one_of']);
    }
    const empty = await rpc(olga, 'Access/SetMyLanguage', { language: '' });
    expect([empty.status, empty.json().error]).toEqual([
      400,
      expect.objectContaining({ code: 'MISSING_FIELD', field: 'language' }),
    ]);
    const set = await rpc(olga, 'Access/SetMyLanguage', { language: 'ar' });
    expect([set.status, set.json().language]).toEqual([200, 'ar']);
    expect((await rpc(olga, 'Access/WhoAmI')).json().language).toBe('ar');
    expect(bed.node.access.officer('olga').language).toBe('ar');
    const lines = (await bed.node.store.audit.entries.all()).map((e) => JSON.parse(e.line) as Record<string, unknown>);
    expect(lines.filter((l) => l.type === 'officer.language_set').map((l) => l.fields ?? l)).toEqual([
      expect.objectContaining({ officerId: 'olga', language: 'ar', previous: '' }),
    ]);
    // Another officer's language is not this officer's to set: the call names no officer.
    const audra = await signIn('audra');
    expect((await rpc(audra, 'Access/WhoAmI')).json().language ?? '').toBe('');
    await rpc(olga, 'Access/SetMyLanguage', { language: 'ru' });
    expect(bed.node.access.officer('audra').language ?? '').toBe('');
  });

  it('signs an officer out after the idle timeout and ends the node session, so the cookie is dead', async () => {
    const olga = await signIn('olga');
    expect((await rpc(olga, 'Access/WhoAmI')).status).toBe(200);
    const stolen = olga.jar.cookies.get(SESSION_COOKIE) ?? '';
    await clock.advance(59_000);
    expect((await rpc(olga, 'Access/WhoAmI')).status).toBe(200);
    await clock.advance(60_001);
    const idle = await rpc(olga, 'Access/WhoAmI');
    expect([idle.status, idle.json().error?.rule]).toEqual([401, 'session_idle']);
    expect(olga.jar.cookies.has(SESSION_COOKIE)).toBe(false);
    const thief = await browser();
    thief.jar.cookies.set(SESSION_COOKIE, stolen);
    const replay = await rpc(thief, 'Access/WhoAmI');
    expect([replay.status, replay.json().error?.rule]).toEqual([401, 'session_revoked']);
  });

  it('does not count the calls of a page the officer has not touched as activity (x-tracenet-idle-ms)', async () => {
    const olga = await signIn('olga');
    const call = (idleMs: string) =>
      send('POST', '/api/rpc/tracenet.v1.Access/WhoAmI', {
        jar: olga.jar,
        body: '{}',
        headers: { 'x-csrf-token': olga.csrf, 'x-tracenet-idle-ms': idleMs },
      });
    // A hostile value changes nothing: not a number, negative or huge counts as no idleness at most.
    for (const value of ['-5', 'NaN', '1e400', 'x'.repeat(10_000)]) expect((await call(value)).status, value).toBe(200);
    // A screen reloading by itself after live events: its page says the officer is away.
    await clock.advance(40_000);
    expect((await call('40000')).status).toBe(200);
    await clock.advance(30_000);
    const idle = await call('70000');
    expect([idle.status, idle.json().error?.rule]).toEqual([401, 'session_idle']);
  });

  it('tells a browser whose node session expired to sign in again, on a call and on reload', async () => {
    const olga = await signIn('olga');
    for (let i = 0; i < 2; i++) {
      await clock.advance(50_000);
      expect((await rpc(olga, 'Access/WhoAmI')).status).toBe(200);
    }
    await clock.advance(30_000);
    const cookie = olga.jar.cookies.get(SESSION_COOKIE) ?? '';
    const expired = await rpc(olga, 'Access/WhoAmI');
    expect([expired.status, expired.json().error?.rule]).toEqual([401, 'session_expired']);
    const reload = await browser();
    reload.jar.cookies.set(SESSION_COOKIE, cookie);
    const session = (await send('GET', '/api/session', { jar: reload.jar })).json();
    expect(session.who).toBeNull();
    expect(session.ended).toEqual({ code: 'UNAUTHORIZED', rule: 'session_expired' });
    expect(reload.jar.cookies.has(SESSION_COOKIE)).toBe(false);
  });

  it('ends the node session at sign-out and refuses the cookie afterwards', async () => {
    const olga = await signIn('olga');
    const stolen = olga.jar.cookies.get(SESSION_COOKIE) ?? '';
    const out = await post(olga, '/api/session/end', {});
    expect(out.status).toBe(200);
    // Cleared with the attributes it was set with: a browser ignores a __Host- cookie without Secure.
    const cleared = out.setCookies.find((l) => l.startsWith(`${SESSION_COOKIE}=;`)) ?? '';
    expect(cleared).toMatch(/; Secure/);
    expect(cleared).toMatch(/; Path=\/(;|$)/);
    expect(olga.jar.cookies.has(SESSION_COOKIE)).toBe(false);
    const thief = await browser();
    thief.jar.cookies.set(SESSION_COOKIE, stolen);
    const replay = await rpc(thief, 'Access/WhoAmI');
    expect([replay.status, replay.json().error?.rule]).toEqual([401, 'session_revoked']);
  });

  it('replaces a session cookie set before sign-in (fixation) and ends the session it named', async () => {
    const first = await signIn('olga');
    const earlier = first.jar.cookies.get(SESSION_COOKIE) ?? '';
    // An attacker planted the cookie of a session of theirs, or a made-up one, in the browser.
    const victim = await browser();
    victim.jar.cookies.set(SESSION_COOKIE, earlier);
    signIns += 1;
    const signedIn = await post(victim, '/api/session', { officerId: 'audra', password: 'correct horse battery' });
    expect(signedIn.status).toBe(200);
    const now = victim.jar.cookies.get(SESSION_COOKIE) ?? '';
    expect(now).not.toBe(earlier);
    expect((await rpc(victim, 'Access/WhoAmI')).json().id).toBe('audra');
    const attacker = await rpc(first, 'Access/WhoAmI');
    expect([attacker.status, attacker.json().error?.rule]).toEqual([401, 'session_revoked']);
  });

  it('signs an officer in through the identity provider with the console callback', async () => {
    const b = await browser();
    expect((await send('GET', '/api/session', { jar: b.jar })).json().oidc).toBe(true);
    const begin = await send('GET', '/auth/oidc', { jar: b.jar });
    expect(begin.status).toBe(302);
    const authorization = new URL(String(begin.headers.location));
    expect(authorization.origin).toBe(idp.issuer);
    expect(authorization.searchParams.get('redirect_uri')).toBe(callback);
    const stateCookie = begin.setCookies.find((l) => l.startsWith('__Host-tracenet-oidc=')) ?? '';
    expect(stateCookie).toMatch(/HttpOnly/);
    expect(stateCookie).toMatch(/Secure/);
    expect(stateCookie).toMatch(/SameSite=Lax/);
    const back = new URL(await signInAsUser(authorization.href, callback, 'ana'));
    // Another browser with the link (a victim sent it by an attacker) is not signed in.
    const other = await send('GET', `${back.pathname}${back.search}`);
    expect([other.status, other.headers.location]).toEqual([302, '/?signin=oidc_state']);
    const done = await send('GET', `${back.pathname}${back.search}`, { jar: b.jar });
    expect([done.status, done.headers.location]).toEqual([302, '/']);
    const cookie = done.setCookies.find((l) => l.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    expect(cookie).toMatch(/HttpOnly; Secure; SameSite=Strict/);
    const who = (await send('GET', '/api/session', { jar: b.jar })).json().who as { id: string; roles: string[] };
    expect(who).toMatchObject({ id: 'ana@oidc', roles: ['officer'] });
    // The same callback again: the state was single use.
    const replay = await send('GET', `${back.pathname}${back.search}`, { jar: b.jar });
    expect(replay.headers.location).toBe('/?signin=oidc_state');
  });

  it('returns a refused sign-in through the provider to the sign-in screen with its rule', async () => {
    const b = await browser();
    const begin = await send('GET', '/auth/oidc', { jar: b.jar });
    const back = new URL(await signInAsUser(String(begin.headers.location), callback, 'nora'));
    const refused = await send('GET', `${back.pathname}${back.search}`, { jar: b.jar });
    expect([refused.status, refused.headers.location]).toEqual([302, '/?signin=oidc_no_role']);
    expect(refused.setCookies.some((l) => l.startsWith(`${SESSION_COOKIE}=`))).toBe(false);
    const again = await send('GET', '/auth/oidc', { jar: b.jar });
    const cancelled = new URL(await signInAsUser(String(again.headers.location), callback, 'ana', { cancel: true }));
    const denied = await send('GET', `${cancelled.pathname}${cancelled.search}`, { jar: b.jar });
    expect(denied.headers.location).toBe('/?signin=oidc_provider_refused');
  });

  it('reads no body before the session is checked: a huge upload without a session is refused at once', async () => {
    const b = await browser();
    const url = new URL(origin);
    for (const [path, type] of [
      ['/api/import?format=csv', 'application/json'],
      ['/api/rpc/tracenet.v1.Cases/ListCases', 'application/json'],
    ] as const) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path,
            rejectUnauthorized: false,
            headers: {
              cookie: b.jar.header(),
              'x-csrf-token': b.csrf,
              'content-type': type,
              'content-length': String(400 * 1024 * 1024),
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
            req.destroy();
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
        });
        // 1 KiB of the announced 400 MiB: the answer comes without waiting for the rest.
        req.write(Buffer.alloc(1024, 0x20));
      });
      expect(status, path).toBe(401);
    }
  });

  it('refuses a call larger than the Authority port takes, whatever the JSON limit', async () => {
    const olga = await signIn('olga');
    const huge = 'x'.repeat(5 * 1024 * 1024);
    const answer = await rpc(olga, 'Authority/SendNotice', { recipient: 'BEL', subject: 's', text: huge });
    expect(answer.json().error?.rule).toBe('max_bytes');
  });

  it('ends live updates at sign-out, and keeps at most 4 streams per session', async () => {
    const olga = await signIn('olga');
    const open = () => events(olga);
    const streams = [await open(), await open(), await open(), await open()];
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200]);
    const fifth = await open();
    expect(fifth.status).toBe(429);
    await post(olga, '/api/session/end', {});
    await Promise.all(streams.map((s) => s.ended));
  });

  it('resumes live updates after the Last-Event-ID a browser sends; any other value opens them live only', async () => {
    await happen();
    await happen();
    const stored = await happen();
    // A browser that reconnects names the last event it saw (header, or ?after= for a first connection);
    // a new page names none, and an id that is not a positive whole number counts as none: nothing
    // stored is sent, only what happens from now. (At most 4 streams a session.)
    let olga = await signIn('olga');
    const resumed = await events(olga, { lastEventId: String(stored - 2) });
    const queried = await events(olga, { query: `?after=${stored - 1}` });
    const fresh = [await events(olga), await events(olga, { lastEventId: 'abc' })];
    let next = await happen();
    await Promise.all([resumed.received(3), queried.received(2), ...fresh.map((s) => s.received(1))]);
    expect([resumed.ids, queried.ids, ...fresh.map((s) => s.ids)]).toEqual([
      [stored - 1, stored, next],
      [stored, next],
      [next],
      [next],
    ]);
    await post(olga, '/api/session/end', {});
    olga = await signIn('olga');
    const hostile = ['0', '-1', '1e400', '9007199254740993'];
    const live = await Promise.all(hostile.map((lastEventId) => events(olga, { lastEventId })));
    expect(live.map((s) => s.status)).toEqual([200, 200, 200, 200]);
    next = await happen();
    for (const stream of live) await stream.received(1);
    expect(live.map((s) => s.ids)).toEqual(hostile.map(() => [next]));
    await post(olga, '/api/session/end', {});
    await Promise.all(live.map((s) => s.ended));
  });

  it('limits sign-in to 20 a minute per address with a Tracenet 429, and measures what a flood audits', async () => {
    const auditSize = async () => (await bed.node.store.audit.entries.all()).length;
    const before = await auditSize();
    const b = await browser();
    let accepted = 0;
    let limited: Answer | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      const answer = await send('POST', '/api/session', {
        jar: b.jar,
        headers: { 'x-csrf-token': b.csrf, 'x-forwarded-for': `10.0.0.${i}` },
        body: JSON.stringify({ officerId: `nobody${i}`, password: 'guess' }),
      });
      if (answer.status === 429) limited = answer;
      else {
        expect(answer.json().error?.rule).toBe('credentials');
        accepted += 1;
      }
    }
    expect(accepted + signIns).toBe(20);
    expect(limited?.json().error).toMatchObject({ code: 'RATE_LIMITED' });
    // Known leftover of the node: one officer.sign_in_failed entry per attempt with an unknown
    // officer. Through the console, the rate limit caps it at 20 entries a minute per address.
    const growth = (await auditSize()) - before;
    expect(growth).toBe(accepted);
    process.stdout.write(`audit growth for ${accepted} unknown-officer attempts: ${growth} entries\n`);
  });
});
