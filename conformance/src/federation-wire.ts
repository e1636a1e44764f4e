import { Metadata, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import {
  connect as connectHttp2,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { FederationService } from '@tracenet/proto';
import { describe, type Outcome, wireError } from './check.js';
import type { TlsIdentity } from './codec/index.js';
import type { Target } from './target.js';

/**
 * The node's Federation port below gRPC, as a client sees it: TCP connections that send nothing
 * (or a few bytes), and HTTP/2 sessions over mutual TLS with a client certificate of the case's
 * choosing, on which a call may leave its request message unfinished. The cases of the port's
 * admission (protocol 2.5) and limits (5.1) observe with it what no gRPC library lets a client do.
 */

/** "host:port" split for `net.connect`. */
function hostAndPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

/** A TCP connection to the Federation port that the case writes to by hand, if at all. */
export interface RawConnection {
  readonly socket: Socket;
  /** When the TCP connection was established (`Date.now()`). */
  readonly connectedAt: number;
  /** Resolves with the time the connection closed (`Date.now()`): by the node, or by {@link end}. */
  readonly closed: Promise<number>;
  /** Whether it is closed already (by the node, or by {@link end}). */
  isClosed(): boolean;
  /**
   * Closes it as a client does (FIN) and waits up to a second for the node to close its end, so
   * that the node no longer counts it when the next case connects; then destroys it.
   */
  end(): Promise<void>;
}

/** Opens a TCP connection to the node's Federation port; resolves once it is established. */
export function openConnection(target: Target): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(hostAndPort(target.federation));
    let closedAt: number | undefined;
    const closed = new Promise<number>((r) =>
      socket.once('close', () => {
        closedAt = Date.now();
        r(closedAt);
      }),
    );
    socket.on('error', () => undefined);
    const end = async () => {
      socket.end();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
      socket.destroy();
    };
    socket.once('connect', () =>
      resolve({ socket, connectedAt: Date.now(), closed, isClosed: () => closedAt !== undefined, end }),
    );
    socket.once('close', () => reject(new Error(`the connection to ${target.federation} failed`)));
  });
}

/** How a raw call ended: a gRPC status (the outcome as a gRPC client reads it), or no gRPC answer at all. */
export type RawAnswer =
  | { readonly answered: true; readonly outcome: Outcome<Buffer>; readonly afterMs: number }
  | { readonly answered: false; readonly failure: string; readonly afterMs: number };

/** What a raw call sends: a whole message, or the start of one whose length prefix announces more (the stream then stays open). */
export interface RawRequest {
  readonly path: string;
  readonly message: Uint8Array;
  /** Announce this length in the prefix instead of the message's, and leave the stream open. */
  readonly announced?: number;
  /** Give up after this long (default 5 s). */
  readonly timeoutMs?: number;
}

/** An HTTP/2 session over TLS to the node's Federation port. */
export interface RawSession {
  readonly session: ClientHttp2Session;
  /** Whether the node sent its HTTP/2 SETTINGS: an HTTP/2 session exists (2.5: none without an admitted certificate). */
  settingsReceived(): boolean;
  /** Resolves once the connection is closed, by either end. */
  readonly closed: Promise<void>;
  call(request: RawRequest): Promise<RawAnswer>;
  /** Calls `Federation.GetPeerCard` (an empty request). */
  getPeerCard(timeoutMs?: number): Promise<RawAnswer>;
  close(): void;
}

/**
 * Opens an HTTP/2 session over TLS to the node's Federation port, trusting only the certificate of
 * the node's card and sending the server name `tracenet-peer` (protocol 2.5), with `client` as
 * client certificate (none when absent). It resolves once TLS is up; whether the node admits the
 * certificate shows in what follows (SETTINGS, answers, or the connection closed). It never
 * rejects: a connection closed before TLS is up is a session whose calls get no answer.
 */
