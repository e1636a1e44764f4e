import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { initDataDir, initSodium } from '@tracenet/node';
import { AuthorityService, GetNodeInfoResponse } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ConnectOptions } from '../src/index.js';

/**
 * The SDK's side of an Authority port served over TLS (docs/protocol.md 7.1): a fake Authority
 * server that presents a certificate and requires a client certificate, as a node does with
 * `authority.tls.certificate`, `key` and `clientCa` (the node's side: node/test/edge/authority.test.ts).
 */
describe('connect() to an Authority port over TLS', () => {
  const server = new Server();
  let dir: string;
  let address: string;
  let serverTls: { certificatePem: string; privateKeyPem: string };
  let clientTls: { certificatePem: string; privateKeyPem: string };

  beforeAll(async () => {
    await initSodium();
    dir = await mkdtemp(join(tmpdir(), 'tracenet-sdk-tls-'));
    // Self-signed certificates as `tracenet init` makes them: names localhost and 127.0.0.1, server and client usage.
    const made = await Promise.all(
      ['FRA', 'BEL'].map((id) =>
        initDataDir({ dataDir: join(dir, id), participantId: id, endpoints: ['127.0.0.1:1'], nowMs: Date.now() }),
      ),
    );
    [serverTls, clientTls] = made.map((m) => m.identity.tls) as [typeof serverTls, typeof clientTls];
    server.addService(AuthorityService, {
      getNodeInfo: (_call: unknown, callback: (e: null, r: GetNodeInfoResponse) => void) =>
        callback(null, GetNodeInfoResponse.fromPartial({ participantId: 'FRA' })),
    } as unknown as UntypedServiceImplementation);
    const credentials = ServerCredentials.createSsl(
      Buffer.from(clientTls.certificatePem),
      [{ cert_chain: Buffer.from(serverTls.certificatePem), private_key: Buffer.from(serverTls.privateKeyPem) }],
      true,
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (e, p) => (e ? reject(e) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  });

  const nodeInfo = async (options: Omit<ConnectOptions, 'address' | 'token'>) => {
    const client = connect({ address, token: 'token', retries: { maxRetries: 0 }, ...options });
    try {
      return await client.authority.getNodeInfo({}, { deadlineMs: 1500 });
    } finally {
      client.close();
    }
  };

  it('trusts the given certificate and presents the client certificate', async () => {
    const tls = {
      ca: serverTls.certificatePem,
      certificate: clientTls.certificatePem,
      privateKey: Buffer.from(clientTls.privateKeyPem),
    };
    expect((await nodeInfo({ tls })).participantId).toBe('FRA');
    // The name checked against the certificate can differ from the address's host.
    expect((await nodeInfo({ tls: { ...tls, serverName: 'localhost' } })).participantId).toBe('FRA');
  });

  it('gets no answer without the client certificate, in plaintext, or trusting another certificate', async () => {
    // The client waits for a connection until the deadline (wait-for-ready): UNAVAILABLE or DEADLINE_EXCEEDED.
    const refused = (options: Omit<ConnectOptions, 'address' | 'token'>) =>
      nodeInfo(options).then(
        () => 'answered',
        (error: { codeName: string }) => error.codeName,
      );
    const none = ['UNAVAILABLE', 'DEADLINE_EXCEEDED'];
    expect(none).toContain(await refused({ tls: { ca: serverTls.certificatePem } }));
    expect(none).toContain(await refused({}));
    expect(none).toContain(
      await refused({
        tls: {
          ca: clientTls.certificatePem,
          certificate: clientTls.certificatePem,
          privateKey: clientTls.privateKeyPem,
        },
      }),
    );
  });
});
