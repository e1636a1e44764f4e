// `npm run screenshots`: retakes the console's screenshots of docs/console.md. Runs the console's
// browser tests (node/test/console/*.browser.test.ts, real node processes and Debian's Chromium)
// with TRACENET_SCREENSHOTS=1, so that node/test/support/browser.ts writes each `screenshot(page,
// name)` to docs/console/<name>.png; then lists the pictures, says which ones no test wrote this
// time (stale: delete them or take them again), and which ones docs/console.md names but do not
// exist. Exit code 1 when a test failed or docs/console.md names a missing picture.
//
//   npm run screenshots                          every browser test of the console
//   npm run screenshots -- inbox-case compose    only node/test/console/<area>.browser.test.ts
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const folder = join(root, 'docs/console');
const guide = join(root, 'docs/console.md');
const areas = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = areas.length ? areas.map((a) => `node/test/console/${a}.browser.test.ts`) : ['node/test/console/'];

const started = Date.now();
const run = spawnSync(
  process.execPath,
  [join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...files, '--project', 'integration'],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TRACENET_SCREENSHOTS: '1' } },
);

const pictures = existsSync(folder)
  ? readdirSync(folder)
      .filter((f) => f.endsWith('.png'))
      .sort()
  : [];
const fresh = pictures.filter((f) => statSync(join(folder, f)).mtimeMs >= started);
const stale = pictures.filter((f) => !fresh.includes(f));
const kB = (f) => `${(statSync(join(folder, f)).size / 1000).toFixed(0)} kB`;
process.stdout.write(`\ndocs/console/: ${fresh.length} screenshots taken now\n`);
for (const f of fresh) process.stdout.write(`  ${f.padEnd(36)} ${kB(f)}\n`);
if (stale.length && !areas.length) {
  process.stdout.write(`not written by this run (renamed or removed tests? delete them): ${stale.length}\n`);
  for (const f of stale) process.stdout.write(`  ${f}\n`);
}
const named = existsSync(guide)
  ? [...readFileSync(guide, 'utf8').matchAll(/\(console\/([^)\s]+\.png)\)/g)].map((m) => m[1])
  : [];
const missing = [...new Set(named)].filter((f) => !pictures.includes(f));
if (missing.length) process.stdout.write(`docs/console.md names pictures that do not exist: ${missing.join(', ')}\n`);
const unused = pictures.filter((f) => !named.includes(f));
if (unused.length) process.stdout.write(`in docs/console/ but not shown in docs/console.md: ${unused.join(', ')}\n`);
if (run.status !== 0)
  process.stdout.write(`the browser tests failed (exit ${run.status}): screenshots may be missing\n`);
process.exit(run.status === 0 && missing.length === 0 ? 0 : 1);
