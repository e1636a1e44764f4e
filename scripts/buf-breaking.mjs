#!/usr/bin/env node
// `buf breaking` of the wire contract (proto/) against the contract of the previous commit on
// main: nodes of different versions talk to each other, so a change that breaks the generated
// code or the wire (a renumbered field, a removed message, a changed type) must be a decision,
// not an accident. Run by `npm run lint:proto` (and so by `npm run lint` and `npm test`).
//
// The base is, in order: TRACENET_BREAKING_AGAINST (any git revision); on a branch other than
// main, its merge-base with main (what main's contract was when the branch left it); else HEAD~1.
// That revision's proto/ is copied out with `git archive`, so nothing is fetched (offline, and a
// git worktree works like a clone). A shallow clone may not have the base: the script says so
// and compares the working tree against HEAD instead, which still catches an uncommitted break.
//
// An intended break: name the release it belongs to in docs/protocol.md, then run once with
// TRACENET_BREAKING_AGAINST=HEAD (the base becomes the commit being changed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** What buf.yaml and the definitions are made of; generated code is not the contract. */
const CONTRACT = ['proto/buf.yaml', 'proto/tracenet', 'proto/google'];

function git(...args) {
  const run = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/** The commit of `revision`, or undefined when this clone does not have it. */
function commitOf(revision) {
  return git('rev-parse', '--verify', '--quiet', `${revision}^{commit}`);
}

/** The revision to compare against, and why it was chosen. */
function chooseBase() {
  const named = process.env.TRACENET_BREAKING_AGAINST;
  if (named) return { revision: named, why: 'TRACENET_BREAKING_AGAINST' };
  const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
  if (branch !== 'main') {
    for (const main of ['main', 'origin/main']) {
      if (!commitOf(main)) continue;
      const base = git('merge-base', 'HEAD', main);
      if (base && base !== commitOf('HEAD')) return { revision: base, why: `merge-base of ${branch} and ${main}` };
    }
  }
  return { revision: 'HEAD~1', why: 'the previous commit' };
}

let { revision, why } = chooseBase();
let commit = commitOf(revision);
if (!commit) {
  // A shallow clone (CI often fetches one commit) has no parent to compare with.
  console.log(`buf breaking: ${revision} (${why}) is not in this clone (shallow?); comparing against HEAD instead`);
  revision = 'HEAD';
  why = 'the commit checked out';
  commit = commitOf('HEAD');
}
if (!commit) {
  console.error('buf breaking: no commit to compare with (not a git checkout?)');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'tracenet-buf-breaking-'));
try {
  const present = CONTRACT.filter((path) => git('cat-file', '-e', `${commit}:${path}`) !== undefined);
  const archive = spawnSync('git', ['archive', '--format=tar', commit, '--', ...present], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (archive.status !== 0) throw new Error(`git archive ${commit}: ${archive.stderr}`);
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  console.log(`buf breaking: proto/ against ${revision} (${why}, ${commit.slice(0, 12)})`);
  const buf = spawnSync('npx', ['buf', 'breaking', 'proto', '--against', join(dir, 'proto')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  process.exitCode = buf.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
