/**
 * The Federation port's edge in one process, each limit set small so that it shows at once
 * (docs/protocol.md 2.5, 4.13, 5.1): only a pinned client certificate reaches gRPC; connections
 * over a cap and handshakes that do not finish are closed; a request still arriving is cancelled;
 * refusals before authentication become one audit entry per source and interval.
 */
import {
  connect as http2Connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type SecureClientSessionOptions,
} from 'node:http2';
import { connect as netConnect } from 'node:net';
import {
  ErrorCode,
  type ErrorDetail,
  GetPeerCardResponse,
  readErrorDetail,
  ReceiptBody,
  ReceiptStatus,
} from '@tracenet/proto';
import { Metadata } from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, Journal } from '../../src/audit/audit-log.js';
import { RefusalTally } from '../../src/federation/refusal-tally.js';
import { createSelfSignedCertificate, PEER_SERVER_NAME, type TlsMaterial } from '../../src/identity/tls.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { startNode, testConfig, testLogger, type TestNode, waitFor } from '../support/nodes.js';
import { makeParty, RawFederationClient, rejectionOf, sealFrom } from '../support/parties.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let outsider: TlsMaterial;
beforeAll(async () => {
  outsider = await createSelfSignedCertificate('DEU', 30);
});

/** BEL with `federation` limits, and FRA and KEN pinned on it. */
type Overrides = NonNullable<Parameters<typeof testConfig>[0]>;

async function bed(federation: Overrides['federation'] = {}, clock?: ManualClock, audit: Overrides['audit'] = {}) {
  const bel = await startNode('BEL', { config: testConfig({ federation, audit }), ...(clock ? { clock } : {}) });
  const [fra, ken] = await Promise.all([
    makeParty('FRA', clock?.now() ?? Date.now()),
    makeParty('KEN', clock?.now() ?? Date.now()),
  ]);
  cleanups.push(() => Promise.all([bel.cleanup(), fra.cleanup(), ken.cleanup()]).then(() => undefined));
  for (const party of [fra, ken]) await bel.node.peers.pin(party.card, clock?.now() ?? Date.now());
  return { bel, fra, ken };
}

/** An HTTP/2 session to BEL's Federation port presenting `client` (or no certificate) from `localAddress`. */
function session(
  bel: TestNode,
  client: TlsMaterial | undefined,
  localAddress = '127.0.0.1',
): { session: ClientHttp2Session; admitted: Promise<boolean> } {
  // localAddress goes on to tls.connect (the HTTP/2 typings do not list it).
  const options: SecureClientSessionOptions & { localAddress: string } = {
    ca: bel.node.identity.tls.certificatePem,
    ...(client ? { cert: client.certificatePem, key: client.privateKeyPem } : {}),
    servername: PEER_SERVER_NAME,
    checkServerIdentity: () => undefined,
    localAddress,
  };
  const s = http2Connect(`https://${bel.node.federationAddress}`, options);
  s.on('error', () => undefined);
  cleanups.push(async () => void s.destroy());
  // The node's SETTINGS frame means HTTP/2 is served; a close before it, that the handshake was refused.
  const admitted = new Promise<boolean>((resolve) => {
    s.once('remoteSettings', () => resolve(true));
    s.once('close', () => resolve(false));
  });
  return { session: s, admitted };
}

