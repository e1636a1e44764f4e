import { afterEach, describe, expect, it } from 'vitest';
import {
  Envelope,
  EnvelopeHeader,
  ErrorCode,
  MessageKind,
  Receipt,
  ReceiptBody,
  ReceiptStatus,
  TracenetError,
} from '@tracenet/proto';
import { domain, sodium } from '../src/crypto/sodium.js';
import { verifyReceipt } from '../src/envelope/receipt.js';
import { Outbox } from '../src/federation/outbox.js';
import type { TracenetNode } from '../src/node.js';
import { ManualClock } from '../src/util/clock.js';
import { ManualScheduler } from '../src/util/scheduler.js';
import { pinAll, startNode, testConfig, testLogger, waitFor, type TestNode } from './support/nodes.js';
import { countEntries, makeParty, notice, rejectionOf, sealFrom, type Party } from './support/parties.js';
import { RecordingTransport } from './support/recording-transport.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(id: string, options: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const started = await startNode(id, options);
  cleanups.push(() => started.cleanup());
  return started;
}

function enqueueNotice(
  from: TracenetNode,
  recipient: string,
  extra: { ttlMs?: number; subject?: string } = {},
): Promise<string> {
  return from.outbox.enqueue({
    recipient,
    kind: MessageKind.MESSAGE_KIND_NOTICE,
    body: notice(extra.subject ?? 'subject', 'a notice'),
    ...(extra.ttlMs !== undefined ? { ttlMs: extra.ttlMs } : {}),
  });
}

async function auditTypes(n: TracenetNode): Promise<string[]> {
  const types: string[] = [];
  for await (const [, value] of n.store.audit.entries.entries())
    types.push(String((JSON.parse(String(value.line)) as { type: string }).type));
  return types;
}

