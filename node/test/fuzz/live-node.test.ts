/**
 * Fuzzing a live node (issue 8): a `tracenet start` process on loopback gets TRACENET_FUZZ_COUNT
 * (default 100 000) generated requests over real gRPC — random bytes, mutated valid envelopes
 * (bit flips, truncation, swapped fields), envelopes sealed correctly around hostile headers,
 * unknown kinds and bodies of no or the wrong type, huge fields, replays and fresh valid messages
 * to Deliver; and Authority, Cases, Records and Lookups calls built with the generated types'
 * `fromPartial` from random values, or raw bytes, with a valid, missing or wrong token.
 *
 * Properties: the node never crashes (alive and health SERVING afterwards); every answer is a
 * receipt or a gRPC status carrying a typed `ErrorDetail` whose code is one of the closed set
 * (docs/errors.md) and travels with that code's gRPC status — never UNKNOWN or INTERNAL; the
 * node's resident memory stays within a stated bound. Generation is fast-check with a fixed seed
 * (printed, and TRACENET_FUZZ_SEED to replay); failing inputs are shrunk by fast-check and printed.
 */
import {
  credentials,
  type Client,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
  status as GrpcStatus,
} from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import {
  ERROR_CODES,
  ErrorCode,
  errorCodeName,
  readErrorDetail,
  Receipt,
  ReceiptBody,
  ReceiptStatus,
} from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initSodium } from '../../src/crypto/sodium.js';
import { dataPaths, loadIdentity, readAuthorityToken, type NodeIdentity } from '../../src/identity/data-dir.js';
import { isAlive, mapLimit, ProcessBed, type NodeProcess } from '../integration/processes.js';
import { makeParty, RawFederationClient, sealFrom, type Party } from '../support/parties.js';
import { checkHealth, SERVING } from '../storage/health-client.js';
import {
  authorityCase,
  BASE_ENVELOPES,
  buildAuthority,
  buildDeliver,
  deliverCase,
  hugeCase,
  unaryMethods,
  type AuthorityCase,
  type DeliverCase,
  type DeliverContext,
  type UnaryMethod,
} from './arbitraries.js';

const SEED = Number(process.env.TRACENET_FUZZ_SEED ?? 20_261_127);
const COUNT = Number(process.env.TRACENET_FUZZ_COUNT ?? 100_000);
/** Share of Deliver requests; the rest go to the Authority port. */
const DELIVER_SHARE = 0.7;
const CONCURRENCY = 96;
/**
 * Growth of the node's resident memory allowed between the end of the warm-up and its sustained
 * peak: the highest level it held for a whole second ({@link SUSTAINED} samples 200 ms apart). A
 * spike shorter than that is the garbage collector's timing on a loaded machine, not memory the
 * node keeps; a leak holds every level it reaches. The level is the working set of the random mix
 * of methods, which every new Authority method changes: 118 MiB with the methods of issue 8,
 * 145–153 before issue 19's six Cases and Records methods, 157–162 with them on an idle machine
 * (149 with them left out) and 160.5 in a clean-clone run. The level moves with V8's heap sizing
 * (RSS rises in ramps of up to 122 MiB and falls by up to 54 at major collections, in two sampled
 * runs): 130–149 MiB in four idle runs of 2026-12-06, 176 in that day's CI run — too close to the
 * 180 MiB bound of then. The bound keeps a quarter above the highest level seen; retention is the
 * soak test's slope; docs/reliability.md.
 */
const RSS_GROWTH_BOUND_MIB = 224;
const SUSTAINED = 5;
/** Requests before the memory baseline is taken (V8 and LevelDB caches fill up first). */
const WARM_UP = Math.min(5_000, Math.floor(COUNT / 10));
/** Methods not fuzzed: they change the node's own keys, roster or pins (which would turn every later valid envelope into a rejection), or scan the whole log per call. */
const EXCLUDED = new Set(['verifyAudit', 'rotateKeys', 'revokeKeys', 'loadRoster', 'removePeer']);

/** Huge envelopes (megabytes each) sent after the bulk, two at a time; part of COUNT. */
const HUGE = 24;

/** Codes whose gRPC status is not UNKNOWN or INTERNAL: what a node may answer. */
const ANSWERABLE = new Set(
  Object.entries(ERROR_CODES)
    .filter(([, info]) => info.grpc !== GrpcStatus.UNKNOWN && info.grpc !== GrpcStatus.INTERNAL)
    .map(([code]) => Number(code)),
);

