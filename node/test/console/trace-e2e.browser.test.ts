import { CaseState, OnwardDisclosure, TraceOutcome, WeaponType } from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/index.js';
import { stolenRifle, theftReport } from '../lookup/support.js';
import {
  type ConsoleLanguage,
  expectAccessible,
  launchBrowser,
  officerContext,
  officerOf,
  screenshot,
  signIn,
} from '../support/browser.js';
import { type ComposedWeapon, fillComposeForm, message, sendComposed } from '../support/console-flow.js';

/**
 * Officers of three states run their work through their consoles only (gRPC only seeds KEN's
 * record and BEL's approval policy): FRA's officer in French traces a pistol at BEL, whose officer
 * and supervisor work in Arabic — compose with a photo, BEL's inbox live, acknowledge, an answer
 * with a restriction held for four-eyes, the supervisor reviews and approves, FRA reads the answer,
 * its restrictions in words and the chain; a wildcard lookup hits KEN's stolen rifle and KEN's
 * officer sees who asked and why; FRA asks BEL's consent to pass the answer on and BEL grants it.
 *
 * A wrong password, an expired session and a role without permission, each with a clear message in
 * English and Arabic, are covered by signin.browser.test.ts ("refuses a wrong password …", "brings
 * an officer whose session expired back to the sign-in …", "tells an officer … that their role does
 * not open a section …"); compose, lookups and approvals tests also refuse an auditor's calls.
 */

const PASSWORD = 'correct horse battery';
const PURPOSE = 'saisie au port de Marseille, dossier OCLCO-2026-0412';
const LAST_RECORD = 'Vendu à l’armurier agréé Armurerie Dupont, Liège, 2015-06-02';
const PISTOL: ComposedWeapon = {
  manufacturer: 'FN Herstal',
  countryOfManufacture: 'BEL',
  serialNumber: 'FX-0977-1180',
  model: 'FNX-45',
  type: WeaponType.WEAPON_TYPE_PISTOL,
  calibre: '.45 ACP',
  year: 2014,
};

/** Text as shown, without the invisible isolates around names and ids (U+2068, U+2069). */
const plain = (text: string | null) => (text ?? '').replace(/[\u2068\u2069]/g, '');
/** A country's name in a language, as the console names it (Intl, like participantName). */
const country = (language: ConsoleLanguage, alpha2: string) =>
  new Intl.DisplayNames(language, { type: 'region' }).of(alpha2) ?? alpha2;

async function open(browser: Browser, node: LocalNode, officerId: string, language: ConsoleLanguage): Promise<Page> {
  const context = await officerContext(browser, language);
  const page = await context.newPage();
  await signIn(page, node, officerOf(node, officerId));
  return page;
}

/** Opens a section from the console's menu. */
async function section(page: Page, name: string): Promise<void> {
  await page.locator(`nav.menu a[href="#/${name}"]`).click();
  await page.locator('#screen-title').waitFor();
}

const badge = (page: Page, language: ConsoleLanguage, state: string) =>
  page.locator('.case-summary .badge', { hasText: message(language, `case.state.${state}`) });

