import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { EnvelopeHeader, FederationService, MessageKind } from '@tracenet/proto';
import { issuePeerCard } from '../src/identity/data-dir.js';
import type { TlsMaterial } from '../src/identity/tls.js';
import { startNode, testConfig, type TestNode, waitFor } from './support/nodes.js';
import { makeParty, notice, type Party } from './support/parties.js';

/**
 * docs/protocol.md 2.5, the client side: a node connecting to a peer accepts the connection only
 * if the server presents exactly the certificate pinned in the peer's card. Here BEL, a real node
 * with its real gRPC transport, sends to endpoints where a stand-in Federation server listens; the
 * stand-in records every Deliver call it gets. With the pinned certificate it gets BEL's envelope;
 * with any other certificate — even a valid Tracenet one naming `tracenet-peer` — it must get
 * nothing: the envelope never reaches a server that is not the pinned peer.
 */

/** A Federation server presenting `tls` that records the header of every envelope delivered to it and answers UNAVAILABLE. */
interface StandIn {
  readonly address: string;
  readonly received: EnvelopeHeader[];
  close(): Promise<void>;
}

async function startStandIn(tls: TlsMaterial): Promise<StandIn> {
  const received: EnvelopeHeader[] = [];
  const server = new Server();
  server.addService(
    { deliver: FederationService.deliver },
    {
      deliver: (
        call: { request: { header: Uint8Array } },
        callback: (error: { code: status; details: string }) => void,
      ) => {
        received.push(EnvelopeHeader.decode(call.request.header));
        callback({ code: status.UNAVAILABLE, details: 'stand-in' });
      },
    },
  );
  const credentials = ServerCredentials.createSsl(
    null,
    [{ private_key: Buffer.from(tls.privateKeyPem), cert_chain: Buffer.from(tls.certificatePem) }],
    false,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

describe('a node as client trusts only the pinned certificate of a peer (protocol 2.5)', () => {
  let bel: TestNode;
  /** FRA, DEU: peers BEL pins; KEN: a participant whose (valid) certificate an impostor presents. */
  let fra: Party;
  let deu: Party;
  let ken: Party;
  const standIns: StandIn[] = [];

  beforeAll(async () => {
    bel = await startNode('BEL', { config: testConfig({ outbox: { attemptTimeoutMs: 500 } }) });
    [fra, deu, ken] = await Promise.all([
      makeParty('FRA', Date.now()),
      makeParty('DEU', Date.now()),
      makeParty('KEN', Date.now()),
    ]);
  });
  afterAll(async () => {
    await bel.cleanup();
    await Promise.all(standIns.map((s) => s.close()));
    await Promise.all([fra, deu, ken].map((p) => p.cleanup()));
  });

  async function standIn(tls: TlsMaterial): Promise<StandIn> {
    const s = await startStandIn(tls);
    standIns.push(s);
    return s;
  }

  /** Pins `peer` with a card whose only endpoint is `address` and queues a Notice to it. */
  async function sendTo(peer: Party, address: string): Promise<string> {
    await bel.node.peers.pin(issuePeerCard(peer.identity, [address], Date.now()), Date.now());
    return bel.node.outbox.enqueue({
      recipient: peer.identity.participantId,
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      body: notice(),
    });
  }

  it('delivers to an endpoint that presents the certificate pinned in the card', async () => {
    const server = await standIn(fra.identity.tls);
    const messageId = await sendTo(fra, server.address);
    await waitFor(() => server.received.length > 0, 10_000, 'the envelope at the pinned server');
    expect(server.received[0]).toMatchObject({ sender: 'BEL', recipient: 'FRA', messageId });
  });

  it('sends nothing to an endpoint that presents another certificate; the message stays queued', async () => {
    const impostor = await standIn(ken.identity.tls);
    const messageId = await sendTo(deu, impostor.address);
    const entry = async () =>
      (await bel.node.store.outbox.queue.get(messageId)) as { attempts: number; lastError: string } | undefined;
    await waitFor(async () => ((await entry())?.attempts ?? 0) >= 2, 15_000, 'two failed attempts');
    expect(impostor.received).toEqual([]);
    expect(['UNAVAILABLE', 'DEADLINE_EXCEEDED']).toContain((await entry())?.lastError);
  });
});
