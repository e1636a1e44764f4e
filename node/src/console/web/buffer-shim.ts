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

/** Bytes that also answer `toString('base64')`, as the codecs ask of a Buffer. */
function bytesOf(source: ArrayLike<number>): Uint8Array {
  const bytes = Uint8Array.from(source);
  Object.defineProperty(bytes, 'toString', {
    value: (encoding?: string) => (encoding === 'base64' ? toBase64(bytes) : Array.prototype.join.call(bytes, ',')),
  });
  return bytes;
}

const shim = {
  from(input: string | ArrayLike<number>, encoding?: string): Uint8Array {
    if (typeof input === 'string')
      return bytesOf(encoding === 'base64' ? fromBase64(input) : new TextEncoder().encode(input));
    return bytesOf(input);
  },
  /** Empty bytes of a message's defaults (`createBase…()` of every message with a bytes field). */
  alloc(size: number): Uint8Array {
    return bytesOf(new Uint8Array(size));
  },
};

const scope = globalThis as { Buffer?: unknown };
scope.Buffer ??= shim;

export { fromBase64, toBase64 };
