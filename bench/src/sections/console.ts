import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalNode, startLocalFederation } from '@tracenet/node/dev';
import { CaseRole, FindingKind, IllicitKind, Priority, TraceRequest, WeaponType } from '@tracenet/proto';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { chromiumLaunchOptions } from '../../../scripts/chromium.mjs';
import type { Sizes } from '../sizes.js';
import { latency, type Latency, round, target, type Target } from '../stats.js';

/** The slow link: about 1 Mbit/s down, 0.5 Mbit/s up, 300 ms round trips (Chromium's network emulation). */
export const SLOW_LINK = { offline: false, latency: 300, downloadThroughput: 125_000, uploadThroughput: 62_500 };

/** TCP and TLS 1.3 handshakes over the slow link (2 round trips), which Chromium's emulation does not delay. */
export const CONNECTION_SETUP_MS = 2 * SLOW_LINK.latency;

/** One kind of page load, over its runs. */
export interface ConsoleLoad {
  /** From `page.goto` to the page being usable (its marker present, nothing `aria-busy`). */
  readonly usable: Latency;
  /** Bytes on the wire (headers and compressed bodies) of every response until usable, median run. */
  readonly bytes: number;
  /** Responses until usable, median run. */
  readonly responses: number;
  /** Of the median run: each response's path and bytes on the wire. */
  readonly files: ReadonlyArray<{ readonly path: string; readonly bytes: number }>;
}

export interface ConsoleResult {
  readonly link: typeof SLOW_LINK;
  readonly runs: number;
  /** Incoming trace requests in the officer's inbox. */
  readonly inboxCases: number;
  /** Signed in (cookie set), empty cache: the inbox. */
  readonly inboxCold: ConsoleLoad;
  /** Signed out, empty cache: the sign-in page. */
  readonly signInCold: ConsoleLoad;
  readonly targets: readonly Target[];
}

/** The inbox is usable: its screen's heading is there and nothing on the page is still loading. */
const INBOX_USABLE = 'main h1#screen-title';
/** The sign-in is usable: its officer id field is there and nothing is loading. */
const SIGN_IN_USABLE = 'input[name="officerId"]';

/** `marker` is on the page and nothing is `aria-busy` (a function, not a string: the console's CSP forbids eval). */
const usableNow = (marker: string) => {
  // Runs in the page; the bench is compiled without the DOM's types.
  const page = (globalThis as unknown as { document: { querySelector(selector: string): unknown } }).document;
  return page.querySelector(marker) !== null && page.querySelector('[aria-busy=true]') === null;
};

interface Sample {
  readonly ms: number;
  readonly bytes: number;
  readonly files: ReadonlyArray<{ readonly path: string; readonly bytes: number }>;
}

/** Opens the console in a new page of `context` over the slow link and waits until `usable` holds. */
async function load(context: BrowserContext, url: string, usable: string): Promise<Sample> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.clearBrowserCache');
  await cdp.send('Network.emulateNetworkConditions', SLOW_LINK);
  const seen = new Map<string, { path: string; bytes: number; cached: boolean }>();
  cdp.on('Network.responseReceived', (e) =>
    seen.set(e.requestId, {
      path: new URL(e.response.url).pathname,
      cached: Boolean(e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker),
      bytes: e.response.encodedDataLength,
    }),
  );
  cdp.on('Network.dataReceived', (e) => {
    const file = seen.get(e.requestId);
    if (file) file.bytes += e.encodedDataLength;
  });
  // The total of a finished response, headers included (what devtools calls its transfer size).
  cdp.on('Network.loadingFinished', (e) => {
    const file = seen.get(e.requestId);
    if (file) file.bytes = e.encodedDataLength;
  });
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(usableNow, usable, { timeout: 60_000, polling: 'raf' });
  const ms = performance.now() - t0;
  const files = [...seen.values()].map((f) => ({ path: f.path, bytes: f.cached ? 0 : f.bytes }));
  await page.close();
  return { ms, bytes: files.reduce((sum, f) => sum + f.bytes, 0), files };
}

function summary(samples: readonly Sample[]): ConsoleLoad {
  const median = [...samples].sort((a, b) => a.bytes - b.bytes)[Math.floor((samples.length - 1) / 2)];
  return {
    usable: latency(samples.map((s) => s.ms)),
    bytes: median?.bytes ?? Number.NaN,
    responses: median?.files.length ?? 0,
    files: median?.files ?? [],
  };
}

/** Signs `officerId` in within `context` through the console's own routes (no page, so the cache stays empty). */
async function signIn(context: BrowserContext, url: string, officerId: string, password: string): Promise<void> {
  const session = (await (await context.request.get(`${url}/api/session`)).json()) as { csrfToken: string };
  const response = await context.request.post(`${url}/api/session`, {
    data: { officerId, password, totpCode: '' },
    headers: { 'x-csrf-token': session.csrfToken },
  });
  if (!response.ok()) throw new Error(`sign-in refused: ${response.status()} ${await response.text()}`);
}

