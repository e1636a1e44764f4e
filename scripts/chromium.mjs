// The browser of the console's tests, screenshots and benchmark: Debian's `chromium`, driven by
// playwright-core (no browser is downloaded from anywhere else). When it is missing and this runs
// as root with apt-get (CI), the packages `chromium`, `fonts-noto-core` and `fonts-noto-cjk` are
// installed first (the fonts draw Arabic and Chinese; without them, boxes).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const PACKAGES = ['chromium', 'fonts-noto-core', 'fonts-noto-cjk'];

function found() {
  const fromEnv = process.env.TRACENET_CHROMIUM;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return CANDIDATES.find((path) => existsSync(path));
}

const LOCK = join(tmpdir(), 'tracenet-chromium-install.lock');
/** How long a process waits for another one's install, and the age at which a lock without an owner is stale. */
const STALE_MS = 15 * 60_000;

/** Blocks this thread for `ms` (test files start in parallel; one installs, the others wait). */
function pause(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The process id written in the lock directory `lock`, or undefined (none yet, or gone). */
function owner(lock) {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether process `pid` runs on this machine. */
function running(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Whether the lock `lock` is abandoned: the process that took it has ended (killed while
 * installing), or it names none (taken a moment ago, or by an older version) and is older than
 * STALE_MS.
 */
function abandoned(lock) {
  const pid = owner(lock);
  if (pid !== undefined) return !running(pid);
  try {
    return Date.now() - statSync(lock).mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}

/**
 * Removes an abandoned lock. It is first moved aside (one atomic rename: of two processes that
 * found it abandoned, one moves it); if what was moved turns out to be another process's new lock,
 * taken in between, it is put back.
 */
function breakLock(lock) {
  const aside = `${lock}.${process.pid}.abandoned`;
  try {
    renameSync(lock, aside);
  } catch {
    return;
  }
  if (!abandoned(aside)) {
    try {
      renameSync(aside, lock);
      return;
    } catch {
      // Someone took the lock meanwhile: the moved one's owner finds its lock gone and carries on.
    }
  }
  rmSync(aside, { recursive: true, force: true });
}

/**
 * Runs `work` in one process at a time among those that call this with the same `lock` (a
 * directory, taken with mkdir, naming its process). A process that finds the lock taken waits,
 * returning `ready()` as soon as it gives a value (the other process did the work); a lock whose
 * process has ended is broken at once. Throws after `timeoutMs` of waiting.
 */
export function onlyOnce(lock, ready, work, timeoutMs = STALE_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lock);
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (abandoned(lock)) {
        breakLock(lock);
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`waited ${Math.round(timeoutMs / 60_000)} minutes for another process (${lock})`);
      pause(500);
      const done = ready();
      if (done) return done;
      continue;
    }
    break;
  }
  try {
    writeFileSync(join(lock, 'pid'), String(process.pid));
    return ready() ?? work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The path of Chromium, installing Debian's packages when it is missing (as root); throws with
 * what to do otherwise. Several test processes may ask at once: one installs, the others wait for
 * it (at most 15 minutes); a lock left by a process that was killed is broken.
 */
export function ensureChromium() {
  return found() ?? onlyOnce(LOCK, found, install);
}

function install() {
  const root = process.getuid?.() === 0;
  const apt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!root || !apt)
    throw new Error(
      'Chromium was not found (/usr/bin/chromium). Install it (Debian/Ubuntu: `apt-get install chromium fonts-noto-core fonts-noto-cjk`) or set TRACENET_CHROMIUM to its path.',
    );
  console.log(`Chromium not found: installing the Debian packages ${PACKAGES.join(', ')} with apt-get (once)…`);
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...PACKAGES], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    if (!install()) throw new Error(`apt-get install ${PACKAGES.join(' ')} failed; install Chromium by hand`);
  }
  const installed = found();
  if (!installed) throw new Error('the chromium package is installed but /usr/bin/chromium is still not found');
  console.log(`Chromium installed: ${installed}`);
  return installed;
}

/** Launch options of playwright-core's `chromium.launch` for that binary (`--no-sandbox`: tests run as root). */
export function chromiumLaunchOptions() {
  return { executablePath: ensureChromium(), args: ['--no-sandbox'], headless: true };
}
