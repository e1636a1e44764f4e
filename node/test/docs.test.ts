import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { ERROR_CODES, errorCodeName, type ErrorCode } from '@tracenet/proto';
import { describe, expect, it } from 'vitest';

/** One row of the table in docs/errors.md. */
interface DocRow {
  readonly code: string;
  readonly grpc: string;
  readonly when: string;
  readonly action: string;
  readonly retryable: string;
}

const ERRORS_MD = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));

/** Cells of a Markdown table row, without the outer pipes and without code backticks. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1'));
}

/** Reads the error table: the one whose header starts with "| code | gRPC status |". */
function readTable(markdown: string): DocRow[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => /^\|\s*code\s*\|\s*gRPC status\s*\|/.test(line));
  if (start < 0) throw new Error('docs/errors.md has no table starting with "| code | gRPC status |"');
  expect(cells(lines[start] ?? '')).toEqual(['code', 'gRPC status', 'when it happens', 'what the caller should do', 'retryable']);
  expect(lines[start + 1]).toMatch(/^\|(\s*:?-+:?\s*\|)+$/);
  const rows: DocRow[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const row = cells(line);
    if (row.length !== 5) throw new Error(`docs/errors.md row has ${row.length} cells instead of 5: ${line}`);
    const [code = '', grpc = '', when = '', action = '', retryable = ''] = row;
    rows.push({ code, grpc, when, action, retryable });
  }
  return rows;
}

const table = readTable(readFileSync(ERRORS_MD, 'utf8'));
const codes = Object.entries(ERROR_CODES).map(([value, info]) => ({ name: errorCodeName(Number(value) as ErrorCode), ...info }));

describe('docs/errors.md', () => {
  it('lists every error code of ERROR_CODES exactly once and nothing else', () => {
    const documented = table.map((row) => row.code);
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual(codes.map((c) => c.name).sort());
  });

  it.each(codes)('$name has the gRPC status and retry rule of ERROR_CODES', ({ name, grpc, retryable }) => {
    const row = table.find((r) => r.code === name);
    expect(row, `${name} is missing from docs/errors.md`).toBeDefined();
    expect(row?.grpc).toBe(status[grpc]);
    expect(row?.retryable).toBe(retryable ? 'yes' : 'no');
  });

  it('says when each code happens and what the caller should do', () => {
    for (const row of table) {
      expect(row.when, `${row.code}: "when it happens" is empty`).not.toBe('');
      expect(row.action, `${row.code}: "what the caller should do" is empty`).not.toBe('');
    }
  });
});