/** A gRPC request on `s` whose message announces `announced` bytes and sends `bytes` of them; ends it when all are sent. */
function grpcRequest(
  s: ClientHttp2Session,
  path: string,
  bytes: Buffer,
  announced = bytes.length,
): { stream: ClientHttp2Stream; status: Promise<{ code: number; detail: ErrorDetail | undefined; body: Buffer }> } {
  const stream = s.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(announced, 1);
  const chunks: Buffer[] = [];
  const status = new Promise<{ code: number; detail: ErrorDetail | undefined; body: Buffer }>((resolve, reject) => {
    let headers: Record<string, unknown> = {};
    const settle = (fields: Record<string, unknown>) => {
      const all = { ...headers, ...fields };
      if (all['grpc-status'] === undefined) return;
      const metadata = new Metadata();
      const details = all['grpc-status-details-bin'];
      if (typeof details === 'string') metadata.set('grpc-status-details-bin', Buffer.from(details, 'base64'));
      resolve({
        code: Number(all['grpc-status']),
        detail: readErrorDetail(metadata),
        body: Buffer.concat(chunks).subarray(5),
      });
    };
    stream.on('response', (h) => {
      headers = h;
      settle({});
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('trailers', settle);
    stream.on('error', reject);
  });
  stream.write(Buffer.concat([prefix, bytes]));
  if (bytes.length >= announced) stream.end();
  return { stream, status };
}

describe('who reaches gRPC (docs/protocol.md 2.5)', () => {
  it("an outsider's certificate and no certificate never reach gRPC; a pinned peer's certificate does, for every method", async () => {
    const { bel, fra } = await bed();
    let reached = 0;
    bel.node.receiver.on('rejected', () => (reached += 1));
    bel.node.lookups.responder.on('refused', () => (reached += 1));
    for (const [client, from] of [
      [outsider, '127.0.0.21'],
      [undefined, '127.0.0.22'],
    ] as const) {
      const { session: s, admitted } = session(bel, client, from);
      expect(await admitted).toBe(false);
      expect(s.closed || s.destroyed).toBe(true);
    }
    expect(reached).toBe(0);

    // FRA's certificate: GetPeerCard, health and Deliver are served.
    const { session: s, admitted } = session(bel, fra.identity.tls);
    expect(await admitted).toBe(true);
    const card = await grpcRequest(s, '/tracenet.v1.Federation/GetPeerCard', Buffer.alloc(0)).status;
    expect(card.code).toBe(0);
    expect(GetPeerCardResponse.decode(card.body).card).toBeDefined();
    expect((await grpcRequest(s, '/grpc.health.v1.Health/Check', Buffer.alloc(0)).status).code).toBe(0);
    const delivered = await grpcRequest(
      s,
      '/tracenet.v1.Federation/Deliver',
      sealFrom(fra.identity, bel.node.identity, Date.now()).bytes,
    ).status;
    expect(delivered.code).toBe(0);

    // The two refused handshakes are counted under their addresses (4.13).
    const before = await auditSize(bel);
    await bel.node.refusals.flush({ now: true });
    const counted = await lastAudit(bel, (await auditSize(bel)) - before);
    expect(counted).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'refusals.counted',
          source: '127.0.0.21',
          total: 1,
          'refused.tls.unpinned_certificate': 1,
        }),
        expect.objectContaining({
          type: 'refusals.counted',
          source: '127.0.0.22',
          total: 1,
          'refused.tls.no_certificate': 1,
        }),
      ]),
    );
  });

  it("a removed peer's certificate is no longer admitted (docs/protocol.md 2.4, 2.5)", async () => {
    const { bel, fra } = await bed();
    const fingerprint = bel.node.peers.get('FRA')?.body.tlsCertificateSha256 as Buffer;
    expect(bel.node.peers.byTlsFingerprint(fingerprint, Date.now())?.participantId).toBe('FRA');
    expect(await session(bel, fra.identity.tls, '127.0.0.23').admitted).toBe(true);
    await bel.node.peers.remove('FRA', Date.now());
    expect(bel.node.peers.byTlsFingerprint(fingerprint, Date.now())).toBeUndefined();
    expect(await session(bel, fra.identity.tls, '127.0.0.24').admitted).toBe(false);
    await bel.node.refusals.flush({ now: true });
    expect(await lastAudit(bel, 1)).toEqual([
      expect.objectContaining({
        type: 'refusals.counted',
        source: '127.0.0.24',
        total: 1,
        'refused.tls.unpinned_certificate': 1,
      }),
    ]);
  });
});

describe('connection limits', () => {
  it('closes connections over the cap per address at once and handshakes that do not finish in time', async () => {
    const { bel } = await bed({ maxConnectionsPerAddress: 2, handshakeTimeoutMs: 300 });
    const [host, port] = [
      bel.node.federationAddress.split(':')[0] as string,
      Number(bel.node.federationAddress.split(':')[1]),
    ];
    const lifetimes = await Promise.all(
      [0, 1, 2].map(
        (i) =>
          new Promise<number>((resolve) => {
            // Opened one after the other, so that the third is the one over the cap.
            setTimeout(() => {
              const socket = netConnect({ host, port, localAddress: '127.0.0.31' });
              let opened = 0;
              socket.on('connect', () => (opened = Date.now()));
              socket.on('error', () => undefined);
              socket.on('close', () => resolve(Date.now() - opened));
              cleanups.push(async () => void socket.destroy());
            }, i * 50);
          }),
      ),
    );
    // The first two lived about the handshake timeout; the third was closed at once.
    expect(lifetimes[0]).toBeGreaterThanOrEqual(250);
    expect(lifetimes[1]).toBeGreaterThanOrEqual(250);
    expect(lifetimes[2]).toBeLessThan(250);
  });

  it('admits a pinned peer up to its connection cap', async () => {
    const { bel, fra } = await bed({ maxConnectionsPerPeer: 1 });
    expect(await session(bel, fra.identity.tls).admitted).toBe(true);
    expect(await session(bel, fra.identity.tls, '127.0.0.41').admitted).toBe(false);
  });
});

