import { type AnswerCaseRequest, type Case, CaseRole, CaseState, TraceOutcome } from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/index.js';
import { stolenRifle, theftReport } from '../lookup/support.js';
import {
  alertText,
  type ConsoleLanguage,
  expectAccessible,
  launchBrowser,
  officerContext,
  officerOf,
  screenshot,
  signIn,
} from '../support/browser.js';
import { traceRequest } from '../support/requests.js';

/**
 * The lookups and consent screens of the console, in Chromium against three node processes: FRA
 * asks; BEL holds the rifle without a report (no hit); KEN holds it reported stolen (a hit). KEN
 * answers one of FRA's traces and decides FRA's consent requests in its console.
 */

const PASSWORD = 'correct horse battery';
const PURPOSE = 'seizure at the port of Marseille, case OCLCO-2026-0211';
const MARKUP = '<img src=x onerror="window.__pwned=1"><b>bold</b> seizure in Lyon';

const getCase = async (node: LocalNode, caseId: string): Promise<Case> =>
  (await node.cases.call('getCase', { caseId })).case as Case;

/** The value `read` gives once it gives one (at most 20 s). */
async function until<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  let found: T | undefined;
  await expect
    .poll(
      async () => {
        found = await read();
        return found !== undefined;
      },
      { timeout: 20_000, message: what },
    )
    .toBe(true);
  return found as T;
}

/** Signs `officerId` of `node` in and opens a section from the menu. */
async function open(browser: Browser, node: LocalNode, officerId: string, language: ConsoleLanguage, section: string) {
  const context = await officerContext(browser, language);
  const page = await context.newPage();
  await signIn(page, node, officerOf(node, officerId));
  await page.locator(`nav.menu a[href="#/${section}"]`).click();
  await page.locator('#screen-title').waitFor();
  return { context, page };
}

/** Fills the lookup form and submits it. */
async function lookUp(
  page: Page,
  fields: { manufacturer?: string; serial: string; purpose: string; peers?: string[] },
) {
  await page.locator('input[name="manufacturer"]').fill(fields.manufacturer ?? 'FN Herstal');
  await page.locator('input[name="serial"]').fill(fields.serial);
  await page.locator('textarea[name="purpose"]').fill(fields.purpose);
  if (fields.peers) {
    await page.locator('input[type="radio"][name="peers"]').nth(1).check();
    for (const peer of fields.peers) await page.locator(`input[name="peer"][value="${peer}"]`).check();
  }
  await page.locator('form.lookup-form button[type="submit"]').click();
}

/** The error shown under the field whose control is `control`. */
const fieldError = (page: Page, control: string) =>
  page.locator('.field', { has: page.locator(control) }).locator('.field-error');

