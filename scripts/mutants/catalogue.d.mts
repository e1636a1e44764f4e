/** Types of catalogue.mjs (plain JavaScript so that the mutant runner needs no build). */

/** One single-rule break of the reference node (scripts/mutants/catalogue.json). */
export interface Mutant {
  readonly id: string;
  /** Sections of docs/protocol.md whose rule it breaks, comma-separated: `4.12, 15.2`. */
  readonly section: string;
  readonly rule: string;
  /** A TypeScript source under node/src. */
  readonly file: string;
  /** Exact text, or lines joined with newlines; must occur exactly once in `file`. */
  readonly search: string | readonly string[];
  readonly replace: string | readonly string[];
  /** `wire`: a peer or an Authority client could observe it; `local`: only the node's own files, timers or store. */
  readonly visibility: 'wire' | 'local';
  /** For a local-only mutant: why no peer or Authority client sees it. */
  readonly why?: string;
  /** The node test files most likely to notice it (run first). */
  readonly tests: readonly string[];
}

export interface Catalogue {
  readonly description: string;
  readonly mutants: readonly Mutant[];
}

export const CATALOGUE_PATH: string;
export function textOf(value: string | readonly string[]): string;
export function occurrences(haystack: string, needle: string): number;
export function loadCatalogue(root: string): Catalogue;
export function entryHash(mutant: Mutant): string;
/** Every problem of the catalogue against the sources of `root`; empty when it is sound. */
export function checkCatalogue(catalogue: unknown, root: string): string[];
/** `source` with the mutant applied; throws unless its search text occurs exactly once. */
export function applyMutant(source: string, mutant: Mutant): string;