/** Checks that the `sent` record of `messageId` holds a valid ACCEPTED receipt signed by `recipient`. */
async function expectSentWithReceipt(sender: TracenetNode, recipient: TracenetNode, messageId: string): Promise<void> {
  const sent = await sender.store.outbox.sent.get(messageId);
  expect(sent, `sent record of ${messageId}`).toBeDefined();
  const receipt = Receipt.decode(Buffer.from(String(sent?.receipt), 'base64'));
  const body = verifyReceipt(receipt, {
    issuer: recipient.identity.participantId,
    issuerKeyId: recipient.identity.keyId,
    issuerSigningPublicKey: recipient.identity.keys.signingPublicKey,
    sender: sender.identity.participantId,
    messageId,
  });
  expect(body.status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
  expect(await sender.store.outbox.queue.get(messageId)).toBeUndefined();
}

/**
 * Message ids in a node's inbox, sorted: each accepted message once. Read from the store, since a
 * queued message may arrive while the restarted node is still starting, before a listener could.
 */
async function inboxIds(node: TracenetNode): Promise<string[]> {
  const ids: string[] = [];
  for await (const value of node.store.messages.inbox.values()) ids.push(String(value.messageId));
  return ids.sort();
}

/** Stops a node but keeps its data directory; returns what is needed to start it again in place. */
async function stopInPlace(n: TestNode): Promise<{ dataDir: string; address: string }> {
  const address = n.node.federationAddress;
  await n.node.stop();
  return { dataDir: n.dataDir, address };
}

/**
 * The outbox runs on logical time: FRA's scheduler moves only when a test says, so a retry happens
 * when the test fires its backoff timer, never after a wait. Work on real I/O (LevelDB, gRPC) is
 * waited for with a condition.
 */
function logicalTime(): ManualScheduler {
  return new ManualScheduler(Date.now());
}

/** The delay of the retry timer the outbox has set, if any (a test node's only one-shot timers are the outbox's backoff). */
function backoffWaiting(scheduler: ManualScheduler): number | undefined {
  return scheduler.timers().find((t) => t.every === undefined)?.inMs;
}

/** Waits until the outbox has set its retry timer after a failed attempt, fires it, and returns its delay. */
async function fireBackoff(scheduler: ManualScheduler): Promise<number> {
  await waitFor(() => backoffWaiting(scheduler) !== undefined, 5000, 'the retry timer of the outbox');
  const delay = Math.max(0, backoffWaiting(scheduler) ?? 0);
  await scheduler.advance(delay);
  return delay;
}

/** Time passes well beyond any backoff: a message still waiting would be tried again. */
async function longAfter(scheduler: ManualScheduler): Promise<void> {
  await scheduler.advance(10 * testConfig().outbox.maxBackoffMs);
}

/** FRA sending through a recording transport to BEL, pinned on each other; `accepted` lists the ids BEL accepts, in order. */
async function fraToBel(scheduler?: ManualScheduler) {
  const transport = new RecordingTransport();
  const fra = await node('FRA', { transport, ...(scheduler ? { clock: scheduler } : {}) });
  const bel = await node('BEL');
  await pinAll([fra.node, bel.node]);
  const accepted: string[] = [];
  bel.node.receiver.on('accepted', (m) => accepted.push(m.messageId));
  return { transport, fra, bel, accepted };
}

describe('outbox', () => {
  it('stores a message before its first attempt and keeps it until a valid receipt is stored', async () => {
    const scheduler = logicalTime();
    const { transport, fra, bel, accepted } = await fraToBel(scheduler);

    const storedAtAttempt: boolean[] = [];
    transport.beforeAttempt = async (messageId) => {
      storedAtAttempt.push((await fra.node.store.outbox.queue.get(messageId)) !== undefined);
    };
    // The first two answers come back with a broken signature: they prove nothing.
    let spoil = 2;
    transport.alterReceipt = (receipt) => {
      if (spoil <= 0) return receipt;
      spoil -= 1;
      const signature = Buffer.from(receipt.signature);
      signature[0] = (signature[0] ?? 0) ^ 1;
      return { ...receipt, signature };
    };
    const delivered: string[] = [];
    fra.node.outbox.on('delivered', (d) => delivered.push(d.messageId));

    const id = await enqueueNotice(fra.node, 'BEL');
    await fireBackoff(scheduler);
    await waitFor(() => backoffWaiting(scheduler) !== undefined, 5000, 'the second attempt');
    expect(spoil).toBe(0);
    // After two attempts with spoiled receipts the message is still queued and not recorded as sent.
    expect(await fra.node.store.outbox.sent.get(id)).toBeUndefined();
    await fireBackoff(scheduler);
    await waitFor(() => delivered.length === 1, 5000, 'delivery');
    expect(transport.attemptsOf(id)).toHaveLength(3);

    expect(storedAtAttempt.length).toBeGreaterThanOrEqual(3);
    expect(storedAtAttempt.every(Boolean)).toBe(true);
    await expectSentWithReceipt(fra.node, bel.node, id);
    expect(delivered).toEqual([id]);
    // The recipient processed it once; the retries were answered as duplicates.
    expect(accepted).toEqual([id]);
    expect(transport.attemptsOf(id).every((a) => a.outcome === 'receipt')).toBe(true);
    const types = await auditTypes(fra.node);
    expect(types.filter((t) => t === 'message.queued')).toHaveLength(1);
    expect(types.filter((t) => t === 'message.delivered')).toHaveLength(1);
  });

  it('refuses an unpinned recipient or an invalid body and stores nothing', async () => {
    const fra = await node('FRA');
    const before = await countEntries(fra.node.store.audit.entries);
    const unpinned = TracenetError.from(await rejectionOf(enqueueNotice(fra.node, 'BEL')));
    expect(unpinned.codeName).toBe('NOT_FOUND');
    const party = await makeParty('BEL', Date.now());
    cleanups.push(() => party.cleanup());
    await fra.node.peers.pin(party.card, Date.now());
    const afterPin = await countEntries(fra.node.store.audit.entries);
    expect(afterPin).toBe(before + 1);
    const invalid = TracenetError.from(
      await rejectionOf(
        fra.node.outbox.enqueue({
          recipient: 'BEL',
          kind: MessageKind.MESSAGE_KIND_NOTICE,
          body: notice('', 'no subject'),
        }),
      ),
    );
    expect(invalid.codeName).toBe('MISSING_FIELD');
    expect(invalid.field).toBe('body.subject');
    expect(await countEntries(fra.node.store.outbox.queue)).toBe(0);
    expect(await countEntries(fra.node.store.audit.entries)).toBe(afterPin);
  });

  it('refuses a message too large for an envelope when it is queued, not at the peer', async () => {
    // The peer cannot be reached (refused at once); the message that fits stays queued.
    const transport = new RecordingTransport();
    transport.beforeAttempt = async () => {
      throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'connection refused');
    };
    const fra = await node('FRA', {
      config: testConfig({ envelope: { maxBytes: 4096 } }),
      transport,
      clock: logicalTime(),
    });
    const party = await makeParty('BEL', Date.now());
    cleanups.push(() => party.cleanup());
    await fra.node.peers.pin(party.card, Date.now());
    const big = fra.node.outbox.enqueue({
      recipient: 'BEL',
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      body: notice('large', 'x'.repeat(3500)),
    });
    const refused = TracenetError.from(await rejectionOf(big));
    expect(refused.codeName).toBe('ENVELOPE_TOO_LARGE');
    expect(refused.field).toBe('body');
    expect(await countEntries(fra.node.store.outbox.queue)).toBe(0);
    // Just under the limit is queued.
    await fra.node.outbox.enqueue({
      recipient: 'BEL',
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      body: notice('fits', 'x'.repeat(2900)),
    });
    expect(await countEntries(fra.node.store.outbox.queue)).toBe(1);
  });

  it('keeps one attempt waiting while the peer is down and delivers as soon as it is back, without new traffic', async () => {
    const scheduler = logicalTime();
    const transport = new RecordingTransport();
    // Attempts wait for a connection until their deadline (a real one, kept by gRPC: 300 ms here,
    // 10 s by default), so that the one in flight gets through as soon as the peer is back.
    const fra = await node('FRA', {
      transport,
      clock: scheduler,
      config: testConfig({ outbox: { attemptTimeoutMs: 300 } }),
    });
    const bel = await node('BEL');
    await pinAll([fra.node, bel.node]);
    const { dataDir, address } = await stopInPlace(bel);

    const ids = [
      await enqueueNotice(fra.node, 'BEL', { subject: 'one' }),
      await enqueueNotice(fra.node, 'BEL', { subject: 'two' }),
    ];
    // Durable at once, while the peer cannot be reached.
    for (const id of ids) expect(await fra.node.store.outbox.queue.get(id)).toBeDefined();
    const failedAttempts = () => transport.attempts.filter((a) => a.outcome !== 'pending');
    await waitFor(() => failedAttempts().length === 2, 5000, 'both first attempts failed');
    // Then the outbox backs off: one attempt per backoff, for the head of the queue only.
    await fireBackoff(scheduler);
    await waitFor(() => failedAttempts().length === 3, 5000, 'the retry failed');
    expect(transport.attempts).toHaveLength(3);
    for (const a of failedAttempts()) expect(['UNAVAILABLE', 'DEADLINE_EXCEEDED']).toContain(a.outcome);
    const stored = await fra.node.store.outbox.queue.get(failedAttempts()[0]?.messageId ?? '');
    expect(Number(stored?.attempts)).toBeGreaterThanOrEqual(1);
    expect(['UNAVAILABLE', 'DEADLINE_EXCEEDED']).toContain(stored?.lastError);
    expect(await countEntries(fra.node.store.outbox.sent)).toBe(0);

    const back = await node('BEL', { dataDir, config: testConfig({ federation: { listen: address } }) });
    expect(back.node.federationAddress).toBe(address);
    // No new traffic: the retry timer alone brings the queue through, within a backoff or two
    // (gRPC reconnects to the address on its own schedule, in real time).
    const delivered = async () => (await countEntries(fra.node.store.outbox.sent)) === 2;
    await waitFor(
      async () => {
        if (await delivered()) return true;
        if (backoffWaiting(scheduler) !== undefined) await scheduler.advance(testConfig().outbox.maxBackoffMs);
        return delivered();
      },
      8000,
      'both messages delivered',
    );
    for (const id of ids) await expectSentWithReceipt(fra.node, back.node, id);
    expect(await inboxIds(back.node)).toEqual([...ids].sort());
  });

  it('backs off between failed attempts, the gaps doubling up to the cap, with jitter (50 ms initial, 500 ms cap here)', async () => {
    const scheduler = logicalTime();
    const transport = new RecordingTransport();
    // Every attempt fails at once, as a refused connection does, so the gaps are the backoff alone.
    transport.beforeAttempt = async () => {
      throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'connection refused');
    };
    const fra = await node('FRA', { transport, clock: scheduler });
    const bel = await node('BEL');
    await pinAll([fra.node, bel.node]);
    const id = await enqueueNotice(fra.node, 'BEL', { subject: 'backoff' });
    const gaps: number[] = [];
    for (let i = 0; i < 7; i += 1) gaps.push(await fireBackoff(scheduler));
    await waitFor(() => transport.attemptsOf(id).length === 8, 5000, 'eight attempts');
    // Each gap is between half its cap and the cap; the cap doubles from 50 ms up to 500 ms.
    const caps = [50, 100, 200, 400, 500, 500, 500];
    gaps.forEach((gap, i) => {
      expect(gap, `gap ${i + 1} of ${gaps.join(', ')}`).toBeGreaterThanOrEqual((caps[i] ?? 0) / 2);
      expect(gap, `gap ${i + 1} of ${gaps.join(', ')}`).toBeLessThanOrEqual(caps[i] ?? 0);
    });
    // Jittered: the gaps at the cap are not all the same.
    expect(new Set(gaps.slice(-3)).size).toBeGreaterThan(1);
    expect((await fra.node.store.outbox.queue.get(id))?.lastError).toBe('UNAVAILABLE');
  });

  it('keeps its queue across a restart of the sender', async () => {
    // Attempts to the stopped peer end at their (real) deadline; a stop waits for them.
    const fra = await node('FRA', { config: testConfig({ outbox: { attemptTimeoutMs: 300 } }) });
    const bel = await node('BEL');
    await pinAll([fra.node, bel.node]);
    const belStopped = await stopInPlace(bel);
    const ids = [
      await enqueueNotice(fra.node, 'BEL', { subject: 'one' }),
      await enqueueNotice(fra.node, 'BEL', { subject: 'two' }),
    ];
    const fraStopped = await stopInPlace(fra);

    const fraAgain = await node('FRA', { dataDir: fraStopped.dataDir });
    expect(await countEntries(fraAgain.node.store.outbox.queue)).toBe(2);
    const belAgain = await node('BEL', {
      dataDir: belStopped.dataDir,
      config: testConfig({ federation: { listen: belStopped.address } }),
    });
    await waitFor(
      async () => (await countEntries(fraAgain.node.store.outbox.sent)) === 2,
      8000,
      'queued messages delivered after restart',
    );
    for (const id of ids) await expectSentWithReceipt(fraAgain.node, belAgain.node, id);
    expect(await inboxIds(belAgain.node)).toEqual([...ids].sort());
    expect(await countEntries(fraAgain.node.store.outbox.queue)).toBe(0);
  });

  it('starts no attempt for a message of a trace while an earlier message of that trace to the peer is in flight (12.6)', async () => {
    const { transport, fra, bel, accepted } = await fraToBel();
    // The first attempt (of the first message) stays in flight until the test lets it go.
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    cleanups.push(async () => release());
    let held: string | undefined;
    transport.beforeAttempt = async (messageId) => {
      held ??= messageId;
      if (messageId === held) await gate;
    };
    const send = (subject: string, orderKey: string): Promise<string> =>
      fra.node.outbox.enqueue({
        recipient: 'BEL',
        kind: MessageKind.MESSAGE_KIND_NOTICE,
        body: notice(subject, 'a step of a trace'),
        orderKey,
      });

    const first = await send('first', 'trace-1');
    await waitFor(() => transport.attemptsOf(first).length === 1, 5000, 'the first message in flight');
    const second = await send('second', 'trace-1');
    // Queued after the second: another trace, which nothing holds back.
    const other = await send('other', 'trace-2');
    await waitFor(
      async () => (await fra.node.store.outbox.sent.get(other)) !== undefined,
      5000,
      'the message of the other trace delivered',
    );
    expect(transport.attemptsOf(first).map((a) => a.outcome)).toEqual(['pending']);
    expect(
      transport.attemptsOf(second),
      'attempts of the second message of trace-1 while the first is in flight',
    ).toEqual([]);

    release();
    await waitFor(
      async () => (await fra.node.store.outbox.sent.get(second)) !== undefined,
      5000,
      'the second message delivered',
    );
    await expectSentWithReceipt(fra.node, bel.node, first);
    await expectSentWithReceipt(fra.node, bel.node, second);
    expect(transport.attemptsOf(second)).toHaveLength(1);
    expect(accepted.filter((id) => id === first || id === second)).toEqual([first, second]);
  });

  it('sends the next message of a trace once the receipt of the previous one verifies, not after its delivery is stored; a delivery whose store failed is sent again, answered DUPLICATE, and nothing overtakes (12.6)', async () => {
    const scheduler = logicalTime();
    const { transport, fra, bel, accepted } = await fraToBel(scheduler);
    // The store of the first message's delivery waits for the test, then fails (a crash before it).
    const journal = fra.node.journal;
    const write = journal.write.bind(journal);
    let first = '';
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    cleanups.push(async () => release());
    let failures = 1;
    journal.write = async (operations, audit, events) => {
      if (audit.some((e) => e.type === 'message.delivered' && e.fields.messageId === first) && failures > 0) {
        failures -= 1;
        await gate;
        throw new TracenetError(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE, 'the disk is gone');
      }
      return write(operations, audit, events);
    };
    const send = (subject: string): Promise<string> =>
      fra.node.outbox.enqueue({
        recipient: 'BEL',
        kind: MessageKind.MESSAGE_KIND_NOTICE,
        body: notice(subject, 'a step of a trace'),
        orderKey: 'trace-1',
      });

    first = await send('first');
    const second = await send('second');
    await waitFor(
      async () => (await fra.node.store.outbox.sent.get(second)) !== undefined,
      5000,
      'the second message delivered while the delivery of the first is being stored',
    );
    expect(await fra.node.store.outbox.sent.get(first)).toBeUndefined();
    expect(accepted).toEqual([first, second]);

    release();
    // Sent again after the backoff — or at once, when the second's delivery brought the lane up
    // after the failure had taken it down (the first success sends everything waiting).
    const sentAgain = async () => (await fra.node.store.outbox.sent.get(first)) !== undefined;
    await waitFor(async () => (await sentAgain()) || backoffWaiting(scheduler) !== undefined, 5000, 'the retry');
    if (!(await sentAgain())) await fireBackoff(scheduler);
    await waitFor(
      async () => (await fra.node.store.outbox.sent.get(first)) !== undefined,
      5000,
      'the first message sent again and its delivery stored',
    );
    expect(transport.attemptsOf(first).map((a) => a.outcome)).toEqual(['receipt', 'receipt']);
    expect(transport.attemptsOf(second)).toHaveLength(1);
    // The peer took each once, in order; the second copy of the first was a duplicate.
    expect(accepted).toEqual([first, second]);
    await expectSentWithReceipt(fra.node, bel.node, first);
    await expectSentWithReceipt(fra.node, bel.node, second);
  });

  it('takes a first attempt from the entry just stored while its peer is up, and from the store when it was queued while the peer was down', async () => {
    const scheduler = logicalTime();
    const { transport, fra, accepted } = await fraToBel(scheduler);
    const { queue } = fra.node.store.outbox;
    const get = queue.get.bind(queue);
    const read: string[] = [];
    queue.get = async (messageId) => {
      read.push(messageId);
      return get(messageId);
    };
    // The first attempt's receipt comes back spoiled: the lane goes down until the backoff.
    let spoil = 1;
    transport.alterReceipt = (receipt) => {
      if (spoil <= 0) return receipt;
      spoil -= 1;
      return { ...receipt, signature: Buffer.alloc(receipt.signature.length) };
    };
    const first = await enqueueNotice(fra.node, 'BEL');
    await waitFor(() => backoffWaiting(scheduler) !== undefined, 5000, 'the lane down after the spoiled receipt');
    const whileDown = await enqueueNotice(fra.node, 'BEL');
    await fireBackoff(scheduler);
    await waitFor(() => accepted.includes(whileDown), 5000, 'both delivered once the lane is up');
    const whileUp = await enqueueNotice(fra.node, 'BEL');
    await waitFor(() => accepted.includes(whileUp), 5000, 'the third delivered');

    // The first attempt of `first` came from memory, its retry from the store; `whileDown` was not
    // kept in memory (its peer was down); `whileUp` was.
    expect(read.filter((id) => id === first)).toHaveLength(1);
    expect(read.filter((id) => id === whileDown)).toHaveLength(1);
    expect(read.filter((id) => id === whileUp)).toHaveLength(0);
    expect(accepted).toEqual([first, whileDown, whileUp]);
  });

  it('moves a message answered with a REJECTED receipt to failed', async () => {
    const scheduler = logicalTime();
    const transport = new RecordingTransport();
    const fra = await node('FRA', { transport, clock: scheduler });
    const bel = await node('BEL');
    await pinAll([fra.node, bel.node]);
    const failed: Array<{ messageId: string; code: string }> = [];
    fra.node.outbox.on('failed', (f) => failed.push(f));
    // Before the first attempt BEL receives other content under the same message id from FRA,
    // so the outbox's envelope is refused with MESSAGE_ID_REUSED and a signed REJECTED receipt.
    let first = true;
    transport.beforeAttempt = async (messageId) => {
      if (!first) return;
      first = false;
      const other = sealFrom(fra.node.identity, bel.node.identity, Date.now(), {
        messageId,
        body: notice('other', 'other content'),
      });
      await bel.node.receiver.deliver(other.bytes);
    };

    const id = await enqueueNotice(fra.node, 'BEL');
    await waitFor(() => failed.length === 1, 5000, 'failed event');
    expect(failed[0]).toMatchObject({ messageId: id, recipient: 'BEL', code: 'MESSAGE_ID_REUSED' });
    expect(transport.attemptsOf(id).map((a) => a.outcome)).toEqual(['MESSAGE_ID_REUSED']);
    expect(await fra.node.store.outbox.queue.get(id)).toBeUndefined();
    expect(await fra.node.store.outbox.sent.get(id)).toBeUndefined();
    const record = await fra.node.store.outbox.failed.get(id);
    expect(record?.lastError).toBe('MESSAGE_ID_REUSED');
    const receipt = Receipt.decode(Buffer.from(String(record?.receipt), 'base64'));
    const body = verifyReceipt(receipt, {
      issuer: 'BEL',
      issuerKeyId: bel.node.identity.keyId,
      issuerSigningPublicKey: bel.node.identity.keys.signingPublicKey,
      sender: 'FRA',
      messageId: id,
    });
    expect(body.status).toBe(ReceiptStatus.RECEIPT_STATUS_REJECTED);
    expect(body.errorCode).toBe(ErrorCode.ERROR_CODE_MESSAGE_ID_REUSED);
    expect((await auditTypes(fra.node)).filter((t) => t === 'message.failed')).toHaveLength(1);
    // Failed for good: no retry is waiting, and none comes.
    expect(backoffWaiting(scheduler)).toBeUndefined();
    await longAfter(scheduler);
    expect(transport.attemptsOf(id)).toHaveLength(1);
  });

  it('retries a message refused for clock skew with a fresh seal, which passes once the clocks agree', async () => {
    // The sender's clock runs ten minutes ahead of the recipient's: its envelopes are outside the window.
    const belClock = new ManualClock();
    const fraClock = new ManualScheduler(belClock.now() + 10 * 60_000);
    const transport = new RecordingTransport();
    const fra = await node('FRA', { clock: fraClock, transport });
    const bel = await node('BEL', { clock: belClock });
    await pinAll([fra.node, bel.node], fraClock.now());
    const delivered: string[] = [];
    fra.node.outbox.on('delivered', (d) => delivered.push(d.messageId));

    const id = await enqueueNotice(fra.node, 'BEL');
    await fireBackoff(fraClock);
    await waitFor(() => backoffWaiting(fraClock) !== undefined, 5000, 'the second attempt');
    expect(transport.attemptsOf(id).map((a) => a.outcome)).toEqual(['OUTSIDE_TIME_WINDOW', 'OUTSIDE_TIME_WINDOW']);
    expect(await fra.node.store.outbox.queue.get(id)).toBeDefined();
    expect(await countEntries(fra.node.store.outbox.failed)).toBe(0);
    belClock.set(fraClock.now());
    await fireBackoff(fraClock);
    await waitFor(() => delivered.length === 1, 5000, 'delivery once the clocks agree');
    await expectSentWithReceipt(fra.node, bel.node, id);
  });

  it('seals every attempt anew with created_at_ms = now, so a retry after the replay window is still accepted (5.5)', async () => {
    // Both clocks agree and stand still; only the test moves them.
    const clock = new ManualScheduler();
    const transport = new RecordingTransport();
    const fra = await node('FRA', { clock, transport });
    const bel = await node('BEL', { clock });
    await pinAll([fra.node, bel.node], clock.now());
    const queuedAt = clock.now();
    // The first attempt does not get through; before the next one, ten minutes pass: twice the
    // replay window (5 min), so an envelope still dated at queue time would be refused.
    let calls = 0;
    transport.beforeAttempt = async () => {
      calls += 1;
      if (calls > 1) return;
      clock.set(clock.now() + 10 * 60_000);
      throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'connection refused');
    };

    const id = await enqueueNotice(fra.node, 'BEL', { subject: 'reseal' });
    const backoff = await fireBackoff(clock);
    await waitFor(
      () => (transport.attemptsOf(id)[1]?.outcome ?? 'pending') !== 'pending',
      5000,
      'the outcome of the second attempt',
    );
    expect(transport.attemptsOf(id)[1]?.outcome, 'outcome of the retry, ten minutes after queueing').toBe('receipt');
    await waitFor(async () => (await fra.node.store.outbox.sent.get(id)) !== undefined, 5000, 'sent record');
    await expectSentWithReceipt(fra.node, bel.node, id);
    // The receipted envelope: same message id and expiry, created at the time of its own attempt.
    const sent = await fra.node.store.outbox.sent.get(id);
    const header = EnvelopeHeader.decode(Envelope.decode(Buffer.from(String(sent?.envelope), 'base64')).header);
    expect(header.messageId).toBe(id);
    expect(Number(header.createdAtMs)).toBe(queuedAt + 10 * 60_000 + backoff);
    expect(Number(header.expiresAtMs)).toBe(queuedAt + testConfig().envelope.defaultTtlMs);
  });

  it('fails a message as EXPIRED when its lifetime ends before delivery', async () => {
    const clock = new ManualScheduler();
    const transport = new RecordingTransport();
    // The peer is unreachable: every connection is refused at once.
    transport.beforeAttempt = async () => {
      throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'connection refused');
    };
    const fra = await node('FRA', { clock, transport });
    const unreachable: Party = await makeParty('BEL', clock.now());
    cleanups.push(() => unreachable.cleanup());
    await fra.node.peers.pin(unreachable.card, clock.now());
    const failed: Array<{ messageId: string; code: string }> = [];
    fra.node.outbox.on('failed', (f) => failed.push(f));

    const id = await enqueueNotice(fra.node, 'BEL', { ttlMs: 60_000 });
    await fireBackoff(clock);
    await waitFor(() => backoffWaiting(clock) !== undefined, 5000, 'the second attempt failed');
    expect(transport.attemptsOf(id)).toHaveLength(2);
    expect(failed).toEqual([]);
    // The lifetime ends while the outbox backs off; the next retry finds the message expired.
    clock.set(clock.now() + 60_000);
    await fireBackoff(clock);
    await waitFor(() => failed.length === 1, 5000, 'failed event');
    expect(failed[0]).toMatchObject({ messageId: id, code: 'EXPIRED' });
    const record = await fra.node.store.outbox.failed.get(id);
    expect(record?.lastError).toBe('EXPIRED');
    expect(await fra.node.store.outbox.queue.get(id)).toBeUndefined();
    // No attempt is made for an expired message, and none comes later.
    expect(transport.attemptsOf(id)).toHaveLength(2);
    expect(backoffWaiting(clock)).toBeUndefined();
    await longAfter(clock);
    expect(transport.attemptsOf(id)).toHaveLength(2);
  });

  it('sends a message queued before start once', async () => {
    const fra = await node('FRA');
    const bel = await node('BEL');
    await pinAll([fra.node, bel.node]);
    const transport = new RecordingTransport();
    const scheduler = logicalTime();
    const n = fra.node;
    // A second outbox over the same store, as a node has between binding its ports and starting the outbox.
    const outbox = new Outbox({
      identity: n.identity,
      peers: n.peers,
      transport,
      journal: n.journal,
      store: n.store,
      clock: scheduler,
      logger: testLogger(),
      config: { ...testConfig().outbox, defaultTtlMs: 60_000, maxEnvelopeBytes: testConfig().envelope.maxBytes },
    });
    cleanups.push(async () => {
      await outbox.stop();
      transport.close();
    });
    const delivered: string[] = [];
    outbox.on('delivered', (d) => delivered.push(d.messageId));
    const id = await outbox.enqueue({ recipient: 'BEL', kind: MessageKind.MESSAGE_KIND_NOTICE, body: notice() });
    expect(transport.attempts).toHaveLength(0);
    await outbox.start();
    await outbox.start();
    await waitFor(() => delivered.length > 0, 5000, 'delivery');
    await longAfter(scheduler);
    expect(delivered).toEqual([id]);
    expect(transport.attemptsOf(id)).toHaveLength(1);
    expect(
      ReceiptBody.decode(
        Receipt.decode(Buffer.from(String((await n.store.outbox.sent.get(id))?.receipt), 'base64')).body,
      ).status,
    ).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
  });
});

