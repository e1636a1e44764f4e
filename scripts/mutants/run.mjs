#!/usr/bin/env node
// Measures how many single-rule breaks of the reference node (scripts/mutants/catalogue.json) the
// conformance suite and the node's own tests notice (issue 14 section 9, docs/conformance.md
// section 7). For each mutant, in a scratch copy of the tree (never this working tree): apply it,
// `tsc -b node`, run the conformance suite against the mutated node as `npm run conformance` does,
// the cases of the mutant's sections first and, when they all pass, the whole suite; then the
// node's tests (`vitest run node/test sdk/test --bail 1`), the mutant's likely test files first
// and, when they all pass, the whole node suite. A failure counts only when it fails again on the
// mutant and passes on an unmutated copy (so a flaky test on a loaded machine is no kill).
// With --quick only the first (targeted) phases run; a later run without it completes the misses.
//
//   npm run mutants                          measure every mutant not yet measured for this source
//   npm run mutants -- --only nonce-fixed    only these (comma-separated or repeated)
//   npm run mutants -- --list                the catalogue and what is measured
//   npm run mutants -- --fresh               measure again what was measured
//   npm run mutants -- --quick               targeted phases only (a later full run completes the misses)
//   npm run mutants -- --carry               keep what earlier commits noticed when the node's code is the same
//   npm run mutants -- --shard 2/3           every third mutant from the second (run the shards at once)
//   npm run mutants -- --write-docs          put the figures into docs/conformance.md section 7
//
// Results go to scripts/mutants/results.json (not committed), a shard's to results.shard-<i>-of-<n>.json;
// every results file there is read. A mutant measured for the same
// sources (node, sdk, conformance, proto and the root build files) and the same catalogue entry is
// skipped, so an interrupted run resumes where it stopped. Every command runs under `nice`.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { applyMutant, checkCatalogue, entryHash, loadCatalogue } from './catalogue.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(ROOT, 'scripts/mutants/results.json');
const DOCS = join(ROOT, 'docs/conformance.md');
/** Bumped when the way of measuring changes: results of another version are measured again. */
const RUNNER_VERSION = 2;
/** What a measurement depends on; docs and scripts are left out so that writing the figures keeps them. */
const MEASURED = [
  'node/',
  'sdk/',
  'conformance/',
  'proto/',
  'package.json',
  'package-lock.json',
  'tsconfig.base.json',
  'tsconfig.json',
  'vitest.config.ts',
];
/** Kept in sync with the code by a unit test; it fails on every mutant by design, so it is never a kill. */
const CATALOGUE_TEST = 'node/test/mutants-catalogue.test.ts';
const MINUTE = 60_000;
const LIMITS = {
  build: 10 * MINUTE,
  suite: 40 * MINUTE,
  confirm: 15 * MINUTE,
  targeted: 40 * MINUTE,
  full: 120 * MINUTE,
};
const NODE = process.execPath;

// ---- options -------------------------------------------------------------------------------

function parseArgs(argv) {
  const options = {
    only: [],
    list: false,
    fresh: false,
    quick: false,
    carry: false,
    shard: undefined,
    writeDocs: false,
    keep: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--only') options.only.push(...(argv[(i += 1)] ?? '').split(',').filter((s) => s !== ''));
    else if (arg.startsWith('--only='))
      options.only.push(
        ...arg
          .slice(7)
          .split(',')
          .filter((s) => s !== ''),
      );
    else if (arg === '--list') options.list = true;
    else if (arg === '--fresh') options.fresh = true;
    else if (arg === '--quick') options.quick = true;
    else if (arg === '--carry') options.carry = true;
    else if (arg === '--shard' || arg.startsWith('--shard=')) {
      const value = arg === '--shard' ? (argv[(i += 1)] ?? '') : arg.slice(8);
      const match = /^(\d+)\/(\d+)$/.exec(value);
      if (!match || Number(match[1]) < 1 || Number(match[1]) > Number(match[2]))
        throw new Error(`--shard takes <i>/<n> with 1 <= i <= n, not ${value}`);
      options.shard = { index: Number(match[1]), count: Number(match[2]) };
    } else if (arg === '--write-docs') options.writeDocs = true;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '-h' || arg === '--help') options.help = true;
    else throw new Error(`unknown option ${arg} (see --help)`);
  }
  return options;
}

