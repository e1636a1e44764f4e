// Builds the Tracenet node image locally, without pulling anything: the host's `node` binary and
// the shared libraries `ldd` lists for it, busybox (static) for a shell, and the built repo —
// node/dist, proto/dist (+ the .proto files reflection reads) and only the node_modules the node
// needs at run time. The root folder is streamed into `docker import`.
//
//   npx tsc -b node && node scripts/docker/build-node-image.mjs      # prints the image name
//
// The image runs scripts/docker/entrypoint.sh: on first start it runs `tracenet init` into
// /data/node (TRACENET_ID, TRACENET_ENDPOINT = the card's Federation endpoint, e.g. the container's
// network alias `bel:7443`), then `exec tracenet start` with the Federation service on
// 0.0.0.0:7443 and the Authority API on 0.0.0.0:7444 over TLS (a self-signed certificate,
// /data/node/authority.crt, made on first start). Mount /data on a volume or bind so that a
// restarted container keeps its identity and store.
//
// Building is idempotent: the image carries a label with a digest of its inputs (paths, sizes and
// modification times); when an image of that name has the same digest, nothing is rebuilt.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENTRYPOINT = fileURLToPath(new URL('./entrypoint.sh', import.meta.url));
/** The image the cluster tests run. */
export const DEFAULT_IMAGE = 'tracenet-node:local';
const LABEL = 'tracenet.inputs';

/** Workspace packages in the image: their package.json plus these folders. */
const WORKSPACES = [
  { dir: 'node', folders: ['dist'] },
  { dir: 'proto', folders: ['dist', 'tracenet', 'google'] },
];

/** Files a running node never reads: types, source maps, docs, other platforms' binaries. */
function wanted(path) {
  if (/\.(d\.ts|d\.mts|d\.cts|map|md|markdown|ts\.map)$/i.test(path)) return false;
  const prebuild = /[\\/]prebuilds[\\/]([^\\/]+)/.exec(path);
  if (prebuild && prebuild[1] !== `${process.platform}-${process.arch}`) return false;
  return true;
}

/** `dir` and each of its parents up to the repo root (''), where node_modules folders are looked up. */
function candidateDirs(dir) {
  const dirs = [];
  for (let d = dir; d !== '.' && d !== ''; d = dirname(d)) dirs.push(d);
  return [...dirs, ''];
}

/**
 * Package folders (relative to the repo) that `from` needs at run time, resolved the way Node
 * resolves them: its own node_modules first, then each parent's. Workspace packages are links.
 */
function runtimeClosure() {
  const found = new Map(); // relative dir -> true
  const links = new Map(); // relative node_modules path of a workspace link -> workspace dir
  const visit = (pkgDir) => {
    const manifest = JSON.parse(readFileSync(join(REPO, pkgDir, 'package.json'), 'utf8'));
    const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
    for (const name of names) {
      const hit = candidateDirs(pkgDir)
        .map((dir) => join(dir, 'node_modules', name))
        .find((candidate) => existsSync(join(REPO, candidate, 'package.json')));
      if (!hit) {
        if (manifest.optionalDependencies?.[name]) continue;
        throw new Error(`${name} (needed by ${pkgDir || 'the root'}) is not installed: run npm ci first`);
      }
      const target = relative(REPO, realpathSync(join(REPO, hit)));
      if (WORKSPACES.some(({ dir }) => dir === target)) {
        if (!links.has(hit)) links.set(hit, target);
        continue; // a workspace package: copied as a workspace, its deps visited below
      }
      if (found.has(hit)) continue;
      found.set(hit, true);
      visit(hit);
    }
  };
  for (const { dir } of WORKSPACES) visit(dir);
  return { packages: [...found.keys()].sort(), links };
}

/** The host's node binary and the libraries it (and the native addons) link against. */
function nativeFiles(addons) {
  const files = new Set([process.execPath]);
  for (const binary of [process.execPath, ...addons]) {
    const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
      if (match?.[1]) files.add(match[1]);
    }
  }
  return [...files];
}

function busyboxPath() {
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(candidate)) return candidate;
  throw new Error('busybox is missing: apt-get install busybox-static');
}

function listFiles(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listFiles(path, out);
    else out.push(path);
  }
  return out;
}

function inputsDigest(sources) {
  const hash = createHash('sha256');
  hash.update(process.version);
  for (const source of sources) {
    const paths = statSync(source).isDirectory() ? listFiles(source).filter(wanted) : [source];
    for (const path of paths.sort()) {
      const st = statSync(path);
      hash.update(`${path}\0${st.size}\0${st.mtimeMs}\n`);
    }
  }
  return hash.digest('hex').slice(0, 32);
}

