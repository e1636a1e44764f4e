import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_CASES } from '../src/index.js';
import { VARIANTS } from './broken/variants.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROTOCOL = readFileSync(`${ROOT}docs/protocol.md`, 'utf8');
const CONFORMANCE = readFileSync(`${ROOT}docs/conformance.md`, 'utf8');

/** The sections (`## N`) and subsections (`### N.M`) of protocol.md whose own text carries a MUST. */
function sectionsWithMust(): string[] {
  const out: string[] = [];
  const headings = [...PROTOCOL.matchAll(/^#{2,3} (\d+(?:\.\d+)?) .*$/gm)];
  headings.forEach((h, i) => {
    const end = headings[i + 1]?.index ?? PROTOCOL.length;
    const text = PROTOCOL.slice((h.index ?? 0) + h[0].length, end);
    if (/\bMUST\b/.test(text)) out.push(h[1] as string);
  });
  return out;
}

/** The table of docs/conformance.md listing MUST rules that only the node's own tests see: section → node test files. */
function localOnly(): Map<string, string[]> {
  const start = CONFORMANCE.indexOf('## 9 ');
  expect(start, 'docs/conformance.md has its section 9 (rules only the node sees)').toBeGreaterThan(0);
  const next = CONFORMANCE.indexOf('\n## ', start + 1);
  const table = CONFORMANCE.slice(start, next < 0 ? undefined : next);
  const rows = new Map<string, string[]>();
  for (const [, section, covered] of table.matchAll(/^\| (\d+(?:\.\d+)?) \|[^|]*\|([^|]*)\|$/gm))
    rows.set(
      section as string,
      [...(covered as string).matchAll(/`([^`]+\.test\.ts)`/g)].map((m) => m[1] as string),
    );
  return rows;
}

/**
 * Every subsection of docs/protocol.md that carries a MUST is enforced by a conformance case that
 * cites it, or is listed in docs/conformance.md section 9 as visible to the node's own tests only,
 * naming the node test files that cover it.
 */
describe('every MUST of protocol.md is judged', () => {
  it('by a conformance case citing its subsection, or by the node tests docs/conformance.md names', () => {
    const cited = new Set(ALL_CASES.flatMap((c) => [c.section, ...(c.cites ?? [])]));
    const local = localOnly();
    const must = sectionsWithMust();
    expect(must.length).toBeGreaterThan(20);
    const uncovered = must.filter((s) => !cited.has(s) && !local.has(s));
    expect(
      uncovered,
      'subsections with a MUST that no case cites and section 9 of docs/conformance.md does not list',
    ).toEqual([]);
    for (const [section, tests] of local) {
      expect(must, `docs/conformance.md lists ${section}, which carries no MUST`).toContain(section);
      expect(tests.length, `docs/conformance.md names the node tests covering ${section}`).toBeGreaterThan(0);
      for (const test of tests)
        expect(existsSync(`${ROOT}${test}`), `${test} (named for ${section}) exists`).toBe(true);
    }
  });

  it('every case cites sections that exist', () => {
    const sections = new Set([...PROTOCOL.matchAll(/^#{2,3} (\d+(?:\.\d+)?) /gm)].map((m) => m[1]));
    for (const c of ALL_CASES)
      for (const s of [c.section, ...(c.cites ?? [])]) expect(sections.has(s), `${c.id} cites ${s}`).toBe(true);
  });

  it('docs/conformance.md lists every area of cases and every broken variant, and counts them right', () => {
    for (const area of new Set(ALL_CASES.map((c) => c.id.split('.')[0])))
      expect(CONFORMANCE, `area ${area}`).toContain(`\`${area}.*\``);
    for (const v of VARIANTS) expect(CONFORMANCE, `variant ${v.name}`).toContain(`| \`${v.name}\``);
    expect(CONFORMANCE).toContain(`holds ${VARIANTS.length} launchers`);
    expect(CONFORMANCE).toContain(`fails ${VARIANTS.length} deliberately broken nodes`);
    expect(CONFORMANCE).toContain(`the ${ALL_CASES.length} cases take`);
  });
});
