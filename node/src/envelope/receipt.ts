import { ErrorCode, Receipt, ReceiptBody, ReceiptStatus, TracenetError } from '@tracenet/proto';
import { signDetached } from '../crypto/ed25519.js';
import { domain, sodium } from '../crypto/sodium.js';
import { decodeWithSafeIntegers } from './safe-integers.js';

const RECEIPT_DOMAIN = domain('tracenet.v1/receipt');

/** Signs a receipt body with the recipient's signing key. */
export function signReceipt(body: ReceiptBody, signingSecretKey: Uint8Array): Receipt {
  const bytes = Buffer.from(ReceiptBody.encode(body).finish());
  const signature = signDetached(Buffer.concat([RECEIPT_DOMAIN, bytes]), signingSecretKey);
  return { body: bytes, signature, original: undefined };
}

/** Base64 of a serialized receipt, as kept in the store (seen-set, sent and failed records). */
export function encodeReceipt(receipt: Receipt): string {
  return Buffer.from(Receipt.encode(receipt).finish()).toString('base64');
}

/** A signing key of a receipt's issuer, with the key id a receipt signed with it names. */
export interface IssuerKey {
  readonly keyId: string;
  readonly signingPublicKey: Uint8Array;
}

/** What the sender expects a receipt to say. */
export interface ExpectedReceipt {
  readonly issuer: string;
  /** Key id of the issuer's card the envelope was sealed to; the receipt must name it. */
  readonly issuerKeyId: string;
  readonly issuerSigningPublicKey: Uint8Array;
  readonly sender: string;
  readonly messageId: string;
  /**
   * Keys of the issuer's previous cards whose rotation grace has not ended (docs/protocol.md 15.2):
   * a receipt the issuer remembered from before its rotation — the `original` of a DUPLICATE, a
   * REJECTED receipt — may be signed with one of them (5.4). Never accepted for a new answer.
   */
  readonly previousIssuerKeys?: readonly IssuerKey[];
}

function badReceipt(message: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_BAD_SIGNATURE, message, { field: 'receipt', rule: 'receipt' });
}

/**
 * Verifies one receipt's signature with the key of the card the envelope was sealed to, and that
 * it is about the expected message.
 */
export function verifyReceipt(receipt: Receipt, expected: ExpectedReceipt): ReceiptBody {
  return verifyWith(receipt, expected, [
    { keyId: expected.issuerKeyId, signingPublicKey: expected.issuerSigningPublicKey },
  ]);
}

/**
 * Verifies a receipt that the issuer may have remembered from before a rotation of its keys (the
 * `original` of a DUPLICATE, a REJECTED receipt): signed with the key of the card the envelope was
 * sealed to, or with one of `expected.previousIssuerKeys`, and naming the key that verifies it
 * (docs/protocol.md 5.4).
 *
 * @example
 * ```ts
 * const previousIssuerKeys = peers.previousKeys(peer, clock.now());
 * const body = verifyRememberedReceipt(error.receipt, { ...expected, previousIssuerKeys });
 * ```
 */
export function verifyRememberedReceipt(receipt: Receipt, expected: ExpectedReceipt): ReceiptBody {
  return verifyWith(receipt, expected, [
    { keyId: expected.issuerKeyId, signingPublicKey: expected.issuerSigningPublicKey },
    ...(expected.previousIssuerKeys ?? []),
  ]);
}

function verifyWith(receipt: Receipt, expected: ExpectedReceipt, keys: readonly IssuerKey[]): ReceiptBody {
  const s = sodium();
  const signed = Buffer.concat([RECEIPT_DOMAIN, receipt.body]);
  const key =
    receipt.signature.length === s.crypto_sign_BYTES
      ? keys.find((k) => s.crypto_sign_verify_detached(receipt.signature, signed, k.signingPublicKey))
      : undefined;
  if (!key) throw badReceipt('receipt signature does not verify');
  const body = decodeWithSafeIntegers(ReceiptBody, receipt.body, 'ReceiptBody', 'receipt.body', {
    7: 'receipt.body.received_at_ms',
  });
  if (body.version !== 1) throw badReceipt(`receipt version ${body.version} is not supported`);
  if (
    body.issuer !== expected.issuer ||
    body.issuerKeyId !== key.keyId ||
    body.sender !== expected.sender ||
    body.messageId !== expected.messageId
  ) {
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
 * the same message. The answer itself is signed with the keys the envelope was sealed to; the
 * original may be signed with a previous key (see {@link verifyRememberedReceipt}).
 */
export function verifyDeliveryReceipt(receipt: Receipt, expected: ExpectedReceipt, digest: Uint8Array): DeliveryProof {
  const body = verifyReceipt(receipt, expected);
  if (!Buffer.from(body.envelopeDigest).equals(Buffer.from(digest)))
    throw badReceipt('receipt digest does not match the envelope sent');
  if (body.status === ReceiptStatus.RECEIPT_STATUS_ACCEPTED) {
    return { status: body.status, receipt, body, accepted: body };
  }
  if (body.status === ReceiptStatus.RECEIPT_STATUS_DUPLICATE) {
    if (!receipt.original) throw badReceipt('duplicate receipt without the original receipt');
    const accepted = verifyRememberedReceipt(receipt.original, expected);
    if (accepted.status !== ReceiptStatus.RECEIPT_STATUS_ACCEPTED) throw badReceipt('original receipt is not ACCEPTED');
    return { status: body.status, receipt, body, accepted };
  }
  throw badReceipt(`receipt status ${body.status} does not prove delivery`);
}
