import {
  type AnswerCaseRequest,
  type Case,
  CaseRole,
  ReexportCondition,
  TraceOutcome,
  WeaponEvent,
  WeaponEventType as E,
} from '@tracenet/proto';
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
import { waitFor } from '../support/nodes.js';
import { traceRequest } from '../support/requests.js';

/**
 * The re-export flags of a case on the console, on four real nodes: FRA traces a pistol BEL → KEN.
 * BEL exported it to KEN under an undertaking prohibiting re-export; KEN answers that it exported
 * it to UGA, without authorisation (docs/protocol.md 18).
 */

const PASSWORD = 'correct horse battery';
const ev = (fields: Partial<WeaponEvent>): WeaponEvent => WeaponEvent.fromPartial(fields);
const MARKUP = '<img src=x onerror="window.__pwned=1">';

const BEL_EXPORT = ev({
  type: E.WEAPON_EVENT_TYPE_EXPORTED,
  date: '2016-05-10',
  destination: 'KEN',
  licence: 'BEL-EXP-2016-114',
  endUser: 'Kenya Police Service',
  undertaking: {
    condition: ReexportCondition.REEXPORT_CONDITION_PROHIBITED,
    certificateReference: `EUC-KEN-2016-77 ${MARKUP}`,
    endUser: 'Kenya Police Service',
    date: '2016-04-20',
    authorisations: [{ destination: 'TZA', date: '2018-01-10', reference: 'BEL-RX-2018-2' }],
  },
});
const KEN_IMPORT = ev({
  type: E.WEAPON_EVENT_TYPE_IMPORTED,
  date: '2016-05-20',
  origin: 'BEL',
  licence: 'KEN-IMP-16-9',
});
const KEN_EXPORT = ev({
  type: E.WEAPON_EVENT_TYPE_EXPORTED,
  date: '2019-02-11',
  destination: 'UGA',
  licence: 'KEN-EXP-19-3',
});

function referral(caseId: string, history: WeaponEvent[], to: string): AnswerCaseRequest {
  return {
    caseId,
    outcome: TraceOutcome.TRACE_OUTCOME_REFERRED,
    lastLegalRecord: '',
    pointOfDiversion: '',
    referral: { participant: to, basis: `exported to ${to}`, event: undefined },
    history,
    details: '',
    release: [],
    restrictions: undefined,
  };
}

