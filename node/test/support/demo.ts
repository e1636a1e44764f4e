import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A demo officer as `npm run demo -- --console` prints it. */
export interface DemoOfficer {
  /** The host name label of its node: `fra`, `bel`, `ken`, `un-poe`. */
  node: string;
  officerId: string;
  role: string;
  password: string;
  /** The TOTP secret, '' when the account has none. */
  secret: string;
}

/** Resolves when 127.0.0.1:`port` is free. */
function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first of four free consecutive ports (the demo's --port), away from the default 7445 that a person may be using. */
export async function fourFreePorts(offset = 0): Promise<number> {
  for (let base = 27_445 + offset + (process.pid % 500) * 4; ; base += 4) {
    const ok = await Promise.all([0, 1, 2, 3].map((i) => free(base + i)));
    if (ok.every(Boolean)) return base;
  }
}

/** The consoles the demo prints: participant id → URL (`https://fra.localhost:<port>/`), in printed order. */
export function demoConsoles(output: string): Map<string, string> {
  const consoles = new Map<string, string>();
  for (const m of output.matchAll(/^(\S+)\s+(https:\/\/[a-z-]+\.localhost:(\d+)\/)\s/gm))
    consoles.set(m[1] ?? '', m[2] ?? '');
  return consoles;
}

/** The demo officers the demo prints, with their passwords and TOTP secrets. */
export function demoOfficers(output: string): DemoOfficer[] {
  return [...output.matchAll(/^ {4}([a-z-]+)\.([a-z]+) +([a-z]+) +(\S+) +(\d{6}|-) +([A-Z2-7]{32}|-)$/gm)].map((m) => ({
    node: m[1] ?? '',
    officerId: `${m[1]}.${m[2]}`,
    role: m[3] ?? '',
    password: m[4] ?? '',
    secret: m[6] === '-' ? '' : (m[6] ?? ''),
  }));
}

/** A running `node scripts/demo.mjs --console`, once it has printed its consoles. */
export interface ConsoleDemo {
  child: ChildProcess;
  /** The first console port (BEL's). */
  first: number;
  /** Everything printed so far (stdout and stderr). */
  output: () => string;
  /** Sends SIGINT and resolves with the exit code. */
  interrupt: () => Promise<number | null>;
}

/**
 * Spawns the console demo exactly as `npm run demo -- --console` does (after the build), on four
 * free ports, and resolves once it has printed its guide.
 */
export async function startConsoleDemo(): Promise<ConsoleDemo> {
  const first = await fourFreePorts();
  const child = spawn(process.execPath, ['scripts/demo.mjs', '--console', '--port', String(first)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (output.includes('The guide: docs/console.md')) resolve();
    };
    child.stdout?.on('data', check);
    void exited.then((code) => reject(new Error(`the demo exited (${code}) before printing its consoles:\n${output}`)));
  });
  return {
    child,
    first,
    output: () => output,
    interrupt: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
