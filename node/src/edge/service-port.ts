import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { Server, ServerCredentials, type ServerInterceptor } from '@grpc/grpc-js';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import type { Logger } from 'pino';
import type { TlsMaterial } from '../identity/tls.js';
import { systemScheduler } from '../util/scheduler.js';
import { ArrivalSlots, arrivalInterceptor } from './interceptors.js';
import type { RefusalSource } from '../federation/refusal-tally.js';
import { hostAndPort } from '../util/host-port.js';

/** What one port accepts at most, and for how long (docs/reliability.md, section Security). */
export interface PortLimits {
  /** Connections at once, authenticated or not. */
  readonly maxConnections: number;
  /** Connections of one source address whose TLS handshake has not finished. */
  readonly maxConnectionsPerAddress: number;
  /** A TLS handshake not finished after this is closed. */
  readonly handshakeTimeoutMs: number;
  /** HTTP/2 streams at once on one connection. */
  readonly maxStreamsPerConnection: number;
  /** Largest request message; a larger one is refused when its length prefix arrives. */
  readonly maxReceiveBytes: number;
  /** A request message not fully arrived after this is cancelled ({@link arrivalInterceptor}). */
  readonly arrivalTimeoutMs: number;
  /** A connection without calls for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A connection is closed after this age (and a grace for its calls); 0: never. */
  readonly maxConnectionAgeMs: number;
}

/** What a finished TLS handshake means for the connection. */
export type Admission = { readonly identity?: string } | { readonly refused: string };

/** How a port terminates TLS, and whom it lets in. */
export interface PortTls {
  readonly material: TlsMaterial;
  /** Ask clients for a certificate. */
  readonly requestCertificate: boolean;
  /** PEM certificates that client certificates must chain to; without them no chain is checked. */
  readonly clientCa?: string;
  /**
   * Decides after the handshake, before a byte of HTTP/2 is read: the caller's identity (the
   * pinned peer of its certificate) or the reason to close the connection.
   */
  readonly admit: (socket: TLSSocket) => Admission;
}

/** Grace of the calls of a connection that reached its maximum age. */
const CONNECTION_AGE_GRACE_MS = 30_000;

/**
 * One gRPC port of a node with its limits applied before gRPC sees a byte (docs/reliability.md,
 * section Security). The port owns its listening socket: it counts connections in total and per
 * source address, closes those over a cap at once, terminates TLS itself with a handshake timeout,
 * lets {@link PortTls.admit} decide on the client certificate (the Federation port accepts only
 * certificates pinned in a peer's card, docs/protocol.md 2.5) and only then hands the connection
 * to grpc-js, whose server applies the stream cap, the receive limit, idle and maximum age, and
 * the deadline of a request still arriving. Every refusal of a connection is reported to
 * `onRefused`, so that it is counted and audited like any refusal before authentication.
 *
 * @example
 * ```ts
 * const port = new ServicePort({ key: 'federation.listen', limits, tls, onRefused, logger });
 * addFederationService(port.server, deps);
 * const boundPort = await port.listen('0.0.0.0:7443');
 * await port.shutdown();
 * ```
 */
