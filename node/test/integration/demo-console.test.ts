import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module of the repository's scripts, without types
import { totpCode } from '../../../scripts/totp.mjs';
import { launchBrowser } from '../support/browser.js';
import { demoConsoles, demoOfficers, startConsoleDemo } from '../support/demo.js';

interface Reply {
  status: number;
  cookies: string[];
  body: Record<string, unknown>;
}

/** One HTTPS call to a console on 127.0.0.1 (the printed host name is for browsers), trusting its self-signed certificate. */
function call(
  port: number,
  method: string,
  path: string,
  cookies: string[],
  body?: unknown,
  csrf = '',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        rejectUnauthorized: false,
        headers: {
          cookie: cookies.join('; '),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...(csrf ? { 'x-csrf-token': csrf } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? ''),
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>,
          }),
        );
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

/** Signs in through the console's own routes, as its sign-in page does; returns the session cookies. */
async function signIn(port: number, officerId: string, password: string, totpCode: string): Promise<Reply> {
  const session = await call(port, 'GET', '/api/session', []);
  const csrf = String(session.body.csrfToken);
  const login = await call(port, 'POST', '/api/session', session.cookies, { officerId, password, totpCode }, csrf);
  if (login.status !== 200) return login;
  const cookies = [...session.cookies, ...login.cookies];
  return call(port, 'GET', '/api/session', cookies);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// `npm run demo -- --console` is what README tells a newcomer to run: the test runs the same script
// (after the build, as npm run demo does), reads what it prints, and signs in with it.
describe('npm run demo -- --console', () => {
  let demo: ChildProcess | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) demo.kill('SIGKILL');
  });

  it('prints each console with working sign-ins, keeps two sign-ins apart in one browser, and stops on SIGINT', async () => {
    const started = await startConsoleDemo();
    const { child, first } = started;
    demo = child;
    const output = started.output();
    const consoles = demoConsoles(output);
    expect([...consoles]).toEqual([
      ['FRA', `https://fra.localhost:${first + 2}/`],
      ['BEL', `https://bel.localhost:${first}/`],
      ['KEN', `https://ken.localhost:${first + 1}/`],
      ['org:UN-POE', `https://un-poe.localhost:${first + 3}/`],
    ]);
    const officers = demoOfficers(output);
    expect(officers).toHaveLength(16);
    expect(new Set(officers.map((o) => o.role))).toEqual(
      new Set(['officer', 'supervisor', 'administrator', 'auditor']),
    );
    expect(officers.filter((o) => o.secret !== '').map((o) => o.role)).toEqual(
      Array(4).fill(['supervisor', 'administrator']).flat(),
    );
    // The trace of the two tabs names its officers and consoles.
    expect(output).toMatch(/Tab 1: https:\/\/fra\.localhost:\d+\/ +sign in as fra\.officer/);
    expect(output).toMatch(/Tab 2: https:\/\/bel\.localhost:\d+\/ +sign in as bel\.officer/);

    // Every printed sign-in works on its console, with the code of the printed secret.
    const portOf = (node: string) =>
      Number(
        [...consoles.values()]
          .find((u) => u.includes(`//${node}.`))
          ?.split(':')[2]
          ?.replace('/', ''),
      );
    for (const o of officers) {
      const signedIn = await signIn(portOf(o.node), o.officerId, o.password, o.secret ? totpCode(o.secret) : '');
      expect({ officer: o.officerId, status: signedIn.status, who: signedIn.body.who }).toMatchObject({
        officer: o.officerId,
        status: 200,
        who: { kind: 'officer', id: o.officerId, roles: [o.role] },
      });
    }

    // Two officers in two tabs of one browser, on the printed host names: each stays signed in.
    browser = await launchBrowser();
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const tabs = [];
    for (const [node, officerId] of [
      ['FRA', 'fra.officer'],
      ['BEL', 'bel.officer'],
    ] as const) {
      const tab = await context.newPage();
      await tab.goto(consoles.get(node) ?? '');
      await tab.locator('input[name="officerId"]').fill(officerId);
      await tab.locator('input[name="password"]').fill('demo-password');
      await tab.locator('form button[type="submit"]').click();
      await tab.locator('nav.menu').waitFor();
      tabs.push(tab);
    }
    for (const tab of tabs) {
      await tab.reload();
      await tab.locator('nav.menu').waitFor();
    }
    expect(await tabs[0]?.locator('header.topbar').textContent()).toContain('fra.officer');
    expect(await tabs[1]?.locator('header.topbar').textContent()).toContain('bel.officer');
    await browser.close();
    browser = undefined;

    // Ctrl-C: every node stops, the data is deleted, exit code 0.
    const nodes = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
    expect(nodes).toHaveLength(4);
    const dataDirs = nodes.map((pid) => {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[argv.indexOf('--data') + 1] ?? '';
    });
    expect(await started.interrupt()).toBe(0);
    expect(started.output()).toContain('all nodes stopped; demo data deleted');
    expect(nodes.filter(alive)).toEqual([]);
    for (const dir of dataDirs) {
      expect(dir).not.toBe('');
      expect(existsSync(dirname(dir))).toBe(false);
    }
  }, 120_000);
});
