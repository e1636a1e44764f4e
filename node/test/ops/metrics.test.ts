import { request } from 'node:http';
import { pino } from 'pino';
import { ErrorCode, MessageKind } from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, kindLabel, type Metrics, type MetricsOptions } from '../../src/ops/metrics.js';

const logger = pino({ level: 'silent' });
const running: Metrics[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

async function started(options: Partial<MetricsOptions> = {}): Promise<Metrics> {
  const metrics = createMetrics({ listen: '127.0.0.1:0', logger, ...options });
  running.push(metrics);
  await metrics.start();
  return metrics;
}

/** A plain HTTP request (no connection reuse), as a scraper makes it. */
function get(address: string, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const [host, port] = [
      address.slice(0, address.lastIndexOf(':')),
      Number(address.slice(address.lastIndexOf(':') + 1)),
    ];
    const req = request({ host, port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one series in exposition text, or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics endpoint', () => {
  it('serves counters, the latency histogram and scrape-time gauges at /metrics', async () => {
    const metrics = await started({
      outboxDepth: () => 3,
      outboxOldestAgeSeconds: async () => 42.5,
      casesByState: async () => ({ received: 4, acknowledged: 2, closed: 0 }),
      overdueCases: async () => 1,
    });
    metrics.messageReceived('notice', 'FRA');
    metrics.messageReceived('notice', 'FRA');
    metrics.messageReceived(kindLabel(MessageKind.MESSAGE_KIND_TRACE_REQUEST), 'org:UN-POE');
    metrics.messageDuplicate('notice', 'FRA');
    metrics.messageRejected('BAD_SIGNATURE');
    metrics.messageDelivered('trace_answer', 0.3, 'KEN');
    metrics.messageDelivered('trace_answer', 7200, 'KEN');
    metrics.messageFailed('notice', 'EXPIRED', 'BEL');

    const response = await get(metrics.address, '/metrics');
    expect(response.status).toBe(200);
    expect(response.type).toContain('text/plain');
    const text = response.body;

    expect(
      value(text, 'tracenet_messages_total{direction="in",kind="notice",status="accepted",code="",peer="FRA"}'),
    ).toBe(2);
    expect(
      value(
        text,
        'tracenet_messages_total{direction="in",kind="trace_request",status="accepted",code="",peer="org:UN-POE"}',
      ),
    ).toBe(1);
    expect(
      value(text, 'tracenet_messages_total{direction="in",kind="notice",status="duplicate",code="",peer="FRA"}'),
    ).toBe(1);
    expect(
      value(
        text,
        'tracenet_messages_total{direction="in",kind="unknown",status="rejected",code="BAD_SIGNATURE",peer=""}',
      ),
    ).toBe(1);
    expect(
      value(text, 'tracenet_messages_total{direction="out",kind="trace_answer",status="delivered",code="",peer="KEN"}'),
    ).toBe(2);
    expect(
      value(text, 'tracenet_messages_total{direction="out",kind="notice",status="failed",code="EXPIRED",peer="BEL"}'),
    ).toBe(1);

    expect(value(text, 'tracenet_delivery_latency_seconds_count{kind="trace_answer"}')).toBe(2);
    expect(value(text, 'tracenet_delivery_latency_seconds_sum{kind="trace_answer"}')).toBe(7200.3);
    expect(value(text, 'tracenet_delivery_latency_seconds_bucket{le="0.25",kind="trace_answer"}')).toBe(0);
    expect(value(text, 'tracenet_delivery_latency_seconds_bucket{le="0.5",kind="trace_answer"}')).toBe(1);
    expect(value(text, 'tracenet_delivery_latency_seconds_bucket{le="3600",kind="trace_answer"}')).toBe(1);
    expect(value(text, 'tracenet_delivery_latency_seconds_bucket{le="21600",kind="trace_answer"}')).toBe(2);

    expect(value(text, 'tracenet_outbox_depth')).toBe(3);
    expect(value(text, 'tracenet_outbox_oldest_age_seconds')).toBe(42.5);
    expect(value(text, 'tracenet_cases{state="received"}')).toBe(4);
    expect(value(text, 'tracenet_cases{state="acknowledged"}')).toBe(2);
    expect(value(text, 'tracenet_cases{state="closed"}')).toBe(0);
    expect(value(text, 'tracenet_cases_overdue')).toBe(1);

    for (const name of [
      'tracenet_messages_total',
      'tracenet_delivery_latency_seconds',
      'tracenet_outbox_depth',
      'tracenet_outbox_oldest_age_seconds',
      'tracenet_cases',
      'tracenet_cases_overdue',
    ]) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
    }
    // Default process metrics live in the same registry.
    // (its value counts from the registry's creation, and may still be 0 on a loaded machine)
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  it('reads scrape-time sources on every scrape', async () => {
    let depth = 0;
    const metrics = await started({ outboxDepth: () => depth });
    expect(value((await get(metrics.address, '/metrics')).body, 'tracenet_outbox_depth')).toBe(0);
    depth = 17;
    expect(value((await get(metrics.address, '/metrics')).body, 'tracenet_outbox_depth')).toBe(17);
  });

  it('counts registry calls by adapter: latency by result, errors by code, weapons held but incomplete; up read at scrape', async () => {
    const postgres: { kind: string; up: boolean | undefined } = { kind: 'postgres', up: undefined };
    const metrics = await started({
      registryAdapters: () => [{ kind: 'leveldb', up: true }, postgres],
    });
    const before = (await get(metrics.address, '/metrics')).body;
    expect(value(before, 'tracenet_registry_up{adapter="leveldb"}')).toBe(1);
    // Not called yet: no series rather than a guess.
    expect(value(before, 'tracenet_registry_up{adapter="postgres"}')).toBeUndefined();

    metrics.registryCall({ kind: 'postgres', ok: true, seconds: 0.004, code: '', incomplete: 2 });
    metrics.registryCall({ kind: 'postgres', ok: false, seconds: 5.001, code: 'UNAVAILABLE', incomplete: 0 });
    metrics.registryCall({ kind: 'postgres', ok: false, seconds: 5.002, code: 'UNAVAILABLE', incomplete: 0 });
    postgres.up = false;
    const text = (await get(metrics.address, '/metrics')).body;
    expect(value(text, 'tracenet_registry_up{adapter="postgres"}')).toBe(0);
    expect(value(text, 'tracenet_registry_errors_total{adapter="postgres",code="UNAVAILABLE"}')).toBe(2);
    expect(value(text, 'tracenet_registry_incomplete_total{adapter="postgres"}')).toBe(2);
    expect(value(text, 'tracenet_registry_latency_seconds_count{adapter="postgres",result="ok"}')).toBe(1);
    expect(value(text, 'tracenet_registry_latency_seconds_bucket{le="0.005",adapter="postgres",result="ok"}')).toBe(1);
    expect(value(text, 'tracenet_registry_latency_seconds_bucket{le="5",adapter="postgres",result="error"}')).toBe(0);
    expect(value(text, 'tracenet_registry_latency_seconds_bucket{le="10",adapter="postgres",result="error"}')).toBe(2);
  });

  it('keeps labels bounded: ids that are not participant ids and values past the cap count as "other"', async () => {
    const metrics = await started();
    metrics.messageReceived('notice', 'not a participant');
    metrics.messageReceived('notice', 'fra');
    for (let i = 0; i < 70; i += 1) metrics.messageFailed('notice', `CODE_${i}`);
    const text = await metrics.render();
    expect(
      value(text, 'tracenet_messages_total{direction="in",kind="notice",status="accepted",code="",peer="other"}'),
    ).toBe(2);
    expect(
      value(text, 'tracenet_messages_total{direction="out",kind="notice",status="failed",code="CODE_63",peer=""}'),
    ).toBe(1);
    expect(
      value(text, 'tracenet_messages_total{direction="out",kind="notice",status="failed",code="other",peer=""}'),
    ).toBe(6);
    expect(text).not.toContain('CODE_64');
  });

  it('still answers when a source fails: the error is counted and the last value kept', async () => {
    let fail = false;
    const metrics = await started({
      overdueCases: async () => {
        if (fail) throw new Error('store closed');
        return 5;
      },
    });
    expect(value((await get(metrics.address, '/metrics')).body, 'tracenet_cases_overdue')).toBe(5);
    fail = true;
    const response = await get(metrics.address, '/metrics');
    expect(response.status).toBe(200);
    expect(value(response.body, 'tracenet_cases_overdue')).toBe(5);
    expect(value(response.body, 'tracenet_metrics_collect_errors_total{source="tracenet_cases_overdue"}')).toBe(1);
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    const metrics = await started();
    expect((await get(metrics.address, '/')).status).toBe(404);
    expect((await get(metrics.address, '/metrics/extra')).status).toBe(404);
    expect((await get(metrics.address, '/metrics?name[]=x')).status).toBe(200);
    expect((await get(metrics.address, '/metrics', 'POST')).status).toBe(405);
    const head = await get(metrics.address, '/metrics', 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('start() and stop() are idempotent, and stop() closes the port', async () => {
    const metrics = createMetrics({ listen: '127.0.0.1:0', logger });
    running.push(metrics);
    await Promise.all([metrics.start(), metrics.start()]);
    const address = metrics.address;
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    await metrics.start();
    expect(metrics.address).toBe(address);
    await metrics.stop();
    await metrics.stop();
    expect(metrics.address).toBe('');
    await expect(get(address, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('serves nothing when metrics.listen is empty, but still counts', async () => {
    const metrics = await started({ listen: '' });
    expect(metrics.address).toBe('');
    metrics.messageReceived('notice', 'FRA');
    expect(await metrics.render()).toContain(
      'tracenet_messages_total{direction="in",kind="notice",status="accepted",code="",peer="FRA"} 1',
    );
  });

  it('refuses a port in use with UNAVAILABLE naming metrics.listen', async () => {
    const first = await started();
    const second = createMetrics({ listen: first.address, logger });
    running.push(second);
    await expect(second.start()).rejects.toMatchObject({
      code: ErrorCode.ERROR_CODE_UNAVAILABLE,
      field: 'metrics.listen',
      message: expect.stringContaining('EADDRINUSE'),
    });
    expect(second.address).toBe('');
  });
});
