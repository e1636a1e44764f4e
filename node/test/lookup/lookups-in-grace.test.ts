import { ErrorCode, LookupOutcome, type LookupRequest, PeerPolicy, type Receipt, TracenetError } from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '../../src/config/config.js';
import type { Peer } from '../../src/federation/peers.js';
import { createGrpcTransport, type DeliverOptions, type Transport } from '../../src/federation/transport.js';
import type { TlsMaterial } from '../../src/identity/tls.js';
import { ManualClock } from '../../src/util/clock.js';
import { startNode, type TestNode, waitFor } from '../support/nodes.js';
import { type Keyed, RawFederationClient } from '../support/parties.js';
import { RecordingTransport } from '../support/recording-transport.js';
import { openAnswer, queryBody, rifleQuery, sealQuery, stolenRifle, theftReport } from './support.js';

/**
 * Lookups while a rotation's grace runs (docs/protocol.md 13.6 step 14, 15.2), over real nodes:
 * the owner answers between the keys the query was sealed between — from its keys the query was
 * addressed to, to the requester's keys that sealed it — so that a requester that has not yet
 * processed the owner's rotation (its announcement held back) still verifies the answer.
 */

const HOUR = 3_600_000;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The real gRPC transport, with a hook that runs on each lookup answer before the lookup client sees it. */
class HeldAnswers implements Transport {
  beforeAnswer: (() => Promise<void>) | undefined;
  readonly #inner = createGrpcTransport({ maxEnvelopeBytes: DEFAULT_MAX_ENVELOPE_BYTES });
  deliver(peer: Peer, envelope: Uint8Array, options: DeliverOptions): Promise<Receipt> {
    return this.#inner.deliver(peer, envelope, options);
  }
  async lookup(peer: Peer, envelope: Uint8Array, options: { deadlineMs: number; tls: TlsMaterial }): Promise<Buffer> {
    const answer = await (this.#inner.lookup as NonNullable<Transport['lookup']>)(peer, envelope, options);
    await this.beforeAnswer?.();
    return answer;
  }
  close(): void {
    this.#inner.close();
  }
}

/** The keys a node has now, copied: they stay what they are when the node rotates. */
function snapshot(node: TestNode['node']): Keyed {
  const { participantId, keyId, keys } = node.identity;
  return { participantId, keyId, keys };
}

/**
 * BEL (the owner) and FRA (the requester) pinned on each other, FRA allowed to look up; while
 * `hold.on`, BEL's outbox sends nothing to FRA, its key announcement included. One lookup is made
 * first, so that FRA's connection to BEL is open and keeps BEL's certificate when BEL rotates.
 */
async function startPair(fraTransport: Transport = new HeldAnswers()) {
  const clock = new ManualClock(Date.now());
  const hold = { on: false };
  const belTransport = new RecordingTransport();
  belTransport.beforeAttempt = async () => {
    if (hold.on) throw new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, 'held back by the test');
  };
  const bel = await startNode('BEL', { clock, transport: belTransport });
  cleanups.push(() => bel.cleanup());
  const fra = await startNode('FRA', { clock, transport: fraTransport });
  cleanups.push(() => fra.cleanup());
  await bel.node.peers.pin(fra.node.card, clock.now());
  await fra.node.peers.pin(bel.node.card, clock.now());
  await bel.node.policies.set(
    PeerPolicy.fromPartial({ participantId: 'FRA', allowLookups: true, lookupsPerMinute: 1000 }),
  );
  const lookup = async (fields: Partial<LookupRequest> = {}) => {
    const response = await fra.node.lookups.client.lookup({
      weapon: rifleQuery(),
      purpose: 'seizure at Zaventem, case 2026/118',
      peers: ['BEL'],
      deadlineMs: 5000,
      requestingAuthority: 'OCRC',
      ...fields,
    });
    return response.results[0];
  };
  expect(await lookup()).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_NO_HIT });
  return { bel, fra, hold, clock, lookup };
}

async function reportRifle(owner: TestNode): Promise<void> {
  const { record } = await owner.node.records.put(stolenRifle());
  await owner.node.records.report(record.recordId, theftReport());
}

