import { normaliseSerial } from './normalise.js';

/** Known characters (letters and digits) a wildcard serial must have besides its wildcards. */
export const WILDCARD_MIN_KNOWN = 3;
/**
 * Wildcards a serial pattern may hold at most, each `?` and each run of `*` counting one
 * (docs/protocol.md 13.4). The node's own matcher costs the same whatever the count; the bound
 * keeps the engines of other registries (SQL `LIKE`, an integrator's adapter) cheap too, and a
 * pattern of mostly wildcards is a trawl through the records, not a lookup.
 */
export const MAX_WILDCARDS = 10;
const WILDCARD = /[?*]/;

/** A serial of a query, normalised, with its wildcards. */
export interface SerialPattern {
  /** Normalised serial (11.2) with `?` and `*` kept, runs of `*` collapsed to one: `AB12?4*`. */
  readonly pattern: string;
  /** The query used wildcards: every match is a candidate, marked partial. */
  readonly partial: boolean;
  /** Known characters: the letters and digits of the pattern. */
  readonly known: number;
  /** Wildcards of the pattern: each `?` and each (collapsed) `*`. */
  readonly wildcards: number;
  /** The literal characters before the first wildcard (the whole serial when exact): where the index scan starts. */
  readonly prefix: string;
  /**
   * Whether a normalised serial matches: in O(n·m) time at worst for a serial of n and a pattern
   * of m characters, never by backtracking. Adapters use it rather than a regular expression.
   */
  test(serial: string): boolean;
}

/**
 * Reads the serial of a lookup query. Without wildcards it is the normalised serial (11.2) and
 * matches only itself. With wildcards, each literal part is normalised on its own and the
 * wildcards stand for characters of the normalised serial: `?` exactly one letter or digit, `*`
 * any run of them, also none. `"AB-12?4*"` becomes `AB12?4*` and matches `AB1234`, `AB12X4567`.
 *
 * @example
 * ```ts
 * serialPattern('ab-12?4*').test('AB12X4567'); // true
 * serialPattern('ab-12?4*').partial;           // true
 * ```
 */
export function serialPattern(serial: string): SerialPattern {
  if (!WILDCARD.test(serial)) {
    const normal = normaliseSerial(serial);
    return {
      pattern: normal,
      partial: false,
      known: [...normal].length,
      wildcards: 0,
      prefix: normal,
      test: (s) => s === normal,
    };
  }
  const parts = serial.split(/([?*])/);
  let pattern = '';
  for (const part of parts) {
    if (part === '*') {
      if (!pattern.endsWith('*')) pattern += '*';
    } else if (part === '?') pattern += '?';
    else pattern += normaliseSerial(part);
  }
  const chars = [...pattern];
  const wildcards = chars.filter((c) => c === '?' || c === '*').length;
  const firstWildcard = chars.findIndex((c) => c === '?' || c === '*');
  const prefix = chars.slice(0, firstWildcard).join('');
  return {
    pattern,
    partial: true,
    known: chars.length - wildcards,
    wildcards,
    prefix,
    test: (s) => wildcardMatch(chars, s),
  };
}

/**
 * Whether `serial` matches the pattern `chars` (code points; `?` one, `*` any run) as a whole.
 * Greedy, with one resume point: on a mismatch only the latest `*` takes one more character —
 * an earlier `*` never needs to, since the latest one can absorb anything it would have. Each
 * resume starts one character further into the serial and walks at most the rest of it, so a
 * serial of n and a pattern of m characters cost O(n·m) at worst, usually O(n + m); nothing
 * depends on how many wildcards there are.
 */
function wildcardMatch(chars: readonly string[], serial: string): boolean {
  const s = [...serial];
  let p = 0;
  let i = 0;
  let resumeP = -1;
  let resumeI = 0;
  while (i < s.length) {
    const c = chars[p];
    if (c === '*') {
      p += 1;
      resumeP = p;
      resumeI = i;
    } else if (c === '?' || c === s[i]) {
      p += 1;
      i += 1;
    } /* Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: resumeP is -1 or an index after a `*` (at least 1), and with -1 the loop only walks to the end and returns false */ else if (
      resumeP >= 0
    ) {
      p = resumeP;
      resumeI += 1;
      i = resumeI;
    } else return false;
  }
  while (chars[p] === '*') p += 1;
  return p === chars.length;
}

/**
 * What is wrong with the serial of a query, for INVALID_FIELD (docs/protocol.md 11.3, 13.4), in
 * this order: a pattern with fewer than {@link WILDCARD_MIN_KNOWN} known characters
 * (`wildcard_known_characters`), a pattern with more than {@link MAX_WILDCARDS} wildcards
 * (`max_wildcards`), a serial without a letter or digit (`serial`). Undefined when it is usable.
 */
export function serialViolation(
  serial: SerialPattern,
): { readonly rule: string; readonly message: string } | undefined {
  if (serial.partial && serial.known < WILDCARD_MIN_KNOWN) {
    return {
      rule: 'wildcard_known_characters',
      message: `a serial with wildcards needs at least ${WILDCARD_MIN_KNOWN} known letters or digits besides "?" and "*"`,
    };
  }
  if (serial.wildcards > MAX_WILDCARDS) {
    return {
      rule: 'max_wildcards',
      message: `a serial holds at most ${MAX_WILDCARDS} wildcards ("?" and each run of "*" count one each), not ${serial.wildcards}`,
    };
  }
  if (serial.known === 0) return { rule: 'serial', message: 'the serial number has no letter or digit' };
  return undefined;
}
