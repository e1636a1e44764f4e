import {
  AnswerCaseRequest,
  type Case,
  CasesClient,
  type CasesServer,
  CaseState,
  ListCasesRequest,
  OnwardDisclosure,
  PeerPolicy,
  ReleaseAction,
  TraceOutcome,
  WeaponEventType,
} from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
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
import { traceRequest } from '../support/requests.js';

const PASSWORD = 'correct horse battery';

/** Text as shown, without the invisible isolates around ids (U+2068, U+2069). */
function plain(text: string | null): string {
  return (text ?? '').replace(/[\u2068\u2069]/g, '');
}

/** Waits until `check` gives a value (a condition on the nodes, not a sleep). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the approvals and audit screens', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  let bel: LocalNode;
  let anna: UnaryClient<CasesServer>;
  let serial = 0;

  /** FRA traces a pistol at BEL, BEL acknowledges it on its policy; anna drafts a traced answer: it waits. */
  async function heldAnswer(): Promise<{ approvalId: string; belCase: string; fraCase: string }> {
    serial += 1;
    const { case: sent } = await fra.cases.call('createCase', {
      recipient: 'BEL',
      request: traceRequest({}, { serialNumber: `FX-0418-${String(serial).padStart(4, '0')}` }),
      send: true,
    });
    const traceId = (sent as Case).traceId;
    const theirs = await until('BEL to acknowledge the request', async () => {
      const listed = await anna.call(
        'listCases',
        ListCasesRequest.fromPartial({ state: CaseState.CASE_STATE_ACKNOWLEDGED }),
      );
      return listed.cases.find((c) => c.traceId === traceId);
    });
    const drafted = await anna.call(
      'answerCase',
      AnswerCaseRequest.fromPartial({
        caseId: theirs.caseId,
        outcome: TraceOutcome.TRACE_OUTCOME_TRACED,
        lastLegalRecord: 'transferred 2016-04-08 at Namur',
        history: [
          {
            type: WeaponEventType.WEAPON_EVENT_TYPE_TRANSFERRED,
            date: '2016-04-08',
            place: 'Namur',
            agency: 'Armurerie Lecomte',
            licence: 'BE-PA-2016-0093',
            endUser: 'Jean Martin, Namur',
          },
        ],
        // Markup from the drafter is shown as text in the review, never as markup.
        details: '<img src=x onerror=alert(1)> checked against the register',
        restrictions: {
          purpose: 'criminal proceedings 2026/0418',
          onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_NONE,
          listedParticipants: [],
          retentionDays: 365,
        },
      }),
    );
    const approvalId = drafted.pendingApproval?.approvalId ?? '';
    expect(approvalId).toMatch(/^apr-\d{6}$/);
    return { approvalId, belCase: theirs.caseId, fraCase: (sent as Case).caseId };
  }

  /**
   * A console of BEL signed in as `officerId`. A TOTP code is used once: a second sign-in of the
   * same account within one time step takes the code of the next step (`ahead`, accepted by the node).
   */
  async function consoleAs(officerId: string, language: ConsoleLanguage = 'en', ahead = 0): Promise<Page> {
    const context = await officerContext(browser, language);
    const page = await context.newPage();
    const officer = officerOf(bel, officerId);
    await signIn(page, bel, {
      officerId: officer.officerId,
      password: officer.password,
      roles: officer.roles,
      totpSecret: officer.totpSecret,
      code: () => officer.code(Date.now() + ahead * 30_000),
    });
    return page;
  }

  function row(page: Page, approvalId: string) {
    return page.locator('tr', { hasText: approvalId });
  }

  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL'],
        console: true,
        officers: {
          BEL: [
            { officerId: 'o-anna', password: PASSWORD, roles: ['officer'] },
            { officerId: 's-bruno', password: PASSWORD, roles: ['supervisor'] },
            { officerId: 's-emil', password: PASSWORD, roles: ['supervisor'] },
            { officerId: 's-dora', password: PASSWORD, roles: ['officer', 'supervisor'] },
            { officerId: 'a-clara', password: PASSWORD, roles: ['auditor'] },
            { officerId: 'x-xavier', password: PASSWORD, roles: ['administrator'] },
          ],
        },
        policies: [{ of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true, autoAcknowledge: true } }],
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    bel = federation.node('BEL');
    // Answers releasing record information wait for a supervisor (each test drafts one).
    await bel.cases.call('setApprovalPolicy', {
      policy: { answers: true, disclosures: false, refusals: false, policyChanges: false, automaticAnswers: false },
    });
    const { sessionToken } = await bel.access.call('login', { officerId: 'o-anna', password: PASSWORD, totpCode: '' });
    anna = connectUnary<CasesServer>(CasesClient, bel.runtime.authority, sessionToken);
  });
  afterAll(async () => {
    anna?.close();
    await browser?.close();
    await federation?.stop();
  });

  it('an administrator sets the approval policy; others see it read-only', async () => {
    const page = await consoleAs('x-xavier');
    // What the form showed when it first appeared: the stored policy, never a default for a frame
    // (an administrator could see, and save, a policy nobody set).
    // (A string: the tests are compiled without the DOM's types.)
    await page.evaluate(`new MutationObserver((_, observer) => {
      const box = document.querySelector('.approvals-policy input[name="answers"]');
      if (!box) return;
      window.firstAnswersBox = box.checked;
      observer.disconnect();
    }).observe(document.body, { childList: true, subtree: true })`);
    await page.goto(`${bel.consoleUrl}/#/approvals?tab=policy`);
    const refusals = page.getByRole('checkbox', { name: 'Refusals' });
    await expect.poll(() => refusals.isEnabled()).toBe(true);
    expect(await page.evaluate('window.firstAnswersBox')).toBe(true);
    expect(await page.getByRole('checkbox', { name: /Answers that release record information/ }).isChecked()).toBe(
      true,
    );
    expect(await refusals.isChecked()).toBe(false);
    await refusals.check();
    await page.getByRole('button', { name: 'Save the approval policy' }).click();
    await page.getByRole('status').filter({ hasText: 'The approval policy was saved.' }).waitFor();
    expect((await bel.cases.call('getApprovalPolicy', {})).policy).toMatchObject({ answers: true, refusals: true });
    await expectAccessible(page);
    await screenshot(page, 'approvals-policy-admin-en');
    await page.context().close();

    for (const language of ['en', 'ar'] as const) {
      const officer = await consoleAs('o-anna', language);
      await officer.goto(`${bel.consoleUrl}/#/approvals?tab=policy`);
      const boxes = officer.locator('.approvals-policy input[type="checkbox"]');
      await boxes.first().waitFor();
      expect(await boxes.count()).toBe(5);
      for (const box of await boxes.all()) expect(await box.isDisabled()).toBe(true);
      expect(await officer.locator('input[name="answers"]').isChecked()).toBe(true);
      expect(await officer.locator('input[name="refusals"]').isChecked()).toBe(true);
      expect(await officer.locator('.approvals-policy button[type="submit"]').count()).toBe(0);
      await expectAccessible(officer);
      await screenshot(officer, `approvals-policy-${language}`);
      await officer.context().close();
    }
  });

  it('a held answer shows live in the supervisor queue, is reviewed and approved: the requester gets it', async () => {
    const page = await consoleAs('s-bruno');
    await page.goto(`${bel.consoleUrl}/#/approvals`);
    await page.getByRole('status').filter({ hasText: 'No step is waiting for approval.' }).waitFor();

    const { approvalId, belCase, fraCase } = await heldAnswer();
    // Live: no reload of the page.
    await row(page, approvalId).waitFor();
    await row(page, approvalId).getByText('France').waitFor();
    const listed = plain(await row(page, approvalId).textContent());
    expect(listed).toContain('Answer');
    expect(listed).toContain('traced: last legal record transferred 2016-04-08 at Namur');
    expect(listed).toContain('approval policy: answers');
    expect(listed).toContain('Officer o-anna');

    await row(page, approvalId)
      .getByRole('button', { name: /Review/ })
      .click();
    const review = page.locator('#approval-review');
    await review.getByRole('heading', { name: `Answer ${approvalId}` }).waitFor();
    expect(await review.locator('.approvals-summary').textContent()).toContain('traced: last legal record');
    await review.locator('.approvals-case').getByText('France').waitFor();
    expect(await review.locator('.approvals-case').textContent()).toContain('FX-0418-0001');
    await expectAccessible(page);
    await screenshot(page, 'approvals-en');

    // The content that would be sent, decoded from held_request_json: the event, the end user, the restrictions.
    const held = review.locator('.approvals-held');
    const event = held.getByRole('row', { name: /Transferred/ });
    await event.waitFor();
    expect(plain(await event.textContent())).toMatch(
      /Transferred.*2016.*Namur.*Armurerie Lecomte.*BE-PA-2016-0093.*Jean Martin, Namur/,
    );
    const content = plain(await held.textContent());
    expect(content).toContain('Outcome');
    expect(content).toContain('Traced');
    expect(content).toContain('Not to be passed on (unless this country later consents)');
    expect(content).toContain('365 days');
    expect(content).toContain('criminal proceedings 2026/0418');
    expect(content).toContain('<img src=x onerror=alert(1)> checked against the register');
    expect(await review.locator('img').count()).toBe(0);
    await held.scrollIntoViewIfNeeded();
    await expectAccessible(page);
    await screenshot(page, 'approvals-review-en');

    await review.getByLabel('Note with the approval (optional)').fill('checked against the register');
    await review.getByRole('button', { name: 'Approve and carry out' }).click();
    await review
      .getByRole('status')
      .filter({ hasText: `Approval ${approvalId} granted: the step was carried out and sent to France.` })
      .waitFor();
    await until('FRA to receive the answer', async () => {
      const { case: c } = await fra.cases.call('getCase', { caseId: fraCase });
      return c?.state === CaseState.CASE_STATE_ANSWERED ? c : undefined;
    });
    const { case: answered } = await bel.cases.call('getCase', { caseId: belCase });
    expect(answered?.state).toBe(CaseState.CASE_STATE_ANSWERED);

    // The decided list shows who approved, with the note; filters narrow it.
    await page.goto(`${bel.consoleUrl}/#/approvals?tab=decided`);
    await row(page, approvalId).waitFor();
    expect(plain(await row(page, approvalId).textContent())).toMatch(
      /Approved.*Officer s-bruno.*checked against the register/,
    );
    await row(page, approvalId)
      .getByRole('button', { name: /Review/ })
      .click();
    await page.locator('#approval-held-title', { hasText: 'Content carried out on approval' }).waitFor();
    expect(await page.locator('.approvals-held').textContent()).toContain('Jean Martin, Namur');
    await page.getByLabel('Decision').selectOption('rejected');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('status').filter({ hasText: 'No decided approval matches.' }).waitFor();
    await expectAccessible(page);
    await page.context().close();
  });

  it('a step is rejected with a reason; a hostile reason gets the node refusal by field', async () => {
    const { approvalId, belCase } = await heldAnswer();
    const page = await consoleAs('s-emil', 'ar');
    await page.goto(`${bel.consoleUrl}/#/approvals`);
    await row(page, approvalId).getByRole('button').click();
    const review = page.locator('#approval-review');
    const reason = review.locator('textarea[name="reason"]');
    const reject = review.locator('button.danger');

    // The held answer in Arabic: the event type, the end user as typed, the restrictions in words.
    const held = review.locator('.approvals-held');
    await held.getByRole('row', { name: /النقل/ }).waitFor();
    const content = plain(await held.textContent());
    expect(content).toContain('Jean Martin, Namur');
    expect(content).toContain('تم التعقب');
    expect(content).toContain('لا يجوز تمريرها (ما لم يوافق هذا البلد لاحقًا)');
    expect(content).toContain('المستخدم النهائي');
    expect(await held.getAttribute('dir')).toBeNull();
    expect(await review.locator('img').count()).toBe(0);
    await held.scrollIntoViewIfNeeded();
    await expectAccessible(page);
    await screenshot(page, 'approvals-review-ar');

    // No reason: the console asks for one before calling the node.
    await reject.click();
    expect(await review.locator('.field-error').textContent()).toBe('اذكر سبب رفض الخطوة.');

    // 10,000 characters: the node refuses the field (at most 2000).
    await reason.fill('x'.repeat(10_000));
    await reject.click();
    await review.locator('.field-error').filter({ hasText: 'النص طويل جدًا' }).waitFor();
    expect(await reason.getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page);
    await screenshot(page, 'approvals-ar');

    // A control character (an escape sequence) and a bidi override: refused by field too.
    for (const hostile of ['wrong \u001b[2J serial', 'fine\u202egnp.exe']) {
      await reason.fill(hostile);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/tracenet.v1.Cases/RejectStep')),
        reject.click(),
      ]);
      expect(response.status()).toBe(400);
      expect(await response.json()).toMatchObject({ error: { field: 'note', rule: 'control_character' } });
      await review.locator('.field-error').filter({ hasText: 'حرف تحكم أو تنسيق غير مرئي' }).waitFor();
      expect(await reason.getAttribute('aria-invalid')).toBe('true');
    }
    const { approvals } = await bel.cases.call('listApprovals', { all: true, caseId: belCase, limit: 0, cursor: '' });
    expect(approvals[0]?.note).toBe('');

    // Markup in a reason is shown as text, never as markup.
    await reason.fill('<img src=x onerror=alert(1)> serial number does not match the photo');
    await reject.click();
    await review.getByRole('status').filter({ hasText: approvalId }).waitFor();
    const { case: still } = await bel.cases.call('getCase', { caseId: belCase });
    expect(still?.state).toBe(CaseState.CASE_STATE_ACKNOWLEDGED);
    await page.context().close();

    // The officer who asked sees the outcome and the reason.
    const officer = await consoleAs('o-anna');
    await officer.goto(`${bel.consoleUrl}/#/approvals?tab=decided`);
    await row(officer, approvalId).waitFor();
    expect(await row(officer, approvalId).textContent()).toContain(
      '<img src=x onerror=alert(1)> serial number does not match the photo',
    );
    expect(await officer.locator('img').count()).toBe(0);
    await officer.context().close();
  });

  it('an officer cannot decide: no button, and a forced call is refused; a drafter cannot approve their own step; an ended session', async () => {
    const { approvalId } = await heldAnswer();
    const officer = await consoleAs('o-anna');
    await officer.goto(`${bel.consoleUrl}/#/approvals`);
    expect(await officer.getByRole('link', { name: 'My steps waiting' }).getAttribute('aria-current')).toBe('page');
    await row(officer, approvalId)
      .getByRole('button', { name: /Review/ })
      .click();
    await officer.locator('#approval-review .approvals-summary').waitFor();
    expect(await officer.locator('#approval-review button.primary, #approval-review button.danger').count()).toBe(0);
    await expectAccessible(officer);
    // Forced through the console's API: the node's role table refuses it.
    const forced = await officer.evaluate(async (id) => {
      const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const response = await fetch('/api/rpc/tracenet.v1.Cases/ApproveStep', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ approvalId: id, note: '' }),
      });
      return { status: response.status, body: (await response.json()) as { error: { code: string; rule: string } } };
    }, approvalId);
    expect(forced.status).toBe(403);
    expect(forced.body.error).toMatchObject({ code: 'FORBIDDEN', rule: 'role' });
    await officer.context().close();

    // s-dora holds both roles: she drafts an answer and cannot approve it herself. Her API session
    // takes the code of the previous time step, her console the current one (a code is used once).
    const { sessionToken } = await bel.access.call('login', {
      officerId: 's-dora',
      password: PASSWORD,
      totpCode: officerOf(bel, 's-dora').code(Date.now() - 30_000),
    });
    const dora = connectUnary<CasesServer>(CasesClient, bel.runtime.authority, sessionToken);
    try {
      await bel.cases.call('rejectStep', { approvalId, reason: 'superseded' }).catch(() => undefined);
      const own = await heldAnswerBy(dora);
      const page = await consoleAs('s-dora');
      await page.goto(`${bel.consoleUrl}/#/approvals`);
      await row(page, own)
        .getByRole('button', { name: /Review/ })
        .click();
      const review = page.locator('#approval-review');
      await review.getByText('You asked for this step yourself').waitFor();
      await review.getByRole('button', { name: 'Approve and carry out' }).click();
      await review.locator('.error', { hasText: 'the drafter of a step cannot approve or reject it' }).waitFor();
      expect(await review.locator('.error').getAttribute('role')).toBe('alert');

      // The session ends elsewhere (signed out in another tab): a decision brings back the sign-in.
      await page.evaluate(async () => {
        const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
        await fetch('/api/session/end', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
          body: '{}',
        });
      });
      await review.locator('textarea[name="reason"]').fill('duplicate of an earlier request');
      await review.getByRole('button', { name: 'Reject' }).click();
      await page.locator('input[name="officerId"]').waitFor();
      expect(await page.getByRole('alert').first().textContent()).not.toBe('');
      const { approvals } = await bel.cases.call('listApprovals', { all: false, caseId: '', limit: 0, cursor: '' });
      expect(approvals.map((a) => a.approvalId)).toContain(own);
      await page.context().close();
    } finally {
      dora.close();
    }
  });

  /** Like heldAnswer, drafted by another officer session. */
  async function heldAnswerBy(drafter: UnaryClient<CasesServer>): Promise<string> {
    const previous = anna;
    anna = drafter;
    try {
      return (await heldAnswer()).approvalId;
    } finally {
      anna = previous;
    }
  }

  it('the audit browser filters to the approval entries, verifies the chain, refuses hostile filters by field', async () => {
    await heldAnswer();
    for (const language of ['en', 'ar'] as const) {
      const page = await consoleAs('a-clara', language);
      await page.locator('nav.menu a[href="#/audit"]').click();
      await page.locator('.audit-table tbody tr').first().waitFor();
      await page.locator('input[name="type"]').fill('approval.');
      await page.locator('form.audit-filters button[type="submit"]').click();
      const types = async () => new Set(await page.locator('.audit-table tbody tr td:nth-child(4)').allTextContents());
      await expect.poll(async () => [...(await types())].every((type) => type.startsWith('approval.'))).toBe(true);
      expect(await types()).toContain('approval.drafted');
      await page.locator('.audit-verify button').click();
      await page.locator('.audit-intact').waitFor();
      if (language === 'en')
        expect(await page.locator('.audit-intact').textContent()).toMatch(
          /The audit log is intact\. Every entry up to sequence [\d,]+ checks out/,
        );
      await expectAccessible(page);
      await screenshot(page, `audit-${language}`);
      await page.context().close();
    }

    // The node filters by officer: only o-anna's entries.
    const page = await consoleAs('s-bruno', 'en', 1);
    await page.goto(`${bel.consoleUrl}/#/audit`);
    await page.locator('input[name="officerId"]').fill('o-anna');
    await page.locator('form.audit-filters button[type="submit"]').click();
    await expect
      .poll(async () => new Set((await page.locator('.audit-table tbody .audit-actor').allTextContents()).map(plain)))
      .toEqual(new Set(['Officer o-anna']));

    // Hostile filters: the node refuses them by field, and the console says which.
    await page.locator('input[name="officerId"]').fill('x'.repeat(10_000));
    await page.locator('input[name="since"]').fill('2026-03-02T10:00');
    await page.locator('input[name="until"]').fill('2026-03-01T10:00');
    await page.locator('form.audit-filters button[type="submit"]').click();
    const alert = page.getByRole('alert').filter({ hasText: 'officer_id' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('until_ms');
    await expectAccessible(page);
    await page.context().close();
  });
  it('a held peer policy change shows its new settings and release rules in words (en); rejected, nothing changes', async () => {
    await bel.cases.call('setApprovalPolicy', {
      policy: { answers: true, disclosures: false, refusals: false, policyChanges: true, automaticAnswers: false },
    });
    const before = (await bel.authority.call('getPeerPolicy', { participantId: 'FRA' })).policy;
    const { pendingApproval } = await bel.authority.call('setPeerPolicy', {
      policy: PeerPolicy.fromPartial({
        participantId: 'FRA',
        acceptRequests: true,
        autoAcknowledge: true,
        answerWithinMs: 14 * 86_400_000,
        defaultRestrictions: {
          purpose: '',
          onwardDisclosure: OnwardDisclosure.ONWARD_DISCLOSURE_WITH_CONSENT,
          listedParticipants: [],
          retentionDays: 730,
        },
        releaseRules: [
          {
            field: 'history.end_user',
            eventTypes: [WeaponEventType.WEAPON_EVENT_TYPE_TRANSFERRED],
            outcomes: [],
            action: ReleaseAction.RELEASE_ACTION_WITHHOLD,
            reason: 'data protection act, art. 9',
          },
        ],
      }),
    });
    const approvalId = pendingApproval?.approvalId ?? '';
    expect(approvalId).toMatch(/^apr-\d{6}$/);

    const page = await consoleAs('s-emil', 'en', 1);
    await page.goto(`${bel.consoleUrl}/#/approvals`);
    await row(page, approvalId)
      .getByRole('button', { name: /Review/ })
      .click();
    const review = page.locator('#approval-review');
    const held = review.locator('.approvals-held');
    await held.getByText(/Compared with the policy in force/).waitFor();
    const content = plain(await held.textContent());
    expect(content).toContain('France');
    // Compared with the policy in force: what the change alters is marked, with the value now.
    expect(content).toMatch(/Accepts trace requests\s*Yes\s*Acknowledged/);
    expect(content).toMatch(/Answered automatically from the records\s*No\s*“No record”/);
    expect(content).toMatch(/Answer within\s*14 days Changed \(now: the node's default\)/);
    expect(await held.locator('h4', { hasText: 'Release rules' }).textContent()).toContain('Changed');
    expect(content).toContain("Only with this country's consent");
    expect(content).toContain('730 days');
    expect(content).toContain('history.end_user: withheld, never released for the events: Transferred');
    expect(content).toContain('data protection act, art. 9');
    expect(content).not.toContain('{');
    await expectAccessible(page);
    await screenshot(page, 'approvals-review-policy-en');

    await review.locator('textarea[name="reason"]').fill('keep the end user rule node-wide');
    await review.getByRole('button', { name: 'Reject' }).click();
    await review
      .getByRole('status')
      .filter({ hasText: `Approval ${approvalId} rejected` })
      .waitFor();
    expect((await bel.authority.call('getPeerPolicy', { participantId: 'FRA' })).policy).toEqual(before);

    // Pinning FRA's card again waits too: the review shows the participant and the key fingerprints.
    const { card } = await fra.authority.call('getNodeInfo', {});
    const pin = await bel.authority.call('addPeer', { card, replaceKeys: true });
    const pinId = pin.pendingApproval?.approvalId ?? '';
    // A peer change is no case event: the queue shows it when opened again.
    await page.reload();
    await row(page, pinId)
      .getByRole('button', { name: /Review/ })
      .click();
    await review.getByRole('heading', { name: `Adding a peer ${pinId}` }).waitFor();
    const pinned = plain(await held.textContent());
    const info = await fra.authority.call('getNodeInfo', {});
    expect(pinned).toContain('France');
    expect(pinned.replace(/ /g, '')).toContain(info.keyId);
    expect(pinned).toContain('TLS certificate fingerprint (SHA-256)');
    expect(pinned).toMatch(/Replaces the keys already pinned\s*Yes/);
    await expectAccessible(page);
    await screenshot(page, 'approvals-review-peer-en');
    await review.locator('textarea[name="reason"]').fill('FRA is pinned already');
    await review.getByRole('button', { name: 'Reject' }).click();
    await review
      .getByRole('status')
      .filter({ hasText: `Approval ${pinId} rejected` })
      .waitFor();
    await bel.cases.call('setApprovalPolicy', {
      policy: { answers: true, disclosures: false, refusals: false, policyChanges: false, automaticAnswers: false },
    });
    await page.context().close();
  });
});