/** Polls `read` until `done` holds (a condition of the nodes, not a sleep). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeout = 20_000): Promise<T> {
  let value = await read();
  await waitFor(async () => done((value = await read())), timeout, 'the nodes');
  return value;
}

describe('the case screen shows re-export flags and notifies the exporter under consent', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  let bel: LocalNode;
  let ken: LocalNode;
  let kenCase: Case;

  /** The requested side's case of `traceId` on `node`. */
  const requested = (node: LocalNode, traceId: string) =>
    until(
      async () =>
        (
          await node.cases.call('listCases', {
            role: 0,
            state: 0,
            peer: '',
            overdueOnly: false,
            limit: 500,
            cursor: '',
          })
        ).cases.find((c) => c.traceId === traceId && c.role === CaseRole.CASE_ROLE_REQUESTED),
      (c) => c !== undefined,
    ) as Promise<Case>;

  /** `node` acknowledges and answers FRA's case `mine`; resolves with FRA's case once answered. */
  async function answer(mine: Case, node: LocalNode, reply: (caseId: string) => AnswerCaseRequest): Promise<Case> {
    const theirs = await requested(node, mine.traceId);
    await node.cases.call('acknowledgeCase', { caseId: theirs.caseId, reference: '' });
    await node.cases.call('answerCase', reply(theirs.caseId));
    return until(
      async () => (await fra.cases.call('getCase', { caseId: mine.caseId })).case as Case,
      (c) => c.answer !== undefined,
    );
  }

  beforeAll(async () => {
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL', 'KEN', 'UGA'],
        console: true,
        officers: {
          FRA: [
            { officerId: 'amina', password: PASSWORD, roles: ['officer'] },
            { officerId: 'sami', password: PASSWORD, roles: ['auditor'] },
          ],
          BEL: [{ officerId: 'lucas', password: PASSWORD, roles: ['officer'] }],
        },
        policies: ['BEL', 'KEN', 'UGA'].map((of) => ({ of, policy: { participantId: 'FRA', acceptRequests: true } })),
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    bel = federation.node('BEL');
    ken = federation.node('KEN');
    const { case: sent } = await fra.cases.call('createCase', {
      recipient: 'BEL',
      request: traceRequest(),
      send: true,
    });
    const belCase = await answer(sent as Case, bel, (id) =>
      referral(id, [ev({ type: E.WEAPON_EVENT_TYPE_MANUFACTURED, date: '2015-03-01' }), BEL_EXPORT], 'KEN'),
    );
    const { case: toKen } = await fra.cases.call('followOn', {
      caseId: belCase.caseId,
      send: true,
      intendedUse: '',
      otherInformation: '',
    });
    kenCase = await answer(toKen as Case, ken, (id) => referral(id, [KEN_IMPORT, KEN_EXPORT], 'UGA'));
    expect(kenCase.reexportFlags).toHaveLength(1);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
  });

  async function open(node: LocalNode, officerId: string, language: ConsoleLanguage, path: string): Promise<Page> {
    const context = await officerContext(browser, language);
    const page = await context.newPage();
    await signIn(page, node, officerOf(node, officerId));
    await page.goto(`${node.consoleUrl}/#/${path}`);
    return page;
  }

  for (const language of ['en', 'ar'] as const) {
    it(`shows the flag with its undertaking and evidence hops, dates and licences (${language})`, async () => {
      const page = await open(fra, 'amina', language, `cases/${kenCase.caseId}`);
      const flags = page.locator('section.reexport-flags');
      await flags.waitFor();
      expect(await flags.locator('article.reexport-flag').count()).toBe(1);
      const text = (await flags.textContent()) ?? '';
      for (const licence of ['BEL-EXP-2016-114', 'KEN-IMP-16-9', 'KEN-EXP-19-3', 'BEL-RX-2018-2'])
        expect(text).toContain(licence);
      // A peer's text is text: the markup in the certificate reference is shown, not run.
      expect(text).toContain(MARKUP);
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      const hops = flags.locator('ol.reexport-evidence > li');
      expect(await hops.count()).toBe(3);
      if (language === 'en') {
        expect(text).toContain('Exported by Belgium to Kenya; later in Uganda');
        expect(text).toContain('Kenya exported it again, to Uganda, with no authorisation on record.');
        expect(await hops.nth(0).textContent()).toContain('May 10, 2016');
      }
      expect(await flags.getByRole('button').count()).toBe(1);
      await expectAccessible(page);
      await screenshot(page, `case-reexport-${language}`);
      await page.context().close();
    }, 120_000);
  }

  it('shows an auditor the flag without the notify action, and the node refuses the auditor its call', async () => {
    const page = await open(fra, 'sami', 'en', `cases/${kenCase.caseId}`);
    const flags = page.locator('section.reexport-flags');
    await flags.waitFor();
    expect(await flags.getByRole('button').count()).toBe(0);
    await expectAccessible(page);
    // The node refuses the call itself too, whatever a browser sends.
    const flagId = kenCase.reexportFlags[0]?.flagId ?? '';
    const refused = await page.evaluate(
      async ([caseId, flag]) => {
        const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
        const response = await fetch('/api/rpc/tracenet.v1.Cases/NotifyReexport', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
          body: JSON.stringify({ caseId, flagId: flag }),
        });
        return { status: response.status, body: (await response.json()) as { error: { rule: string } } };
      },
      [kenCase.caseId, flagId] as const,
    );
    expect(refused).toMatchObject({ status: 403, body: { error: { rule: 'role' } } });
    expect((await fra.cases.call('getCase', { caseId: kenCase.caseId })).case?.reexportFlags[0]?.notifiedAtMs).toBe(0);
    await page.context().close();
  }, 120_000);

  it('shows the refusal at the hop whose provider has not consented, asks its consent, then notifies the exporter', async () => {
    const page = await open(fra, 'amina', 'en', `cases/${kenCase.caseId}`);
    const flags = page.locator('section.reexport-flags');
    await flags.getByRole('button', { name: 'Notify the exporter (Belgium)' }).click();
    // KEN's answer may not go to BEL: the refusal stands at KEN's first hop, with the consent form.
    const refused = flags.locator('ol.reexport-evidence > li.hop-refused');
    await refused.waitFor();
    expect(
      await flags.locator('ol.reexport-evidence > li').evaluateAll((hops) => hops.map((h) => h.className)),
    ).toEqual(['', 'hop-refused', '']);
    expect(await refused.getByRole('alert').textContent()).toContain('an answer of Kenya');
    await expectAccessible(page);
    await screenshot(page, 'case-reexport-refused-en');
    expect((await fra.cases.call('getCase', { caseId: kenCase.caseId })).case?.reexportFlags[0]?.notifiedAtMs).toBe(0);

    await refused.getByRole('button', { name: 'Ask Kenya for consent' }).click();
    await refused.locator('.notice[role="status"]').waitFor();
    const kenSide = await requested(ken, kenCase.traceId);
    const withConsent = await until(
      async () => (await ken.cases.call('getCase', { caseId: kenSide.caseId })).case as Case,
      (c) => c.consents.length === 1,
    );
    expect(withConsent.consents[0]?.thirdParticipant).toBe('BEL');
    expect(withConsent.consents[0]?.reason).toContain('Belgium');
    await ken.cases.call('decideConsent', { caseId: kenSide.caseId, consentId: '', granted: true, conditions: '' });
    await until(
      async () => (await fra.cases.call('getCase', { caseId: kenCase.caseId })).case as Case,
      (c) => c.consents[0]?.granted === true,
    );

    await flags.getByRole('button', { name: 'Notify the exporter (Belgium)' }).click();
    await expect
      .poll(() => page.locator('#case-announce').textContent(), { timeout: 20_000 })
      .toBe('Belgium was notified of the possible unauthorised re-export.');
    await expect.poll(() => flags.getByRole('button').count()).toBe(0);
    expect(await flags.locator('li.hop-refused').count()).toBe(0);
    const stored = (await fra.cases.call('getCase', { caseId: kenCase.caseId })).case;
    expect(stored?.reexportFlags[0]?.notifiedAtMs).toBeGreaterThan(0);
    await expectAccessible(page);
    await page.context().close();

    // BEL, the exporter, lists the notice received on its sharing screen; FRA lists the flag raised.
    for (const language of ['en', 'ar'] as const) {
      const sharing = await open(bel, 'lucas', language, 'sharing');
      const row = sharing.locator('section[aria-labelledby="sharing-reexport"] tr.reexport-row');
      await row.first().waitFor({ timeout: 20_000 });
      expect(await row.count()).toBe(1);
      expect(await row.textContent()).toContain('KEN-EXP-19-3');
      await expectAccessible(sharing);
      await screenshot(sharing, `sharing-reexport-${language}`);
      await sharing.context().close();
    }
    const raised = await open(fra, 'amina', 'en', 'sharing');
    const section = raised.locator('section[aria-labelledby="sharing-reexport"]');
    await section.locator('tr.reexport-row').first().waitFor();
    expect(await section.textContent()).toContain('Flags raised by this node (1)');
    expect(await section.locator('tr.reexport-row').textContent()).not.toContain('Not yet');
    await raised.context().close();
  }, 180_000);
});