const bed = new ProcessBed();
let node: NodeProcess;
let identity: NodeIdentity;
let party: Party;
let token: string;

/** A violation of the properties by one request. */
interface Finding {
  readonly index: number;
  readonly what: string;
  readonly input: string;
  readonly problem: string;
}

/** Checks one answer; returns the problem, or undefined when it is a receipt or a typed, documented error. */
function judge(error: ServiceError | undefined, size: number, maxBytes: number): string | undefined {
  if (!error) return undefined;
  // Documented (errors.md, ENVELOPE_TOO_LARGE; protocol 5.1): above maxBytes grpc-js itself refuses, without a detail.
  if (error.code === GrpcStatus.RESOURCE_EXHAUSTED && size > maxBytes) return undefined;
  const detail = readErrorDetail(error.metadata);
  if (!detail) return `status ${GrpcStatus[error.code]} without a Tracenet detail: ${error.details}`;
  if (!ANSWERABLE.has(detail.code))
    return `code ${errorCodeName(detail.code)} (${detail.code}) is not an answerable documented code: ${detail.message}`;
  const expected = ERROR_CODES[detail.code as keyof typeof ERROR_CODES].grpc;
  if (error.code !== expected)
    return `code ${errorCodeName(detail.code)} came with status ${GrpcStatus[error.code]}, documented ${GrpcStatus[expected]}`;
  return undefined;
}

const Generic = makeGenericClientConstructor({}, 'Authority');

function callRaw(client: Client, path: string, bytes: Buffer, metadata: Metadata): Promise<ServiceError | undefined> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      metadata,
      { deadline: Date.now() + 30_000 },
      (error: ServiceError | null) => resolve(error ?? undefined),
    );
  });
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

beforeAll(async () => {
  await initSodium();
  const dataDir = await bed.init('KEN');
  identity = await loadIdentity(dataDir);
  party = await makeParty('FRA', Date.now());
  await bed.cliOk(['peers', 'add', dataPaths(party.dataDir).card, '--data', dataDir]);
  token = await readAuthorityToken(dataDir);
  // Quiet logs: the test process keeps a node's whole stdout in memory. Durable writes stay on.
  node = await bed.start(dataDir, {
    env: {
      TRACENET_LOG_LEVEL: 'error',
      ...(process.env.TRACENET_FUZZ_SYNC === 'false' ? { TRACENET_STORE_SYNC: 'false' } : {}),
    },
  });
});

afterAll(async () => {
  await bed.cleanup();
  await party?.cleanup();
});

