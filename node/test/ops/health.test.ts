import { setTimeout as delay } from 'node:timers/promises';
import {
  credentials,
  makeClientConstructor,
  Server,
  status,
  type Client,
  type ClientReadableStream,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealth } from '../../src/ops/health.js';
import { bindLocal, shutdown } from './grpc-helpers.js';

type HealthClient = Client & {
  Check(
    request: { service: string },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
  Watch(request: { service: string }): ClientReadableStream<{ status: string }>;
};

const HealthClientConstructor = makeClientConstructor(
  healthService as unknown as ServiceDefinition,
  'grpc.health.v1.Health',
);

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(setup: (server: Server) => void): Promise<{ server: Server; client: HealthClient }> {
  const server = new Server();
  setup(server);
  const address = await bindLocal(server);
  const client = new HealthClientConstructor(address, credentials.createInsecure()) as unknown as HealthClient;
  cleanups.push(
    () => server.forceShutdown(),
    () => client.close(),
  );
  return { server, client };
}

function check(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.Check({ service }, (error, response) => (error ? reject(error) : resolve(response?.status ?? '')));
  });
}

describe('health (grpc.health.v1.Health)', () => {
  it('answers NOT_SERVING until serving(), then SERVING, then NOT_SERVING after notServing()', async () => {
    const health = createHealth();
    const { client } = await serve((server) => health.addTo(server));

    expect(await check(client, '')).toBe('NOT_SERVING');
    health.serving();
    for (const name of [
      '',
      'tracenet.v1.Federation',
      'tracenet.v1.Authority',
      'tracenet.v1.Cases',
      'tracenet.v1.Records',
      'tracenet.v1.Lookups',
      'tracenet.v1.Statistics',
    ]) {
      expect(await check(client, name)).toBe('SERVING');
    }
    health.notServing();
    expect(await check(client, '')).toBe('NOT_SERVING');
    expect(await check(client, 'tracenet.v1.Authority')).toBe('NOT_SERVING');
  });

  it('serves each port for its own services and flips both together', async () => {
    const health = createHealth();
    const federation = await serve((server) => health.addTo(server, ['tracenet.v1.Federation']));
    const authority = await serve((server) =>
      health.addTo(server, [
        'tracenet.v1.Authority',
        'tracenet.v1.Cases',
        'tracenet.v1.Records',
        'tracenet.v1.Lookups',
      ]),
    );
    health.serving();

    expect(await check(federation.client, 'tracenet.v1.Federation')).toBe('SERVING');
    expect(await check(authority.client, 'tracenet.v1.Records')).toBe('SERVING');
    expect(await check(authority.client, 'tracenet.v1.Lookups')).toBe('SERVING');
    await expect(check(federation.client, 'tracenet.v1.Lookups')).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(check(federation.client, 'tracenet.v1.Authority')).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(check(authority.client, 'tracenet.v1.Federation')).rejects.toMatchObject({ code: status.NOT_FOUND });

    health.notServing();
    expect(await check(federation.client, '')).toBe('NOT_SERVING');
    expect(await check(authority.client, '')).toBe('NOT_SERVING');
  });

  it('reports a dependency apart: NOT_SERVING while it is down or the node does not serve, the node unchanged', async () => {
    const health = createHealth();
    const federation = await serve((server) => health.addTo(server, ['tracenet.v1.Federation']));
    const authority = await serve((server) =>
      health.addTo(server, ['tracenet.v1.Authority'], ['tracenet.v1.Registry']),
    );
    expect(await check(authority.client, 'tracenet.v1.Registry')).toBe('NOT_SERVING');
    health.serving();
    expect(await check(authority.client, 'tracenet.v1.Registry')).toBe('SERVING');
    await expect(check(federation.client, 'tracenet.v1.Registry')).rejects.toMatchObject({ code: status.NOT_FOUND });

    health.dependency('tracenet.v1.Registry', false);
    expect(await check(authority.client, 'tracenet.v1.Registry')).toBe('NOT_SERVING');
    for (const name of ['', 'tracenet.v1.Authority']) expect(await check(authority.client, name)).toBe('SERVING');
    expect(await check(federation.client, '')).toBe('SERVING');

    // The node stops serving and comes back while the registry is still down: it stays NOT_SERVING.
    health.notServing();
    health.serving();
    expect(await check(authority.client, 'tracenet.v1.Registry')).toBe('NOT_SERVING');
    health.dependency('tracenet.v1.Registry', true);
    expect(await check(authority.client, 'tracenet.v1.Registry')).toBe('SERVING');
    health.notServing();
    expect(await check(authority.client, 'tracenet.v1.Registry')).toBe('NOT_SERVING');
  });

  it('streams changes to a Watch, and close() ends it so that shutdown is not held up', async () => {
    const health = createHealth();
    const { server, client } = await serve((s) => health.addTo(s));
    health.serving();

    const seen: string[] = [];
    const stream = client.Watch({ service: '' });
    const ended = new Promise<void>((resolve) => {
      stream.on('status', () => resolve());
      stream.on('error', () => resolve());
    });
    const received = (count: number) =>
      new Promise<void>((resolve) => {
        const listener = (message: { status: string }) => {
          seen.push(message.status);
          if (seen.length >= count) {
            stream.off('data', listener);
            resolve();
          }
        };
        stream.on('data', listener);
      });

    await received(1);
    expect(seen).toEqual(['SERVING']);
    const next = received(2);
    health.notServing();
    await next;
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);

    health.close();
    // An open Watch would otherwise keep tryShutdown waiting until forceShutdown.
    expect(await Promise.race([shutdown(server), delay(3000, Number.POSITIVE_INFINITY)])).toBeLessThan(2000);
    await ended;
  });
});
