/**
 * fast-check generators for the live-node fuzz test: what a hostile or broken peer could put on the
 * wire to `Federation/Deliver`, and what a buggy or hostile local client could send to the
 * Authority port. The generators produce plain descriptions (small, printable, replayable from the
 * seed); {@link buildDeliver} and {@link buildAuthority} turn one into request bytes.
 */
import fc from 'fast-check';
import { Envelope, EnvelopeHeader } from '@tracenet/proto';
import * as proto from '@tracenet/proto';
import { ENVELOPE_VERSION } from '../../src/envelope/envelope.js';
import { headerFrom, newMessageId, notice, sealFrom, sealHeader, type Keyed } from '../support/parties.js';

/** Highest message kind the node knows (docs/protocol.md 6.1); kinds above it are unknown. */
const KNOWN_KINDS = 19;

/** One field of well-formed protobuf wire data with a random number and wire type. */
const wireField = fc.record({
  field: fc.integer({ min: 1, max: 40 }),
  wire: fc.constantFrom(0, 1, 2, 5),
  varint: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  bytes: fc.uint8Array({ maxLength: 64 }),
});

/** Valid protobuf of no particular type: decodes, but its fields have whatever types they like. */
export const protobufBytes = fc.array(wireField, { maxLength: 12 }).map((fields) => {
  const out: number[] = [];
  const varint = (v: bigint) => {
    let x = v;
    do {
      const byte = Number(x & 0x7fn);
      x >>= 7n;
      out.push(x > 0n ? byte | 0x80 : byte);
    } while (x > 0n);
  };
  for (const f of fields) {
    varint(BigInt((f.field << 3) | f.wire));
    if (f.wire === 0) varint(f.varint);
    else if (f.wire === 1) for (let i = 0; i < 8; i += 1) out.push(Number((f.varint >> BigInt(8 * i)) & 0xffn));
    else if (f.wire === 5) for (let i = 0; i < 4; i += 1) out.push(Number((f.varint >> BigInt(8 * i)) & 0xffn));
    else {
      varint(BigInt(f.bytes.length));
      out.push(...f.bytes);
    }
  }
  return Uint8Array.from(out);
});

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', 'FRA', 'KEN', 'fra', 'FRA:', 'XX:1', '\u0000', 'A'.repeat(65), newMessageId()),
);
const integer = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 1, 2 ** 31, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
);

/** A request to Deliver, as a description. */
export type DeliverCase =
  | { readonly t: 'random'; readonly bytes: Uint8Array }
  | { readonly t: 'protobuf'; readonly bytes: Uint8Array }
  | { readonly t: 'flip'; readonly base: number; readonly bits: readonly number[] }
  | { readonly t: 'truncate'; readonly base: number; readonly keep: number }
  | { readonly t: 'swap'; readonly base: number; readonly order: readonly [number, number, number] }
  | {
      readonly t: 'sealed';
      readonly kind: number;
      readonly header: Readonly<Record<string, string | number>>;
      readonly body: Uint8Array;
      readonly otherTypeBody: boolean;
    }
  | {
      readonly t: 'huge';
      readonly field: 'header' | 'nonce' | 'ciphertext' | 'correlationId' | 'body';
      readonly size: number;
    }
  | { readonly t: 'replay'; readonly base: number }
  | { readonly t: 'fresh' };

/** How many valid envelopes the mutations start from. */
export const BASE_ENVELOPES = 64;

const base = fc.nat({ max: BASE_ENVELOPES - 1 });

/** Header fields that a sealed case may override, with hostile values. */
const headerOverrides = fc.record(
  {
    version: fc.oneof(
      fc.constant(ENVELOPE_VERSION),
      integer.map((n) => n >>> 0),
    ),
    sender: text,
    recipient: text,
    messageId: text,
    senderKeyId: text,
    recipientKeyId: text,
    createdAtMs: integer,
    expiresAtMs: integer,
    correlationId: fc.string({ maxLength: 80 }),
  },
  { requiredKeys: [] },
);

/**
 * Huge fields, around the size limit (docs/protocol.md 4.2, 5.1): above 4 MiB (`envelope.maxBytes`)
 * the node's gRPC layer refuses by itself; sizes up to 6 MiB go well past it. Sent a few at a time,
 * apart from the bulk: each is megabytes of crypto.
 */
