import { rm } from 'node:fs/promises';
import { LookupAnswer, LookupOutcome, MessageKind, PeerPolicy, type Receipt } from '@tracenet/proto';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEnvelope, sealEnvelope } from '../../src/envelope/envelope.js';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '../../src/config/config.js';
import type { Peer } from '../../src/federation/peers.js';
import { createGrpcTransport, type DeliverOptions, type Transport } from '../../src/federation/transport.js';
import type { TlsMaterial } from '../../src/identity/tls.js';
import { TracenetNode } from '../../src/node.js';
import { makeDataDir, startNode, type TestNode, testConfig } from '../support/nodes.js';
import { type Keyed, pairKeyOf } from '../support/parties.js';
import { auditOf, openAnswer, rifleQuery, stolenRifle, theftReport } from './support.js';

/**
 * The requester's checks of an answer's body (docs/protocol.md 13.6 step 14), over two real nodes:
 * FRA asks BEL, and FRA's transport re-seals BEL's real answer exactly as BEL would — same header,
 * BEL's signing key, the FRA–BEL pair key — after changing what the answer says. Only the check
 * of the body can then refuse it.
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The keys a node has now, copied. */
function keysOf(node: TracenetNode): Keyed {
  const { participantId, keyId, keys } = node.identity;
  return { participantId, keyId, keys };
}

/**
 * The real gRPC transport; while `rewrite` is set, each lookup answer is opened with the keys of
 * `requester` and `owner`, its LookupAnswer passed to `rewrite`, and sealed again as the owner
 * seals it: the header fields of the answer received, the owner's signing key, the pair key.
 */
class ResealedAnswers implements Transport {
  rewrite: ((answer: LookupAnswer) => LookupAnswer) | undefined;
  /** When set, the answer is sealed again with this correlation id instead of the query's message id. */
  correlationId: string | undefined;
  /** Whose keys open and seal the answers; set once both nodes are started. */
  parties: { requester: Keyed; owner: Keyed } | undefined;
  readonly #inner = createGrpcTransport({ maxEnvelopeBytes: DEFAULT_MAX_ENVELOPE_BYTES });

  deliver(peer: Peer, envelope: Uint8Array, options: DeliverOptions): Promise<Receipt> {
    return this.#inner.deliver(peer, envelope, options);
  }

