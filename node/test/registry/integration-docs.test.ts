import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseState, TraceOutcome } from '@tracenet/proto';
import { startLocalFederation, type LocalFederation } from '../../src/dev/local-federation.js';
import { recordToJson } from '../../src/records/record-json.js';
import { createTestDatabase, EXAMPLE_MAPPING_PATH, type TestDatabase } from '../support/postgres.js';
import { FIXTURE } from './fixtures.js';

/**
 * docs/integration.md end to end: its example code, compiled by `npm run build`, run against
 * real node processes — BEL answering from the example registry in a real PostgreSQL server.
 */
const EXAMPLES = fileURLToPath(new URL('../../../docs/examples/integration/dist/', import.meta.url));
const run = promisify(execFile);

describe('docs/integration.md, step by step', () => {
  let db: TestDatabase;
  let federation: LocalFederation;
  beforeAll(async () => {
    if (!existsSync(join(EXAMPLES, 'send-trace.js'))) throw new Error(`${EXAMPLES} is not built: run npm run build`);
    db = await createTestDatabase({ seed: true });
    federation = await startLocalFederation({
      participants: ['FRA', 'BEL', 'KEN'],
      // Steps 3 and 4: BEL reads the example registry through the example mapping.
      nodeEnv: {
        BEL: {
          TRACENET_REGISTRY_ADAPTER: 'postgres',
          TRACENET_REGISTRY_POSTGRES_URL: db.url,
          TRACENET_REGISTRY_POSTGRES_MAPPING: EXAMPLE_MAPPING_PATH,
        },
      },
      // Step 6: BEL answers FRA's requests automatically.
      policies: [
        { of: 'BEL', policy: { participantId: 'FRA', acceptRequests: true, autoAcknowledge: true, autoAnswer: true } },
      ],
    });
  });
  afterAll(async () => {
    await federation?.stop();
    await db?.drop();
  });

  it('step 5: the node finds a registry weapon however its serial is written, with its transfers as events', async () => {
    const { records: found } = await federation.node('BEL').records.call('searchRecords', {
      query: { manufacturer: 'FN Herstal', serialNumber: 'FN-1998-0042', model: '', calibre: '', type: 0 },
      serialOnly: false,
      limit: 0,
    });
    expect(found).toHaveLength(1);
    expect(found[0]?.recordId).toBe('pg_1');
    expect(found[0]?.events.map((e) => [e.date, e.destination])).toEqual([
      ['1998-03-02', ''],
      ['1999-05-10', 'KEN'],
    ]);
  });

  it('step 7: the example case system sends a trace to BEL and gets the automatic answer from PostgreSQL', async () => {
    const fra = federation.node('FRA');
    const started = performance.now();
    const { stdout } = await run(process.execPath, [join(EXAMPLES, 'send-trace.js')], {
      env: {
        ...process.env,
        TRACENET_ADDRESS: fra.runtime.authority,
        TRACENET_TOKEN_FILE: join(fra.dataDir, 'keys', 'authority.token'),
        TRACE_TO: 'BEL',
        TRACE_MANUFACTURER: 'FN Herstal',
        TRACE_SERIAL: 'FN 1998-0042',
        TRACE_CALIBRE: '7.62x51mm',
        TRACE_MODEL: 'FAL',
        TRACE_WAIT_MS: '30000',
      },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    console.info(
      `send-trace.js: request to automatic answer from PostgreSQL in ${Math.round(performance.now() - started)} ms (process start included)`,
    );
    expect(result).toMatchObject({
      state: CaseState[CaseState.CASE_STATE_ANSWERED],
      outcome: TraceOutcome[TraceOutcome.TRACE_OUTCOME_REFERRED],
      automatic: true,
      referral: 'KEN',
      lastLegalRecord: expect.stringContaining('exported 1999-05-10 to KEN'),
    });
  });

  it('section 6: a node loads the example adapter module and searches the records it gives', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracenet-my-registry-'));
    const exportFile = join(dir, 'export.json');
    await writeFile(exportFile, JSON.stringify([{ id: 'fal-1', record: recordToJson(FIXTURE.fal) }]));
    const own = await startLocalFederation({
      participants: ['NLD'],
      env: {
        TRACENET_REGISTRY_ADAPTER: 'module',
        TRACENET_REGISTRY_MODULE: join(EXAMPLES, 'my-adapter.js'),
        MY_REGISTRY_FILE: exportFile,
      },
    });
    const { records } = own.node('NLD');
    try {
      const { records: found } = await records.call('searchRecords', {
        query: { manufacturer: 'FN Herstal', serialNumber: 'fn19980042', model: '', calibre: '', type: 0 },
        serialOnly: false,
        limit: 0,
      });
      expect(found.map((r) => r.recordId)).toEqual(['my_fal-1']);
      expect(found[0]?.events).toEqual(FIXTURE.fal.events);
      const { record } = await records.call('getRecord', { recordId: 'my_fal-1' });
      expect(record?.manufacture?.serialNumber).toBe('FN-1998-0042');
    } finally {
      await own.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
