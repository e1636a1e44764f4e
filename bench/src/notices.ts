import { derivePairKey, type KeyPairs, randomBytes, sealEnvelope, type SealedEnvelope } from '@tracenet/node';
import { MessageKind, Notice } from '@tracenet/proto';

/** One side of a benchmark's envelopes: its participant id, key id and key pairs. */
export interface BenchParty {
  readonly participantId: string;
  readonly keyId: string;
  readonly keys: KeyPairs;
}

/**
 * A function that seals a Notice envelope with a body of about `bodyBytes` from `sender` to
 * `recipient`, each with its own message id, valid for an hour from now: what the delivery and
 * envelope benchmarks send and open.
 */
export function noticeSealer(sender: BenchParty, recipient: BenchParty, bodyBytes: number): () => SealedEnvelope {
  const pairKey = derivePairKey(
    sender.keys.encryptionSecretKey,
    sender.keys.encryptionPublicKey,
    recipient.keys.encryptionPublicKey,
  );
  const body = Buffer.from(Notice.encode({ subject: 'bench', text: 'x'.repeat(bodyBytes) }).finish());
  const now = Date.now();
  return () =>
    sealEnvelope({
      sender: sender.participantId,
      senderKeyId: sender.keyId,
      senderSigningSecretKey: sender.keys.signingSecretKey,
      recipient: recipient.participantId,
      recipientKeyId: recipient.keyId,
      pairKey,
      messageId: randomBytes(16).toString('base64url'),
      kind: MessageKind.MESSAGE_KIND_NOTICE,
      body,
      createdAtMs: now,
      expiresAtMs: now + 3_600_000,
    });
}
