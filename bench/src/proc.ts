import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { createRequire } from 'node:module';

/** Clock ticks per second of /proc/<pid>/stat (CLK_TCK; 100 on Linux unless configured otherwise). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (user + system, milliseconds) a process has used so far, from /proc/<pid>/stat fields
 * 14 and 15. Read before and after a run to get what the server spent on it, whatever else the
 * machine was doing. Resolution is one clock tick (10 ms), so runs must be long enough.
 */
export function cpuTimeMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * CPU time (milliseconds) of this process's main thread alone (/proc/self/task/<pid>/stat): with
 * {@link cpuTimeMs} of the process, what its JavaScript ran apart from LevelDB's, V8's and the
 * thread pool's threads.
 */
export function mainThreadCpuMs(): number {
  return statCpuMs(`/proc/${process.pid}/task/${process.pid}/stat`);
}

function statCpuMs(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLK_TCK;
}

/**
 * Resident memory of a process now and at its peak, in MiB (VmRSS / VmHWM of /proc/<pid>/status),
 * and what of it is now anonymous (heaps, stacks) and file-backed (mapped files: the executable and
 * libraries, LevelDB's memory-mapped tables).
 */
export function residentMiB(pid: number): { rssMiB: number; peakMiB: number; anonMiB: number; fileMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (name: string) =>
    Math.round(Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 102.4) / 10;
  return { rssMiB: mib('VmRSS'), peakMiB: mib('VmHWM'), anonMiB: mib('RssAnon'), fileMiB: mib('RssFile') };
}

/**
 * Samples {@link residentMiB} of `pid` every `everyMs` until stopped: the largest anonymous and
 * file-backed parts seen. The kernel keeps a peak of the whole (VmHWM) only; this says what it was made of.
 */
export function sampleResident(pid: number, everyMs = 100): () => { anonMiB: number; fileMiB: number } {
  const max = { anonMiB: 0, fileMiB: 0 };
  const sample = () => {
    const now = residentMiB(pid);
    max.anonMiB = Math.max(max.anonMiB, now.anonMiB);
    max.fileMiB = Math.max(max.fileMiB, now.fileMiB);
  };
  sample();
  // A section that fails before it stops the sampling leaves no timer behind once the process is gone.
  const timer = setInterval(() => {
    try {
      sample();
    } catch {
      clearInterval(timer);
    }
  }, everyMs).unref();
  return () => {
    clearInterval(timer);
    sample();
    return { ...max };
  };
}

/** The 1-minute load average: how busy the shared machine was (the figures are indicative when it is high). */
export function load1(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

const require = createRequire(import.meta.url);

/** The installed version of a package, or null when it cannot be resolved. */
export function packageVersion(name: string): string | null {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    // Packages whose exports hide package.json: walk up from the entry point.
    try {
      const entry = require.resolve(name);
      const at = entry.lastIndexOf(`/node_modules/${name}/`);
      if (at < 0) return null;
      const pkg = JSON.parse(readFileSync(`${entry.slice(0, at)}/node_modules/${name}/package.json`, 'utf8')) as {
        version: string;
      };
      return pkg.version;
    } catch {
      return null;
    }
  }
}

/** Machine, runtime and library versions, written at the top of results.json and docs/benchmarks.md. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly versions: Readonly<Record<string, string | null>>;
  /** Short id of the commit measured, followed by "with uncommitted changes" when the tree differs from it. */
  readonly gitCommit: string | null;
  readonly loadAtStart: number;
}

export function machineInfo(): MachineInfo {
  let gitCommit: string | null = null;
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    gitCommit = git('rev-parse', '--short', 'HEAD').trim();
    // The report itself is rewritten by every run; any other change means the code measured is not the commit's.
    const changed = git('status', '--porcelain')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.endsWith('docs/benchmarks.md'));
    if (changed.length > 0) gitCommit += ' with uncommitted changes';
  } catch {
    gitCommit = null;
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    versions: Object.fromEntries(
      ['@grpc/grpc-js', 'libsodium-wrappers', 'sodium-native', 'level', 'classic-level', 'csv-parse'].map((n) => [
        n,
        packageVersion(n),
      ]),
    ),
    gitCommit,
    loadAtStart: load1(),
  };
}