export const hugeCase: fc.Arbitrary<DeliverCase> = fc.record({
  t: fc.constant('huge' as const),
  field: fc.constantFrom(
    'header' as const,
    'nonce' as const,
    'ciphertext' as const,
    'correlationId' as const,
    'body' as const,
  ),
  size: fc.oneof(
    fc.integer({ min: 64 * 1024, max: 4 * 1024 * 1024 - 1024 }),
    fc.integer({ min: 4 * 1024 * 1024 - 64, max: 4 * 1024 * 1024 + 64 }),
    fc.integer({ min: 5 * 1024 * 1024 - 64, max: 6 * 1024 * 1024 }),
  ),
});

/** Every kind of Deliver request the fuzz test sends in bulk, weighted. */
export const deliverCase: fc.Arbitrary<DeliverCase> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({ t: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 1024 }) }),
  },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('protobuf' as const), bytes: protobufBytes }) },
  {
    weight: 14,
    arbitrary: fc.record({
      t: fc.constant('flip' as const),
      base,
      bits: fc.array(fc.nat({ max: 4000 }), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('truncate' as const), base, keep: fc.nat({ max: 600 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('swap' as const),
      base,
      order: fc.constantFrom<[number, number, number]>(
        [1, 0, 2],
        [2, 1, 0],
        [0, 2, 1],
        [1, 2, 0],
        [2, 0, 1],
        [0, 0, 0],
        [2, 2, 2],
      ),
    }),
  },
  {
    weight: 40,
    arbitrary: fc.record({
      t: fc.constant('sealed' as const),
      kind: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0, max: KNOWN_KINDS }) },
        { weight: 1, arbitrary: fc.integer({ min: KNOWN_KINDS + 1, max: 1 << 20 }) },
      ),
      // Most sealed cases keep a correct header so that the body rules are reached.
      header: fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: headerOverrides }),
      body: fc.oneof(fc.uint8Array({ maxLength: 512 }), protobufBytes),
      otherTypeBody: fc.boolean(),
    }),
  },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('replay' as const), base }) },
  { weight: 8, arbitrary: fc.constant({ t: 'fresh' as const }) },
);

/** What building a Deliver request needs: the sender party, the node, and the valid envelopes. */
export interface DeliverContext {
  readonly from: Keyed;
  readonly to: Keyed;
  readonly bases: readonly Envelope[];
  readonly baseBytes: readonly Buffer[];
}

function baseOf(ctx: DeliverContext, i: number): Envelope {
  const envelope = ctx.bases[i % ctx.bases.length];
  if (!envelope) throw new Error('no base envelopes');
  return envelope;
}

/** The bytes of a Deliver case. Huge cases are built when sent, to keep the generated set small. */
export function buildDeliver(c: DeliverCase, ctx: DeliverContext): Buffer {
  switch (c.t) {
    case 'random':
    case 'protobuf':
      return Buffer.from(c.bytes);
    case 'flip': {
      const bytes = Buffer.from(ctx.baseBytes[c.base % ctx.baseBytes.length] ?? Buffer.alloc(1));
      for (const bit of c.bits) {
        const at = Math.floor(bit / 8) % bytes.length;
        bytes[at] = (bytes[at] ?? 0) ^ (1 << (bit % 8));
      }
      return bytes;
    }
    case 'truncate': {
      const bytes = ctx.baseBytes[c.base % ctx.baseBytes.length] ?? Buffer.alloc(0);
      return bytes.subarray(0, Math.min(c.keep, bytes.length - 1));
    }
    case 'swap': {
      const e = baseOf(ctx, c.base);
      const fields = [e.header, e.nonce, e.ciphertext];
      return Buffer.from(
        Envelope.encode({
          header: fields[c.order[0]] ?? e.header,
          nonce: fields[c.order[1]] ?? e.nonce,
          ciphertext: fields[c.order[2]] ?? e.ciphertext,
        }).finish(),
      );
    }
    case 'sealed': {
      const now = Date.now();
      const header = EnvelopeHeader.fromPartial({
        ...headerFrom(ctx.from, ctx.to, now, { kind: c.kind }),
        ...c.header,
      });
      // "Wrong type": the body of another kind (a Notice) under this kind, or bytes of no type at all.
      const body = c.otherTypeBody ? notice() : c.body;
      return sealHeader(ctx.from, ctx.to, header, body).bytes;
    }
    case 'huge': {
      const big = Buffer.alloc(c.size, 0x41);
      const now = Date.now();
      if (c.field === 'correlationId')
        return sealHeader(
          ctx.from,
          ctx.to,
          headerFrom(ctx.from, ctx.to, now, { correlationId: big.toString('latin1') }),
        ).bytes;
      if (c.field === 'body') return sealFrom(ctx.from, ctx.to, now, { body: big }).bytes;
      const e = baseOf(ctx, c.size);
      return Buffer.from(Envelope.encode({ ...e, [c.field]: big }).finish());
    }
    case 'replay':
      return ctx.baseBytes[c.base % ctx.baseBytes.length] ?? Buffer.alloc(0);
    case 'fresh':
      return sealFrom(ctx.from, ctx.to, Date.now()).bytes;
  }
}

