// A throwaway PostgreSQL server for tests, CI and demos: a fresh cluster in a temporary directory,
// listening on 127.0.0.1 only, trusting local connections, gone when stopped or when this process
// ends. Plain ESM JavaScript so that scripts can use it without a build.
//
//   import { startPostgres } from './scripts/postgres-server.mjs';
//   const pg = await startPostgres();
//   console.log(pg.url); // postgres://tracenet@127.0.0.1:41234/postgres
//   await pg.stop();
//
// Run directly (`node scripts/postgres-server.mjs`) it starts a server, prints its URL and keeps
// it until Ctrl-C.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BINARIES = ['initdb', 'postgres', 'pg_ctl'];
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Starts a PostgreSQL server of its own and resolves once it accepts connections.
 *
 * The binaries come from PATH, else from the highest `/usr/lib/postgresql/<version>/bin`. When
 * there are none and this process runs as root with apt-get, Debian's `postgresql` package is
 * installed (one line says so); otherwise the error says what to install. PostgreSQL refuses to
 * run as root, so as root the cluster belongs to the `postgres` system user.
 *
 * The cluster has one superuser, `tracenet`, no password (trust on 127.0.0.1 and the socket in
 * the temporary directory) and `fsync=off`: it is for tests, never for data that matters.
 *
 * @param {{ baseDir?: string }} [options] where the temporary directory goes (the OS temp dir
 *   unless given; as root the `postgres` user must be able to reach it)
 * @returns {Promise<{ url: string, host: string, port: number, stop: () => Promise<void> }>}
 *   `url` names the `postgres` database; `stop()` shuts the server down fast and removes the
 *   directory, and is idempotent
 */
export async function startPostgres(options = {}) {
  const bin = findBinaries() ?? installBinaries();
  const owner = clusterOwner();
  const dir = await mkdtemp(join(options.baseDir ?? tmpdir(), 'tracenet-pg-'));
  let server;
  try {
    if (owner) await chown(dir, owner.uid, owner.gid);
    const data = join(dir, 'data');
    run(
      owner,
      join(bin, 'initdb'),
      ['-D', data, '--auth=trust', '-U', 'tracenet', '-E', 'UTF8', '--locale=C', '--no-sync'],
      dir,
    );
    // A free port can be taken between the probe and the bind: try a few.
    for (let attempt = 1; !server; attempt++) {
      const port = await freePort();
      try {
        server = await launch(bin, owner, dir, data, port);
      } catch (error) {
        if (attempt >= 3 || !/could not bind|address already in use/i.test(String(error))) throw error;
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return server;
}

/** The directory holding initdb, postgres and pg_ctl, or undefined. */
function findBinaries() {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) {
    if (BINARIES.every((name) => existsSync(join(dir, name)))) return dir;
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && BINARIES.every((name) => existsSync(join(root, v, 'bin', name))))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

function installBinaries() {
  const root = process.getuid?.() === 0;
  const apt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!root || !apt) {
    throw new Error(
      'PostgreSQL server binaries (initdb, postgres, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin. ' +
        'Install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql`) and put its bin directory on PATH.',
    );
  }
  console.log('PostgreSQL not found: installing the Debian package "postgresql" with apt-get (once)…');
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    if (!install()) throw new Error('apt-get install postgresql failed; install the PostgreSQL server by hand');
  }
  const bin = findBinaries();
  if (!bin) throw new Error('the postgresql package is installed but initdb, postgres and pg_ctl are still not found');
  return bin;
}

/** As root: the `postgres` system user (PostgreSQL will not run as root). Otherwise undefined. */
function clusterOwner() {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'running as root, but there is no "postgres" system user to own the test cluster (PostgreSQL refuses to run as root): create one, or run as another user',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** Spawn options that run a command as the cluster owner (or as ourselves). */
function as(owner, cwd) {
  return { cwd, env: { ...process.env, LC_ALL: 'C' }, ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) };
}

function run(owner, command, args, cwd) {
  try {
    execFileSync(command, args, { ...as(owner, cwd), stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new Error(`${command} failed: ${String(error.stderr ?? error.message).trim()}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function launch(bin, owner, dir, data, port) {
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${dir}`,
  ];
  for (const setting of [
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
    'max_connections=200',
    'lc_messages=C',
  ])
    args.push('-c', setting);
  const child = spawn(join(bin, 'postgres'), args, { ...as(owner, dir), stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stopSync = () => {
    // The process is ending: no time for promises. pg_ctl waits for the fast shutdown.
    if (child.exitCode === null && child.signalCode === null)
      spawnSync(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-t', '10'], {
        ...as(owner, dir),
        stdio: 'ignore',
      });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopSync);
  // Should this process die without running its exit handlers (SIGKILL, a crash), a watchdog
  // that sees our end of its stdin close stops the server and removes the directory.
  const watchdog = spawn(
    'sh',
    [
      '-c',
      'trap "" INT TERM HUP; cat >/dev/null; [ -d "$2" ] && kill -INT "$1" 2>/dev/null; while kill -0 "$1" 2>/dev/null; do sleep 0.1; done; rm -rf "$2"',
      'watchdog',
      String(child.pid),
      dir,
    ],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    },
  );
  watchdog.unref();
  watchdog.stdin.on('error', () => {});
  /** @type {{ unref?: () => void }} */ (watchdog.stdin).unref?.();

  let stopped;
  const stop = () => {
    stopped ??= (async () => {
      process.removeListener('exit', stopSync);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT'); // fast shutdown
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
      watchdog.kill('SIGKILL');
    })();
    return stopped;
  };

  try {
    await Promise.race([
      waitReady(port),
      exited.then((code) => {
        throw new Error(`postgres exited (${code}) before accepting connections: ${log.trim()}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  const host = '127.0.0.1';
  return { url: `postgres://tracenet@${host}:${port}/postgres`, host, port, stop };
}

/** Resolves once the server answers the startup of a connection (as pg_isready does). */
async function waitReady(port) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await answersStartup(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`postgres did not accept connections on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms`);
}

/**
 * Sends a protocol 3.0 startup message and reads the first reply: `R` (authentication) once the
 * server is ready, `E` while it is still starting ("the database system is starting up").
 */
function answersStartup(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ready) => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => {
      const params = Buffer.from('user\0tracenet\0database\0postgres\0\0');
      const header = Buffer.alloc(8);
      header.writeInt32BE(8 + params.length, 0);
      header.writeInt32BE(196608, 4); // protocol 3.0
      socket.write(Buffer.concat([header, params]));
    });
    socket.once('data', (chunk) => done(chunk[0] === 0x52 /* R */));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startPostgres();
  console.log(server.url);
  const shutdown = () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
