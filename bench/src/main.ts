/**
 * `npm run bench`: measures Tracenet against the ceilings of its own stack (docs/benchmarks.md)
 * and writes bench/results.json; the default run also rewrites docs/benchmarks.md.
 *
 *   npm run bench                      default run (about 4 minutes on an idle 2-core machine)
 *   npm run bench -- --smoke           seconds-sized run of every section (CI); docs untouched
 *   npm run bench -- --scale 10m       adds a 10,000,000-record import (--scale 193: a lookup to 193 participants; --scale alone: both)
 *   npm run bench -- --only records,memory   some sections only (delivery, envelope, records, chain, fanout, memory, console)
 *   npm run bench -- --only console --docs   some sections, and their parts of docs/benchmarks.md rewritten (the rest kept)
 *   npm run bench -- --out <file> --no-docs
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDataset } from './dataset.js';
import { load1, machineInfo } from './proc.js';
import { mergeMarkdown, renderMarkdown } from './report.js';
import { benchChain } from './sections/chain.js';
import { benchConsole } from './sections/console.js';
import { benchDelivery } from './sections/delivery.js';
import { benchEnvelope } from './sections/envelope.js';
import { benchFanout } from './sections/fanout.js';
import { benchMemory } from './sections/memory.js';
import { benchRecords } from './sections/records.js';
import { DEFAULT_SIZES, SMOKE_SIZES, withScale } from './sizes.js';
import type { Target } from './stats.js';

import { SECTIONS, type SectionName } from './section-names.js';

export { SECTIONS, type SectionName };

/** One section's outcome: its figures, or why it could not run. */
export type SectionOutcome = { readonly seconds: number; readonly loadBefore: number; readonly loadAfter: number } & (
  | { readonly ok: true; readonly result: { readonly targets?: readonly Target[] } & object }
  | { readonly ok: false; readonly error: string }
);

/** What results.json holds. */
export interface BenchResults {
  readonly schema: 1;
  readonly date: string;
  readonly run: string;
  readonly command: string;
  readonly machine: ReturnType<typeof machineInfo>;
  readonly totalSeconds: number;
  readonly sections: Partial<Record<SectionName, SectionOutcome>>;
  readonly targets: readonly (Target & { readonly section: SectionName })[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function parseArgs(argv: readonly string[]) {
  const has = (flag: string) => argv.includes(flag);
  const value = (flag: string) => {
    const at = argv.indexOf(flag);
    const next = at >= 0 ? argv[at + 1] : undefined;
    return next !== undefined && !next.startsWith('--') ? next : undefined;
  };
  const scaleValue = value('--scale');
  const scale = has('--scale')
    ? scaleValue === undefined || scaleValue === 'all'
      ? ['10m', '193']
      : scaleValue.split(',')
    : [];
  const only = value('--only')?.split(',') ?? [...SECTIONS];
  for (const name of only)
    if (!(SECTIONS as readonly string[]).includes(name))
      throw new Error(`unknown section ${name}; sections: ${SECTIONS.join(', ')}`);
  const smoke = has('--smoke');
  return {
    smoke,
    scale,
    only: only as SectionName[],
    out: value('--out') ?? join(ROOT, 'bench', 'results.json'),
    docs: has('--docs') || (!smoke && !has('--no-docs') && !has('--only')),
  };
}

/** Runs the benchmarks; returns the results object that was written. */
export async function runBench(
  argv: readonly string[],
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<BenchResults> {
  const args = parseArgs(argv);
  const sizes = withScale(args.smoke ? SMOKE_SIZES : DEFAULT_SIZES, args.scale);
  const machine = machineInfo();
  const started = performance.now();
  log(
    `tracenet bench (${sizes.name}${args.scale.length ? `, scale ${args.scale.join('+')}` : ''}): ${machine.cores} cores, load ${machine.loadAtStart}, node ${machine.node}`,
  );
  const work = await mkdtemp(join(tmpdir(), 'tracenet-bench-'));
  const files = new Map<number, Promise<string>>();
  const dataset = (rows: number) => {
    let file = files.get(rows);
    if (!file) {
      const path = join(work, `records-${rows}.csv`);
      const t0 = performance.now();
      file = writeDataset(path, rows).then((bytes) => {
        log(
          `  generated ${rows.toLocaleString('en')} rows (${Math.round(bytes / 2 ** 20)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
        return path;
      });
      files.set(rows, file);
    }
    return file;
  };
  const runners: Record<SectionName, () => Promise<{ targets?: readonly Target[] } & object>> = {
    delivery: () => benchDelivery(sizes, log),
    envelope: () => benchEnvelope(sizes, log),
    records: () => benchRecords(sizes, dataset, log),
    chain: () => benchChain(sizes, log),
    fanout: () => benchFanout(sizes, log),
    memory: () => benchMemory(sizes, dataset, log),
    console: () => benchConsole(sizes, log),
  };
  const sections: Partial<Record<SectionName, SectionOutcome>> = {};
  try {
    for (const name of args.only) {
      log(`[${name}]`);
      // The writes a section leaves in the page cache (the 10M section's 4 GB) would be written
      // back while the next one measures, stretching its fsyncs: each section starts with none.
      execFileSync('sync');
      const t0 = performance.now();
      const loadBefore = load1();
      try {
        const result = await runners[name]();
        sections[name] = {
          ok: true,
          result,
          seconds: Math.round((performance.now() - t0) / 100) / 10,
          loadBefore,
          loadAfter: load1(),
        };
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        log(`  FAILED: ${message}`);
        sections[name] = {
          ok: false,
          error: message,
          seconds: Math.round((performance.now() - t0) / 100) / 10,
          loadBefore,
          loadAfter: load1(),
        };
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const targets = Object.entries(sections).flatMap(([name, s]) =>
    s.ok ? (s.result.targets ?? []).map((t) => ({ ...t, section: name as SectionName })) : [],
  );
  const results: BenchResults = {
    schema: 1,
    date: new Date().toISOString(),
    run: sizes.name + (args.scale.length ? ` + scale ${args.scale.join('+')}` : ''),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine,
    totalSeconds: Math.round((performance.now() - started) / 100) / 10,
    sections,
    targets,
  };
  await mkdir(dirname(args.out), { recursive: true });
  await writeFile(args.out, `${JSON.stringify(results, null, 2)}\n`);
  log(`results: ${args.out} (${results.totalSeconds} s)`);
  if (args.docs) {
    const docs = join(ROOT, 'docs', 'benchmarks.md');
    // A run of some sections rewrites only their parts of the page (and their targets).
    const all = args.only.length === SECTIONS.length;
    await writeFile(docs, all ? renderMarkdown(results) : mergeMarkdown(await readFile(docs, 'utf8'), results));
    log(`updated ${docs}`);
  }
  for (const t of targets)
    log(
      `  ${t.met === null ? '?' : t.met ? 'met' : 'MISSED'}  ${t.section}: ${t.name} = ${t.value ?? 'n/a'} (target ${t.goal})`,
    );
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runBench(process.argv.slice(2)).then(
    (results) => {
      const failed = Object.values(results.sections).some((s) => !s.ok);
      process.exit(failed ? 1 : 0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
