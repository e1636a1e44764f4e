import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ErrorCode, MessageKind, TracenetError } from '@tracenet/proto';
import type { AuditDamageKind } from '../audit/verify.js';
import type { AdapterStatus, RegistryCall } from '../registry/monitor.js';
import { hostAndPort, withPort } from '../util/host-port.js';

/**
 * Numbers read when Prometheus scrapes, not pushed by events. Each is optional: a metric whose
 * source is not given is not exposed. They run on every scrape (every 15 s or so), so each should
 * cost one pass over a sublevel at most.
 */
export interface MetricsSources {
  /** Messages waiting in the outbox or in flight. */
  readonly outboxDepth?: () => number;
  /** Age of the oldest message still in the outbox, in seconds; 0 when it is empty. */
  readonly outboxOldestAgeSeconds?: () => Promise<number>;
  /** Open and closed cases by state, e.g. `{ acknowledged: 3, closed: 12 }`. Give every state, zeros included. */
  readonly casesByState?: () => Promise<Record<string, number>>;
  /** Cases whose acknowledgement or answer is past its deadline. */
  readonly overdueCases?: () => Promise<number>;
  /** The registry adapters as the node last saw them (`Registry.monitor.statuses`). */
  readonly registryAdapters?: () => readonly Pick<AdapterStatus, 'kind' | 'up'>[];
}

/** What {@link createMetrics} needs. */
export interface MetricsOptions extends MetricsSources {
  /** The `metrics.listen` configuration key: "host:port" (port 0 picks one), or "" to serve nothing. */
  readonly listen: string;
  readonly logger: Logger;
}

/** A node's Prometheus metrics; see {@link createMetrics}. */
export interface Metrics {
  /** The registry every tracenet_ metric and the default process metrics live in (not the global one). */
  readonly registry: Registry;
  /** Bound "host:port" while serving; "" otherwise. */
  readonly address: string;
  /** Serves GET /metrics on `listen`; does nothing when `listen` is "". Idempotent. Fails UNAVAILABLE naming `metrics.listen`. */
  start(): Promise<void>;
  /** Stops serving, dropping open scrape connections. Idempotent. */
  stop(): Promise<void>;
  /** An inbound message was accepted. `peer` is its authenticated sender. */
  messageReceived(kind: string, peer?: string): void;
  /** An inbound message was a duplicate, answered with the original receipt. */
  messageDuplicate(kind: string, peer?: string): void;
  /** An inbound envelope was refused with `code` (an error code name, e.g. `MALFORMED`). No peer: the sender may be unauthenticated. */
  messageRejected(code: string, kind?: string): void;
  /**
   * An envelope (`rpc`: `deliver` or `lookup`) was refused before authentication, for the precise
   * reason `code` and `rule` — which the answer on the wire does not carry (docs/protocol.md 4.4).
   */
  envelopeUnauthenticated(rpc: 'deliver' | 'lookup', code: string, rule: string): void;
  /** An outbound message got a positive receipt `latencySeconds` after it was enqueued. */
  messageDelivered(kind: string, latencySeconds: number, peer?: string): void;
  /** An outbound message failed for good with `code`. */
  messageFailed(kind: string, code: string, peer?: string): void;
  /** A port closed a connection before any call: a cap, the TLS handshake or an unpinned client certificate (`reason`, e.g. `tls.unpinned_certificate`). */
  connectionRefused(port: 'federation' | 'authority', reason: string): void;
  /** The running node found its audit log damaged (docs/protocol.md 8.6): `storage`, `truncated` or `changed`. */
  auditDamaged(kind: AuditDamageKind): void;
  /** A registry adapter was called (a search, a read or a check), as `Registry.monitor` reports it. */
  registryCall(call: RegistryCall): void;
  /** The exposition text, as GET /metrics returns it. */
  render(): Promise<string>;
}

