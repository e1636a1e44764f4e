import { afterEach, describe, expect, it } from 'vitest';
import { MessageKind, Notice } from '@tracenet/proto';
import { pinAll, startNode, waitFor, type TestNode } from './support/nodes.js';

describe('two in-process nodes', () => {
  const nodes: TestNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.cleanup()));
  });

  it('deliver a notice over TLS with a signed receipt', async () => {
    const fra = await startNode('FRA');
    nodes.push(fra);
    const bel = await startNode('BEL');
    nodes.push(bel);
    await pinAll([fra.node, bel.node]);
    const received: string[] = [];
    bel.node.receiver.on('accepted', (m) => received.push(m.messageId));
    const id = await fra.node.outbox.enqueue({
      recipient: 'BEL',
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      body: Notice.encode({ subject: 'hello', text: 'a first notice' }).finish(),
    });
    await waitFor(async () => (await fra.node.store.outbox.sent.get(id)) !== undefined, 10_000, 'receipt stored');
    expect(received).toEqual([id]);
    expect(await fra.node.store.outbox.queue.get(id)).toBeUndefined();
  });
});
