import {
  AcknowledgeCaseRequest,
  AnswerCaseRequest,
  type Case,
  CaseIdRequest,
  CaseRole,
  CaseState,
  CreateCaseRequest,
  ListCasesRequest,
  Priority,
  SetApprovalPolicyRequest,
  TraceOutcome,
  WeaponDescription,
} from '@tracenet/proto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
import { waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';

const PASSWORD = 'correct horse battery';
const HOSTILE = '<img src=x onerror="window.__pwned=1">\u0007\u202E<b>bold</b> & "quotes"';

/** Sends a trace request from FRA to BEL through FRA's Authority API; returns FRA's case and BEL's. */
async function sendRequest(fra: LocalNode, bel: LocalNode, changes: Parameters<typeof traceRequest>[0] = {}) {
  const { case: sent } = await fra.cases.call(
    'createCase',
    CreateCaseRequest.fromPartial({ recipient: 'BEL', request: traceRequest(changes), send: true }),
  );
  if (!sent) throw new Error('no case');
  let received: Case | undefined;
  await waitFor(
    async () => {
      const { cases } = await bel.cases.call(
        'listCases',
        ListCasesRequest.fromPartial({ role: CaseRole.CASE_ROLE_REQUESTED, limit: 500 }),
      );
      received = cases.find((c) => c.traceId === sent.traceId);
      return received !== undefined;
    },
    15_000,
    'the request on BEL',
  );
  return { sent, received: received as Case };
}

async function stateOf(node: LocalNode, caseId: string): Promise<CaseState> {
  const { case: c } = await node.cases.call('getCase', CaseIdRequest.fromPartial({ caseId }));
  return c?.state ?? CaseState.CASE_STATE_UNSPECIFIED;
}

async function openConsole(browser: Browser, node: LocalNode, officerId: string, language: ConsoleLanguage = 'en') {
  const context = await officerContext(browser, language);
  const page = await context.newPage();
  await signIn(page, node, officerOf(node, officerId));
  return { context, page };
}

async function openCase(page: Page, node: LocalNode, caseId: string): Promise<void> {
  await page.goto(`${node.consoleUrl}/#/cases/${encodeURIComponent(caseId)}`);
  await page.locator('.case-summary').waitFor();
}

/** The state badge of the case summary, once it shows `text`. */
async function expectState(page: Page, text: string): Promise<void> {
  await page.locator('.case-summary .badge', { hasText: text }).waitFor();
}

describe('the inbox and case screens', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  let bel: LocalNode;
  let bel1: { context: BrowserContext; page: Page };
  const first: { sent?: Case; received?: Case } = {};
  const second: { sent?: Case; received?: Case } = {};

  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL', 'KEN'],
        console: true,
        officers: {
          FRA: [{ officerId: 'amina', password: PASSWORD, roles: ['officer'] }],
          BEL: [
            { officerId: 'lucas', password: PASSWORD, roles: ['officer'] },
            { officerId: 'aude', password: PASSWORD, roles: ['auditor'] },
          ],
        },
        policies: [
          { of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true } },
          { of: 'KEN', policy: { participantId: 'FRA', acceptRequests: true } },
          // FRA expects KEN's acknowledgement within a second: the follow-on soon becomes overdue.
          { of: 'FRA', policy: { participantId: 'KEN', acknowledgeWithinMs: 1_000 } },
        ],
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    bel = federation.node('BEL');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  it("shows a received request in BEL's inbox, live when a second arrives, with working filters", async () => {
    Object.assign(first, await sendRequest(fra, bel));
    bel1 = await openConsole(browser, bel, 'lucas');
    const { page } = bel1;
    const rows = page.locator('table.inbox-table tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    const row = rows.first();
    expect(await row.textContent()).toContain('France');
    expect(await row.textContent()).toContain('Received');
    expect(await row.textContent()).toContain('Acknowledge by');
    await expectAccessible(page);
    await screenshot(page, 'inbox-en');

    // A second request, urgent, with a peer's hostile text: the inbox updates without a reload.
    Object.assign(
      second,
      await sendRequest(fra, bel, {
        priority: Priority.PRIORITY_URGENT,
        urgencyJustification: 'armed group resupply',
        requestingAuthority: HOSTILE,
        caseReference: HOSTILE,
      }),
    );
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
    await page.getByRole('status').filter({ hasText: 'A new case arrived from France' }).waitFor();
    // Urgent first, said in words.
    expect(await rows.first().getAttribute('data-case-id')).toBe(second.received?.caseId);
    expect(await rows.first().textContent()).toContain('Urgent');
    expect(await page.locator('table.inbox-table img').count()).toBe(0);

    // Filters: the sent box is empty on BEL; a state with no case shows the empty message; clear.
    await page.getByRole('link', { name: 'Sent requests' }).click();
    await page.getByText('No case matches these filters.').waitFor();
    await page.getByRole('link', { name: 'Received requests' }).click();
    await rows.nth(1).waitFor();
    await page.getByLabel('State').selectOption('answered');
    await page.getByText('No case matches these filters.').waitFor();
    await page.getByLabel('State').selectOption('received');
    await rows.nth(1).waitFor();
    await page.getByLabel('Country or organisation').selectOption('FRA');
    await rows.nth(1).waitFor();
    await page.getByLabel('Overdue only').check();
    await page.getByText('No case matches these filters.').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await rows.nth(1).waitFor();
    expect(page.url()).not.toContain('state=');
  }, 120_000);

  it('acknowledges from the keyboard alone (Tab and Enter)', async () => {
    const { page } = bel1;
    await page.locator(`a[href="#/cases/${first.received?.caseId}"]`).click();
    await page.locator('.case-summary').waitFor();
    await expectAccessible(page);
    await screenshot(page, 'case-received-en');
    // Focus is on the screen's heading; Tab until the acknowledge button, then Enter.
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate<boolean>(
        "document.activeElement?.tagName === 'BUTTON' && document.activeElement.closest('form.step-acknowledge') !== null",
      );
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await expectState(page, 'Acknowledged');
    await page.getByRole('status').filter({ hasText: 'Done.' }).waitFor();
    expect(await stateOf(bel, first.received?.caseId ?? '')).toBe(CaseState.CASE_STATE_ACKNOWLEDGED);
    // The timeline names the officer who took the step.
    await page.locator('table.timeline', { hasText: /Officer \u2068?lucas/ }).waitFor();
  }, 60_000);

  it('answers "traced" with a restriction, which FRA sees with its restrictions in words and the chain', async () => {
    const { page } = bel1;
    await page.getByRole('button', { name: 'Answer', exact: true }).click();
    await page.getByLabel('Traced').check();
    await page.getByLabel('Last legal record').fill('Sold to licensed dealer Armurerie Dupont, Liège, 2015-06-02');
    await page.getByLabel('Onward disclosure').selectOption({ label: 'Not to be passed on.' });
    await page.getByLabel('Retention in days').fill('90');
    await expectAccessible(page);
    await screenshot(page, 'case-answer-form-en');
    await page.getByRole('button', { name: 'Send the answer' }).click();
    await expectState(page, 'Answered');
    await waitFor(
      async () => (await stateOf(fra, first.sent?.caseId ?? '')) === CaseState.CASE_STATE_ANSWERED,
      15_000,
      "the answer on FRA's side",
    );

    const { context, page: fraPage } = await openConsole(browser, fra, 'amina');
    await openCase(fraPage, fra, first.sent?.caseId ?? '');
    const answer = fraPage.locator('section.panel', { hasText: 'Answer from Belgium' });
    await answer.waitFor();
    expect(await answer.textContent()).toContain('Armurerie Dupont');
    const restrictions = await fraPage.locator('.restrictions').textContent();
    expect(restrictions).toContain('Do not pass this information on to anyone, unless Belgium consents');
    expect(restrictions).toContain('Keep it for at most 90 days after receipt.');
    const chain = fraPage.locator('ol.chain > li');
    expect(await chain.count()).toBe(2);
    expect(await chain.first().textContent()).toContain('Belgium');
    expect(await chain.first().textContent()).toContain('Traced');
    expect(await chain.last().textContent()).toContain('France');
    expect(await chain.last().textContent()).toContain('Goma');
    // The requester's next step: close (and withdraw is no longer possible).
    expect(await fraPage.getByRole('button', { name: 'Close', exact: true }).count()).toBe(1);
    expect(await fraPage.getByRole('button', { name: 'Withdraw', exact: true }).count()).toBe(0);
    await expectAccessible(fraPage);
    await screenshot(fraPage, 'case-en');
    await context.close();
  }, 90_000);

  it("renders a peer's markup and control characters as text", async () => {
    const { page } = bel1;
    await openCase(page, bel, second.received?.caseId ?? '');
    const authority = page.locator('dd', { hasText: '<img' }).first();
    await authority.waitFor();
    const text = (await authority.textContent()) ?? '';
    expect(text).toContain('<img src=x onerror="window.__pwned=1">');
    expect(text).toContain('<b>bold</b>');
    expect(text).not.toContain('\u0007');
    expect(text).not.toContain('\u202E');
    expect(await page.locator('main img, main b').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  }, 30_000);

  it('answers "referred", and FRA opens the follow-on in one click, which extends the chain', async () => {
    const { page } = bel1;
    await bel.cases.call(
      'acknowledgeCase',
      AcknowledgeCaseRequest.fromPartial({ caseId: second.received?.caseId ?? '' }),
    );
    await openCase(page, bel, second.received?.caseId ?? '');
    await expectState(page, 'Acknowledged');
    await page.getByRole('button', { name: 'Answer', exact: true }).click();
    await page.getByLabel('Referred to another state').check();
    await page.getByLabel('State referred to (participant id)').fill('KEN');
    await page.getByLabel('Basis of the referral').fill('Exported to KEN on 2012-03-14 under licence BE-EXP-2012-0413');
    await page.getByRole('button', { name: 'Send the answer' }).click();
    await expectState(page, 'Answered');
    await waitFor(
      async () => (await stateOf(fra, second.sent?.caseId ?? '')) === CaseState.CASE_STATE_ANSWERED,
      15_000,
      "the referral on FRA's side",
    );

    const { context, page: fraPage } = await openConsole(browser, fra, 'amina');
    await openCase(fraPage, fra, second.sent?.caseId ?? '');
    await fraPage.getByRole('button', { name: 'Ask Kenya next (follow-on request)' }).click();
    await expect.poll(() => fraPage.url(), { timeout: 15_000 }).not.toMatch(new RegExp(`/${second.sent?.caseId}$`));
    await fraPage.locator('.case-summary', { hasText: 'Kenya' }).waitFor();
    const chain = fraPage.locator('ol.chain > li');
    await expect.poll(() => chain.count(), { timeout: 15_000 }).toBe(3);
    expect(await chain.nth(0).textContent()).toContain('Belgium');
    expect(await chain.nth(0).textContent()).toContain('referred to Kenya');
    expect(await chain.nth(1).textContent()).toContain('Kenya');
    expect(await chain.nth(1).getAttribute('aria-current')).toBe('step');
    expect(await chain.nth(2).textContent()).toContain('France');
    await expectAccessible(fraPage);
    await screenshot(fraPage, 'chain-en');
    // The referred case now links to its follow-on instead of offering a second one.
    await openCase(fraPage, fra, second.sent?.caseId ?? '');
    await fraPage.getByText('A follow-on request was opened:').waitFor();
    expect(await fraPage.getByRole('button', { name: /follow-on request/ }).count()).toBe(0);
    await context.close();
  }, 90_000);

  it('puts an overdue case first and says so in words, with a filter for it', async () => {
    await waitFor(
      async () => {
        const { cases } = await fra.cases.call(
          'listCases',
          ListCasesRequest.fromPartial({ overdueOnly: true, role: CaseRole.CASE_ROLE_REQUESTER }),
        );
        return cases.length === 1;
      },
      15_000,
      'the overdue follow-on',
    );
    const { context, page } = await openConsole(browser, fra, 'amina');
    await page.goto(`${fra.consoleUrl}/#/inbox?box=sent`);
    const rows = page.locator('table.inbox-table tbody tr');
    await rows.nth(1).waitFor();
    await page.getByText('1 case is overdue').waitFor();
    const first = rows.first();
    expect(await first.getAttribute('class')).toContain('overdue');
    expect(await first.textContent()).toContain('Kenya');
    expect(await first.textContent()).toContain('Overdue by 1 minute');
    await page.getByLabel('Overdue only').check();
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'inbox-overdue-en');
    await context.close();
  }, 60_000);

  it("refuses with a reason, shows a node's refusal next to its field, and FRA sees the reason", async () => {
    const third = await sendRequest(fra, bel);
    await bel.cases.call('acknowledgeCase', AcknowledgeCaseRequest.fromPartial({ caseId: third.received.caseId }));
    const { page } = bel1;
    await openCase(page, bel, third.received.caseId);
    await expectState(page, 'Acknowledged');

    // A delay without explanation: the node refuses and names the field; the form shows it there.
    await page.getByRole('button', { name: 'Delay', exact: true }).click();
    await page.getByLabel('Reason').selectOption({ label: 'Ongoing criminal investigation' });
    await page.getByRole('button', { name: 'Send the delay notice' }).click();
    const alert = page.locator('form.step-delay [role="alert"]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/required field is empty|Fill in/);
    const field = page.locator('form.step-delay .field-invalid', { has: page.locator('textarea[name="explanation"]') });
    await field.waitFor();
    expect(await field.locator('.field-error').textContent()).toContain('explanation');
    expect(await page.locator('textarea[name="explanation"]').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page);
    await screenshot(page, 'case-refused-field-en');

    await page.getByRole('button', { name: 'Refuse', exact: true }).click();
    await page.getByLabel('Reason').selectOption({ label: 'National security' });
    await page.getByLabel('Explanation').fill('The weapon belongs to a classified procurement programme.');
    await page.getByRole('button', { name: 'Refuse the request' }).click();
    await expectState(page, 'Refused');
    await waitFor(
      async () => (await stateOf(fra, third.sent.caseId)) === CaseState.CASE_STATE_REFUSED,
      15_000,
      "the refusal on FRA's side",
    );
    const { context, page: fraPage } = await openConsole(browser, fra, 'amina');
    await openCase(fraPage, fra, third.sent.caseId);
    const refusal = fraPage.locator('section.refusal');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('National security');
    expect(await refusal.textContent()).toContain('classified procurement programme');
    await context.close();
  }, 90_000);

  it('says plainly when an answer waits for a supervisor (four-eyes) and nothing was sent', async () => {
    await bel.cases.call('setApprovalPolicy', SetApprovalPolicyRequest.fromPartial({ policy: { answers: true } }));
    try {
      const fourth = await sendRequest(fra, bel);
      await bel.cases.call('acknowledgeCase', AcknowledgeCaseRequest.fromPartial({ caseId: fourth.received.caseId }));
      const { page } = bel1;
      await openCase(page, bel, fourth.received.caseId);
      await page.getByRole('button', { name: 'Answer', exact: true }).click();
      await page.getByLabel('Traced').check();
      await page.getByLabel('Last legal record').fill('Sold to licensed dealer Armurerie Dupont, Liège, 2015-06-02');
      await page.getByRole('button', { name: 'Send the answer' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: "Your step was not sent: it waits for a supervisor's approval" })
        .waitFor();
      const pending = page.locator('.pending-approval');
      await pending.waitFor();
      expect(await pending.textContent()).toMatch(/Waiting for a supervisor's approval \(apr-\d+\)/);
      expect(await pending.textContent()).toMatch(/Drafted by Officer \u2068?lucas\u2069?\./);
      await expectState(page, 'Acknowledged');
      expect(await stateOf(bel, fourth.received.caseId)).toBe(CaseState.CASE_STATE_ACKNOWLEDGED);
      await expectAccessible(page);
      await screenshot(page, 'case-pending-approval-en');
    } finally {
      await bel.cases.call('setApprovalPolicy', SetApprovalPolicyRequest.fromPartial({ policy: {} }));
    }
  }, 90_000);

  it("shows a peer's photos (its caption as text, bytes that are no image said to be none) and offers no second answer while one is held, in English and Arabic", async () => {
    const caption = `${HOSTILE} ${'W'.repeat(400)}`;
    const photos = [
      { mediaType: 'image/png', content: markingsPng(), caption },
      // A peer's bytes that only claim to be a PNG: a page with a script.
      { mediaType: 'image/png', content: Buffer.from('<html><script>window.__pwned=3</script></html>'), caption: '' },
    ];
    await bel.cases.call('setApprovalPolicy', SetApprovalPolicyRequest.fromPartial({ policy: { answers: true } }));
    try {
      const fifth = await sendRequest(fra, bel, {
        weapon: WeaponDescription.fromPartial({ ...traceRequest().weapon, photos }),
      });
      const caseId = fifth.received.caseId;
      await bel.cases.call('acknowledgeCase', AcknowledgeCaseRequest.fromPartial({ caseId }));
      const { pendingApproval } = await bel.cases.call(
        'answerCase',
        AnswerCaseRequest.fromPartial({
          caseId,
          outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
          lastLegalRecord: 'Sold to licensed dealer Armurerie Dupont, Liège, 2015-06-02',
        }),
      );
      expect(pendingApproval?.approvalId).toBeTruthy();
      for (const language of ['en', 'ar'] as const) {
        const { context, page } = await openConsole(browser, bel, 'lucas', language);
        await openCase(page, bel, caseId);
        await page.locator('.pending-approval').waitFor();
        // The markings' photo is decoded and shown; the page's bytes are not, are said to be no image, and run nothing.
        await page.locator('.case-photos li:nth-child(2) .muted').waitFor();
        expect(await page.locator('.case-photos li:nth-child(2) .muted').textContent()).toBe(
          message(language, 'case.request.photoUnshown', { n: '2' }),
        );
        const shown = page.locator('.case-photos img');
        expect(await shown.count()).toBe(1);
        await expect.poll(() => page.evaluate("document.querySelector('.case-photos img').naturalWidth")).toBe(640);
        expect(await page.evaluate('window.__pwned')).toBeUndefined();
        const text = (await page.locator('.case-photos').textContent()) ?? '';
        expect(text).toContain('<img src=x onerror="window.__pwned=1">');
        expect(text).not.toContain('\u202E');
        expect(await page.locator('.case-photos b').count()).toBe(0);
        // A caption of one long word does not push the screen wider than the window.
        expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
        // The held answer is not offered again; the other steps are.
        const steps = page.locator('.step-choices button');
        await steps.first().waitFor();
        expect(await steps.count()).toBe(2);
        await expectAccessible(page);
        await screenshot(page, `case-photos-held-${language}`);
        await context.close();
      }
    } finally {
      await bel.cases.call('setApprovalPolicy', SetApprovalPolicyRequest.fromPartial({ policy: {} }));
    }
  }, 120_000);

  it('runs a clarification round, a delay, a partial answer and a closure through both consoles', async () => {
    const fifth = await sendRequest(fra, bel);
    await bel.cases.call('acknowledgeCase', AcknowledgeCaseRequest.fromPartial({ caseId: fifth.received.caseId }));
    const { page } = bel1;
    await openCase(page, bel, fifth.received.caseId);
    await page.getByRole('button', { name: 'Ask for clarification' }).click();
    await page.getByLabel('Your question to the requester').fill('Is there a second serial on the frame?');
    await page.getByRole('button', { name: 'Send the question' }).click();
    await expectState(page, 'Clarification asked');

    const { context, page: fraPage } = await openConsole(browser, fra, 'amina');
    await waitFor(
      async () => (await stateOf(fra, fifth.sent.caseId)) === CaseState.CASE_STATE_CLARIFICATION,
      15_000,
      "the question on FRA's side",
    );
    await openCase(fraPage, fra, fifth.sent.caseId);
    await fraPage.getByText('Is there a second serial on the frame?').waitFor();
    await fraPage.getByRole('button', { name: 'Reply', exact: true }).click();
    await fraPage.getByLabel('Your reply').fill('Yes: FX-0412-2231-B on the frame.');
    await fraPage.getByRole('button', { name: 'Send the reply' }).click();
    await expectState(fraPage, 'Acknowledged');

    // BEL sees the reply live, then delays with a date.
    await page.getByText('Yes: FX-0412-2231-B on the frame.').waitFor();
    await page.getByRole('button', { name: 'Delay', exact: true }).click();
    await page.getByLabel('Reason').selectOption({ label: 'Legal confidentiality' });
    await page.getByLabel('Explanation').fill('A court must authorise the release.');
    await page.getByLabel('Answer expected by').fill('2027-02-01');
    await page.getByRole('button', { name: 'Send the delay notice' }).click();
    await expectState(page, 'Delayed');

    // Then answers in part: a restriction with a partial answer.
    await page.getByRole('button', { name: 'Restrict', exact: true }).click();
    await page.getByLabel('Reason').selectOption({ label: 'Ongoing criminal investigation' });
    await page.getByLabel('Explanation').fill('The end user is withheld while our investigation runs.');
    await page.getByLabel('Release part of the answer').check();
    await page.getByLabel('Traced').check();
    await page.getByLabel('Last legal record').fill('Exported to a licensed dealer in 2014');
    await page.getByRole('button', { name: 'Send the restriction' }).click();
    await expectState(page, 'Answered in part');

    await waitFor(
      async () => (await stateOf(fra, fifth.sent.caseId)) === CaseState.CASE_STATE_RESTRICTED,
      15_000,
      "the restriction on FRA's side",
    );
    await fraPage.locator('.case-summary .badge', { hasText: 'Answered in part' }).waitFor();
    const delay = fraPage.locator('section.panel', { hasText: 'A court must authorise the release.' });
    expect(await delay.textContent()).toContain('Legal confidentiality');
    const restriction = fraPage.locator('section.panel', { hasText: 'Partial answer (restricted)' });
    expect(await restriction.textContent()).toContain('The end user is withheld while our investigation runs.');
    expect(await restriction.textContent()).toContain('Exported to a licensed dealer in 2014');
    await fraPage.getByRole('button', { name: 'Close', exact: true }).click();
    await fraPage.getByLabel('Feedback to the answering state').fill('Thank you; enough to proceed.');
    await fraPage.getByRole('button', { name: 'Close the case' }).click();
    await expectState(fraPage, 'Closed');
    expect(await fraPage.locator('section.actions').count()).toBe(0);
    await context.close();
  }, 120_000);

  it('lets an auditor read a case without any step to take', async () => {
    const { context, page } = await openConsole(browser, bel, 'aude');
    await page.locator('table.inbox-table tbody tr').first().waitFor();
    await openCase(page, bel, first.received?.caseId ?? '');
    await page.getByText('You can read this case; your role does not allow steps on it.').waitFor();
    expect(await page.locator('section.actions').count()).toBe(0);
    expect(await page.locator('main form').count()).toBe(0);
    expect(await page.locator('main button').count()).toBe(0);
    expect(await page.locator('.restrictions').count()).toBe(1);
    await context.close();
  }, 60_000);

  it('shows the inbox, a case and the chain in Arabic, right to left and accessible', async () => {
    const { context, page } = await openConsole(browser, fra, 'amina', 'ar');
    // FRA asked: its requests are in the sent box.
    await page.goto(`${fra.consoleUrl}/#/inbox?box=sent`);
    await page.locator('table.inbox-table tbody tr').nth(3).waitFor();
    expect(await page.locator('html').getAttribute('dir')).toBe('rtl');
    await expectAccessible(page);
    await screenshot(page, 'inbox-ar');
    await openCase(page, fra, first.sent?.caseId ?? '');
    await page.locator('.restrictions').waitFor();
    expect(await page.locator('.restrictions').textContent()).toContain('بلجيكا');
    await expectAccessible(page);
    await screenshot(page, 'case-ar');
    const { cases } = await fra.cases.call(
      'getTraceChain',
      CaseIdRequest.fromPartial({ caseId: second.sent?.caseId ?? '' }),
    );
    await openCase(page, fra, cases[1]?.caseId ?? '');
    await expect.poll(() => page.locator('ol.chain > li').count(), { timeout: 15_000 }).toBe(3);
    // The arrows turn with the writing direction.
    const transform = await page.evaluate<string>("getComputedStyle(document.querySelector('.chain-arrow')).transform");
    expect(transform).toMatch(/^matrix\(-1/);
    await expectAccessible(page);
    await screenshot(page, 'chain-ar');
    await context.close();
    await bel1.context.close();
  }, 90_000);
  it('withdraws a request, and pages a long list with "Show more"', async () => {
    const sixth = await sendRequest(fra, bel);
    const { context, page } = await openConsole(browser, fra, 'amina');
    await openCase(page, fra, sixth.sent.caseId);
    await page.getByRole('button', { name: 'Withdraw', exact: true }).click();
    await page.getByLabel('Why you withdraw the request').fill('Duplicate of an earlier request.');
    await page.getByRole('button', { name: 'Withdraw the request' }).click();
    await expectState(page, 'Withdrawn');
    await waitFor(
      async () => (await stateOf(bel, sixth.received.caseId)) === CaseState.CASE_STATE_WITHDRAWN,
      15_000,
      "the withdrawal on BEL's side",
    );

    // Drafts are FRA's own cases: enough of them to need a second page.
    for (let i = 0; i < 22; i++)
      await fra.cases.call('createCase', CreateCaseRequest.fromPartial({ recipient: 'BEL', request: traceRequest() }));
    await page.goto(`${fra.consoleUrl}/#/inbox?box=sent`);
    const rows = page.locator('table.inbox-table tbody tr');
    await rows.nth(25).waitFor();
    // 25 of the page, and the overdue follow-on, listed first although its page is not loaded.
    expect(await rows.count()).toBe(26);
    expect(await rows.first().textContent()).toContain('Kenya');
    await page.getByRole('button', { name: 'Show more' }).click();
    await page.getByRole('status').filter({ hasText: 'more cases shown' }).waitFor();
    expect(await rows.count()).toBeGreaterThan(26);
    expect(await page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
    await context.close();
  }, 120_000);
});
