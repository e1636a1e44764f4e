import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { status as GrpcStatus } from '@grpc/grpc-js';

/** One row of the table in docs/errors.md, as an integrator reads it. */
export interface DocumentedCode {
  /** Code name without prefix, e.g. `RATE_LIMITED`. */
  readonly code: string;
  /** The gRPC status the code travels with. */
  readonly grpc: GrpcStatus;
  readonly retryable: boolean;
}

const ERRORS_MD = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url));

/** Cells of a Markdown table row, without the outer pipes and without code backticks. */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1'));
}

/**
 * The error table of docs/errors.md (the one whose header starts with "| code | gRPC status |"),
 * by code name. Throws when the table is missing or a row does not read as code, a known gRPC
 * status, three more cells and "yes" or "no".
 */
export function documentedCodes(path = ERRORS_MD): ReadonlyMap<string, DocumentedCode> {
  const lines = readFileSync(path, 'utf8').split('\n');
  const start = lines.findIndex((line) => /^\|\s*code\s*\|\s*gRPC status\s*\|/.test(line));
  if (start < 0) throw new Error(`${path} has no table starting with "| code | gRPC status |"`);
  const header = cells(lines[start] ?? '');
  if (header.at(-1) !== 'retryable')
    throw new Error(`the last column of the table in ${path} is "${header.at(-1)}", not "retryable"`);
  const rows = new Map<string, DocumentedCode>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const row = cells(line);
    const [code = '', grpcName = ''] = row;
    const retryable = row.at(-1);
    const grpc = GrpcStatus[grpcName as keyof typeof GrpcStatus] as GrpcStatus | undefined;
    if (row.length !== header.length || grpc === undefined || (retryable !== 'yes' && retryable !== 'no'))
      throw new Error(`${path}: a row that does not read: ${line}`);
    if (rows.has(code)) throw new Error(`${path} lists ${code} twice`);
    rows.set(code, { code, grpc, retryable: retryable === 'yes' });
  }
  return rows;
}