describe('a whole trace between officers of three states, through their consoles', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  let bel: LocalNode;
  let ken: LocalNode;
  let fraCase = '';

  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL', 'KEN'],
        console: true,
        officers: {
          FRA: [{ officerId: 'camille', password: PASSWORD, roles: ['officer'] }],
          BEL: [
            { officerId: 'karim', password: PASSWORD, roles: ['officer'] },
            { officerId: 'salma', password: PASSWORD, roles: ['supervisor'] },
          ],
          KEN: [{ officerId: 'wanjiru', password: PASSWORD, roles: ['officer'] }],
        },
        policies: [
          { of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true } },
          { of: 'KEN', policy: { participantId: 'FRA', allowLookups: true } },
        ],
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    bel = federation.node('BEL');
    ken = federation.node('KEN');
    // Four-eyes at BEL: answers that release record information wait for a supervisor.
    await bel.cases.call('setApprovalPolicy', {
      policy: { answers: true, disclosures: false, refusals: false, policyChanges: false, automaticAnswers: false },
    });
    // KEN holds a rifle reported stolen (FN Herstal FX-0412-2231).
    const rifle = (await ken.records.call('putRecord', { record: stolenRifle() })).record?.recordId ?? '';
    await ken.records.call('reportRecord', {
      recordId: rifle,
      report: theftReport({ contactPoint: 'NCB Nairobi, desk 4', agency: 'DCI Kenya' }),
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  it('FRA (French) asks with a photo; BEL (Arabic) acknowledges and answers with a restriction, held; the supervisor approves; FRA reads it', async () => {
    // BEL's officer has the inbox open before the request arrives.
    const karim = await open(browser, bel, 'karim', 'ar');
    await karim.locator('#screen-title').waitFor();
    expect(await karim.locator('html').getAttribute('dir')).toBe('rtl');

    const camille = await open(browser, fra, 'camille', 'fr');
    await section(camille, 'compose');
    await fillComposeForm(camille, 'BEL', PISTOL);
    await expectAccessible(camille);
    await screenshot(camille, 'flow-compose-fr');
    fraCase = await sendComposed(camille);
    expect(plain(await camille.locator('.case-summary').textContent())).toContain(country('fr', 'BE'));

    // Live: the request shows in BEL's inbox without a reload.
    const row = karim.locator('table.inbox-table tbody tr', { hasText: country('ar', 'FR') });
    await row.first().waitFor({ timeout: 30_000 });
    await expectAccessible(karim);
    await screenshot(karim, 'flow-inbox-ar');
    await row.first().locator('a').first().click();
    await karim.locator('.case-summary').waitFor();
    expect(await karim.locator('main').textContent()).toContain(PISTOL.serialNumber);
    // The photo of the markings came with the request, and the answering officer sees it.
    const belCase = decodeURIComponent(karim.url().split('#/cases/')[1] ?? '');
    const photos = (await bel.cases.call('getCase', { caseId: belCase })).case?.request?.weapon?.photos ?? [];
    expect(photos.map((p) => [p.mediaType, p.caption])).toEqual([['image/jpeg', 'Serial on the slide']]);
    const shown = karim.locator('.case-photos img').first();
    await shown.waitFor();
    await expect
      .poll(() => shown.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(0);
    expect(await shown.getAttribute('alt')).toBe('Serial on the slide');
    await expectAccessible(karim);
    await screenshot(karim, 'flow-received-ar');
    await karim.locator('form.step-acknowledge button[type="submit"]').click();
    await badge(karim, 'ar', 'acknowledged').waitFor();

    // Answer "traced", not to be passed on, kept 90 days.
    await karim.getByRole('button', { name: message('ar', 'case.step.answer.open'), exact: true }).click();
    await karim.locator(`input[name="outcome"][value="${TraceOutcome.TRACE_OUTCOME_TRACED}"]`).check();
    await karim.locator('textarea[name="last_legal_record"]').fill(LAST_RECORD);
    await karim
      .locator('select[name="onwardDisclosure"]')
      .selectOption(String(OnwardDisclosure.ONWARD_DISCLOSURE_NONE));
    await karim.locator('input[name="retention_days"]').fill('90');
    await expectAccessible(karim);
    await screenshot(karim, 'flow-answer-ar');
    await karim.locator('form.step-answer button[type="submit"]').click();
    const pending = karim.locator('.pending-approval');
    await pending.waitFor();
    const approvalId = /apr-\d+/.exec(plain(await pending.textContent()))?.[0] ?? '';
    expect(approvalId).not.toBe('');
    // Nothing was sent: the case stays acknowledged on both sides, and no second answer is offered.
    await badge(karim, 'ar', 'acknowledged').waitFor();
    expect(await karim.getByRole('button', { name: message('ar', 'case.step.answer.open'), exact: true }).count()).toBe(
      0,
    );
    expect((await fra.cases.call('getCase', { caseId: fraCase })).case?.state).not.toBe(CaseState.CASE_STATE_ANSWERED);
    await expectAccessible(karim);
    await screenshot(karim, 'flow-held-ar');
    await karim.context().close();

    // BEL's supervisor reviews the held answer in the approvals queue and approves it.
    const salma = await open(browser, bel, 'salma', 'ar');
    await section(salma, 'approvals');
    const held = salma.locator('tr', { hasText: approvalId });
    await held.waitFor();
    await held.getByRole('button').first().click();
    const review = salma.locator('#approval-review');
    await review.locator('.approvals-summary').waitFor();
    expect(await review.textContent()).toContain(LAST_RECORD);
    await review.locator('.approvals-case', { hasText: PISTOL.serialNumber }).waitFor();
    await expectAccessible(salma);
    await screenshot(salma, 'flow-approval-ar');
    await review.getByRole('button', { name: message('ar', 'approvals.decide.approve') }).click();
    // The review stays open with the outcome, also once the queue has reloaded without the step.
    await review.getByRole('status').filter({ hasText: approvalId }).waitFor();
    await salma.getByRole('button', { name: new RegExp(approvalId) }).waitFor({ state: 'detached' });
    expect(await review.getByRole('status').textContent()).toContain(approvalId);
    await expectAccessible(salma);
    await salma.context().close();

    // FRA's officer, on the case page all along: the answer, its restrictions in words, the chain.
    const answer = camille.locator('section[aria-labelledby="answer-title"]', { hasText: LAST_RECORD });
    await answer.waitFor({ timeout: 30_000 });
    await badge(camille, 'fr', 'answered').waitFor();
    const restrictions = plain(await camille.locator('.restrictions').textContent());
    expect(restrictions).toContain(message('fr', 'case.restrictions.onwardNone', { provider: country('fr', 'BE') }));
    expect(restrictions).toContain('90');
    const chain = camille.locator('ol.chain > li');
    await expect.poll(() => chain.count()).toBe(2);
    expect(plain(await chain.first().textContent())).toContain(country('fr', 'BE'));
    expect(plain(await chain.first().textContent())).toContain(message('fr', 'case.outcome.traced'));
    expect(plain(await chain.last().textContent())).toContain(country('fr', 'FR'));
    await expectAccessible(camille);
    await screenshot(camille, 'flow-answered-fr');
    await camille.context().close();
  }, 150_000);

  it("FRA (French) looks up a serial with wildcards: a hit at KEN; KEN's officer (Arabic) sees who asked and why", async () => {
    const camille = await open(browser, fra, 'camille', 'fr');
    await section(camille, 'lookups');
    await camille.locator('input[name="manufacturer"]').fill('FN Herstal');
    await camille.locator('input[name="serial"]').fill('fx-04?2-*');
    await camille.locator('textarea[name="purpose"]').fill(PURPOSE);
    await camille.locator('form.lookup-form button[type="submit"]').click();
    const hit = camille.locator('.lookup-results tbody tr', { hasText: 'KEN' });
    await hit.waitFor({ timeout: 30_000 });
    expect(await hit.getAttribute('class')).toBe('outcome-hit');
    const text = plain(await hit.textContent());
    expect(text).toContain(country('fr', 'KE'));
    expect(text).toContain('NCB Nairobi, desk 4');
    await expectAccessible(camille);
    await screenshot(camille, 'flow-lookup-fr');
    await camille.context().close();

    const wanjiru = await open(browser, ken, 'wanjiru', 'ar');
    await section(wanjiru, 'lookups');
    await wanjiru.locator('nav.tabs a').nth(1).click();
    const rows = wanjiru.locator('table.hits tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    const seen = plain(await rows.first().textContent());
    expect(seen).toContain(PURPOSE);
    expect(seen).toContain(country('ar', 'FR'));
    await expectAccessible(wanjiru);
    await screenshot(wanjiru, 'flow-hits-ar');
    await wanjiru.context().close();
  }, 90_000);

  it('FRA (French) asks BEL to let it pass the answer on to KEN; BEL (Arabic) grants it; FRA sees the grant and shares', async () => {
    const camille = await open(browser, fra, 'camille', 'fr');
    await section(camille, 'sharing');
    const form = camille.locator('form.pass-on');
    await form.locator('select[name="case"]').selectOption(fraCase);
    await form.locator('input[name="third"]').fill('KEN');
    await form.locator('textarea[name="reason"]').fill('Le Kenya enquête sur le vol de pistolets du même lot.');
    await form.locator('.actions button:not(.primary)').click();
    const asked = camille.locator('tr.sent-consent', { hasText: 'KEN' });
    await asked.waitFor();
    await expectAccessible(camille);
    await screenshot(camille, 'flow-consent-asked-fr');

    const karim = await open(browser, bel, 'karim', 'ar');
    await section(karim, 'sharing');
    const request = karim.locator('article.consent', { hasText: country('ar', 'KE') });
    await request.waitFor({ timeout: 30_000 });
    expect(await request.textContent()).toContain('Le Kenya enquête sur le vol');
    await expectAccessible(karim);
    await screenshot(karim, 'flow-consent-ar');
    await request.locator('textarea[name="conditions"]').fill('pour l’enquête sur le vol uniquement');
    await request.locator('form.decision button.primary').click();
    await expect.poll(() => request.locator('form.decision').count(), { timeout: 20_000 }).toBe(0);
    expect(await request.textContent()).toContain(message('ar', 'sharing.granted'));
    await expectAccessible(karim);
    await karim.context().close();

    // FRA sees the grant, then passes the answer on to KEN under it.
    await expect
      .poll(async () => (await fra.cases.call('getCase', { caseId: fraCase })).case?.consents[0]?.decidedAtMs ?? 0, {
        timeout: 20_000,
      })
      .toBeGreaterThan(0);
    await camille.reload();
    await asked.locator('.badge.ok').waitFor();
    expect(await asked.textContent()).toContain('pour l’enquête sur le vol uniquement');
    await form.locator('select[name="case"]').selectOption(fraCase);
    await form.locator('input[name="third"]').fill('KEN');
    await form.locator('textarea[name="reason"]').fill('Transmis sous le consentement de la Belgique.');
    await form.locator('.actions button.primary').click();
    const made = camille.locator('section[aria-labelledby="sharing-made"] tbody tr');
    await expect.poll(() => made.count(), { timeout: 20_000 }).toBe(1);
    expect(await made.textContent()).toContain('KEN');
    await expectAccessible(camille);
    await screenshot(camille, 'flow-shared-fr');
    await camille.context().close();
  }, 90_000);
});
