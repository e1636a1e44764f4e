import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, startLocalFederation } from '../../src/dev/index.js';
import {
  alertText,
  expectAccessible,
  launchBrowser,
  officerContext,
  officerOf,
  screenshot,
  signIn,
  submitSignIn,
} from '../support/browser.js';

describe('the console shell', () => {
  let federation: LocalFederation;
  let browser: Browser;
  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA'],
        console: true,
        officers: {
          FRA: [
            { officerId: 'amina', password: 'correct horse battery', roles: ['officer'] },
            { officerId: 'hugo', password: 'correct horse battery', roles: ['supervisor'] },
          ],
        },
      }),
      launchBrowser(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  it('signs an officer in and shows the menu of the role, in English and in Arabic', async () => {
    const fra = federation.node('FRA');
    for (const language of ['en', 'ar'] as const) {
      const context = await officerContext(browser, language);
      const page = await context.newPage();
      await page.goto(fra.consoleUrl);
      await expectAccessible(page);
      await screenshot(page, `sign-in-${language}`);
      await signIn(page, fra, officerOf(fra, 'amina'));
      expect(await page.locator('html').getAttribute('dir')).toBe(language === 'ar' ? 'rtl' : 'ltr');
      await expectAccessible(page);
      await screenshot(page, `shell-${language}`);
      await context.close();
    }
  });

  it('refuses a wrong password with a clear message and keeps the officer on the sign-in', async () => {
    const fra = federation.node('FRA');
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await submitSignIn(page, fra, { ...officerOf(fra, 'amina'), password: 'wrong password' });
    expect(await alertText(page)).toMatch(/Wrong officer ID, password or code/);
    expect(await page.locator('nav.menu').count()).toBe(0);
    await context.close();
  });

  it('asks a supervisor for the code of the authenticator and signs in with it', async () => {
    const fra = federation.node('FRA');
    const context = await officerContext(browser, 'fr');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'hugo'));
    expect(await page.locator('nav.menu').textContent()).toContain('Validations');
    await context.close();
  });
});
