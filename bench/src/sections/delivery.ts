import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, credentials, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';
import { initDataDir, loadIdentity } from '@tracenet/node';
import { startLocalFederation } from '@tracenet/node/dev';
import { ask, forkScript, nextMessage, stopChild } from '../child.js';
import { ECHO_METHOD } from '../dataset.js';
import { closedLoop, type LoadResult } from '../load.js';
import { noticeSealer } from '../notices.js';
import { cpuTimeMs } from '../proc.js';
import type { Sizes } from '../sizes.js';
import { round, target, type Target } from '../stats.js';

const DELIVER_METHOD = '/tracenet.v1.Federation/Deliver';
const Generic = makeGenericClientConstructor({}, 'Bench');
const passthrough = (b: Buffer) => b;

/** One server at one concurrency: the load result and the server's CPU time per request. */
export interface ServerRun extends LoadResult {
  readonly serverCpuMs: number;
  readonly serverCpuUsPerRequest: number;
  /**
   * CPU time of the bench process (the grpc-js client and the load loop) per answered request: it
   * shares the two cores with the server, so the requests/s ratio depends on it too.
   */
  readonly clientCpuUsPerRequest: number;
}

export interface DeliveryLevel {
  readonly concurrency: number;
  readonly raw: ServerRun;
  readonly secure: ServerRun;
  /** secure requests/s ÷ raw requests/s. */
  readonly ratio: number;
}

export interface DeliveryResult {
  readonly transport: string;
  readonly generator: string;
  readonly envelopeBytes: number;
  readonly nodeStoreSync: boolean;
  /** Requests sent and not counted before each measured run. */
  readonly warmup: number;
  readonly levels: readonly DeliveryLevel[];
  readonly targets: readonly Target[];
}

/** A client trusting `serverCertificatePem` and presenting `presented` (the node admits pinned certificates only). */
function client(
  address: string,
  serverCertificatePem: string,
  presented: { tlsCertificatePem: string; tlsPrivateKeyPem: string },
): Client {
  const tls = credentials.createSsl(
    Buffer.from(serverCertificatePem),
    Buffer.from(presented.tlsPrivateKeyPem),
    Buffer.from(presented.tlsCertificatePem),
  );
  return new Generic(address, tls, {
    'grpc.ssl_target_name_override': 'localhost',
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
  });
}

function unary(c: Client, method: string, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    c.makeUnaryRequest(
      method,
      passthrough,
      passthrough,
      bytes,
      new Metadata(),
      { deadline: Date.now() + 30_000 },
      (error: ServiceError | null, answer?: Buffer) =>
        error ? reject(error) : answer ? resolve(answer) : reject(new Error('empty answer')),
    );
  });
}

/**
 * Secure delivery vs raw gRPC (docs/benchmarks.md, section 1). The secure server is a real node
 * process (`tracenet start`, TLS, its default store.sync on) receiving `Federation.Deliver` of
 * Notice envelopes from a pinned sender that exists only as keys: each request is verified,
 * opened, stored with its audit entry and answered with a signed receipt. The raw server is a
 * grpc-js echo server over TLS in its own process. The same grpc-js client and closed-loop load
 * generator (this process) drive both with payloads of the same size; envelopes are sealed before
 * the run, each with its own message id. Server CPU: /proc/<pid>/stat for the node,
 * `process.cpuUsage()` reported by the echo server.
 */
