import { connectUnary, generateKeyPairs, signReceipt, verifyPeerCard } from '@tracenet/node';
import {
  AuthorityClient,
  type AuthorityServer,
  ErrorCode,
  ERROR_CODES,
  MessageDirection,
  MessageKind,
  PeerPolicy,
  ReceiptBody,
  RpcStatus,
  STATUS_DETAILS_KEY,
  TracenetError,
  ERROR_DETAIL_TYPE_URL,
  errorCodeName,
} from '@tracenet/proto';
import type { CaseContext, ConformanceCase } from '../case.js';
import { CaseFailure, describe, ensureEqual, ensureOk, ensureRefused } from '../check.js';
import { sleep } from '../fixtures.js';

const E = ErrorCode;
const K = MessageKind;

/** The node's messages of one direction (`ListMessages`). */
async function messages(ctx: CaseContext, direction: MessageDirection) {
  return (await ctx.target.authority.call('listMessages', { direction, limit: 1000, cursor: '' })).messages;
}

/** The Authority API and peer cards (protocol 2, 5.3, 7) and the error wire format (9). */
export const AUTHORITY_CASES: ConformanceCase[] = [
  {
    id: 'authority.token-required',
    section: '7.1',
    feature: 'authority',
    title: 'an Authority call with a wrong bearer token is UNAUTHORIZED (authorization, bearer_token) and has no effect',
    async run(ctx) {
      const client = connectUnary<AuthorityServer>(AuthorityClient, ctx.target.authorityAddress, 'not-the-token');
      try {
        const peer = ctx.host.createPeer();
        const outcome = await ctx.call(client.call('addPeer', { card: peer.card, replaceKeys: false }));
        ensureRefused(outcome, { code: E.ERROR_CODE_UNAUTHORIZED, field: 'authorization', rule: 'bearer_token' });
        const { peers } = await ctx.target.authority.call('listPeers', {});
        if (peers.some((p) => p.participantId === peer.participantId)) throw new CaseFailure('no effect of a refused call', `${peer.participantId} was pinned`);
      } finally {
        client.close();
      }
    },
  },
  {
    id: 'authority.get-peer-card',
    section: '5.3',
    feature: 'authority',
    title: "Federation.GetPeerCard answers a client whose certificate a pinned card names with the node's current card, which verifies",
    async run(ctx) {
      // The suite's client presents the certificate of its fake peers' cards: pinning one admits it (2.5).
      await ctx.peer();
      const outcome = await ctx.host.getPeerCard();
      const { card } = ensureOk(outcome, 'GetPeerCard');
      if (!card) throw new CaseFailure('a card', 'none');
      let body;
      try {
        body = verifyPeerCard(card, Date.now());
      } catch (error) {
        throw new CaseFailure('a card that verifies (protocol 2.3)', (error as Error).message);
      }
      ensureEqual(body.participantId, ctx.target.participantId, 'participant_id');
      ensureEqual(body.keyId, ctx.target.keyId, 'key_id');
    },
  },
  {
    id: 'authority.pin-self-refused',
    section: '2.4',
    feature: 'authority',
    title: "pinning the node's own card is INVALID_PEER_CARD (card.participant_id, not_self)",
    async run(ctx) {
      ensureRefused(await ctx.call(ctx.target.authority.call('addPeer', { card: ctx.target.card, replaceKeys: false })), { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'card.participant_id', rule: 'not_self' });
    },
  },
  {
    id: 'authority.pin-bad-signature',
    section: '2.3',
    feature: 'authority',
    title: 'a card whose signature does not verify is INVALID_PEER_CARD (card.signature, signature)',
    async run(ctx) {
      const peer = ctx.host.createPeer();
      const signature = Buffer.from(peer.card.signature);
      signature[0] = (signature[0] ?? 0) ^ 0x01;
      ensureRefused(await ctx.call(ctx.target.authority.call('addPeer', { card: { body: peer.card.body, signature }, replaceKeys: false })), { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'card.signature', rule: 'signature' });
    },
  },
  {
    id: 'authority.pin-other-keys-refused',
    section: '2.4',
    feature: 'authority',
    title: 'a card of a pinned participant with other keys is INVALID_PEER_CARD (card.key_id, pinned_key)',
    async run(ctx) {
      const peer = await ctx.peer();
      const impostor = ctx.host.createPeer({ participantId: peer.participantId, keys: generateKeyPairs() });
      ensureRefused(await ctx.call(ctx.target.authority.call('addPeer', { card: impostor.card, replaceKeys: false })), { code: E.ERROR_CODE_INVALID_PEER_CARD, field: 'card.key_id', rule: 'pinned_key' });
    },
  },
  {
    id: 'authority.policy-for-unpinned',
    section: '7.2',
    feature: 'authority',
    title: 'SetPeerPolicy for a participant that is not pinned is NOT_FOUND (policy.participant_id, pinned_peer)',
    async run(ctx) {
      const outcome = await ctx.call(ctx.target.authority.call('setPeerPolicy', { policy: PeerPolicy.fromPartial({ participantId: ctx.host.freshId(), acceptRequests: true }) }));
      ensureRefused(outcome, { code: E.ERROR_CODE_NOT_FOUND, field: 'policy.participant_id', rule: 'pinned_peer' });
    },
  },
  {
    id: 'errors.wire-format',
    section: '9.2',
    feature: 'authority',
    title: 'a refusal is a gRPC status of its code with grpc-message "<CODE>: …" and exactly one ErrorDetail in grpc-status-details-bin',
    async run(ctx) {
      const stranger = await ctx.peer({ pin: false });
      const outcome = await ctx.host.deliverRaw(stranger.seal().bytes);
      if (outcome.ok) throw new CaseFailure('a refusal (UNKNOWN_SENDER)', describe(outcome));
      const { raw, grpcCode, grpcMessage, detail } = outcome.error;
      const code = E.ERROR_CODE_UNKNOWN_SENDER;
      ensureEqual(grpcCode, ERROR_CODES[code].grpc, 'gRPC status');
      if (!grpcMessage.startsWith(`${errorCodeName(code)}: `)) throw new CaseFailure(`grpc-message starting with "${errorCodeName(code)}: "`, JSON.stringify(grpcMessage));
      const trailer = raw.metadata.get(STATUS_DETAILS_KEY)[0];
      if (!(trailer instanceof Buffer)) throw new CaseFailure(`a ${STATUS_DETAILS_KEY} trailer`, 'none');
      const status = RpcStatus.decode(trailer);
      ensureEqual(status.code, grpcCode, 'google.rpc.Status.code');
      ensureEqual(status.details.map((d) => d.typeUrl), [ERROR_DETAIL_TYPE_URL], 'google.rpc.Status.details type urls');
      ensureEqual(detail?.retryable, ERROR_CODES[code].retryable, 'ErrorDetail.retryable');
      if (!detail?.message) throw new CaseFailure('ErrorDetail.message', 'empty');
    },
  },
];

