import { ErrorCode, Receipt, ReceiptBody, ReceiptStatus, TracenetError } from '@tracenet/proto';
import { domain, sodium, toBuffer } from '../crypto/sodium.js';
import { decodeWithSafeIntegers } from './safe-integers.js';

const RECEIPT_DOMAIN = domain('tracenet.v1/receipt');

/** Signs a receipt body with the recipient's signing key. */
export function signReceipt(body: ReceiptBody, signingSecretKey: Uint8Array): Receipt {
  const bytes = Buffer.from(ReceiptBody.encode(body).finish());
  const signature = sodium().crypto_sign_detached(Buffer.concat([RECEIPT_DOMAIN, bytes]), signingSecretKey);
  return { body: bytes, signature: toBuffer(signature), original: undefined };
}

/** Base64 of a serialized receipt, as kept in the store (seen-set, sent and failed records). */
export function encodeReceipt(receipt: Receipt): string {
  return Buffer.from(Receipt.encode(receipt).finish()).toString('base64');
}

/** What the sender expects a receipt to say. */
export interface ExpectedReceipt {
  readonly issuer: string;
  /** Key id of the issuer's pinned card; the receipt must name it. */
  readonly issuerKeyId: string;
  readonly issuerSigningPublicKey: Uint8Array;
  readonly sender: string;
  readonly messageId: string;
}

function badReceipt(message: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_BAD_SIGNATURE, message, { field: 'receipt', rule: 'receipt' });
}

/** Verifies one receipt's signature and that it is about the expected message. */
export function verifyReceipt(receipt: Receipt, expected: ExpectedReceipt): ReceiptBody {
  const s = sodium();
  const signed = Buffer.concat([RECEIPT_DOMAIN, receipt.body]);
  if (receipt.signature.length !== s.crypto_sign_BYTES || !s.crypto_sign_verify_detached(receipt.signature, signed, expected.issuerSigningPublicKey)) {
    throw badReceipt('receipt signature does not verify');
  }
  const body = decodeWithSafeIntegers(ReceiptBody, receipt.body, 'ReceiptBody', 'receipt.body', { 7: 'receipt.body.received_at_ms' });
  if (body.version !== 1) throw badReceipt(`receipt version ${body.version} is not supported`);
  if (body.issuer !== expected.issuer || body.issuerKeyId !== expected.issuerKeyId || body.sender !== expected.sender || body.messageId !== expected.messageId) {
    throw badReceipt('receipt names another message, sender, issuer or issuer key');
  }
  return body;
}

/** A receipt that proves delivery of one attempt: the receipt itself and the first receipt. */
export interface DeliveryProof {
  readonly status: ReceiptStatus.RECEIPT_STATUS_ACCEPTED | ReceiptStatus.RECEIPT_STATUS_DUPLICATE;
  readonly receipt: Receipt;
  readonly body: ReceiptBody;
  /** The ACCEPTED receipt of the first delivery (the same as `receipt` when not a duplicate). */
  readonly accepted: ReceiptBody;
}

/**
 * Checks that a Deliver answer proves delivery of the envelope with `digest`: an ACCEPTED receipt
 * for this digest, or a DUPLICATE receipt for this digest carrying a valid ACCEPTED original for
 * the same message.
 */
export function verifyDeliveryReceipt(receipt: Receipt, expected: ExpectedReceipt, digest: Uint8Array): DeliveryProof {
  const body = verifyReceipt(receipt, expected);
  if (!Buffer.from(body.envelopeDigest).equals(Buffer.from(digest))) throw badReceipt('receipt digest does not match the envelope sent');
  if (body.status === ReceiptStatus.RECEIPT_STATUS_ACCEPTED) {
    return { status: body.status, receipt, body, accepted: body };
  }
  if (body.status === ReceiptStatus.RECEIPT_STATUS_DUPLICATE) {
    if (!receipt.original) throw badReceipt('duplicate receipt without the original receipt');
    const accepted = verifyReceipt(receipt.original, expected);
    if (accepted.status !== ReceiptStatus.RECEIPT_STATUS_ACCEPTED) throw badReceipt('original receipt is not ACCEPTED');
    return { status: body.status, receipt, body, accepted };
  }
  throw badReceipt(`receipt status ${body.status} does not prove delivery`);
}