  async lookup(peer: Peer, envelope: Uint8Array, options: { deadlineMs: number; tls: TlsMaterial }): Promise<Buffer> {
    const bytes = await (this.#inner.lookup as NonNullable<Transport['lookup']>)(peer, envelope, options);
    if (!this.rewrite) return bytes;
    if (!this.parties) throw new Error('the keys of requester and owner are not set');
    const { requester, owner } = this.parties;
    const opened = openAnswer(bytes, requester, owner);
    const query = parseEnvelope(envelope, DEFAULT_MAX_ENVELOPE_BYTES).header;
    const { header } = opened;
    expect([header.sender, header.recipient, header.kind, header.correlationId]).toEqual([
      owner.participantId,
      requester.participantId,
      MessageKind.MESSAGE_KIND_LOOKUP_ANSWER,
      query.messageId,
    ]);
    const body = Buffer.from(LookupAnswer.encode(this.rewrite(LookupAnswer.decode(opened.body))).finish());
    return sealEnvelope({
      sender: owner.participantId,
      senderKeyId: header.senderKeyId,
      senderSigningSecretKey: owner.keys.signingSecretKey,
      recipient: requester.participantId,
      recipientKeyId: header.recipientKeyId,
      pairKey: pairKeyOf(owner, requester),
      messageId: header.messageId,
      kind: MessageKind.MESSAGE_KIND_LOOKUP_ANSWER,
      body,
      createdAtMs: header.createdAtMs,
      expiresAtMs: header.expiresAtMs,
      correlationId: this.correlationId ?? query.messageId,
    }).bytes;
  }

  close(): void {
    this.#inner.close();
  }
}

/** A real node whose log lines (warn and up) are kept in `logs`. */
async function startLoggedNode(
  participantId: string,
  transport: Transport,
): Promise<TestNode & { logs: Array<Record<string, unknown>> }> {
  const logs: Array<Record<string, unknown>> = [];
  const dataDir = await makeDataDir(participantId);
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const node = await TracenetNode.open({ dataDir, config: testConfig(), logger, transport });
  await node.start();
  let cleaned = false;
  return {
    node,
    dataDir,
    logs,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await node.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** BEL (the owner, holding the reported rifle) and FRA (the requester, through `transport`), pinned on each other. */
async function startPair() {
  const transport = new ResealedAnswers();
  const bel = await startNode('BEL');
  cleanups.push(() => bel.cleanup());
  const fra = await startLoggedNode('FRA', transport);
  cleanups.push(() => fra.cleanup());
  transport.parties = { requester: keysOf(fra.node), owner: keysOf(bel.node) };
  await bel.node.peers.pin(fra.node.card, Date.now());
  await fra.node.peers.pin(bel.node.card, Date.now());
  await bel.node.policies.set(
    PeerPolicy.fromPartial({ participantId: 'FRA', allowLookups: true, lookupsPerMinute: 1000 }),
  );
  const { record } = await bel.node.records.put(stolenRifle());
  await bel.node.records.report(record.recordId, theftReport());
  const lookup = async () => {
    const response = await fra.node.lookups.client.lookup({
      weapon: rifleQuery(),
      purpose: 'seizure at Zaventem, case 2026/118',
      peers: ['BEL'],
      deadlineMs: 5000,
      requestingAuthority: 'OCRC',
    });
    expect(response.results).toHaveLength(1);
    return { queryId: response.queryId, result: response.results[0] };
  };
  return { bel, fra, transport, lookup };
}

describe('the requester checks the hits of an answer (protocol 13.6 step 14)', () => {
  it('refuses an answer, correctly sealed and signed by the peer asked, whose hit names another owner (rule hit_owner); the same answer unchanged is a hit', async () => {
    const { fra, transport, lookup } = await startPair();

    // Control: BEL's answer as sent, and BEL's answer opened and sealed again unchanged.
    const passed = await lookup();
    expect(passed.result).toMatchObject({
      peer: 'BEL',
      outcome: LookupOutcome.LOOKUP_OUTCOME_HIT,
      errorCode: '',
      hits: [{ owner: 'BEL' }],
    });
    const reference = passed.result?.hits[0]?.reference ?? '';
    expect(reference).toMatch(/^roi_/);
    transport.rewrite = (answer) => answer;
    const resealed = await lookup();
    expect(resealed.result).toMatchObject({
      peer: 'BEL',
      outcome: LookupOutcome.LOOKUP_OUTCOME_HIT,
      errorCode: '',
      hits: [{ owner: 'BEL', reference }],
    });
    expect((await fra.node.lookups.history.hit('BEL', reference))?.queryId).toBe(resealed.queryId);

    // The same answer, its hit now naming KEN as owner.
    transport.rewrite = (answer) => ({ ...answer, hits: answer.hits.map((h) => ({ ...h, owner: 'KEN' })) });
    const forged = await lookup();
    expect(forged.result).toMatchObject({
      peer: 'BEL',
      outcome: LookupOutcome.LOOKUP_OUTCOME_ERROR,
      errorCode: 'BAD_SIGNATURE',
      hits: [],
    });
    const refusals = fra.logs.filter((l) => l.component === 'lookup-client' && l.queryId === forged.queryId);
    expect(refusals).toEqual([
      expect.objectContaining({ peer: 'BEL', code: 'BAD_SIGNATURE', rule: 'hit_owner', msg: 'lookup failed' }),
    ]);

    // Nothing of the forged answer is kept as a hit: the audit counts none, and no hit of KEN or
    // BEL points to the forged lookup (BEL's still points to the control).
    const answers = await auditOf(fra, 'lookup.answer');
    expect(answers.find((a) => a.queryId === forged.queryId)).toMatchObject({
      peer: 'BEL',
      outcome: 'error',
      hits: 0,
      code: 'BAD_SIGNATURE',
    });
    expect(answers.filter((a) => a.queryId !== forged.queryId).map((a) => [a.outcome, a.hits])).toEqual([
      ['hit', 1],
      ['hit', 1],
    ]);
    expect(await fra.node.lookups.history.hit('KEN', reference)).toBeUndefined();
    expect((await fra.node.lookups.history.hit('BEL', reference))?.queryId).toBe(resealed.queryId);
  });

  it('checks the destruction fields of a hit (protocol 19.4): a category is required unless recorded destroyed, and then a date and a certificate id', async () => {
    const { fra, transport, lookup } = await startPair();
    const destroyed = { recordedDestroyed: true, destroyedDate: '2025-01-10', certificateId: `dc_${'A'.repeat(22)}` };
    const cases: Array<[(h: LookupAnswer['hits'][number]) => LookupAnswer['hits'][number], string]> = [
      [(h) => ({ ...h, category: 0 }), 'hit_category'],
      [(h) => ({ ...h, ...destroyed, destroyedDate: '2025-02-30' }), 'hit_destroyed'],
      [(h) => ({ ...h, ...destroyed, certificateId: 'dc_\u001b[2J' }), 'hit_destroyed'],
      [(h) => ({ ...h, certificateId: destroyed.certificateId }), 'hit_destroyed'],
    ];
    for (const [change, rule] of cases) {
      transport.rewrite = (answer) => ({ ...answer, hits: answer.hits.map(change) });
      const forged = await lookup();
      expect(forged.result?.outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_ERROR);
      expect(fra.logs.filter((l) => l.queryId === forged.queryId && l.rule === rule)).toHaveLength(1);
    }
    // A weapon recorded destroyed, without a category: a hit.
    transport.rewrite = (answer) => ({
      ...answer,
      hits: answer.hits.map((h) => ({ ...h, category: 0, ...destroyed })),
    });
    const marked = await lookup();
    expect(marked.result).toMatchObject({
      outcome: LookupOutcome.LOOKUP_OUTCOME_HIT,
      hits: [{ category: 0, ...destroyed }],
    });
  });

  it("refuses an answer, correctly sealed and signed by the peer asked, whose correlation_id is not the query envelope's message id (rule correlation)", async () => {
    const { fra, transport, lookup } = await startPair();

    // Control: BEL's answer opened and sealed again unchanged, with the query's message id.
    transport.rewrite = (answer) => answer;
    const control = await lookup();
    expect(control.result).toMatchObject({
      peer: 'BEL',
      outcome: LookupOutcome.LOOKUP_OUTCOME_HIT,
      errorCode: '',
      hits: [{ owner: 'BEL' }],
    });
    const reference = control.result?.hits[0]?.reference ?? '';
    expect(reference).toMatch(/^roi_/);

    // The same answer, body unchanged, sealed as an answer to another query envelope.
    transport.correlationId = 'AAAAAAAAAAAAAAAAAAAAAA';
    const forged = await lookup();
    expect(forged.result).toMatchObject({
      peer: 'BEL',
      outcome: LookupOutcome.LOOKUP_OUTCOME_ERROR,
      errorCode: 'BAD_SIGNATURE',
      hits: [],
    });
    const refusals = fra.logs.filter((l) => l.component === 'lookup-client' && l.queryId === forged.queryId);
    expect(refusals).toEqual([
      expect.objectContaining({ peer: 'BEL', code: 'BAD_SIGNATURE', rule: 'correlation', msg: 'lookup failed' }),
    ]);

    // No hit is kept from it: the audit counts none, and BEL's hit still points to the control.
    const answers = await auditOf(fra, 'lookup.answer');
    expect(answers.find((a) => a.queryId === forged.queryId)).toMatchObject({
      peer: 'BEL',
      outcome: 'error',
      hits: 0,
      code: 'BAD_SIGNATURE',
    });
    expect((await fra.node.lookups.history.hit('BEL', reference))?.queryId).toBe(control.queryId);
  });
});
