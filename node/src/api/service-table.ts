import type { Server, ServiceDefinition, UntypedHandleCall, UntypedServiceImplementation } from '@grpc/grpc-js';

/** Where an Authority API service is registered: a grpc-js `Server`, or a {@link ServiceTable} in front of one. */
export interface ServiceRegistrar {
  addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void;
}

/** One registered method: its definition (path, codecs, streaming) and the handler grpc-js calls. */
export interface RegisteredMethod {
  readonly definition: ServiceDefinition[string];
  readonly handler: UntypedHandleCall;
}

/**
 * Registers services on a grpc-js server and remembers every handler by method path, so that the
 * officers' console (node/src/console/server) calls the very handlers the Authority port serves —
 * the same token check, role table, validation and audit — without a second path around them.
 */
export class ServiceTable implements ServiceRegistrar {
  readonly #server: Server;
  readonly #methods = new Map<string, RegisteredMethod>();

  constructor(server: Server) {
    this.#server = server;
  }

  addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    this.#server.addService(service, implementation);
    for (const [name, definition] of Object.entries(service)) {
      const handler = implementation[name];
      if (handler) this.#methods.set(definition.path, { definition, handler });
    }
  }

  /** The method registered at `path` (`/tracenet.v1.Cases/GetCase`), or undefined. */
  method(path: string): RegisteredMethod | undefined {
    return this.#methods.get(path);
  }
}
