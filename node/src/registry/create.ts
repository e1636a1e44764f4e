import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/config.js';
import type { AliasTable } from '../records/alias-table.js';
import type { RecordStore } from '../records/record-store.js';
import type { Clock } from '../util/clock.js';
import type { Scheduler } from '../util/scheduler.js';
import type { RegistryAdapter } from './adapter.js';
import { CsvFolderAdapter } from './csv-folder.js';
import { LocalRecordsAdapter } from './local.js';
import { PostgresAdapter } from './postgres.js';
import { Registry } from './registry.js';

/** What an integrator's adapter module (`registry.adapter` `module`) is given. */
export interface AdapterModuleContext {
  readonly dataDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The shape of an adapter module: `export async function createAdapter(context) { ... }`. */
export interface AdapterModule {
  createAdapter(context: AdapterModuleContext): RegistryAdapter | Promise<RegistryAdapter>;
}

/**
 * The registry a node's configuration describes (`registry.*`, docs/integration.md): its own
 * records, and — with `registry.adapter` `postgres`, `csv` or `module` — that registry, asked after the
 * node's own records unless `registry.includeLocal` is false. Not opened yet.
 */
export async function createRegistry(options: {
  readonly config: NodeConfig['registry'];
  readonly dataDir: string;
  readonly records: RecordStore;
  readonly aliases: () => AliasTable;
  readonly clock: Scheduler;
  readonly logger: Logger;
}): Promise<Registry> {
  const { config, records, clock, logger } = options;
  const external = await createExternalAdapter(options);
  const local = !external || config.includeLocal ? new LocalRecordsAdapter(records) : undefined;
  const adapters = [local, external].filter((a): a is RegistryAdapter => a !== undefined);
  return new Registry({ adapters, aliases: options.aliases, clock, logger, records });
}

/**
 * The adapter of the registry `registry.adapter` names (`postgres`, `csv`, `module`), not opened;
 * undefined for `leveldb` (the node's own records only). `sampleRows` is the PostgreSQL adapter's
 * start check (0: none, as `tracenet registry check` wants, to count every row of a bad mapping);
 * `watch` the CSV adapter's.
 */
export async function createExternalAdapter(options: {
  readonly config: NodeConfig['registry'];
  readonly dataDir: string;
  readonly clock: Scheduler;
  readonly logger: Logger;
  readonly sampleRows?: number;
  readonly watch?: boolean;
}): Promise<RegistryAdapter | undefined> {
  const { config, dataDir, clock, logger } = options;
  const inData = (path: string) => (isAbsolute(path) ? path : join(dataDir, path));
  if (config.adapter === 'postgres') {
    const { url, mapping, poolSize, statementTimeoutMs } = config.postgres;
    return PostgresAdapter.fromFile(inData(mapping), {
      url,
      poolSize,
      statementTimeoutMs,
      logger,
      ...(options.sampleRows === undefined ? {} : { sampleRows: options.sampleRows }),
    });
  }
  if (config.adapter === 'csv')
    return new CsvFolderAdapter({
      folder: inData(config.csv.folder),
      clock,
      logger,
      ...(options.watch === undefined ? {} : { watch: options.watch }),
    });
  if (config.adapter === 'module') return loadAdapterModule(inData(config.module), { dataDir, clock, logger });
  return undefined;
}

async function loadAdapterModule(path: string, context: AdapterModuleContext): Promise<RegistryAdapter> {
  const fail = (problem: string, cause?: unknown) =>
    new TracenetError(
      ErrorCode.ERROR_CODE_INVALID_FIELD,
      `registry adapter module ${path} ${problem} (configuration key registry.module)`,
      { field: 'registry.module', rule: 'adapter_module', cause },
    );
  let loaded: Partial<AdapterModule>;
  try {
    loaded = (await import(pathToFileURL(path).href)) as Partial<AdapterModule>;
  } catch (cause) {
    throw fail(`cannot be loaded: ${(cause as Error).message}`, cause);
  }
  if (typeof loaded.createAdapter !== 'function') throw fail('does not export a createAdapter(context) function');
  const adapter = await loaded.createAdapter(context);
  for (const method of ['open', 'close', 'check', 'findBySerial', 'get'] as const) {
    if (typeof adapter?.[method] !== 'function') throw fail(`gave an adapter without ${method}()`);
  }
  if (
    typeof adapter.idPrefix !== 'string' ||
    !/^[a-z][a-z0-9]*_$/.test(adapter.idPrefix) ||
    adapter.idPrefix === 'rec_'
  ) {
    throw fail('gave an adapter whose idPrefix is not lower-case letters and digits ending in "_" (and not "rec_")');
  }
  return adapter;
}