describe('fuzzing a live node', () => {
  it(`answers ${COUNT} generated requests with receipts or typed errors, without crashing or growing`, async () => {
    const seedNote = `seed ${SEED} (replay: TRACENET_FUZZ_SEED=${SEED} TRACENET_FUZZ_COUNT=${COUNT})`;
    const maxBytes = 4 * 1024 * 1024;
    const methods: UnaryMethod[] = unaryMethods(EXCLUDED);
    const bases = Array.from({ length: BASE_ENVELOPES }, () => sealFrom(party.identity, identity, Date.now()));
    const ctx: DeliverContext = {
      from: party.identity,
      to: identity,
      bases: bases.map((b) => b.envelope),
      baseBytes: bases.map((b) => b.bytes),
    };

    const generatedAt = Date.now();
    const deliverCount = Math.round(COUNT * DELIVER_SHARE);
    const delivers = fc.sample(deliverCase, { seed: SEED, numRuns: deliverCount - HUGE });
    const huge = fc.sample(hugeCase, { seed: SEED + 2, numRuns: HUGE });
    const calls = fc.sample(authorityCase(methods.length), { seed: SEED + 1, numRuns: COUNT - deliverCount });
    // Interleaved, so that both ports are under load at once.
    const work: Array<{ index: number } & ({ d: DeliverCase } | { a: AuthorityCase })> = [];
    for (let i = 0, j = 0; i < delivers.length || j < calls.length; ) {
      if (i < delivers.length) work.push({ index: work.length, d: delivers[i++] as DeliverCase });
      if (i < delivers.length) work.push({ index: work.length, d: delivers[i++] as DeliverCase });
      if (j < calls.length) work.push({ index: work.length, a: calls[j++] as AuthorityCase });
    }
    const generationMs = Date.now() - generatedAt;

    const federation = Array.from(
      { length: 4 },
      () => new RawFederationClient(node.runtime.federation, identity.tlsCertificatePem, party.identity.tls),
    );
    const authority = Array.from(
      { length: 2 },
      () =>
        new Generic(node.runtime.authority, credentials.createInsecure(), {
          'grpc.max_send_message_length': -1,
        }) as Client,
    );
    const metadataOf = (kind: AuthorityCase['token']) => {
      const metadata = new Metadata();
      if (kind === 'valid') metadata.set('authorization', `Bearer ${token}`);
      if (kind === 'wrong') metadata.set('authorization', `Bearer ${'x'.repeat(token.length)}`);
      return metadata;
    };

    const findings: Finding[] = [];
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    const samples: number[] = [];
    let done = 0;

    const deliver = async (index: number, c: DeliverCase) => {
      const bytes = buildDeliver(c, ctx);
      const client = federation[index % federation.length] as RawFederationClient;
      let error: ServiceError | undefined;
      try {
        const receipt: Receipt = await client.deliver(bytes);
        count(`deliver ${ReceiptStatus[ReceiptBody.decode(receipt.body).status]}`);
      } catch (e) {
        error = e as ServiceError;
        const detail = readErrorDetail(error.metadata);
        count(`deliver ${detail ? errorCodeName(detail.code) : GrpcStatus[error.code]}`);
      }
      const problem = judge(error, bytes.length, maxBytes);
      const input = JSON.stringify(c, (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
      ).slice(0, 600);
      if (problem) findings.push({ index, what: `Deliver ${c.t}`, input, problem });
      done += 1;
    };

    const run = async (item: (typeof work)[number]) => {
      const { index } = item;
      if ('d' in item) {
        await deliver(index, item.d);
        return;
      }
      const method = methods[item.a.method] as UnaryMethod;
      const bytes = buildAuthority(item.a, method);
      const error = await callRaw(
        authority[index % authority.length] as Client,
        method.path,
        bytes,
        metadataOf(item.a.token),
      );
      const detail = error ? readErrorDetail(error.metadata) : undefined;
      count(`authority ${error ? (detail ? errorCodeName(detail.code) : GrpcStatus[error.code]) : 'OK'}`);
      const problem = judge(error, bytes.length, maxBytes);
      if (problem)
        findings.push({
          index,
          what: `${method.path} token=${item.a.token}`,
          input: bytes.toString('hex').slice(0, 600),
          problem,
        });
      done += 1;
    };

    const started = Date.now();
    // The warm-up runs to its end on its own, and the baseline is read once after it: whatever the
    // count and however fast the requests go, it is never left at 0 or taken during the warm-up.
    let baseline = 0;
    let sampler: NodeJS.Timeout | undefined;
    const sample = () =>
      rssKiB(node.pid).then(
        (kib) => void samples.push(kib),
        () => undefined,
      );
    try {
      await mapLimit(work.slice(0, WARM_UP), CONCURRENCY, run);
      baseline = await rssKiB(node.pid);
      sampler = setInterval(() => void sample(), 200);
      await mapLimit(work.slice(WARM_UP), CONCURRENCY, run);
      await mapLimit(huge, 2, (c) => deliver(work.length, c));
      // At least one sample after the bulk, however short the run.
      await sample();
    } finally {
      clearInterval(sampler);
      for (const c of federation) c.close();
      for (const c of authority) c.close();
    }
    const elapsedMs = Date.now() - started;
    const peak = Math.max(baseline, ...samples);
    const held = samples
      .map((_, i) => Math.min(...samples.slice(i, i + SUSTAINED)))
      .slice(0, Math.max(1, samples.length - SUSTAINED + 1));
    const sustained = Math.max(baseline, ...held);
    const growthMiB = (sustained - baseline) / 1024;

    console.log(
      [
        `fuzz: ${done} requests (${deliverCount} Deliver, ${COUNT - deliverCount} Authority-port) in ${(elapsedMs / 1000).toFixed(1)} s = ${Math.round(done / (elapsedMs / 1000))}/s; generated in ${generationMs} ms; ${seedNote}`,
        `fuzz: node RSS after warm-up ${(baseline / 1024).toFixed(0)} MiB, peak ${(peak / 1024).toFixed(0)} MiB, held for 1 s ${(sustained / 1024).toFixed(0)} MiB, growth ${growthMiB.toFixed(0)} MiB (bound ${RSS_GROWTH_BOUND_MIB} MiB, ${samples.length} samples)`,
        `fuzz: outcomes ${JSON.stringify(Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])))}`,
      ].join('\n'),
    );

    // The node is alive and serving.
    expect(isAlive(node.pid), `node died: ${node.tail()}`).toBe(true);
    expect(node.running).toBe(true);
    expect(await checkHealth(node.runtime.authority)).toBe(SERVING);
    // Valid input is still accepted after all that.
    const after = new RawFederationClient(node.runtime.federation, identity.tlsCertificatePem, party.identity.tls);
    try {
      const receipt = await after.deliver(sealFrom(party.identity, identity, Date.now()).bytes);
      expect(ReceiptBody.decode(receipt.body).status).toBe(ReceiptStatus.RECEIPT_STATUS_ACCEPTED);
    } finally {
      after.close();
    }

    if (findings.length > 0) {
      const byProblem = new Map<string, Finding[]>();
      for (const f of findings) {
        const key = `${f.what.split(' token=')[0] ?? f.what}: ${f.problem.replace(/: .*/, '')}`;
        byProblem.set(key, [...(byProblem.get(key) ?? []), f]);
      }
      const report = [...byProblem].map(
        ([key, list]) =>
          `${list.length} × ${key}\n  first: #${list[0]?.index} ${list[0]?.problem}\n  input: ${list[0]?.input}`,
      );
      expect.fail(
        `${findings.length} requests broke the properties (${seedNote}):\n${report.join('\n')}\nnode log tail:\n${node.tail(10)}`,
      );
    }
    expect(growthMiB, `resident memory grew ${growthMiB.toFixed(0)} MiB`).toBeLessThan(RSS_GROWTH_BOUND_MIB);
    expect(done).toBe(COUNT);
    expect(outcomes.get('deliver RECEIPT_STATUS_ACCEPTED') ?? 0).toBeGreaterThan(0);
  }, 900_000);

  it('answers short random Deliver bytes with typed errors (fast-check shrinks a failing input)', async () => {
    const client = new RawFederationClient(node.runtime.federation, identity.tlsCertificatePem, party.identity.tls);
    try {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
          const error = await client.deliver(bytes).then(
            () => undefined,
            (e: unknown) => e as ServiceError,
          );
          const problem = judge(error, bytes.length, 4 * 1024 * 1024);
          if (problem) throw new Error(problem);
        }),
        { seed: SEED, numRuns: 200 },
      );
    } finally {
      client.close();
    }
  });

  // Bugs this fuzzer found, fixed, kept as reproductions.
  it('GetNodeInfo with request bytes that do not decode answers a typed MALFORMED (grpc-js alone answers INTERNAL, no detail)', async () => {
    const client = new Generic(node.runtime.authority, credentials.createInsecure()) as Client;
    try {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      // Field 15, wire type 7: no valid protobuf.
      const error = await callRaw(client, '/tracenet.v1.Authority/GetNodeInfo', Buffer.from([0x7f]), metadata);
      expect(error?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(readErrorDetail(error?.metadata)?.code).toBe(ErrorCode.ERROR_CODE_MALFORMED);
    } finally {
      client.close();
    }
  });

  it('concurrent Records.LoadAliases calls all succeed or fail typed (they raced on aliases.csv.tmp and answered INTERNAL)', async () => {
    const client = new Generic(node.runtime.authority, credentials.createInsecure()) as Client;
    try {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      const methods = unaryMethods(new Set());
      const load = methods.find((m) => m.path === '/tracenet.v1.Records/LoadAliases');
      if (!load) throw new Error('no LoadAliases');
      const request = Buffer.from(load.request.encode(load.request.fromPartial({})).finish());
      const errors = await Promise.all(Array.from({ length: 16 }, () => callRaw(client, load.path, request, metadata)));
      for (const error of errors) expect(judge(error, request.length, 4 * 1024 * 1024)).toBeUndefined();
    } finally {
      client.close();
    }
  });
});
