// The layers of the node (docs/architecture.md), checked by `npm run lint:layers`.
// Type imports count (tsPreCompilationDeps): a type-only import ties two modules together as
// much as any other, and a type-only cycle is a cycle.

/**
 * From the bottom up. A module may import from its own layer and the layers below it, never from
 * a layer above; a folder named here holds its files and subfolders, a name ending in `.ts` is one
 * file of node/src.
 */
const LAYERS = [
  { name: 'foundation', parts: ['util', 'crypto', 'config', 'version.ts'] },
  { name: 'store', parts: ['store'] },
  { name: 'audit', parts: ['audit'] },
  { name: 'ports', parts: ['ports'] },
  { name: 'identity and envelope', parts: ['identity', 'envelope'] },
  { name: 'keys and message bodies', parts: ['keys', 'messages'] },
  { name: 'records', parts: ['records', 'registry'] },
  { name: 'federation', parts: ['federation'] },
  { name: 'application', parts: ['workflow', 'lookup'] },
  { name: 'service ports', parts: ['api', 'edge', 'ops'] },
  { name: 'console server', parts: ['console/server'] },
  { name: 'node', parts: ['node.ts'] },
  { name: 'entry points', parts: ['cli', 'dev', 'index.ts'] },
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pathsOf = (parts) =>
  `^node/src/(${parts.map((p) => (p.endsWith('.ts') ? `${escape(p)}$` : `${escape(p)}/`)).join('|')})`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.name.replace(/ /g, '-')}`,
  comment: `${layer.name} (${layer.parts.join(', ')}) imports only from its own layer and below: not from ${LAYERS.slice(
    i + 1,
  )
    .map((l) => l.name)
    .join(', ')} (docs/architecture.md)`,
  severity: 'error',
  from: { path: pathsOf(layer.parts) },
  to: { path: pathsOf(LAYERS.slice(i + 1).flatMap((l) => l.parts)) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only ones included: a cycle makes two modules one that must change together.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'only-store-knows-leveldb',
      comment: 'store/ is the only module that knows LevelDB (docs/architecture.md).',
      severity: 'error',
      from: { path: '^node/src/', pathNot: '^node/src/store/' },
      to: { path: '^node_modules/(level|classic-level|abstract-level|browser-level|memory-level)/' },
    },
    {
      name: 'console-web-is-a-browser',
      comment:
        'The console in the browser (node/src/console/web) imports only itself, the contract for browsers (@tracenet/proto/browser) and its browser libraries: no node module, nothing of Node.js.',
      severity: 'error',
      from: { path: '^node/src/console/web/' },
      to: {
        pathNot:
          '^(@tracenet/proto/browser$|node/src/console/web/|proto/src/|proto/dist/|node_modules/(preact|intl-messageformat|@formatjs|tslib|@bufbuild)/)',
      },
    },
    {
      name: 'only-web-imports-web',
      comment: 'Nothing of the node imports the browser code; the server serves its built files.',
      severity: 'error',
      from: { pathNot: '^node/src/console/web/' },
      to: { path: '^node/src/console/web/' },
    },
    {
      name: 'public-entry-not-cli',
      comment: "@tracenet/node's entry exports the node's API, not the CLI (issue 15, section 3).",
      severity: 'error',
      from: { path: '^node/src/index\\.ts$' },
      to: { path: '^node/src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
