import { randomBytes } from 'node:crypto';
import { CaseState, IllicitKind, WeaponType } from '@tracenet/proto';
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
import { noisePng } from '../support/console-flow.js';

const MIB = 1024 * 1024;
const ALL_CASES = { role: 0, state: 0, peer: '', overdueOnly: false, limit: 500, cursor: '' };
const MARKUP = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

/** Types `text` into the control `#compose-<name>` from the keyboard. */
async function type(page: Page, name: string, text: string): Promise<void> {
  await page.locator(`#compose-${name}`).focus();
  await page.keyboard.type(text);
}

/** Fills what the protocol requires and most of what is recommended; the frame serial and photos only when asked. */
async function fillRequest(page: Page, options: { serial: boolean }): Promise<void> {
  await page.locator('#compose-recipient').selectOption('BEL');
  await type(page, 'requestingAuthority', 'Office central de lutte contre le crime organisé');
  await type(page, 'caseReference', 'OCLCO-2026-0412');
  await page.locator('#compose-criteria').selectOption(String(IllicitKind.ILLICIT_KIND_NATIONAL_LAW));
  await type(page, 'legalBasis-0', 'Code de la sécurité intérieure, art. L317-8');
  await page.locator('#compose-findingKind').selectOption('1');
  await page.locator('#compose-findingDate').fill('2026-11-02');
  await type(page, 'findingPlace', 'Marseille');
  await type(page, 'findingDescription', MARKUP);
  await type(page, 'manufacturer', 'FN Herstal');
  await type(page, 'countryOfManufacture', 'BEL');
  if (options.serial) await type(page, 'serialNumber', 'FN1998-0042');
  await type(page, 'model', 'FAL');
  await page.locator('#compose-type').selectOption(String(WeaponType.WEAPON_TYPE_RIFLE));
  await type(page, 'calibre', '7.62x51');
  await type(page, 'year', '1998');
  await page.locator('#compose-imports').check();
  await type(page, 'intendedUse', 'Criminal investigation OCLCO-2026-0412');
}