const HELP = `usage: npm run mutants -- [--only <id,...>] [--list] [--fresh] [--quick] [--carry] [--shard <i>/<n>] [--write-docs] [--keep]
  --only <ids>    measure only these mutants (comma-separated or repeated)
  --list          list the catalogue with what is measured, and exit
  --fresh         measure again mutants already measured for these sources
  --quick         run only the targeted phases (the mutant's sections, its likely test files);
                  a mutant they miss is measured completely by a later run without --quick
  --carry         keep a side's "noticed" measured at an earlier commit whose node code (node/src,
                  proto, package-lock.json) is this tree's: tests and cases added since cannot
                  undo it; every miss is measured again
  --shard <i>/<n> measure only every n-th mutant from the i-th, into a results file of its own;
                  the shards of one measurement run at the same time (their suites mostly wait)
  --write-docs    write the figures into docs/conformance.md section 7 (every mutant measured)
  --keep          keep the scratch copies and logs (printed at the end)`;

// ---- processes -----------------------------------------------------------------------------

let current; // the process group running now, killed on Ctrl-C
let scratchRoot;

/**
 * Runs `args` under nice in its own process group; resolves with its exit code, output in `log`.
 * `onLine` sees each line of standard output and may return true to stop the run there.
 */
function run(args, { cwd, log, timeoutMs, env = {}, onLine }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const out = [];
    const child = spawn('nice', ['-n', '10', ...args], {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0', ...env },
    });
    current = child;
    let partial = '';
    let stopped = false;
    child.stdout.on('data', (d) => {
      out.push(d);
      if (!onLine || stopped) return;
      const lines = (partial + d.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      if (lines.some((line) => onLine(line))) {
        stopped = true;
        killGroup(child.pid);
      }
    });
    child.stderr.on('data', (d) => out.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      const output = Buffer.concat(out).toString('utf8');
      if (log) writeFileSync(log, `$ ${args.join(' ')}\n(cwd ${cwd})\n\n${output}`);
      resolve({ code: code ?? (signal ? 128 : 1), timedOut, stopped, output, ms: Date.now() - started });
    });
  });
}

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Ends what a run left behind in the scratch copies (nodes the suite or a test started in a group
 * of their own): the processes whose command line names the scratch directory or that run in it,
 * by their ids.
 */
function killStragglers() {
  if (!scratchRoot || !existsSync('/proc')) return;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(scratchRoot) ||
        readlinkSync(`/proc/${pid}/cwd`).startsWith(scratchRoot)
      )
        process.kill(pid, 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}

// ---- sources and scratch copies ------------------------------------------------------------

/** The files of the working tree: tracked and untracked, without what git ignores. */
function treeFiles() {
  const listed = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  return listed.stdout.split('\0').filter((f) => f !== '' && existsSync(join(ROOT, f)));
}

