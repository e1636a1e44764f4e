import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that adds latency: every chunk read from either side is written to the
 * other `oneWayMs` later (so a round trip gains twice that), in order, and an end or close is
 * passed on after the same delay. It relays bytes only, so TLS and HTTP/2 run end to end through
 * it unchanged. The kernel here has no `tc netem` (shared/notes/environment.md), so the fan-out
 * benchmark puts one of these in front of each participant and advertises its address in the
 * participant's card.
 */
export interface LatencyProxy {
  /** Where the proxy listens, "127.0.0.1:port": the endpoint to advertise. */
  readonly address: string;
  /** Where the proxy connects each accepted connection to, "host:port"; set before the first connection. */
  target: string | undefined;
  close(): Promise<void>;
}

/** Pipes `from` into `to`, each chunk and the end `oneWayMs` late. */
function delayedPipe(from: Socket, to: Socket, oneWayMs: number): void {
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, oneWayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), oneWayMs));
  from.on('close', () => setTimeout(() => to.destroy(), oneWayMs));
  from.on('error', () => undefined);
}

/** Starts a latency proxy on an ephemeral loopback port. */
export async function startLatencyProxy(oneWayMs: number): Promise<LatencyProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
  };
  const proxy = {
    address: '',
    target: undefined as string | undefined,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((client) => {
    track(client);
    const target = proxy.target;
    if (!target) {
      client.destroy();
      return;
    }
    const colon = target.lastIndexOf(':');
    const upstream = connect({ host: target.slice(0, colon), port: Number(target.slice(colon + 1)) });
    track(upstream);
    // The connection to the target is made at once; only the bytes wait, as on a long link.
    delayedPipe(client, upstream, oneWayMs);
    delayedPipe(upstream, client, oneWayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('latency proxy has no TCP address');
  proxy.address = `127.0.0.1:${bound.port}`;
  return proxy;
}
