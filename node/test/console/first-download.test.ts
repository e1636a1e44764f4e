import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The budget of the console's first download, compressed (docs/console.md, "Slow links"). */
const BUDGET_BYTES = 250_000;
const WEB = fileURLToPath(new URL('../../dist/console/web/', import.meta.url));

/** The pre-compressed (brotli) size of a built file, as the node sends it to a browser that accepts br. */
function brotliSize(relative: string): number {
  const file = join(WEB, `${relative}.br`);
  if (!existsSync(file))
    throw new Error(`${relative} has no brotli copy: the build (scripts/build-console.mjs) makes one`);
  return statSync(file).size;
}

/** The scripts an entry script imports statically (loaded before it runs), transitively; dynamic import() is not. */
function staticImports(relative: string, seen = new Set<string>()): Set<string> {
  if (seen.has(relative)) return seen;
  seen.add(relative);
  const text = readFileSync(join(WEB, relative), 'utf8');
  const folder = relative.slice(0, relative.lastIndexOf('/') + 1);
  for (const m of text.matchAll(/(?:^|[;}\n])\s*import\s*(?:[^"'();]*?from\s*)?["'](\.\/[^"']+\.js)["']/g))
    staticImports(`${folder}${(m[1] ?? '').slice(2)}`, seen);
  return seen;
}

// Sizes, not timings: what the browser must download before the console can draw anything, read from
// the build (npm run build). The slow-link timing is the benchmark's (npm run bench -- --only console).
describe("the console's first download", () => {
  it(`stays within ${BUDGET_BYTES / 1000} kB compressed (brotli), in the largest language`, () => {
    expect(existsSync(join(WEB, 'index.html')), 'node/dist/console/web is missing: run npm run build').toBe(true);
    const html = readFileSync(join(WEB, 'index.html'), 'utf8');
    const referenced = [...html.matchAll(/(?:href|src)="\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(referenced.some((f) => f.endsWith('.js'))).toBe(true);
    const files = new Set<string>();
    for (const file of referenced) {
      if (file.endsWith('.js')) for (const script of staticImports(file)) files.add(script);
      else files.add(file);
    }
    const catalogues = readdirSync(join(WEB, 'assets/messages')).filter((f) => f.endsWith('.json'));
    expect(catalogues.length).toBe(6);
    const largestCatalogue = Math.max(...catalogues.map((f) => brotliSize(`assets/messages/${f}`)));
    const sizes = Object.fromEntries([...files].map((f) => [f, brotliSize(f)]));
    const total = brotliSize('index.html') + Object.values(sizes).reduce((a, b) => a + b, 0) + largestCatalogue;
    expect(
      total,
      `first download ${(total / 1000).toFixed(1)} kB brotli: ${JSON.stringify({ ...sizes, largestCatalogue })}`,
    ).toBeLessThanOrEqual(BUDGET_BYTES);
  });
});
