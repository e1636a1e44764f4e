import { credentials, type handleUnaryCall, Metadata, type ServiceError } from '@grpc/grpc-js';
import { AuthorityClient, type AuthorityServer, TracenetError } from '@tracenet/proto';

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: { deadline: number }, callback: (error: ServiceError | null, response: Res) => void) => unknown;
type Methods = { [K in keyof AuthorityServer]: AuthorityServer[K] };
type RequestOf<M> = M extends handleUnaryCall<infer Req, unknown> ? Req : never;
type ResponseOf<M> = M extends handleUnaryCall<never, infer Res> ? Res : never;

/** A promise-based Authority API client with the bearer token set; errors are TracenetErrors. */
export interface LocalAuthorityClient {
  call<K extends keyof Methods & string>(method: K, request: RequestOf<Methods[K]>, timeoutMs?: number): Promise<ResponseOf<Methods[K]>>;
  close(): void;
}

/** Connects to a node's Authority API (plaintext; it listens on loopback). */
export function connectAuthority(address: string, token: string): LocalAuthorityClient {
  const client = new AuthorityClient(address, credentials.createInsecure());
  return {
    call(method, request, timeoutMs = 30_000) {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      const fn = (client as unknown as Record<string, Unary<typeof request, never>>)[method] as Unary<typeof request, never>;
      return new Promise((resolve, reject) => {
        fn.call(client, request, metadata, { deadline: Date.now() + timeoutMs }, (error, response) => (error ? reject(TracenetError.from(error)) : resolve(response)));
      });
    },
    close: () => client.close(),
  };
}