/** Label value of a message kind: `MESSAGE_KIND_TRACE_REQUEST` → `trace_request`. */
export function kindLabel(kind: MessageKind): string {
  const name = MessageKind[kind] as string | undefined;
  return name ? name.replace(/^MESSAGE_KIND_/, '').toLowerCase() : 'unknown';
}

/**
 * Delivery latency buckets, in seconds: from a LAN round trip to a peer that was offline for a day
 * (the outbox keeps retrying, so the tail is long).
 */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400];

/**
 * Registry call buckets, in seconds: from an index lookup in the node's own store to a database
 * that answers only at its statement timeout (`registry.postgres.statementTimeoutMs`, up to 10 min).
 */
const REGISTRY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 600];

const PARTICIPANT_ID = /^([A-Z]{3}|org:[A-Za-z0-9][A-Za-z0-9._-]{0,62})$/;
const LABEL_VALUE = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Keeps a label's cardinality bounded whatever the callers pass: a value outside `pattern`, or
 * beyond the first `max` distinct values, is counted as `other`. Kinds, codes and states are closed
 * sets, so this never triggers in practice; it is the guarantee that a bug cannot make the
 * registry (and Prometheus) grow without bound.
 */
function boundedLabel(max: number, pattern: RegExp): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (!pattern.test(value)) return 'other';
    if (seen.has(value)) return value;
    if (seen.size >= max) return 'other';
    seen.add(value);
    return value;
  };
}

/**
 * Prometheus metrics of a node, in their own registry, served over plain HTTP at `/metrics`
 * (`prom-client`). Events are counted through the methods; outbox and case numbers are read from
 * `sources` at scrape time. Names start with `tracenet_`; docs/operations-metrics.md lists them.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ listen: config.metrics.listen, logger, outboxDepth: () => outbox.depth() });
 * await metrics.start();
 * receiver.on('accepted', (m) => metrics.messageReceived(kindLabel(m.kind), m.sender));
 * await metrics.stop();
 * ```
 */
