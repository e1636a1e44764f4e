import { expect } from 'vitest';
import { type AuditLine, readAudit, readSublevel } from '../integration/processes.js';

/** A node whose store can be read from this process once it has stopped. */
export interface StoppedNode {
  readonly participantId: string;
  readonly dataDir: string;
}

/** What both sides counted, for the figures of a test. */
export interface Tally {
  /** Messages the senders hold as delivered with a receipt (`sent`). */
  readonly receipted: number;
  /** Messages in the receiver's inbox from these senders. */
  readonly inbox: number;
  /** `message.received` entries in the receiver's audit log. */
  readonly received: number;
  /** `message.duplicate` entries: redeliveries answered with the original receipt, not processed again. */
  readonly duplicates: number;
  /** `message.delivered` entries in the senders' audit logs. */
  readonly delivered: number;
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function repeated(values: readonly string[]): string[] {
  return [...countBy(values)].filter(([, n]) => n > 1).map(([v]) => v);
}

const sorted = (values: Iterable<string>) => [...values].sort();

/**
 * The exactly-once check, offline on stopped nodes, counted on both sides:
 *
 * - no receipted message is lost: every id in `ids` (the API accepted it) is in a sender's `sent`
 *   with a receipt, and every sent message is in the receiver's inbox and audited
 *   `message.received`;
 * - none is processed twice: each id appears once in the inbox, once as `message.received` and
 *   once as `message.delivered` at its sender; redeliveries show only as `message.duplicate`;
 * - nothing is left behind: no sender holds a message for the receiver in its outbox or failed.
 *
 * A sender killed during an API call may have queued a message whose id the caller never learnt:
 * such a message must still be delivered exactly once, so `sent` may hold more ids than `ids`.
 */
export async function exactlyOnce(options: {
  senders: readonly StoppedNode[];
  receiver: StoppedNode;
  ids: readonly string[];
}): Promise<Tally> {
  const { senders, receiver } = options;
  const senderIds = new Set(senders.map((s) => s.participantId));
  const sentIds: string[] = [];
  const deliveredIds: string[] = [];
  for (const sender of senders) {
    const toReceiver = (records: Array<Record<string, unknown>>) =>
      records.filter((r) => r.recipient === receiver.participantId);
    const sent = toReceiver(await readSublevel(sender.dataDir, 'sent'));
    expect(
      toReceiver(await readSublevel(sender.dataDir, 'outbox')),
      `${sender.participantId} still holds messages for ${receiver.participantId}`,
    ).toEqual([]);
    expect(
      toReceiver(await readSublevel(sender.dataDir, 'failed')),
      `${sender.participantId} gave up messages for ${receiver.participantId}`,
    ).toEqual([]);
    for (const record of sent)
      expect(String(record.receipt ?? ''), `receipt of ${String(record.messageId)}`).not.toBe('');
    sentIds.push(...sent.map((r) => String(r.messageId)));
    const audit = await readAudit(sender.dataDir);
    deliveredIds.push(
      ...audit
        .filter((l) => l.type === 'message.delivered' && l.peer === receiver.participantId)
        .map((l) => String(l.messageId)),
    );
  }
  const sentSet = new Set(sentIds);
  expect(repeated(sentIds), 'ids sent twice').toEqual([]);
  expect(
    options.ids.filter((id) => !sentSet.has(id)),
    'accepted by the API but not receipted',
  ).toEqual([]);
  expect(repeated(deliveredIds), 'message.delivered twice at the sender').toEqual([]);
  expect(sorted(deliveredIds)).toEqual(sorted(sentSet));

  const fromSenders = (lines: readonly AuditLine[], type: string) =>
    lines.filter((l) => l.type === type && senderIds.has(String(l.peer))).map((l) => String(l.messageId));
  const inboxIds = (await readSublevel(receiver.dataDir, 'inbox'))
    .filter((m) => senderIds.has(String(m.sender)))
    .map((m) => String(m.messageId));
  const audit = await readAudit(receiver.dataDir);
  const receivedIds = fromSenders(audit, 'message.received');
  const duplicateIds = fromSenders(audit, 'message.duplicate');
  expect(repeated(inboxIds), `stored twice in ${receiver.participantId}'s inbox`).toEqual([]);
  expect(repeated(receivedIds), `audited message.received twice by ${receiver.participantId}`).toEqual([]);
  expect(sorted(inboxIds.filter((id) => !sentSet.has(id))), 'in the inbox but not receipted at any sender').toEqual([]);
  expect(sorted(sentIds.filter((id) => !inboxIds.includes(id))), 'receipted but missing from the inbox (lost)').toEqual(
    [],
  );
  expect(sorted(receivedIds)).toEqual(sorted(sentSet));
  expect(duplicateIds.filter((id) => !sentSet.has(id))).toEqual([]);
  return {
    receipted: sentIds.length,
    inbox: inboxIds.length,
    received: receivedIds.length,
    duplicates: duplicateIds.length,
    delivered: deliveredIds.length,
  };
}

/** One line of both sides' counts. */
export function describeTally(tally: Tally): string {
  return (
    `senders: ${tally.receipted} receipted in sent, ${tally.delivered} message.delivered; ` +
    `receiver: ${tally.inbox} in inbox, ${tally.received} message.received, ${tally.duplicates} message.duplicate (redeliveries answered, not processed)`
  );
}

const figures: string[] = [];

/** Records a measured figure, printed after the file's tests (`[tracenet figures]`). */
export function figure(line: string): void {
  figures.push(line);
}

export function printFigures(): void {
  if (figures.length > 0) console.info(`[tracenet figures]\n${figures.splice(0).join('\n')}`);
}

/** A describe title that carries the reason when the cluster tier is skipped. */
export function skipTitle(title: string, docker: { ok: true } | { ok: false; reason: string }): string {
  return docker.ok ? title : `${title} (skipped: ${docker.reason})`;
}
