// An attacker of a node's port, run as its own process (forked by the edge tests) so that its work
// does not slow down the test's own measurements. Plain JavaScript on node: built-ins only.
//
// argv[2] is a JSON plan:
//   { target: "127.0.0.1:7443", mode, addresses: 100, firstAddress: 2, perAddress: 8, durationMs, tls?: { ca, cert?, key? },
//     streams?: 32, connections?: 8, messageBytes?: 4194303, path?: "/tracenet.v1.Federation/Deliver" }
// modes:
//   "idle"    TCP connections that send nothing, from 127.0.0.<firstAddress> … (addresses × perAddress), reopened when closed;
//   "partial" the same, each sending the first bytes of a TLS ClientHello and then nothing;
//   "stall"   HTTP/2 connections (TLS when `tls` is given, with a client certificate when it has one),
//             each keeping `streams` calls open that announce a `messageBytes` gRPC message, send all
//             of it but the last byte as fast as flow control allows, and stall; closed ones are reopened.
// It reports { type: "stats", ... } to its parent every 200 ms and at the end, then exits.
import { connect as netConnect } from 'node:net';
import { connect as http2Connect } from 'node:http2';
import { setInterval, clearInterval, setTimeout } from 'node:timers';

const plan = JSON.parse(process.argv[2]);
const [host, port] = [
  plan.target.slice(0, plan.target.lastIndexOf(':')),
  Number(plan.target.slice(plan.target.lastIndexOf(':') + 1)),
];
const stats = {
  type: 'stats',
  /** Connections made (TCP accepted by the node). */
  connected: 0,
  /** Connections the node closed. */
  closed: 0,
  /** Connections open now, and the most open at once per source address. */
  open: 0,
  maxOpenPerAddress: 0,
  /** The longest time a connection stayed open (closed by the node, or still open at a report). */
  longestOpenMs: 0,
  /** Connections the node closed within 100 ms of accepting them (a connection cap). */
  closedAtOnce: 0,
  /** HTTP/2 sessions established, and sessions that failed (handshake refused). */
  sessions: 0,
  sessionErrors: 0,
  /** Streams opened, streams the node answered or reset, bytes of request data accepted by flow control. */
  streams: 0,
  streamsEnded: 0,
  bytesSent: 0,
  /** gRPC statuses seen in trailers or headers, by code. */
  statuses: {},
  /** Streams answered before their message was sent (refused without reading it). */
  answeredEarly: 0,
};
let running = true;
const openPerAddress = new Map();
const source = (i) => `127.0.0.${(plan.firstAddress ?? 2) + (i % plan.addresses)}`;
/** Open connections by their opening time. */
const openSince = new Set();
const report = () => {
  const now = Date.now();
  for (const since of openSince) stats.longestOpenMs = Math.max(stats.longestOpenMs, now - since.at);
  process.send?.({ ...stats });
};
const timer = setInterval(report, 200);

function tcp(index, partial) {
  if (!running) return;
  const localAddress = source(index);
  const socket = netConnect({ host, port, localAddress });
  let openedAt = 0;
  const since = { at: 0 };
  socket.on('connect', () => {
    openedAt = Date.now();
    since.at = openedAt;
    openSince.add(since);
    stats.connected += 1;
    stats.open += 1;
    const open = (openPerAddress.get(localAddress) ?? 0) + 1;
    openPerAddress.set(localAddress, open);
    stats.maxOpenPerAddress = Math.max(stats.maxOpenPerAddress, open);
    // A TLS record header of a ClientHello announcing 512 bytes, and 5 of them.
    if (partial) socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]));
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    openSince.delete(since);
    if (openedAt > 0 && running) {
      const lived = Date.now() - openedAt;
      stats.closed += 1;
      stats.open -= 1;
      openPerAddress.set(localAddress, (openPerAddress.get(localAddress) ?? 1) - 1);
      stats.longestOpenMs = Math.max(stats.longestOpenMs, lived);
      if (lived < 100) stats.closedAtOnce += 1;
    }
    // Reopened at once, as an attacker would: the node must not need the attacker's help to stay up.
    if (running) setTimeout(() => tcp(index, partial), 10);
  });
}

function stallStream(session) {
  if (!running || session.closed || session.destroyed) return;
  let stream;
  try {
    stream = session.request({
      ':method': 'POST',
      ':path': plan.path ?? '/tracenet.v1.Federation/Deliver',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
  } catch {
    return;
  }
  stats.streams += 1;
  const size = plan.messageBytes ?? 4 * 1024 * 1024 - 1;
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(size, 1);
  const chunk = Buffer.alloc(16 * 1024, 0x5a);
  let left = size - 1;
  const pump = () => {
    while (running && left > 0 && !stream.destroyed) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      stats.bytesSent += piece.length;
      if (!stream.write(piece)) return;
    }
  };
  stream.on('response', (headers) => {
    const status = headers['grpc-status'];
    if (status !== undefined) stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
    if (left > 0) stats.answeredEarly += 1;
  });
  stream.on('trailers', (trailers) => {
    const status = trailers['grpc-status'];
    if (status !== undefined) stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
  });
  stream.on('drain', pump);
  stream.on('error', () => undefined);
  stream.on('close', () => {
    stats.streamsEnded += 1;
    if (running) setTimeout(() => stallStream(session), 10);
  });
  stream.write(prefix);
  pump();
}

function stall(index) {
  if (!running) return;
  const tls = plan.tls;
  const authority = `${tls ? 'https' : 'http'}://${plan.target}`;
  const session = http2Connect(authority, {
    ...(tls
      ? {
          ca: tls.ca,
          ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
          servername: 'tracenet-peer',
          checkServerIdentity: () => undefined,
        }
      : {}),
    localAddress: source(index),
  });
  let established = false;
  session.on('error', () => undefined);
  // The node's SETTINGS frame: HTTP/2 was served, so the handshake was admitted.
  session.on('remoteSettings', () => {
    if (established) return;
    established = true;
    stats.sessions += 1;
    for (let i = 0; i < (plan.streams ?? 32); i += 1) stallStream(session);
  });
  session.on('close', () => {
    if (!established) stats.sessionErrors += 1;
    if (running) setTimeout(() => stall(index), 50);
  });
}

if (plan.mode === 'stall') for (let i = 0; i < (plan.connections ?? 1); i += 1) stall(i);
else for (let i = 0; i < plan.addresses * plan.perAddress; i += 1) tcp(i, plan.mode === 'partial');

setTimeout(() => {
  running = false;
  clearInterval(timer);
  report();
  setTimeout(() => process.exit(0), 100);
}, plan.durationMs);