export async function benchDelivery(sizes: Sizes, log: (line: string) => void): Promise<DeliveryResult> {
  const { levels, requests, warmup, bodyBytes } = sizes.delivery;
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-bench-delivery-'));
  const federation = await startLocalFederation({ participants: ['BEL'], baseDir: join(dir, 'nodes') }).catch(
    async (error: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw error;
    },
  );
  const echo = { child: undefined as ReturnType<typeof forkScript> | undefined };
  try {
    const bel = federation.node('BEL');
    const recipient = await loadIdentity(bel.dataDir);
    const { identity: sender, card } = await initDataDir({
      dataDir: join(dir, 'sender'),
      participantId: 'FRA',
      endpoints: ['127.0.0.1:1'],
      nowMs: Date.now(),
    });
    await bel.authority.call('addPeer', { card, replaceKeys: false });
    const seal = noticeSealer(sender, recipient, bodyBytes);
    const total = levels.reduce((n, c) => n + (requests[c] ?? 0) + warmup, 0);
    const sealStarted = performance.now();
    const envelopes = Array.from({ length: total }, () => seal().bytes);
    log(
      `  sealed ${total} unique envelopes of ${envelopes[0]?.length ?? 0} bytes in ${((performance.now() - sealStarted) / 1000).toFixed(1)} s`,
    );

    await writeFile(join(dir, 'echo.crt'), sender.tlsCertificatePem);
    await writeFile(join(dir, 'echo.key'), sender.tlsPrivateKeyPem, { mode: 0o600 });
    echo.child = forkScript('echo-server.js', [join(dir, 'echo.crt'), join(dir, 'echo.key')]);
    const { port } = await nextMessage<{ type: 'listening'; port: number }>(echo.child, 'listening', 30_000);
    const echoChild = echo.child;
    const echoCpu = async () => {
      const { usage } = await ask<{ type: 'cpu'; usage: NodeJS.CpuUsage }>(echoChild, { type: 'cpu' });
      return (usage.user + usage.system) / 1000;
    };
    const rawClient = client(`127.0.0.1:${port}`, sender.tlsCertificatePem, sender);
    const secureClient = client(bel.runtime.federation, recipient.tlsCertificatePem, sender);
    const nodePid = bel.runtime.pid;

    let used = 0;
    const run = async (concurrency: number, kind: 'raw' | 'secure'): Promise<ServerRun> => {
      const base = used;
      if (kind === 'secure') used += (requests[concurrency] ?? 0) + warmup;
      const cpu = kind === 'raw' ? echoCpu : async () => cpuTimeMs(nodePid);
      let cpuStart = 0;
      let clientStart = process.cpuUsage();
      const result = await closedLoop(
        {
          concurrency,
          requests: requests[concurrency] ?? 0,
          warmup,
          onMeasureStart: async () => {
            cpuStart = await cpu();
            clientStart = process.cpuUsage();
          },
        },
        (i) => {
          const bytes = envelopes[base + i];
          if (!bytes) throw new Error('ran out of sealed envelopes');
          return kind === 'raw' ? unary(rawClient, ECHO_METHOD, bytes) : unary(secureClient, DELIVER_METHOD, bytes);
        },
      );
      const client = process.cpuUsage(clientStart);
      const serverCpuMs = (await cpu()) - cpuStart;
      const answered = Math.max(1, result.requests - result.errors);
      return {
        ...result,
        serverCpuMs: round(serverCpuMs, 0),
        serverCpuUsPerRequest: round((serverCpuMs * 1000) / answered, 0),
        clientCpuUsPerRequest: round((client.user + client.system) / answered, 0),
      };
    };

    const results: DeliveryLevel[] = [];
    for (const concurrency of levels) {
      const raw = await run(concurrency, 'raw');
      const secure = await run(concurrency, 'secure');
      const ratio = round(secure.requestsPerSecond / raw.requestsPerSecond, 3);
      log(
        `  c=${String(concurrency).padStart(2)}  raw ${raw.requestsPerSecond} req/s p99 ${raw.latency.p99Ms} ms, ${raw.serverCpuUsPerRequest} µs CPU/req (client ${raw.clientCpuUsPerRequest}) | ` +
          `secure ${secure.requestsPerSecond} req/s p99 ${secure.latency.p99Ms} ms, ${secure.serverCpuUsPerRequest} µs CPU/req (client ${secure.clientCpuUsPerRequest})${secure.errors ? ` (${secure.errors} errors: ${secure.firstError})` : ''} | ratio ${ratio}`,
      );
      results.push({ concurrency, raw, secure, ratio });
    }
    rawClient.close();
    secureClient.close();
    const at16 = results.find((l) => l.concurrency === 16);
    return {
      transport: 'TLS (both servers), loopback',
      generator: 'one grpc-js client in the bench process, closed loop',
      envelopeBytes: envelopes[0]?.length ?? 0,
      nodeStoreSync: true,
      warmup,
      levels: results,
      targets: [
        target(
          'secure / raw server CPU per request at concurrency 16',
          at16 ? round(at16.secure.serverCpuUsPerRequest / at16.raw.serverCpuUsPerRequest, 2) : undefined,
          '<=',
          3,
          '×',
        ),
        target('secure / raw requests/s at concurrency 16', at16?.ratio, '>=', 0.6, ''),
      ],
    };
  } finally {
    if (echo.child) await stopChild(echo.child);
    await federation.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
