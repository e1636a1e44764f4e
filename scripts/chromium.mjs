// The browser of the console's tests, screenshots and benchmark: Debian's `chromium`, driven by
// playwright-core (no browser is downloaded from anywhere else). When it is missing and this runs
// as root with apt-get (CI), the packages `chromium`, `fonts-noto-core` and `fonts-noto-cjk` are
// installed first (the fonts draw Arabic and Chinese; without them, boxes).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const PACKAGES = ['chromium', 'fonts-noto-core', 'fonts-noto-cjk'];

function found() {
  const fromEnv = process.env.TRACENET_CHROMIUM;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return CANDIDATES.find((path) => existsSync(path));
}

/** The path of Chromium, installing Debian's package when it is missing (as root); throws with what to do otherwise. */
export function ensureChromium() {
  const path = found();
  if (path) return path;
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
  return installed;
}

/** Launch options of playwright-core's `chromium.launch` for that binary (`--no-sandbox`: tests run as root). */
export function chromiumLaunchOptions() {
  return { executablePath: ensureChromium(), args: ['--no-sandbox'], headless: true };
}
