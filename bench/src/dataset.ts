import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { WeaponType } from '@tracenet/proto';

/** Full method name of the raw echo RPC of the delivery benchmark (echo-server.ts). */
export const ECHO_METHOD = '/bench.v1.Echo/Echo';

/** The weapon the fan-out benchmark looks up; every tenth responder holds it as stolen. */
export const FANOUT_WEAPON = {
  manufacturer: 'Glock',
  serialNumber: 'GLK-7781-BENCH',
  model: '17',
  calibre: '9x19mm',
  type: WeaponType.WEAPON_TYPE_PISTOL,
} as const;

/**
 * The generated registry of the records benchmarks: four manufacturers in turn, one unique serial
 * per row (`SN-` and 8 digits), an import marking and two events (manufactured, exported), as a
 * state's export of its national register would look. Every row is valid.
 */
const MAKERS = [
  { manufacturer: 'FN Herstal', country: 'BEL', model: 'FAL', type: 'rifle', calibre: '7.62x51mm', place: 'Herstal' },
  {
    manufacturer: 'Heckler & Koch',
    country: 'DEU',
    model: 'G3',
    type: 'rifle',
    calibre: '7.62x51mm',
    place: 'Oberndorf',
  },
  { manufacturer: 'Glock', country: 'AUT', model: '17', type: 'pistol', calibre: '9x19mm', place: 'Deutsch-Wagram' },
  { manufacturer: 'Beretta', country: 'ITA', model: '92FS', type: 'pistol', calibre: '9x19mm', place: 'Gardone' },
] as const;

export const DATASET_HEADER =
  'manufacturer,country_of_manufacture,serial_number,model,type,calibre,year,manufacture_method,status,import1_country,import1_year,event1_type,event1_date,event1_place,event2_type,event2_date,event2_destination,event2_licence,notes';

/** Serial number of row `i`. */
export function serialOf(i: number): string {
  return `SN-${String(i).padStart(8, '0')}`;
}

/** Manufacturer of row `i`. */
export function manufacturerOf(i: number): string {
  return MAKERS[i % MAKERS.length]?.manufacturer ?? '';
}

/** CSV line of row `i` (without the line break). */
export function datasetRow(i: number): string {
  const m = MAKERS[i % MAKERS.length] ?? MAKERS[0];
  const year = 1980 + (i % 40);
  const day = String(1 + (i % 28)).padStart(2, '0');
  const month = String(1 + (i % 12)).padStart(2, '0');
  return `${m.manufacturer},${m.country},${serialOf(i)},${m.model},${m.type},${m.calibre},${year},industrial,exported,KEN,${year + 1},manufactured,${year}-${month}-${day},${m.place},exported,${year + 1}-${month}-${day},KEN,LIC-${i},${i % 10 === 0 ? '"batch of 50, ""bench"" rifles"' : ''}`;
}

/** Writes rows 0..rows-1 with their header to `path`; returns the file size in bytes. */
export async function writeDataset(path: string, rows: number): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${DATASET_HEADER}\n`);
  const block = 10_000;
  for (let start = 0; start < rows; start += block) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(rows, start + block); i += 1) lines.push(datasetRow(i));
    await write(`${lines.join('\n')}\n`);
  }
  out.end();
  await once(out, 'close');
  return bytes;
}
