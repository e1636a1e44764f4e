/** The benchmark's sections, in the order of docs/benchmarks.md (section n is `## n.`). */
export const SECTIONS = ['delivery', 'envelope', 'records', 'chain', 'fanout', 'memory', 'console'] as const;
export type SectionName = (typeof SECTIONS)[number];
