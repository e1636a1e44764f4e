import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PeerCard, PeerCardBody } from '@tracenet/proto';
import { initSodium } from '../../src/crypto/sodium.js';
import { dataPaths, loadIdentity } from '../../src/identity/data-dir.js';
import { keyIdOf } from '../../src/crypto/key-pairs.js';
import { signPeerCard } from '../../src/identity/peer-card.js';
import { certificateFingerprint } from '../../src/identity/tls.js';
import { openStore } from '../../src/store/store.js';
import { unsafeCharacter } from '../../src/util/unsafe-text.js';
import {
  type CliResult,
  expectOneLineFailure,
  isAlive,
  ProcessBed,
  readAudit,
  requireBuiltCli,
  until,
} from './processes.js';

/** Prints what an officer would see, so that the test run shows it (docs: look at the output). */
function show(title: string, result: CliResult): void {
  process.stdout.write(`\n--- ${title} ---\n${result.stdout}${result.stderr}`);
}

interface CardFile {
  readonly participantId: string;
  readonly keyId: string;
  readonly tlsFingerprint: string;
  readonly card: string;
}

describe('tracenet peers: card files an operator can trust (docs/protocol.md 2.4, 2.6)', () => {
  const bed = new ProcessBed();

  beforeAll(async () => {
    requireBuiltCli();
    await initSodium();
  });
  afterEach(async () => {
    await bed.cleanup();
  });
  afterAll(() => {
    for (const pid of bed.pids) expect(isAlive(pid), `process ${pid} outlived the suite`).toBe(false);
  });

  it("refuses a forged card file that shows TCD's real key id over other keys; peers show prints what the signed card says", async () => {
    const [fraDir, tcdDir, forgerDir] = await Promise.all([
      bed.init('FRA'),
      bed.init('TCD', ['--name', 'Tchad']),
      bed.init('TCD', ['--name', 'Tchad']),
    ]);
    const root = dirname(fraDir);
    const real = JSON.parse((await bed.cliOk(['peers', 'export', '--data', tcdDir])).stdout) as CardFile;
    const forgery = JSON.parse((await bed.cliOk(['peers', 'export', '--data', forgerDir])).stdout) as CardFile;
    expect(forgery.keyId).not.toBe(real.keyId);
    // What the operator reads and confirms by telephone is TCD's; what would be pinned is the forger's.
    const forged = join(root, 'TCD.card.json');
    await writeFile(
      forged,
      JSON.stringify({ ...forgery, keyId: real.keyId, tlsFingerprint: real.tlsFingerprint }, null, 2),
    );

    const refused = await bed.cli(['peers', 'add', forged, '--data', fraDir]);
    show('peers add <forged card file>', refused);
    expectOneLineFailure(
      refused,
      'INVALID_PEER_CARD',
      new RegExp(`keyId "${real.keyId}", but its signed card says "${forgery.keyId}".*\\(keyId\\)$`),
    );
    expectOneLineFailure(await bed.cli(['peers', 'show', forged]), 'INVALID_PEER_CARD', /\(keyId\)$/);
    expect(JSON.parse((await bed.cliOk(['peers', 'list', '--data', fraDir, '--json'])).stdout)).toEqual([]);

    // The real file: peers show prints the fingerprints computed from the signed card.
    const realFile = join(root, 'TCD.real.card.json');
    await writeFile(realFile, JSON.stringify(real, null, 2));
    const shown = await bed.cliOk(['peers', 'show', realFile]);
    show('peers show <card file>', shown);
    const body = PeerCardBody.decode(PeerCard.decode(Buffer.from(real.card, 'base64')).body);
    const keyId = keyIdOf(body.signingPublicKey, body.encryptionPublicKey);
    const tls = certificateFingerprint(body.tlsCertificate).toString('hex');
    const grouped = (hex: string) => hex.match(/.{4}/g)?.join(' ') ?? '';
    expect(shown.stdout).toContain(`key id           ${grouped(keyId)}\n`);
    expect(shown.stdout).toContain(`TLS fingerprint  ${grouped(tls)}\n`);
    expect(shown.stdout).toContain(`signing key      ${grouped(body.signingPublicKey.toString('hex'))}  (Ed25519)\n`);
    expect(shown.stdout).toContain(`encryption key   ${grouped(body.encryptionPublicKey.toString('hex'))}  (X25519)\n`);
    expect(shown.stdout).toMatch(/^Card file .*: a card of TCD \(state\); its signature verifies/);
    const json = JSON.parse((await bed.cliOk(['peers', 'show', realFile, '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      participantId: 'TCD',
      displayName: 'Tchad',
      keyId,
      tlsFingerprint: tls,
      signingPublicKey: body.signingPublicKey.toString('hex'),
      encryptionPublicKey: body.encryptionPublicKey.toString('hex'),
    });

    // Offline, a wrong pin is undone as well.
    await bed.cliOk(['peers', 'add', realFile, '--data', fraDir]);
    const removed = await bed.cliOk(['peers', 'remove', 'TCD', '--data', fraDir, '--json']);
    expect(JSON.parse(removed.stdout)).toMatchObject({
      peer: { participantId: 'TCD', keyId: real.keyId },
      queuedMessages: 0,
    });
    expect(JSON.parse((await bed.cliOk(['peers', 'list', '--data', fraDir, '--json'])).stdout)).toEqual([]);
  });

  it('peers remove undoes a wrong pin on a running node: audited; queued messages wait and go to the card pinned next', async () => {
    const [fraDir, tcdDir, forgerDir] = await Promise.all([
      bed.init('FRA'),
      bed.init('TCD'),
      bed.init('TCD', ['--endpoint', '127.0.0.1:9']),
    ]);
    const root = dirname(fraDir);
    const [fra, tcd] = await Promise.all([bed.start(fraDir), bed.start(tcdDir)]);
    const wrongCard = join(root, 'wrong.card.json');
    const rightCard = join(root, 'right.card.json');
    const fraCard = join(root, 'fra.card.json');
    await bed.cliOk(['peers', 'export', '--data', forgerDir, '--out', wrongCard]);
    await bed.cliOk(['peers', 'export', '--data', tcdDir, '--out', rightCard]);
    await bed.cliOk(['peers', 'export', '--data', fraDir, '--out', fraCard]);
    const wrong = JSON.parse(await readFile(wrongCard, 'utf8')) as CardFile;

    // The operator pinned the wrong card, and a notice was queued to it.
    await bed.cliOk(['peers', 'add', wrongCard, '--data', fraDir]);
    const queued = JSON.parse(
      (
        await bed.cliOk([
          'notice',
          'send',
          '--data',
          fraDir,
          '--to',
          'TCD',
          '--subject',
          'trace 17',
          '--text',
          'please confirm',
          '--json',
        ])
      ).stdout,
    ) as { messageId: string };

    const removed = await bed.cliOk(['peers', 'remove', 'TCD', '--data', fraDir]);
    show('peers remove TCD', removed);
    expect(removed.stdout).toBe(
      `Removed TCD (key ${wrong.keyId}, TLS ${wrong.tlsFingerprint}): its envelopes are refused and nothing is sent to it until a card of it is pinned again.\n` +
        '1 message(s) queued to TCD wait for the next card of TCD you pin (they are sealed to its keys then), or fail as EXPIRED at the end of their lifetime.\n',
    );
    expect(JSON.parse((await bed.cliOk(['peers', 'list', '--data', fraDir, '--json'])).stdout)).toEqual([]);
    expectOneLineFailure(
      await bed.cli(['peers', 'remove', 'TCD', '--data', fraDir]),
      'NOT_FOUND',
      /TCD is not a pinned peer \(participant_id\)$/,
    );
    const outbox = JSON.parse(
      (await bed.cliOk(['messages', '--data', fraDir, '--direction', 'outbox', '--json'])).stdout,
    ) as Array<{ messageId: string }>;
    expect(outbox.map((m) => m.messageId)).toEqual([queued.messageId]);

    // The right card is pinned on both sides: the queued notice reaches the real TCD, sealed to its keys.
    await bed.cliOk(['peers', 'add', rightCard, '--data', fraDir]);
    await bed.cliOk(['peers', 'add', fraCard, '--data', tcdDir]);
    await until(
      async () => {
        const inbox = JSON.parse((await bed.cliOk(['messages', '--data', tcdDir, '--json'])).stdout) as Array<{
          messageId: string;
        }>;
        return inbox.some((m) => m.messageId === queued.messageId);
      },
      'the queued notice delivered to the real TCD',
      30_000,
      500,
    );

    await Promise.all([fra.stop(), tcd.stop()]);
    const audit = await readAudit(fraDir);
    expect(audit.find((e) => e.type === 'peer.removed')).toMatchObject({
      peer: 'TCD',
      keyId: wrong.keyId,
      tlsFingerprint: wrong.tlsFingerprint,
      queued: 1,
    });
  });

  it('a peer cannot forge lines of peers list, not even with a display name stored before control characters were refused', async () => {
    const [fraDir, belDir] = await Promise.all([bed.init('FRA'), bed.init('BEL')]);
    // A card signed by BEL's own key, as an older node would have pinned it: the display name forges a second peer.
    const bel = await loadIdentity(belDir);
    const exported = JSON.parse((await bed.cliOk(['peers', 'export', '--data', belDir])).stdout) as CardFile;
    const body = PeerCardBody.decode(PeerCard.decode(Buffer.from(exported.card, 'base64')).body);
    const displayName =
      'Belgium\nKEN          state        key 0000000000000000  127.0.0.1:7443  valid until 2099-01-01  Kenya\u001b[2K\r\u202eevil';
    const card = signPeerCard({ ...body, displayName }, bel.keys.signingSecretKey);
    const store = await openStore(dataPaths(fraDir).store);
    try {
      await store.batch([
        store.peers.pins.put('BEL', {
          card: Buffer.from(PeerCard.encode(card).finish()).toString('base64'),
          pinnedAt: Date.now(),
        }),
      ]);
    } finally {
      await store.close();
    }

    const offline = await bed.cliOk(['peers', 'list', '--data', fraDir]);
    const fra = await bed.start(fraDir);
    const online = await bed.cliOk(['peers', 'list', '--data', fraDir]);
    show('peers list with a forged display name', online);
    for (const listed of [offline, online]) {
      expect(listed.stdout.split('\n')).toHaveLength(2); // one line and the final newline
      expect(unsafeCharacter(listed.stdout.replace(/\n/g, ''))).toBeUndefined();
      expect(listed.stdout).toContain('Belgium\\nKEN          state');
      expect(listed.stdout).toContain('Kenya\\x1b[2K\\r\\u{202e}evil');
    }
    const json = await bed.cliOk(['peers', 'list', '--data', fraDir, '--json']);
    expect(unsafeCharacter(json.stdout.replace(/\n/g, ''))).toBeUndefined();
    expect((JSON.parse(json.stdout) as Array<{ displayName: string }>)[0]?.displayName).toBe(displayName);
    // Such a card is refused when it is pinned today.
    const file = join(dirname(fraDir), 'bel.card.json');
    await writeFile(
      file,
      JSON.stringify({
        ...exported,
        displayName,
        card: Buffer.from(PeerCard.encode(card).finish()).toString('base64'),
      }),
    );
    expectOneLineFailure(
      await bed.cli(['peers', 'add', file, '--data', fraDir]),
      'INVALID_PEER_CARD',
      /display name contains U\+000A at character 8.*\(card\.display_name\)$/,
    );
    await fra.stop();
  });
});
