import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageDirection } from '@tracenet/proto';
import { reportedCode } from '../../src/cli/context.js';
import { dataPaths } from '../../src/identity/data-dir.js';
import { isAlive, type NodeProcess, ProcessBed, readAudit, requireBuiltCli, until } from './processes.js';

const {
  MESSAGE_DIRECTION_INBOX: INBOX,
  MESSAGE_DIRECTION_OUTBOX: OUTBOX,
  MESSAGE_DIRECTION_SENT: SENT,
} = MessageDirection;

async function exportCard(bed: ProcessBed, node: NodeProcess): Promise<string> {
  const file = join(dirname(node.dataDir), `${node.runtime.participantId}.card.json`);
  await bed.cliOk(['peers', 'export', '--data', node.dataDir, '--out', file]);
  return file;
}

describe('a sender whose card is not pinned', () => {
  const bed = new ProcessBed();

  beforeAll(() => requireBuiltCli());
  afterEach(async () => {
    await bed.cleanup();
  });
  afterAll(() => {
    for (const pid of bed.pids) expect(isAlive(pid), `process ${pid} outlived the suite`).toBe(false);
  });

  it('is refused at the TLS handshake and counted; KEN keeps retrying and delivers once BEL pins its card', async () => {
    const [belDir, kenDir] = await Promise.all([bed.init('BEL'), bed.init('KEN')]);
    // A short backoff cap and attempt deadline (through the environment) keep KEN's retries quick to observe.
    const [bel, ken] = await Promise.all([
      bed.start(belDir),
      bed.start(kenDir, {
        env: { TRACENET_OUTBOX_MAX_BACKOFF_MS: '1000', TRACENET_OUTBOX_ATTEMPT_TIMEOUT_MS: '1000' },
      }),
    ]);
    // KEN pins BEL, so it can send; nobody pins KEN.
    await bed.cliOk(['peers', 'add', await exportCard(bed, bel), '--data', ken.dataDir]);

    const sent = await bed.cliOk([
      'notice',
      'send',
      '--data',
      ken.dataDir,
      '--to',
      'BEL',
      '--subject',
      'weapon found',
      '--text',
      'serial 12345',
      '--json',
    ]);
    const { messageId } = JSON.parse(sent.stdout) as { messageId: string };
    expect(messageId).toMatch(/^[A-Za-z0-9_-]{16,64}$/);

    // BEL admits no connection with KEN's certificate (docs/protocol.md 2.5): KEN's outbox keeps the
    // message and retries, as for any peer it cannot reach.
    await until(
      async () => {
        const [queued] = await ken.listAll(OUTBOX);
        return queued !== undefined && queued.attempts >= 3;
      },
      'three refused attempts',
      20_000,
      50,
    );
    const [queued] = await ken.listAll(OUTBOX);
    expect(queued).toMatchObject({ messageId, peer: 'BEL' });
    expect(['UNAVAILABLE', 'DEADLINE_EXCEEDED']).toContain(queued?.lastError);
    expect(await ken.stats()).toMatchObject({ outbox: 1, sent: 0, failed: 0 });
    expect(await bel.stats()).toMatchObject({ inbox: 0 });
    expect(await bel.listAll(INBOX)).toEqual([]);

    // BEL pins KEN's card through the running node; the next retry is accepted.
    await bed.cliOk(['peers', 'add', await exportCard(bed, ken), '--data', bel.dataDir]);
    const pinnedAt = Date.now();
    await until(async () => (await ken.stats()).sent === 1, 'KEN: delivered after pinning', 20_000, 50);
    const deliveredMs = Date.now() - pinnedAt;
    expect(await ken.stats()).toMatchObject({ outbox: 0, sent: 1, failed: 0 });
    const [delivered] = await ken.listAll(SENT);
    expect(delivered).toMatchObject({ messageId, peer: 'BEL' });
    expect(delivered?.attempts).toBeGreaterThanOrEqual(4);
    const inbox = await bed.cliOk(['messages', '--data', bel.dataDir, '--direction', 'inbox', '--json']);
    expect(
      (JSON.parse(inbox.stdout) as Array<{ messageId: string; peer: string }>).map((m) => [m.messageId, m.peer]),
    ).toEqual([[messageId, 'KEN']]);
    // The next probe comes within the backoff cap (1 s here), plus scheduling slack.
    expect(deliveredMs).toBeLessThan(4_000);

    for (const node of [ken, bel]) {
      expect(await node.stop(), node.tail()).toEqual({ code: 0, signal: null });
      expect(existsSync(dataPaths(node.dataDir).runtime)).toBe(false);
    }

    // BEL counted the refused handshakes of KEN's address (4.13) and wrote them at its stop, then one acceptance.
    const audit = await readAudit(belDir);
    expect(audit.filter((e) => e.type === 'message.rejected')).toEqual([]);
    const counted = audit.filter((e) => e.type === 'refusals.counted');
    expect(counted.length).toBeGreaterThanOrEqual(1);
    for (const entry of counted)
      expect(entry).toMatchObject({ source: '127.0.0.1', total: entry['refused.tls.unpinned_certificate'] });
    expect(counted.reduce((n, e) => n + Number(e['refused.tls.unpinned_certificate']), 0)).toBeGreaterThanOrEqual(3);
    const pinned = audit.find((e) => e.type === 'peer.pinned' && e.peer === 'KEN');
    const received = audit.filter((e) => e.type === 'message.received' && e.messageId === messageId);
    expect(received).toHaveLength(1);
    expect(received[0]?.seq).toBeGreaterThan(pinned?.seq ?? Infinity);

    const kenAudit = await readAudit(kenDir);
    expect(kenAudit.filter((e) => e.type === 'message.delivered').map((e) => e.messageId)).toEqual([messageId]);
    expect(kenAudit.filter((e) => e.type === 'message.failed')).toEqual([]);
  }, 60_000);

  it('UNKNOWN_SENDER, which a sender still meets after the handshake (an expired pinned card, a roster), is printed with what to check', () => {
    // BEL says no more (docs/protocol.md 4.4); `tracenet messages` and `lookups search` tell the operator what to compare.
    expect(reportedCode('UNKNOWN_SENDER')).toBe(
      'UNKNOWN_SENDER (the recipient did not authenticate the envelope: check that it pinned our current card and that the card we pinned for it is its current one)',
    );
    expect(reportedCode('UNAVAILABLE')).toBe('UNAVAILABLE');
  });
});