export function createMetrics(options: MetricsOptions): Metrics {
  const logger = options.logger.child({ component: 'metrics' });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const kinds = boundedLabel(64, LABEL_VALUE);
  const codes = boundedLabel(64, LABEL_VALUE);
  const states = boundedLabel(64, LABEL_VALUE);
  const reasons = boundedLabel(64, LABEL_VALUE);
  const rules = boundedLabel(64, LABEL_VALUE);
  // Adapter kinds: the node's own store and one registry, so a handful at most.
  const adapters = boundedLabel(16, LABEL_VALUE);
  // The peer label: participant ids come from the signed roster (a few hundred at most: UN member
  // states plus a few organisations), so it stays bounded, and "which peer fails" is the first
  // question an operator asks. It is only set for authenticated senders and for recipients the
  // node chose; rejected envelopes never carry it, since their claimed sender could be anything.
  const peers = boundedLabel(512, PARTICIPANT_ID);

  const messages = new Counter({
    name: 'tracenet_messages_total',
    help: 'Federation messages by direction (in, out), kind, status (in: accepted, duplicate, rejected; out: delivered, failed), error code and peer.',
    labelNames: ['direction', 'kind', 'status', 'code', 'peer'] as const,
    registers: [registry],
  });
  const refusedConnections = new Counter({
    name: 'tracenet_connections_refused_total',
    help: 'Connections a port closed before any call, by port (federation, authority) and reason (a connection cap, tls.handshake_timeout, tls.unpinned_certificate, ...).',
    labelNames: ['port', 'reason'] as const,
    registers: [registry],
  });
  const unauthenticated = new Counter({
    name: 'tracenet_envelopes_unauthenticated_total',
    help: 'Envelopes refused before authentication (Deliver and Lookup), by RPC and precise reason (error code and rule); peers are answered one code for most of them.',
    labelNames: ['rpc', 'code', 'rule'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'tracenet_delivery_latency_seconds',
    help: 'Time from enqueueing an outbound message to its positive receipt, retries included, by kind.',
    labelNames: ['kind'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const auditDamage = new Gauge({
    name: 'tracenet_audit_damaged',
    help: 'Whether the running node found its audit log damaged (1) since it started, by kind: storage, truncated, changed.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  // Every kind is exposed from the start, so that an alert compares a value instead of a missing series.
  for (const kind of ['storage', 'truncated', 'changed'] satisfies AuditDamageKind[]) auditDamage.set({ kind }, 0);
  const registryLatency = new Histogram({
    name: 'tracenet_registry_latency_seconds',
    help: 'Time of each call of a registry adapter (searches, reads by id, periodic checks), by adapter kind and result (ok, error).',
    labelNames: ['adapter', 'result'] as const,
    buckets: REGISTRY_BUCKETS,
    registers: [registry],
  });
  const registryErrors = new Counter({
    name: 'tracenet_registry_errors_total',
    help: 'Registry adapter calls the registry could not answer (it counts as down), by adapter kind and error code.',
    labelNames: ['adapter', 'code'] as const,
    registers: [registry],
  });
  const registryIncomplete = new Counter({
    name: 'tracenet_registry_incomplete_total',
    help: 'Weapons held but incomplete (registry rows that do not make a valid record) among the entries registry searches returned, by adapter kind.',
    labelNames: ['adapter'] as const,
    registers: [registry],
  });
  const failures = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  /** Runs a scrape-time read; on failure counts and logs it, and the gauge keeps its last value. */
  const read = (source: string, collect: () => Promise<void>): Promise<void> => {
    const reading = (async () => {
      try {
        await collect();
      } catch (error) {
        failures.set(source, (failures.get(source) ?? 0) + 1);
        logger.warn({ err: error, source }, 'metrics source failed');
      }
    })();
    inFlight.add(reading);
    void reading.finally(() => inFlight.delete(reading));
    return reading;
  };

  const { outboxDepth, outboxOldestAgeSeconds, casesByState, overdueCases, registryAdapters } = options;
  if (registryAdapters) {
    new Gauge({
      name: 'tracenet_registry_up',
      help: 'Whether a registry adapter answered its last call or check (1) or could not (0), by adapter kind; absent before the first one.',
      labelNames: ['adapter'] as const,
      registers: [registry],
      collect() {
        return read('tracenet_registry_up', async () => {
          this.reset();
          for (const { kind, up } of registryAdapters())
            if (up !== undefined) this.set({ adapter: adapters(kind) }, up ? 1 : 0);
        });
      },
    });
  }
  if (outboxDepth) {
    new Gauge({
      name: 'tracenet_outbox_depth',
      help: 'Outbound messages waiting for delivery or in flight.',
      registers: [registry],
      collect() {
        return read('tracenet_outbox_depth', async () => this.set(outboxDepth()));
      },
    });
  }
  if (outboxOldestAgeSeconds) {
    new Gauge({
      name: 'tracenet_outbox_oldest_age_seconds',
      help: 'Age of the oldest message still in the outbox, in seconds; 0 when the outbox is empty.',
      registers: [registry],
      collect() {
        return read('tracenet_outbox_oldest_age_seconds', async () => this.set(await outboxOldestAgeSeconds()));
      },
    });
  }
  if (casesByState) {
    new Gauge({
      name: 'tracenet_cases',
      help: 'Cases on this node by state.',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        return read('tracenet_cases', async () => {
          const counts = await casesByState();
          this.reset();
          for (const [state, count] of Object.entries(counts)) this.inc({ state: states(state) }, count);
        });
      },
    });
  }
  if (overdueCases) {
    new Gauge({
      name: 'tracenet_cases_overdue',
      help: 'Open cases whose acknowledgement or answer is past its deadline.',
      registers: [registry],
      collect() {
        return read('tracenet_cases_overdue', async () => this.set(await overdueCases()));
      },
    });
  }

  // Registered after the gauges: the registry collects in registration order, so by the time this
  // runs, this scrape's reads have started and their failures are counted in the same scrape.
  new Counter({
    name: 'tracenet_metrics_collect_errors_total',
    help: 'Scrape-time reads that failed; the metric named by source keeps its previous value.',
    labelNames: ['source'] as const,
    registers: [registry],
    async collect() {
      await Promise.all(inFlight);
      for (const [source, count] of failures) this.inc({ source }, count);
      failures.clear();
    },
  });

  const peerLabel = (peer: string | undefined) => (peer === undefined ? '' : peers(peer));
  let server: HttpServer | undefined;
  let starting: Promise<void> | undefined;
  let address = '';

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('not found; metrics are at /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'metrics rendering failed');
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n');
      },
    );
  };

  const listen = async () => {
    const { host, port } = hostAndPort(options.listen);
    const http = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      http.once('error', (error) => {
        reject(
          new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, `cannot listen on ${options.listen}: ${error.message}`, {
            field: 'metrics.listen',
            rule: 'listen',
            cause: error,
          }),
        );
      });
      http.listen({ host, port }, () => resolve());
    });
    http.on('error', (error) => logger.error({ err: error }, 'metrics server error'));
    server = http;
    const bound = (http.address() as AddressInfo).port;
    address = withPort(options.listen, bound);
    logger.info({ address }, 'metrics served at /metrics');
  };

  return {
    registry,
    get address() {
      return address;
    },
    start() {
      if (options.listen === '') return Promise.resolve();
      starting ??= listen().catch((error: unknown) => {
        starting = undefined;
        throw error;
      });
      return starting;
    },
    async stop() {
      const pending = starting;
      if (!pending) return;
      starting = undefined;
      try {
        await pending;
      } catch {
        return;
      }
      const http = server;
      server = undefined;
      address = '';
      if (!http) return;
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
    messageReceived(kind, peer) {
      messages.inc({ direction: 'in', kind: kinds(kind), status: 'accepted', code: '', peer: peerLabel(peer) });
    },
    messageDuplicate(kind, peer) {
      messages.inc({ direction: 'in', kind: kinds(kind), status: 'duplicate', code: '', peer: peerLabel(peer) });
    },
    messageRejected(code, kind = 'unknown') {
      messages.inc({ direction: 'in', kind: kinds(kind), status: 'rejected', code: codes(code), peer: '' });
    },
    envelopeUnauthenticated(rpc, code, rule) {
      unauthenticated.inc({ rpc, code: codes(code), rule: rule === '' ? '' : rules(rule) });
    },
    messageDelivered(kind, latencySeconds, peer) {
      const k = kinds(kind);
      messages.inc({ direction: 'out', kind: k, status: 'delivered', code: '', peer: peerLabel(peer) });
      // A receipt "before" the enqueue time can only be clock adjustment: count it as instant.
      if (Number.isFinite(latencySeconds)) latency.observe({ kind: k }, Math.max(0, latencySeconds));
    },
    messageFailed(kind, code, peer) {
      messages.inc({ direction: 'out', kind: kinds(kind), status: 'failed', code: codes(code), peer: peerLabel(peer) });
    },
    connectionRefused(port, reason) {
      refusedConnections.inc({ port, reason: reasons(reason) });
    },
    auditDamaged(kind) {
      auditDamage.set({ kind }, 1);
    },
    registryCall({ kind, ok, seconds, code, incomplete }) {
      const adapter = adapters(kind);
      if (Number.isFinite(seconds))
        registryLatency.observe({ adapter, result: ok ? 'ok' : 'error' }, Math.max(0, seconds));
      if (!ok) registryErrors.inc({ adapter, code: codes(code) });
      if (incomplete > 0) registryIncomplete.inc({ adapter }, incomplete);
    },
    render() {
      return registry.metrics();
    },
  };
}
