/**
 * `tracenet login --oidc` as a user runs it (issue 17, section 1): a real node process configured
 * with a real OpenID provider started by this test on loopback; the CLI process prints the
 * address to open, the test plays the browser, and the session lands in the login file (mode
 * 0600) and is then used by `tracenet whoami`.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSodium } from '../../src/crypto/sodium.js';
import { signInAsUser, startIdentityProvider, type TestIdentityProvider } from '../support/oidc-provider.js';
import { ProcessBed, requireBuiltCli, until } from './processes.js';

const bed = new ProcessBed();
let idp: TestIdentityProvider;
let redirectUri = '';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  requireBuiltCli();
  await initSodium();
  redirectUri = `http://127.0.0.1:${await freePort()}/oidc/callback`;
  idp = await startIdentityProvider({
    redirectUri,
    users: { ana: { name: 'Ana Officer', groups: ['tracing-officers'] }, nora: { name: 'Nora Nogroup' } },
  });
});

afterAll(async () => {
  await bed.cleanup();
  await idp.close();
});

describe('tracenet login --oidc', () => {
  it('prints the address, receives the browser on loopback, keeps the session at mode 0600', async () => {
    const dataDir = await bed.init('FRA');
    await writeFile(
      join(dataDir, 'config.json'),
      JSON.stringify({
        access: {
          oidc: {
            issuer: idp.issuer,
            clientId: idp.clientId,
            redirectUri,
            rolesClaim: 'groups',
            roleMap: { 'tracing-officers': ['officer'] },
            scopes: ['openid', 'profile', 'groups'],
          },
        },
      }),
    );
    await bed.start(dataDir, {
      env: { TRACENET_LOG_LEVEL: 'error', TRACENET_ACCESS_OIDC_CLIENT_SECRET: idp.clientSecret },
    });
    const home = await bed.tempDir('cli-home');
    const env = { TRACENET_LOGIN_FILE: join(home, 'tracenet', 'logins.json') };

    const login = bed.launch(['login', '--oidc', '--json', '--data', dataDir], env);
    let address = '';
    await until(() => {
      address = /https?:\/\/\S+\/auth\?\S+/.exec(login.output())?.[0] ?? '';
      return address !== '';
    }, 'the address to open');
    expect(login.output()).toContain('Open this address in your browser');
    const back = await fetch(await signInAsUser(address, redirectUri, 'ana'));
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('You are signed in');
    expect(await login.exit()).toEqual({ code: 0, signal: null });
    const json = login.output().slice(login.output().indexOf('{'), login.output().lastIndexOf('}') + 1);
    const result = JSON.parse(json) as { officerId: string; roles: string[]; loginFile: string };
    expect(result).toMatchObject({ officerId: 'ana@oidc', roles: ['officer'], loginFile: env.TRACENET_LOGIN_FILE });
    expect(login.output()).not.toMatch(/tns_[A-Za-z0-9_-]{43}/);
    expect((await stat(env.TRACENET_LOGIN_FILE)).mode & 0o777).toBe(0o600);
    expect(await readFile(env.TRACENET_LOGIN_FILE, 'utf8')).toMatch(/tns_[A-Za-z0-9_-]{43}/);

    const whoami = await bed.cliOk(['whoami', '--json', '--data', dataDir], { env });
    expect(JSON.parse(whoami.stdout)).toMatchObject({ kind: 'officer', id: 'ana@oidc', roles: ['officer'] });

    // A user the role map does not know: the CLI says why, exits non-zero, and keeps nothing new.
    const refused = bed.launch(['login', '--oidc', '--data', dataDir], {
      TRACENET_LOGIN_FILE: join(home, 'other', 'logins.json'),
    });
    await until(() => /https?:\/\/\S+\/auth\?\S+/.test(refused.output()), 'the second address to open');
    const other = /https?:\/\/\S+\/auth\?\S+/.exec(refused.output())?.[0] ?? '';
    expect((await fetch(await signInAsUser(other, redirectUri, 'nora'))).status).toBe(401);
    expect((await refused.exit()).code).not.toBe(0);
    expect(refused.output()).toContain(
      'tracenet: UNAUTHORIZED: the identity provider signed in nora@oidc, but its claim "groups" is missing',
    );
    await expect(stat(join(home, 'other', 'logins.json'))).rejects.toThrow();
  });
});
