import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ErrorCode, TracenetError } from '@tracenet/proto';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** What a decode refuses with, beyond the defaults of {@link decodeWithSafeIntegers}. */
export interface SafeIntegerOptions {
  /** The code of both refusals instead of INVALID_FIELD and MALFORMED (a peer card: INVALID_PEER_CARD). */
  readonly code?: ErrorCode;
  /** Paths of the message's top-level `uint64` fields, by field number. */
  readonly uint64Fields?: Readonly<Record<number, string>>;
}

/**
 * Decodes a protobuf message whose `int64` fields become JavaScript numbers, naming the field when
 * one holds a value outside ±(2^53 − 1) (docs/protocol.md section 0). The generated decoder
 * refuses such a value rather than rounding it, but without saying which field; this tells the
 * sender. `int64Fields` maps the field numbers of the message's top-level `int64` fields to their
 * paths (`options.uint64Fields` those of its `uint64` fields); `name` is the message type, for the
 * text of a MALFORMED refusal.
 *
 * Throws INVALID_FIELD (the field's path, rule `safe_integer`) for such a value; any other decoding
 * failure is MALFORMED (`malformedField`, rule `protobuf`); `options.code` replaces both codes.
 *
 * @example
 * ```ts
 * const header = decodeWithSafeIntegers(EnvelopeHeader, bytes, 'EnvelopeHeader', 'envelope.header', { 6: 'header.created_at_ms', 7: 'header.expires_at_ms' });
 * const body = decodeWithSafeIntegers(RosterBody, bytes, 'RosterBody', 'roster.body', { 4: 'roster.issued_at_ms' }, { uint64Fields: { 3: 'roster.serial' } });
 * ```
 */
export function decodeWithSafeIntegers<T>(
  codec: { decode(bytes: Uint8Array): T },
  bytes: Uint8Array,
  name: string,
  malformedField: string,
  int64Fields: Readonly<Record<number, string>>,
  options: SafeIntegerOptions = {},
): T {
  try {
    return codec.decode(bytes);
  } catch (cause) {
    const field = unsafeIntegerField(bytes, int64Fields, options.uint64Fields ?? {});
    if (field !== undefined) {
      throw new TracenetError(
        options.code ?? ErrorCode.ERROR_CODE_INVALID_FIELD,
        `${field} lies outside ±(2^53 − 1), the integers this protocol carries exactly`,
        {
          field,
          rule: 'safe_integer',
          cause,
        },
      );
    }
    throw new TracenetError(
      options.code ?? ErrorCode.ERROR_CODE_MALFORMED,
      `${malformedField} is not a valid ${name} message`,
      { field: malformedField, rule: 'protobuf', cause },
    );
  }
}

/** The path of the first listed integer field holding a value outside ±(2^53 − 1), if any. */
function unsafeIntegerField(
  bytes: Uint8Array,
  int64Fields: Readonly<Record<number, string>>,
  uint64Fields: Readonly<Record<number, string>>,
): string | undefined {
  const reader = new BinaryReader(bytes);
  try {
    // Stryker disable next-line EqualityOperator: equivalent: at the end a further read throws, and the catch below returns undefined as the loop's end does
    while (reader.pos < reader.len) {
      const [fieldNo, wireType] = reader.tag();
      const signed = int64Fields[fieldNo];
      const path = signed ?? uint64Fields[fieldNo];
      if (path === undefined || wireType !== WireType.Varint) {
        reader.skip(wireType, fieldNo);
        continue;
      }
      // The same varint is -1 as an int64 and 2^64 - 1 as a uint64.
      const raw = BigInt(reader.uint64());
      const value = signed === undefined ? raw : BigInt.asIntN(64, raw);
      if (value > MAX_SAFE || value < -MAX_SAFE) return path;
    }
  } catch {
    // Broken bytes before any such field: the message is simply malformed.
  }
  return undefined;
}
