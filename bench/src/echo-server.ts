/**
 * The raw baseline of the delivery benchmark: a plain grpc-js unary echo server over TLS, alone
 * in its own process (started with `fork`). It answers each request with its own bytes, no
 * decoding, no crypto, no storage. Over IPC it reports its port once bound and, on request, its
 * `process.cpuUsage()`.
 *
 * argv: <certificate PEM file> <private key PEM file>
 */
import { readFileSync } from 'node:fs';
import { ECHO_METHOD } from './dataset.js';
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

const [certPath, keyPath] = process.argv.slice(2);
if (!certPath || !keyPath || !process.send)
  throw new Error('usage: fork(echo-server.js, [certificate, key]) with an IPC channel');

const passthrough = (b: Buffer) => b;
const server = new Server({ 'grpc.max_concurrent_streams': 100 });
const implementation: UntypedServiceImplementation = {
  echo: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, call.request),
};
server.addService(
  {
    echo: {
      path: ECHO_METHOD,
      requestStream: false,
      responseStream: false,
      requestSerialize: passthrough,
      requestDeserialize: passthrough,
      responseSerialize: passthrough,
      responseDeserialize: passthrough,
    },
  },
  implementation,
);
const tls = ServerCredentials.createSsl(
  null,
  [{ cert_chain: readFileSync(certPath), private_key: readFileSync(keyPath) }],
  false,
);
server.bindAsync('127.0.0.1:0', tls, (error, port) => {
  if (error) throw error;
  process.send?.({ type: 'listening', port });
});
process.on('message', (message: { type?: string }) => {
  if (message.type === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage() });
  if (message.type === 'stop') server.tryShutdown(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
