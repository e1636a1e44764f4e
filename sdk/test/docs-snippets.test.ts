import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Every TypeScript example an integrator copies from the SDK's docs compiles against the built
 * SDK, with the project's strict settings (issue 16: `client.cases.listCases({})` did not, and
 * the docs never said `ListCasesRequest.fromPartial`). The blocks are type-checked in memory as
 * modules next to this file; names a block uses without defining them (a client, a token) are
 * declared once below, as what the reader's program already has.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The docs and the sections of them whose ```ts blocks an integrator copies into a case system. */
const DOCS: ReadonlyArray<{ file: string; sections?: RegExp }> = [
  { file: 'sdk/README.md' },
  { file: 'docs/integration.md', sections: /^## [23] / },
];

/** What a snippet may use without defining it: the reader's own program has these. */
const GIVEN = `
declare const token: string;
declare const client: import('@tracenet/sdk').TracenetClient;
declare const request: import('@tracenet/sdk').TraceRequest;
declare const lastSequenceHandled: number;
`;

/** The ```ts blocks of a Markdown file, in the `##` sections `sections` matches (all when absent). */
function tsBlocks(file: string, sections?: RegExp): Array<{ line: number; code: string }> {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Array<{ line: number; code: string }> = [];
  let inSection = sections === undefined;
  let open: { line: number; code: string[] } | undefined;
  lines.forEach((text, i) => {
    if (!open && text.startsWith('## ')) inSection = sections === undefined || sections.test(text);
    if (!open && inSection && text.trim() === '```ts') open = { line: i + 1, code: [] };
    else if (open && text.trim() === '```') {
      blocks.push({ line: open.line, code: open.code.join('\n') });
      open = undefined;
    } else open?.code.push(text);
  });
  return blocks;
}

/** Type errors of `snippets` (path → source), checked together against the built packages. */
function typeErrors(snippets: ReadonlyMap<string, string>): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: true,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (path) => snippets.has(path) || fileExists.call(host, path);
  host.readFile = (path) => snippets.get(path) ?? readFile.call(host, path);
  host.getSourceFile = (path, language, ...rest) => {
    const source = snippets.get(path);
    return source === undefined
      ? getSourceFile.call(host, path, language, ...rest)
      : ts.createSourceFile(path, source, language);
  };
  const program = ts.createProgram([...snippets.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('the TypeScript examples of the SDK docs', () => {
  it('compile against the built SDK, request builders included', () => {
    for (const built of ['sdk/dist/index.d.ts', 'sdk/dist/testing.d.ts'])
      if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npx tsc -b\` first`);
    const snippets = new Map<string, string>([[join(ROOT, 'sdk', 'test', '__doc_given.d.ts'), GIVEN]]);
    const origin = new Map<string, string>();
    for (const { file, sections } of DOCS) {
      for (const { line, code } of tsBlocks(file, sections)) {
        const path = join(ROOT, 'sdk', 'test', `__doc_${file.replace(/[^a-z]/gi, '_')}_${line}.ts`);
        // A module of its own (top-level await, its own imports), shadowing the given names.
        snippets.set(path, `${code}\nexport {};\n`);
        origin.set(path, `${file}:${line}`);
      }
    }
    expect(origin.size, 'no ```ts block found').toBeGreaterThanOrEqual(6);
    const errors = typeErrors(snippets).map((e) => {
      const path = [...origin.keys()].find((p) => e.startsWith(p));
      return path ? e.replace(path, `${origin.get(path)} (block)`) : e;
    });
    expect(errors).toEqual([]);
  });
});
