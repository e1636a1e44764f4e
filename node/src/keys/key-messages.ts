import { ErrorCode, KeyRevocation, KeyRotation, MessageKind, TracenetError } from '@tracenet/proto';
import { decodeWithSafeIntegers } from '../envelope/safe-integers.js';

/** The message kinds of key management (docs/protocol.md section 15). */
export const KEY_KINDS: readonly MessageKind[] = [
  MessageKind.MESSAGE_KIND_KEY_ROTATION,
  MessageKind.MESSAGE_KIND_KEY_REVOCATION,
];

const KEY_ID = /^[0-9a-f]{16}$/;

/** Decodes a KeyRotation and checks what can be checked without the pinned card (15.2). */
export function decodeKeyRotation(body: Uint8Array): KeyRotation & { card: NonNullable<KeyRotation['card']> } {
  const rotation = decodeWithSafeIntegers(KeyRotation, body, 'KeyRotation', 'body', { 3: 'body.grace_until_ms' });
  const card = rotation.card;
  if (!card || card.body.length === 0)
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'body.card is required', {
      field: 'body.card',
      rule: 'required',
    });
  if (!KEY_ID.test(rotation.previousKeyId)) {
    throw new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      'body.previous_key_id must be a key id (16 lowercase hex characters)',
      { field: 'body.previous_key_id', rule: 'key_id' },
    );
  }
  return { ...rotation, card };
}

/** Decodes a KeyRevocation and checks its fields (15.3). */
export function decodeKeyRevocation(body: Uint8Array): KeyRevocation {
  const revocation = decodeWithSafeIntegers(KeyRevocation, body, 'KeyRevocation', 'body', { 2: 'body.revoked_at_ms' });
  if (revocation.revokedKeyIds.length === 0) {
    throw new TracenetError(ErrorCode.ERROR_CODE_MISSING_FIELD, 'body.revoked_key_ids is required', {
      field: 'body.revoked_key_ids',
      rule: 'required',
    });
  }
  for (const [i, keyId] of revocation.revokedKeyIds.entries()) {
    if (!KEY_ID.test(keyId))
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'not a key id', {
        field: `body.revoked_key_ids[${i}]`,
        rule: 'key_id',
      });
  }
  if (revocation.reason.length > 500) {
    throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'body.reason is longer than 500 characters', {
      field: 'body.reason',
      rule: 'max_length',
    });
  }
  return revocation;
}
