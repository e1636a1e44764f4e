import {
  type Case,
  CaseRole,
  DestructionState,
  WeaponEventType,
  type WeaponRecord,
  WeaponStatus,
} from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalFederation, type LocalNode, startLocalFederation } from '../../src/dev/index.js';
import { theftReport } from '../lookup/support.js';
import { event, weapon } from '../records/support.js';
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
 * A weapon recorded as destroyed that turns up again, on the console (docs/protocol.md 19), with
 * three real nodes: BEL collected a pistol in a DDR programme and destroyed it; FRA seized it
 * again, looks it up and asks BEL to trace it. KEN holds another pistol reported stolen.
 */

const PASSWORD = 'correct horse battery';
const SERIAL = 'FX-0412-2231';
const PURPOSE = 'seizure at Marseille, case OCLCO-2026-0211';
const MARKINGS = { serialNumber: SERIAL, model: 'FNX-45', type: 3, calibre: '.45 ACP', year: 2011 };

const pistol = (): WeaponRecord =>
  weapon(
    {
      imports: [],
      components: [],
      secondaryMarks: [],
      status: WeaponStatus.WEAPON_STATUS_SURRENDERED,
      events: [
        event(WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED, '2011-03-02', { place: 'Herstal' }),
        event(WeaponEventType.WEAPON_EVENT_TYPE_SURRENDERED, '2024-04-10', {
          place: 'Bunia',
          agency: 'DDR commission',
          circumstance: 5,
        }),
      ],
      collection: {
        programme: 'DDR Phase II — Ituri',
        collectionPoint: 'Bunia camp',
        date: '2024-04-10',
        uniqueMark: 'COD-DDR-2024-0001',
        conflictSetting: true,
      },
      destruction: {
        state: DestructionState.DESTRUCTION_STATE_PENDING,
        designatedDate: '2024-05-01',
        deactivated: true,
        destroyedDate: '',
        method: '',
        witnesses: [],
        certificateId: '',
      },
    },
    MARKINGS,
  );

