import { type AliasTable, parseAliasCsv } from './alias-table.js';

/**
 * The calibre alias table a node uses until its operator loads one (docs/protocol.md 13.5): common
 * military calibres and their usual designations. The same text ships as
 * docs/examples/calibre-aliases.csv, for operators to copy and extend.
 */
export const DEFAULT_CALIBRE_ALIASES_CSV = `# Calibre aliases: the table a Tracenet node uses until you load your own (docs/protocol.md 13.5,
# docs/operations.md "Lookups"). On each line: the canonical designation, then its other
# designations. Designations compare in their calibre form (docs/protocol.md 11.2): case, spaces
# and "mm" after a digit do not matter, "×" is "x" and "," is ".", so "7,62 × 39 mm", "7.62×39mm"
# and "7.62x39" are already one designation. Designations that are close but not the same calibre
# (.223 Remington and 5.56x45, .308 Winchester and 7.62x51) are deliberately kept apart.
# To extend it, copy this file, add lines, and load it with:
#   tracenet records aliases load --calibres calibre-aliases.csv
5.56x45,5.56 NATO,5.56x45 NATO,5.56 mm NATO,SS109
7.62x51,7.62 NATO,7.62x51 NATO,7.62 mm NATO
7.62x39,7.62x39 M43,7.62 M43,7.62x39 Soviet
7.62x54R,7.62x54 R,7.62x54R Mosin,7.62 Russian
5.45x39,5.45x39 M74,5.45 Soviet
9x19,9 mm Parabellum,9 mm Luger,9 Para,9x19 Parabellum,9x19 Luger,9 mm NATO
9x18,9x18 Makarov,9 mm Makarov
7.62x25,7.62x25 Tokarev,7.62 Tokarev
.45 ACP,45 ACP,.45 Auto,11.43x23
.30-06,.30-06 Springfield,30-06,30-06 Springfield,7.62x63
.50 BMG,.50 Browning,50 BMG,12.7x99,12.7x99 NATO
12.7x108,12.7x108 DShK
.303 British,303 British,7.7x56R
7.92x57,7.92x57 Mauser,8x57 IS,8x57 JS,8 mm Mauser
5.7x28,5.7x28 FN
4.6x30,4.6x30 HK
`;

let defaults: AliasTable | undefined;

/** {@link DEFAULT_CALIBRE_ALIASES_CSV} as a table (its calibres; no manufacturer). Needs libsodium initialised. */
export function defaultCalibreAliases(): AliasTable {
  defaults ??= parseAliasCsv(DEFAULT_CALIBRE_ALIASES_CSV, 'calibre');
  return defaults;
}
