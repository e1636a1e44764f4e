import { EnvelopeHeader, ErrorCode, ReceiptBody, ReceiptStatus } from '@tracenet/proto';
import type { ConformanceCase } from '../case.js';
import { CaseFailure, ensureAccepted, ensureEqual, ensureRefused } from '../check.js';
import { participantKeys } from '../codec/index.js';
import { VECTORS as V } from '../vectors.js';

const hex = (value: string) => Buffer.from(value, 'hex');

/**
 * The 3.8 test vectors against the node under test: a node holding BEL's vector keys receives the
 * vector envelope from a fake FRA holding FRA's, and its receipts are compared with the vector's.
 */
export const VECTOR_CASES: ConformanceCase[] = [
  {
    id: 'vectors.known-envelope',
    section: '3.8',
    feature: 'envelope',
    title:
      "a node with BEL's vector keys opens the 3.8 envelope and signs receipts that match the 3.8 receipt field by field",
    async run(ctx) {
      const bel = { signingSeed: hex(V.bel.signingSeed), encryptionSecretKey: hex(V.bel.encryptionSecretKey) };
      const node = await ctx.node({ participantId: 'BEL', keys: bel });
      ensureEqual(node.target.keyId, V.bel.keyId, "the key id of the node started with BEL's vector keys (3.8)");
      const fra = await node.peer({
        participantId: 'FRA',
        keys: participantKeys(hex(V.fra.signingSeed), hex(V.fra.encryptionSecretKey)),
      });
      ensureEqual(fra.keyId, V.fra.keyId, "FRA's key id");
      ensureEqual(fra.pairKey().toString('hex'), V.pairKey, 'the pair key (FRA, BEL)');
      const issuer = {
        issuer: 'BEL',
        issuerKeyId: V.bel.keyId,
        issuerSigningPublicKey: hex(V.bel.signingPublicKey),
        sender: 'FRA',
        messageId: V.header.messageId,
      };
      // The vector's clock is fixed in the past: the AEAD check passes (the node derived the vector's
      // pair key), then step 6 rejects it, with a REJECTED receipt naming the vector's digest.
      const old = await node.host.deliverRaw(hex(V.envelope));
      ensureRefused(
        old,
        {
          code: ErrorCode.ERROR_CODE_OUTSIDE_TIME_WINDOW,
          field: 'header.created_at_ms',
          rule: 'replay_window',
          receipt: 'rejected',
        },
        { ...issuer, digest: hex(V.envelopeDigest) },
      );
      // The same message sealed now (time and nonce new, all else the vector's) is accepted, and its
      // receipt is the vector's receipt but for the digest and the time of receipt.
      const now = Date.now();
      const fresh = fra.seal({
        body: hex(V.body),
        header: { ...V.header, createdAtMs: now, expiresAtMs: now + (V.header.expiresAtMs - V.header.createdAtMs) },
      });
      const sent = EnvelopeHeader.decode(fresh.envelope.header);
      ensureEqual(
        { ...sent, createdAtMs: 0, expiresAtMs: 0 },
        { ...V.header, createdAtMs: 0, expiresAtMs: 0 },
        'the re-sealed header',
      );
      const body = ensureAccepted(await node.host.deliverRaw(fresh.bytes), { ...issuer, digest: fresh.digest });
      const vector = ReceiptBody.decode(hex(V.receipt.body));
      ensureEqual(
        { ...body, envelopeDigest: '', receivedAtMs: 0 },
        { ...vector, envelopeDigest: '', receivedAtMs: 0 },
        'the receipt body but for envelope_digest and received_at_ms',
      );
      if (body.status !== ReceiptStatus.RECEIPT_STATUS_ACCEPTED)
        throw new CaseFailure('an ACCEPTED receipt', ReceiptStatus[body.status] ?? String(body.status));
    },
  },
];