describe('the compose screen', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL'],
        console: true,
        officers: {
          FRA: [
            { officerId: 'amina', password: 'correct horse battery', roles: ['officer'] },
            { officerId: 'sami', password: 'correct horse battery', roles: ['auditor'] },
          ],
        },
        policies: [{ of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true } }],
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    await fra.records.call('loadAliases', {
      csv: Buffer.from('FN Herstal,FN,Fabrique Nationale\nHeckler & Koch,H&K,HK\n'),
      calibres: false,
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  async function openCompose(language: ConsoleLanguage, query = '', officerId = 'amina'): Promise<Page> {
    const context = await officerContext(browser, language);
    const page = await context.newPage();
    page.on('dialog', (dialog) => {
      throw new Error(`unexpected dialog: ${dialog.message()}`);
    });
    await signIn(page, fra, officerOf(fra, officerId));
    await page.goto(`${fra.consoleUrl}/#/compose${query}`);
    await page.locator('#compose-recipient option[value="BEL"]').waitFor({ state: 'attached' });
    return page;
  }

  for (const language of ['en', 'ar'] as const) {
    it(`composes a whole request from the keyboard with a large photo reduced under 1 MiB, sends it and opens the case (${language})`, async () => {
      const page = await openCompose(language);
      await fillRequest(page, { serial: true });
      const png = noisePng(2000, 1500);
      expect(png.length).toBeGreaterThan(8 * MIB);
      await page.locator('#compose-photos').setInputFiles({ name: 'markings.png', mimeType: 'image/png', buffer: png });
      const size = page.locator('.compose-photo-size');
      await size.waitFor();
      await page.locator('#compose-photos-caption-photo-1, .compose-photo input').first().focus();
      await page.keyboard.type(`Serial on the receiver ${MARKUP}`);
      await expect.poll(() => page.locator('.compose-check-required').count()).toBe(0);
      expect(await page.locator('.compose-check-recommended').count()).toBe(0);
      await expectAccessible(page);
      await screenshot(page, `compose-${language}`);
      // Enter in a field sends the form.
      await page.locator('#compose-caseReference').press('Enter');
      await expect.poll(() => page.url(), { timeout: 30_000 }).toMatch(/#\/cases\/[^/?]+$/);
      const caseId = decodeURIComponent(page.url().split('#/cases/')[1] ?? '');
      const stored = (await fra.cases.call('getCase', { caseId })).case;
      expect(stored?.peer).toBe('BEL');
      expect(stored?.state).not.toBe(CaseState.CASE_STATE_DRAFT);
      const request = stored?.request;
      expect(request?.weapon?.markings).toMatchObject({
        manufacturer: 'FN Herstal',
        countryOfManufacture: 'BEL',
        serialNumber: 'FN1998-0042',
        model: 'FAL',
        type: WeaponType.WEAPON_TYPE_RIFLE,
        calibre: '7.62x51',
        year: 1998,
      });
      expect(request?.circumstances?.description).toBe(MARKUP);
      const photo = request?.weapon?.photos[0];
      expect(photo?.mediaType).toBe('image/jpeg');
      expect(photo?.content.length).toBeGreaterThan(10_000);
      expect(photo?.content.length).toBeLessThanOrEqual(MIB);
      expect([...(photo?.content.subarray(0, 3) ?? [])]).toEqual([0xff, 0xd8, 0xff]);
      expect(photo?.caption).toBe(`Serial on the receiver ${MARKUP}`);
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      await page.context().close();
    }, 120_000);

    it(`lists the missing frame serial and photos before sending, and sends nothing while a required item is missing (${language})`, async () => {
      const page = await openCompose(language);
      const before = (await fra.cases.call('listCases', ALL_CASES)).cases.length;
      await fillRequest(page, { serial: false });
      const required = page.locator('.compose-check-required');
      await expect.poll(() => required.count()).toBe(1);
      expect(await required.textContent()).toContain(language === 'en' ? 'Serial number of the frame or receiver' : '');
      // What the protocol does not require, the node's check lists (compose-check.browser.test.ts).
      const nodeMissing = page.locator('.compose-node-check .check-missing');
      await nodeMissing.waitFor({ timeout: 20_000 });
      if (language === 'en') expect(await nodeMissing.textContent()).toContain('Photos of the markings');
      expect(await page.locator('.compose-check-recommended').count()).toBe(0);
      await page.locator('.compose-actions button[type="submit"]').click();
      await page.locator('.compose-form > .error[role="alert"]').waitFor();
      // The officer is taken to the check; the button there leads to the field.
      await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('compose-check-title');
      await required.locator('button').click();
      expect(await page.evaluate('document.activeElement?.id')).toBe('compose-serialNumber');
      await expectAccessible(page);
      await screenshot(page, `compose-incomplete-${language}`);
      expect((await fra.cases.call('listCases', ALL_CASES)).cases.length).toBe(before);
      await page.context().close();
    }, 120_000);
  }

  it('asks to confirm when recommended items are missing, and shows the node refusal by field', async () => {
    const page = await openCompose('en');
    await fillRequest(page, { serial: true });
    // The browser keeps to the protocol's lengths; a hostile page script does not.
    await page.locator('#compose-requestingAuthority').evaluate((input) => input.removeAttribute('maxlength'));
    await page.locator('#compose-requestingAuthority').fill('A'.repeat(600));
    await page.locator('#compose-place, #compose-findingPlace').first().fill('');
    await type(page, 'findingPlace', 'Marseille');
    await page.locator('.compose-actions button[type="submit"]').click();
    const confirm = page.getByRole('alertdialog');
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('Photos of the markings');
    await expectAccessible(page);
    await confirm.getByRole('button', { name: 'Send anyway' }).click();
    const refusal = page.locator('.compose-form > .error[role="alert"]');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('Requesting authority: This is too long.');
    expect(await page.locator('#compose-requestingAuthority-error').textContent()).toBe('This is too long.');
    expect(await page.locator('#compose-requestingAuthority').getAttribute('aria-describedby')).toContain(
      'compose-requestingAuthority-error',
    );
    await expectAccessible(page);
    await screenshot(page, 'compose-refused-en');
    await page.context().close();
  }, 120_000);

  it('saves a draft (CreateCase without send), then sends it (SendCase) and opens the case', async () => {
    const page = await openCompose('en');
    await fillRequest(page, { serial: true });
    await page.getByRole('button', { name: 'Save as draft' }).click();
    const saved = page.locator('.compose-form > .notice[role="status"]');
    await saved.waitFor();
    const caseId = /case (\S+)\.$/.exec((await saved.locator('p').textContent()) ?? '')?.[1] ?? '';
    expect((await fra.cases.call('getCase', { caseId })).case?.state).toBe(CaseState.CASE_STATE_DRAFT);
    await expectAccessible(page);
    await saved.getByRole('button', { name: 'Send this draft now' }).click();
    await expect.poll(() => page.url(), { timeout: 30_000 }).toMatch(new RegExp(`#/cases/${caseId}$`));
    await expect
      .poll(async () => (await fra.cases.call('getCase', { caseId })).case?.state)
      .not.toBe(CaseState.CASE_STATE_DRAFT);
    await page.context().close();
  }, 120_000);

  it('tells an auditor, whose role may not open a trace, which role it needs; no form, nothing is created', async () => {
    const before = (await fra.cases.call('listCases', ALL_CASES)).cases.length;
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'sami'));
    await page.goto(`${fra.consoleUrl}/#/compose`);
    const refusal = page.getByRole('alert').filter({ hasText: 'does not open New trace request' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('officer');
    expect(await page.locator('#compose-recipient').count()).toBe(0);
    await expectAccessible(page);
    // The node refuses the call itself too, whatever a browser sends.
    const status = await page.evaluate(async () => {
      const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const response = await fetch('/api/rpc/tracenet.v1.Cases/CreateCase', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ recipient: 'BEL', send: true }),
      });
      return { status: response.status, body: (await response.json()) as { error: { rule: string } } };
    });
    expect(status).toMatchObject({ status: 403, body: { error: { rule: 'role' } } });
    expect((await fra.cases.call('listCases', ALL_CASES)).cases.length).toBe(before);
    await context.close();
  }, 120_000);

  it('suggests the canonical manufacturer of a known alias, and prefills the markings from the query', async () => {
    const page = await openCompose(
      'en',
      '?manufacturer=Fabrique&serial=FN%2A%2A42&model=FAL&calibre=9%20mm%20Par&recipient=BEL',
    );
    expect(await page.locator('#compose-recipient').inputValue()).toBe('BEL');
    expect(await page.locator('#compose-serialNumber').inputValue()).toBe('FN**42');
    expect(await page.locator('#compose-model').inputValue()).toBe('FAL');
    await page.locator('#compose-manufacturer-suggestions option[value="FN Herstal"]').waitFor({ state: 'attached' });
    expect(
      await page.locator('#compose-manufacturer-suggestions option[value="FN Herstal"]').getAttribute('label'),
    ).toBe('FN, Fabrique Nationale');
    await page.locator('#compose-calibre-suggestions option[value="9x19"]').waitFor({ state: 'attached' });
    await page.locator('#compose-manufacturer').fill('');
    await type(page, 'manufacturer', 'H&');
    await page
      .locator('#compose-manufacturer-suggestions option[value="Heckler & Koch"]')
      .waitFor({ state: 'attached' });
    expect(await page.locator('.compose-suggestions').first().textContent()).toContain('Heckler & Koch');
    // A hostile prefix (control characters, wildcards) is cleaned or matches nothing; the field keeps working.
    await page.locator('#compose-manufacturer').fill('%*\u0000');
    await expect.poll(() => page.locator('#compose-manufacturer-suggestions option').count()).toBe(0);
    await expectAccessible(page);
    await page.context().close();
  }, 120_000);

  it('refuses a 10 MB file that is not an image and a file that only claims to be one, with their names as text', async () => {
    const page = await openCompose('en');
    await page.locator('#compose-photos').setInputFiles([
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: randomBytes(10 * 1000 * 1000) },
      { name: '<b>fake</b>.jpg', mimeType: 'image/jpeg', buffer: randomBytes(200_000) },
    ]);
    const alert = page.locator('.compose-photos .error[role="alert"]');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain('report.pdf: this is not an image file');
    expect(text).toContain('<b>fake</b>.jpg: the browser cannot read this file as an image');
    expect(await page.locator('.compose-photos b').count()).toBe(0);
    expect(await page.locator('.compose-photo').count()).toBe(0);
    await expectAccessible(page);
    await page.context().close();
  }, 120_000);
});
