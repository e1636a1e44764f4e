import {
  type ChannelCredentials,
  type Client,
  credentials,
  type handleUnaryCall,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: number },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;
/** Generated server interfaces carry an index signature; only the named methods count. */
type Named<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
type UnaryKeys<T> = {
  [K in keyof Named<T>]: Named<T>[K] extends handleUnaryCall<infer _Req, infer _Res> ? K : never;
}[keyof Named<T>] &
  string;
type RequestOf<M> = M extends handleUnaryCall<infer Req, unknown> ? Req : never;
type ResponseOf<M> = M extends handleUnaryCall<never, infer Res> ? Res : never;

/**
 * The unary calls of one service on the node's Authority port (protocol 7.1), typed from the
 * generated server interface, each carrying `authorization: Bearer <token>`. A refused call
 * rejects with the gRPC `ServiceError` as received (read it with `wireError`).
 *
 * @example
 * ```ts
 * const cases = serviceClient<CasesServer>(CasesClient, '127.0.0.1:7444', token);
 * const { case: c } = await cases.call('getCase', { caseId: 'case-000001' });
 * ```
 */
export interface ServiceClient<TServer> {
  call<K extends UnaryKeys<TServer>>(
    method: K,
    request: RequestOf<TServer[K]>,
    timeoutMs?: number,
  ): Promise<ResponseOf<TServer[K]>>;
  close(): void;
}

/** Connects to one service of the Authority port (plaintext on loopback, protocol 7.1). */
export function serviceClient<TServer>(
  Ctor: new (address: string, credentials: ChannelCredentials) => Client,
  address: string,
  token: string,
): ServiceClient<TServer> {
  const client = new Ctor(address, credentials.createInsecure());
  return {
    call(method, request, timeoutMs = 30_000) {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      const fn = (client as unknown as Record<string, Unary<typeof request, never>>)[method] as Unary<
        typeof request,
        never
      >;
      return new Promise((resolve, reject) => {
        fn.call(client, request, metadata, { deadline: Date.now() + timeoutMs }, (error, response) =>
          error ? reject(error) : resolve(response),
        );
      });
    },
    close: () => client.close(),
  };
}
