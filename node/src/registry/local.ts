import type { WeaponRecord } from '@tracenet/proto';
import type { SerialPattern } from '../records/serial-pattern.js';
import type { RecordStore } from '../records/record-store.js';
import type { RegistryAdapter } from './adapter.js';

/**
 * The node's own records (LevelDB, docs/records.md) as a registry adapter: the records put or
 * imported through the Records API. The store's life is the node's, so open and close do nothing.
 */
export class LocalRecordsAdapter implements RegistryAdapter {
  readonly kind = 'leveldb';
  readonly idPrefix = 'rec_';

  constructor(readonly records: RecordStore) {}

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async check(): Promise<void> {}

  findBySerial(serial: SerialPattern, limit: number): Promise<WeaponRecord[]> {
    return this.records.bySerial(serial, limit);
  }

  get(recordId: string): Promise<WeaponRecord | undefined> {
    return this.records.get(recordId);
  }
}
