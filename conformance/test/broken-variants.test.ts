import { describe, expect, it } from 'vitest';
import { ALL_CASES } from '../src/index.js';
import { VARIANTS } from './broken/variants.js';
import { brokenCommand, requireBuilt, runAgainst } from './support.js';

/**
 * Proof that the suite can fail: each deliberately broken node (the real node with one rule
 * broken by a launcher under broken/) must be failed on the case that enforces that rule. The
 * full suite against the real node (reference-node.test.ts) shows the same cases pass there.
 */
describe('the suite fails every broken node on the right case', () => {
  requireBuilt();

  it('names only cases that exist, and every variant is distinct', () => {
    const ids = new Set(ALL_CASES.map((c) => c.id));
    for (const v of VARIANTS) for (const id of v.caughtBy) expect(ids.has(id), `${v.name} names ${id}`).toBe(true);
    expect(new Set(VARIANTS.map((v) => v.name)).size).toBe(VARIANTS.length);
  });

  for (const variant of VARIANTS) {
    it(`${variant.name} (${variant.breaks}) fails ${variant.caughtBy.join(', ')}`, async () => {
      const { result, output } = await runAgainst(brokenCommand(variant.name), {
        only: variant.only ?? variant.caughtBy,
      });
      for (const id of variant.caughtBy) {
        const r = result.results.find((x) => x.id === id);
        expect(r, `${id} ran against ${variant.name}\n${output}`).toBeDefined();
        expect(r?.status, `${id} against ${variant.name}: ${r?.message}`).toBe('failed');
      }
      expect(result.unexpected).toBeGreaterThan(0);
    });
  }
});
