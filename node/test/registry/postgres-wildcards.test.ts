import { ErrorCode, type WeaponRecord } from '@tracenet/proto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AliasTable } from '../../src/records/alias-table.js';
import { MAX_WILDCARDS } from '../../src/records/serial-pattern.js';
import { parsePostgresMapping } from '../../src/registry/postgres-mapping.js';
import type { RegistryAdapter } from '../../src/registry/adapter.js';
import { PostgresAdapter } from '../../src/registry/postgres.js';
import { Registry } from '../../src/registry/registry.js';
import { systemClock } from '../../src/util/clock.js';
import {
  AT_LIMIT_PATTERNS,
  ATTACK_HIT,
  ATTACK_SERIALS,
  MAX_EVENT_LOOP_DELAY_MS,
  OVER_LIMIT_PATTERNS,
  rifleQuery,
  stolenRifle,
  WATCH_RETRIES,
  watchEventLoop,
} from '../lookup/support.js';
import { testLogger } from '../support/nodes.js';
import {
  createTestDatabase,
  exampleMappingJson,
  insertRegistryRecords,
  type TestDatabase,
} from '../support/postgres.js';

/**
 * Issue 14 section 2 for the PostgreSQL registry: the wildcard patterns of the lookup attacks go
 * to SQL as `LIKE` with escaped literals (never a regular expression PostgreSQL could backtrack
 * on), under a short statement timeout that a runaway match would hit, and the node checks the
 * rows it gets back with its own linear matcher.
 */

/** Short, so that a pattern PostgreSQL spent long on would fail UNAVAILABLE instead of passing. */
const STATEMENT_TIMEOUT_MS = 1_000;

let db: TestDatabase;
let registry: Registry;
/** The patterns the registry asked PostgreSQL for. */
const asked: string[] = [];
let eventLoop: ReturnType<typeof watchEventLoop>;

function adapterOn(mappingJson: Record<string, unknown>): PostgresAdapter {
  return new PostgresAdapter({
    url: db.url,
    mapping: parsePostgresMapping(mappingJson),
    poolSize: 2,
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    logger: testLogger(),
  });
}

function registryOf(pg: PostgresAdapter): Registry {
  const adapter: RegistryAdapter = {
    kind: pg.kind,
    idPrefix: pg.idPrefix,
    open: () => pg.open(),
    close: () => pg.close(),
    check: () => pg.check(),
    get: (recordId) => pg.get(recordId),
    findBySerial: (serial, limit) => {
      asked.push(serial.pattern);
      return pg.findBySerial(serial, limit);
    },
  };
  return new Registry({
    adapters: [adapter],
    aliases: () => AliasTable.EMPTY,
    clock: systemClock,
    logger: testLogger(),
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  // The lookup tests' rifle, without events: only the serials matter here.
  const rows: WeaponRecord[] = ATTACK_SERIALS.map((serial) => ({
    ...stolenRifle({ serialNumber: serial }),
    events: [],
  }));
  await insertRegistryRecords(db, rows);
  registry = registryOf(adapterOn(exampleMappingJson()));
  await registry.open();
  // The pool's connections and the first rows read are made here, outside the watched tests.
  expect(serialsOf(await registry.search(rifleQuery({ serialNumber: ATTACK_HIT }), { limit: 0 }))).toEqual([
    ATTACK_HIT,
  ]);
});

afterAll(async () => {
  await registry?.close();
  await db?.drop();
});

beforeEach(() => {
  eventLoop = watchEventLoop();
});

afterEach(() => {
  eventLoop.stop();
});

const serialsOf = (records: readonly WeaponRecord[]) => records.map((r) => r.manufacture?.serialNumber);

describe('wildcard searches of a PostgreSQL registry with 40-character serials', { retry: WATCH_RETRIES }, () => {
  it.each(AT_LIMIT_PATTERNS)(
    `$pattern runs as LIKE within the statement timeout, without holding the event loop ${MAX_EVENT_LOOP_DELAY_MS} ms`,
    async ({ pattern, matches }) => {
      asked.length = 0;
      expect(serialsOf(await registry.search(rifleQuery({ serialNumber: pattern }), { limit: 1000 }))).toEqual(matches);
      expect(
        serialsOf(
          await registry.search(rifleQuery({ serialNumber: pattern, manufacturer: '' }), {
            serialOnly: true,
            limit: 1000,
          }),
        ),
      ).toEqual(matches);
      expect(asked).toHaveLength(2);
      expect(eventLoop.longestMs()).toBeLessThan(MAX_EVENT_LOOP_DELAY_MS);
    },
  );

  it.each(OVER_LIMIT_PATTERNS)(
    `a pattern with more than ${MAX_WILDCARDS} wildcards is refused before PostgreSQL is asked: %s`,
    async (pattern) => {
      asked.length = 0;
      await expect(registry.search(rifleQuery({ serialNumber: pattern }), { serialOnly: true })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'query.serial_number',
        rule: 'max_wildcards',
      });
      expect(asked).toEqual([]);
    },
  );
});

describe('the statement timeout of a PostgreSQL registry', () => {
  it('a search PostgreSQL cannot finish within the statement timeout fails UNAVAILABLE, and PostgreSQL answers the next one', async () => {
    // A view that takes a second per row stands for a match that runs away inside PostgreSQL.
    await db.pool.query('CREATE VIEW slow_weapons AS SELECT * FROM weapons WHERE pg_sleep(1)::text IS NOT NULL');
    const slow = registryOf(
      adapterOn({
        ...exampleMappingJson(),
        weapons: { ...(exampleMappingJson().weapons as object), table: 'slow_weapons' },
      }),
    );
    try {
      await slow.open();
      await expect(slow.search(rifleQuery({ serialNumber: 'FX*XYZ' }), { serialOnly: true })).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_UNAVAILABLE,
        message: expect.stringContaining('57014'),
      });
      expect(serialsOf(await registry.search(rifleQuery({ serialNumber: 'FX*XYZ' }), { serialOnly: true }))).toEqual([
        ATTACK_HIT,
      ]);
    } finally {
      await slow.close();
    }
  });
});
