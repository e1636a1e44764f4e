-- A handful of weapons in the example registry (schema.sql), as a Belgian registry might hold
-- them: serials written as clerks typed them, transfers entered out of order, a transfer kind
-- Tracenet has no event for ('REPAIR'). Names of people are invented.

INSERT INTO owners (owner_id, kind, name, country) VALUES
  (1, 'manufacturer', 'FN Herstal', 'BEL'),
  (2, 'agency', 'Kenya Police', 'KEN'),
  (3, 'dealer', 'Armurerie Lambert', 'BEL'),
  (4, 'person', 'Jean Dupont', 'BEL'),
  (5, 'person', 'Marie Claes', 'BEL'),
  (6, 'manufacturer', 'Glock Ges.m.b.H.', 'AUT'),
  (7, 'dealer', 'Sig Sauer Inc.', 'USA');

INSERT INTO licences (licence_id, licence_no, holder_id, issued, expires) VALUES
  (1, 'BE-EX-1999-17', 1, '1999-04-01', '1999-12-31'),
  (2, 'BE-IM-2015-0311', 3, '2015-05-01', '2015-12-31'),
  (3, 'BE-P-2015-7781', 4, '2015-05-20', '2020-05-19'),
  (4, 'BE-IM-2020-0102', 3, '2020-01-15', '2020-12-31'),
  (5, 'BE-P-2020-1290', 5, '2020-02-20', '2025-02-19');

INSERT INTO weapons (weapon_id, make, model, serial_no, calibre, category, made_in, year_made, import_country, import_year, control_part, control_serial, notes) VALUES
  (1, 'FN Herstal', 'FAL', 'fn-1998 0042', '7.62x51mm', 'rifle', 'BEL', 1998, NULL, NULL, NULL, NULL, 'export batch to Kenya'),
  (2, 'FN Herstal', 'FAL', 'FN1998-0043', '7.62x51mm', 'rifle', 'BEL', 1998, NULL, NULL, NULL, NULL, NULL),
  (3, 'FN Herstal', 'Minimi', 'FN-1998-0142', '5.56x45mm', 'machine gun', 'BEL', 1998, NULL, NULL, NULL, NULL, NULL),
  (4, 'Glock', '17', 'BDX 512', '9x19mm', 'pistol', 'AUT', 2014, 'BEL', 2015, NULL, NULL, NULL),
  (5, 'SIG Sauer', 'P320', 'M17 004512', '9x19mm', 'pistol', 'USA', 2019, 'BEL', 2020, 'frame', 'FCU-77 3310', 'modular: the serialised fire control unit is the firearm'),
  (6, 'Izhmash', 'AKM', 'KK 1974 221', '7.62x39mm', 'assault rifle', 'RUS', 1974, NULL, NULL, NULL, NULL, NULL),
  (7, 'Beretta', '92FS', 'PX 40771', '9x19mm', 'pistol', 'ITA', 2003, 'BEL', 2004, NULL, NULL, NULL);

-- Transfer ids follow data entry, not history: the order of a weapon's events comes from the
-- dates, and the id only breaks ties within a day.
INSERT INTO transfers (transfer_id, weapon_id, transfer_date, kind, from_owner_id, to_owner_id, licence_id, from_country, to_country, place, agency, remarks) VALUES
  (1, 1, '1999-05-10', 'EXPORT', 1, 2, 1, 'BEL', 'KEN', 'Herstal', 'SPW Licences armes', 'shipment 3 of 5'),
  (2, 2, '1999-05-10', 'EXPORT', 1, 2, 1, 'BEL', 'KEN', 'Herstal', 'SPW Licences armes', 'shipment 3 of 5'),
  (5, 1, '1998-03-02', 'MANUFACTURE', NULL, 1, NULL, NULL, NULL, 'Herstal', 'FN Herstal', NULL),
  (6, 2, '1998-03-02', 'MANUFACTURE', NULL, 1, NULL, NULL, NULL, 'Herstal', 'FN Herstal', NULL),
  (7, 3, '1998-06-17', 'MANUFACTURE', NULL, 1, NULL, NULL, NULL, 'Herstal', 'FN Herstal', NULL),
  -- the sale was typed in before the import it followed, the same day
  (31, 4, '2015-06-01', 'SALE', 3, 4, 3, NULL, NULL, 'Liège', 'Armurerie Lambert', NULL),
  (30, 4, '2015-06-01', 'IMPORT', 6, 3, 2, 'AUT', 'BEL', 'Liège', 'Douane Liège', NULL),
  (32, 4, '2023-11-04', 'STOLEN', NULL, NULL, NULL, NULL, NULL, 'Liège', 'Police fédérale', 'burglary, PV LI.55.L1.012345/2023'),
  (40, 5, '2020-02-11', 'IMPORT', 7, 3, 4, 'USA', 'BEL', 'Zaventem', 'Douane Zaventem', NULL),
  (41, 5, '2020-03-01', 'SALE', 3, 5, 5, NULL, NULL, 'Liège', 'Armurerie Lambert', NULL),
  (42, 5, '2021-04-07', 'REPAIR', 5, 3, NULL, NULL, NULL, 'Liège', 'Armurerie Lambert', 'new recoil spring'),
  (50, 6, '2022-08-14', 'SEIZED', NULL, NULL, NULL, NULL, NULL, 'Antwerpen', 'Police judiciaire fédérale Anvers', 'container inspection, port of Antwerp'),
  (60, 7, '2004-09-03', 'IMPORT', NULL, 3, NULL, 'ITA', 'BEL', 'Liège', 'Douane Liège', NULL),
  (61, 7, '2019-01-20', 'LOST', NULL, NULL, NULL, NULL, NULL, 'Namur', 'Police locale Namur', NULL);

-- Explicit ids above: move the identity sequences past them.
SELECT setval(pg_get_serial_sequence('owners', 'owner_id'), (SELECT max(owner_id) FROM owners));
SELECT setval(pg_get_serial_sequence('licences', 'licence_id'), (SELECT max(licence_id) FROM licences));
SELECT setval(pg_get_serial_sequence('weapons', 'weapon_id'), (SELECT max(weapon_id) FROM weapons));
SELECT setval(pg_get_serial_sequence('transfers', 'transfer_id'), (SELECT max(transfer_id) FROM transfers));
