import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InterestReport, WeaponRecord } from '@tracenet/proto';
import type { RegistryAdapter, RegistryEntry } from '../../src/registry/adapter.js';
import { indexedSerials } from '../../src/records/normalise.js';
import type { SerialPattern } from '../../src/records/serial-pattern.js';

/** Where {@link writeMemoryModule}'s module finds the adapter of the test. */
const GLOBAL = '__tracenetMemoryRegistry';

/**
 * A registry in memory, as an integrator's adapter would give one: records with the registry's
 * own reports of loss and theft (`interest`), `findReported` unless told otherwise, and a switch
 * that makes every call fail like an unreachable database. Counts the calls of each method.
 */
export class MemoryRegistry implements RegistryAdapter {
  readonly kind = 'memory';
  readonly idPrefix = 'mem_';
  records: WeaponRecord[] = [];
  /** While true, every read fails with a driver's connection error. */
  down = false;
  readonly calls = { findBySerial: 0, findReported: 0 };
  findReported?: (serial: SerialPattern, limit: number) => Promise<WeaponRecord[]>;

  constructor(options: { findReported?: boolean } = {}) {
    if (options.findReported !== false)
      this.findReported = async (serial, limit) => {
        this.#fail();
        this.calls.findReported += 1;
        return this.records.filter((r) => r.interest !== undefined && this.#matches(r, serial)).slice(0, limit);
      };
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async check(): Promise<void> {
    this.#fail();
  }

  async findBySerial(serial: SerialPattern, limit: number): Promise<RegistryEntry[]> {
    this.#fail();
    this.calls.findBySerial += 1;
    return this.records.filter((r) => this.#matches(r, serial)).slice(0, limit);
  }

  async get(recordId: string): Promise<RegistryEntry | undefined> {
    this.#fail();
    return this.records.find((r) => r.recordId === recordId);
  }

  /** Puts (or replaces) a record under `recordId`, with the registry's own report when given. */
  set(recordId: string, record: WeaponRecord, report?: InterestReport): void {
    const entry = { ...record, recordId, interest: report };
    this.records = [...this.records.filter((r) => r.recordId !== recordId), entry];
  }

  /** Sets or withdraws the registry's own report of a record. */
  setReport(recordId: string, report: InterestReport | undefined): void {
    this.records = this.records.map((r) => (r.recordId === recordId ? { ...r, interest: report } : r));
  }

  #matches(record: WeaponRecord, serial: SerialPattern): boolean {
    return indexedSerials(record).some((s) => serial.test(s));
  }

  #fail(): void {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 10.9.8.7:5432'), { code: 'ECONNREFUSED' });
  }
}

/**
 * Writes an adapter module (`registry.adapter` `module`) that gives `registry` to the node, so
 * that a real node answers from an adapter the test holds. Returns the module's path.
 */
export async function writeMemoryModule(dir: string, registry: MemoryRegistry): Promise<string> {
  (globalThis as Record<string, unknown>)[GLOBAL] = registry;
  const path = join(dir, 'memory-registry.mjs');
  await writeFile(path, `export async function createAdapter() { return globalThis.${GLOBAL}; }\n`);
  return path;
}
