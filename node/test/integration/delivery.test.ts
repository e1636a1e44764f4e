import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageDirection, PeerCardBody, Receipt, ReceiptStatus } from '@tracenet/proto';
import { initSodium } from '../../src/crypto/sodium.js';
import { verifyReceipt } from '../../src/envelope/receipt.js';
import { dataPaths } from '../../src/identity/data-dir.js';
import { parsePeerCardFile } from '../../src/identity/peer-card.js';
import {
  type AuditLine,
  isAlive,
  type NodeProcess,
  ProcessBed,
  readAudit,
  readSublevel,
  requireBuiltCli,
  sendNotices,
  tamperAuditEntry,
  until,
} from './processes.js';

const COUNT = 1000;
const { MESSAGE_DIRECTION_INBOX: INBOX, MESSAGE_DIRECTION_SENT: SENT } = MessageDirection;

/** Exports each node's card with the CLI and pins it on the other through the running node. */
async function pinEachOther(bed: ProcessBed, a: NodeProcess, b: NodeProcess): Promise<void> {
  const pin = async (from: NodeProcess, to: NodeProcess) => {
    const file = join(dirname(from.dataDir), `${from.runtime.participantId}.card.json`);
    await bed.cliOk(['peers', 'export', '--data', from.dataDir, '--out', file]);
    const added = await bed.cliOk(['peers', 'add', file, '--data', to.dataDir]);
    // The card carries the address the node actually bound, not the one given at init.
    expect(added.stdout).toContain(`Pinned ${from.runtime.participantId}`);
    expect(added.stdout).toContain(from.runtime.federation);
  };
  await Promise.all([pin(a, b), pin(b, a)]);
}

async function startPair(bed: ProcessBed): Promise<{ fra: NodeProcess; bel: NodeProcess }> {
  const [fraDir, belDir] = await Promise.all([bed.init('FRA'), bed.init('BEL')]);
  const [fra, bel] = await Promise.all([bed.start(fraDir), bed.start(belDir)]);
  await pinEachOther(bed, fra, bel);
  return { fra, bel };
}

/** SIGTERM: exit code 0 and no node.json left behind; every stdout line was a pino JSON log. */
async function stopGracefully(node: NodeProcess): Promise<void> {
  const exit = await node.stop();
  expect(exit, node.tail()).toEqual({ code: 0, signal: null });
  expect(existsSync(dataPaths(node.dataDir).runtime)).toBe(false);
  const notJson = node.logLines.filter((line) => {
    try {
      return typeof JSON.parse(line) !== 'object';
    } catch {
      return true;
    }
  });
  expect(notJson).toEqual([]);
}

/**
 * Offline, on stopped nodes: every receipt FRA stored verifies under BEL's signing key, says
 * ACCEPTED, and names the digest of exactly the envelope BEL stored in its inbox.
 */
