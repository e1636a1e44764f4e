// The mutant catalogue (scripts/mutants/catalogue.json): single-rule breaks of the reference node,
// each an exact search text in node/src and its replacement. Plain ESM JavaScript so that the
// runner (run.mjs) needs no build; node/test/mutants-catalogue.test.ts keeps it in sync with the code.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CATALOGUE_PATH = 'scripts/mutants/catalogue.json';

const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const SECTION = /^\d+(\.\d+)?$/;

/** A `search` or `replace` value: a string, or a list of lines joined with newlines. */
export function textOf(value) {
  return Array.isArray(value) ? value.join('\n') : value;
}

/** How often `needle` occurs in `haystack` (non-overlapping). */
export function occurrences(haystack, needle) {
  if (needle === '') return 0;
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) count += 1;
  return count;
}

/** Reads and parses the catalogue of the repository at `root`. */
export function loadCatalogue(root) {
  return JSON.parse(readFileSync(join(root, CATALOGUE_PATH), 'utf8'));
}

/** A short hash of one entry: a changed entry is measured again, the others are not. */
export function entryHash(mutant) {
  return createHash('sha256').update(JSON.stringify(mutant)).digest('hex').slice(0, 16);
}

/** The sections and subsections that docs/protocol.md has (`## 4`, `### 4.7`). */
function protocolSections(root) {
  const text = readFileSync(join(root, 'docs/protocol.md'), 'utf8');
  return new Set([...text.matchAll(/^#{2,3} (\d+(?:\.\d+)?) /gm)].map((m) => m[1]));
}

/**
 * Every problem of the catalogue against the sources of `root`, as readable lines (empty when it
 * is sound): fields, unique ids, sections that protocol.md has, test files that exist, and each
 * search text found exactly once in its file, so that the catalogue cannot drift from the code.
 */
export function checkCatalogue(catalogue, root) {
  const problems = [];
  const mutants = Array.isArray(catalogue?.mutants) ? catalogue.mutants : [];
  if (mutants.length === 0) problems.push('the catalogue has no mutants');
  const sections = protocolSections(root);
  const seen = new Set();
  for (const [i, m] of mutants.entries()) {
    const name = typeof m?.id === 'string' ? m.id : `mutants[${i}]`;
    const fail = (what) => problems.push(`${name}: ${what}`);
    if (typeof m?.id !== 'string' || !ID.test(m.id)) fail('id must be kebab-case');
    else if (seen.has(m.id)) fail('id is used twice');
    seen.add(m?.id);
    if (typeof m?.rule !== 'string' || m.rule.trim() === '') fail('rule is required');
    const cited = typeof m?.section === 'string' ? m.section.split(',').map((s) => s.trim()) : [];
    if (cited.length === 0) fail('section is required');
    for (const s of cited)
      if (!SECTION.test(s) || !sections.has(s)) fail(`section ${s} is not a section of docs/protocol.md`);
    if (m?.visibility !== 'wire' && m?.visibility !== 'local') fail('visibility must be "wire" or "local"');
    if (m?.visibility === 'local' && (typeof m.why !== 'string' || m.why.trim() === ''))
      fail('a local-only mutant says why no peer or Authority client can see it ("why")');
    for (const test of Array.isArray(m?.tests) ? m.tests : [])
      if (!existsSync(join(root, test))) fail(`test file ${test} does not exist`);
    if (!Array.isArray(m?.tests) || m.tests.length === 0)
      fail('tests lists the node test files most likely to notice it');
    const search = textOf(m?.search);
    const replace = textOf(m?.replace);
    if (typeof search !== 'string' || search === '') fail('search is required');
    if (typeof replace !== 'string') fail('replace is required');
    if (typeof m?.file !== 'string' || !/^node\/src\/.+\.ts$/.test(m.file)) {
      fail('file must be a TypeScript source under node/src');
      continue;
    }
    const path = join(root, m.file);
    if (!existsSync(path)) {
      fail(`${m.file} does not exist`);
      continue;
    }
    if (typeof search === 'string' && search !== '') {
      const count = occurrences(readFileSync(path, 'utf8'), search);
      if (count !== 1) fail(`its search text occurs ${count} times in ${m.file}, not once`);
      if (search === replace) fail('replace equals search');
    }
  }
  return problems;
}

/** `source` with the mutant's search text replaced; throws unless the text occurs exactly once. */
export function applyMutant(source, mutant) {
  const search = textOf(mutant.search);
  const count = occurrences(source, search);
  if (count !== 1) throw new Error(`${mutant.id}: its search text occurs ${count} times in ${mutant.file}, not once`);
  const at = source.indexOf(search);
  return source.slice(0, at) + textOf(mutant.replace) + source.slice(at + search.length);
}
