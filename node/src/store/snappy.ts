/**
 * Snappy decompression (the raw format of google/snappy's `format_description.txt`), which LevelDB
 * uses for table blocks. Only the store's own file reader needs it (it reads tables without
 * LevelDB), and its input may be damaged: every length and offset is checked, and a malformed
 * input throws instead of reading or writing out of bounds.
 */

/** Largest block a table may hold, decompressed: far above LevelDB's 4 KiB blocks, a guard against a damaged length. */
const MAX_UNCOMPRESSED = 64 * 1024 * 1024;

/** Decompresses one Snappy block; throws `Error('corrupted compressed block contents')` on malformed input. */
export function snappyUncompress(input: Uint8Array): Uint8Array {
  const fail = (): never => {
    throw new Error('corrupted compressed block contents');
  };
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= input.length || shift > 28) fail();
    const byte = input[pos++] as number;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  if (length > MAX_UNCOMPRESSED) fail();
  const output = new Uint8Array(length);
  let out = 0;
  while (pos < input.length) {
    const tag = input[pos++] as number;
    const type = tag & 3;
    if (type === 0) {
      let literal = tag >>> 2;
      if (literal >= 60) {
        const bytes = literal - 59;
        if (pos + bytes > input.length) fail();
        literal = 0;
        for (let b = 0; b < bytes; b += 1) literal += (input[pos + b] as number) * 2 ** (8 * b);
        pos += bytes;
      }
      literal += 1;
      if (pos + literal > input.length || out + literal > length) fail();
      output.set(input.subarray(pos, pos + literal), out);
      pos += literal;
      out += literal;
      continue;
    }
    let copy: number;
    let offset: number;
    if (type === 1) {
      if (pos + 1 > input.length) fail();
      copy = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | (input[pos] as number);
      pos += 1;
    } else if (type === 2) {
      if (pos + 2 > input.length) fail();
      copy = 1 + (tag >>> 2);
      offset = (input[pos] as number) | ((input[pos + 1] as number) << 8);
      pos += 2;
    } else {
      if (pos + 4 > input.length) fail();
      copy = 1 + (tag >>> 2);
      offset =
        ((input[pos] as number) | ((input[pos + 1] as number) << 8) | ((input[pos + 2] as number) << 16)) +
        (input[pos + 3] as number) * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > out || out + copy > length) fail();
    if (offset >= copy) {
      output.copyWithin(out, out - offset, out - offset + copy);
      out += copy;
    } else {
      // Byte by byte: the copy overlaps what it produces (a run).
      for (let i = 0; i < copy; i += 1, out += 1) output[out] = output[out - offset] as number;
    }
  }
  if (out !== length) fail();
  return output;
}