describe('lookups during a rotation grace (protocol 13.6, 15.2)', () => {
  it("a requester that has not yet processed the owner's rotation gets NO_HIT and HIT, not ERROR: the answer comes from the keys the query was sealed to", async () => {
    const { bel, fra, hold, clock, lookup } = await startPair();
    const belPrevious = snapshot(bel.node);
    hold.on = true;
    const rotation = await bel.node.rotateKeys({ graceMs: HOUR });
    expect(fra.node.peers.get('BEL')?.body.keyId).toBe(belPrevious.keyId);

    expect(await lookup()).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_NO_HIT, errorCode: '' });
    await reportRifle(bel);
    expect(await lookup()).toMatchObject({
      outcome: LookupOutcome.LOOKUP_OUTCOME_HIT,
      errorCode: '',
      hits: [{ owner: 'BEL' }],
    });

    // On the wire: the answer to a query sealed to BEL's previous keys names them as its sender's
    // keys, is signed with them and opens under the pair key of the query.
    const client = new RawFederationClient(
      bel.node.federationAddress,
      bel.node.identity.tlsCertificatePem,
      fra.node.identity.tls,
    );
    try {
      const requester = snapshot(fra.node);
      const answer = openAnswer(
        await client.lookup(sealQuery(requester, belPrevious, clock.now(), queryBody(rifleQuery())).bytes),
        requester,
        belPrevious,
      );
      expect([answer.header.senderKeyId, answer.header.recipientKeyId, answer.answer.hits.length]).toEqual([
        belPrevious.keyId,
        requester.keyId,
        1,
      ]);
    } finally {
      client.close();
    }

    // Once FRA has pinned BEL's new card, queries and answers use the new keys.
    hold.on = false;
    await waitFor(
      () => fra.node.peers.get('BEL')?.body.keyId === rotation.keyId,
      10_000,
      'FRA pins the new card of BEL',
    );
    expect(await lookup()).toMatchObject({ outcome: LookupOutcome.LOOKUP_OUTCOME_HIT, errorCode: '' });
  });

  it('an answer from the previous keys still verifies when the requester pinned the new card while the query was under way', async () => {
    const transport = new HeldAnswers();
    const { bel, fra, hold, lookup } = await startPair(transport);
    hold.on = true;
    const rotation = await bel.node.rotateKeys({ graceMs: HOUR });
    // The query leaves sealed to BEL's previous keys; its answer reaches the lookup client only
    // once FRA has processed the rotation: the answer's keys are then a previous card in grace.
    transport.beforeAnswer = async () => {
      transport.beforeAnswer = undefined;
      hold.on = false;
      await waitFor(
        () => fra.node.peers.get('BEL')?.body.keyId === rotation.keyId,
        4_000,
        'FRA pins the new card of BEL',
      );
    };
    expect(await lookup({ deadlineMs: 10_000 })).toMatchObject({
      outcome: LookupOutcome.LOOKUP_OUTCOME_NO_HIT,
      errorCode: '',
    });
  });

  it("a query sealed with the requester's previous keys in grace is answered to those keys", async () => {
    const { bel, fra, clock } = await startPair();
    const fraPrevious = snapshot(fra.node);
    const rotation = await fra.node.rotateKeys({ graceMs: HOUR });
    await waitFor(
      () => bel.node.peers.get('FRA')?.body.keyId === rotation.keyId,
      10_000,
      'BEL pins the new card of FRA',
    );
    await reportRifle(bel);

    // A query FRA sealed before its rotation, still on its way: BEL verifies it with FRA's
    // previous card and answers to the previous keys, which FRA still opens during the grace.
    const owner = snapshot(bel.node);
    const client = new RawFederationClient(
      bel.node.federationAddress,
      bel.node.identity.tlsCertificatePem,
      fra.node.identity.tls,
    );
    try {
      const answer = openAnswer(
        await client.lookup(sealQuery(fraPrevious, owner, clock.now(), queryBody(rifleQuery())).bytes),
        fraPrevious,
        owner,
      );
      expect([answer.header.senderKeyId, answer.header.recipientKeyId, answer.answer.hits.length]).toEqual([
        owner.keyId,
        fraPrevious.keyId,
        1,
      ]);
    } finally {
      client.close();
    }
  });
});
