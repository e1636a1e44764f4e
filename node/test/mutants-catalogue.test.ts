import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyMutant, checkCatalogue, loadCatalogue, type Mutant } from '../../scripts/mutants/catalogue.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The seven breaks that got past both the suite and the node's tests when issue 14 was filed. */
const NAMED_BY_ISSUE_14 = [
  'share-with-unlisted',
  'signature-of-other-pinned-peer',
  'consent-decision-from-any-peer',
  'grace-key-signs-key-messages',
  'token-checked-after-request', // "an Authority service that skips the token check": the token is checked in one interceptor now
  'signature-over-reencoded-header',
  'purge-never-scheduled',
];

/**
 * The mutant catalogue of `npm run mutants` (docs/conformance.md section 7) names exact texts of
 * node/src: an edit of the code that moves one of them must update the catalogue, or the
 * measurement would silently break a different rule, or none.
 */
describe('the mutant catalogue stays in step with the code', () => {
  const catalogue = loadCatalogue(ROOT);

  it('is sound: fields, sections of protocol.md, test files, and each search text found exactly once', () => {
    expect(checkCatalogue(catalogue, ROOT)).toEqual([]);
  });

  it('holds at least 45 mutants across sections 2 to 15, the seven of issue 14 among them', () => {
    expect(catalogue.mutants.length).toBeGreaterThanOrEqual(45);
    const ids = catalogue.mutants.map((m) => m.id);
    for (const id of NAMED_BY_ISSUE_14) expect(ids, id).toContain(id);
    const chapters = new Set(catalogue.mutants.flatMap((m) => m.section.split(',').map((s) => Number.parseInt(s, 10))));
    for (const chapter of [2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15])
      expect(chapters, `section ${chapter}`).toContain(chapter);
  });

  it('changes the source of every mutant', () => {
    for (const m of catalogue.mutants)
      expect(applyMutant(readFileSync(join(ROOT, m.file), 'utf8'), m), m.id).not.toBe(
        readFileSync(join(ROOT, m.file), 'utf8'),
      );
  });

  it('reports a search text that the code no longer has, or has twice', () => {
    const base: Mutant = catalogue.mutants[0] as Mutant;
    const drifted = { mutants: [{ ...base, search: 'a text that is in no source file' }] };
    expect(checkCatalogue(drifted, ROOT)).toEqual([
      `${base.id}: its search text occurs 0 times in ${base.file}, not once`,
    ]);
    const twice = { mutants: [{ ...base, search: 'import ' }] };
    expect(checkCatalogue(twice, ROOT)[0]).toMatch(/its search text occurs \d+ times/);
    expect(() => applyMutant('x', { ...base, search: 'y' })).toThrow(/occurs 0 times/);
  });
});