export class ServicePort {
  /** The gRPC server: add services to it before {@link listen}. */
  readonly server: Server;
  readonly #options: {
    key: 'federation.listen' | 'authority.listen';
    limits: PortLimits;
    tls?: PortTls;
    maxConnectionsPerIdentity?: number;
    onRefused: (source: RefusalSource, reason: string) => void;
    logger: Logger;
  };
  readonly #listener: NetServer;
  readonly #tls: TlsServer | undefined;
  readonly #inject: (socket: Socket) => void;
  readonly #sockets = new Set<Socket>();
  /** Source address → connections whose handshake has not finished. */
  readonly #handshaking = new Map<string, number>();
  /** Connections in their handshake by "address:port", with their raw socket. */
  readonly #pending = new Map<string, Socket>();
  /** Identity → authenticated connections. */
  readonly #perIdentity = new Map<string, number>();
  /** "address:port" as grpc-js's `getPeer()` gives it → identity of the connection. */
  readonly #identities = new Map<string, string>();

  constructor(options: {
    /** The configuration key of the address, named in errors. */
    key: 'federation.listen' | 'authority.listen';
    limits: PortLimits;
    /** Plaintext without it. */
    tls?: PortTls;
    /** Authenticated connections of one identity at once; with `arrivingPerIdentity`, requests of one identity still arriving. */
    maxConnectionsPerIdentity?: number;
    arrivingPerIdentity?: number;
    /** Further interceptors, run after the arrival limits (e.g. the bearer token check). */
    interceptors?: ServerInterceptor[];
    onRefused: (source: RefusalSource, reason: string) => void;
    logger: Logger;
  }) {
    const { limits } = options;
    this.#options = options;
    const admission = options.arrivingPerIdentity
      ? {
          slots: new ArrivalSlots(options.arrivingPerIdentity),
          keyOf: (call: { getPeer(): string }) => this.identityOf(call.getPeer()) ?? call.getPeer(),
        }
      : undefined;
    this.server = new Server({
      'grpc.max_receive_message_length': limits.maxReceiveBytes,
      'grpc.max_concurrent_streams': limits.maxStreamsPerConnection,
      'grpc.max_connection_idle_ms': limits.idleTimeoutMs,
      ...(limits.maxConnectionAgeMs > 0
        ? {
            'grpc.max_connection_age_ms': limits.maxConnectionAgeMs,
            'grpc.max_connection_age_grace_ms': CONNECTION_AGE_GRACE_MS,
          }
        : {}),
      interceptors: [arrivalInterceptor(limits.arrivalTimeoutMs, admission), ...(options.interceptors ?? [])],
    });
    const injector = this.server.createConnectionInjector(ServerCredentials.createInsecure());
    this.#inject = (socket) => injector.injectConnection(socket);
    this.#tls = options.tls ? this.#tlsServer(options.tls) : undefined;
    this.#listener = createServer((socket) => this.#accept(socket));
    // Over the cap Node closes a connection before it becomes a socket object: the cheapest refusal.
    this.#listener.maxConnections = limits.maxConnections;
    this.#listener.on('drop', (dropped?: { remoteAddress?: string }) =>
      options.onRefused({ address: plainAddress(dropped?.remoteAddress) }, 'connection.max_connections'),
    );
  }

  /** Binds "host:port" (port 0 picks one) and resolves with the bound port; UNAVAILABLE naming the key when it cannot. */
  listen(address: string): Promise<number> {
    const { host, port } = hostAndPort(address);
    return new Promise((resolve, reject) => {
      const failed = (error: Error) =>
        reject(
          new TracenetError(ErrorCode.ERROR_CODE_UNAVAILABLE, `cannot listen on ${address}: ${error.message}`, {
            field: this.#options.key,
            rule: 'listen',
            cause: error,
          }),
        );
      this.#listener.once('error', failed);
      this.#listener.listen({ host, port }, () => {
        this.#listener.off('error', failed);
        this.#listener.on('error', (error) =>
          this.#options.logger.error({ err: error, port: this.#options.key }, 'listening socket failed'),
        );
        resolve((this.#listener.address() as { port: number }).port);
      });
    });
  }

  /** Presents `material` to every new connection from now on (a key rotation renews the certificate, 15.2). */
  replaceCertificate(material: TlsMaterial): void {
    this.#tls?.setSecureContext({
      cert: material.certificatePem,
      key: material.privateKeyPem,
      ...(this.#options.tls?.clientCa ? { ca: this.#options.tls.clientCa } : {}),
    });
  }

  /** The identity admitted for the connection of a call (`call.getPeer()`), if any. */
  identityOf(peer: string): string | undefined {
    return this.#identities.get(peer);
  }

  /** Who made a call, from its `getPeer()` ("address:port"): the address, and the identity of its connection. */
  sourceOf(call: { getPeer(): string }): RefusalSource {
    const peer = call.getPeer();
    const identity = this.identityOf(peer);
    return {
      address: plainAddress(peer.slice(0, peer.lastIndexOf(':'))),
      ...(identity !== undefined ? { peer: identity } : {}),
    };
  }

  /**
   * Stops accepting, closes connections still in their handshake, lets calls in flight end (up to
   * 5 s) and closes the rest. Idempotent.
   */
  async shutdown(): Promise<void> {
    // Stops accepting; its callback would wait for every connection, which the gRPC server closes below.
    if (this.#listener.listening) this.#listener.close();
    for (const socket of this.#pending.values()) socket.destroy();
    await new Promise<void>((resolve) => {
      const force = systemScheduler.setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 5000);
      this.server.tryShutdown(() => {
        force.cancel();
        resolve();
      });
    });
    for (const socket of this.#sockets) socket.destroy();
  }

  #refuse(socket: Socket, source: RefusalSource, reason: string): void {
    socket.destroy();
    this.#options.onRefused(source, reason);
  }

  #accept(socket: Socket): void {
    const address = sourceAddress(socket);
    socket.on('error', () => undefined);
    const { limits, tls } = this.#options;
    if (tls && (this.#handshaking.get(address) ?? 0) >= limits.maxConnectionsPerAddress)
      return this.#refuse(socket, { address }, 'connection.max_connections_per_address');
    this.#sockets.add(socket);
    const peer = peerOf(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#handshakeEnded(peer);
      const identity = this.#identities.get(peer);
      this.#identities.delete(peer);
      if (identity !== undefined) count(this.#perIdentity, identity, -1);
    });
    if (!tls) {
      this.#inject(socket);
      return;
    }
    this.#pending.set(peer, socket);
    count(this.#handshaking, address, 1);
    // From the connection on, whatever the client sends meanwhile (Node's own handshake timeout
    // restarts with every byte, so a client dripping bytes would never meet it).
    const timer = systemScheduler.setTimeout(() => {
      if (this.#pending.get(peer) !== socket) return;
      this.#refuse(socket, { address }, 'tls.handshake_timeout');
    }, limits.handshakeTimeoutMs);
    socket.once('close', () => timer.cancel());
    this.#tls?.emit('connection', socket);
  }

  #handshakeEnded(peer: string): void {
    const socket = this.#pending.get(peer);
    if (!socket) return;
    this.#pending.delete(peer);
    count(this.#handshaking, sourceAddress(socket), -1);
  }

  #tlsServer(tls: PortTls): TlsServer {
    const server = createTlsServer({
      cert: tls.material.certificatePem,
      key: tls.material.privateKeyPem,
      ...(tls.clientCa ? { ca: tls.clientCa } : {}),
      requestCert: tls.requestCertificate,
      // The port decides itself (admit): a refusal is then counted like any other.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      // The port's own timer applies instead (#accept).
      handshakeTimeout: 0,
    });
    // Not destroyed by Node itself: a failed handshake would otherwise hold its connection.
    server.on('tlsClientError', (_error: Error, socket: TLSSocket) =>
      this.#refuse(socket, { address: sourceAddress(socket) }, 'tls.handshake_failed'),
    );
    server.on('secureConnection', (socket: TLSSocket) => this.#admit(tls, socket));
    return server;
  }

  #admit(tls: PortTls, socket: TLSSocket): void {
    const address = sourceAddress(socket);
    const peer = peerOf(socket);
    this.#handshakeEnded(peer);
    const admission = tls.admit(socket);
    if ('refused' in admission) return this.#refuse(socket, { address }, admission.refused);
    const { identity } = admission;
    if (identity !== undefined) {
      if ((this.#perIdentity.get(identity) ?? 0) >= (this.#options.maxConnectionsPerIdentity ?? Infinity)) {
        return this.#refuse(socket, { address, peer: identity }, 'connection.max_connections_per_peer');
      }
      count(this.#perIdentity, identity, 1);
      this.#identities.set(peer, identity);
    }
    this.#inject(socket);
  }
}

/** An IP address as sources are counted: IPv4-mapped IPv6 addresses written as IPv4. */
function plainAddress(address: string | undefined): string {
  return (address ?? 'unknown').replace(/^::ffff:/, '');
}

/** The caller's IP address. */
function sourceAddress(socket: Socket): string {
  return plainAddress(socket.remoteAddress);
}

/** "address:port" of a connection, as grpc-js's `call.getPeer()` gives it. */
function peerOf(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

function count(map: Map<string, number>, key: string, delta: number): void {
  const value = (map.get(key) ?? 0) + delta;
  if (value > 0) map.set(key, value);
  else map.delete(key);
}