/** The hash of everything a measurement depends on (the working tree as it is, committed or not). */
function sourceKey(files) {
  const hash = createHash('sha256').update(`runner ${RUNNER_VERSION}\n`);
  for (const file of files.filter((f) => MEASURED.some((m) => (m.endsWith('/') ? f.startsWith(m) : f === m))).sort()) {
    hash
      .update(`${file}\n`)
      .update(readFileSync(join(ROOT, file)))
      .update('\n');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The git objects of the mutated code at `commit` (node/src, proto, package-lock.json), or
 * undefined when it cannot be named (uncommitted changes there). Two commits with the same value
 * run the same node: a mutant noticed at one is noticed at the other by the same test or case.
 */
function nodeCodeAt(commit) {
  if (commit === undefined || commit.includes(' ')) return undefined;
  const ids = ['node/src', 'proto', 'package-lock.json'].map((path) =>
    spawnSync('git', ['rev-parse', `${commit}:${path}`], { cwd: ROOT, encoding: 'utf8' }),
  );
  return ids.every((r) => r.status === 0) ? ids.map((r) => r.stdout.trim()).join(' ') : undefined;
}

function gitCommit() {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const dirty =
    spawnSync('git', ['status', '--porcelain', '--', ...MEASURED], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() !==
    '';
  return dirty ? `${head} with uncommitted changes` : head;
}

/**
 * A copy of the tree at `dir`, built. node_modules is a directory of links to this tree's packages,
 * except the workspaces (@tracenet/*), which link to the copy's own, and vite's caches.
 */
async function makeCopy(dir, files, logs) {
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@tracenet'), { recursive: true });
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry === '@tracenet' || entry.startsWith('.vite') || entry === '.cache') continue;
    symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
  }
  for (const pkg of readdirSync(join(ROOT, 'node_modules/@tracenet')))
    symlinkSync(`../../${pkg}`, join(modules, '@tracenet', pkg));
  const built = await run([NODE, 'node_modules/typescript/bin/tsc', '-b'], {
    cwd: dir,
    log: join(logs, `build-${relative(scratchRoot, dir)}.log`),
    timeoutMs: LIMITS.build * 2,
  });
  if (built.code !== 0) throw new Error(`the scratch copy ${dir} does not build:\n${built.output.slice(-3000)}`);
}

// ---- the conformance suite -----------------------------------------------------------------

const SUITE_ARGS = [
  'conformance/dist/cli.js',
  '--spawn',
  'sh conformance/bin/reference-node.sh',
  '--expected-failures',
  'conformance/expected-failures.json',
  '--ready-timeout',
  '60000',
];
/** The suite stops after this many cases failed (that the unmutated node passes): enough to confirm and name them. */
const SUITE_BAIL = 3;
/** A failed or unexpectedly passing case in the suite's progress output (docs/conformance.md section 1). */
const SUITE_FAILURE = /^(FAIL|XPASS) +(\S+) +protocol /;

/**
 * Runs the suite (or the cases `only`) in `dir`; the cases that failed or passed unexpectedly.
 * With `bail`, the run stops once that many cases not in `ignore` failed.
 */
async function runSuite(dir, log, { only = [], bail = 0, ignore = [] } = {}) {
  const json = `${log}.json`;
  rmSync(json, { force: true });
  const args = [NODE, ...SUITE_ARGS, '--json', json, ...(only.length > 0 ? ['--only', only.join(',')] : [])];
  const seen = [];
  const onLine = (line) => {
    const failure = SUITE_FAILURE.exec(line);
    if (failure && !ignore.includes(failure[2])) seen.push({ id: failure[2], section: '', message: '' });
    return bail > 0 && seen.length >= bail;
  };
  // The nodes the suite starts keep their data under the scratch directory: ended and removed with it.
  const env = { TMPDIR: join(scratchRoot, 'tmp') };
  const result = await run(args, {
    cwd: dir,
    log,
    env,
    onLine,
    timeoutMs: only.length > 0 ? LIMITS.confirm : LIMITS.suite,
  });
  killStragglers();
  if (result.stopped) return { ran: true, failed: seen, ms: result.ms, note: `stopped after ${bail} failed cases` };
  if (!existsSync(json)) {
    const tail = result.output.trim().split('\n').slice(-3).join(' ').slice(0, 300);
    return {
      ran: false,
      failed: [],
      ms: result.ms,
      note: result.timedOut ? 'the suite timed out' : `the suite could not run (exit ${result.code}): ${tail}`,
    };
  }
  const report = JSON.parse(readFileSync(json, 'utf8'));
  const failed = report.results
    .filter((r) => r.status === 'failed' || r.status === 'xpass')
    .map((r) => ({ id: r.id, section: r.section, message: String(r.message).slice(0, 300) }));
  return { ran: true, failed, ms: result.ms, note: result.timedOut ? 'timed out' : '' };
}

/** Pristine outcomes already seen in this run, by case id or test: the unmutated copy does not change. */
const pristineFailed = new Map();

/** Which of `ids` fail on the unmutated copy (run once per id and remembered). */
async function pristineSuiteFailures(copies, ids, log) {
  const unknown = ids.filter((id) => !pristineFailed.has(`case ${id}`));
  if (unknown.length > 0) {
    const pristine = await runSuite(copies.pristine, log, { only: unknown });
    const failed = new Set(pristine.failed.map((f) => f.id));
    for (const id of unknown) pristineFailed.set(`case ${id}`, !pristine.ran || failed.has(id));
  }
  return new Set(ids.filter((id) => pristineFailed.get(`case ${id}`)));
}

/**
 * The suite against the mutant: the cases of its sections first ('targeted'), then, unless
 * `quick`, the whole suite ('full'), stopping after {@link SUITE_BAIL} failed cases. A case counts
 * only when it fails again on the mutant and passes on the unmutated copy; cases that do not are
 * left out and the phase runs again (at most three times). A node the suite cannot run against at
 * all, twice, is noticed: the unmutated node passed the baseline.
 */
async function measureSuite(copies, mutant, logs, baseline, quick) {
  const ignore = [...baseline];
  const unconfirmed = [];
  let ms = 0;
  const sections = mutant.section
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '0');
  // A local-only mutant does not count for the suite: its sections' cases only check that it is local.
  const phases = [
    ...(sections.length > 0 ? ['targeted'] : []),
    ...(quick || mutant.visibility === 'local' ? [] : ['full']),
  ];
  for (const phase of phases) {
    const only = phase === 'targeted' ? sections : [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const name = `${mutant.id}-suite-${phase}-${attempt}`;
      let first = await runSuite(copies.mutant, join(logs, `${name}.log`), { only, bail: SUITE_BAIL, ignore });
      ms += first.ms;
      if (!first.ran) {
        const again = await runSuite(copies.mutant, join(logs, `${name}-again.log`), {
          only,
          bail: SUITE_BAIL,
          ignore,
        });
        ms += again.ms;
        if (!again.ran) return { killed: true, scope: phase, cases: [], note: again.note, ms };
        first = again;
      }
      const suspects = first.failed.filter((f) => !ignore.includes(f.id));
      if (suspects.length === 0) break;
      const ids = suspects.map((f) => f.id);
      const again = await runSuite(copies.mutant, join(logs, `${name}-confirm.log`), { only: ids });
      const failsUnmutated = await pristineSuiteFailures(copies, ids, join(logs, `${name}-pristine.log`));
      ms += again.ms;
      const failsAgain = new Map(again.failed.map((f) => [f.id, f]));
      const cases = ids.filter((id) => failsAgain.has(id) && !failsUnmutated.has(id)).map((id) => failsAgain.get(id));
      if (cases.length > 0)
        return {
          killed: true,
          scope: phase,
          cases,
          note: unconfirmed.length > 0 ? `not confirmed: ${unconfirmed.join(', ')}` : '',
          ms,
        };
      unconfirmed.push(...ids);
      ignore.push(...ids);
      if (!first.note.startsWith('stopped')) break;
    }
  }
  return {
    killed: false,
    scope: quick || mutant.visibility === 'local' ? 'targeted' : 'full',
    cases: [],
    note: unconfirmed.length > 0 ? `not confirmed: ${unconfirmed.join(', ')}` : '',
    ms,
  };
}

