import { dirname, resolve } from 'node:path';
import type { Server } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { PROTO_FILES, PROTO_ROOT } from '@tracenet/proto';
import { TRACENET_SERVICES } from './health.js';

/** The health service's own descriptor, so that reflection-driven clients (grpcurl) can call it. */
const HEALTH_SERVICE = 'grpc.health.v1.Health';
const HEALTH_FILE = 'health/v1/health.proto';

let definition: PackageDefinition | undefined;

/** The contract's descriptors, parsed once per process from the `.proto` files @tracenet/proto ships. */
function contract(): PackageDefinition {
  definition ??= loadSync([...PROTO_FILES, HEALTH_FILE], {
    includeDirs: [PROTO_ROOT, resolve(dirname(healthProtoPath), '../..')],
  });
  return definition;
}

/**
 * Registers gRPC server reflection (grpc.reflection.v1 and v1alpha) on `server`, describing the
 * tracenet.v1 contract and grpc.health.v1.Health, so that `grpcurl` and similar tools can list
 * and call services without local `.proto` files. It reveals only the public contract, never
 * data, and needs no token.
 *
 * By default it lists every tracenet.v1 service, including tracenet.v1.Federation which is
 * served on the Federation port: reflection describes the contract, not one port. Pass
 * `services` to narrow the list.
 *
 * @example
 * ```ts
 * addReflection(authorityServer);
 * // grpcurl -plaintext 127.0.0.1:7444 list
 * ```
 */
export function addReflection(
  server: Pick<Server, 'addService'>,
  options: { services?: readonly string[] } = {},
): void {
  const services = options.services ?? [...TRACENET_SERVICES, HEALTH_SERVICE];
  new ReflectionService(contract(), { services: [...services] }).addToServer(server);
}