async function seedInbox(bel: LocalNode, fra: LocalNode, cases: number): Promise<void> {
  for (let i = 0; i < cases; i += 1) {
    const request = TraceRequest.fromPartial({
      requestingAuthority: 'Police fédérale, Direction centrale de la lutte contre la criminalité grave et organisée',
      caseReference: `DJSOC-BENCH-${i}`,
      priority: i % 5 === 0 ? Priority.PRIORITY_URGENT : Priority.PRIORITY_ROUTINE,
      urgencyJustification: i % 5 === 0 ? 'armed robbery series; suspects at large' : '',
      illicitCriteria: [{ kind: IllicitKind.ILLICIT_KIND_NATIONAL_LAW, legalBasis: 'Loi sur les armes, art. 23' }],
      circumstances: {
        kind: FindingKind.FINDING_KIND_SEIZED,
        date: '2026-10-02',
        place: 'Anvers',
        agency: 'Police fédérale',
        description: 'seized during a search',
        circumstance: 0,
      },
      weapon: {
        markings: {
          manufacturer: 'MAS',
          countryOfManufacture: 'FRA',
          serialNumber: `G-${String(100_000 + i)}`,
          model: 'MAS 1950',
          type: WeaponType.WEAPON_TYPE_PISTOL,
          calibre: '9 mm',
          year: 1958,
        },
        manufactureMethod: 1,
      },
      intendedUse: 'criminal investigation and prosecution',
    });
    await bel.cases.call('createCase', { recipient: 'FRA', request, send: true });
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { cases: received } = await fra.cases.call('listCases', {
      role: CaseRole.CASE_ROLE_REQUESTED,
      state: 0,
      peer: '',
      overdueOnly: false,
      limit: 500,
      cursor: '',
    });
    if (received.length >= cases) return;
    if (Date.now() > deadline) throw new Error(`FRA received ${received.length} of ${cases} requests`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The officers' console over a slow link (section 7): a real node process serving its console
 * (HTTPS, the built files of `npm run build`), Debian's Chromium driven by playwright-core with
 * Chromium's network emulation ({@link SLOW_LINK}). Each run is a new browser profile: the time
 * from `page.goto` to the inbox being usable for an officer whose session cookie is already set,
 * and an empty cache (a first visit), and to the sign-in page being usable, signed out; bytes are Chromium's `encodedDataLength` (headers and
 * compressed bodies) of every response until usable.
 */
export async function benchConsole(sizes: Sizes, log: (line: string) => void): Promise<ConsoleResult> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-bench-console-'));
  const password = 'bench-password-1';
  let browser: Browser | undefined;
  const federation = await startLocalFederation({
    participants: ['FRA', 'BEL'],
    baseDir: dir,
    console: true,
    officers: { FRA: [{ officerId: 'amina', password, roles: ['officer'] }] },
    policies: [{ of: 'FRA', policy: { participantId: 'BEL', acceptRequests: true } }],
  }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  try {
    const fra = federation.node('FRA');
    await seedInbox(federation.node('BEL'), fra, sizes.console.inboxCases);
    browser = await chromium.launch(chromiumLaunchOptions());
    const url = fra.consoleUrl;
    const cold: Sample[] = [];
    const signInCold: Sample[] = [];
    const fresh = () =>
      (browser as Browser).newContext({
        ignoreHTTPSErrors: true,
        locale: 'en',
        viewport: { width: 1280, height: 860 },
      });
    for (let i = 0; i < sizes.console.runs; i += 1) {
      // A new profile for each: an empty cache and no open connection.
      const signedOut = await fresh();
      signInCold.push(await load(signedOut, url, SIGN_IN_USABLE));
      await signedOut.close();
      const context = await fresh();
      await signIn(context, url, 'amina', password);
      cold.push(await load(context, url, INBOX_USABLE));
      await context.close();
    }
    const result = {
      inboxCold: summary(cold),
      signInCold: summary(signInCold),
    };
    const kB = (b: number) => `${round(b / 1000, 1)} kB`;
    log(
      `  inbox, empty cache: usable p50 ${Math.round(result.inboxCold.usable.p50Ms)} ms, max ${Math.round(result.inboxCold.usable.maxMs)} ms, ${kB(result.inboxCold.bytes)} in ${result.inboxCold.responses} responses`,
    );
    log(
      `  sign-in, empty cache: usable p50 ${Math.round(result.signInCold.usable.p50Ms)} ms, ${kB(result.signInCold.bytes)} in ${result.signInCold.responses} responses`,
    );
    return {
      link: SLOW_LINK,
      runs: sizes.console.runs,
      inboxCases: sizes.console.inboxCases,
      ...result,
      targets: [
        target(
          'inbox usable over 1 Mbit/s, 300 ms round trips, empty cache: slowest run + 600 ms of connection set-up',
          Math.round(result.inboxCold.usable.maxMs) + CONNECTION_SETUP_MS,
          '<=',
          3000,
          ' ms',
        ),
        target(
          'initial download until the inbox is usable, compressed (kB)',
          round(result.inboxCold.bytes / 1000, 1),
          '<=',
          250,
          ' kB',
        ),
      ],
    };
  } finally {
    await browser?.close();
    await federation.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
