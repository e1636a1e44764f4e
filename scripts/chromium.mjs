// The browser of the console's tests, screenshots and benchmark: Debian's `chromium`, driven by
// playwright-core (no browser is downloaded from anywhere else). When it is missing and this runs
// as root with apt-get (CI), the packages `chromium`, `fonts-noto-core` and `fonts-noto-cjk` are
// installed first (the fonts draw Arabic and Chinese; without them, boxes).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
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

/** Blocks this thread for `ms` (test files start in parallel; one installs, the others wait). */
function pause(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The path of Chromium, installing Debian's packages when it is missing (as root); throws with
 * what to do otherwise. Several test processes may ask at once: the first takes a lock directory
 * and installs, the others wait for it (at most 15 minutes; a lock older than that is stale).
 */
export function ensureChromium() {
  const path = found();
  if (path) return path;
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      const ageMs = (() => {
        try {
          return Date.now() - statSync(LOCK).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if (ageMs > 15 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited 15 minutes for another process installing Chromium (${LOCK})`);
      pause(500);
      const installed = found();
      if (installed) return installed;
    }
  }
  try {
    return found() ?? install();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
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
