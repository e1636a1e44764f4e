import { Server, ServerCredentials } from '@grpc/grpc-js';

/** Binds a real grpc-js server on 127.0.0.1:0 and returns its address. */
export function bindLocal(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(`127.0.0.1:${port}`),
    );
  });
}

/** Resolves when `server.tryShutdown` completes, with the time it took in ms. */
export function shutdown(server: Server): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => server.tryShutdown(() => resolve(Date.now() - started)));
}