// ---- the node's tests ----------------------------------------------------------------------

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs vitest in `dir`; the failed tests as { file, name } (name '' for a file that failed as a whole). */
async function runTests(dir, log, args, timeoutMs = LIMITS.confirm) {
  const json = `${log}.json`;
  rmSync(json, { force: true });
  const result = await run(
    [
      NODE,
      'node_modules/vitest/vitest.mjs',
      'run',
      ...args,
      '--exclude',
      CATALOGUE_TEST,
      '--reporter=json',
      `--outputFile=${json}`,
    ],
    {
      cwd: dir,
      log,
      timeoutMs,
    },
  );
  killStragglers();
  if (!existsSync(json))
    return {
      ok: false,
      failed: [],
      ms: result.ms,
      note: result.timedOut ? 'vitest timed out' : `vitest ended without a report (exit ${result.code})`,
    };
  const report = JSON.parse(readFileSync(json, 'utf8'));
  const failed = [];
  for (const file of report.testResults) {
    const name = relative(dir, file.name);
    const tests = file.assertionResults.filter((t) => t.status === 'failed');
    for (const t of tests)
      failed.push({
        file: name,
        name: t.fullName,
        message: String(t.failureMessages?.[0] ?? '')
          .split('\n')[0]
          .slice(0, 300),
      });
    if (tests.length === 0 && file.status === 'failed')
      failed.push({
        file: name,
        name: '',
        message: String(file.message ?? '')
          .split('\n')[0]
          .slice(0, 300),
      });
  }
  return {
    ok: result.code === 0 && failed.length === 0,
    failed,
    ms: result.ms,
    note: result.timedOut ? 'vitest timed out' : '',
  };
}

/** Whether a failure of the mutant is real: it fails again there and passes on the unmutated copy (remembered). */
async function confirmTest(copies, mutant, logs, failure, n) {
  const select = [failure.file, ...(failure.name === '' ? [] : ['-t', `^${escapeRegExp(failure.name)}$`])];
  const again = await runTests(copies.mutant, join(logs, `${mutant.id}-tests-again-${n}.log`), select);
  if (again.ok) return { confirmed: false, ms: again.ms };
  const key = `test ${failure.file} > ${failure.name}`;
  if (!pristineFailed.has(key))
    pristineFailed.set(
      key,
      !(await runTests(copies.pristine, join(logs, `${mutant.id}-tests-pristine-${n}.log`), select)).ok,
    );
  return { confirmed: !pristineFailed.get(key), ms: again.ms };
}

/**
 * The node's tests against the mutant: its likely test files first, then, when they all pass, the
 * whole node suite without them (unless `quick`). A file whose failure is not confirmed is left out
 * and the phase runs again without it (at most three times).
 */
