import type { Server, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

/** The tracenet.v1 services a node serves, by their fully qualified names. */
export const TRACENET_SERVICES = [
  'tracenet.v1.Federation',
  'tracenet.v1.Authority',
  'tracenet.v1.Cases',
  'tracenet.v1.Records',
  'tracenet.v1.Lookups',
  'tracenet.v1.Statistics',
] as const;

/** One of {@link TRACENET_SERVICES}. */
export type TracenetServiceName = (typeof TRACENET_SERVICES)[number];

/**
 * What a node depends on beside itself, answered as health service names (no gRPC service has
 * them): `tracenet.v1.Registry` is NOT_SERVING while a registry adapter cannot answer. The node
 * itself (`""`) stays SERVING then: it still receives, stores and acknowledges messages, searches
 * fail UNAVAILABLE and automatic answers wait (docs/operations-metrics.md 1.1). A load balancer
 * that took it out would lose the messages it can still accept.
 */
export const TRACENET_DEPENDENCIES = ['tracenet.v1.Registry'] as const;

/** One of {@link TRACENET_DEPENDENCIES}. */
export type TracenetDependencyName = (typeof TRACENET_DEPENDENCIES)[number];

/** The standard gRPC health service (grpc.health.v1.Health) of a node; see {@link createHealth}. */
export interface Health {
  /**
   * Registers grpc.health.v1.Health on `server`, answering for the overall service `''` and for
   * `services` — the ones that server really serves, so that a probe of the Federation port for
   * `tracenet.v1.Authority` gets NOT_FOUND instead of a misleading SERVING — and for
   * `dependencies`. Call before binding.
   */
  addTo(
    server: Server,
    services?: readonly TracenetServiceName[],
    dependencies?: readonly TracenetDependencyName[],
  ): void;
  /** Every service of every server answers SERVING: call once the node is ready. */
  serving(): void;
  /** Every service of every server answers NOT_SERVING: call first thing when the node stops. */
  notServing(): void;
  /**
   * Whether a dependency can answer now. It answers SERVING while the node serves and it is up
   * (up until told otherwise), NOT_SERVING otherwise; the services do not change.
   */
  dependency(name: TracenetDependencyName, up: boolean): void;
  /**
   * Ends every open Watch stream and forgets the servers. A Watch stream never ends by itself, so
   * without this a watching probe holds `Server.tryShutdown` until it is forced.
   */
  close(): void;
}

interface Registered {
  readonly implementation: HealthImplementation;
  readonly services: readonly string[];
  readonly dependencies: readonly TracenetDependencyName[];
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
 * health.addTo(authorityServer, ['tracenet.v1.Authority', 'tracenet.v1.Cases', 'tracenet.v1.Records', 'tracenet.v1.Lookups'], ['tracenet.v1.Registry']);
 * // ... bind, start the rest ...
 * health.serving();
 * registry.monitor.on('change', () => health.dependency('tracenet.v1.Registry', registry.monitor.up));
 * // on stop:
 * health.notServing();
 * health.close();
 * ```
 */
export function createHealth(): Health {
  let status: ServingStatus = 'NOT_SERVING';
  let registered: Registered[] = [];
  const down = new Set<TracenetDependencyName>();
  const watches = new Set<ServerWritableStream<unknown, unknown>>();
  const dependencyStatus = (name: TracenetDependencyName): ServingStatus =>
    status === 'SERVING' && !down.has(name) ? 'SERVING' : 'NOT_SERVING';

  const apply = (next: ServingStatus) => {
    status = next;
    for (const { implementation, services, dependencies } of registered) {
      for (const service of services) implementation.setStatus(service, next);
      for (const name of dependencies) implementation.setStatus(name, dependencyStatus(name));
    }
  };

  return {
    addTo(server, services = TRACENET_SERVICES, dependencies = []) {
      const names = ['', ...services];
      const implementation = new HealthImplementation({
        ...Object.fromEntries(names.map((name) => [name, status])),
        ...Object.fromEntries(dependencies.map((name) => [name, dependencyStatus(name)])),
      });
      registered.push({ implementation, services: names, dependencies });
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
    dependency(name, up) {
      if (up === !down.has(name)) return;
      if (up) down.delete(name);
      else down.add(name);
      apply(status);
    },
    close() {
      for (const call of watches) call.end();
      watches.clear();
      registered = [];
    },
  };
}
