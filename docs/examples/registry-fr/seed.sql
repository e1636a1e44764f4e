-- Data of the French example registry (schema.sql): a few weapons named in docs/integration.md
-- section 7, then 4,000 generated weapons with their movements and reports, some of them broken
-- on purpose, in known numbers, as real registries are. Deterministic: the same rows every time.
--
-- Counts (checked by `tracenet registry check` in node/test/registry/postgres-walkthrough.test.ts):
--   4,008 weapons
--     41 incomplete: no weapon type (code_categorie NULL): arme 9 and every 100th generated one
--      9 unreadable: no serial (numero_serie NULL): arme 10 and 8 generated ones (id % 500 = 250)
--   3,958 valid
-- Names of persons are invented.

INSERT INTO ref_pays (code_pays, code_iso3, libelle) VALUES
  ('FR', 'FRA', 'France'), ('BE', 'BEL', 'Belgique'), ('IT', 'ITA', 'Italie'), ('AT', 'AUT', 'Autriche'),
  ('DE', 'DEU', 'Allemagne'), ('ES', 'ESP', 'Espagne'), ('CH', 'CHE', 'Suisse'), ('FI', 'FIN', 'Finlande'),
  ('CZ', 'CZE', 'Tchéquie'), ('US', 'USA', 'États-Unis'), ('RU', 'RUS', 'Russie'), ('SN', 'SEN', 'Sénégal'),
  ('CI', 'CIV', 'Côte d''Ivoire'), ('MA', 'MAR', 'Maroc'), ('CM', 'CMR', 'Cameroun'), ('GB', 'GBR', 'Royaume-Uni');

INSERT INTO ref_categorie (code_categorie, libelle, classement) VALUES
  ('PA', 'pistolet', 'B'), ('REV', 'revolver', 'B'), ('CAR', 'carabine', 'C'), ('FUS', 'fusil à canon rayé', 'C'),
  ('FCL', 'fusil de chasse à canon lisse', 'C'), ('FAA', 'fusil d''assaut', 'A'), ('PM', 'pistolet-mitrailleur', 'A'),
  ('MIT', 'mitrailleuse', 'A'), ('AUT', 'autre', 'D');

-- Holders named in the guide, then 100 dealers and 2,000 private persons.
INSERT INTO detenteur (id_detenteur, qualite, nom, prenom, num_agrement, code_pays) VALUES
  (1, 'FABRICANT', 'Verney-Carron SA', NULL, NULL, 'FR'),
  (2, 'ARMURIER', 'Armurerie du Forez', NULL, 'AGR-42-0117', 'FR'),
  (3, 'PARTICULIER', 'Martin', 'Jean', NULL, 'FR'),
  (4, 'ETRANGER', 'Gendarmerie nationale du Sénégal', NULL, NULL, 'SN'),
  (5, 'PARTICULIER', 'Lefèvre', 'Claire', NULL, 'FR'),
  (6, 'ADMINISTRATION', 'Direction générale de la gendarmerie nationale', NULL, NULL, 'FR');

INSERT INTO detenteur (id_detenteur, qualite, nom, num_agrement, code_pays)
SELECT 1000 + n, 'ARMURIER', format('Armurerie %s', (ARRAY['Centrale', 'du Lac', 'des Alpes', 'du Port', 'de la Gare'])[1 + n % 5]) || ' ' || n,
       format('AGR-%s-%s', lpad((n % 95 + 1)::text, 2, '0'), lpad(n::text, 4, '0')), 'FR'
  FROM generate_series(1, 100) AS n;

INSERT INTO detenteur (id_detenteur, qualite, nom, prenom, code_pays)
SELECT 2000 + n, 'PARTICULIER',
       (ARRAY['Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent'])[1 + n % 11],
       (ARRAY['Pierre', 'Marie', 'Louis', 'Nathalie', 'Paul', 'Isabelle', 'Michel'])[1 + n % 7], 'FR'
  FROM generate_series(1, 2000) AS n;

