/**
 * Characters that can change what a terminal or a text view shows beyond themselves
 * (docs/protocol.md 2.3): control characters (Unicode general category Cc: C0, DEL, C1), format
 * characters (Cf: bidi overrides and isolates, zero-width and invisible characters, tags) except
 * ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER, which Persian, Indic scripts and emoji need and
 * which reorder nothing, and the line and paragraph separators (Zl, Zp).
 */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}]|(?![\u200C\u200D])\p{Cf}/u;
const UNSAFE_OR_BACKSLASH = /[\p{Cc}\p{Zl}\p{Zp}\\]|(?![\u200C\u200D])\p{Cf}/gu;

/** "U+001B": how a refusal names the character it found. */
function codePointName(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Why `text` may not be shown as it is, or undefined when it may: the first unsafe character and
 * where it is. Peer cards, rosters and the federation name are refused with this message.
 *
 * @example
 * ```ts
 * unsafeCharacter('France\u001b[2J'); // 'U+001B at character 7'
 * ```
 */
export function unsafeCharacter(text: string): string | undefined {
  const found = UNSAFE.exec(text);
  return found ? `${codePointName(found[0])} at character ${[...text.slice(0, found.index)].length + 1}` : undefined;
}

/**
 * Text that shows exactly what it holds on one line of a terminal: every unsafe character is
 * written as an escape (`\x1b`, `\u{202e}`) and a backslash as `\\`, so no value can move the
 * cursor, start a line, reorder the text around it, or pass for an escape it is not. The CLI
 * prints every line through it.
 *
 * @example
 * ```ts
 * escapeUnsafe('BEL\nFRA  state'); // 'BEL\\nFRA  state' — one line
 * ```
 */
export function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE_OR_BACKSLASH, (char) => {
    if (char === '\\') return '\\\\';
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    if (char === '\t') return '\\t';
    const code = char.codePointAt(0) ?? 0;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** The unsafe characters that `JSON.stringify` leaves as they are (it escapes C0 itself). */
const UNSAFE_IN_JSON = /[\x7f-\x9f\p{Zl}\p{Zp}]|(?![\u200C\u200D])\p{Cf}/gu;

/**
 * Indented JSON whose unsafe characters are all written as `\uXXXX` escapes: the same JSON value,
 * safe to show in a terminal.
 */
export function safeJson(value: unknown): string {
  const json = JSON.stringify(value, null, 2) ?? 'null';
  return json.replace(UNSAFE_IN_JSON, (char) =>
    char
      .split('')
      .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .join(''),
  );
}
