/**
 * @tracenet/sdk/registry — what an integrator needs to write a registry adapter of their own
 * (docs/integration.md, "Your own adapter"): the {@link RegistryAdapter} interface, the serial
 * pattern the node asks with, the normalisation rules of docs/protocol.md 11.2, the record JSON
 * reader and the record rules, and the built-in adapters to build on or compare with.
 *
 * @example
 * ```ts
 * import type { AdapterModuleContext, RegistryAdapter } from '@tracenet/sdk/registry';
 * export async function createAdapter(context: AdapterModuleContext): Promise<RegistryAdapter> { ... }
 * ```
 */
export {
  type RegistryAdapter,
  type AdapterModule,
  type AdapterModuleContext,
  type SerialPattern,
  type SearchOptions,
  Registry,
  LocalRecordsAdapter,
  CsvFolderAdapter,
  PostgresAdapter,
  serialPattern,
  normaliseSerial,
  normaliseName,
  normaliseManufacturer,
  normaliseModel,
  normaliseCalibre,
  indexedSerials,
  recordFromJson,
  recordToJson,
  recordViolations,
  retentionOf,
} from '@tracenet/node';
export type { WeaponRecord, WeaponEvent, RecordQuery } from '@tracenet/proto';
