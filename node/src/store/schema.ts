import { ErrorCode, TracenetError } from '@tracenet/proto';

/**
 * Checks that a value read back from the store has the shape its repository wrote, and returns it
 * typed. A value that does not (a damaged or hand-edited store, a value of a later layout) is
 * refused with a precise error instead of flowing on as a wrongly typed object.
 */
export type Check<T> = (value: unknown, path: string) => T;

/** A field that may be absent (`exactOptionalPropertyTypes`: absent, never `undefined`). */
export interface OptionalCheck<T> extends Check<T> {
  readonly optional: true;
}

type Shape = Readonly<Record<string, Check<unknown>>>;
type Checked<C> = C extends Check<infer T> ? T : never;
/** The object type a {@link object} shape checks. */
export type ShapeOf<S extends Shape> = {
  readonly [K in keyof S as S[K] extends OptionalCheck<unknown> ? never : K]: Checked<S[K]>;
} & {
  readonly [K in keyof S as S[K] extends OptionalCheck<unknown> ? K : never]?: Checked<S[K]>;
};

/** The error of a value that is not what its repository wrote. */
export function badValue(path: string, expected: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INTERNAL, `stored value ${path} is not ${expected}`, {
    rule: 'store_value',
  });
}

export const string: Check<string> = (value, path) => {
  if (typeof value !== 'string') throw badValue(path, 'a string');
  return value;
};

export const number: Check<number> = (value, path) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badValue(path, 'a number');
  return value;
};

export const boolean: Check<boolean> = (value, path) => {
  if (typeof value !== 'boolean') throw badValue(path, 'a boolean');
  return value;
};

/** One of the given strings or numbers. */
export function literal<L extends string | number>(...allowed: readonly L[]): Check<L> {
  return (value, path) => {
    const found = allowed.find((a) => a === value);
    if (found === undefined) throw badValue(path, `one of ${allowed.join(', ')}`);
    return found;
  };
}

export function optional<T>(check: Check<T>): OptionalCheck<T> {
  return Object.assign((value: unknown, path: string) => check(value, path), { optional: true as const });
}

export function array<T>(check: Check<T>): Check<readonly T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw badValue(path, 'an array');
    return value.map((item: unknown, i) => check(item, `${path}[${i}]`));
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An object with (at least) the fields of `shape`. Fields it does not name are kept as they are:
 * a value written by a later version of this node loses nothing when it is read and written back.
 */
export function object<S extends Shape>(shape: S): Check<ShapeOf<S>> {
  const fields = Object.entries(shape);
  return (value, path) => {
    if (!isRecord(value)) throw badValue(path, 'an object');
    const out: Record<string, unknown> = { ...value };
    for (const [name, check] of fields) {
      const field = value[name];
      if (field === undefined && 'optional' in check) continue;
      out[name] = check(field, path === '' ? name : `${path}.${name}`);
    }
    return out as ShapeOf<S>;
  };
}

/** Either of two shapes, tried in order. */
export function either<A, B>(first: Check<A>, second: Check<B>): Check<A | B> {
  return (value, path) => {
    try {
      return first(value, path);
    } catch {
      return second(value, path);
    }
  };
}