/** Field 100, a length-delimited string: a field this version does not define. */
const LATER_FIELD = Buffer.concat([Buffer.from([0xa2, 0x06, 5]), Buffer.from('later')]);

/** `receipt` with its body changed and signed again by `issuer`, as the issuer would have sent it. */
function resigned(receipt: Receipt, issuer: TracenetNode, change: (body: Buffer) => Buffer): Receipt {
  const body = change(Buffer.from(receipt.body));
  const signature = sodium().crypto_sign_detached(
    Buffer.concat([domain('tracenet.v1/receipt'), body]),
    issuer.identity.keys.signingSecretKey,
  );
  return { body, signature: Buffer.from(signature), original: receipt.original };
}

/** FRA (sending through `transport`) and BEL, pinned to each other. */
async function pair(
  transport: RecordingTransport,
  scheduler?: ManualScheduler,
): Promise<{ fra: TracenetNode; bel: TracenetNode }> {
  const fra = (await node('FRA', { transport, ...(scheduler ? { clock: scheduler } : {}) })).node;
  const bel = (await node('BEL')).node;
  await pinAll([fra, bel]);
  return { fra, bel };
}

async function sentReceipt(sender: TracenetNode, messageId: string): Promise<Receipt | undefined> {
  const sent = await sender.store.outbox.sent.get(messageId);
  return sent ? Receipt.decode(Buffer.from(String(sent.receipt), 'base64')) : undefined;
}

