/**
 * A registry with a French schema of its own (armes, mouvements, signalement), its mapping, and
 * rows broken on purpose: what the PostgreSQL adapter and `tracenet registry check` are tested on.
 * 201 weapon rows: 194 valid; 5 held but incomplete (7 no category, 8 a country that is no code,
 * 9 an event without a date, 23 a report without its agency, 24 a report code the mapping does not
 * know); 2 unreadable (10 has no serial, one row has no key). Active valid reports: 20 and 25.
 */

/** The schema and rows of the French registry: 200 weapons, some broken on purpose. */
export const FRENCH_REGISTRY_SQL = `
CREATE TABLE armes (
  id_arme bigint, marque text, numero text, modele text, calibre text,
  categorie text, categorie_vide text, pays text
);
CREATE TABLE mouvements (id_mvt bigint PRIMARY KEY, id_arme bigint, date_mvt date, nature text, pays_dest text);
CREATE TABLE signalement (
  id_signalement bigint PRIMARY KEY, id_arme bigint, nature text, date_faits date,
  service text, num_procedure text, contact text, date_levee date
);
INSERT INTO armes (id_arme, marque, numero, modele, calibre, categorie, pays)
  SELECT i, 'MAS', 'F-' || lpad(i::text, 4, '0'), 'MAS 1950', '9x19mm', 'PA', CASE WHEN i % 2 = 0 THEN 'FR' ELSE 'FRA' END
  FROM generate_series(1, 200) AS i;
INSERT INTO mouvements (id_mvt, id_arme, date_mvt, nature, pays_dest)
  SELECT i, i, DATE '2001-01-01' + i, 'FAB', NULL FROM generate_series(1, 200) AS i;
INSERT INTO mouvements VALUES (1001, 3, '2005-06-01', 'EXP', 'KE');
-- Broken on purpose: no category (7), a country that is no code (8), an event without a date (9),
-- no serial (10), and a row without a key.
UPDATE armes SET categorie = NULL WHERE id_arme = 7;
UPDATE armes SET pays = 'XX' WHERE id_arme = 8;
INSERT INTO mouvements VALUES (1002, 9, NULL, 'VTE', NULL);
UPDATE armes SET numero = NULL WHERE id_arme = 10;
INSERT INTO armes (id_arme, marque, numero, categorie, pays) VALUES (NULL, 'MAS', 'F-9999', 'PA', 'FR');
-- Reports: 20 lost then stolen (the theft is the most recent), 21 stolen but withdrawn, 22 a code
-- mapped to null, 23 without its agency, 24 an unknown code, 25 a code read as it is.
INSERT INTO signalement VALUES
  (1, 20, 'PERTE', '2022-01-01', 'Gendarmerie', 'PV-0', NULL, NULL),
  (2, 20, 'VOL', '2023-01-05', 'Police nationale', 'PV-1', 'OCRTIS, +33 1 00 00 00 00', NULL),
  (3, 21, 'VOL', '2023-02-01', 'Police nationale', NULL, NULL, '2023-03-01'),
  (4, 22, 'LEVEE', '2023-02-01', 'Police nationale', NULL, NULL, NULL),
  (5, 23, 'VOL', '2023-02-01', NULL, NULL, NULL, NULL),
  (6, 24, 'XYZ', '2023-02-01', 'Police nationale', NULL, NULL, NULL),
  (7, 25, 'stolen', '2024-04-04', 'Douane', NULL, NULL, NULL);
`;

/** The mapping of that registry. */
export function frenchMapping(): Record<string, unknown> {
  return {
    version: 1,
    weapons: {
      table: 'armes',
      key: 'id_arme',
      columns: {
        manufacturer: 'marque',
        serialNumber: 'numero',
        model: 'modele',
        calibre: 'calibre',
        type: { column: 'categorie', values: { PA: 'PISTOL', RV: 'REVOLVER', FA: 'RIFLE' } },
        countryOfManufacture: { column: 'pays', values: { FR: 'FRA', BE: 'BEL' } },
      },
    },
    events: {
      table: 'mouvements',
      key: 'id_mvt',
      weapon: 'id_arme',
      columns: {
        type: { column: 'nature', values: { FAB: 'MANUFACTURED', EXP: 'EXPORTED', VTE: 'TRANSFERRED' } },
        date: 'date_mvt',
        destination: { column: 'pays_dest', values: { KE: 'KEN' } },
      },
    },
    reports: {
      table: 'signalement',
      key: 'id_signalement',
      weapon: 'id_arme',
      joins: [],
      columns: {
        category: { column: 'nature', values: { VOL: 'STOLEN', PERTE: 'LOST', LEVEE: null } },
        date: 'date_faits',
        agency: 'service',
        reference: 'num_procedure',
        contactPoint: 'contact',
        withdrawn: 'date_levee',
      },
    },
  };
}
