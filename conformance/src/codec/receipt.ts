import { Receipt, ReceiptBody } from '@tracenet/proto';
import { domainLabel, ed25519Sign, ed25519Verify } from './primitives.js';

const RECEIPT = domainLabel('tracenet.v1/receipt');

/** Signs a receipt body (protocol 4.12): Ed25519 over D("tracenet.v1/receipt") || body bytes. */
export function signReceipt(body: ReceiptBody, signingSecretKey: Uint8Array, original?: Receipt): Receipt {
  return signReceiptBytes(ReceiptBody.encode(body).finish(), signingSecretKey, original);
}

/** Signs the bytes of a receipt body as they are (protocol 0: a signer may use any encoding, or send what a decoder must refuse). */
export function signReceiptBytes(body: Uint8Array, signingSecretKey: Uint8Array, original?: Receipt): Receipt {
  const bytes = Buffer.from(body);
  return { body: bytes, signature: ed25519Sign(Buffer.concat([RECEIPT, bytes]), signingSecretKey), original };
}

/** Who must have signed a receipt, and about which message (protocol 5.4 checks 1–2). */
export interface ReceiptIssuer {
  readonly issuer: string;
  readonly issuerKeyId: string;
  readonly issuerSigningPublicKey: Uint8Array;
  readonly sender: string;
  readonly messageId: string;
}

/** A receipt that fails protocol 5.4 checks 1–2, with the check that failed. */
export class ReceiptFailure extends Error {
  override readonly name = 'ReceiptFailure';
}

/**
 * Checks 1–2 of protocol 5.4: the signature is 64 bytes and verifies over
 * D("tracenet.v1/receipt") || body; the body decodes; version 1; issuer, issuer key id, sender and
 * message id as expected. Returns the decoded body; throws a {@link ReceiptFailure} naming the check.
 */
export function verifyReceipt(receipt: Receipt, expected: ReceiptIssuer): ReceiptBody {
  if (!ed25519Verify(receipt.signature, Buffer.concat([RECEIPT, receipt.body]), expected.issuerSigningPublicKey)) {
    throw new ReceiptFailure(
      `the receipt signature does not verify under ${expected.issuer}'s key over D("tracenet.v1/receipt") || body`,
    );
  }
  let body: ReceiptBody;
  try {
    body = ReceiptBody.decode(receipt.body);
  } catch (error) {
    throw new ReceiptFailure(`the receipt body is not a ReceiptBody: ${(error as Error).message}`);
  }
  const wrong: string[] = [];
  if (body.version !== 1) wrong.push(`version ${body.version}`);
  if (body.issuer !== expected.issuer) wrong.push(`issuer ${JSON.stringify(body.issuer)}`);
  if (body.issuerKeyId !== expected.issuerKeyId) wrong.push(`issuer_key_id ${JSON.stringify(body.issuerKeyId)}`);
  if (body.sender !== expected.sender) wrong.push(`sender ${JSON.stringify(body.sender)}`);
  if (body.messageId !== expected.messageId) wrong.push(`message_id ${JSON.stringify(body.messageId)}`);
  if (wrong.length > 0) {
    throw new ReceiptFailure(
      `the receipt names ${wrong.join(', ')}; expected version 1, issuer ${expected.issuer}, key ${expected.issuerKeyId}, sender ${expected.sender}, message ${expected.messageId}`,
    );
  }
  return body;
}