function existingDigest(image) {
  try {
    return execFileSync('docker', ['image', 'inspect', '--format', `{{ index .Config.Labels "${LABEL}" }}`, image], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

/**
 * Builds (or keeps, when its inputs did not change) the node image and returns its name.
 *
 * @param {{ image?: string, log?: (line: string) => void }} [options]
 * @returns {Promise<{ image: string, built: boolean, ms: number, bytes: number }>}
 */
export async function buildNodeImage(options = {}) {
  const image = options.image ?? DEFAULT_IMAGE;
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const cli = join(REPO, 'node', 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first with "npx tsc -b node"`);

  const { packages, links } = runtimeClosure();
  const addons = packages.flatMap((pkg) =>
    listFiles(realpathSync(join(REPO, pkg))).filter((f) => f.endsWith('.node') && wanted(f)),
  );
  const natives = nativeFiles(addons);
  const busybox = busyboxPath();
  const sources = [
    ...WORKSPACES.flatMap(({ dir, folders }) => [
      join(REPO, dir, 'package.json'),
      ...folders.map((f) => join(REPO, dir, f)),
    ]),
    ...packages.map((pkg) => realpathSync(join(REPO, pkg))),
    ...natives,
    busybox,
    ENTRYPOINT,
  ];
  const digest = inputsDigest(sources);
  if (existingDigest(image) === digest) {
    return { image, built: false, ms: Date.now() - started, bytes: imageBytes(image) };
  }

  const root = mkdtempSync(join(tmpdir(), 'tracenet-image-'));
  try {
    const app = join(root, 'app');
    for (const { dir, folders } of WORKSPACES) {
      mkdirSync(join(app, dir), { recursive: true });
      copyFileSync(join(REPO, dir, 'package.json'), join(app, dir, 'package.json'));
      for (const folder of folders) {
        const from = join(REPO, dir, folder);
        if (existsSync(from)) cpSync(from, join(app, dir, folder), { recursive: true, filter: (src) => wanted(src) });
      }
    }
    for (const pkg of packages) {
      cpSync(realpathSync(join(REPO, pkg)), join(app, pkg), {
        recursive: true,
        verbatimSymlinks: true,
        filter: (src) => wanted(src) && !/[\\/]node_modules[\\/]\.bin([\\/]|$)/.test(src),
      });
    }
    for (const [link, target] of links) {
      mkdirSync(dirname(join(app, link)), { recursive: true });
      if (!existsSync(join(app, link)))
        symlinkSync(relative(dirname(join(app, link)), join(app, target)), join(app, link));
    }
    // The node binary, its loader and libraries, at the paths ldd named.
    for (const file of natives) {
      const to = file === process.execPath ? join(root, 'usr/local/bin/node') : join(root, file);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(realpathSync(file), to);
      chmodSync(to, 0o755);
    }
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(busybox, join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const applet of [
      'sh',
      'ls',
      'cat',
      'kill',
      'sleep',
      'mkdir',
      'rm',
      'ps',
      'du',
      'env',
      'test',
      '[',
      'hostname',
    ])
      symlinkSync('busybox', join(root, 'bin', applet));
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    copyFileSync(ENTRYPOINT, join(root, 'usr/local/bin/tracenet-entrypoint'));
    chmodSync(join(root, 'usr/local/bin/tracenet-entrypoint'), 0o755);
    for (const dir of ['tmp', 'data', 'etc', 'proc', 'sys', 'dev']) mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, 'tmp'), 0o1777);

    await importRoot(root, image, [
      `LABEL ${LABEL}=${digest}`,
      'ENV PATH=/usr/local/bin:/bin NODE_ENV=production',
      'WORKDIR /app',
      'EXPOSE 7443 7444',
      'ENTRYPOINT ["/usr/local/bin/tracenet-entrypoint"]',
    ]);
    log(`built ${image} (${packages.length} packages) in ${Date.now() - started} ms`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { image, built: true, ms: Date.now() - started, bytes: imageBytes(image) };
}

function imageBytes(image) {
  try {
    return Number(
      execFileSync('docker', ['image', 'inspect', '--format', '{{ .Size }}', image], { encoding: 'utf8' }).trim(),
    );
  } catch {
    return 0;
  }
}

/** `tar -C root -c . | docker import --change … - image`. */
function importRoot(root, image, changes) {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-C', root, '--owner=0', '--group=0', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const dockerImport = spawn('docker', ['import', ...changes.flatMap((c) => ['--change', c]), '-', image], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    tar.stdout.pipe(dockerImport.stdin);
    const errors = [];
    tar.stderr.on('data', (d) => errors.push(String(d)));
    dockerImport.stderr.on('data', (d) => errors.push(String(d)));
    tar.once('error', reject);
    dockerImport.once('error', reject);
    dockerImport.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`docker import exited ${code}: ${errors.join('')}`)),
    );
  });
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const image = process.argv[2] ?? DEFAULT_IMAGE;
  const result = await buildNodeImage({ image, log: (line) => console.error(line) });
  console.error(
    `${result.image}: ${result.built ? 'built' : 'up to date'} in ${result.ms} ms, ${(result.bytes / 1e6).toFixed(1)} MB`,
  );
  console.log(result.image);
}
