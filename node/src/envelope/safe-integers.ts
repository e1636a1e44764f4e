import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ErrorCode, TracenetError } from '@tracenet/proto';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Decodes a protobuf message whose `int64` fields become JavaScript numbers, naming the field when
 * one holds a value outside ±(2^53 − 1) (docs/protocol.md section 0). The generated decoder
 * refuses such a value rather than rounding it, but without saying which field; this tells the
 * sender. `int64Fields` maps the field numbers of the message's top-level `int64` fields to their
 * paths; `name` is the message type, for the text of a MALFORMED refusal.
 *
 * Throws INVALID_FIELD (the field's path, rule `safe_integer`) for such a value; any other decoding
 * failure is MALFORMED (`malformedField`, rule `protobuf`).
 *
 * @example
 * ```ts
 * const header = decodeWithSafeIntegers(EnvelopeHeader, bytes, 'EnvelopeHeader', 'envelope.header', { 6: 'header.created_at_ms', 7: 'header.expires_at_ms' });
 * ```
 */
export function decodeWithSafeIntegers<T>(
  codec: { decode(bytes: Uint8Array): T },
  bytes: Uint8Array,
  name: string,
  malformedField: string,
  int64Fields: Readonly<Record<number, string>>,
): T {
  try {
    return codec.decode(bytes);
  } catch (cause) {
    const field = unsafeInt64Field(bytes, int64Fields);
    if (field !== undefined) {
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, `${field} lies outside ±(2^53 − 1), the integers this protocol carries exactly`, { field, rule: 'safe_integer', cause });
    }
    throw new TracenetError(ErrorCode.ERROR_CODE_MALFORMED, `${malformedField} is not a valid ${name} message`, { field: malformedField, rule: 'protobuf', cause });
  }
}

/** The path of the first listed int64 field holding a value outside ±(2^53 − 1), if any. */
function unsafeInt64Field(bytes: Uint8Array, int64Fields: Readonly<Record<number, string>>): string | undefined {
  const reader = new BinaryReader(bytes);
  try {
    while (reader.pos < reader.len) {
      const [fieldNo, wireType] = reader.tag();
      const path = int64Fields[fieldNo];
      if (path === undefined || wireType !== WireType.Varint) {
        reader.skip(wireType, fieldNo);
        continue;
      }
      const value = BigInt(reader.int64());
      if (value > MAX_SAFE || value < -MAX_SAFE) return path;
    }
  } catch {
    // Broken bytes before any such field: the message is simply malformed.
  }
  return undefined;
}
