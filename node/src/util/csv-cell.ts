/**
 * A CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, and never a formula —
 * a text that starts with = + - @ (or a tab or carriage return) gets a leading apostrophe, as the
 * console's rejected-rows file does, because a spreadsheet would run it. Every CSV the node writes
 * (SDG exports, the rejects file of `tracenet records import`) goes through here.
 *
 * @example
 * ```ts
 * csvCell('=HYPERLINK("x")'); // '"\'=HYPERLINK(""x"")"'
 * csvCell(3); // '3'
 * ```
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  let text = value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
