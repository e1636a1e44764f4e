import { WeaponEventType, WeaponRecord, WeaponType } from '@tracenet/proto';

/** A valid record of an FN rifle made in 1998 with serial `serial`: inside its retention period until 2028. */
export function rifle(serial: string): WeaponRecord {
  return WeaponRecord.fromPartial({
    manufacture: {
      manufacturer: 'FN Herstal',
      countryOfManufacture: 'BEL',
      serialNumber: serial,
      model: 'FAL',
      type: WeaponType.WEAPON_TYPE_RIFLE,
      calibre: '7.62x51mm',
      year: 1998,
    },
    events: [{ type: WeaponEventType.WEAPON_EVENT_TYPE_MANUFACTURED, date: '1998-03-02', place: 'Herstal' }],
  });
}

/** The header row of the CSV files of the import tests (docs/records.md 5.1). */
export const CSV_HEADER =
  'manufacturer,country_of_manufacture,serial_number,model,type,calibre,year,event1_type,event1_date\n';

/** A good CSV row: an FN rifle with serial `serial`. */
export const goodRow = (serial: string): string =>
  `FN Herstal,BEL,${serial},FAL,rifle,7.62x51mm,1998,manufactured,1998-03-02\n`;
