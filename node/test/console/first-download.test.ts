import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The budget of the console's first download, compressed (docs/console.md, "Slow links"). */
const BUDGET_BYTES = 250_000;
const WEB = fileURLToPath(new URL('../../dist/console/web/', import.meta.url));

/** The pre-compressed (brotli) size of a built file, as the node sends it to a browser that accepts br. */
function brotliSize(web: string, relative: string): number {
  const file = join(web, `${relative}.br`);
  if (!existsSync(file))
    throw new Error(`${relative} has no brotli copy: the build (scripts/build-console.mjs) makes one`);
  return statSync(file).size;
}

/**
 * The scripts an entry script loads before it runs, transitively: what it imports or re-exports
 * (`import … from`, `import "…"`, `export … from`); dynamic import() is loaded later and is not.
 */
function staticImports(web: string, relative: string, seen = new Set<string>()): Set<string> {
  if (seen.has(relative)) return seen;
  seen.add(relative);
  const text = readFileSync(join(web, relative), 'utf8');
  const folder = relative.slice(0, relative.lastIndexOf('/') + 1);
  for (const m of text.matchAll(/(?:^|[;}\n])\s*(?:import|export)\s*(?:[^"'();]*?from\s*)?["'](\.\/[^"']+\.js)["']/g))
    staticImports(web, `${folder}${(m[1] ?? '').slice(2)}`, seen);
  return seen;
}

/** What a browser downloads before the console can draw, brotli: index.html, what it names, their static imports, the largest catalogue. */
function firstDownload(web: string): { total: number; sizes: Record<string, number> } {
  expect(existsSync(join(web, 'index.html')), `${web} is missing: run npm run build`).toBe(true);
  const html = readFileSync(join(web, 'index.html'), 'utf8');
  const referenced = [...html.matchAll(/(?:href|src)="\/([^"]+)"/g)].map((m) => m[1] ?? '');
  expect(referenced.some((f) => f.endsWith('.js'))).toBe(true);
  const files = new Set<string>();
  for (const file of referenced) {
    if (file.endsWith('.js')) for (const script of staticImports(web, file)) files.add(script);
    else files.add(file);
  }
  const catalogues = readdirSync(join(web, 'assets/messages')).filter((f) => f.endsWith('.json'));
  expect(catalogues.length).toBe(6);
  const largestCatalogue = Math.max(...catalogues.map((f) => brotliSize(web, `assets/messages/${f}`)));
  const sizes = Object.fromEntries([...files].map((f) => [f, brotliSize(web, f)]));
  const total = brotliSize(web, 'index.html') + Object.values(sizes).reduce((a, b) => a + b, 0) + largestCatalogue;
  return { total, sizes: { ...sizes, largestCatalogue } };
}

// Sizes, not timings: what the browser must download before the console can draw anything, read from
// the build (npm run build). The slow-link timing is the benchmark's (npm run bench -- --only console).
describe("the console's first download", () => {
  it(`stays within ${BUDGET_BYTES / 1000} kB compressed (brotli), in the largest language`, () => {
    const { total, sizes } = firstDownload(WEB);
    expect(
      total,
      `first download ${(total / 1000).toFixed(1)} kB brotli: ${JSON.stringify(sizes)}`,
    ).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('counts every script loaded before the console runs, and no script loaded later', () => {
    const web = mkdtempSync(join(tmpdir(), 'tracenet-first-download-'));
    try {
      mkdirSync(join(web, 'assets/messages'), { recursive: true });
      const file = (relative: string, text: string, brotliBytes: number) => {
        writeFileSync(join(web, relative), text);
        writeFileSync(join(web, `${relative}.br`), Buffer.alloc(brotliBytes));
      };
      file('index.html', '<link rel="stylesheet" href="/assets/app.css"><script src="/assets/app.js"></script>', 1);
      file('assets/app.css', '', 10);
      file('assets/app.js', 'import{a}from"./a.js";import"./b.js";export*from"./c.js";import("./later.js")', 100);
      file('assets/a.js', 'export{x as y}from"./d.js";', 1_000);
      file('assets/b.js', '', 10_000);
      file('assets/c.js', '', 100_000);
      file('assets/d.js', '', 200_000);
      file('assets/later.js', '', 400_000);
      for (const [i, language] of ['ar', 'zh', 'en', 'fr', 'ru', 'es'].entries())
        file(`assets/messages/${language}.json`, '{}', 1 + i);
      const { total, sizes } = firstDownload(web);
      expect(Object.keys(sizes).sort()).toEqual(
        [
          'assets/a.js',
          'assets/app.css',
          'assets/app.js',
          'assets/b.js',
          'assets/c.js',
          'assets/d.js',
          'largestCatalogue',
        ].sort(),
      );
      expect(total).toBe(1 + 10 + 100 + 1_000 + 10_000 + 100_000 + 200_000 + 6);
      expect(total).toBeGreaterThan(BUDGET_BYTES);
    } finally {
      rmSync(web, { recursive: true, force: true });
    }
  });
});
