import type { ChildProcess } from 'node:child_process';
import { TraceOutcome } from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectAccessible, launchBrowser, screenshot } from '../support/browser.js';
import { DEMO_PISTOL, fillComposeForm, sendComposed } from '../support/console-flow.js';
import { type ConsoleDemo, type DemoOfficer, demoConsoles, demoOfficers, startConsoleDemo } from '../support/demo.js';

/**
 * The "done when": a new user runs `npm run demo -- --console`, signs in as two demo
 * officers in two tabs of one browser with what the demo prints, and completes a trace between
 * them following the printed steps: FRA asks BEL with a photo, BEL acknowledges and refers to KEN,
 * FRA follows on to KEN in one click, KEN answers from its records, FRA sees the chain.
 */

/** Signs in on the sign-in form of the console at `url` with a printed demo account (officers have no TOTP). */
async function signInAs(page: Page, url: string, officer: DemoOfficer): Promise<void> {
  await page.goto(url);
  await page.locator('input[name="officerId"]').fill(officer.officerId);
  await page.locator('input[name="password"]').fill(officer.password);
  await page.locator('form button[type="submit"]').click();
  await page.locator('nav.menu').waitFor();
}

const badge = (page: Page, text: string) => page.locator('.case-summary .badge', { hasText: text });

describe('the demo: two officers complete a trace in two tabs', () => {
  let demo: ConsoleDemo | undefined;
  let child: ChildProcess | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('FRA asks BEL with a photo, BEL acknowledges and refers to KEN, FRA follows on and sees the chain; Ctrl-C stops cleanly', async () => {
    [demo, browser] = await Promise.all([startConsoleDemo(), launchBrowser()]);
    child = demo.child;
    const output = demo.output();
    const consoles = demoConsoles(output);
    const officers = demoOfficers(output);
    const fraUrl = consoles.get('FRA') ?? '';
    const belUrl = consoles.get('BEL') ?? '';
    // The printed steps name these consoles and accounts.
    expect(output).toContain(`Tab 1: ${fraUrl}  sign in as fra.officer`);
    expect(output).toContain(`Tab 2: ${belUrl}  sign in as bel.officer`);
    expect(output).toContain(`serial ${DEMO_PISTOL.serialNumber}`);
    const account = (id: string) => {
      const found = officers.find((o) => o.officerId === id);
      if (!found) throw new Error(`the demo printed no ${id}`);
      return found;
    };

    // Two tabs of one browser: the demo's host names (fra.localhost, bel.localhost) keep the cookies apart.
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      locale: 'en',
      viewport: { width: 1280, height: 860 },
    });
    const fra = await context.newPage();
    const bel = await context.newPage();
    await signInAs(fra, fraUrl, account('fra.officer'));
    await signInAs(bel, belUrl, account('bel.officer'));
    await bel.locator('table.inbox-table, .inbox-empty, [role="status"]').first().waitFor();

    // 1. Tab 1: FRA composes the request to Belgium for the seized pistol, with a photo, and sends it.
    await fra.goto(`${fraUrl}#/compose`);
    await fillComposeForm(fra, 'BEL', DEMO_PISTOL);
    await expectAccessible(fra);
    await screenshot(fra, 'flow-demo-compose-en');
    const fraCase = await sendComposed(fra);
    expect(fraCase).not.toBe('');
    expect(await fra.locator('.case-summary').textContent()).toContain('Belgium');

    // 2. Tab 2: the request is in BEL's inbox (live); BEL opens it, acknowledges, answers "referred" to Kenya.
    const row = bel.locator('table.inbox-table tbody tr', { hasText: 'France' });
    await row.first().waitFor({ timeout: 30_000 });
    await expectAccessible(bel);
    await screenshot(bel, 'flow-demo-inbox-en');
    await row.first().locator('a').first().click();
    await bel.locator('.case-summary').waitFor();
    expect(await bel.locator('main').textContent()).toContain(DEMO_PISTOL.serialNumber);
    await bel.locator('form.step-acknowledge button[type="submit"]').click();
    await badge(bel, 'Acknowledged').waitFor();
    await bel.getByRole('button', { name: 'Answer', exact: true }).click();
    await bel.locator(`input[name="outcome"][value="${TraceOutcome.TRACE_OUTCOME_REFERRED}"]`).check();
    await bel.locator('[name="participant"]').fill('KEN');
    await bel
      .locator('textarea[name="basis"]')
      .fill('Exported to KEN on 14 March 2012, licence BE-EXP-2012-0413 (BEL records, serial FX-0412-2231)');
    await expectAccessible(bel);
    await screenshot(bel, 'flow-demo-answer-en');
    await bel.locator('form.step-answer button[type="submit"]').click();
    await badge(bel, 'Answered').waitFor();

    // 3. Tab 1: the answer is on FRA's case (live); the follow-on to Kenya in one click; KEN answers by itself.
    await fra.bringToFront();
    const followOn = fra.getByRole('button', { name: 'Ask Kenya next (follow-on request)' });
    await followOn.waitFor({ timeout: 30_000 });
    expect(await fra.locator('main').textContent()).toContain('BE-EXP-2012-0413');
    await expectAccessible(fra);
    await screenshot(fra, 'flow-demo-referred-en');
    await followOn.click();
    await fra.waitForURL((url) => !url.hash.endsWith(encodeURIComponent(fraCase)) && url.hash.startsWith('#/cases/'));
    await fra.locator('.case-summary', { hasText: 'Kenya' }).waitFor();
    await badge(fra, 'Answered').waitFor({ timeout: 30_000 });
    const chain = fra.locator('ol.chain > li');
    await expect.poll(() => chain.count(), { timeout: 15_000 }).toBe(3);
    expect(await chain.nth(0).textContent()).toContain('Belgium');
    expect(await chain.nth(0).textContent()).toContain('referred to Kenya');
    expect(await chain.nth(1).textContent()).toContain('Kenya');
    expect(await chain.nth(1).textContent()).toContain('Traced');
    expect(await chain.nth(2).textContent()).toContain('France');
    expect(await fra.locator('main').textContent()).toContain('2019-08-03');
    await expectAccessible(fra);
    await screenshot(fra, 'flow-demo-chain-en');
    // Both tabs are still signed in as their own officers.
    expect(await fra.locator('header.topbar').textContent()).toContain('fra.officer');
    await bel.reload();
    await bel.locator('nav.menu').waitFor();
    expect(await bel.locator('header.topbar').textContent()).toContain('bel.officer');
    await context.close();

    // Ctrl-C: the demo stops every node and exits 0.
    expect(await demo.interrupt()).toBe(0);
    expect(demo.output()).toContain('all nodes stopped; demo data deleted');
  }, 180_000);
});
