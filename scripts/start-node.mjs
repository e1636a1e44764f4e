// `npm start`: initialise a node in ./tracenet-data on first use, then run it in the foreground.
// Participant id from TRACENET_ID (default FRA). Stop with Ctrl-C.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const data = process.env.TRACENET_DATA ?? 'tracenet-data';
const cli = join(import.meta.dirname, '..', 'node', 'dist', 'cli', 'main.js');
const run = (args) => spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' }).status ?? 1;

if (!existsSync(join(data, 'identity.json'))) {
  const status = run(['init', '--id', process.env.TRACENET_ID ?? 'FRA', '--data', data]);
  if (status !== 0) process.exit(status);
}
process.exit(run(['start', '--data', data, ...process.argv.slice(2)]));
