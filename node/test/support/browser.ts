import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { chromiumLaunchOptions } from '../../../scripts/chromium.mjs';
import type { LocalNode, LocalOfficer } from '../../src/dev/index.js';

/** The languages of the console, as its picker names them. */
export type ConsoleLanguage = 'ar' | 'zh' | 'en' | 'fr' | 'ru' | 'es';

const SCREENSHOTS = fileURLToPath(new URL('../../../docs/console/', import.meta.url));

/** Starts Debian's Chromium (installed when missing, as root); close it in afterAll. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch(chromiumLaunchOptions());
}

/**
 * A fresh browser profile (cookies, storage) for one officer, trusting the node's self-signed
 * certificate, with the console's language chosen before the first page.
 */
export async function officerContext(browser: Browser, language: ConsoleLanguage = 'en'): Promise<BrowserContext> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    locale: language,
    viewport: { width: 1280, height: 860 },
  });
  await context.addInitScript({
    content: `if (!localStorage.getItem('tracenet.language')) localStorage.setItem('tracenet.language', ${JSON.stringify(language)});`,
  });
  return context;
}

/** Opens the console of `node` and submits the sign-in form as `officer` (with the TOTP code when it has one). */
export async function submitSignIn(page: Page, node: LocalNode, officer: LocalOfficer): Promise<void> {
  await page.goto(node.consoleUrl);
  await page.locator('input[name="officerId"]').fill(officer.officerId);
  await page.locator('input[name="password"]').fill(officer.password);
  if (officer.totpSecret !== '') await page.locator('input[name="totpCode"]').fill(officer.code());
  await page.locator('form button[type="submit"]').click();
}

/** Signs in as `officer` through the sign-in form; resolves when the console's menu shows. */
export async function signIn(page: Page, node: LocalNode, officer: LocalOfficer): Promise<void> {
  await submitSignIn(page, node, officer);
  await page.locator('nav.menu').waitFor();
}

/** The text of the first alert on the page (a refusal), once one shows. */
export async function alertText(page: Page): Promise<string> {
  const alert = page.getByRole('alert').first();
  await alert.waitFor();
  return (await alert.textContent()) ?? '';
}

/** The officer `officerId` of a local node (created with `officers`). */
export function officerOf(node: LocalNode, officerId: string): LocalOfficer {
  const officer = node.officers.get(officerId);
  if (!officer) throw new Error(`${node.participantId} has no officer ${officerId}`);
  return officer;
}

/**
 * Runs axe-core on the page as it is and fails on any serious or critical violation (WCAG 2.1 A
 * and AA rules), naming each rule and the elements it found.
 */
export async function expectAccessible(page: Page): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const serious = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
  expect(serious).toEqual([]);
}

/**
 * Saves a screenshot named `name` (e.g. `inbox-en`): into docs/console/ when
 * TRACENET_SCREENSHOTS=1 and docs/console.md shows it (scripts/console-screenshots.mjs), else next to
 * the test run's temporary files. Returns the path.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  // Into the docs only the pictures docs/console.md shows; the others stay with the run.
  const shown =
    process.env.TRACENET_SCREENSHOTS === '1' &&
    readFileSync(join(SCREENSHOTS, '..', 'console.md'), 'utf8').includes(`(console/${name}.png)`);
  const folder = shown ? SCREENSHOTS : join(process.env.TMPDIR ?? '/tmp', 'tracenet-console-shots');
  await mkdir(folder, { recursive: true });
  const path = join(folder, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