export function openSession(target: Target, client?: TlsIdentity): Promise<RawSession> {
  const { host, port } = hostAndPort(target.federation);
  return new Promise((resolve) => {
    let settings = false;
    const session = connectHttp2(`https://${target.federation}`, {
      createConnection: () =>
        connectTls({
          host,
          port,
          ca: target.tlsCertificatePem,
          ...(client ? { cert: client.certificatePem, key: client.privateKeyPem } : {}),
          servername: 'tracenet-peer',
          ALPNProtocols: ['h2'],
          // The server is known by its certificate (the card's is the only trust anchor), not by a name.
          checkServerIdentity: () => undefined,
        }),
    });
    session.on('error', () => undefined);
    session.once('remoteSettings', () => {
      settings = true;
    });
    const closed = new Promise<void>((r) => session.once('close', () => r()));
    const raw: RawSession = {
      session,
      settingsReceived: () => settings,
      closed,
      call: (request) => rawCall(session, request),
      getPeerCard: (timeoutMs = 5000) =>
        rawCall(session, { path: FederationService.getPeerCard.path, message: new Uint8Array(0), timeoutMs }),
      close: () => session.destroy(),
    };
    // A connection the node closes during the handshake is a session whose calls get no answer.
    session.once('connect', () => resolve(raw));
    session.once('close', () => resolve(raw));
  });
}

/** The gRPC status of a response (trailers, or headers of a trailers-only response), as a client library reports it. */
function outcomeOfHeaders(status: number, headers: IncomingHttpHeaders, data: Buffer): Outcome<Buffer> {
  if (status === GrpcStatus.OK) return { ok: true, value: data.subarray(5) };
  const message = typeof headers['grpc-message'] === 'string' ? decodeURIComponent(headers['grpc-message']) : '';
  const error = Object.assign(new Error(message), {
    code: status,
    details: message,
    metadata: Metadata.fromHttp2Headers(headers),
  }) as ServiceError;
  return { ok: false, error: wireError(error) };
}

function rawCall(session: ClientHttp2Session, request: RawRequest): Promise<RawAnswer> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const timeoutMs = request.timeoutMs ?? 5000;
    let stream: ClientHttp2Stream | undefined;
    const timer = setTimeout(() => {
      settle({ answered: false, failure: `no answer within ${timeoutMs} ms`, afterMs: Date.now() - started });
      stream?.close();
    }, timeoutMs);
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    let problem: string | undefined;
    const chunks: Buffer[] = [];
    let opened: ClientHttp2Stream;
    try {
      opened = session.request(
        { ':method': 'POST', ':path': request.path, 'content-type': 'application/grpc', te: 'trailers' },
        { endStream: false },
      );
    } catch (error) {
      settle({
        answered: false,
        failure: `no gRPC answer: the connection was closed (${(error as Error).message})`,
        afterMs: Date.now() - started,
      });
      return;
    }
    opened.on('response', (h) => {
      headers = h;
    });
    opened.on('trailers', (t) => {
      trailers = t;
    });
    opened.on('data', (chunk: Buffer) => chunks.push(chunk));
    opened.on('error', (error: Error) => {
      problem = error.message;
    });
    opened.on('close', () => {
      const afterMs = Date.now() - started;
      const end = trailers ?? headers;
      const status = end['grpc-status'];
      if (status === undefined) {
        const why =
          problem ??
          (session.destroyed || session.closed
            ? 'the connection was closed'
            : `the stream was reset (RST_STREAM ${opened.rstCode ?? '?'})`);
        settle({ answered: false, failure: `no gRPC answer: ${why}`, afterMs });
        return;
      }
      settle({ answered: true, outcome: outcomeOfHeaders(Number(status), end, Buffer.concat(chunks)), afterMs });
    });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(request.announced ?? request.message.length, 1);
    opened.write(Buffer.concat([prefix, request.message]));
    if (request.announced === undefined) opened.end();
  });
}

/** Short description of a raw answer, for "got …". */
export function describeAnswer(answer: RawAnswer): string {
  return answer.answered
    ? `${describe(answer.outcome)} after ${answer.afterMs} ms`
    : `${answer.failure} (after ${answer.afterMs} ms)`;
}
