-- Registre national des armes : an example registry whose schema looks nothing like Tracenet's
-- (docs/integration.md, section 7). French names, two-letter country codes, national weapon-type
-- codes, manufacturers as codes, the acquirer of a movement in a table of holders, reports of
-- loss and theft in a table of their own, and a view that the mapping reads instead of a table.
-- Tracenet reads it through registry-mapping.json; nothing here is changed for Tracenet.
--
--   psql "$REGISTRE_URL" -v ON_ERROR_STOP=1 -f schema.sql -f seed.sql

-- Code table: ISO 3166-1 two-letter codes, as the registry keeps them, and the three-letter
-- codes Tracenet exchanges.
CREATE TABLE ref_pays (
  code_pays  char(2) PRIMARY KEY,
  code_iso3  char(3) NOT NULL UNIQUE,
  libelle    text NOT NULL
);

-- Code table: the national weapon-type codes and the legal category (A to D) of each.
CREATE TABLE ref_categorie (
  code_categorie  text PRIMARY KEY,       -- 'PA' pistolet, 'FUS' fusil, 'FCL' fusil de chasse ...
  libelle         text NOT NULL,
  classement      char(1) NOT NULL CHECK (classement IN ('A', 'B', 'C', 'D'))
);

-- Holders: private persons, dealers (armuriers), manufacturers, administrations, foreign buyers.
CREATE TABLE detenteur (
  id_detenteur  bigint PRIMARY KEY,
  qualite       text NOT NULL CHECK (qualite IN ('PARTICULIER', 'ARMURIER', 'FABRICANT', 'ADMINISTRATION', 'ETRANGER')),
  nom           text NOT NULL,            -- family name, or the company's name
  prenom        text,                     -- private persons only
  num_agrement  text,                     -- dealers' approval number
  code_pays     char(2) REFERENCES ref_pays
);

-- One row per weapon. The manufacturer is a code ('MAS', 'BER', ...), the type a national code;
-- the serial is as struck on the weapon, NULL when the clerk could not read it.
CREATE TABLE arme (
  id_arme            bigint PRIMARY KEY,
  code_fabricant     text NOT NULL,
  modele             text,
  numero_serie       text,
  calibre            text,                -- as the registry writes it: '9x19', '7,62x39', '12'
  code_categorie     text REFERENCES ref_categorie,  -- NULL: never filled in
  pays_fabrication   char(2) REFERENCES ref_pays,
  annee_fabrication  smallint,
  observations       text,
  date_creation      timestamptz NOT NULL DEFAULT now(),
  date_maj           timestamptz NOT NULL DEFAULT now()
);

-- The expression the adapter searches serials with, behind an index (equality and prefixes).
CREATE INDEX arme_numero_serie_normalise
  ON arme ((regexp_replace(upper(numero_serie), '[^[:alnum:]]', '', 'g')) text_pattern_ops);

-- Movements of a weapon: manufacture, sales, imports and exports, seizures, losses, repairs.
CREATE TABLE mouvement (
  id_mouvement      bigint PRIMARY KEY,
  id_arme           bigint NOT NULL REFERENCES arme,
  date_mouvement    date NOT NULL,
  nature            text NOT NULL CHECK (nature IN ('FABRICATION', 'CESSION', 'IMPORTATION', 'EXPORTATION',
                                                    'SAISIE', 'PERTE', 'VOL', 'DESTRUCTION', 'REPARATION')),
  id_acquereur      bigint REFERENCES detenteur,
  pays_provenance   char(2) REFERENCES ref_pays,
  pays_destination  char(2) REFERENCES ref_pays,
  num_autorisation  text,                 -- licence or authorisation of the movement
  commune           text,
  service           text,                 -- the service that recorded it
  commentaire       text
);
CREATE INDEX mouvement_arme ON mouvement (id_arme);

-- Reports of loss and theft, and their lifting when the weapon is found again.
CREATE TABLE signalement (
  id_signalement  bigint PRIMARY KEY,
  id_arme         bigint NOT NULL REFERENCES arme,
  nature          text NOT NULL CHECK (nature IN ('VOL', 'PERTE')),
  date_faits      date NOT NULL,
  service         text NOT NULL,          -- the service that took the report
  num_procedure   text,
  contact         text,
  date_levee      date                    -- the report was lifted (weapon found) on this day
);
CREATE INDEX signalement_arme ON signalement (id_arme);

-- What the registry's own screens show of a movement: the acquirer's name as it is printed
-- (first name and family name of a person, the company's name otherwise) and who the acquirer is.
CREATE VIEW v_mouvement AS
SELECT m.id_mouvement, m.id_arme, m.date_mouvement, m.nature, m.pays_provenance, m.pays_destination,
       m.num_autorisation, m.commune, m.service, m.commentaire,
       CASE WHEN d.qualite = 'PARTICULIER' THEN concat_ws(' ', d.prenom, d.nom) ELSE d.nom END AS acquereur,
       d.qualite AS qualite_acquereur
  FROM mouvement m
  LEFT JOIN detenteur d ON d.id_detenteur = m.id_acquereur;
