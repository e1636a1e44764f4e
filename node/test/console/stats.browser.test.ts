import { readFile } from 'node:fs/promises';
import {
  CaseState,
  ReexportCondition,
  type SdgReport,
  WeaponEvent,
  WeaponEventType,
  WeaponRecord,
  WeaponType,
} from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, seedDemoSeizures, startLocalFederation } from '../../src/dev/index.js';
import { waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';
import { expectAccessible, launchBrowser, officerContext, officerOf, screenshot, signIn } from '../support/browser.js';

const PASSWORD = 'correct horse battery';
const MANUAL = { acceptRequests: true, autoAcknowledge: false, autoAnswer: false, allowLookups: true };

describe('the Statistics screen', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  let report: SdgReport;
  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'KEN'],
        console: true,
        officers: {
          FRA: [
            { officerId: 'amina', password: PASSWORD, roles: ['officer'] },
            { officerId: 'ines', password: PASSWORD, roles: ['auditor'] },
          ],
        },
        policies: [{ of: 'KEN', policy: { participantId: 'FRA', ...MANUAL, autoAcknowledge: true, autoAnswer: true } }],
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    // FRA's year of seizures, findings and surrenders, and its traces to KEN (docs/statistics.md).
    await seedDemoSeizures({ fra, ken: federation.node('KEN') });
    report = await fra.statistics.call('getSdgIndicator', { year: '2026', period: undefined });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  const percent = (language: string, value: number) =>
    new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 1 }).format(value);
  const number = (language: string, value: number) => new Intl.NumberFormat(language).format(value);

  async function download(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: button }).click(),
    ]);
    return { name: file.suggestedFilename(), bytes: await readFile((await file.path()) ?? '') };
  }

  for (const language of ['en', 'ar'] as const) {
    it(`shows SDG 16.4.2 for 2026, the items behind a figure, and exports it (${language})`, async () => {
      const context = await officerContext(browser, language);
      const page = await context.newPage();
      await signIn(page, fra, officerOf(fra, 'amina'));
      await page.locator('nav.menu a[href="#/stats"]').click();
      await page.locator('.stats-summary').waitFor();
      // The current year by default; then 2026 through the period form.
      await page.locator('input[name="year"]').fill('2026');
      await page.locator('form.stats-period button[type="submit"]').click();
      await page.waitForURL(/year=2026/);
      await page.locator('.stats-summary').waitFor();

      // The figures are the API's, in the officer's language.
      const total = report.total;
      expect(total?.total).toBeGreaterThan(0);
      await expect
        .poll(() => page.locator('[data-figure="proportion"]').textContent())
        .toBe(percent(language, total?.proportion ?? 0));
      expect(await page.locator('[data-figure="total"]').textContent()).toBe(number(language, total?.total ?? 0));
      const byType = page.locator('[data-table="byType"]');
      expect(await byType.locator('tbody tr').count()).toBe(report.byType.length + 1);
      expect(await page.locator('[data-table="otherItems"] tbody tr').count()).toBe(report.otherItems.length);
      // The chart is drawn from the same rows, hidden from assistive technology (the table is the source).
      const chart = byType.locator('svg.stats-chart-plot');
      expect(await chart.getAttribute('aria-hidden')).toBe('true');
      expect(await chart.locator('rect.bar').count()).toBe(2 * report.byType.length);
      // The bars grow from the inline start: from the left in English, from the right in Arabic.
      const first = await chart
        .locator('rect.bar')
        .first()
        .evaluate((r) => ({
          x: Number(r.getAttribute('x')),
          end: Number(r.getAttribute('x')) + Number(r.getAttribute('width')),
        }));
      if (language === 'en') expect(first.x).toBe(206);
      else expect(first.end).toBeCloseTo(760 - 206);
      await expectAccessible(page);
      await screenshot(page, `stats-sdg-${language}`);

      // A figure opens its items: the row "all firearms", column total, lists every firearm.
      const all = byType.locator('tbody tr.total');
      await all.locator('td').nth(3).locator('button').click();
      const items = byType.locator('.stats-items tbody tr');
      await expect.poll(() => items.count()).toBe(total?.itemIndexes.length);
      expect(await page.evaluate('document.activeElement?.id')).toBe('sdg-items');
      const recordIds = report.items.filter((i) => i.category === 1 && i.recordId !== '').map((i) => i.recordId);
      const links = await byType
        .locator('.stats-items a[href^="#/records/"]')
        .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      expect(links.sort()).toEqual(recordIds.map((id) => `#/records/${id}`).sort());
      const caseLinks = await byType.locator('.stats-items a[href^="#/cases/"]').count();
      expect(caseLinks).toBe(report.items.filter((i) => i.category === 1).flatMap((i) => i.caseIds).length);
      await expectAccessible(page);
      await screenshot(page, `stats-items-${language}`);
      // Another figure of the row, from the keyboard: only the items of its column.
      const traced = report.items.filter((i) => i.category === 1 && i.status === 1).length;
      await all.locator('td').nth(4).locator('button').focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => items.count()).toBe(traced);

      // Exports: the file the node makes, under its name.
      const xlsx = await download(page, language === 'en' ? 'Spreadsheet (XLSX)' : 'جدول بيانات (XLSX)');
      expect(xlsx.name).toMatch(/^tracenet-FRA-.*2026.*\.xlsx$/);
      expect(xlsx.bytes.subarray(0, 2).toString('latin1')).toBe('PK');
      if (language === 'en') {
        const json = await download(page, 'JSON');
        expect(json.name).toMatch(/\.json$/);
        expect(JSON.stringify(JSON.parse(json.bytes.toString('utf8')))).toContain(String(total?.total));
        const csv = await download(page, 'CSV');
        expect(csv.name).toMatch(/\.csv$/);
        expect(csv.bytes.toString('utf8').split(/\r?\n/).length).toBeGreaterThan(3);
      }
      expect(await page.locator('.stats-saved').textContent()).toContain('.');
      await context.close();
    });

    it(`shows tracing performance per peer, with the cases behind the requests (${language})`, async () => {
      const context = await officerContext(browser, language);
      const page = await context.newPage();
      await signIn(page, fra, officerOf(fra, 'amina'));
      await page.goto(`${fra.consoleUrl}/#/stats/tracing?year=2026`);
      const sent = page.locator('[data-direction="tracing-sent"]');
      await sent.waitFor();
      const performance = await fra.statistics.call('getTracingPerformance', {
        period: { fromDate: '2026-01-01', toDate: '2026-12-31' },
        byPeer: true,
      });
      const ken = performance.peers.find((p) => p.peer === 'KEN');
      expect(ken?.sent?.requests).toBeGreaterThan(0);
      const row = sent.locator('tbody tr').first();
      const button = row.locator('button.figure');
      expect(await button.textContent()).toBe(number(language, ken?.sent?.requests ?? 0));
      await button.click();
      await expect.poll(() => sent.locator('.stats-case-list a').count()).toBe(ken?.sent?.caseIds.length);
      expect(await sent.locator('tbody tr.total button.figure').textContent()).toBe(
        number(language, performance.sent?.requests ?? 0),
      );
      await expectAccessible(page);
      await screenshot(page, `stats-tracing-${language}`);
      await context.close();
    });
  }

  it('shows the re-export report by state (none in this federation)', async () => {
    const context = await officerContext(browser, 'ar');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'amina'));
    await page.goto(`${fra.consoleUrl}/#/stats/reexport?year=2026`);
    const section = page.locator('section[aria-labelledby="reexport-title"]');
    await section.waitFor();
    const answer = await fra.statistics.call('getReexportReport', {
      period: { fromDate: '2026-01-01', toDate: '2026-12-31' },
    });
    // FRA's demo traces breach no undertaking: the report is empty, and says so.
    expect(answer.byState).toEqual([]);
    expect(await section.locator('tbody tr').count()).toBe(0);
    expect(await section.locator('p').last().textContent()).toBe('لا تنبيهات في هذه الفترة.');
    expect(await page.locator('main [role="alert"]').count()).toBe(0);
    await expectAccessible(page);
    await screenshot(page, 'stats-reexport-ar');
    await context.close();
  });

  it('shows the statistics to an auditor, without the export', async () => {
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'ines'));
    await page.goto(`${fra.consoleUrl}/#/stats/sdg?year=2026`);
    await page.locator('.stats-summary').waitFor();
    expect(await page.locator('.stats-exports').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'JSON' }).count()).toBe(0);
    // Forced through the console's API: the node's role table refuses the export.
    const forced = await page.evaluate(async () => {
      const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const response = await fetch('/api/rpc/tracenet.v1.Statistics/ExportSdgIndicator', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ period: { year: '2026' }, format: 'EXPORT_FORMAT_CSV' }),
      });
      return { status: response.status, body: (await response.json()) as { error: { code: string; rule: string } } };
    });
    expect(forced.status).toBe(403);
    expect(forced.body.error).toMatchObject({ code: 'FORBIDDEN', rule: 'role' });
    await context.close();
  });

  it('says what is wrong with a period before asking the node, and shows markup in the route as text', async () => {
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'amina'));
    await page.goto(`${fra.consoleUrl}/#/stats/sdg?year=${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
    await page.locator('.field-error').waitFor();
    expect(await page.locator('.field-error').textContent()).toBe('Enter a year of four digits, for example 2026.');
    expect(await page.locator('.stats-summary').count()).toBe(0);
    // A period that ends before it starts.
    await page.locator('input[name="kind"][value="range"]').check();
    await page.locator('input[name="from"]').fill('2026-05-01');
    await page.locator('input[name="to"]').fill('2026-04-30');
    await page.locator('form.stats-period button[type="submit"]').click();
    await page.waitForURL(/from=2026-05-01/);
    expect(await page.locator('.field-error').textContent()).toBe('The end of the period is before its start.');
    // A good range: the figures of those dates.
    await page.locator('input[name="to"]').fill('2026-12-31');
    await page.locator('form.stats-period button[type="submit"]').click();
    await page.locator('.stats-summary').waitFor();
    expect(await page.locator('.field-error').count()).toBe(0);
    await expectAccessible(page);
    await context.close();
  });
});

describe('the Statistics screen: a flagged re-export', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  const ev = (fields: Partial<WeaponEvent>) => WeaponEvent.fromPartial(fields);
  const pistol = (events: WeaponEvent[]) =>
    WeaponRecord.fromPartial({
      manufacture: {
        manufacturer: 'FN Herstal',
        countryOfManufacture: 'BEL',
        serialNumber: 'FX-0412-2231',
        model: 'FNX-45',
        type: WeaponType.WEAPON_TYPE_PISTOL,
        calibre: '.45 ACP',
        year: 2011,
      },
      events,
    });
  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL', 'KEN'],
        console: true,
        officers: { FRA: [{ officerId: 'amina', password: PASSWORD, roles: ['officer'] }] },
        policies: ['BEL', 'KEN'].map((of) => ({ of, policy: { participantId: 'FRA', ...MANUAL, autoAnswer: true } })),
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    // BEL exported the pistol to KEN under an undertaking prohibiting re-export; KEN exported it to UGA.
    await federation.node('BEL').records.call('putRecord', {
      record: pistol([
        ev({
          type: WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED,
          date: '2016-05-10',
          destination: 'KEN',
          licence: 'BEL-EXP-2016-114',
          undertaking: {
            condition: ReexportCondition.REEXPORT_CONDITION_PROHIBITED,
            certificateReference: 'EUC-KEN-2016-77',
            endUser: 'Kenya Police Service',
            date: '2016-04-20',
            authorisations: [],
          },
        }),
      ]),
    });
    await federation.node('KEN').records.call('putRecord', {
      record: pistol([
        ev({ type: WeaponEventType.WEAPON_EVENT_TYPE_IMPORTED, date: '2016-05-20', origin: 'BEL' }),
        ev({ type: WeaponEventType.WEAPON_EVENT_TYPE_EXPORTED, date: '2019-02-11', destination: 'UGA' }),
      ]),
    });
    const answered = (caseId: string) =>
      waitFor(
        async () => (await fra.cases.call('getCase', { caseId })).case?.state === CaseState.CASE_STATE_ANSWERED,
        20_000,
        `FRA's case ${caseId} answered`,
      );
    const { case: toBel } = await fra.cases.call('createCase', {
      recipient: 'BEL',
      request: traceRequest(),
      send: true,
    });
    await answered(toBel?.caseId ?? '');
    const { case: toKen } = await fra.cases.call('followOn', {
      caseId: toBel?.caseId ?? '',
      send: true,
      intendedUse: '',
      otherInformation: '',
    });
    await answered(toKen?.caseId ?? '');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  for (const language of ['en', 'ar'] as const)
    it(`counts the flag FRA raised against the state of the undertaking, with its id (${language})`, async () => {
      const year = String(new Date().getUTCFullYear());
      const report = await fra.statistics.call('getReexportReport', {
        period: { fromDate: `${year}-01-01`, toDate: `${year}-12-31` },
      });
      expect(report.byState).toHaveLength(1);
      const [state] = report.byState;
      expect(state).toMatchObject({ state: 'KEN', raised: 1, received: 0 });
      const context = await officerContext(browser, language);
      const page = await context.newPage();
      await signIn(page, fra, officerOf(fra, 'amina'));
      await page.goto(`${fra.consoleUrl}/#/stats/reexport`);
      const row = page.locator('section[aria-labelledby="reexport-title"] tbody tr');
      await row.first().waitFor();
      expect(await row.count()).toBe(1);
      const cells = await row.locator('th, td').allTextContents();
      expect(cells).toEqual([
        language === 'en' ? 'Kenya' : 'كينيا',
        new Intl.NumberFormat(language).format(1),
        new Intl.NumberFormat(language).format(0),
        state?.flagIds[0],
      ]);
      expect(
        await page.locator('section[aria-labelledby="reexport-title"] svg.stats-chart-plot rect.bar').count(),
      ).toBe(2);
      await expectAccessible(page);
      await screenshot(page, `stats-reexport-flag-${language}`);
      await context.close();
    });
});