/**
 * What a sender does with receipts of a later revision of tracenet.v1 (docs/protocol.md 16.2): a
 * field it does not know is ignored, so the receipt still proves delivery and is kept as received;
 * a status it does not know proves and ends nothing, so the message is retried. (The receiving
 * side is judged by the conformance cases that cite 16.2.)
 */
describe('receipts of a later revision (protocol 16.2)', () => {
  it('a receipt body with a field this version does not define still proves delivery, and is kept as received', async () => {
    const transport = new RecordingTransport();
    const { fra, bel } = await pair(transport);
    transport.alterReceipt = (receipt) => resigned(receipt, bel, (body) => Buffer.concat([body, LATER_FIELD]));
    const id = await fra.outbox.enqueue({
      recipient: 'BEL',
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      body: notice('later', 'a receipt with a field of a later revision'),
    });
    await waitFor(async () => (await sentReceipt(fra, id)) !== undefined, 5000, 'the message in sent');
    expect(transport.attemptsOf(id)).toHaveLength(1);
    const kept = await sentReceipt(fra, id);
    expect(Buffer.from(kept?.body ?? []).subarray(-LATER_FIELD.length)).toEqual(LATER_FIELD);
  });

  it('a receipt of a status this version does not define proves nothing: the message is retried, and the next receipt proves it', async () => {
    const transport = new RecordingTransport();
    const scheduler = logicalTime();
    const { fra, bel } = await pair(transport, scheduler);
    let altered = 0;
    transport.alterReceipt = (receipt) => {
      if (altered++ > 0) return receipt;
      return resigned(receipt, bel, (body) =>
        Buffer.from(ReceiptBody.encode({ ...ReceiptBody.decode(body), status: 4 as ReceiptStatus }).finish()),
      );
    };
    const id = await fra.outbox.enqueue({
      recipient: 'BEL',
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      body: notice('status', 'a receipt of an unknown status'),
    });
    await fireBackoff(scheduler);
    await waitFor(async () => (await sentReceipt(fra, id)) !== undefined, 5000, 'the message in sent');
    expect(transport.attemptsOf(id).length).toBe(2);
    expect(ReceiptBody.decode((await sentReceipt(fra, id))?.body ?? new Uint8Array()).status).toBe(
      ReceiptStatus.RECEIPT_STATUS_ACCEPTED,
    );
  });
});