-- The weapons of the guide (section 7).
INSERT INTO arme (id_arme, code_fabricant, modele, numero_serie, calibre, code_categorie, pays_fabrication, annee_fabrication, observations) VALUES
  -- sold to a private person: traced to them; their name is what the release policy withholds
  (1, 'BER', '92FS', 'BER 92-04471', '9x19', 'PA', 'IT', 2003, NULL),
  -- exported to Senegal: referred
  (2, 'VC', 'Sagittaire', 'VC-1987-5521', '12', 'FCL', 'FR', 1987, 'lot export gendarmerie'),
  -- stolen in 2021, reported: a lookup hit and the point of diversion of an answer
  (3, 'GLK', '17', 'GLK ABX 771', '9x19', 'PA', 'AT', 2014, NULL),
  -- lost, then found: the report is lifted, no hit
  (4, 'SAKO', 'TRG 22', 'SK-7731', '.308 Win', 'FUS', 'FI', 2011, NULL),
  -- a near weapon type: registered as a carabine
  (5, 'MAS', '36', 'MAS 36-11872', '7,5x54', 'CAR', 'FR', 1938, NULL),
  -- seized by the gendarmerie
  (6, 'IZH', 'AKM', 'KK 1974 221', '7,62x39', 'FAA', 'RU', 1974, 'saisie 2019'),
  -- no weapon type: held but incomplete, found by its serial, never "no record"
  (9, 'MAS', '49/56', 'MAS-49-0917', '7,5x54', NULL, 'FR', 1957, 'catégorie non renseignée'),
  -- no serial: unreadable, counted by the check only
  (10, 'MAB', 'D', NULL, '7,65', 'PA', 'FR', 1965, 'numéro illisible');

INSERT INTO mouvement (id_mouvement, id_arme, date_mouvement, nature, id_acquereur, pays_provenance, pays_destination, num_autorisation, commune, service, commentaire) VALUES
  (1, 1, '2003-06-12', 'FABRICATION', NULL, NULL, NULL, NULL, 'Gardone Val Trompia', NULL, NULL),
  (2, 1, '2004-02-02', 'IMPORTATION', 2, 'IT', NULL, 'IMP-2004-0192', 'Saint-Étienne', 'Douane de Lyon', NULL),
  (3, 1, '2004-03-15', 'CESSION', 3, NULL, NULL, 'AUT-B-2004-5531', 'Saint-Étienne', 'Préfecture de la Loire', NULL),
  (4, 1, '2016-09-01', 'REPARATION', 2, NULL, NULL, NULL, 'Saint-Étienne', NULL, 'remplacement de l''extracteur'),
  (5, 2, '1987-04-20', 'FABRICATION', 1, NULL, NULL, NULL, 'Saint-Étienne', NULL, NULL),
  (6, 2, '2001-11-05', 'EXPORTATION', 4, NULL, 'SN', 'EXP-2001-0077', 'Saint-Étienne', 'Douane de Lyon', 'lot de 40 fusils'),
  (7, 3, '2014-05-02', 'FABRICATION', NULL, NULL, NULL, NULL, 'Deutsch-Wagram', NULL, NULL),
  (8, 3, '2014-10-10', 'IMPORTATION', 2, 'AT', NULL, 'IMP-2014-3310', 'Saint-Étienne', 'Douane de Lyon', NULL),
  (9, 3, '2015-01-20', 'CESSION', 5, NULL, NULL, 'AUT-B-2015-0042', 'Lyon', 'Préfecture du Rhône', NULL),
  (10, 3, '2021-06-01', 'VOL', NULL, NULL, NULL, NULL, 'Lyon', 'Police nationale, commissariat de Lyon 3e', 'cambriolage'),
  (11, 4, '2011-03-03', 'FABRICATION', NULL, NULL, NULL, NULL, 'Riihimäki', NULL, NULL),
  (12, 4, '2012-05-14', 'IMPORTATION', 2, 'FI', NULL, 'IMP-2012-0815', 'Saint-Étienne', 'Douane de Lyon', NULL),
  (13, 5, '1938-01-10', 'FABRICATION', NULL, NULL, NULL, NULL, 'Saint-Étienne', NULL, NULL),
  (14, 5, '1962-07-01', 'CESSION', 2, NULL, NULL, NULL, 'Saint-Étienne', NULL, 'réforme'),
  (15, 6, '1974-01-01', 'FABRICATION', NULL, NULL, NULL, NULL, 'Ijevsk', NULL, NULL),
  (16, 6, '2019-03-08', 'SAISIE', 6, NULL, NULL, NULL, 'Marseille', 'Gendarmerie nationale, section de recherches de Marseille', 'PV 2019/118'),
  (17, 9, '1957-01-01', 'FABRICATION', NULL, NULL, NULL, NULL, 'Saint-Étienne', NULL, NULL),
  (18, 10, '1965-01-01', 'FABRICATION', NULL, NULL, NULL, NULL, 'Hendaye', NULL, NULL);

INSERT INTO signalement (id_signalement, id_arme, nature, date_faits, service, num_procedure, contact, date_levee) VALUES
  (1, 3, 'VOL', '2021-06-01', 'Police nationale, commissariat de Lyon 3e', 'PN-LYO-2021-004412', 'ocl.signalements@interieur.example', NULL),
  (2, 4, 'PERTE', '2018-10-02', 'Gendarmerie nationale, brigade de Thiers', 'GN-THI-2018-0210', NULL, '2019-01-15');

