import { IllicitKind, SeizureCircumstance, WeaponType } from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/index.js';
import {
  type ConsoleLanguage,
  expectAccessible,
  launchBrowser,
  officerContext,
  officerOf,
  screenshot,
  signIn,
} from '../support/browser.js';
import { markingsPng, message } from '../support/console-flow.js';

const ALL_CASES = { role: 0, state: 0, peer: '', overdueOnly: false, limit: 500, cursor: '' };
const CHECK_URL = '**/api/rpc/tracenet.v1.Cases/CheckRequest';

/**
 * Fills what the protocol requires, without the frame serial and without photos (the two items
 * that most often make a trace fail, worth 25 and 15 points of the node's score).
 */
async function fillWithoutSerialAndPhotos(page: Page): Promise<void> {
  await page.locator('#compose-recipient').selectOption('BEL');
  await page.locator('#compose-requestingAuthority').fill('Office central de lutte contre le crime organisé');
  await page.locator('#compose-caseReference').fill('OCLCO-2026-0977');
  await page.locator('#compose-criteria').selectOption(String(IllicitKind.ILLICIT_KIND_NATIONAL_LAW));
  await page.locator('#compose-legalBasis-0').fill('Code de la sécurité intérieure, art. L317-8');
  await page.locator('#compose-findingKind').selectOption('1');
  await page
    .locator('#compose-circumstance')
    .selectOption(String(SeizureCircumstance.SEIZURE_CIRCUMSTANCE_TRAFFICKING));
  await page.locator('#compose-findingDate').fill('2026-11-02');
  await page.locator('#compose-findingPlace').fill('Marseille');
  await page.locator('#compose-manufacturer').fill('FN Herstal');
  await page.locator('#compose-countryOfManufacture').fill('BEL');
  await page.locator('#compose-model').fill('FAL');
  await page.locator('#compose-type').selectOption(String(WeaponType.WEAPON_TYPE_RIFLE));
  await page.locator('#compose-calibre').fill('7.62x51');
  await page.locator('#compose-year').fill('1998');
  await page.locator('label.compose-check-box:has(#compose-imports) + button').click();
  await page.locator('input.compose-country#compose-imports').fill('KEN');
  await page.locator('#compose-importYear-0').fill('2012');
  await page.locator('#compose-intendedUse').fill('Criminal investigation OCLCO-2026-0977');
}

/** Waits until the panel shows the node's score `expected` (e.g. "60 out of 100") for the form as it is. */
async function waitForScore(page: Page, expected: string): Promise<void> {
  const score = page.locator('.compose-node-check .check-score');
  await expect
    .poll(async () => ((await score.count()) > 0 ? await score.textContent() : ''), { timeout: 20_000 })
    .toContain(expected);
  await expect.poll(() => page.locator('.compose-node-check').getAttribute('aria-busy')).toBe('false');
}

