import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { ERROR_CODES, errorCodeName, type ErrorCode, MessageKind, NodeEventType } from '@tracenet/proto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config/config.js';

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
  expect(cells(lines[start] ?? '')).toEqual([
    'code',
    'gRPC status',
    'when it happens',
    'what the caller should do',
    'retryable',
  ]);
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
const codes = Object.entries(ERROR_CODES).map(([value, info]) => ({
  name: errorCodeName(Number(value) as ErrorCode),
  ...info,
}));

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

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const PROTOCOL = readFileSync(`${DOCS}protocol.md`, 'utf8');

/** The anchor GitHub gives a heading: lower case, punctuation dropped, each space a hyphen. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The `##` and `###` headings of a Markdown text outside fenced code, in order. */
function headings(markdown: string): Array<{ level: number; text: string }> {
  const out: Array<{ level: number; text: string }> = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.trimStart().startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^(#{2,3}) (.+)$/.exec(line);
    if (m) out.push({ level: (m[1] as string).length, text: m[2] as string });
  }
  return out;
}

/** The lines of the first Markdown table after the line `start`. */
function tableAfter(markdown: string, start: string): string[] {
  const from = markdown.indexOf(`\n${start}\n`);
  expect(from, `"${start}" is in the document`).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(from + 1).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  return lines.slice(first, end);
}

/** The first capture of `pattern` in each line that matches it. */
function captured(lines: readonly string[], pattern: RegExp): string[] {
  return lines.flatMap((line) => {
    const m = pattern.exec(line);
    return m ? [m.slice(1).join(' ')] : [];
  });
}

describe('docs/protocol.md', () => {
  it('opens with a table of contents that lists exactly its sections and subsections, in order, with their anchors', () => {
    const start = PROTOCOL.indexOf('\n## Contents\n');
    expect(start, 'a "## Contents" section').toBeGreaterThan(0);
    const end = PROTOCOL.indexOf('\n## ', start + 1);
    const entries = PROTOCOL.slice(start, end)
      .split('\n')
      .filter((line) => line.trimStart().startsWith('- '))
      .map((line) => {
        const m = /^( *)- \[(.+)\]\(#([^)]+)\)$/.exec(line);
        expect(
          m,
          `a contents line "${line}" is "- [heading](#anchor)", indented two spaces for a subsection`,
        ).not.toBeNull();
        return { level: (m?.[1] ?? '').length === 0 ? 2 : 3, text: m?.[2] ?? '', anchor: m?.[3] ?? '' };
      });
    const listed = headings(PROTOCOL.slice(end));
    expect(entries.map(({ level, text }) => ({ level, text }))).toEqual(listed);
    for (const entry of entries) expect(entry.anchor, entry.text).toBe(anchorOf(entry.text));
    expect(new Set(entries.map((e) => e.anchor)).size, 'anchors are unique').toBe(entries.length);
  });

  it('links only to anchors that exist, and so do the other docs that link into it', () => {
    const anchors = new Set(headings(PROTOCOL).map((h) => anchorOf(h.text)));
    const broken: string[] = [];
    for (const [, anchor] of PROTOCOL.matchAll(/\]\(#([^)]+)\)/g))
      if (!anchors.has(anchor as string)) broken.push(`protocol.md: #${anchor}`);
    const others = [
      ...readdirSync(DOCS)
        .filter((f) => f.endsWith('.md'))
        .map((f) => `${DOCS}${f}`),
      fileURLToPath(new URL('../../README.md', import.meta.url)),
    ];
    for (const file of others) {
      for (const [, anchor] of readFileSync(file, 'utf8').matchAll(/protocol\.md#([^)\s]+)\)/g))
        if (!anchors.has(anchor as string)) broken.push(`${file}: protocol.md#${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it('registers every message kind in 6.1 with its number, and nothing else', () => {
    const registry = captured(tableAfter(PROTOCOL, '### 6.1 Registry'), /^\| (\d+) \| `(MESSAGE_KIND_[A-Z_]+)` \|/);
    const kinds = Object.entries(MessageKind)
      .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] >= 0)
      .map(([name, value]) => `${value} ${name}`);
    expect(registry).toEqual(kinds);
  });

  it('names every node event type', () => {
    const types = Object.keys(NodeEventType).filter((name) => /^NODE_EVENT_TYPE_(?!UNSPECIFIED)/.test(name));
    expect(types.length).toBeGreaterThan(5);
    for (const type of types) expect(PROTOCOL, type).toContain(`\`${type}\``);
  });

  it('names every audit event type the node writes (the AuditType union of node/src/audit/audit-log.ts)', () => {
    const source = readFileSync(fileURLToPath(new URL('../src/audit/audit-log.ts', import.meta.url)), 'utf8');
    const union = /export type AuditType =([^;]+);/.exec(source)?.[1] ?? '';
    const types = [...union.matchAll(/'([a-z_.]+)'/g)].map((m) => m[1] as string);
    expect(types.length).toBeGreaterThan(30);
    const missing = types.filter((type) => !PROTOCOL.includes(`\`${type}\``));
    expect(missing, 'audit event types that protocol.md (8.5, 13.11, 14, 15.6) does not name').toEqual([]);
  });
});

describe('docs/operations.md', () => {
  it('lists every configuration key in the table of section 3.1, and nothing else', () => {
    const keys: string[] = [];
    const walk = (value: object, prefix: string): void => {
      for (const [name, child] of Object.entries(value)) {
        const key = `${prefix}${name}`;
        // A role map and a records profile are one key each, whose value is an object of the operator's own keys.
        const whole = key === 'access.oidc.roleMap' || key === 'records.profile';
        if (child !== null && typeof child === 'object' && !Array.isArray(child) && !whole)
          walk(child as object, `${key}.`);
        else keys.push(key);
      }
    };
    walk(DEFAULT_CONFIG, '');
    const documented = captured(
      tableAfter(readFileSync(`${DOCS}operations.md`, 'utf8'), '### 3.1 Configuration'),
      /^\| `([A-Za-z.]+)` \|/,
    );
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual([...keys].sort());
  });
});