async function measureTests(copies, mutant, logs, quick) {
  const targeted = mutant.tests.filter((t) => t !== CATALOGUE_TEST);
  const unreliable = [];
  let ms = 0;
  for (const phase of quick ? ['targeted'] : ['targeted', 'full']) {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const files = targeted.filter((f) => !unreliable.includes(f));
      if (phase === 'targeted' && files.length === 0) break;
      const excluded = phase === 'full' ? [...targeted, ...unreliable] : [];
      const args = [
        ...(phase === 'targeted' ? files : ['node/test', 'sdk/test']),
        '--bail',
        '1',
        ...excluded.flatMap((f) => ['--exclude', f]),
      ];
      const result = await runTests(
        copies.mutant,
        join(logs, `${mutant.id}-tests-${phase}-${attempt}.log`),
        args,
        LIMITS[phase],
      );
      ms += result.ms;
      if (result.ok) break;
      const failure = result.failed[0];
      if (!failure) return { killed: false, phase, test: '', ms, note: `inconclusive: ${result.note}` };
      const confirmation = await confirmTest(copies, mutant, logs, failure, `${phase}-${attempt}`);
      ms += confirmation.ms;
      if (confirmation.confirmed) {
        const test =
          failure.name === ''
            ? `${failure.file} (the file fails: ${failure.message})`
            : `${failure.file} > ${failure.name}`;
        return {
          killed: true,
          phase,
          test,
          message: failure.message,
          ms,
          note: unreliable.length > 0 ? `left out as unreliable: ${unreliable.join(', ')}` : '',
        };
      }
      unreliable.push(failure.file);
    }
  }
  return {
    killed: false,
    phase: quick ? 'targeted' : 'full',
    test: '',
    ms,
    note: unreliable.length > 0 ? `left out as unreliable: ${unreliable.join(', ')}` : '',
  };
}

// ---- results -------------------------------------------------------------------------------

/** Every results file (results.json and the shards'), merged: of two results of a mutant, the later. */
function readResults() {
  const results = { format: 'tracenet-mutants/1', baseline: undefined, mutants: {} };
  const dir = dirname(RESULTS);
  for (const name of readdirSync(dir)
    .filter((n) => /^results(\.shard-\d+-of-\d+)?\.json$/.test(n))
    .sort()) {
    const file = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    if (file.baseline && !(results.baseline?.measuredAt > file.baseline.measuredAt)) results.baseline = file.baseline;
    for (const [id, r] of Object.entries(file.mutants ?? {}))
      if (!(results.mutants[id]?.measuredAt > r.measuredAt)) results.mutants[id] = r;
  }
  return results;
}

/** Writes the results of `ids` (and the baseline) to `file`. */
function writeResults(results, file = RESULTS, ids = Object.keys(results.mutants)) {
  const mutants = Object.fromEntries(
    ids.filter((id) => results.mutants[id] !== undefined).map((id) => [id, results.mutants[id]]),
  );
  writeFileSync(file, `${JSON.stringify({ ...results, mutants }, null, 2)}\n`);
}

/** The figures of the catalogue's mutants measured for `key`. */
/**
 * What is known of a mutant for this tree: its result when measured for these sources (`key`);
 * with `carry`, also a result of an earlier commit running the same node code, keeping only the
 * sides that noticed it (each marked `carriedFrom`); undefined otherwise.
 */
function recordedResult(r, { key, entry, fresh, carry, sameCode }) {
  if (r === undefined || fresh) return undefined;
  if (r.key === key) return r;
  if (!carry || !r.key.endsWith(`:${entry}`) || !sameCode(r.commit)) return undefined;
  if (r.status === 'invalid') return r;
  const keep = (side, always = false) =>
    side?.killed || (always && side) ? { ...side, carriedFrom: side.carriedFrom ?? r.commit } : undefined;
  // A local mutant's suite side does not count (its sections' cases only check that it is local).
  return { ...r, suite: keep(r.suite, r.visibility === 'local'), tests: keep(r.tests) };
}

function figures(catalogue, recorded) {
  const rows = catalogue.mutants.map((m) => {
    const result = recorded(m);
    return { mutant: m, result: result?.status === 'invalid' || (result?.suite && result?.tests) ? result : undefined };
  });
  const measured = rows.filter((r) => r.result?.status === 'measured');
  const wire = measured.filter((r) => r.mutant.visibility === 'wire');
  const suiteKilled = wire.filter((r) => r.result.suite.killed);
  const testsKilled = measured.filter((r) => r.result.tests.killed);
  return {
    rows,
    total: catalogue.mutants.length,
    measured: measured.length,
    invalid: rows.filter((r) => r.result?.status === 'invalid'),
    wire: wire.length,
    suiteKilled: suiteKilled.length,
    testsKilled: testsKilled.length,
    suiteMissed: wire.filter((r) => !r.result.suite.killed).map((r) => r.mutant),
    testsMissed: measured.filter((r) => !r.result.tests.killed).map((r) => r.mutant),
    bothMissed: measured
      .filter((r) => !r.result.tests.killed && !(r.mutant.visibility === 'wire' && r.result.suite.killed))
      .map((r) => r.mutant),
    localNoticedBySuite: measured
      .filter((r) => r.mutant.visibility === 'local' && r.result.suite.killed)
      .map((r) => r.mutant),
    /** Missed by a side that ran only its targeted phase (--quick): not yet a measured miss. */
    incomplete: measured
      .filter(
        (r) =>
          (!r.result.suite.killed && r.result.suite.scope === 'targeted' && r.mutant.visibility === 'wire') ||
          (!r.result.tests.killed && r.result.tests.phase === 'targeted'),
      )
      .map((r) => r.mutant),
  };
}

