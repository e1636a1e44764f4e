// Builds the officers' web console (node/src/console/web) into node/dist/console/web: one
// JavaScript and one CSS bundle with hashed names, index.html naming them, the catalogue of each
// language merged from its area files, and a gzip and a brotli copy of each file (the server sends
// the smallest the browser accepts). Run by `npm run build` after `tsc -b`.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'node/src/console/web');
const out = join(root, 'node/dist/console/web');
const LANGUAGES = ['ar', 'zh', 'en', 'fr', 'ru', 'es'];

const started = Date.now();
await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'assets/messages'), { recursive: true });

const result = await build({
  entryPoints: [join(source, 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  alias: { '@grpc/grpc-js': join(source, 'grpc-stub.ts') },
  outdir: join(out, 'assets'),
  // Screens other than the inbox are loaded when first opened (app.tsx), in chunks of their own.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  entryNames: 'app-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  write: true,
  logLevel: 'warning',
});

const assetPath = (p) => p.slice(p.lastIndexOf('/assets/') + 1);
const outputs = Object.entries(result.metafile.outputs);
const [entryPath, entry] = outputs.find(([p, o]) => o.entryPoint?.endsWith('main.tsx') && p.endsWith('.js'));
const script = assetPath(entryPath);
const style = assetPath(entry.cssBundle ?? outputs.find(([p]) => p.endsWith('.css'))[0]);
// The chunks the entry imports statically are named in index.html, so that the browser fetches them
// with the entry instead of one round trip later.
const preloads = entry.imports.filter((i) => i.kind === 'import-statement').map((i) => assetPath(i.path));
const html = `<!doctype html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Tracenet</title>
<link rel="stylesheet" href="/${style}">
<script type="module" src="/${script}"></script>
${preloads.map((p) => `<link rel="modulepreload" href="/${p}">`).join('\n')}
</head>
<body>
<div id="app"></div>
<noscript>Tracenet needs JavaScript.</noscript>
</body>
</html>
`;
await writeFile(join(out, 'index.html'), html);

// Catalogues: messages/<lang>/<area>.json → assets/messages/<lang>.json (keys sorted).
for (const language of LANGUAGES) {
  const folder = join(source, 'messages', language);
  const merged = {};
  for (const file of (await readdir(folder)).filter((f) => f.endsWith('.json')).sort()) {
    Object.assign(merged, JSON.parse(await readFile(join(folder, file), 'utf8')));
  }
  const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
  await writeFile(join(out, 'assets/messages', `${language}.json`), JSON.stringify(sorted));
}

// Pre-compressed copies, read by @fastify/static (preCompressed).
let raw = 0;
let brotli = 0;
const files = [];
const walk = async (dir) => {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(path);
    else files.push(path);
  }
};
await walk(out);
for (const file of files) {
  const bytes = await readFile(file);
  const br = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  await writeFile(`${file}.br`, br);
  await writeFile(`${file}.gz`, gzipSync(bytes, { level: 9 }));
  const firstLoad = [script, style, ...preloads].some((p) => file.endsWith(`/${p}`));
  if (firstLoad || file.endsWith('/index.html') || file.endsWith('/en.json')) {
    raw += bytes.length;
    brotli += br.length;
  }
}
const digest = createHash('sha256').update(html).digest('hex').slice(0, 8);
process.stdout.write(
  `console built in ${Date.now() - started} ms: ${script}, ${style}; first load ${(raw / 1024).toFixed(1)} kB, ${(brotli / 1024).toFixed(1)} kB brotli (index ${digest})\n`,
);
