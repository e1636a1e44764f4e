import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WeaponType } from '@tracenet/proto';
import { describe, expect, it } from 'vitest';
import { CLOSE_TYPE_GROUPS } from '../src/registry/registry.js';

/**
 * Issue 16: the docs once contradicted each other on whether automatic answers use the alias
 * table. One rule is stated, in the same words, wherever aliases or near matches are explained,
 * and nothing says otherwise.
 */

const doc = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../docs/${name}`, import.meta.url)), 'utf8').replace(/\s+/g, ' ');
const DOCS = ['protocol.md', 'records.md', 'integration.md', 'operations.md'] as const;

const RULE =
  "**One rule for aliases.** The node's alias tables — manufacturers and calibres — apply the same way to " +
  'identity searches, automatic answers and lookups. A near match (a close weapon type) is offered to an ' +
  'officer, never answered automatically, and never a lookup hit.';

describe('the rule for aliases in automatic answers', () => {
  it.each(DOCS)('is stated in docs/%s in the same words', (name) => {
    expect(doc(name)).toContain(RULE);
  });

  it.each([...DOCS, 'adr/0007-lookups.md'])('is not contradicted in docs/%s', (name) => {
    const text = doc(name);
    for (const contradiction of [
      /do(?:es)? not use the alias table/i,
      /aliases cover manufacturers only/i,
      /alias table of lookups/i,
      /calibres and models are not/i,
    ])
      expect(contradiction.exec(text)?.[0], `docs/${name}`).toBeUndefined();
  });
});

describe('docs/records.md 2.3, close types', () => {
  it('lists exactly the groups of CLOSE_TYPE_GROUPS', () => {
    const records = readFileSync(fileURLToPath(new URL('../../docs/records.md', import.meta.url)), 'utf8');
    const start = records.indexOf('| group | types |');
    expect(start).toBeGreaterThan(0);
    const rows = records
      .slice(start)
      .split('\n')
      .slice(2)
      .map((line) => line.trim())
      .filter((_, i, all) => all.slice(0, i + 1).every((l) => l.startsWith('|')));
    const groups = rows.map((row) =>
      (row.split('|')[2] ?? '')
        .split(',')
        .map((cell) => WeaponType[`WEAPON_TYPE_${cell.trim().replace(/`/g, '')}` as keyof typeof WeaponType]),
    );
    expect(groups).toEqual(CLOSE_TYPE_GROUPS.map((g) => [...g]));
  });
});