const percent = (n, d) => (d === 0 ? '–' : `${Math.floor((n * 1000) / d) / 10} %`);
const seconds = (ms) => `${Math.round(ms / 1000)} s`;

function printTable(f) {
  const width = Math.max(...f.rows.map((r) => r.mutant.id.length));
  console.log(
    `\n${'mutant'.padEnd(width)}  vis    suite                                         node tests                                              time`,
  );
  for (const { mutant, result } of f.rows) {
    const vis = mutant.visibility.padEnd(5);
    if (!result) {
      console.log(`${mutant.id.padEnd(width)}  ${vis}  (not measured)`);
      continue;
    }
    if (result.status === 'invalid') {
      console.log(`${mutant.id.padEnd(width)}  ${vis}  INVALID: ${result.note}`);
      continue;
    }
    const partly = (scope) => (scope === 'targeted' ? ' in its sections only' : '');
    const suite = result.suite.killed
      ? `noticed: ${result.suite.cases.map((c) => c.id).join(', ')}`
      : `missed${partly(result.suite.scope)}${result.suite.note ? ` (${result.suite.note})` : ''}`;
    const tests = result.tests.killed
      ? `noticed (${result.tests.phase}): ${result.tests.test}`
      : `missed${partly(result.tests.phase)}`;
    console.log(
      `${mutant.id.padEnd(width)}  ${vis}  ${suite.slice(0, 44).padEnd(44)}  ${tests.slice(0, 54).padEnd(54)}  ${seconds(result.durationMs)}`,
    );
  }
  console.log(`\nmeasured ${f.measured} of ${f.total} mutants (${f.wire} visible on the wire)`);
  console.log(
    `conformance suite: ${f.suiteKilled} / ${f.wire} wire-visible mutants noticed (${percent(f.suiteKilled, f.wire)}; goal 90 %)`,
  );
  console.log(
    `node tests:        ${f.testsKilled} / ${f.measured} mutants noticed (${percent(f.testsKilled, f.measured)}; goal 95 %)`,
  );
  const list = (title, mutants) => {
    if (mutants.length === 0) return;
    console.log(`\n${title}:`);
    for (const m of mutants) console.log(`  ${m.id.padEnd(width)}  ${m.section.padEnd(11)} ${m.rule}`);
  };
  list('missed by the conformance suite (wire-visible)', f.suiteMissed);
  list('missed by the node tests', f.testsMissed);
  list('missed by both', f.bothMissed);
  list('local-only, yet noticed by the suite (visibility to check)', f.localNoticedBySuite);
  list('missed by a targeted phase only (--quick): a run without --quick completes them', f.incomplete);
  if (f.invalid.length > 0)
    list(
      'invalid (does not build)',
      f.invalid.map((r) => r.mutant),
    );
}

/** A line naming the commits whose "noticed" was kept (--carry), if any. */
function carriedNote(f) {
  const from = new Map();
  for (const { result } of f.rows) {
    for (const side of [result?.suite, result?.tests])
      if (side?.killed && side.carriedFrom) from.set(side.carriedFrom, (from.get(side.carriedFrom) ?? 0) + 1);
  }
  if (from.size === 0) return [];
  const list = [...from].map(([commit, n]) => `${n} at \`${commit}\``).join(', ');
  return [
    `Measured in passes from commit to commit while tests and cases were added: a side (suite or node tests) that noticed a mutant at an earlier commit running the same node code (node/src, proto and package-lock.json identical) is kept — ${list} (sides) — and every miss was measured again at the commit above.`,
  ];
}

const DOCS_BEGIN = '<!-- mutants:begin (written by npm run mutants -- --write-docs) -->';
const DOCS_END = '<!-- mutants:end -->';

