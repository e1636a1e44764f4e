import { badValue, type Check } from './schema.js';
import { operation, type Operation, type Range, type Snapshot, type Space, type SpaceName } from './space.js';

/** How a repository's values are written as text and checked when read back. */
export interface Codec<T> {
  encode(value: T): string;
  /** Throws (INTERNAL, rule `store_value`) when `text` is not a value of this codec; `path` names it. */
  decode(text: string, path: string): T;
}

/** A JSON codec that checks every value it reads with `check`. */
export function jsonCodec<T>(check: Check<T>): Codec<T> {
  return {
    encode: (value) => {
      // As LevelDB's json encoding did: no null or undefined value, nothing JSON cannot represent.
      const text = value === null ? undefined : (JSON.stringify(value) as string | undefined);
      if (text === undefined) throw new TypeError('the value cannot be stored');
      return text;
    },
    decode: (text, path) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw badValue(path, 'JSON');
      }
      return check(parsed, path);
    },
  };
}

/** A protobuf message type as ts-proto generates it. */
export interface MessageType<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/**
 * A protobuf message kept as `{ <field>: base64 of its bytes }` (the layout the node has always
 * used for cases, policies, hits, events): the contract stays the one description of the value.
 */
export function protoCodec<T>(field: string, type: MessageType<T>): Codec<T> {
  return {
    encode: (value) => JSON.stringify({ [field]: Buffer.from(type.encode(value).finish()).toString('base64') }),
    decode: (text, path) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw badValue(path, 'JSON');
      }
      const encoded =
        typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[field] : undefined;
      if (typeof encoded !== 'string') throw badValue(`${path}.${field}`, 'a base64 string');
      try {
        return type.decode(Buffer.from(encoded, 'base64'));
      } catch {
        throw badValue(`${path}.${field}`, 'a serialized message');
      }
    },
  };
}

/**
 * A typed key space: values of one type under string keys, in key order. Reads decode and check;
 * writes return {@link Operation}s for the caller's atomic batch.
 */
export class Collection<T> {
  constructor(
    readonly name: SpaceName,
    private readonly space: Space,
    private readonly codec: Codec<T>,
  ) {}

  #decode(key: string, text: string): T {
    return this.codec.decode(text, `${this.name}/${JSON.stringify(key).slice(1, -1)}`);
  }

  async get(key: string, options: { readonly snapshot?: Snapshot } = {}): Promise<T | undefined> {
    const text = await this.space.get(key, options.snapshot);
    return text === undefined ? undefined : this.#decode(key, text);
  }

  async getMany(keys: readonly string[]): Promise<Array<T | undefined>> {
    const texts = await this.space.getMany(keys);
    return texts.map((text, i) => (text === undefined ? undefined : this.#decode(keys[i] ?? '', text)));
  }

  /** A synchronous point read (see {@link Space.getSync}); undefined when the engine cannot now. */
  getSync(key: string): { value: T | undefined } | undefined {
    const read = this.space.getSync(key);
    if (read === undefined) return undefined;
    return { value: read.value === undefined ? undefined : this.#decode(key, read.value) };
  }

  async *entries(range: Range = {}): AsyncGenerator<[string, T]> {
    for await (const [key, text] of this.space.entries(range)) yield [key, this.#decode(key, text)];
  }

  async *values(range: Range = {}): AsyncGenerator<T> {
    for await (const [key, text] of this.space.entries(range)) yield this.#decode(key, text);
  }

  /** Every value of `range`, in key order. */
  async all(range: Range = {}): Promise<T[]> {
    const values: T[] = [];
    for await (const value of this.values(range)) values.push(value);
    return values;
  }

  keys(range: Range = {}): AsyncGenerator<string> {
    return this.space.keys(range);
  }

  /** Entries of `range` with their raw text, not decoded: for readers that judge damage themselves (audit verification). */
  raw(range: Range = {}): AsyncGenerator<[string, string]> {
    return this.space.entries(range);
  }

  /** How many keys `range` holds (one pass over the keys). */
  async count(range: Range = {}): Promise<number> {
    let n = 0;
    for await (const _ of this.space.keys(range)) n += 1;
    return n;
  }

  /** The writes that delete every key of `range` (for a test or a broken node that forgets). */
  async clear(range: Range = {}): Promise<Operation[]> {
    const operations: Operation[] = [];
    for await (const key of this.space.keys(range)) operations.push(this.del(key));
    return operations;
  }

  put(key: string, value: T): Operation {
    return operation('put', this.name, key, this.codec.encode(value));
  }

  del(key: string): Operation {
    return operation('del', this.name, key);
  }
}