describe('requests still arriving', () => {
  it('cancels a message not arrived in time and resets its stream; the other peers are not held up', async () => {
    const { bel, fra, ken } = await bed({ arrivalTimeoutMs: 500, maxArrivingPerPeer: 1 });
    const { session: s } = session(bel, ken.identity.tls);
    // KEN announces 1 MiB and sends 1 KiB of it.
    const stalled = grpcRequest(s, '/tracenet.v1.Federation/Deliver', Buffer.alloc(1024), 1024 * 1024);
    // FRA is not held up by KEN's stalled request.
    const client = new RawFederationClient(
      bel.node.federationAddress,
      bel.node.identity.tlsCertificatePem,
      fra.identity.tls,
    );
    cleanups.push(async () => client.close());
    const receipt = await client.deliver(sealFrom(fra.identity, bel.node.identity, Date.now()).bytes);
    expect(ReceiptBody.decode(receipt.body).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    // KEN's request ends DEADLINE_EXCEEDED (request, arrival_timeout), and its stream is reset.
    const answer = await stalled.status;
    expect(answer.code).toBe(4);
    expect(answer.detail).toMatchObject({
      code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
      field: 'request',
      rule: 'arrival_timeout',
    });
    await waitFor(() => stalled.stream.closed, 2000, 'the stalled stream reset');
    // The slot is free again: KEN's next request is served.
    const next = await grpcRequest(
      s,
      '/tracenet.v1.Federation/Deliver',
      sealFrom(ken.identity, bel.node.identity, Date.now()).bytes,
    ).status;
    expect(next.code).toBe(0);
  });

  it('a request waiting unread for an arriving slot is cancelled at the same timeout, counted from its start', async () => {
    const { bel, ken } = await bed({ arrivalTimeoutMs: 1000, maxArrivingPerPeer: 1 });
    const { session: s } = session(bel, ken.identity.tls);
    // The first stalled request takes KEN's one slot; the second waits for it, unread.
    const ended: number[] = [];
    const stalled = [0, 1].map(() =>
      grpcRequest(s, '/tracenet.v1.Federation/Deliver', Buffer.alloc(1024), 1024 * 1024),
    );
    const answers = await Promise.all(stalled.map((r) => r.status.then((answer) => (ended.push(Date.now()), answer))));
    for (const answer of answers) {
      expect(answer.code).toBe(4);
      expect(answer.detail).toMatchObject({
        code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
        field: 'request',
        rule: 'arrival_timeout',
      });
    }
    // Both end at about the same time: the wait for the slot counted against the waiting one's
    // timeout. Had its timer started only with the slot, it would end a whole timeout later.
    expect(Math.abs((ended[1] ?? 0) - (ended[0] ?? 0))).toBeLessThan(600);
  });

  it('refuses a message larger than envelope.maxBytes when its length arrives', async () => {
    const { bel, fra } = await bed();
    const client = new RawFederationClient(
      bel.node.federationAddress,
      bel.node.identity.tlsCertificatePem,
      fra.identity.tls,
    );
    cleanups.push(async () => client.close());
    const thrown = (await rejectionOf(client.deliver(Buffer.alloc(4 * 1024 * 1024 + 1)))) as {
      code: number;
      metadata: Metadata;
    };
    // RESOURCE_EXHAUSTED from gRPC itself: the message was not buffered up to the node's own check.
    expect(thrown.code).toBe(8);
    expect(readErrorDetail(thrown.metadata)).toBeUndefined();
  });
});

describe('refusals before authentication in the audit log (docs/protocol.md 4.13)', () => {
  it('a flood of junk adds one entry per source and interval; sources beyond the bound share one entry', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 30));
    const { bel, fra } = await bed({}, clock, { refusalSources: 3 });
    const client = new RawFederationClient(
      bel.node.federationAddress,
      bel.node.identity.tlsCertificatePem,
      fra.identity.tls,
    );
    cleanups.push(async () => client.close());
    const before = await auditSize(bel);
    for (let i = 0; i < 500; i += 1) await rejectionOf(client.deliver(Buffer.from([0x0a, 0xff, 0xff, i & 0xff])));
    // Unpinned certificates from six addresses.
    for (let i = 0; i < 6; i += 1) expect(await session(bel, outsider, `127.0.0.${51 + i}`).admitted).toBe(false);
    expect(await auditSize(bel)).toBe(before);

    // The minute ends: its entries are written, at most three sources apart and one `other`.
    clock.advance(30_000);
    await bel.node.refusals.flush();
    const written = await lastAudit(bel, (await auditSize(bel)) - before);
    expect(written).toHaveLength(4);
    const fromMs = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(written[0]).toMatchObject({
      type: 'refusals.counted',
      source: '127.0.0.1',
      peer: 'FRA',
      fromMs,
      untilMs: fromMs + 60_000,
      total: 500,
      'refused.MALFORMED.protobuf': 500,
    });
    expect(written.slice(1, 3).map((e) => e.source)).toEqual(['127.0.0.51', '127.0.0.52']);
    expect(written[3]).toMatchObject({ source: 'other', total: 4, 'refused.tls.unpinned_certificate': 4 });
    // The next minute is counted apart.
    await rejectionOf(client.deliver(Buffer.from([0x0a, 0xff])));
    await bel.node.refusals.flush({ now: true });
    expect(await lastAudit(bel, 1)).toEqual([expect.objectContaining({ fromMs: fromMs + 60_000, total: 1 })]);
  });

  it('writes the running interval at stop, and an interval written early is not counted twice', async () => {
    const clock = new ManualScheduler(Date.UTC(2026, 0, 1, 12, 0, 10));
    const written: AuditEvent[] = [];
    const journal = {
      write: async (_operations: unknown[], events: readonly AuditEvent[]) => void written.push(...events),
    } as unknown as Journal;
    const tally = new RefusalTally({
      journal,
      clock,
      logger: testLogger(),
      config: { intervalMs: 60_000, maxSources: 10 },
    });
    tally.count({ address: '192.0.2.1' }, 'tls.handshake_timeout');
    await tally.flush({ now: true });
    await clock.advance(20_000);
    tally.count({ address: '192.0.2.1' }, 'tls.handshake_timeout');
    tally.count({ address: '192.0.2.1' }, 'connection.max_connections');
    await tally.stop();
    const start = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(written.map((e) => e.fields)).toEqual([
      { source: '192.0.2.1', fromMs: start, untilMs: start + 10_000, total: 1, 'refused.tls.handshake_timeout': 1 },
      {
        source: '192.0.2.1',
        fromMs: start + 10_000,
        untilMs: start + 30_000,
        total: 2,
        'refused.connection.max_connections': 1,
        'refused.tls.handshake_timeout': 1,
      },
    ]);
  });

  it('writes an ended interval on its timer, without new refusals and without being asked', async () => {
    const clock = new ManualScheduler(Date.UTC(2026, 0, 1, 12, 0, 10));
    const written: AuditEvent[] = [];
    const journal = {
      write: async (_operations: unknown[], events: readonly AuditEvent[]) => void written.push(...events),
    } as unknown as Journal;
    const tally = new RefusalTally({
      journal,
      clock,
      logger: testLogger(),
      config: { intervalMs: 60_000, maxSources: 10 },
    });
    tally.start();
    tally.count({ address: '192.0.2.1' }, 'tls.handshake_timeout');
    // The interval ends at 12:01:00; the timer, started at 12:00:10, writes it at 12:01:10.
    await clock.advance(59_999);
    expect(written).toEqual([]);
    await clock.advance(1);
    const start = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(written.map((e) => e.fields)).toEqual([
      { source: '192.0.2.1', fromMs: start, untilMs: start + 60_000, total: 1, 'refused.tls.handshake_timeout': 1 },
    ]);
    await tally.stop();
    await clock.advance(10 * 60_000);
    expect(written).toHaveLength(1);
  });
});

async function auditSize(test: TestNode): Promise<number> {
  let n = 0;
  for await (const _ of test.node.store.audit.entries.keys()) n += 1;
  return n;
}

/** The last `count` audit entries, oldest first, as their parsed lines. */
async function lastAudit(test: TestNode, count: number): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  for await (const value of test.node.store.audit.entries.values({ reverse: true, limit: count }))
    lines.unshift(JSON.parse(String(value.line)) as Record<string, unknown>);
  return lines;
}