/** A generated message type as ts-proto emits it. */
interface MessageType {
  fromPartial(object: unknown): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
}

/** A unary method of an Authority-port service, with its request type. */
export interface UnaryMethod {
  readonly path: string;
  readonly request: MessageType;
}

/**
 * Every unary method of the Authority, Cases, Records and Lookups services, with the generated type
 * of its request (read from the generated serializer), less the ones in `exclude`.
 */
export function unaryMethods(exclude: ReadonlySet<string>): UnaryMethod[] {
  const services = [
    proto.AuthorityService,
    proto.CasesService,
    proto.RecordsService,
    proto.LookupsService,
  ] as unknown as Array<
    Record<
      string,
      { path: string; requestStream: boolean; responseStream: boolean; requestSerialize: { toString(): string } }
    >
  >;
  const types = proto as unknown as Record<string, MessageType | undefined>;
  const methods: UnaryMethod[] = [];
  for (const service of services) {
    for (const [name, method] of Object.entries(service)) {
      if (method.requestStream || method.responseStream || exclude.has(name)) continue;
      const typeName = /(\w+)\.encode\(/.exec(method.requestSerialize.toString())?.[1];
      const request = typeName ? types[typeName] : undefined;
      if (!request || typeof request.fromPartial !== 'function') throw new Error(`no request type for ${method.path}`);
      methods.push({ path: method.path, request });
    }
  }
  return methods;
}

/** A call to the Authority port, as a description. */
export interface AuthorityCase {
  readonly method: number;
  readonly token: 'valid' | 'none' | 'wrong';
  /** Values for the request's fields, by position in its default object; or raw bytes. */
  readonly values: readonly unknown[] | Uint8Array;
}

const fieldValue = fc.oneof(
  text,
  integer,
  fc.boolean(),
  fc.uint8Array({ maxLength: 64 }),
  fc.array(text, { maxLength: 4 }),
  fc.dictionary(
    fc.constantFrom(
      'card',
      'body',
      'signature',
      'subject',
      'text',
      'manufacturer',
      'serialNumber',
      'recordId',
      'id',
      'category',
      'date',
    ),
    fc.oneof(text, integer, fc.uint8Array({ maxLength: 32 })),
  ),
  fc.constant(undefined),
);

/** Every kind of Authority call the fuzz test sends. */
export function authorityCase(methods: number): fc.Arbitrary<AuthorityCase> {
  return fc.record({
    method: fc.nat({ max: methods - 1 }),
    token: fc.constantFrom<AuthorityCase['token']>('valid', 'valid', 'valid', 'valid', 'none', 'wrong'),
    values: fc.oneof(
      { weight: 3, arbitrary: fc.array(fieldValue, { maxLength: 12 }) },
      { weight: 1, arbitrary: fc.oneof(fc.uint8Array({ maxLength: 256 }), protobufBytes) },
    ),
  });
}

/**
 * The request bytes of an Authority case: its values placed on the request type's fields (each of
 * the JavaScript type of that field's default where it fits, anything otherwise) through
 * `fromPartial`, then encoded; raw bytes are sent as they are.
 */
export function buildAuthority(c: AuthorityCase, method: UnaryMethod): Buffer {
  if (c.values instanceof Uint8Array) return Buffer.from(c.values);
  const defaults = method.request.fromPartial({}) as Record<string, unknown>;
  const partial: Record<string, unknown> = {};
  Object.keys(defaults).forEach((key, i) => {
    const value = c.values[i];
    const wanted = defaults[key];
    if (value === undefined) return;
    const fits =
      wanted === undefined ||
      (typeof wanted === typeof value && Array.isArray(wanted) === Array.isArray(value)) ||
      (wanted instanceof Uint8Array && value instanceof Uint8Array);
    if (fits) partial[key] = value;
  });
  try {
    return Buffer.from(method.request.encode(method.request.fromPartial(partial)).finish());
  } catch {
    // A value the encoder refuses (a string for a nested message): send the fields that encode.
    return Buffer.from(method.request.encode(method.request.fromPartial({})).finish());
  }
}
