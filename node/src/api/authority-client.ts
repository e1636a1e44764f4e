import { AuthorityClient, type AuthorityServer } from '@tracenet/proto';
import { type AuthorityChannel, connectUnary, type UnaryClient } from './unary-client.js';

/** A promise-based Authority API client with the bearer token set; errors are TracenetErrors. */
export type LocalAuthorityClient = UnaryClient<AuthorityServer>;

/** Connects to a node's Authority service: plaintext (on loopback) unless `channel` gives TLS. */
export function connectAuthority(address: string, token: string, channel?: AuthorityChannel): LocalAuthorityClient {
  return connectUnary<AuthorityServer>(AuthorityClient, address, token, channel);
}
