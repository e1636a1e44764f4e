import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ReleaseAction } from '@tracenet/proto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totp } from '../../src/access/totp.js';
import { CLI_PATH, type LocalFederation, type LocalOfficer, startLocalFederation } from '../../src/dev/index.js';
import {
  alertText,
  expectAccessible,
  launchBrowser,
  officerContext,
  officerOf,
  screenshot,
  signIn,
} from '../support/browser.js';

const run = promisify(execFile);
const PASSWORD = 'correct horse battery';
/** Hex in groups of four, as `tracenet peers show` prints it. */
const grouped = (hex: string) => hex.replace(/(.{4})(?=.)/g, '$1 ');

/** `tracenet <args>` as an administrator types it; its standard output. */
async function tracenet(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI_PATH, ...args]);
  return stdout;
}

/** How to sign in as an officer added during the test. */
function officerWith(officerId: string, totpSecret: string): LocalOfficer {
  return {
    officerId,
    password: PASSWORD,
    roles: [],
    totpSecret,
    code: (atMs = Date.now()) => totp(base32Decode(totpSecret), atMs),
  };
}

describe('the administration screens', () => {
  let federation: LocalFederation;
  let browser: Browser;
  let temp: string;
  /** Signed in once each: a TOTP code is accepted once, so each language has its own administrator. */
  let en: Page;
  let ar: Page;
  beforeAll(async () => {
    [federation, browser, temp] = await Promise.all([
      startLocalFederation({
        participants: ['FRA', 'BEL'],
        console: true,
        officers: {
          // The administrator last: local-federation adds officers with the bootstrap token, which
          // the first administrator ends.
          FRA: [
            { officerId: 'otto', password: PASSWORD, roles: ['auditor'] },
            { officerId: 'ada', password: PASSWORD, roles: ['administrator'] },
          ],
        },
      }),
      launchBrowser(),
      mkdtemp(join(tmpdir(), 'tracenet-admin-')),
    ]);
    const fra = federation.node('FRA');
    en = await (await officerContext(browser, 'en')).newPage();
    ar = await (await officerContext(browser, 'ar')).newPage();
    await signIn(en, fra, officerOf(fra, 'ada'));
    const amal = await fra.access.call('addOfficer', {
      officerId: 'amal',
      displayName: '',
      roles: ['administrator'],
      password: PASSWORD,
      requireTotp: true,
    });
    await signIn(ar, fra, officerWith('amal', amal.totpSecret));
  });
  afterAll(async () => {
    await browser?.close();
    await federation?.stop();
    if (temp) await rm(temp, { recursive: true, force: true });
  });

  const open = async (page: Page, tab: string) => {
    await page.goto(`${federation.node('FRA').consoleUrl}/#/admin/${tab}`);
    await page.locator('.admin-tab h2').first().waitFor();
  };
  /** BEL's card file, exported as its administrator does: tracenet peers export. */
  const exportCard = async () => {
    const path = join(temp, 'BEL.card.json');
    await tracenet('peers', 'export', '--data', federation.node('BEL').dataDir, '--out', path);
    return path;
  };

  it('lists the pinned peers, removes one and pins it again from its card file with the CLI fingerprints', async () => {
    const fra = federation.node('FRA');
    await open(en, 'peers');
    const row = en.locator('tr[data-peer="BEL"]');
    await expect(row.textContent()).resolves.toContain('Belgium');
    await expectAccessible(en);
    await screenshot(en, 'admin-peers-en');

    await row.getByRole('button', { name: 'Remove BEL' }).click();
    await row.getByRole('button', { name: 'Yes, remove BEL' }).click();
    await en.getByRole('status').filter({ hasText: 'BEL was removed' }).waitFor();
    expect((await fra.authority.call('listPeers', {})).peers.map((p) => p.participantId)).not.toContain('BEL');

    const card = await exportCard();
    const cli = JSON.parse(await tracenet('peers', 'show', card, '--json')) as {
      keyId: string;
      tlsFingerprint: string;
    };
    const cliText = await tracenet('peers', 'show', card);
    await en.getByLabel('Card file', { exact: true }).setInputFiles(card);
    const keyId = en.locator('[data-fingerprint="keyId"]');
    await keyId.waitFor();
    expect(await keyId.textContent()).toBe(grouped(cli.keyId));
    expect(await en.locator('[data-fingerprint="tlsFingerprint"]').textContent()).toBe(grouped(cli.tlsFingerprint));
    // The very text the CLI prints for the telephone check.
    expect(cliText).toContain(`key id           ${grouped(cli.keyId)}`);
    const pin = en.getByRole('button', { name: 'Pin BEL' });
    expect(await pin.isDisabled()).toBe(true);
    await expectAccessible(en);
    await screenshot(en, 'admin-peers-pin-en');
    await en.getByLabel(/I compared the key ID and the TLS fingerprint/).check();
    await pin.click();
    await en.getByRole('status').filter({ hasText: 'BEL is pinned' }).waitFor();
    const pinned = (await fra.authority.call('listPeers', {})).peers.find((p) => p.participantId === 'BEL');
    expect(pinned?.keyId).toBe(cli.keyId);

    await open(ar, 'peers');
    await ar.locator('tr[data-peer="BEL"]').waitFor();
    expect(await ar.locator('html').getAttribute('dir')).toBe('rtl');
    await expectAccessible(ar);
    await screenshot(ar, 'admin-peers-ar');
  });

  it('refuses a file that is not a card, an altered card, a broken signature and a huge file, precisely', async () => {
    await open(en, 'peers');
    const input = en.getByLabel('Card file', { exact: true });
    const card = JSON.parse(await readFile(await exportCard(), 'utf8')) as Record<string, string>;
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['page.html', '<html><script>alert(1)</script></html>', /not a card file: it is not JSON/],
      ['other.json', JSON.stringify({ format: 'something/1', card: 'AAAA' }), /no format "tracenet-peer-card\/1"/],
      [
        'altered.json',
        JSON.stringify({ ...card, keyId: '0123456789abcdef' }),
        /says another keyId than its signed card: the file was altered/,
      ],
    ];
    // The signature broken, every readable member still equal to the signed card.
    const bytes = Buffer.from(card.card as string, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
    cases.push([
      'tampered.json',
      JSON.stringify({ ...card, card: bytes.toString('base64') }),
      /signature of the card does not verify/,
    ]);
    cases.push([
      'huge.json',
      Buffer.alloc(5_000_000, 0x20),
      /This file is 5,000,000 bytes; a card file is at most 65,536 bytes/,
    ]);
    for (const [name, content, message] of cases) {
      const path = join(temp, name);
      await writeFile(path, content);
      await input.setInputFiles(path);
      await en.locator('.field-error').filter({ hasText: message }).waitFor();
      expect(await alertText(en)).toMatch(message);
      expect(await en.locator('[data-fingerprint]').count()).toBe(0);
    }
    await expectAccessible(en);
  });

  it('edits a peer policy with release rules, applies it, and shows a refusal by its field', async () => {
    const fra = federation.node('FRA');
    await en.goto(`${fra.consoleUrl}/#/admin/policies/BEL`);
    const form = en.locator('form.policy-form');
    await form.waitFor();
    await form.getByLabel('Accept trace requests from this peer').check();
    await form.getByLabel('Answer within (days)').fill('10');
    await form.getByRole('button', { name: 'Add a release rule' }).click();
    await form.getByLabel('Field').selectOption('history.end_user');
    await form.getByLabel('What answers do with it').selectOption({ label: 'On request (an officer may release it)' });
    await form.getByLabel('Only for these events').selectOption({ label: 'Transferred' });
    await form.getByLabel('Reason shown to the requester').fill('Data protection act, art. 9');
    await form.getByRole('button', { name: 'Save the policy' }).click();
    await en.getByRole('status').filter({ hasText: 'The policy is saved' }).waitFor();
    const { policy } = await fra.authority.call('getPeerPolicy', { participantId: 'BEL' });
    expect(policy).toMatchObject({ acceptRequests: true, answerWithinMs: 10 * 86_400_000 });
    expect(policy?.releaseRules).toEqual([
      {
        field: 'history.end_user',
        action: ReleaseAction.RELEASE_ACTION_ON_REQUEST,
        eventTypes: [4],
        outcomes: [],
        reason: 'Data protection act, art. 9',
      },
    ]);
    await expectAccessible(en);
    await screenshot(en, 'admin-policies-en');

    await form.getByLabel('Acknowledge within (days)').fill('-1');
    await form.getByRole('button', { name: 'Save the policy' }).click();
    await form.locator('.field-error').filter({ hasText: 'policy.acknowledge_within_ms cannot be negative' }).waitFor();
    expect((await fra.authority.call('getPeerPolicy', { participantId: 'BEL' })).policy?.acknowledgeWithinMs).toBe(0);

    await ar.goto(`${fra.consoleUrl}/#/admin/policies/BEL`);
    await ar.locator('form.policy-form .rule').waitFor();
    await expectAccessible(ar);
    await screenshot(ar, 'admin-policies-ar');
  });

  it('says a removal waits for a supervisor when the approval policy holds peer changes', async () => {
    const fra = federation.node('FRA');
    const off = { answers: false, disclosures: false, refusals: false, automaticAnswers: false };
    await fra.cases.call('setApprovalPolicy', { policy: { ...off, policyChanges: true } });
    try {
      await open(en, 'peers');
      const row = en.locator('tr[data-peer="BEL"]');
      await row.getByRole('button', { name: 'Remove BEL' }).click();
      await row.getByRole('button', { name: 'Yes, remove BEL' }).click();
      const pending = en.getByRole('status').filter({ hasText: 'Waiting for a supervisor' });
      await pending.waitFor();
      expect(await pending.textContent()).toContain('nothing has changed yet');
      expect((await fra.authority.call('listPeers', {})).peers.map((p) => p.participantId)).toContain('BEL');
      await expectAccessible(en);
    } finally {
      await fra.cases.call('setApprovalPolicy', { policy: { ...off, policyChanges: false } });
    }
  });

  it('adds an officer, shows the authenticator secret once, and the officer signs in with it', async () => {
    const fra = federation.node('FRA');
    await open(en, 'accounts');
    const form = en.locator('form', { has: en.getByRole('heading', { name: 'Add an officer' }) });
    await form.getByLabel('Officer ID').fill('nadia');
    await form.getByLabel('Full name').fill('Nadia <b>Haddad</b>');
    await form.getByLabel('Initial password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Add the officer' }).click();
    const secret = en.locator('[data-secret="totpSecret"]');
    await secret.waitFor();
    expect(await en.locator('.notice-secret').textContent()).toContain('Shown only once');
    expect(await en.locator('[data-secret="totpUri"]').textContent()).toMatch(/^otpauth:\/\/totp\//);
    await en.locator('tr[data-officer="nadia"]').waitFor();
    expect(await en.locator('tr[data-officer="nadia"] b').count()).toBe(0);
    await expectAccessible(en);
    await screenshot(en, 'admin-accounts-en');

    const totpSecret = (await secret.textContent()) ?? '';
    const nadia = officerWith('nadia', totpSecret);
    const context = await officerContext(browser, 'fr');
    const page = await context.newPage();
    await signIn(page, fra, nadia);
    expect(await page.locator('.topbar .who').textContent()).toContain('nadia');
    await context.close();

    await open(ar, 'accounts');
    await ar.locator('tr[data-officer="nadia"]').waitFor();
    await expectAccessible(ar);
    await screenshot(ar, 'admin-accounts-ar');
  });

  it('shows an auditor every screen without a button that changes, and the node refuses a forced change', async () => {
    const fra = federation.node('FRA');
    const context = await officerContext(browser, 'en');
    const page = await context.newPage();
    await signIn(page, fra, officerOf(fra, 'otto'));
    for (const tab of ['peers', 'policies', 'keys', 'accounts']) {
      await open(page, tab);
      await page.getByRole('note').filter({ hasText: 'read-only' }).waitFor();
      if (tab === 'peers') await page.locator('tr[data-peer="BEL"]').waitFor();
      if (tab === 'accounts') await page.locator('tr[data-officer="ada"]').waitFor();
      if (tab === 'policies') await page.locator('form.policy-form').waitFor();
      const buttons = await page.locator('main button:not(:disabled), main input[type="file"]').allTextContents();
      expect({ tab, buttons }).toEqual({ tab, buttons: [] });
      await expectAccessible(page);
    }
    const forced = await page.evaluate(async () => {
      const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const response = await fetch('/api/rpc/tracenet.v1.Authority/RemovePeer', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ participantId: 'BEL' }),
      });
      return { status: response.status, body: (await response.json()) as { error: { rule: string; message: string } } };
    });
    expect(forced.status).toBe(403);
    expect(forced.body.error.rule).toBe('role');
    expect(forced.body.error.message).toContain('it needs the role administrator');
    expect((await fra.authority.call('listPeers', {})).peers.map((p) => p.participantId)).toContain('BEL');
    await context.close();
  });

  it('replaces the keys of a peer that revoked its own, only after an explicit second confirmation', async () => {
    const fra = federation.node('FRA');
    const revoked = await federation.node('BEL').authority.call('revokeKeys', { reason: 'laptop stolen' });
    const card = await exportCard();
    await open(en, 'peers');
    await en.getByLabel('Card file', { exact: true }).setInputFiles(card);
    await en.locator('[data-fingerprint="keyId"]').waitFor();
    expect(await en.locator('[data-fingerprint="keyId"]').textContent()).toBe(grouped(revoked.keyId));
    expect(await en.locator('.notice-warning').textContent()).toContain('BEL is already pinned with other keys');
    await en.getByLabel(/I compared the key ID and the TLS fingerprint/).check();
    const pin = en.getByRole('button', { name: 'Pin BEL' });
    expect(await pin.isDisabled()).toBe(true);
    await en.getByLabel('Replace the pinned keys with the keys of this card').check();
    await pin.click();
    await en
      .getByRole('status')
      .filter({ hasText: `BEL is pinned (key ID ${grouped(revoked.keyId)})` })
      .waitFor();
    const pinned = (await fra.authority.call('listPeers', {})).peers.find((p) => p.participantId === 'BEL');
    expect(pinned?.keyId).toBe(revoked.keyId);
  });

  it('rotates the keys after a typed confirmation and shows the new key id', async () => {
    const fra = federation.node('FRA');
    const before = await fra.authority.call('getNodeInfo', {});
    await open(en, 'keys');
    await en.locator('[data-own="tlsFingerprint"]').waitFor();
    expect(await en.locator('[data-own="keyId"]').textContent()).toBe(grouped(before.keyId));
    await expectAccessible(en);
    await screenshot(en, 'admin-keys-en');
    await en.getByRole('button', { name: 'Rotate the keys…' }).click();
    const confirm = en.getByRole('button', { name: 'Rotate the keys now' });
    expect(await confirm.isDisabled()).toBe(true);
    await en.getByLabel('To confirm, type FRA').fill('FRA');
    await confirm.click();
    await en.getByRole('status').filter({ hasText: 'New keys' }).waitFor();
    const after = await fra.authority.call('getNodeInfo', {});
    expect(after.keyId).not.toBe(before.keyId);
    expect(await en.getByRole('status').filter({ hasText: 'New keys' }).textContent()).toContain(grouped(after.keyId));
    await en.locator(`[data-own="keyId"]:text-is("${grouped(after.keyId)}")`).waitFor();
  });
});
