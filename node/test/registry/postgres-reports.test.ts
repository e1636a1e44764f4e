/**
 * Hit/no-hit lookups from a PostgreSQL registry's own reports of loss and theft (issue 16,
 * section 2): the mapping's `reports` section read by a real node, with the node's own copy of
 * a reported weapon giving one hit, not two.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InterestCategory,
  LookupOutcome,
  type LookupRequest,
  LookupsClient,
  type LookupsServer,
  PeerPolicy,
  RecordsClient,
  type RecordsServer,
  WeaponType,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { pinAll, startNode, testConfig, type TestNode } from '../support/nodes.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { weapon } from '../records/support.js';

const REGISTRY_SQL = `
CREATE TABLE armes (id_arme bigint PRIMARY KEY, marque text, numero text, modele text, calibre text, categorie text);
CREATE TABLE mouvements (id_mvt bigint PRIMARY KEY, id_arme bigint, date_mvt date, nature text);
CREATE TABLE signalement (
  id_signalement bigint PRIMARY KEY, id_arme bigint, nature text, date_faits date,
  service text, num_procedure text, contact text, date_levee date
);
INSERT INTO armes VALUES
  (1, 'MAS', 'F-0001', 'MAS 1950', '9x19mm', 'PA'),
  (2, 'Fabrique Nationale', 'FX-0412-2231', 'FAL', '7.62x51mm', 'FA'),
  (3, 'MAS', 'F-0003', 'MAS 1950', '9x19mm', 'PA'),
  (4, 'MAS', 'F-0004', 'MAS 1950', '9x19mm', 'PA'),
  (5, 'MAS', 'F-0005', 'MAS 1950', '9x19mm', 'PA'),
  (6, 'MAS', 'G-0006', 'MAS 1950', '9x19mm', NULL);
INSERT INTO mouvements SELECT id_arme, id_arme, DATE '2001-01-01' + id_arme::int, 'FAB' FROM armes;
-- 1: a code the mapping reads as "not a report"; 2 lost then stolen; 3 stolen (the node holds a
-- copy it reported itself); 4 stolen, withdrawn; 5 none; 6 stolen, its row without a weapon type.
INSERT INTO signalement VALUES
  (1, 1, 'LEVEE', '2023-02-01', 'Police nationale', NULL, NULL, NULL),
  (2, 2, 'PERTE', '2022-01-01', 'Gendarmerie', 'PV-0', NULL, NULL),
  (3, 2, 'VOL', '2023-01-05', 'Police nationale', 'PV-1', 'OCRTIS, +33 1 00 00 00 00', NULL),
  (4, 3, 'VOL', '2023-03-01', 'Police nationale', 'PV-2', 'OCRTIS', NULL),
  (5, 4, 'VOL', '2023-02-01', 'Police nationale', NULL, NULL, '2023-03-01'),
  (6, 6, 'VOL', '2023-04-01', 'Police nationale', 'PV-6', 'OCRTIS', NULL);
`;

/** The registry's mapping, with the `reports` section of docs/integration.md. */
const MAPPING = {
  version: 1,
  weapons: {
    table: 'armes',
    key: 'id_arme',
    columns: {
      manufacturer: 'marque',
      serialNumber: 'numero',
      model: 'modele',
      calibre: 'calibre',
      type: { column: 'categorie', values: { PA: 'PISTOL', FA: 'RIFLE' } },
    },
  },
  events: {
    table: 'mouvements',
    key: 'id_mvt',
    weapon: 'id_arme',
    columns: { type: { column: 'nature', values: { FAB: 'MANUFACTURED' } }, date: 'date_mvt' },
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

describe('lookups from a PostgreSQL registry with reports', () => {
  let db: TestDatabase;
  let dir: string;
  let fra: TestNode;
  let bel: TestNode;
  let lookups: UnaryClient<LookupsServer>;
  let belRecords: UnaryClient<RecordsServer>;
  let copyId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(REGISTRY_SQL);
    dir = await mkdtemp(join(tmpdir(), 'tracenet-pg-reports-'));
    const mapping = join(dir, 'mapping.json');
    await writeFile(mapping, JSON.stringify(MAPPING));
    const config = testConfig({
      registry: { adapter: 'postgres', postgres: { url: db.url, mapping, poolSize: 2, statementTimeoutMs: 5_000 } },
    });
    [fra, bel] = await Promise.all([startNode('FRA'), startNode('BEL', { config })]);
    await pinAll([fra.node, bel.node]);
    await bel.node.policies.set(
      PeerPolicy.fromPartial({ participantId: 'FRA', allowLookups: true, lookupsPerMinute: 1000 }),
    );
    await bel.node.lookups.aliases.load(Buffer.from('FN Herstal,Fabrique Nationale,FN\n'));
    // The node's own copy of weapon 3, reported by its officers.
    const { record } = await bel.node.records.put(
      weapon(
        {},
        {
          manufacturer: 'MAS',
          serialNumber: 'F 0003',
          model: 'MAS 1950',
          calibre: '9x19mm',
          type: WeaponType.WEAPON_TYPE_PISTOL,
          year: 0,
        },
      ),
    );
    copyId = record.recordId;
    await bel.node.records.report(copyId, {
      category: InterestCategory.INTEREST_CATEGORY_STOLEN,
      date: '2023-03-01',
      agency: 'Police fédérale',
      reference: '',
      contactPoint: 'NCB Brussels',
    });
    lookups = connectUnary<LookupsServer>(
      LookupsClient,
      fra.node.authorityAddress,
      await readAuthorityToken(fra.dataDir),
    );
    belRecords = connectUnary<RecordsServer>(
      RecordsClient,
      bel.node.authorityAddress,
      await readAuthorityToken(bel.dataDir),
    );
  });

  afterAll(async () => {
    for (const c of [lookups, belRecords]) c?.close();
    await Promise.all([fra, bel].map((t) => t?.cleanup()));
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function ask(manufacturer: string, serialNumber: string) {
    const request: LookupRequest = {
      weapon: { manufacturer, serialNumber, model: '', calibre: '', type: 0 },
      purpose: 'seizure at Roissy',
      peers: ['BEL'],
      deadlineMs: 10_000,
      requestingAuthority: '',
    };
    const result = (await lookups.call('lookup', request)).results[0];
    return { outcome: result?.outcome, hits: result?.hits ?? [] };
  }

  it("hits a weapon the registry reports stolen, with the most recent report's category and contact point", async () => {
    const { outcome, hits } = await ask('FN', 'FX04122231');
    expect(outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    expect(hits).toMatchObject([
      {
        owner: 'BEL',
        category: InterestCategory.INTEREST_CATEGORY_STOLEN,
        contactPoint: 'OCRTIS, +33 1 00 00 00 00',
        partial: false,
      },
    ]);
    expect(hits[0]?.reference).toMatch(/^roi_[A-Za-z0-9_-]{22}$/);
    expect(await bel.node.records.recordIdOfReference(hits[0]?.reference ?? '')).toBe('pg_2');
    const [notice] = (await bel.node.lookups.hits.list({ limit: 1 })).hits;
    expect(notice).toMatchObject({ recordId: 'pg_2', reference: hits[0]?.reference });
  });

  it('hits a reported weapon whose row is held but incomplete: never a "no hit" for a weapon the state holds', async () => {
    const { outcome, hits } = await ask('MAS', 'G-0006');
    expect(outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_HIT);
    expect(hits).toMatchObject([
      { owner: 'BEL', category: InterestCategory.INTEREST_CATEGORY_STOLEN, contactPoint: 'OCRTIS' },
    ]);
    expect(await bel.node.records.recordIdOfReference(hits[0]?.reference ?? '')).toBe('pg_6');
  });

  it('does not hit a withdrawn report, a code read as no report, or a weapon without one', async () => {
    for (const serial of ['F-0001', 'F-0004', 'F-0005'])
      expect((await ask('MAS', serial)).outcome, serial).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
  });

  it("gives one hit, the node's, for a weapon both the node and the registry report; searches find one record", async () => {
    const exact = await ask('MAS', 'F-0003');
    expect(exact.hits).toHaveLength(1);
    expect(exact.hits[0]?.contactPoint).toBe('NCB Brussels');
    expect(await bel.node.records.recordIdOfReference(exact.hits[0]?.reference ?? '')).toBe(copyId);
    const wildcard = await ask('MAS', 'F-000*');
    expect(wildcard.hits).toHaveLength(1);
    expect(wildcard.hits[0]?.partial).toBe(true);
    const found = await bel.node.registry.identify({
      manufacturer: 'MAS',
      serialNumber: 'F-0003',
      model: '',
      calibre: '',
      type: 0,
    });
    expect(found.records.map((r) => r.recordId)).toEqual([copyId]);
  });

  it('an officer reports a registry weapon through the node; clear-report withdraws it', async () => {
    const { record } = await belRecords.call('reportRecord', {
      recordId: 'pg_5',
      report: {
        category: InterestCategory.INTEREST_CATEGORY_LOST,
        date: '2024-01-01',
        agency: 'Police fédérale',
        reference: '',
        contactPoint: 'NCB Brussels',
      },
    });
    expect(record?.recordId).toBe('pg_5');
    expect((await ask('MAS', 'F-0005')).hits).toMatchObject([{ category: InterestCategory.INTEREST_CATEGORY_LOST }]);
    await belRecords.call('clearReport', { recordId: 'pg_5' });
    expect((await ask('MAS', 'F-0005')).outcome).toBe(LookupOutcome.LOOKUP_OUTCOME_NO_HIT);
  });
});
