import type { Command } from 'commander';
import { ErrorCode, type FieldViolation, TracenetError } from '@tracenet/proto';
import { pino } from 'pino';
import { loadConfig } from '../config/config.js';
import { dataPaths } from '../identity/data-dir.js';
import { isIncomplete, isUnreadable, type RegistryEntry, type UnreadableRow } from '../registry/adapter.js';
import { createExternalAdapter } from '../registry/create.js';
import { systemScheduler } from '../util/scheduler.js';
import { dataOption, jsonOption, render, wholeNumber } from './context.js';

/** Exit codes of `tracenet registry check`: 2 when some rows are not valid records (held but incomplete or unreadable). */
export const REGISTRY_CHECK_EXIT = { ok: 0, failed: 1, rowsNotValid: 2 } as const;

/** Example keys kept per kind of row and per problem. */
const EXAMPLES = 5;

/** One problem as `registry check` counts it: a record field (event index as `[i]`), a rule, where it comes from. */
export interface CheckedProblem {
  readonly field: string;
  readonly rule: string;
  /** The registry column and mapping path (`column "categorie" (weapons.columns.type)`), as the adapter names it; '' when it does not. */
  readonly where: string;
  readonly rows: number;
  readonly examples: string[];
}

/** What `tracenet registry check` reports. */
export interface RegistryCheck {
  readonly adapter: string;
  readonly rows: number;
  readonly valid: number;
  readonly incomplete: number;
  readonly unreadable: number;
  readonly examples: { readonly incomplete: string[]; readonly unreadable: string[] };
  /** Weapons with an active report of loss or theft that is valid (their `interest`), and with one that is not. */
  readonly reports: { readonly valid: number; readonly invalid: number };
  /** Most frequent first. */
  readonly problems: CheckedProblem[];
  readonly ms: number;
}

