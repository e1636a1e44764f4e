/**
 * The generated codecs (ts-proto, `env=node`) turn bytes into base64 and back with
 * `globalThis.Buffer`, which browsers lack. This stand-in does exactly those two things.
 */
function fromBase64(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Bytes that write themselves as base64, as a Buffer does (`Buffer.from(bytes).toString('base64')`). */
class Bytes extends Uint8Array {
  override toString(encoding?: string): string {
    return encoding === 'base64' ? toBase64(this) : super.toString();
  }
}

const shim = {
  from(input: string | Uint8Array, encoding?: string): Uint8Array {
    if (typeof input === 'string' && encoding === 'base64') return new Bytes(fromBase64(input));
    return new Bytes(input instanceof Uint8Array ? input : new TextEncoder().encode(input));
  },
  // The codecs' empty value of a bytes field (`Buffer.alloc(0)`), e.g. in `Photo.fromPartial`.
  alloc(size: number): Uint8Array {
    return new Bytes(size);
  },
};

const scope = globalThis as { Buffer?: unknown };
scope.Buffer ??= shim;

export { fromBase64, toBase64 };
