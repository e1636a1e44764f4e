import { type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  ErrorCode,
  LookupsClient,
  type LookupsServer,
  PeerPolicy,
  RecordsClient,
  type RecordsServer,
  TracenetError,
  type WeaponRecord,
} from '@tracenet/proto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { MAX_WILDCARDS } from '../../src/records/serial-pattern.js';
import { startNode, type TestNode } from '../support/nodes.js';
import { makeParty, type Party, RawFederationClient, rejectionOf } from '../support/parties.js';
import {
  AT_LIMIT_PATTERNS,
  ATTACK_HIT,
  ATTACK_SERIALS,
  MAX_EVENT_LOOP_DELAY_MS,
  WATCH_RETRIES,
  openAnswer,
  OVER_LIMIT_PATTERNS,
  queryBody,
  rifleQuery,
  sealQuery,
  stolenRifle,
  theftReport,
  watchEventLoop,
} from './support.js';

/**
 * Issue 14 section 2: a serial pattern used to become a backtracking regular expression, and one
 * lookup with `*?` repeated and a trailing literal held the event loop for seconds. Here a real
 * node (LevelDB, gRPC over TLS) in this process holds 200 records of interest with 40-character
 * serials and is sent patterns at the wildcard limit through `Federation/Lookup` and the Authority
 * API, while `monitorEventLoopDelay` watches the process that hosts the node.
 */

let bel: TestNode;
let fra: Party;
let federation: RawFederationClient;
let records: UnaryClient<RecordsServer>;
let lookups: UnaryClient<LookupsServer>;
let eventLoop: ReturnType<typeof watchEventLoop>;

beforeAll(async () => {
  bel = await startNode('BEL');
  fra = await makeParty('FRA', Date.now());
  await bel.node.peers.pin(fra.card, Date.now());
  await bel.node.policies.set(
    PeerPolicy.fromPartial({ participantId: 'FRA', allowLookups: true, lookupsPerMinute: 1000 }),
  );
  const rows: WeaponRecord[] = ATTACK_SERIALS.map((serial) => ({
    ...stolenRifle({ serialNumber: serial }),
    interest: theftReport(),
  }));
  await bel.node.records.putMany(rows, { importId: 'wildcard-attacks', batch: 0 });
  federation = new RawFederationClient(
    bel.node.federationAddress,
    bel.node.identity.tlsCertificatePem,
    fra.identity.tls,
  );
  const token = await readAuthorityToken(bel.dataDir);
  records = connectUnary<RecordsServer>(RecordsClient, bel.node.authorityAddress, token);
  lookups = connectUnary<LookupsServer>(LookupsClient, bel.node.authorityAddress, token);
  // Connections, TLS handshakes and first calls are made here, outside the watched tests.
  expect(await lookUp(`${ATTACK_HIT.slice(0, 10)}*`)).toEqual([ATTACK_HIT]);
  expect(
    (
      await records.call('searchRecords', {
        query: rifleQuery({ serialNumber: ATTACK_HIT }),
        serialOnly: false,
        limit: 0,
      })
    ).records,
  ).toHaveLength(1);
});

afterAll(async () => {
  federation?.close();
  records?.close();
  lookups?.close();
  await bel?.cleanup();
  await fra?.cleanup();
});

beforeEach(() => {
  eventLoop = watchEventLoop();
});

afterEach(() => {
  eventLoop.stop();
});

/** FRA's lookup of the rifle with `serial` through BEL's Federation port: the serials of the hits (all partial). */
async function lookUp(serial: string): Promise<string[]> {
  const sealed = sealQuery(
    fra.identity,
    bel.node.identity,
    Date.now(),
    queryBody(rifleQuery({ serialNumber: serial })),
  );
  const answer = openAnswer(await federation.lookup(sealed.bytes), fra.identity, bel.node.identity).answer;
  expect(answer.hits.every((h) => h.partial)).toBe(true);
  const ids = await Promise.all(answer.hits.map((h) => bel.node.records.recordIdOfReference(h.reference)));
  const found = await Promise.all(ids.map((id) => bel.node.records.get(id ?? '')));
  return found.map((r) => r?.manufacture?.serialNumber ?? '');
}

describe('wildcard lookups against 40-character serials', { retry: WATCH_RETRIES }, () => {
  it.each(AT_LIMIT_PATTERNS)(
    `Federation/Lookup with $pattern answers without holding the event loop ${MAX_EVENT_LOOP_DELAY_MS} ms`,
    async ({ pattern, matches }) => {
      expect(await lookUp(pattern)).toEqual(matches);
      expect(eventLoop.longestMs()).toBeLessThan(MAX_EVENT_LOOP_DELAY_MS);
    },
  );

  it.each(AT_LIMIT_PATTERNS)(
    `Records/SearchRecords with $pattern answers without holding the event loop ${MAX_EVENT_LOOP_DELAY_MS} ms`,
    async ({ pattern, matches }) => {
      const identity = await records.call('searchRecords', {
        query: rifleQuery({ serialNumber: pattern }),
        serialOnly: false,
        limit: 1000,
      });
      const serialOnly = await records.call('searchRecords', {
        query: rifleQuery({ serialNumber: pattern, manufacturer: '' }),
        serialOnly: true,
        limit: 1000,
      });
      expect(identity.records.map((r) => r.manufacture?.serialNumber)).toEqual(matches);
      expect(serialOnly.records.map((r) => r.manufacture?.serialNumber)).toEqual(matches);
      expect(eventLoop.longestMs()).toBeLessThan(MAX_EVENT_LOOP_DELAY_MS);
    },
  );

  it.each(OVER_LIMIT_PATTERNS)(
    `a pattern with more than ${MAX_WILDCARDS} wildcards is refused with INVALID_FIELD, rule max_wildcards: %s`,
    async (pattern) => {
      const refused = (await rejectionOf(lookUp(pattern))) as ServiceError;
      expect(refused.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(TracenetError.from(refused)).toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'body.weapon.serial_number',
        rule: 'max_wildcards',
      });

      for (const serialOnly of [false, true]) {
        const search = records.call('searchRecords', {
          query: rifleQuery({ serialNumber: pattern }),
          serialOnly,
          limit: 0,
        });
        await expect(search).rejects.toMatchObject({
          code: ErrorCode.ERROR_CODE_INVALID_FIELD,
          field: 'query.serial_number',
          rule: 'max_wildcards',
        });
      }
      const lookup = lookups.call('lookup', {
        weapon: rifleQuery({ serialNumber: pattern }),
        purpose: 'seizure, case 2026/118',
        peers: [],
        deadlineMs: 0,
        requestingAuthority: '',
      });
      await expect(lookup).rejects.toMatchObject({
        code: ErrorCode.ERROR_CODE_INVALID_FIELD,
        field: 'weapon.serial_number',
        rule: 'max_wildcards',
      });
      expect(eventLoop.longestMs()).toBeLessThan(MAX_EVENT_LOOP_DELAY_MS);
    },
  );
});