describe('the compose screen shows the node check of the draft', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL', 'KEN'],
        console: true,
        officers: { FRA: [{ officerId: 'amina', password: 'correct horse battery', roles: ['officer'] }] },
        policies: [{ of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true } }],
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  async function openCompose(language: ConsoleLanguage): Promise<Page> {
    const context = await officerContext(browser, language);
    const page = await context.newPage();
    page.on('dialog', (dialog) => {
      throw new Error(`unexpected dialog: ${dialog.message()}`);
    });
    await signIn(page, fra, officerOf(fra, 'amina'));
    await page.goto(`${fra.consoleUrl}/#/compose`);
    await page.locator('#compose-recipient option[value="BEL"]').waitFor({ state: 'attached' });
    return page;
  }

  for (const language of ['en', 'ar'] as const) {
    it(`scores a request without its frame serial and photos 55, listing them, with the traceability estimate (${language})`, async () => {
      const page = await openCompose(language);
      const before = (await fra.cases.call('listCases', ALL_CASES)).cases.length;
      // Before a recipient is chosen, the node has nothing to check.
      expect(await page.locator('.compose-node-check [role="status"]').textContent()).toBe(
        message(language, 'compose.nodeCheck.chooseRecipient'),
      );
      await fillWithoutSerialAndPhotos(page);
      await waitForScore(page, language === 'en' ? '55 out of 100' : '55 من 100');
      const missing = page.locator('.compose-node-check .check-missing > li button');
      // Heaviest first: the frame serial (25 points), the photos (15), and with no serial at all,
      // whether it is obliterated (5).
      expect(await missing.allTextContents()).toEqual([
        message(language, 'compose.item.control_serial'),
        message(language, 'compose.item.photos'),
        message(language, 'compose.item.serial_obliterated'),
      ]);
      // The estimate: BEL marked as the country of manufacture, KEN as the last importer, each
      // with reasons worded in the officer's language (no English fallback for a known code).
      const askFirst = page.locator('.compose-node-check .check-ask-first > li');
      await expect.poll(() => askFirst.count()).toBe(2);
      const names = language === 'en' ? ['Belgium', 'Kenya'] : ['بلجيكا', 'كينيا'];
      const asked = (await askFirst.allTextContents()).join(' | ');
      for (const name of names) expect(asked).toContain(name);
      expect(await page.locator('.compose-node-check .check-reasons li').count()).toBeGreaterThan(2);
      expect(await page.locator('.compose-node-check .check-reasons li[lang="en"]').count()).toBe(0);
      // The likelihood overall, then of each participant to ask.
      expect(await page.locator('.compose-node-check .badge[class*="likelihood-"]').count()).toBe(3);
      // A missing item takes the officer to its field.
      await missing.first().click();
      expect(await page.evaluate('document.activeElement?.id')).toBe('compose-serialNumber');
      await expectAccessible(page);
      await screenshot(page, `compose-check-${language}`);
      // The serial is required by the protocol: nothing is sent.
      await page.locator('.compose-actions button[type="submit"]').click();
      await page.locator('.compose-form > .error[role="alert"]').waitFor();
      expect((await fra.cases.call('listCases', ALL_CASES)).cases.length).toBe(before);
      await page.context().close();
    }, 120_000);
  }

  it('asks the node again as the draft changes, not at every key, and records the check, the obliterated serial and the circumstance with the sent request', async () => {
    const page = await openCompose('en');
    const asked: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/tracenet.v1.Cases/CheckRequest')) asked.push(request.postData() ?? '');
    });
    await fillWithoutSerialAndPhotos(page);
    await waitForScore(page, '55 out of 100');
    const calls = asked.length;
    // Twenty keys in a row: one question once the form rests.
    await page.locator('#compose-serialNumber').focus();
    await page.keyboard.type('FN1998-00??', { delay: 15 });
    await page.locator('#compose-serialObliterated').check();
    await page
      .locator('#compose-photos')
      .setInputFiles({ name: 'markings.png', mimeType: 'image/png', buffer: markingsPng() });
    await page.locator('.compose-photo-size').waitFor();
    await waitForScore(page, '100 out of 100');
    expect(asked.length - calls).toBeLessThanOrEqual(4);
    // The photo goes to the check with its first bytes only, not the whole picture.
    const last = JSON.parse(asked.at(-1) ?? '{}') as {
      request?: { weapon?: { photos?: Array<{ content: string }>; serialObliterated?: boolean } };
    };
    expect(last.request?.weapon?.serialObliterated).toBe(true);
    expect(Buffer.from(last.request?.weapon?.photos?.[0]?.content ?? '', 'base64').length).toBeLessThanOrEqual(16);
    expect(await page.locator('.compose-node-check .check-missing').count()).toBe(0);
    await page.locator('.compose-actions button[type="submit"]').click();
    await expect.poll(() => page.url(), { timeout: 30_000 }).toMatch(/#\/cases\/[^/?]+$/);
    const caseId = decodeURIComponent(page.url().split('#/cases/')[1] ?? '');
    const stored = (await fra.cases.call('getCase', { caseId })).case;
    expect(stored?.request?.weapon?.serialObliterated).toBe(true);
    expect(stored?.request?.weapon?.otherInformation).toBe('');
    expect(stored?.request?.circumstances?.circumstance).toBe(SeizureCircumstance.SEIZURE_CIRCUMSTANCE_TRAFFICKING);
    expect(stored?.check?.completeness?.score).toBe(100);
    // The case shows the check recorded with the request, the serial obliterated and the circumstance.
    const recorded = page.locator('.request-check-panel');
    await recorded.waitFor();
    expect(await recorded.locator('.check-score').textContent()).toContain('100 out of 100');
    const request = (await page.locator('section[aria-labelledby="request-title"]').textContent()) ?? '';
    expect(request).toContain('Obliterated, wholly or in part');
    expect(request).toContain('Illicit trafficking');
    await expectAccessible(page);
    await screenshot(page, 'case-check-en');
    await page.context().close();
  }, 120_000);

  it('asks to confirm with the items the node finds missing, leaving out import marks the officer said there are none of', async () => {
    const page = await openCompose('en');
    await fillWithoutSerialAndPhotos(page);
    await page.locator('#compose-serialNumber').fill('FN1998-0042');
    // No import mark after all: the request cannot say so, the node counts it missing.
    await page.getByRole('button', { name: 'Remove import mark 1' }).click();
    await page.locator('#compose-imports').check();
    // Serial there, no photo, no import mark: 100 - 15 - 10.
    await waitForScore(page, '75 out of 100');
    expect(await page.locator('.compose-node-check .check-missing').textContent()).toContain(
      'you said the weapon has none',
    );
    await page.locator('.compose-actions button[type="submit"]').click();
    const confirm = page.getByRole('alertdialog');
    await confirm.waitFor();
    expect(await confirm.locator('li').allTextContents()).toEqual(['Photos of the markings']);
    await expectAccessible(page);
    await page.context().close();
  }, 120_000);

  it('words a reason code it does not know, or whose values do not fit, in the node’s English, as text (ar)', async () => {
    const page = await openCompose('ar');
    // A newer node: its answer carries a code this console has no wording for, and a known code
    // without the values its wording needs. The rest of the answer is the node's own.
    await page.route(CHECK_URL, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { check: { traceability: { reasons?: unknown[] } } };
      body.check.traceability.reasons = [
        ...(body.check.traceability.reasons ?? []),
        { code: 'from_a_newer_node', values: {}, text: 'A reason of a newer node <b>bold</b>' },
        { code: 'within_retention', values: { year: '1998' }, text: '1998 is within the retention period.' },
      ];
      await route.fulfill({ response, json: body });
    });
    await fillWithoutSerialAndPhotos(page);
    await waitForScore(page, '55 من 100');
    const english = page.locator('.compose-node-check .check-reasons li[lang="en"]');
    await expect
      .poll(() => english.allTextContents())
      .toEqual(['A reason of a newer node <b>bold</b>', '1998 is within the retention period.']);
    expect(await page.locator('.compose-node-check .check-reasons b').count()).toBe(0);
    await expectAccessible(page);
    await page.context().close();
  }, 120_000);

  it('says quietly when the node cannot check, and still sends after the browser recommended items are confirmed', async () => {
    const page = await openCompose('en');
    // A poor link: every check is lost on the way.
    await page.route(CHECK_URL, (route) => route.abort('connectionfailed'));
    await fillWithoutSerialAndPhotos(page);
    await page.locator('#compose-serialNumber').fill('FN1998-0042');
    const status = page.locator('.compose-node-check [role="status"]');
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toContain('could not check');
    expect(await page.locator('.compose-node-check .check-score').count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
    // Without the node's list, the browser's own recommendations stand in, without a score.
    expect(await page.locator('.compose-check-recommended').allTextContents()).toEqual(['!Photos of the markings']);
    await expectAccessible(page);
    await page.locator('.compose-actions button[type="submit"]').click();
    const confirm = page.getByRole('alertdialog');
    await confirm.waitFor();
    expect(await confirm.locator('li').allTextContents()).toEqual(['Photos of the markings']);
    await confirm.getByRole('button', { name: 'Send anyway' }).click();
    await expect.poll(() => page.url(), { timeout: 30_000 }).toMatch(/#\/cases\/[^/?]+$/);
    await page.context().close();
  }, 120_000);
});
