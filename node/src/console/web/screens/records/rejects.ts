import type { RowError } from '@tracenet/proto/browser';

/** A cell of the rejects file: quoted when it holds a comma, quote or line break (RFC 4180), never a formula. */
function csvCell(value: string | number): string {
  let text = String(value);
  // A spreadsheet would run a cell that starts with = + - @ as a formula: the value of a hostile file.
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rejected rows as CSV (`line,field,reason`, as `tracenet records import` writes its rejects file). */
export function rejectsCsv(rejects: readonly RowError[]): string {
  return `line,field,reason\r\n${rejects.map((r) => [r.line, r.field, r.reason].map(csvCell).join(',')).join('\r\n')}\r\n`;
}
