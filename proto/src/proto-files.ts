import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the `proto/` directory of `@tracenet/proto`: the include root of every
 * `.proto` file it ships (`tracenet/v1/*.proto`, and the vendored `google/rpc/status.proto`).
 * Runtime tools that need descriptors rather than generated code (gRPC server reflection,
 * `@grpc/proto-loader`, `grpcurl -import-path`) start here.
 *
 * @example
 * ```ts
 * import { loadSync } from '@grpc/proto-loader';
 * import { PROTO_FILES, PROTO_ROOT } from '@tracenet/proto';
 * const definition = loadSync([...PROTO_FILES], { includeDirs: [PROTO_ROOT] });
 * ```
 */
export const PROTO_ROOT: string = fileURLToPath(new URL('..', import.meta.url)).replace(/[\\/]$/, ''); // from dist/ or src/, '..' is proto/

/**
 * The contract's files, relative to {@link PROTO_ROOT} and sorted: `tracenet/v1/cases.proto`, ...
 * Read from the directory when the module loads, so a file added to the contract is picked up
 * without a list to keep in step.
 *
 * @example
 * ```ts
 * PROTO_FILES.includes('tracenet/v1/federation.proto'); // true
 * ```
 */
export const PROTO_FILES: readonly string[] = Object.freeze(
  readdirSync(`${PROTO_ROOT}/tracenet/v1`)
    .filter((name) => name.endsWith('.proto'))
    .sort()
    .map((name) => `tracenet/v1/${name}`),
);