/** The node as a sender (protocol 5.4, 5.5): outbox, receipts, retries. */
export const OUTBOUND_CASES: ConformanceCase[] = [
  {
    id: 'outbound.notice-delivered',
    section: '5.5',
    feature: 'outbound',
    title: 'SendNotice delivers a correct envelope to the peer; with a valid ACCEPTED receipt the message moves to sent',
    async run(ctx) {
      const peer = await ctx.peer();
      const { messageId } = await ctx.target.authority.call('sendNotice', { recipient: peer.participantId, subject: 'hello', text: 'from the node under test', correlationId: '' });
      const received = await peer.expect<{ subject: string }>(K.MESSAGE_KIND_NOTICE);
      ensureEqual(received.header.messageId, messageId, 'message id');
      ensureEqual(received.body.subject, 'hello', 'subject');
      for (let i = 0; i < 40 && !(await messages(ctx, MessageDirection.MESSAGE_DIRECTION_SENT)).some((m) => m.messageId === messageId); i += 1) await sleep(50);
      if (!(await messages(ctx, MessageDirection.MESSAGE_DIRECTION_SENT)).some((m) => m.messageId === messageId)) throw new CaseFailure(`${messageId} listed as sent`, 'not listed', 'protocol 5.5');
    },
  },
  {
    id: 'outbound.long-correlation-id-refused',
    section: '7.2',
    feature: 'outbound',
    title: 'SendNotice with a correlation id over 64 characters is INVALID_FIELD (correlation_id, max_length) and nothing is queued or sent',
    async run(ctx) {
      const peer = await ctx.peer();
      const outcome = await ctx.call(ctx.target.authority.call('sendNotice', { recipient: peer.participantId, subject: 's', text: 't', correlationId: 'c'.repeat(65) }));
      ensureRefused(outcome, { code: E.ERROR_CODE_INVALID_FIELD, field: 'correlation_id', rule: 'max_length' });
      await peer.expectNothing(300, 'protocol 7.2');
    },
  },
  {
    id: 'outbound.rejected-ends-message',
    section: '5.5',
    feature: 'outbound',
    title: 'a message the peer rejects with a valid REJECTED receipt fails for good with its code and is not retried',
    async run(ctx) {
      const peer = await ctx.peer();
      peer.responder = () => new TracenetError(E.ERROR_CODE_KIND_NOT_ALLOWED, 'the fake peer does not take notices', { field: 'header.kind', rule: 'peer_policy' });
      const { messageId } = await ctx.target.authority.call('sendNotice', { recipient: peer.participantId, subject: 'one', text: 'rejected', correlationId: '' });
      await peer.expect(K.MESSAGE_KIND_NOTICE);
      await peer.expectNothing(900, 'protocol 5.5: no retry after a valid REJECTED receipt');
      const failed = await messages(ctx, MessageDirection.MESSAGE_DIRECTION_FAILED);
      const entry = failed.find((m) => m.messageId === messageId);
      if (!entry) throw new CaseFailure(`${messageId} listed as failed`, 'not listed', 'protocol 5.5');
      ensureEqual(entry.lastError, 'KIND_NOT_ALLOWED', 'last_error');
    },
  },
  {
    id: 'outbound.bad-receipt-retried',
    section: '5.4',
    feature: 'outbound',
    title: 'a receipt that does not verify is no proof of delivery: the node retries the same message id with a new seal',
    async run(ctx) {
      const peer = await ctx.peer();
      let attempts = 0;
      peer.responder = (message, digest) => {
        attempts += 1;
        if (attempts > 1) return 'default';
        // Signed with a key that is not the peer's: the node must not take it as proof.
        return signReceipt(
          ReceiptBody.fromPartial({ version: 1, issuer: peer.participantId, issuerKeyId: peer.keyId, sender: message.header.sender, messageId: message.header.messageId, envelopeDigest: digest, receivedAtMs: Date.now(), status: 1 }),
          generateKeyPairs().signingSecretKey,
        );
      };
      const { messageId } = await ctx.target.authority.call('sendNotice', { recipient: peer.participantId, subject: 'retry', text: 'me', correlationId: '' });
      const first = await peer.expect(K.MESSAGE_KIND_NOTICE);
      const second = await peer.expect(K.MESSAGE_KIND_NOTICE, { timeoutMs: 8000, context: 'protocol 5.4: a success answer that fails verification is retried' });
      ensureEqual(second.header.messageId, messageId, 'message id of the retry');
      if (second.header.createdAtMs < first.header.createdAtMs || Buffer.compare(Buffer.from(second.bodyBytes), Buffer.from(first.bodyBytes)) !== 0) {
        throw new CaseFailure('a retry sealed anew with the same body and a fresh creation time', 'another body or an older seal', 'protocol 5.5');
      }
    },
  },
];
