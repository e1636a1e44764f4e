import { createServer } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, startLocalFederation } from '../../src/dev/index.js';
import {
  alertText,
  type ConsoleLanguage,
  expectAccessible,
  launchBrowser,
  officerContext,
  officerOf,
  screenshot,
  signIn,
  submitSignIn,
} from '../support/browser.js';
import { startIdentityProvider, type TestIdentityProvider } from '../support/oidc-provider.js';

/** A port nobody listens on right now: the console binds it, so that its callback is known to the provider first. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Signs in at the test provider's own pages (its development login and consent forms) as `login`. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  const consent = page.locator('form input[name="prompt"][value="consent"]');
  if (await consent.count().catch(() => 0)) await page.locator('button[type="submit"]').click();
}

/** Sessions on this node last one minute (the least access.sessionTtlMs allows): the expiry test waits for one. */
const SESSION_TTL_MS = 60_000;

describe('the console sign-in', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let idp: TestIdentityProvider;

  beforeAll(async () => {
    const port = await freePort();
    const callback = `https://127.0.0.1:${port}/auth/oidc/callback`;
    idp = await startIdentityProvider({
      redirectUri: callback,
      users: { ana: { name: 'Ana Officer', groups: ['tracing-officers'] }, nora: { name: 'Nora Nogroup' } },
    });
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA'],
        console: true,
        ports: { FRA: { console: port } },
        nodeEnv: {
          FRA: {
            TRACENET_ACCESS_SESSION_TTL_MS: String(SESSION_TTL_MS),
            TRACENET_CONSOLE_OIDC_REDIRECT_URI: callback,
            TRACENET_ACCESS_OIDC_ISSUER: idp.issuer,
            TRACENET_ACCESS_OIDC_CLIENT_ID: idp.clientId,
            TRACENET_ACCESS_OIDC_CLIENT_SECRET: idp.clientSecret,
            TRACENET_ACCESS_OIDC_ROLES_CLAIM: 'groups',
            TRACENET_ACCESS_OIDC_ROLE_MAP: JSON.stringify({ 'tracing-officers': ['officer'] }),
            TRACENET_ACCESS_OIDC_SCOPES: 'openid,profile,groups',
          },
        },
        officers: {
          FRA: [
            { officerId: 'amina', password: 'correct horse battery', roles: ['officer'] },
            { officerId: 'aude', password: 'correct horse battery', roles: ['auditor'] },
            { officerId: 'lucie', password: 'correct horse battery', roles: ['auditor'] },
          ],
        },
      }),
      launchBrowser(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
    await idp?.close();
  });

  it('signs an officer in through the organisation’s identity provider and back to the route', async () => {
    const fra = federation.node('FRA');
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await page.goto(`${fra.consoleUrl}/#/lookups`);
    const button = page.getByRole('link', { name: 'Sign in with your organisation' });
    await button.waitFor();
    await expectAccessible(page);
    await screenshot(page, 'signin-oidc-en');
    await button.click();
    await page.waitForURL((url) => url.href.startsWith(idp.issuer));
    await signInAtProvider(page, 'ana');
    await page.locator('nav.menu').waitFor();
    expect(await page.locator('header .who').textContent()).toContain('ana@oidc');
    expect(new URL(page.url()).hash).toBe('#/lookups');
    expect(await page.locator('nav.menu a[aria-current="page"]').textContent()).toBe('Lookups');
    await context.close();
  });

  for (const language of ['en', 'ar'] as const satisfies readonly ConsoleLanguage[]) {
    it(`says clearly, in ${language}, when the provider signs in a user without a Tracenet role`, async () => {
      const fra = federation.node('FRA');
      const context = await officerContext(browser, language);
      const page = await context.newPage();
      await page.goto(fra.consoleUrl);
      await page.locator('.sign-in-oidc a').click();
      await signInAtProvider(page, 'nora');
      const text = await alertText(page);
      expect(text).toMatch(language === 'en' ? /your account has no Tracenet role/ : /حسابك ليس له أي دور في Tracenet/);
      expect(new URL(page.url()).search).toBe('');
      expect(await page.locator('nav.menu').count()).toBe(0);
      await expectAccessible(page);
      await screenshot(page, `signin-oidc-refused-${language}`);
      await context.close();
    });

    it(`refuses a wrong password with a clear message in ${language}`, async () => {
      const fra = federation.node('FRA');
      const context = await officerContext(browser, language);
      const page = await context.newPage();
      await submitSignIn(page, fra, { ...officerOf(fra, 'amina'), password: 'wrong password' });
      expect(await alertText(page)).toMatch(
        language === 'en' ? /Wrong officer ID, password or code/ : /\p{Script=Arabic}/u,
      );
      expect(await page.locator('input[name="password"]').inputValue()).toBe('');
      expect(await page.locator('html').getAttribute('dir')).toBe(language === 'ar' ? 'rtl' : 'ltr');
      await expectAccessible(page);
      await screenshot(page, `signin-error-${language}`);
      await context.close();
    });

    it(`tells an officer, in ${language}, that their role does not open a section and which role does`, async () => {
      const fra = federation.node('FRA');
      const context = await officerContext(browser, language);
      const page = await context.newPage();
      await signIn(page, fra, officerOf(fra, 'aude'));
      await page.goto(`${fra.consoleUrl}/#/compose`);
      const text = await alertText(page);
      expect(text).toMatch(language === 'en' ? /Your role \(auditor\) does not open New trace request/ : /دورك/);
      expect(text).toMatch(language === 'en' ? /officer/ : /\p{Script=Arabic}/u);
      expect(await page.locator('nav.menu a[href="#/compose"]').count()).toBe(0);
      await expectAccessible(page);
      await screenshot(page, `signin-forbidden-${language}`);
      await context.close();
    });
  }

  it('opens the console in the language the officer chose, on any browser', async () => {
    const fra = federation.node('FRA');
    const first = await officerContext(browser, 'en');
    const page = await first.newPage();
    await signIn(page, fra, officerOf(fra, 'lucie'));
    await page.locator('header select').selectOption('fr');
    await page.locator('html[lang="fr"]').waitFor();
    await first.close();
    // Another browser, set to English: after sign-in the console switches to the officer's French.
    const second = await officerContext(browser, 'en');
    const other = await second.newPage();
    await signIn(other, fra, officerOf(fra, 'lucie'));
    await other.locator('html[lang="fr"]').waitFor();
    expect(await other.locator('nav.menu').textContent()).toContain('Journal d’audit');
    // Picking a language on the sign-in screen keeps that one for the officer instead.
    const third = await officerContext(browser, 'en');
    const chooser = await third.newPage();
    await chooser.goto(fra.consoleUrl);
    await chooser.locator('.sign-in-language select').selectOption('es');
    await chooser.locator('html[lang="es"]').waitFor();
    const lucie = officerOf(fra, 'lucie');
    await chooser.locator('input[name="officerId"]').fill(lucie.officerId);
    await chooser.locator('input[name="password"]').fill(lucie.password);
    await chooser.locator('form button[type="submit"]').click();
    await chooser.locator('nav.menu').waitFor();
    expect(await chooser.locator('html').getAttribute('lang')).toBe('es');
    await expect
      .poll(
        async () => (await fra.access.call('listOfficers', {})).officers.find((o) => o.officerId === 'lucie')?.language,
      )
      .toBe('es');
    await third.close();
  });

  it('brings an officer whose session expired back to the sign-in, says so, and keeps the route', async () => {
    const fra = federation.node('FRA');
    const contexts = await Promise.all([officerContext(browser, 'en'), officerContext(browser, 'ar')]);
    const pages = await Promise.all(contexts.map((c) => c.newPage()));
    // Both sign in now; their node sessions end a minute later (access.sessionTtlMs).
    await Promise.all(pages.map((page) => signIn(page, fra, officerOf(fra, 'amina'))));
    await Promise.all(pages.map((page) => page.goto(`${fra.consoleUrl}/#/records`)));
    for (const [i, page] of pages.entries()) {
      const language = i === 0 ? 'en' : 'ar';
      // Reload until the node has ended the session: the console then opens on the sign-in.
      await expect
        .poll(
          async () => {
            await page.reload();
            await page.locator('nav.menu, main.sign-in').first().waitFor();
            return page.locator('main.sign-in').count();
          },
          { timeout: SESSION_TTL_MS + 30_000, interval: 2000 },
        )
        .toBe(1);
      expect(await alertText(page)).toMatch(
        language === 'en' ? /Your session expired. Sign in again./ : /\p{Script=Arabic}/u,
      );
      expect(new URL(page.url()).hash).toBe('#/records');
      await expectAccessible(page);
      await screenshot(page, `signin-expired-${language}`);
      const amina = officerOf(fra, 'amina');
      await page.locator('input[name="officerId"]').fill(amina.officerId);
      await page.locator('input[name="password"]').fill(amina.password);
      await page.locator('form button[type="submit"]').click();
      await page.locator('nav.menu a[aria-current="page"][href="#/records"]').waitFor();
    }
    await Promise.all(contexts.map((c) => c.close()));
  }, 150_000);
});