/** `column "x" (path)`, `not mapped (path)`, `a constant (path)` or `column "x"`: how adapters start a problem's message. */
const WHERE = /^((?:column "[^"]*"|not mapped|a constant)(?: \([^)]*\))?): /;

/**
 * Counts what a scan of the registry gives, in memory bounded by the number of distinct problems
 * (examples are capped), whatever the registry's size.
 */
export class RegistryCheckTally {
  #rows = 0;
  #valid = 0;
  readonly #incomplete: string[] = [];
  #incompleteCount = 0;
  readonly #unreadable: string[] = [];
  #unreadableCount = 0;
  #reportsValid = 0;
  #reportsInvalid = 0;
  readonly #problems = new Map<
    string,
    { field: string; rule: string; where: string; rows: number; examples: string[] }
  >();

  /** Adds one scanned row. */
  add(entry: RegistryEntry | UnreadableRow): void {
    this.#rows += 1;
    if (isUnreadable(entry)) {
      this.#unreadableCount += 1;
      const key = entry.key === '' ? '(no key)' : entry.key;
      if (this.#unreadable.length < EXAMPLES) this.#unreadable.push(key);
      this.#count(key, entry.problems);
      return;
    }
    if (!isIncomplete(entry)) {
      this.#valid += 1;
      if (entry.interest) this.#reportsValid += 1;
      return;
    }
    this.#incompleteCount += 1;
    if (this.#incomplete.length < EXAMPLES) this.#incomplete.push(entry.recordId);
    if (entry.problems.some((p) => p.field.startsWith('record.interest'))) this.#reportsInvalid += 1;
    this.#count(entry.recordId, entry.problems);
  }

  #count(key: string, problems: readonly FieldViolation[]): void {
    const seen = new Set<string>();
    for (const problem of problems) {
      const field = problem.field.replace(/\[\d+\]/g, '[i]');
      const where = WHERE.exec(problem.message)?.[1] ?? '';
      const id = `${field}\0${problem.rule}\0${where}`;
      if (seen.has(id)) continue;
      seen.add(id);
      let counted = this.#problems.get(id);
      if (!counted) this.#problems.set(id, (counted = { field, rule: problem.rule, where, rows: 0, examples: [] }));
      counted.rows += 1;
      if (counted.examples.length < EXAMPLES) counted.examples.push(key);
    }
  }

  /** The report of what was added. */
  result(adapter: string, ms: number): RegistryCheck {
    return {
      adapter,
      rows: this.#rows,
      valid: this.#valid,
      incomplete: this.#incompleteCount,
      unreadable: this.#unreadableCount,
      examples: { incomplete: [...this.#incomplete], unreadable: [...this.#unreadable] },
      reports: { valid: this.#reportsValid, invalid: this.#reportsInvalid },
      problems: [...this.#problems.values()].sort((a, b) => b.rows - a.rows || a.field.localeCompare(b.field)),
      ms,
    };
  }
}

/** The lines `tracenet registry check` prints; at most `top` problems. */
export function checkLines(check: RegistryCheck, top: number): string[] {
  const eg = (examples: readonly string[]) => (examples.length === 0 ? '' : `  e.g. ${examples.join(', ')}`);
  const width = String(check.rows).length;
  const n = (value: number) => String(value).padStart(width);
  const lines = [
    `Registry ${check.adapter}: ${check.rows} rows read in ${(check.ms / 1000).toFixed(1)} s`,
    `  ${n(check.valid)}  valid`,
    `  ${n(check.incomplete)}  incomplete${eg(check.examples.incomplete)}`,
    `  ${n(check.unreadable)}  unreadable${eg(check.examples.unreadable)}`,
    `Reports of loss or theft: ${check.reports.valid} weapons with a valid active report, ${check.reports.invalid} with an invalid one`,
  ];
  if (check.problems.length > 0) {
    lines.push('Problems (rows, record field, rule, registry column):');
    for (const p of check.problems.slice(0, top))
      lines.push(`  ${n(p.rows)}  ${p.field}  ${p.rule}${p.where === '' ? '' : `  ${p.where}`}${eg(p.examples)}`);
    if (check.problems.length > top) lines.push(`  … and ${check.problems.length - top} more (--top or --json)`);
  }
  if (check.incomplete > 0)
    lines.push(
      'Incomplete rows are found by serial and shown as "held but incomplete"; automatic answers wait for an officer.',
    );
  if (check.unreadable > 0) lines.push('Unreadable rows have no key or no serial: no search can find them.');
  return lines;
}

/** What the registry commands need; tests give their own output and exit code. */
export interface RegistryCommandDeps {
  readonly stdout?: { write(text: string): unknown };
  readonly setExitCode?: (code: number) => void;
}

/**
 * Adds `tracenet registry check`: reads the node's configuration (`<data>/config.json` and the
 * TRACENET_* environment), opens the registry it names — PostgreSQL, a CSV folder or an adapter
 * module — directly (no running node needed), scans every row through the mapping, and prints how
 * many rows make valid records, how many are held but incomplete and how many are unreadable,
 * the most frequent problems by record field and registry column with example keys, and the
 * weapons with valid and invalid reports. Exit code 0 when every row is valid, 2 when some are
 * not, 1 when the check could not run.
 */
export function registerRegistryCommands(program: Command, deps: RegistryCommandDeps = {}): Command {
  const out = deps.stdout ?? process.stdout;
  const setExitCode = deps.setExitCode ?? ((code: number) => void (process.exitCode = code));
  const registry = program
    .command('registry')
    .description('the registry the node answers from (registry.* in config.json)');
  registry
    .command('check')
    .description(
      'scan the whole registry through the mapping: counts of valid, incomplete and unreadable rows, top problems by field and column, with examples (exit 2 when some rows are not valid)',
    )
    .addOption(dataOption())
    .addOption(jsonOption())
    .option('--top <n>', 'problems listed at most', wholeNumber('top', 0, 1_000_000), 10)
    .action(async (options: { data: string; json?: boolean; top: number }) => {
      const config = await loadConfig({ file: dataPaths(options.data).config, env: process.env });
      const adapter = await createExternalAdapter({
        config: config.registry,
        dataDir: options.data,
        clock: systemScheduler,
        logger: pino({ level: 'silent' }),
        sampleRows: 0,
        watch: false,
      });
      if (!adapter)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_INVALID_FIELD,
          'this node answers from its own records only (registry.adapter is "leveldb"): there is no registry to check',
          { field: 'registry.adapter', rule: 'registry' },
        );
      if (!adapter.scan)
        throw new TracenetError(
          ErrorCode.ERROR_CODE_UNIMPLEMENTED,
          `the ${adapter.kind} registry adapter cannot be scanned (it has no scan())`,
          { field: 'registry.adapter', rule: 'scan' },
        );
      const started = Date.now();
      const tally = new RegistryCheckTally();
      await adapter.open();
      try {
        await adapter.scan((entry) => tally.add(entry));
      } finally {
        await adapter.close();
      }
      const check = tally.result(adapter.kind, Date.now() - started);
      out.write(render(options.json, check, () => checkLines(check, options.top)));
      setExitCode(check.valid === check.rows ? REGISTRY_CHECK_EXIT.ok : REGISTRY_CHECK_EXIT.rowsNotValid);
    });
  return registry;
}
