import { readFile } from 'node:fs/promises';
import {
  DestructionState,
  ItemCategory,
  ReexportCondition,
  SeizureCircumstance,
  WeaponEventType,
  WeaponRecord,
  WeaponStatus,
  WeaponType,
} from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/index.js';
import { expectAccessible, launchBrowser, officerContext, officerOf, screenshot, signIn } from '../support/browser.js';

const PASSWORD = 'correct horse battery';
const HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">';

/** A rifle handed in to a DDR programme, exported long ago under an end-user undertaking. */
async function putCollected(node: LocalNode, serial: string): Promise<string> {
  const answer = await node.records.call('putRecord', {
    record: WeaponRecord.fromPartial({
      manufacture: {
        manufacturer: 'Kalashnikov Concern',
        countryOfManufacture: 'RUS',
        serialNumber: serial,
        model: 'AKM',
        type: WeaponType.WEAPON_TYPE_ASSAULT_RIFLE,
        calibre: '7.62x39mm',
        year: 1979,
      },
      itemCategory: ItemCategory.ITEM_CATEGORY_FIREARM,
      status: WeaponStatus.WEAPON_STATUS_SURRENDERED,
      collection: {
        programme: `DDR Phase II — UNMISS ${HOSTILE}`,
        collectionPoint: 'Bor cantonment site',
        date: '2026-03-14',
        uniqueMark: `SSD-DDR-${serial}`,
        conflictSetting: true,
      },
      illicitOrigin: {
        date: '2026-05-02',
        authority: 'Tribunal judiciaire de Paris',
        basis: 'Diversion from a state armoury, judgment 2026/114',
      },
      events: [
        {
          type: WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED,
          date: '1981-04-01',
          destination: 'ETH',
          licence: 'EX-81-0042',
          undertaking: {
            condition: ReexportCondition.REEXPORT_CONDITION_PROHIBITED,
            certificateReference: 'EUC-ETH-81-7',
            endUser: 'Ministry of Defence',
            date: '1981-02-10',
            authorisations: [{ destination: 'SDN', date: '1990-06-01', reference: 'AUTH-90-3' }],
          },
        },
        {
          type: WeaponEventType.WEAPON_EVENT_TYPE_SURRENDERED,
          date: '2026-03-14',
          place: 'Bor',
          agency: 'DDR commission',
          circumstance: SeizureCircumstance.SEIZURE_CIRCUMSTANCE_DDR,
        },
      ],
    }),
  });
  return answer.record?.recordId ?? '';
}

