import type { Server, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

/** The tracenet.v1 services a node serves, by their fully qualified names. */
export const TRACENET_SERVICES = [
  'tracenet.v1.Federation',
  'tracenet.v1.Authority',
  'tracenet.v1.Cases',
  'tracenet.v1.Records',
  'tracenet.v1.Lookups',
] as const;

/** One of {@link TRACENET_SERVICES}. */
export type TracenetServiceName = (typeof TRACENET_SERVICES)[number];

/** The standard gRPC health service (grpc.health.v1.Health) of a node; see {@link createHealth}. */
export interface Health {
  /**
   * Registers grpc.health.v1.Health on `server`, answering for the overall service `''` and for
   * `services` — the ones that server really serves, so that a probe of the Federation port for
   * `tracenet.v1.Authority` gets NOT_FOUND instead of a misleading SERVING. Call before binding.
   */
  addTo(server: Server, services?: readonly TracenetServiceName[]): void;
  /** Every service of every server answers SERVING: call once the node is ready. */
  serving(): void;
  /** Every service of every server answers NOT_SERVING: call first thing when the node stops. */
  notServing(): void;
  /**
   * Ends every open Watch stream and forgets the servers. A Watch stream never ends by itself, so
   * without this a watching probe holds `Server.tryShutdown` until it is forced.
   */
  close(): void;
}

interface Registered {
  readonly implementation: HealthImplementation;
  readonly services: readonly string[];
}

/**
 * Health checking for load balancers, orchestrators and `grpc_health_probe`, built on the
 * `grpc-health-check` package. One object serves both ports; every service starts NOT_SERVING,
 * because the ports are bound before the node is ready.
 *
 * @example
 * ```ts
 * const health = createHealth();
 * health.addTo(federationServer, ['tracenet.v1.Federation']);
 * health.addTo(authorityServer, ['tracenet.v1.Authority', 'tracenet.v1.Cases', 'tracenet.v1.Records', 'tracenet.v1.Lookups']);
 * // ... bind, start the rest ...
 * health.serving();
 * // on stop:
 * health.notServing();
 * health.close();
 * ```
 */
export function createHealth(): Health {
  let status: ServingStatus = 'NOT_SERVING';
  let registered: Registered[] = [];
  const watches = new Set<ServerWritableStream<unknown, unknown>>();

  const apply = (next: ServingStatus) => {
    status = next;
    for (const { implementation, services } of registered) {
      for (const service of services) implementation.setStatus(service, next);
    }
  };

  return {
    addTo(server, services = TRACENET_SERVICES) {
      const names = ['', ...services];
      const implementation = new HealthImplementation(Object.fromEntries(names.map((name) => [name, status])));
      registered.push({ implementation, services: names });
      // The package registers its handlers through this shim, which keeps track of Watch streams.
      implementation.addToServer({
        addService: (definition, handlers) => {
          const watch = handlers.watch as ((call: ServerWritableStream<unknown, unknown>) => void) | undefined;
          const tracked: UntypedServiceImplementation = { ...(handlers as UntypedServiceImplementation) };
          if (watch) {
            tracked.watch = (call: ServerWritableStream<unknown, unknown>) => {
              watches.add(call);
              call.on('cancelled', () => watches.delete(call));
              watch(call);
            };
          }
          server.addService(definition as unknown as Parameters<Server['addService']>[0], tracked);
        },
      });
    },
    serving() {
      apply('SERVING');
    },
    notServing() {
      apply('NOT_SERVING');
    },
    close() {
      for (const call of watches) call.end();
      watches.clear();
      registered = [];
    },
  };
}
