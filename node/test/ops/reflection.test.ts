import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  Server,
  type Client,
  type ClientDuplexStream,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { PROTO_FILES, PROTO_ROOT } from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { addReflection } from '../../src/ops/reflection.js';
import { bindLocal } from './grpc-helpers.js';

/** The standard reflection contract as @grpc/reflection ships it; the client below is a plain grpc-js client of it. */
const reflectionProto = join(
  dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')),
  'build/proto/grpc/reflection/v1/reflection.proto',
);
const reflectionPackage = loadPackageDefinition(
  loadSync(reflectionProto, { keepCase: true, oneofs: true }),
) as unknown as {
  grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } };
};

interface ReflectionResponse {
  message_response: 'list_services_response' | 'file_descriptor_response' | 'error_response';
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

type ReflectionClient = Client & {
  ServerReflectionInfo(): ClientDuplexStream<Record<string, string>, ReflectionResponse>;
};

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

async function reflect(
  setup: (server: Server) => void,
): Promise<(request: Record<string, string>) => Promise<ReflectionResponse>> {
  const server = new Server();
  setup(server);
  const address = await bindLocal(server);
  const client = new reflectionPackage.grpc.reflection.v1.ServerReflection(
    address,
    credentials.createInsecure(),
  ) as unknown as ReflectionClient;
  cleanups.push(
    () => server.forceShutdown(),
    () => client.close(),
  );
  return (request) =>
    new Promise((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.once('data', (response: ReflectionResponse) => {
        resolve(response);
        stream.end();
      });
      stream.once('error', reject);
      stream.write(request);
    });
}

describe('server reflection', () => {
  it('lists the tracenet.v1 services and the health service', async () => {
    const ask = await reflect((server) => addReflection(server));
    const response = await ask({ list_services: '*' });
    const names = response.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names.sort()).toEqual([
      'grpc.health.v1.Health',
      'tracenet.v1.Authority',
      'tracenet.v1.Cases',
      'tracenet.v1.Federation',
      'tracenet.v1.Lookups',
      'tracenet.v1.Records',
      'tracenet.v1.Statistics',
    ]);
  });

  it('resolves the file containing a symbol into descriptors a client can build calls from', async () => {
    const ask = await reflect((server) => addReflection(server));
    const response = await ask({ file_containing_symbol: 'tracenet.v1.Authority' });
    const files = (response.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
      fromBinary(FileDescriptorProtoSchema, bytes),
    );
    // @grpc/proto-loader merges the files of one package into one descriptor, named after the
    // package (docs/operations-metrics.md): tools that work by symbol (grpcurl) are unaffected.
    expect(files[0]?.name).toBe('tracenet_v1.proto');
    expect(files[0]?.package).toBe('tracenet.v1');
    const authority = files[0]?.service.find((s) => s.name === 'Authority');
    expect(authority?.method.map((m) => m.name)).toContain('GetNodeInfo');

    // Every type a method or field refers to is among the returned descriptors.
    const defined = new Set<string>();
    const collect = (
      prefix: string,
      messages: (typeof files)[number]['messageType'],
      enums: (typeof files)[number]['enumType'],
    ) => {
      for (const e of enums) defined.add(`${prefix}.${e.name}`);
      for (const m of messages) {
        defined.add(`${prefix}.${m.name}`);
        collect(`${prefix}.${m.name}`, m.nestedType, m.enumType);
      }
    };
    for (const file of files) collect(`.${file.package}`, file.messageType, file.enumType);
    // Names follow descriptor.proto scoping: ".a.b.C" is absolute, "C" is looked up from the
    // referring message outwards (protobufjs writes field types that way).
    const resolves = (name: string, scope: string): boolean => {
      if (name.startsWith('.')) return defined.has(name);
      for (let s = scope; s !== ''; s = s.slice(0, s.lastIndexOf('.'))) if (defined.has(`${s}.${name}`)) return true;
      return false;
    };
    const unresolved: string[] = [];
    for (const m of authority?.method ?? []) {
      for (const t of [m.inputType, m.outputType]) if (!resolves(t, '.tracenet.v1')) unresolved.push(t);
    }
    let fields = 0;
    const walk = (scope: string, messages: (typeof files)[number]['messageType']): void => {
      for (const m of messages) {
        for (const f of m.field) {
          if (!f.typeName) continue;
          fields += 1;
          if (!resolves(f.typeName, `${scope}.${m.name}`)) unresolved.push(f.typeName);
        }
        walk(`${scope}.${m.name}`, m.nestedType);
      }
    };
    for (const file of files) walk(`.${file.package}`, file.messageType);
    expect(fields).toBeGreaterThan(20);
    expect(unresolved).toEqual([]);

    const message = await ask({ file_containing_symbol: 'tracenet.v1.Envelope' });
    const envelopeFile = fromBinary(
      FileDescriptorProtoSchema,
      message.file_descriptor_response?.file_descriptor_proto[0] ?? new Uint8Array(),
    );
    expect(envelopeFile.messageType.map((m) => m.name)).toContain('Envelope');
  });

  it('answers NOT_FOUND for a symbol that is not in the contract', async () => {
    const ask = await reflect((server) => addReflection(server));
    const response = await ask({ file_containing_symbol: 'tracenet.v1.NoSuchThing' });
    expect(response.error_response?.error_code).toBe(5);
  });

  it('can be narrowed to the services of one port', async () => {
    const ask = await reflect((server) => addReflection(server, { services: ['tracenet.v1.Federation'] }));
    const response = await ask({ list_services: '*' });
    expect(response.list_services_response?.service.map((s) => s.name)).toEqual(['tracenet.v1.Federation']);
  });
});

describe('@tracenet/proto ships its .proto files', () => {
  it('PROTO_FILES lists every tracenet/v1 file under PROTO_ROOT', () => {
    const onDisk = readdirSync(join(PROTO_ROOT, 'tracenet/v1')).filter((f) => f.endsWith('.proto'));
    expect([...PROTO_FILES]).toEqual(onDisk.sort().map((f) => `tracenet/v1/${f}`));
    expect(PROTO_FILES).toContain('tracenet/v1/federation.proto');
  });

  it('the package "files" include the proto directories reflection reads', () => {
    const manifest = JSON.parse(readFileSync(join(PROTO_ROOT, 'package.json'), 'utf8')) as {
      name: string;
      files: string[];
    };
    expect(manifest.name).toBe('@tracenet/proto');
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'tracenet', 'google']));
  });
});