async function expectReceiptsOfBel(fraDir: string, belDir: string): Promise<void> {
  const belCard = PeerCardBody.decode(parsePeerCardFile(await readFile(dataPaths(belDir).card, 'utf8')).body);
  const belKey = belCard.signingPublicKey;
  const digestAtBel = new Map(
    (await readSublevel(belDir, 'inbox')).map((m) => [String(m.messageId), String(m.digest)]),
  );
  const sent = await readSublevel(fraDir, 'sent');
  expect(sent).toHaveLength(COUNT);
  for (const record of sent) {
    const messageId = String(record.messageId);
    const receipt = Receipt.decode(Buffer.from(String(record.receipt), 'base64'));
    const body = verifyReceipt(receipt, {
      issuer: 'BEL',
      issuerKeyId: belCard.keyId,
      issuerSigningPublicKey: belKey,
      sender: 'FRA',
      messageId,
    });
    expect(body.status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    expect(Buffer.from(body.envelopeDigest).toString('hex')).toBe(digestAtBel.get(messageId));
  }
}

function ofType(lines: readonly AuditLine[], type: string): AuditLine[] {
  return lines.filter((line) => line.type === type);
}

function sorted(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

describe('FRA and BEL as separate processes', () => {
  const bed = new ProcessBed();
  const figures: string[] = [];

  beforeAll(async () => {
    requireBuiltCli();
    await initSodium();
  });
  afterEach(async () => {
    await bed.cleanup();
  });
  afterAll(() => {
    for (const pid of bed.pids) expect(isAlive(pid), `process ${pid} outlived the suite`).toBe(false);
    if (figures.length > 0) console.info(`[tracenet figures]\n${figures.join('\n')}`);
  });

  it('delivers 1,000 notices with receipts signed by BEL; the audit logs verify and a changed byte is found', async () => {
    const { fra, bel } = await startPair(bed);

    const started = performance.now();
    const ids = await sendNotices(fra.client, 'BEL', COUNT, 32);
    const queuedMs = performance.now() - started;
    await until(async () => (await fra.stats()).sent === COUNT, `FRA: ${COUNT} sent`, 30_000, 50);
    const deliveredMs = performance.now() - started;
    figures.push(
      `1,000 notices FRA -> BEL: queued in ${Math.round(queuedMs)} ms, all receipted in ${Math.round(deliveredMs)} ms`,
    );

    expect(await fra.stats()).toMatchObject({ sent: COUNT, outbox: 0, failed: 0 });
    expect(await bel.stats()).toMatchObject({ inbox: COUNT, outbox: 0 });
    const inbox = await bel.listAll(INBOX);
    expect(inbox).toHaveLength(COUNT);
    expect(new Set(inbox.map((m) => m.peer))).toEqual(new Set(['FRA']));
    expect(sorted(new Set(inbox.map((m) => m.messageId)))).toEqual(sorted(ids));
    expect(sorted((await fra.listAll(SENT)).map((m) => m.messageId))).toEqual(sorted(ids));

    await Promise.all([stopGracefully(fra), stopGracefully(bel)]);

    await expectReceiptsOfBel(fra.dataDir, bel.dataDir);

    // Offline verification of both hash chains.
    for (const verdict of await Promise.all(
      [fra, bel].map((node) => bed.cli(['audit', 'verify', '--data', node.dataDir])),
    )) {
      expect(verdict.code, verdict.stderr).toBe(0);
      expect(verdict.stdout).toMatch(/^Audit log intact: \d+ entries/);
    }
    const belAudit = await readAudit(bel.dataDir);
    const received = ofType(belAudit, 'message.received');
    expect(received).toHaveLength(COUNT);

    // One character of one entry in the middle of BEL's log is changed; its stored hash is kept.
    const target = received[COUNT / 2]?.seq ?? 0;
    const { before, after } = await tamperAuditEntry(bel.dataDir, target, (line) =>
      line.replace('"type":"message.received"', '"type":"message.receivee"'),
    );
    expect(after).toHaveLength(before.length);
    expect([...after].filter((c, i) => c !== before[i])).toHaveLength(1);

    // The verdict is a finding, not an error: exit code 7 (audit broken, docs/operations.md 5.2)
    // with nothing on stderr. (Offline commands
    // lock the store, so they run one after the other on the same data directory.)
    const broken = await bed.cli(['audit', 'verify', '--data', bel.dataDir]);
    expect(broken).toMatchObject({ code: 7, stderr: '' });
    expect(broken.stdout).toContain(`Audit log BROKEN at entry ${target}:`);
    const brokenJson = await bed.cli(['audit', 'verify', '--data', bel.dataDir, '--json']);
    expect(brokenJson).toMatchObject({ code: 7, stderr: '' });
    const verdict = JSON.parse(brokenJson.stdout) as { reason: string };
    expect(verdict).toMatchObject({ ok: false, firstBrokenSeq: target, entries: target - 1 });
    expect(verdict.reason).toContain('hash mismatch');
    expect((await bed.cli(['audit', 'verify', '--data', fra.dataDir])).code).toBe(0);
  }, 90_000);

  it('delivers every notice exactly once when BEL is killed with SIGKILL mid-stream and restarted on the same port', async () => {
    const { fra, bel } = await startPair(bed);
    const port = bel.federationPort;

    // Kill BEL once about 300 notices are in its inbox, while FRA is still being fed.
    let inboxAtKill = 0;
    const crash = (async () => {
      await until(
        async () => {
          inboxAtKill = (await bel.stats()).inbox;
          return inboxAtKill >= 300;
        },
        'BEL inbox >= 300',
        30_000,
        5,
      );
      return bel.kill();
    })();
    const ids = await sendNotices(fra.client, 'BEL', COUNT, 8);
    expect(await crash).toEqual({ code: null, signal: 'SIGKILL' });
    expect(new Set(ids).size).toBe(COUNT);

    const atCrash = await fra.stats();
    expect(atCrash.outbox, 'BEL was killed before FRA had delivered everything').toBeGreaterThan(0);
    expect(atCrash.sent).toBeLessThan(COUNT);
    // A crashed node leaves its node.json behind; the restart must not be fooled by it.
    expect(existsSync(dataPaths(bel.dataDir).runtime)).toBe(true);

    const restarting = performance.now();
    const bel2 = await bed.start(bel.dataDir, { federationListen: `127.0.0.1:${port}` });
    const ready = performance.now();
    expect(bel2.runtime.federation).toBe(`127.0.0.1:${port}`);
    await until(
      async () => {
        const stats = await fra.stats();
        return stats.outbox === 0 && stats.sent === COUNT;
      },
      'FRA outbox drained after the restart',
      30_000,
      50,
    );
    const drained = performance.now();
    figures.push(
      `SIGKILL of BEL at inbox ${inboxAtKill}, FRA then had ${atCrash.outbox} queued / ${atCrash.sent} sent; ` +
        `restart ready in ${Math.round(ready - restarting)} ms; queue drained ${Math.round(drained - ready)} ms after ready ` +
        `(${Math.round(drained - restarting)} ms after spawn)`,
    );

    expect(await fra.stats()).toMatchObject({ sent: COUNT, outbox: 0, failed: 0 });
    expect(await bel2.stats()).toMatchObject({ inbox: COUNT });
    const inbox = await bel2.listAll(INBOX);
    expect(inbox).toHaveLength(COUNT);
    expect(sorted(inbox.map((m) => m.messageId))).toEqual(sorted(ids));
    expect(sorted((await fra.listAll(SENT)).map((m) => m.messageId))).toEqual(sorted(ids));

    await Promise.all([stopGracefully(fra), stopGracefully(bel2)]);

    await expectReceiptsOfBel(fra.dataDir, bel.dataDir);
    const belAudit = await readAudit(bel.dataDir);
    const received = ofType(belAudit, 'message.received');
    expect(received).toHaveLength(COUNT);
    expect(sorted(received.map((e) => String(e.messageId)))).toEqual(sorted(ids));
    expect(ofType(belAudit, 'message.rejected')).toEqual([]);
    const duplicates = ofType(belAudit, 'message.duplicate');
    for (const d of duplicates) expect(ids).toContain(String(d.messageId));

    const fraAudit = await readAudit(fra.dataDir);
    const delivered = ofType(fraAudit, 'message.delivered');
    expect(sorted(delivered.map((e) => String(e.messageId)))).toEqual(sorted(ids));
    expect(ofType(fraAudit, 'message.failed')).toEqual([]);
    figures.push(
      `  BEL audited ${received.length} message.received and ${duplicates.length} message.duplicate; ` +
        `FRA got ${delivered.filter((e) => e.receipt === 'duplicate').length} DUPLICATE receipts (receipts lost in the crash)`,
    );

    // The crash did not break either hash chain.
    for (const verdict of await Promise.all(
      [fra, bel2].map((node) => bed.cli(['audit', 'verify', '--data', node.dataDir, '--json'])),
    )) {
      expect(verdict.code, verdict.stdout + verdict.stderr).toBe(0);
      expect(JSON.parse(verdict.stdout)).toMatchObject({ ok: true });
    }
  }, 90_000);
});
