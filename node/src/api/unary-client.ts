import {
  type Client,
  type ChannelCredentials,
  type ChannelOptions,
  credentials,
  type handleUnaryCall,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { TracenetError } from '@tracenet/proto';

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
 * A promise-based client for the unary calls of one service of the Authority API, typed from the
 * service's generated server interface, with the bearer token set. Errors are TracenetErrors.
 *
 * @example
 * ```ts
 * const cases = connectUnary<CasesServer>(CasesClient, '127.0.0.1:7444', token);
 * const { case: c } = await cases.call('getCase', { caseId: 'case-000001' });
 * ```
 */
export interface UnaryClient<TServer> {
  call<K extends UnaryKeys<TServer>>(
    method: K,
    request: RequestOf<TServer[K]>,
    timeoutMs?: number,
  ): Promise<ResponseOf<TServer[K]>>;
  readonly client: Client;
  close(): void;
}

/** How a client reaches an Authority port: its credentials (TLS or plaintext) and channel options. */
export interface AuthorityChannel {
  readonly credentials: ChannelCredentials;
  readonly options?: ChannelOptions;
}

/**
 * Connects to one service on a node's Authority port: plaintext (on loopback) unless `channel`
 * gives the TLS of a port on another address (docs/protocol.md 7.1).
 */
export function connectUnary<TServer>(
  Ctor: new (address: string, credentials: ChannelCredentials, options?: ChannelOptions) => Client,
  address: string,
  token: string,
  channel: AuthorityChannel = { credentials: credentials.createInsecure() },
): UnaryClient<TServer> {
  const client = new Ctor(address, channel.credentials, channel.options);
  return {
    client,
    call(method, request, timeoutMs = 30_000) {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      const fn = (client as unknown as Record<string, Unary<typeof request, never>>)[method] as Unary<
        typeof request,
        never
      >;
      return new Promise((resolve, reject) => {
        fn.call(client, request, metadata, { deadline: Date.now() + timeoutMs }, (error, response) =>
          error ? reject(TracenetError.from(error)) : resolve(response),
        );
      });
    },
    close: () => client.close(),
  };
}