describe('a weapon recorded destroyed that turns up again, on the console', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let fra: LocalNode;
  let bel: LocalNode;
  let certificateId = '';

  beforeAll(async () => {
    const fromFra = {
      participantId: 'FRA',
      allowLookups: true,
      acceptRequests: true,
      autoAcknowledge: true,
      autoAnswer: true,
    };
    [federation, browser] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL', 'KEN'],
        console: true,
        officers: {
          FRA: [{ officerId: 'amina', password: PASSWORD, roles: ['officer'] }],
          BEL: [{ officerId: 'lucas', password: PASSWORD, roles: ['officer'] }],
        },
        policies: [
          { of: 'BEL', policy: fromFra },
          { of: 'KEN', policy: fromFra },
          { of: 'FRA', policy: { participantId: 'BEL', acceptRequests: true } },
        ],
      }),
      launchBrowser(),
    ]);
    fra = federation.node('FRA');
    bel = federation.node('BEL');
    const ken = federation.node('KEN');
    const recordId = (await bel.records.call('putRecord', { record: pistol() })).record?.recordId ?? '';
    const done = await bel.records.call('recordDestruction', {
      recordId,
      destroyedDate: '2025-01-10',
      method: 'cutting',
      witnesses: ['Capt. A. Mbala', 'UN observer J. Okafor'],
    });
    certificateId = done.record?.destruction?.certificateId ?? '';
    expect(certificateId).toMatch(/^dc_/);
    // KEN's pistol of the same serial is reported stolen: a hit of a category, for contrast.
    const kenPistol = (
      await ken.records.call('putRecord', {
        record: weapon(
          {
            imports: [],
            components: [],
            secondaryMarks: [],
            events: [event(WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED, '2011-03-02', { place: 'Herstal' })],
          },
          MARKINGS,
        ),
      })
    ).record?.recordId;
    await ken.records.call('reportRecord', { recordId: kenPistol ?? '', report: theftReport({}) });
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
    await page.locator('#screen-title').waitFor();
    return page;
  }

  for (const language of ['en', 'ar'] as const) {
    it(`shows BEL's hit as recorded destroyed, with its date and certificate, apart from KEN's stolen one (${language})`, async () => {
      const page = await open(fra, 'amina', language, 'lookups');
      await page.locator('input[name="manufacturer"]').fill('FN Herstal');
      await page.locator('input[name="serial"]').fill(SERIAL);
      await page.locator('textarea[name="purpose"]').fill(PURPOSE);
      await page.locator('form.lookup-form button[type="submit"]').click();
      const bel_ = page.locator('.lookup-results tr', { has: page.locator('th .mono', { hasText: 'BEL' }) });
      const ken_ = page.locator('.lookup-results tr', { has: page.locator('th .mono', { hasText: 'KEN' }) });
      await bel_.locator('.lookup-hit').waitFor({ timeout: 30_000 });
      await ken_.locator('.lookup-hit').waitFor();
      expect(await bel_.locator('.badge.destroyed').count()).toBe(1);
      // No category for a record that is not a record of interest: only "recorded destroyed".
      expect(await bel_.locator('.lookup-hit .badge.danger').count()).toBe(0);
      expect(await bel_.locator('.lookup-destroyed bdi').textContent()).toBe(certificateId);
      if (language === 'en') {
        expect(await bel_.locator('.badge.destroyed').textContent()).toBe('Recorded destroyed');
        expect(await bel_.locator('.lookup-destroyed').textContent()).toContain(
          'recorded this weapon as destroyed on Jan 10, 2025',
        );
        expect(await ken_.locator('.lookup-hit .badge.danger').textContent()).toBe('Stolen');
      }
      expect(await ken_.locator('.badge.destroyed').count()).toBe(0);
      await expectAccessible(page);
      await screenshot(page, `lookups-destroyed-${language}`);
      await page.context().close();
    }, 120_000);
  }

  it('shows the recirculation banner on the case of a trace request for it, on both sides', async () => {
    const { case: mine } = await fra.cases.call('createCase', {
      recipient: 'BEL',
      request: traceRequest({}, MARKINGS),
      send: true,
    });
    let theirs: Case | undefined;
    await waitFor(
      async () =>
        (theirs = (
          await bel.cases.call('listCases', { role: 0, state: 0, peer: '', overdueOnly: false, limit: 500, cursor: '' })
        ).cases.find((c) => c.traceId === mine?.traceId && c.role === CaseRole.CASE_ROLE_REQUESTED)) !== undefined,
      20_000,
      "BEL's case",
    );
    for (const language of ['en', 'ar'] as const) {
      const page = await open(bel, 'lucas', language, `cases/${theirs?.caseId}`);
      const banner = page.locator('.recirculation[role="note"]');
      await banner.waitFor();
      const text = (await banner.textContent()) ?? '';
      expect(text).toContain(certificateId);
      if (language === 'en') {
        expect(text).toContain('Recirculated after recorded destruction');
        expect(text).toContain('This weapon was recorded as destroyed by Belgium on Jan 10, 2025.');
        expect(text).toContain('It turned up again in France');
        expect(text).toContain('(seen in: a trace request)');
      }
      // The banner comes first, before the answer, the chain and the request.
      const [above, below] = await Promise.all([
        banner.boundingBox(),
        page.locator('section[aria-labelledby="chain-title"]').boundingBox(),
      ]);
      expect(above?.y ?? Infinity).toBeLessThan(below?.y ?? 0);
      await expectAccessible(page);
      await screenshot(page, `case-recirculation-${language}`);
      await page.context().close();
    }
    // BEL answers by itself from its records: FRA's case learns it from the answer.
    await waitFor(
      async () => (await fra.cases.call('getCase', { caseId: mine?.caseId ?? '' })).case?.recirculation !== undefined,
      20_000,
      "the finding on FRA's case",
    );
    const page = await open(fra, 'amina', 'en', `cases/${mine?.caseId}`);
    const banner = page.locator('.recirculation[role="note"]');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('(seen in: a trace answer)');
    await expectAccessible(page);
    await page.context().close();
  }, 180_000);
});
