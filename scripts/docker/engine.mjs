// Makes sure a Docker engine answers, for the cluster tests and CI. These machines have no engine
// running and cannot pull images (docs/reliability.md, section 1):
//
//   1. an engine that already answers (`docker info`, DOCKER_HOST honoured) is used as it is;
//   2. otherwise, as root: Debian's docker.io, iptables and busybox-static are installed with
//      apt-get when missing, and `dockerd --data-root /var/lib/tracenet-docker` is started in the
//      background (it keeps running after this process; log in /var/log/tracenet-dockerd.log);
//   3. otherwise the answer says why there is no engine, for the tests to skip with.
//
//   node scripts/docker/engine.mjs     # exit 0 once an engine answers, 1 with the reason
//
// Concurrent callers (several test files) take a lock directory, so apt-get and dockerd run once.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, realpathSync, rmdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DATA_ROOT = process.env.TRACENET_DOCKER_DATA_ROOT ?? '/var/lib/tracenet-docker';
const LOG_FILE = '/var/log/tracenet-dockerd.log';
const LOCK_DIR = '/tmp/tracenet-docker-engine.lock';
const PACKAGES = ['docker.io', 'iptables', 'busybox-static'];

/** Whether `docker info` answers. */
export function engineAnswers() {
  return (
    spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 10_000 }).status === 0
  );
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function hasBusybox() {
  return existsSync('/bin/busybox') || existsSync('/usr/bin/busybox');
}

/**
 * Runs `work` holding a machine-wide lock (a directory); a lock older than `staleMs` is taken over.
 *
 * @template T
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function withEngineLock(work, staleMs = 180_000) {
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK_DIR).mtimeMs > staleMs) rmdirSync(LOCK_DIR);
      } catch {
        // released meanwhile
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await work();
  } finally {
    try {
      rmdirSync(LOCK_DIR);
    } catch {
      // already gone
    }
  }
}

function aptInstall(packages, log) {
  log(`installing ${packages.join(', ')} with apt-get…`);
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (install()) return;
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  if (!install()) throw new Error(`apt-get install ${packages.join(' ')} failed`);
}

/**
 * Resolves once a Docker engine answers, installing and starting one when this process may.
 *
 * @param {{ log?: (line: string) => void, install?: boolean }} [options] `install: false` only
 *   looks (no apt-get, no dockerd)
 * @returns {Promise<{ ok: true, started: boolean, ms: number } | { ok: false, reason: string, ms: number }>}
 */
export async function ensureDockerEngine(options = {}) {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const result = (value) => ({ ...value, ms: Date.now() - started });
  if (engineAnswers() && hasBusybox()) return result({ ok: true, started: false });
  if (options.install === false)
    return result({
      ok: false,
      reason: 'no Docker engine answers (`docker info` fails) and installing one was not allowed',
    });
  if (process.getuid?.() !== 0) {
    return result({
      ok: false,
      reason: engineAnswers()
        ? 'busybox is missing (the node image needs it): install busybox-static'
        : 'no Docker engine answers (`docker info` fails) and this process is not root, so it cannot install or start one; start dockerd yourself (docs/reliability.md)',
    });
  }
  if (!has('apt-get') && (!has('dockerd') || !has('docker') || !hasBusybox())) {
    return result({
      ok: false,
      reason: 'no Docker engine answers and there is no apt-get to install docker.io, iptables and busybox-static',
    });
  }
  try {
    return await withEngineLock(async () => {
      const missing = PACKAGES.filter((p) =>
        p === 'docker.io' ? !has('dockerd') || !has('docker') : p === 'iptables' ? !has('iptables') : !hasBusybox(),
      );
      if (missing.length > 0) aptInstall(missing, log);
      if (engineAnswers()) return result({ ok: true, started: false });
      mkdirSync(DATA_ROOT, { recursive: true });
      log(`starting dockerd --data-root ${DATA_ROOT} (log: ${LOG_FILE})`);
      const out = openSync(LOG_FILE, 'a');
      const daemon = spawn('dockerd', ['--data-root', DATA_ROOT], { detached: true, stdio: ['ignore', out, out] });
      daemon.unref();
      closeSync(out);
      const deadline = Date.now() + 30_000;
      while (!engineAnswers()) {
        if (Date.now() > deadline) throw new Error(`dockerd did not answer within 30 s; see ${LOG_FILE}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      return result({ ok: true, started: true });
    });
  } catch (error) {
    return result({ ok: false, reason: error instanceof Error ? error.message : String(error) });
  }
}

/** The version the engine reports, for logs. */
export function engineVersion() {
  try {
    return execFileSync(
      'docker',
      ['info', '--format', '{{.ServerVersion}} ({{.Driver}}, cgroup v{{.CgroupVersion}})'],
      { encoding: 'utf8' },
    ).trim();
  } catch {
    return 'unknown';
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outcome = await ensureDockerEngine({ log: (line) => console.log(`docker: ${line}`) });
  if (outcome.ok) {
    console.log(
      `docker: engine ${engineVersion()} ${outcome.started ? 'started' : 'already running'}; ready in ${(outcome.ms / 1000).toFixed(1)} s`,
    );
  } else {
    console.error(`docker: no engine: ${outcome.reason}`);
    process.exit(1);
  }
}
