import { type ChildProcess, fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The attacker script (plain JavaScript, run as its own process; see its header for the plan). */
const ATTACKER = fileURLToPath(new URL('./attacker.mjs', import.meta.url));

/** What an attacker reports (attacker.mjs). */
export interface AttackStats {
  readonly connected: number;
  readonly closed: number;
  readonly open: number;
  readonly maxOpenPerAddress: number;
  readonly longestOpenMs: number;
  readonly closedAtOnce: number;
  readonly sessions: number;
  readonly sessionErrors: number;
  readonly streams: number;
  readonly streamsEnded: number;
  readonly bytesSent: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly answeredEarly: number;
}

/** An attack plan (attacker.mjs). */
export interface AttackPlan {
  readonly target: string;
  readonly mode: 'idle' | 'partial' | 'stall';
  readonly durationMs: number;
  readonly addresses?: number;
  readonly firstAddress?: number;
  readonly perAddress?: number;
  readonly connections?: number;
  readonly streams?: number;
  readonly messageBytes?: number;
  readonly path?: string;
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
}

/** A running attacker process. */
export interface Attack {
  /** Its last report. */
  latest(): AttackStats | undefined;
  /** Resolves with its final report when it has ended. */
  readonly done: Promise<AttackStats>;
  kill(): void;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts an attacker process with `plan`. */
export function attack(plan: AttackPlan): Attack {
  const child = fork(ATTACKER, [JSON.stringify({ addresses: 1, ...plan })], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  running.add(child);
  let latest: AttackStats | undefined;
  child.on('message', (message) => {
    latest = message as AttackStats;
  });
  const done = new Promise<AttackStats>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (code === 0 && latest) resolve(latest);
      else reject(new Error(`attacker ended with code ${code} signal ${signal}`));
    });
  });
  return { latest: () => latest, done, kill: () => child.kill('SIGKILL') };
}

/** Resident memory of a process, in MiB. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Samples `rssMiB(pid)` every 100 ms until `stop()`, which resolves with the highest sample. */
export function sampleRss(pid: number): { stop(): Promise<number> } {
  let peak = 0;
  let active = true;
  const loop = (async () => {
    while (active) {
      peak = Math.max(peak, await rssMiB(pid));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      active = false;
      await loop;
      return Math.max(peak, await rssMiB(pid));
    },
  };
}

/** The `q` quantile (0–1) of `values`. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}