/** The block of docs/conformance.md section 7 that `--write-docs` replaces. */
function docsBlock(f) {
  const latest = f.rows
    .map((r) => r.result)
    .filter((r) => r !== undefined)
    .reduce((a, b) => (b.measuredAt > a.measuredAt ? b : a));
  const date = latest.measuredAt.slice(0, 10);
  const commit = latest.commit;
  const ids = (mutants) => (mutants.length === 0 ? 'none' : mutants.map((m) => `\`${m.id}\``).join(', '));
  return [
    DOCS_BEGIN,
    '| measured | commit | mutants | visible on the wire | noticed by the suite | noticed by the node tests | missed by both |',
    '|---|---|---:|---:|---:|---:|---:|',
    `| ${date} | \`${commit}\` | ${f.measured} | ${f.wire} | ${f.suiteKilled} (${percent(f.suiteKilled, f.wire)}) | ${f.testsKilled} (${percent(f.testsKilled, f.measured)}) | ${f.bothMissed.length} |`,
    '',
    `Goal (issue 14): the suite notices at least 90 % of the wire-visible mutants, the node tests at least 95 % of all.`,
    ...carriedNote(f),
    `Missed by the suite: ${ids(f.suiteMissed)}. Missed by the node tests: ${ids(f.testsMissed)}.`,
    DOCS_END,
  ].join('\n');
}

function writeDocs(f) {
  const text = readFileSync(DOCS, 'utf8');
  const block = docsBlock(f);
  const begin = text.indexOf(DOCS_BEGIN);
  const end = text.indexOf(DOCS_END);
  if (begin === -1 || end === -1)
    throw new Error(`docs/conformance.md has no block between "${DOCS_BEGIN}" and "${DOCS_END}" in section 7`);
  writeFileSync(DOCS, text.slice(0, begin) + block + text.slice(end + DOCS_END.length));
  console.log('docs/conformance.md section 7: figures written');
}

