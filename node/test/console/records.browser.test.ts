import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterestCategory, WeaponEventType, WeaponRecord, WeaponStatus, WeaponType } from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/index.js';
import { expectAccessible, launchBrowser, officerContext, officerOf, screenshot, signIn } from '../support/browser.js';

const PASSWORD = 'correct horse battery';
const HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">';

async function putRifle(node: LocalNode, serial: string, type: WeaponType): Promise<string> {
  const answer = await node.records.call('putRecord', {
    record: WeaponRecord.fromPartial({
      manufacture: {
        manufacturer: 'FN Herstal',
        countryOfManufacture: 'BEL',
        serialNumber: serial,
        model: 'FAL',
        type,
        calibre: '7.62x51mm',
        year: 1998,
      },
      imports: [{ country: 'KEN', year: 1999 }],
      secondaryMarks: [{ location: 'inside frame rail', value: '7Q2' }],
      status: WeaponStatus.WEAPON_STATUS_REGISTERED,
      events: [
        {
          type: WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED,
          date: '1998-03-02',
          place: 'Herstal',
          agency: 'FN Herstal',
        },
        {
          type: WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED,
          date: '1999-05-10',
          destination: 'KEN',
          licence: 'BE-EX-1999-17',
          endUser: 'Kenya Police',
        },
        { type: WeaponEventType.WEAPON_EVENT_TYPE_IMPORTED, date: '1999-06-01', origin: 'BEL', licence: 'KE-IM-99-4' },
        {
          type: WeaponEventType.WEAPON_EVENT_TYPE_TRANSFERRED,
          date: '2004-01-20',
          endUser: 'Nairobi Armoury',
          details: HOSTILE,
        },
      ],
      notes: HOSTILE,
    }),
  });
  return answer.record?.recordId ?? '';
}

const HEADER = 'manufacturer,serial_number,model,type,calibre,event1_type,event1_date';
function importFile(language: string): string {
  return [
    HEADER,
    `Glock,IMP-${language}-1,17,pistol,9x19mm,manufactured,2011-06-14`,
    `,IMP-${language}-2,17,pistol,9x19mm,,`,
    `Glock,IMP-${language}-3,17,pistol,9x19mm,,`,
    `Glock,IMP-${language}-4,17,spear,9x19mm,,`,
  ].join('\n');
}

