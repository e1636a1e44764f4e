/**
 * An integrator's own registry adapter (docs/integration.md, "Your own adapter"): here a registry
 * reached through a JSON export of a few weapons, to keep the example short — in practice a REST
 * service or a database the built-in adapters do not cover. Compiled and loaded by a node in CI.
 *
 * Configure the node with `registry.adapter` = `module` and `registry.module` = the compiled file
 * (`docs/examples/integration/dist/my-adapter.js`); set `MY_REGISTRY_FILE` to the JSON export.
 */
import { readFile } from 'node:fs/promises';
import {
  type AdapterModuleContext,
  normaliseSerial,
  recordFromJson,
  type RegistryAdapter,
  type SerialPattern,
  type WeaponRecord,
} from '@tracenet/sdk/registry';

export async function createAdapter(context: AdapterModuleContext): Promise<RegistryAdapter> {
  const file = process.env.MY_REGISTRY_FILE ?? `${context.dataDir}/my-registry.json`;
  let records: WeaponRecord[] = [];
  return {
    kind: 'my-registry',
    // Every id this adapter gives starts with it; the node routes GetRecord by it.
    idPrefix: 'my_',
    async open() {
      const rows = JSON.parse(await readFile(file, 'utf8')) as Array<{ id: string; record: unknown }>;
      // recordFromJson reads the record format of docs/records.md and names every problem.
      records = rows.flatMap((row, i) => {
        const { record, violations } = recordFromJson(row.record, `rows[${i}]`);
        if (violations.length > 0) {
          context.logger.warn({ row: i, field: violations[0]?.field }, 'row left out');
          return [];
        }
        return [{ ...record, recordId: `my_${row.id}` }];
      });
      context.logger.info({ records: records.length }, 'my registry read');
    },
    async close() {},
    async check() {},
    // Only the serial is the adapter's job; the node applies manufacturer, aliases, model, calibre, type.
    async findBySerial(serial: SerialPattern, limit: number) {
      const serialsOf = (r: WeaponRecord) =>
        [r.manufacture?.serialNumber ?? '', r.controlComponent?.serialNumber ?? ''].map(normaliseSerial);
      return records.filter((r) => serialsOf(r).some((s) => s !== '' && serial.test(s))).slice(0, limit);
    },
    async get(recordId: string) {
      return records.find((r) => r.recordId === recordId);
    },
  };
}