describe('the lookups and consent screens', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  let bel: LocalNode;
  let ken: LocalNode;

  beforeAll(async () => {
    const fromFra = { participantId: 'FRA', allowLookups: true, acceptRequests: true, autoAcknowledge: true };
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL', 'KEN'],
        console: true,
        officers: {
          FRA: [
            { officerId: 'amina', password: PASSWORD, roles: ['officer'] },
            { officerId: 'aude', password: PASSWORD, roles: ['auditor'] },
          ],
          KEN: [{ officerId: 'wanjiru', password: PASSWORD, roles: ['officer'] }],
          BEL: [{ officerId: 'lucas', password: PASSWORD, roles: ['officer'] }],
        },
        policies: [
          { of: 'BEL', policy: fromFra },
          { of: 'KEN', policy: fromFra },
        ],
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    bel = federation.node('BEL');
    ken = federation.node('KEN');
    // BEL holds the rifle without a report: never a hit. KEN holds it reported stolen.
    await bel.records.call('putRecord', { record: stolenRifle() });
    const kenRifle = (await ken.records.call('putRecord', { record: stolenRifle() })).record?.recordId ?? '';
    await ken.records.call('reportRecord', {
      recordId: kenRifle,
      report: theftReport({ contactPoint: 'NCB Nairobi, desk 4', agency: 'DCI Kenya' }),
    });
  });
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  it('FRA looks up a serial with wildcards: a hit at KEN, no hit at BEL, named per country, in English and Arabic', async () => {
    for (const language of ['en', 'ar'] as const) {
      const { context, page } = await open(browser, fra, 'amina', language, 'lookups');
      await expect.poll(() => page.locator('#lookup-releases').isVisible()).toBe(true);
      await expectAccessible(page);
      await lookUp(page, { serial: 'fx-04?2-*', purpose: PURPOSE });
      const results = page.locator('.lookup-results');
      await results.waitFor();
      const kenRow = results.locator('tbody tr', { hasText: 'KEN' });
      const belRow = results.locator('tbody tr', { hasText: 'BEL' });
      expect(await kenRow.getAttribute('class')).toBe('outcome-hit');
      expect(await belRow.getAttribute('class')).toBe('outcome-noHit');
      const kenText = (await kenRow.textContent()) ?? '';
      expect(kenText).toContain('NCB Nairobi, desk 4');
      expect(kenText).toMatch(/roi_[A-Za-z0-9_-]{22}/);
      // The country's name in the officer's language.
      expect(kenText).toContain(language === 'en' ? 'Kenya' : 'كينيا');
      if (language === 'en') {
        expect(kenText).toContain('Stolen');
        expect(kenText).toContain('Candidate (wildcard search)');
        expect(await results.locator('[role="status"]').textContent()).toContain('2 states asked: a hit from 1 state');
      }
      // Nothing of the record beyond what a hit releases.
      expect(kenText).not.toContain('FAL-50.63');
      expect(await page.locator('section[aria-labelledby="lookup-history"] tbody tr').count()).toBe(1);
      await expectAccessible(page);
      await screenshot(page, `lookups-${language}`);
      if (language === 'en') {
        // Signing out and in again on the same tab (no reload) starts an empty history.
        await page.locator('header.topbar button').click();
        await page.locator('input[name="officerId"]').fill('amina');
        await page.locator('input[name="password"]').fill(PASSWORD);
        await page.locator('form button[type="submit"]').click();
        await page.locator('nav.menu a[href="#/lookups"]').click();
        await page.locator('#lookup-releases').waitFor();
        expect(await page.locator('#lookup-history').count()).toBe(0);
      }
      await context.close();
    }
  });

  it('opens a trace from the hit: the request quotes the hit and the console goes to the new case', async () => {
    const { context, page } = await open(browser, fra, 'amina', 'en', 'lookups');
    await lookUp(page, { serial: 'FX-0412-2231', purpose: PURPOSE, peers: ['KEN'] });
    const hit = page.locator('.lookup-hit');
    await hit.waitFor();
    await hit.getByRole('button', { name: 'Open a trace' }).click();
    const form = page.locator('form.trace-from-hit');
    await expectAccessible(page);
    // Sent without what a request needs: refused by field, nothing opened.
    await form.getByRole('button', { name: 'Send the request' }).click();
    await expect.poll(() => form.locator('.field-error').count()).toBeGreaterThan(2);
    expect(await form.getByRole('link', { name: 'Open in the full request form' }).getAttribute('href')).toBe(
      '#/compose?manufacturer=FN+Herstal&serial=FX-0412-2231&model=&calibre=&recipient=KEN',
    );
    await expectAccessible(page);
    await screenshot(page, 'lookups-trace-en');
    await form.getByLabel('Your case reference').fill('OCLCO-2026-0211');
    await form.getByLabel('Why the weapon is illicit').selectOption({ label: 'Illicit under national law' });
    await form.getByLabel('Legal basis').fill('Code de la sécurité intérieure, art. L317-8');
    await form.getByLabel('How it was found').selectOption({ label: 'Seized' });
    await form.getByLabel('Date found').fill('2026-11-30');
    await form.getByLabel('Place found').fill('Marseille');
    await form.getByLabel('Agency').fill('Douanes');
    await form.getByLabel('Weapon type').selectOption({ label: 'Rifle' });
    await form.getByLabel('Calibre').fill('7.62x51mm');
    await form.getByLabel('Requesting authority').fill('OCLCO');
    await form.getByRole('button', { name: 'Send the request' }).click();
    await page.waitForURL(/#\/cases\/[^/]+$/);
    const caseId = decodeURIComponent(new URL(page.url()).hash.replace('#/cases/', ''));
    const opened = await getCase(fra, caseId);
    expect(opened.peer).toBe('KEN');
    expect(opened.request?.hitReference).toMatch(/^roi_/);
    expect(opened.request?.intendedUse).toBe(PURPOSE);
    expect(opened.request?.weapon?.markings?.serialNumber).toBe('FX-0412-2231');
    await context.close();
  });

  it('refuses hostile lookups field by field: a wildcard-only serial, a very long serial, a markup purpose over the limit', async () => {
    const { context, page } = await open(browser, fra, 'amina', 'en', 'lookups');
    await lookUp(page, { serial: '*', purpose: PURPOSE });
    await expect
      .poll(() => fieldError(page, 'input[name="serial"]').textContent())
      .toContain('at least 3 known letters or digits');
    expect(await alertText(page)).toContain('one field needs correcting');
    expect(await page.locator('input[name="serial"]').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page);

    await lookUp(page, { serial: `FX${'7'.repeat(5000)}`, purpose: PURPOSE });
    await expect.poll(() => fieldError(page, 'input[name="serial"]').textContent()).toBe('Too long.');

    // Markup over the purpose's 500 characters: refused on the purpose, the markup never becomes markup.
    await lookUp(page, { serial: 'FX-0412-2231', purpose: `${MARKUP} ${'x'.repeat(600)}` });
    await expect.poll(() => fieldError(page, 'textarea[name="purpose"]').textContent()).toBe('Too long.');
    expect(await fieldError(page, 'input[name="serial"]').count()).toBe(0);
    // A control character and 10 000 characters in the manufacturer: refused, the page intact.
    await lookUp(page, { manufacturer: `\u0000${'F'.repeat(10_000)}`, serial: 'FX-0412-2231', purpose: PURPOSE });
    await expect.poll(() => fieldError(page, 'input[name="manufacturer"]').textContent()).toBe('Too long.');
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('.lookup-results').count()).toBe(0);
    await context.close();
  });

  it('a role without lookups (an auditor) is told so, and nothing is asked', async () => {
    const { context, page } = await open(browser, fra, 'aude', 'en', 'lookups');
    await lookUp(page, { serial: 'FX-0412-2231', purpose: PURPOSE });
    expect(await alertText(page)).toMatch(/role does not allow/i);
    expect(await page.locator('.lookup-results').count()).toBe(0);
    await context.close();
  });

  it("KEN's owner view lists FRA's hits newest first with who asked and why, live; markup in a purpose stays text", async () => {
    // Open before the next hit: the view shows the three hits so far (two wildcard searches, the trace's).
    const live = await open(browser, ken, 'wanjiru', 'en', 'lookups');
    await live.page.locator('nav.tabs a').nth(1).click();
    const liveRows = live.page.locator('table.hits tbody tr');
    await expect.poll(() => liveRows.count()).toBe(3);
    // A lookup whose purpose holds markup, within the limit: accepted, and shown as text by the owner.
    const response = await fra.lookups.call('lookup', {
      weapon: { manufacturer: 'FN Herstal', serialNumber: 'FX-0412-2231', model: '', calibre: '', type: 0 },
      purpose: MARKUP,
      peers: ['KEN'],
      deadlineMs: 5000,
      requestingAuthority: 'OCLCO',
    });
    expect(response.results[0]?.hits).toHaveLength(1);
    // The node's event stream brings it in without a reload, and says so.
    await expect.poll(() => liveRows.count(), { timeout: 20_000 }).toBe(4);
    expect(await live.page.getByRole('status').textContent()).toBe('A new hit arrived.');
    await live.context.close();
    for (const language of ['en', 'ar'] as const) {
      const { context, page } = await open(browser, ken, 'wanjiru', language, 'lookups');
      await page.locator('nav.tabs a').nth(1).click();
      const rows = page.locator('table.hits tbody tr');
      await rows.first().waitFor();
      expect(await rows.count()).toBe(4);
      const newest = (await rows.first().textContent()) ?? '';
      expect(newest).toContain(MARKUP);
      expect(newest).toContain('FRA');
      expect(newest).toContain(language === 'en' ? 'France' : 'فرنسا');
      expect(await page.locator('table.hits img, table.hits b').count()).toBe(0);
      expect(await rows.nth(3).textContent()).toContain(PURPOSE);
      if (language === 'en') {
        expect(await rows.nth(3).textContent()).toContain('Candidate (wildcard search)');
        expect(newest).toContain('for OCLCO');
      }
      await expectAccessible(page);
      await screenshot(page, `lookups-hits-${language}`);
      await context.close();
    }
  });

  it('KEN grants one consent request and refuses another in its console; FRA sees both outcomes and shares under the grant', async () => {
    // FRA traces with KEN; KEN answers; FRA asks consent to pass the answer on to BEL and to DEU.
    const mine = (await fra.cases.call('createCase', { recipient: 'KEN', request: traceRequest(), send: true }))
      .case as Case;
    const theirs = await until(
      async () =>
        (
          await ken.cases.call('listCases', {
            role: CaseRole.CASE_ROLE_REQUESTED,
            state: CaseState.CASE_STATE_ACKNOWLEDGED,
            peer: '',
            overdueOnly: false,
            limit: 500,
            cursor: '',
          })
        ).cases.find((c) => c.traceId === mine.traceId),
      "KEN's acknowledged case",
    );
    const answer: AnswerCaseRequest = {
      caseId: theirs.caseId,
      outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
      lastLegalRecord: 'sold 2019-04-02 to a licensed dealer in Nairobi, licence KE-D-2019-18',
      pointOfDiversion: '',
      referral: undefined,
      history: [],
      details: '',
      restrictions: undefined,
      release: [],
    };
    await ken.cases.call('answerCase', answer);
    await expect
      .poll(async () => (await getCase(fra, mine.caseId)).state, { timeout: 20_000 })
      .toBe(CaseState.CASE_STATE_ANSWERED);
    await fra.cases.call('requestConsent', {
      caseId: mine.caseId,
      thirdParticipant: 'BEL',
      reason: 'the rifle was bought in Liège; the Belgian police investigate the dealer',
    });
    await fra.cases.call('requestConsent', {
      caseId: mine.caseId,
      thirdParticipant: 'DEU',
      reason: 'a <script>alert(1)</script> German importer is named in our file',
    });
    await expect.poll(async () => (await getCase(ken, theirs.caseId)).consents.length, { timeout: 20_000 }).toBe(2);

    // KEN's officer decides both in the console.
    const { context, page } = await open(browser, ken, 'wanjiru', 'en', 'sharing');
    const requests = page.locator('article.consent');
    await expect.poll(() => requests.count()).toBe(2);
    const toBel = requests.filter({ hasText: 'Belgium' });
    const toDeu = requests.filter({ hasText: 'Germany' });
    expect(await toBel.textContent()).toContain('the Belgian police investigate the dealer');
    expect(await toBel.textContent()).toContain('only with the provider');
    expect(await toDeu.textContent()).toContain('<script>alert(1)</script>');
    await expectAccessible(page);
    await screenshot(page, 'sharing-en');
    await toBel.getByLabel('Conditions or reason').fill('for the investigation of the dealer only');
    await toBel.getByRole('button', { name: 'Grant consent' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('The decision was recorded');
    await toDeu.getByLabel('Conditions or reason').fill('the importer is subject of our own investigation');
    await toDeu.getByRole('button', { name: 'Refuse consent' }).click();
    await expect.poll(() => page.locator('article.consent form.decision').count()).toBe(0);
    expect(await toBel.textContent()).toContain('Granted');
    expect(await toDeu.textContent()).toContain('Refused');
    await expectAccessible(page);
    await context.close();

    // FRA sees both decisions (Arabic), shares with BEL under the grant; DEU stays refused.
    await expect
      .poll(async () => (await getCase(fra, mine.caseId)).consents.filter((c) => c.decidedAtMs > 0).length, {
        timeout: 20_000,
      })
      .toBe(2);
    const fraPage = await open(browser, fra, 'amina', 'ar', 'sharing');
    const sent = fraPage.page.locator('tr.sent-consent');
    await expect.poll(() => sent.count()).toBe(2);
    expect(await sent.filter({ hasText: 'BEL' }).textContent()).toContain('for the investigation of the dealer only');
    expect(await sent.filter({ hasText: 'BEL' }).locator('.badge.ok').count()).toBe(1);
    expect(await sent.filter({ hasText: 'DEU' }).locator('.badge.danger').count()).toBe(1);
    const form = fraPage.page.locator('form.pass-on');
    // DEU is no connected state: the node refuses the share on the third participant.
    await form.locator('input[name="third"]').fill('DEU');
    await form.locator('button.primary').click();
    await expect.poll(() => fieldError(fraPage.page, 'input[name="third"]').textContent()).toBe('ليست دولة متصلة.');
    await form.locator('input[name="third"]').fill('BEL');
    await form.locator('textarea[name="reason"]').fill('for the dealer investigation');
    await form.locator('button.primary').click();
    const made = fraPage.page.locator('section[aria-labelledby="sharing-made"] tbody tr');
    await expect.poll(() => made.count()).toBe(1);
    expect(await made.textContent()).toContain('BEL');
    expect((await getCase(fra, mine.caseId)).disclosures.map((d) => d.thirdParticipant)).toEqual(['BEL']);
    await expectAccessible(fraPage.page);
    await screenshot(fraPage.page, 'sharing-ar');
    await fraPage.context.close();

    // BEL holds KEN's answer as shared by FRA, under KEN's restrictions; KEN sees the disclosure.
    const belPage = await open(browser, bel, 'lucas', 'fr', 'sharing');
    const held = belPage.page.locator('tr.shared-case');
    await expect.poll(() => held.count(), { timeout: 20_000 }).toBe(1);
    const heldText = (await held.textContent()) ?? '';
    expect(heldText).toContain('France');
    expect(heldText).toContain('Kenya');
    expect(heldText).toContain('for the dealer investigation');
    expect(heldText).toContain('seulement avec le consentement du fournisseur');
    await expectAccessible(belPage.page);
    await belPage.context.close();
    await expect.poll(async () => (await getCase(ken, theirs.caseId)).disclosures.length, { timeout: 20_000 }).toBe(1);
    const kenPage = await open(browser, ken, 'wanjiru', 'en', 'sharing');
    const notified = kenPage.page.locator('section[aria-labelledby="sharing-notified"] tbody tr');
    await expect.poll(() => notified.count()).toBe(1);
    expect(await notified.textContent()).toMatch(/France FRA.*Belgium BEL.*consent/);
    await kenPage.context.close();

    // Under four-eyes for disclosures, KEN's officer's decision waits for a supervisor: the console says so.
    await ken.cases.call('setApprovalPolicy', {
      policy: { answers: false, disclosures: true, refusals: false, policyChanges: false, automaticAnswers: false },
    });
    await fra.cases.call('requestConsent', {
      caseId: mine.caseId,
      thirdParticipant: 'NLD',
      reason: 'the Dutch customs',
    });
    await expect.poll(async () => (await getCase(ken, theirs.caseId)).consents.length, { timeout: 20_000 }).toBe(3);
    const fourEyes = await open(browser, ken, 'wanjiru', 'en', 'sharing');
    const toNld = fourEyes.page.locator('article.consent', { hasText: 'Netherlands' });
    await toNld.getByRole('button', { name: 'Grant consent' }).click();
    await expect
      .poll(() => fourEyes.page.getByRole('status').first().textContent())
      .toBe("The step waits for a supervisor's approval.");
    expect((await getCase(ken, theirs.caseId)).consents.find((c) => c.thirdParticipant === 'NLD')?.decidedAtMs).toBe(0);
    // The request stays open, without a second decision form while its decision waits.
    await expect.poll(() => toNld.locator('form.decision').count()).toBe(0);
    expect(await toNld.locator('.notice').textContent()).toBe("The step waits for a supervisor's approval.");
    await fourEyes.context.close();
  });
});