describe('the Records screen', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  const ids: Record<string, string> = {};
  let registry: string;
  beforeAll(async () => {
    // A registry export beside the node's own records, with rows whose country is not a code: held but incomplete.
    registry = await mkdtemp(join(tmpdir(), 'tracenet-registry-'));
    await writeFile(
      join(registry, 'registry.csv'),
      'manufacturer,country_of_manufacture,serial_number,model,type\nFN Herstal,Belgium,FN-en-0042,FAL 50.00,rifle\nFN Herstal,Belgium,FN-ar-0042,FAL 50.00,rifle\n',
    );
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA'],
        console: true,
        nodeEnv: { FRA: { TRACENET_REGISTRY_ADAPTER: 'csv', TRACENET_REGISTRY_CSV_FOLDER: registry } },
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
    for (const language of ['en', 'ar']) {
      ids[language] = await putRifle(fra, `FN-${language}-0042`, WeaponType.WEAPON_TYPE_RIFLE);
      await putRifle(fra, `FN-${language}-0042`, WeaponType.WEAPON_TYPE_CARBINE);
    }
  });
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
    if (registry) await rm(registry, { recursive: true, force: true });
  });

  async function searchFor(page: Page, serial: string): Promise<void> {
    await page.goto(`${fra.consoleUrl}/#/records`);
    await page.locator('input[name="manufacturer"]').fill('FN Herstal');
    await page.locator('input[name="serial"]').fill(serial);
    await page.locator('select[name="type"]').selectOption(String(WeaponType.WEAPON_TYPE_RIFLE));
    await page.locator('form[role="search"] button[type="submit"]').click();
    await page.locator('.records-results').waitFor();
  }

  for (const language of ['en', 'ar'] as const) {
    it(`searches, opens a record with its history, reports it stolen and imports a file (${language})`, async () => {
      const context = await officerContext(browser, language);
      const page = await context.newPage();
      await signIn(page, fra, officerOf(fra, 'amina'));

      // Search: the rifle, the carbine as a near match, the registry's unreadable row as held but incomplete.
      await searchFor(page, `FN-${language}-0042`);
      const tables = page.locator('.records-results table');
      await expect.poll(() => tables.count()).toBe(3);
      expect(await tables.nth(0).locator('tbody tr').count()).toBe(1);
      expect(await tables.nth(1).locator('tbody tr').count()).toBe(1);
      expect(await page.locator('#records-near').count()).toBe(1);
      const incomplete = tables.nth(2).locator('tbody tr');
      expect(await incomplete.count()).toBe(1);
      expect(await incomplete.textContent()).toContain('record.manufacture.country_of_manufacture');
      expect(await incomplete.textContent()).toContain('csv');
      await expectAccessible(page);
      await screenshot(page, `records-search-${language}`);

      // The record: markings, history in order, markup in a field shown as text.
      await tables.nth(0).locator('tbody a').click();
      await page.locator('#record-events').waitFor();
      expect(await page.locator('h1').textContent()).toContain(`FN-${language}-0042`);
      const dates = await page
        .locator('.events-table tbody time')
        .evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime')));
      expect(dates).toEqual(['1998-03-02', '1999-05-10', '1999-06-01', '2004-01-20']);
      expect(await page.locator('.events-table tbody tr').nth(1).textContent()).toContain('BE-EX-1999-17');
      expect(await page.locator('.record-notes').textContent()).toBe(HOSTILE);
      expect(await page.locator('body').getAttribute('data-pwned')).toBeNull();
      if (language === 'en') {
        expect(await page.locator('.events-table tbody tr').nth(0).textContent()).toContain('Manufactured');
        expect(await page.locator('.events-table tbody tr').nth(1).textContent()).toContain('to Kenya (KEN)');
      }
      await expectAccessible(page);
      await screenshot(page, `record-${language}`);

      // Report it stolen (the default reason), then see the report; English also withdraws it.
      await page.locator('input[name="agency"]').fill('Police nationale');
      await page.locator('input[name="reference"]').fill('PV-2026-77');
      await page.locator('input[name="contactPoint"]').fill('NCB Paris, +33 1 00 00 00 00');
      await page.locator('.report-form button[type="submit"]').click();
      await page.locator('.report-current').waitFor();
      expect(await page.locator('.record-announce').textContent()).not.toBe('');
      const reported = await fra.records.call('getRecord', { recordId: ids[language] ?? '' });
      expect(reported.record?.interest).toMatchObject({
        category: InterestCategory.INTEREST_CATEGORY_STOLEN,
        agency: 'Police nationale',
        reference: 'PV-2026-77',
      });
      await expectAccessible(page);
      if (language === 'en') {
        await page.getByRole('button', { name: 'Withdraw the report' }).click();
        await page.locator('.report-current').waitFor({ state: 'detached' });
        const cleared = await fra.records.call('getRecord', { recordId: ids[language] ?? '' });
        expect(cleared.record?.interest?.category ?? 0).toBe(0);
      }

      // Import a file: two good rows, two bad ones, with the rejected rows to download.
      await page.goto(`${fra.consoleUrl}/#/records/import`);
      await page.locator('input[name="file"]').setInputFiles({
        name: 'registry.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(importFile(language)),
      });
      await page.locator('.import-form button[type="submit"]').click();
      await page.locator('.import-progress p[role="status"].ok').waitFor();
      expect(await page.locator('progress').getAttribute('value')).toBe('100');
      if (language === 'en') {
        expect(await page.locator('dd[data-count="read"]').textContent()).toBe('4');
        expect(await page.locator('dd[data-count="imported"]').textContent()).toBe('2');
        expect(await page.locator('dd[data-count="rejected"]').textContent()).toBe('2');
      }
      expect(await page.locator('.import-progress tbody tr').count()).toBe(2);
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a[download]').click()]);
      expect(download.suggestedFilename()).toBe('registry.rejects.csv');
      const rejects = await readFile((await download.path()) ?? '', 'utf8');
      expect(rejects.split('\r\n').filter(Boolean)).toEqual([
        'line,field,reason',
        expect.stringMatching(/^3,manufacturer,/),
        expect.stringMatching(/^5,type,/),
      ]);
      await expectAccessible(page);
      await screenshot(page, `import-${language}`);
      await context.close();
    });
  }

  it('lets an auditor read a record but neither report it nor import', async () => {
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'ines'));
    await page.goto(`${fra.consoleUrl}/#/records/${ids.ar}`);
    await page.locator('#record-events').waitFor();
    // Arabic reported it stolen: the auditor sees the report, without a form or a withdraw button.
    await page.locator('.report-current').waitFor();
    expect(await page.locator('.report-form').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Withdraw the report' }).count()).toBe(0);
    await page.goto(`${fra.consoleUrl}/#/records`);
    await page.locator('form[role="search"]').waitFor();
    expect(await page.locator('a[href="#/records/import"]').count()).toBe(0);
    await page.goto(`${fra.consoleUrl}/#/records/import`);
    expect(await page.getByRole('alert').textContent()).toContain('Your role does not allow this action');
    await expectAccessible(page);
    await context.close();
  });

  it('says which field a search lacks, and that a record does not exist', async () => {
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'amina'));
    await page.goto(`${fra.consoleUrl}/#/records?serial=FN-en-0042`);
    expect(await page.getByRole('alert').textContent()).toMatch(/manufacturer/);
    await page.goto(`${fra.consoleUrl}/#/records/rec_doesnotexist0000000000`);
    expect(await page.getByRole('alert').textContent()).toMatch(/Not found/);
    await context.close();
  });

  it('checks a JSON Lines file without writing it (dry run)', async () => {
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'amina'));
    await page.goto(`${fra.consoleUrl}/#/records/import`);
    const line = JSON.stringify({ manufacture: { manufacturer: 'Beretta', serialNumber: 'DRY-JL-1', type: 'pistol' } });
    await page.locator('input[name="file"]').setInputFiles({
      name: 'export.jsonl',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from(`${line}\n{"manufacture": 7}\n`),
    });
    expect(await page.locator('select[name="format"]').inputValue()).toBe('jsonl');
    await page.locator('input[name="dryRun"]').check();
    await page.locator('.import-form button[type="submit"]').click();
    await page.locator('.import-progress p[role="status"].ok').waitFor();
    expect(await page.locator('.import-progress p[role="status"]').textContent()).toContain('nothing was written');
    expect(await page.locator('dd[data-count="rejected"]').textContent()).toBe('1');
    const found = await fra.records.call('searchRecords', {
      query: { manufacturer: 'Beretta', serialNumber: 'DRY-JL-1', model: '', calibre: '', type: 0 },
      serialOnly: true,
      limit: 0,
    });
    expect(found.records).toHaveLength(0);
    await context.close();
  });

  it('takes an officer whose session ended during an import back to the sign-in, saying why', async () => {
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'amina'));
    await page.goto(`${fra.consoleUrl}/#/records/import`);
    await page.locator('input[name="file"]').setInputFiles({
      name: 'registry.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(importFile('expired')),
    });
    // The officer signs out in another tab: this tab's session is gone.
    const other = await context.newPage();
    await other.goto(fra.consoleUrl);
    await other.locator('nav.menu').waitFor();
    await other.locator('.topbar button').click();
    await other.locator('input[name="officerId"]').waitFor();
    await page.locator('.import-form button[type="submit"]').click();
    await page.locator('input[name="officerId"]').waitFor();
    expect(await page.getByRole('alert').first().textContent()).toMatch(
      /session was ended\. Sign in again|Sign in to continue/,
    );
    await context.close();
  });
});
