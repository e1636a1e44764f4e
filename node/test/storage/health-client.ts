import { credentials, type Client, makeGenericClientConstructor, Metadata, type ServiceError } from '@grpc/grpc-js';

const Generic = makeGenericClientConstructor({}, 'Health');

/** `grpc.health.v1.HealthCheckResponse.ServingStatus` values. */
export const SERVING = 1;
export const NOT_SERVING = 2;

/**
 * `grpc.health.v1.Health/Check` for the whole node (service `""`) on an insecure port, with the
 * two messages encoded by hand (an empty request; a response whose field 1 is the status).
 */
export function checkHealth(address: string, deadlineMs = 5000): Promise<number> {
  const client: Client = new Generic(address, credentials.createInsecure());
  return new Promise<number>((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      () => Buffer.alloc(0),
      (bytes: Buffer) => bytes,
      {},
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      (error: ServiceError | null, response?: Buffer) => {
        if (error) reject(error);
        // An empty response is status 0 (UNKNOWN); otherwise 0x08 <status>.
        else resolve(response && response.length >= 2 && response[0] === 0x08 ? (response[1] ?? 0) : 0);
      },
    );
  }).finally(() => client.close());
}