-- 4,000 generated weapons, ids 1001 to 5000: six manufacturers in turn.
INSERT INTO arme (id_arme, code_fabricant, modele, numero_serie, calibre, code_categorie, pays_fabrication, annee_fabrication)
SELECT id,
       (ARRAY['MAS', 'VC', 'BER', 'GLK', 'SAKO', 'CZ'])[1 + id % 6],
       (ARRAY['MAS 36', 'Impact', 'APX', '19', 'Quad', '75'])[1 + id % 6],
       CASE WHEN id % 500 = 250 THEN NULL   -- no serial: unreadable
            ELSE format('%s-%s', (ARRAY['MAS', 'VC', 'BER', 'GLK', 'SK', 'CZ'])[1 + id % 6], lpad(id::text, 6, '0')) END,
       (ARRAY['7,5x54', '30-06', '9x19', '9x19', '.22 LR', '9x19'])[1 + id % 6],
       CASE WHEN id % 100 = 0 THEN NULL     -- no weapon type: incomplete
            ELSE (ARRAY['FUS', 'CAR', 'PA', 'PA', 'CAR', 'PA'])[1 + id % 6] END,
       (ARRAY['FR', 'FR', 'IT', 'AT', 'FI', 'CZ'])[1 + id % 6],
       1970 + id % 50
  FROM generate_series(1001, 5000) AS id;

-- Their movements: manufacture; import for those made abroad; sale to a dealer; sale to a private
-- person (nine in ten) or export (one in ten); a repair now and then (not a Tracenet event).
INSERT INTO mouvement (id_mouvement, id_arme, date_mouvement, nature, id_acquereur, pays_provenance, pays_destination, num_autorisation, commune, service)
SELECT 100000 + id * 10 + step, id, made + step * 60, nature, acquereur, provenance, destination, autorisation, commune, service
  FROM (
    SELECT id, make_date(1970 + id % 50, 1 + id % 12, 1 + id % 28) AS made, step.*
      FROM generate_series(1001, 5000) AS id
     CROSS JOIN LATERAL (VALUES
       (0, 'FABRICATION', NULL::bigint, NULL, NULL, NULL, (ARRAY['Saint-Étienne', 'Saint-Étienne', 'Gardone Val Trompia', 'Deutsch-Wagram', 'Riihimäki', 'Uherský Brod'])[1 + id % 6], NULL),
       (1, CASE WHEN id % 6 IN (0, 1) THEN NULL ELSE 'IMPORTATION' END, 1001 + id % 100, (ARRAY['FR', 'FR', 'IT', 'AT', 'FI', 'CZ'])[1 + id % 6], NULL, format('IMP-%s', id), 'Saint-Étienne', 'Douane de Lyon'),
       (2, 'CESSION', 1001 + id % 100, NULL, NULL, format('AUT-D-%s', id), 'Lyon', 'Préfecture du Rhône'),
       (3, CASE WHEN id % 10 = 3 THEN 'EXPORTATION' ELSE 'CESSION' END,
           CASE WHEN id % 10 = 3 THEN 4 ELSE 2001 + id % 2000 END, NULL,
           CASE WHEN id % 10 = 3 THEN (ARRAY['SN', 'CI', 'MA', 'CM'])[1 + id % 4] END,
           format('AUT-%s', id), 'Lyon', 'Préfecture du Rhône'),
       (4, CASE WHEN id % 7 = 0 THEN 'REPARATION' END, 1001 + id % 100, NULL, NULL, NULL, 'Lyon', NULL)
     ) AS step(step, nature, acquereur, provenance, destination, autorisation, commune, service)
  ) AS movements
 WHERE nature IS NOT NULL;

-- Their reports: a theft for one weapon in fifty, a loss for one in ninety-seven; one theft in
-- four lifted (the weapon was found).
INSERT INTO signalement (id_signalement, id_arme, nature, date_faits, service, num_procedure, contact, date_levee)
SELECT 1000 + id, id, CASE WHEN id % 50 = 7 THEN 'VOL' ELSE 'PERTE' END, DATE '2020-01-01' + id % 1500,
       (ARRAY['Police nationale', 'Gendarmerie nationale'])[1 + id % 2], format('PV-%s', id), NULL,
       CASE WHEN id % 200 = 7 THEN DATE '2024-01-01' + id % 300 END
  FROM generate_series(1001, 5000) AS id
 WHERE id % 50 = 7 OR id % 97 = 11;