// ---- main ----------------------------------------------------------------------------------

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  const catalogue = loadCatalogue(ROOT);
  const problems = checkCatalogue(catalogue, ROOT);
  if (problems.length > 0) {
    console.error(`scripts/mutants/catalogue.json is out of step with the code:\n  ${problems.join('\n  ')}`);
    return 2;
  }
  const unknown = options.only.filter((id) => !catalogue.mutants.some((m) => m.id === id));
  if (unknown.length > 0) {
    console.error(`no such mutant: ${unknown.join(', ')} (see --list)`);
    return 2;
  }
  const files = treeFiles();
  const key = sourceKey(files);
  const results = readResults();
  const keyOf = (m) => `${key}:${entryHash(m)}`;
  const code = nodeCodeAt(gitCommit());
  const codeOf = new Map();
  const sameCode = (commit) => {
    if (!codeOf.has(commit)) codeOf.set(commit, nodeCodeAt(commit));
    return code !== undefined && codeOf.get(commit) === code;
  };
  const recorded = (m) =>
    recordedResult(results.mutants[m.id], {
      key: keyOf(m),
      entry: entryHash(m),
      fresh: options.fresh,
      carry: options.carry,
      sameCode,
    });
  if (options.list) {
    for (const m of catalogue.mutants) {
      const r = recorded(m);
      const state =
        !r || (r.status !== 'invalid' && !(r.suite && r.tests))
          ? 'not measured'
          : r.status === 'invalid'
            ? 'invalid'
            : `suite ${r.suite.killed ? 'noticed' : 'missed'}, tests ${r.tests.killed ? 'noticed' : 'missed'}`;
      console.log(`${m.id.padEnd(40)} ${m.section.padEnd(16)} ${m.visibility.padEnd(6)} ${m.file.padEnd(44)} ${state}`);
    }
    return 0;
  }
  const selected = catalogue.mutants.filter(
    (m, n) =>
      (options.only.length === 0 || options.only.includes(m.id)) &&
      (!options.shard || n % options.shard.count === options.shard.index - 1),
  );
  const own = options.shard
    ? join(dirname(RESULTS), `results.shard-${options.shard.index}-of-${options.shard.count}.json`)
    : RESULTS;
  const save = () =>
    options.shard
      ? writeResults(
          results,
          own,
          selected.map((m) => m.id),
        )
      : writeResults(results);
  // A side is done when it noticed the mutant or ran completely; --quick leaves the complete runs for later.
  const suiteDone = (r) =>
    r !== undefined &&
    (r.status === 'invalid' ||
      (r.suite !== undefined &&
        (r.suite.killed || r.suite.scope === 'full' || r.visibility === 'local' || options.quick)));
  const testsDone = (r) =>
    r !== undefined &&
    (r.status === 'invalid' ||
      (r.tests !== undefined && (r.tests.killed || r.tests.phase === 'full' || options.quick)));
  const todo = selected.filter((m) => !suiteDone(recorded(m)) || !testsDone(recorded(m)));
  const commit = gitCommit();
  if (todo.length > 0) {
    console.log(
      `${todo.length} of ${selected.length} mutants to measure (sources ${key}, ${commit}); ${selected.length - todo.length} measured already`,
    );
    scratchRoot = mkdtempSync(join(tmpdir(), 'tracenet-mutants-'));
    const logs = join(scratchRoot, 'logs');
    mkdirSync(logs);
    mkdirSync(join(scratchRoot, 'tmp'));
    const copies = { pristine: join(scratchRoot, 'pristine'), mutant: join(scratchRoot, 'mutant') };
    const interrupt = (signal) => {
      console.error(`\n${signal}: stopping; the mutants measured so far are kept in ${relative(ROOT, RESULTS)}`);
      if (current) killGroup(current.pid);
      killStragglers();
      if (!options.keep) rmSync(scratchRoot, { recursive: true, force: true });
      process.exit(130);
    };
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    try {
      console.log(`scratch copies in ${scratchRoot}: copying and building (tsc -b) twice`);
      await makeCopy(copies.pristine, files, logs);
      await makeCopy(copies.mutant, files, logs);
      if (results.baseline?.key !== key) {
        console.log('baseline: the conformance suite against the unmutated node');
        const base = await runSuite(copies.pristine, join(logs, 'baseline-suite.log'));
        if (!base.ran) throw new Error(`the conformance suite does not run against the unmutated node: ${base.note}`);
        results.baseline = { key, suiteFailures: base.failed.map((f) => f.id), measuredAt: new Date().toISOString() };
        save();
        if (base.failed.length > 0)
          console.log(`  the unmutated node fails ${base.failed.map((f) => f.id).join(', ')}: these cases are ignored`);
      }
      for (const [n, mutant] of todo.entries()) {
        const started = Date.now();
        const file = join(copies.mutant, mutant.file);
        const original = readFileSync(file, 'utf8');
        process.stdout.write(`[${n + 1}/${todo.length}] ${mutant.id} (${mutant.section}, ${mutant.visibility}): `);
        const record = {
          key: keyOf(mutant),
          commit,
          measuredAt: new Date().toISOString(),
          section: mutant.section,
          visibility: mutant.visibility,
          rule: mutant.rule,
        };
        try {
          writeFileSync(file, applyMutant(original, mutant));
          const build = await run([NODE, 'node_modules/typescript/bin/tsc', '-b', 'node'], {
            cwd: copies.mutant,
            log: join(logs, `${mutant.id}-build.log`),
            timeoutMs: LIMITS.build,
          });
          if (build.code !== 0) {
            const error = build.output.split('\n').find((l) => l.includes('error')) ?? build.output.slice(0, 300);
            results.mutants[mutant.id] = {
              ...record,
              status: 'invalid',
              note: `does not build: ${error.trim()}`,
              durationMs: Date.now() - started,
            };
            console.log(`INVALID (does not build: ${error.trim()})`);
            continue;
          }
          process.stdout.write(`built ${seconds(build.ms)}; suite `);
          const before = recorded(mutant);
          const suite = suiteDone(before)
            ? before.suite
            : await measureSuite(copies, mutant, logs, results.baseline.suiteFailures, options.quick);
          process.stdout.write(
            `${suite.killed ? `noticed (${suite.cases.map((c) => c.id).join(', ')})` : 'missed'} ${seconds(suite.ms)}; tests `,
          );
          const tests = testsDone(before) ? before.tests : await measureTests(copies, mutant, logs, options.quick);
          console.log(`${tests.killed ? `noticed (${tests.phase}: ${tests.test})` : 'missed'} ${seconds(tests.ms)}`);
          results.mutants[mutant.id] = {
            ...record,
            status: 'measured',
            suite,
            tests,
            durationMs: (before?.durationMs ?? 0) + Date.now() - started,
          };
        } finally {
          writeFileSync(file, original);
          save();
        }
      }
    } finally {
      killStragglers();
      if (options.keep) console.log(`kept ${scratchRoot} (logs in ${logs})`);
      else rmSync(scratchRoot, { recursive: true, force: true });
    }
  }
  const f = figures(catalogue, recorded);
  printTable(f);
  if (options.writeDocs) {
    if (f.measured + f.invalid.length < f.total || f.incomplete.length > 0) {
      console.error(
        `\n--write-docs: ${f.total - f.measured - f.invalid.length + f.incomplete.length} mutants are not measured completely for these sources yet; run npm run mutants first`,
      );
      return 1;
    }
    writeDocs(f);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
