import {
  credentials,
  type Client,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { checkServerIdentity as defaultCheck, type PeerCertificate } from 'node:tls';
import { FederationService, Receipt } from '@tracenet/proto';
import { PEER_SERVER_NAME, type TlsMaterial } from '../identity/tls.js';
import type { Peer } from './peers.js';

const DELIVER_PATH = FederationService.deliver.path;
const LOOKUP_PATH = FederationService.lookup.path;
const raw = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const Generic = makeGenericClientConstructor({}, 'Federation');

/** How one envelope is delivered. */
export interface DeliverOptions {
  readonly deadlineMs: number;
  readonly correlationId?: string;
  /** The client certificate to present: that of the keys the envelope is sealed with (docs/protocol.md 2.5). */
  readonly tls: TlsMaterial;
}

/** Sends envelopes to peers. The seam where tests and the conformance suite plug in. */
export interface Transport {
  /**
   * Delivers serialized envelope bytes; resolves with the receipt or rejects with the gRPC error.
   * The call waits for the channel to connect until the deadline, so a peer that cannot be reached
   * in time fails with DEADLINE_EXCEEDED.
   */
  deliver(peer: Peer, envelope: Uint8Array, options: DeliverOptions): Promise<Receipt>;
  /**
   * Sends a lookup query envelope (`Federation.Lookup`) and resolves with the raw bytes of the
   * answer envelope, unparsed, for the caller to open and verify; rejects with the gRPC error.
   * Like `deliver`, it waits for the channel until the deadline. Optional for fakes.
   */
  lookup?(peer: Peer, envelope: Uint8Array, options: { deadlineMs: number; tls: TlsMaterial }): Promise<Buffer>;
  close(): void;
}

/** Checks that the server presented exactly the pinned certificate; host names are not used. */
function pinnedIdentity(fingerprint: Buffer) {
  return (hostname: string, certificate: PeerCertificate): Error | undefined => {
    if (
      certificate.fingerprint256 &&
      Buffer.from(certificate.fingerprint256.replace(/:/g, ''), 'hex').equals(fingerprint)
    )
      return undefined;
    return defaultCheck(hostname, certificate) ?? new Error('TLS certificate does not match the pinned fingerprint');
  };
}

/**
 * gRPC transport over mutual TLS, one channel per peer and client certificate, trusting only the
 * certificate pinned in the peer's card and presenting the certificate each call names, which the
 * peer accepts only if it pinned it (docs/protocol.md 2.5). Channels reconnect quickly so that a
 * peer that comes back is reached at once.
 */
export function createGrpcTransport(options: { maxEnvelopeBytes: number }): Transport {
  const clients = new Map<string, { client: Client; fingerprint: string; endpoint: string }>();
  const clientFor = (peer: Peer, tls: TlsMaterial): Client => {
    const fingerprint = peer.body.tlsCertificateSha256.toString('hex');
    const endpoint = peer.body.endpoints[0] ?? '';
    // During a rotation a peer is reached with two certificates (2.5): one channel each.
    const key = `${peer.participantId}\u0000${tls.certificatePem}`;
    const cached = clients.get(key);
    if (cached && cached.fingerprint === fingerprint && cached.endpoint === endpoint) return cached.client;
    for (const [other, entry] of clients) {
      if (
        other.startsWith(`${peer.participantId}\u0000`) &&
        (entry.fingerprint !== fingerprint || entry.endpoint !== endpoint)
      ) {
        entry.client.close();
        clients.delete(other);
      }
    }
    const creds = credentials.createSsl(
      Buffer.from(peer.tlsCertificatePem),
      Buffer.from(tls.privateKeyPem),
      Buffer.from(tls.certificatePem),
      {
        checkServerIdentity: pinnedIdentity(peer.body.tlsCertificateSha256),
      },
    );
    const client = new Generic(endpoint, creds, {
      'grpc.max_send_message_length': options.maxEnvelopeBytes + 65_536,
      'grpc.max_receive_message_length': 1024 * 1024,
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 2000,
      'grpc.min_reconnect_backoff_ms': 250,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.enable_retries': 0,
      // Peers are pinned by certificate fingerprint; the TLS server name is only a label.
      'grpc.ssl_target_name_override': PEER_SERVER_NAME,
    });
    clients.set(key, { client, fingerprint, endpoint });
    return client;
  };
  /**
   * Forgets the channel of a call that ran out of time. A connection that died silently (a network
   * partition: no FIN, no RST) keeps every call on it waiting until its deadline, and keepalive
   * notices only after tens of seconds; a new channel connects afresh, so the next attempt
   * gets through as soon as the network is back.
   */
  const dropStale = (client: Client, error: ServiceError) => {
    if (error.code !== status.DEADLINE_EXCEEDED) return;
    for (const [key, entry] of clients) {
      if (entry.client !== client) continue;
      clients.delete(key);
      client.close();
    }
  };
  return {
    deliver(peer, envelope, { deadlineMs, correlationId, tls }) {
      const client = clientFor(peer, tls);
      // Waits for the channel to connect until the deadline rather than failing at once while it
      // is between reconnection attempts: the outbox sends one probe to a peer that is down, and
      // that probe gets through as soon as the peer is back, not at the next backoff step.
      const metadata = new Metadata({ waitForReady: true });
      if (correlationId) metadata.set('x-correlation-id', correlationId);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          DELIVER_PATH,
          raw,
          (bytes: Buffer) => Receipt.decode(bytes),
          envelope,
          metadata,
          { deadline: Date.now() + deadlineMs },
          (error: ServiceError | null, receipt?: Receipt) => {
            if (error) {
              dropStale(client, error);
              reject(error);
            } else if (receipt) resolve(receipt);
            else
              reject(
                Object.assign(new Error('empty response'), {
                  code: status.INTERNAL,
                  details: 'empty response',
                  metadata: new Metadata(),
                }),
              );
          },
        );
      });
    },
    lookup(peer, envelope, { deadlineMs, tls }) {
      const client = clientFor(peer, tls);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          LOOKUP_PATH,
          raw,
          // The channel accepts answers up to 1 MiB ('grpc.max_receive_message_length').
          (bytes: Buffer) => bytes,
          envelope,
          new Metadata({ waitForReady: true }),
          { deadline: Date.now() + deadlineMs },
          (error: ServiceError | null, answer?: Buffer) => {
            if (error) reject(error);
            else if (answer) resolve(answer);
            else
              reject(
                Object.assign(new Error('empty response'), {
                  code: status.INTERNAL,
                  details: 'empty response',
                  metadata: new Metadata(),
                }),
              );
          },
        );
      });
    },
    close() {
      for (const { client } of clients.values()) client.close();
      clients.clear();
    },
  };
}