describe('the Records screen: collection, undertakings and destruction', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA'],
        console: true,
        officers: {
          FRA: [
            { officerId: 'amina', password: PASSWORD, roles: ['officer'] },
            { officerId: 'ines', password: PASSWORD, roles: ['auditor'] },
          ],
        },
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    for (const language of ['en', 'ar']) ids[language] = await putCollected(fra, `AKM-${language}-7`);
    ids.parts = (
      await fra.records.call('putRecord', {
        record: WeaponRecord.fromPartial({
          manufacture: { manufacturer: 'Glock', serialNumber: 'SLIDES-12', model: '17', type: 1 },
          itemCategory: ItemCategory.ITEM_CATEGORY_PART,
          quantity: 12,
          status: WeaponStatus.WEAPON_STATUS_SEIZED,
        }),
      })
    ).record?.recordId as string;
  });
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  async function open(page: Page, recordId: string): Promise<void> {
    await page.goto(`${fra.consoleUrl}/#/records/${recordId}`);
    await page.locator('#record-destruction').waitFor();
  }

  for (const language of ['en', 'ar'] as const) {
    it(`shows a collected weapon and designates it for destruction (${language})`, async () => {
      const context = await officerContext(browser, language);
      const page = await context.newPage();
      await signIn(page, fra, officerOf(fra, 'amina'));
      await open(page, ids[language] ?? '');

      // Collection, origin established otherwise, circumstance and undertaking in the history.
      const collection = page.locator('section[aria-labelledby="record-collection"]');
      expect(await collection.textContent()).toContain(`SSD-DDR-AKM-${language}-7`);
      expect(await collection.textContent()).toContain(HOSTILE);
      expect(await page.locator('body').getAttribute('data-pwned')).toBeNull();
      expect(await page.locator('section[aria-labelledby="record-origin"]').textContent()).toContain(
        'Tribunal judiciaire de Paris',
      );
      const rows = page.locator('.events-table tbody tr');
      expect(await rows.nth(0).textContent()).toContain('EUC-ETH-81-7');
      if (language === 'en') {
        expect(await collection.textContent()).toContain('Conflict or post-conflict setting');
        expect(await rows.nth(0).textContent()).toContain('End-user undertaking: re-export prohibited');
        expect(await rows.nth(0).textContent()).toContain('Re-export to Sudan authorised on');
        expect(await rows.nth(1).textContent()).toContain('DDR programme');
        expect(await page.locator('.record-fields').first().textContent()).toContain('Firearm');
      }
      expect(await page.locator('#record-destruction + p').textContent()).not.toBe('');
      await expectAccessible(page);
      await screenshot(page, `records-collected-${language}`);

      // Designate it: the record is held pending destruction, deactivated.
      await page.locator('input[name="deactivated"]').check();
      await page.locator('.destruction-form button[type="submit"]').click();
      await page.locator('form[aria-labelledby="destroy-title"]').waitFor();
      expect(await page.locator('.record-announce').textContent()).not.toBe('');
      const pending = (await fra.records.call('getRecord', { recordId: ids[language] ?? '' })).record;
      expect(pending?.destruction).toMatchObject({
        state: DestructionState.DESTRUCTION_STATE_PENDING,
        deactivated: true,
        designatedDate: new Date().toISOString().slice(0, 10),
      });
      // The collection survived the rewrite of the record.
      expect(pending?.collection?.uniqueMark).toBe(`SSD-DDR-AKM-${language}-7`);
      if (language === 'en')
        expect(await page.locator('.record-status').textContent()).toContain('Pending destruction, deactivated');

      // Recording the destruction waits for the serial to be typed.
      const submit = page.locator('form[aria-labelledby="destroy-title"] button[type="submit"]');
      expect(await submit.isDisabled()).toBe(true);
      await page.locator('input[name="confirm"]').fill(`AKM-${language}-8`);
      expect(await submit.isDisabled()).toBe(true);
      await page.locator('input[name="confirm"]').fill(`AKM-${language}-7`);
      expect(await submit.isDisabled()).toBe(false);
      await expectAccessible(page);
      await screenshot(page, `records-pending-${language}`);

      // Record it: the node signs a certificate; the record shows the destruction.
      await page.locator('input[name="method"]').fill('cutting');
      await page.locator('textarea[name="witnesses"]').fill('Capt. A. Diallo, armourer\n\n  J. Okafor (UNMISS)  \n');
      await submit.click();
      await page.locator('.destruction-certificate').waitFor();
      const destroyed = (await fra.records.call('getRecord', { recordId: ids[language] ?? '' })).record;
      expect(destroyed?.destruction).toMatchObject({
        state: DestructionState.DESTRUCTION_STATE_DESTROYED,
        method: 'cutting',
        witnesses: ['Capt. A. Diallo, armourer', 'J. Okafor (UNMISS)'],
      });
      const certificateId = destroyed?.destruction?.certificateId ?? '';
      expect(certificateId).toMatch(/^dc_/);
      expect(await page.locator('.record-announce').textContent()).toContain(certificateId);
      expect(await page.locator('.destruction-form').count()).toBe(0);
      await expectAccessible(page);
      await screenshot(page, `records-destroyed-${language}`);

      // The certificate downloads in the CLI's file format, and verifies.
      const [file] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('.destruction-certificate button').click(),
      ]);
      expect(file.suggestedFilename()).toBe(`${certificateId}.json`);
      const saved = JSON.parse(await readFile((await file.path()) ?? '', 'utf8')) as Record<string, string>;
      expect(saved).toMatchObject({ format: 'tracenet-destruction-certificate/1', issuer: 'FRA', certificateId });
      await page.locator('.destruction-certificate a[href="#/records/verify"]').click();
      const input = page.locator('input[name="certificate"]');
      await input.setInputFiles({
        name: `${certificateId}.json`,
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify(saved)),
      });
      await page.locator('.verdict.valid').waitFor();
      expect(await page.locator('section[aria-labelledby="verify-body"]').textContent()).toContain(`AKM-${language}-7`);
      await expectAccessible(page);
      await screenshot(page, `records-verify-${language}`);

      // One changed byte of the signature: not valid, and why.
      const signature = Buffer.from(saved.signature ?? '', 'base64');
      signature[0] = (signature[0] ?? 0) ^ 1;
      await input.setInputFiles({
        name: 'changed.json',
        mimeType: 'application/json',
        buffer: Buffer.from(JSON.stringify({ ...saved, signature: signature.toString('base64') })),
      });
      await page.locator('.verdict.invalid').waitFor();
      if (language === 'en')
        expect(await page.locator('.verdict.invalid').textContent()).toBe(
          'NOT VALID: the signature does not match the certificate.',
        );
      await expectAccessible(page);
      await context.close();
    });
  }

  it('shows a lot of parts with its quantity', async () => {
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'amina'));
    await open(page, ids.parts ?? '');
    const fields = await page.locator('.record-fields').first().textContent();
    expect(fields).toContain('Part or component');
    expect(fields).toContain('Quantity12');
    await context.close();
  });

  it('refuses a destruction whose method hides a control character, and writes nothing', async () => {
    const { record } = await fra.records.call('getRecord', { recordId: ids.parts ?? '' });
    await fra.records.call('putRecord', {
      record: WeaponRecord.fromPartial({
        ...record,
        destruction: { state: DestructionState.DESTRUCTION_STATE_PENDING, designatedDate: '2026-11-30' },
      }),
    });
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'amina'));
    await open(page, ids.parts ?? '');
    await page.locator('input[name="method"]').fill('cut\u202Eting');
    await page.locator('textarea[name="witnesses"]').fill('Lt. B. Martin');
    await page.locator('input[name="confirm"]').fill('SLIDES-12');
    await page.locator('form[aria-labelledby="destroy-title"] button[type="submit"]').click();
    const alert = page.locator('.destruction-form [role="alert"]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('method');
    expect(await page.locator('input[name="method"]').getAttribute('aria-describedby')).toContain('error');
    const after = (await fra.records.call('getRecord', { recordId: ids.parts ?? '' })).record;
    expect(after?.destruction?.state).toBe(DestructionState.DESTRUCTION_STATE_PENDING);
    expect(after?.destruction?.certificateId).toBe('');
    await expectAccessible(page);
    await context.close();
  });

  it('lets an auditor read the destruction and verify certificates, but not designate or destroy', async () => {
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'ines'));
    await open(page, ids.parts ?? '');
    expect(await page.locator('#record-destruction').textContent()).toBe('Destruction');
    expect(await page.locator('.record-destruction dl').textContent()).toContain('Pending destruction');
    expect(await page.locator('.destruction-form').count()).toBe(0);
    // A destroyed weapon: the auditor may download its certificate too.
    await open(page, ids.en ?? '');
    await page.locator('.destruction-certificate button').waitFor();
    expect(await page.locator('.destruction-form').count()).toBe(0);
    await page.goto(`${fra.consoleUrl}/#/records`);
    await page.locator('a[href="#/records/verify"]').click();
    await page.locator('input[name="certificate"]').waitFor();
    // A file that is no certificate is refused before anything is asked of the node.
    await page.locator('input[name="certificate"]').setInputFiles({
      name: 'notes.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"hello": "world"}'),
    });
    // The screen reads the file before it answers: wait for the answer, not for the next frame.
    await page.locator('.verify-result .error').waitFor();
    expect(await page.locator('.verify-result').textContent()).toBe('This file is not a destruction certificate.');
    await expectAccessible(page);
    await context.close();
  });
});
