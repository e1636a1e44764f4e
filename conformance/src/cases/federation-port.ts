import { ErrorCode, FederationService } from '@tracenet/proto';
import type { CaseContext, ConformanceCase } from '../case.js';
import { CaseFailure, ensureEach, ensureRefused } from '../check.js';
import { certificateSha256, createTlsIdentity, randomBytes, type TlsIdentity } from '../codec/index.js';
import type { FakePeer } from '../fake-peer.js';
import {
  describeAnswer,
  openConnection,
  openSession,
  type RawAnswer,
  type RawConnection,
  type RawSession,
} from '../federation-wire.js';
import { sleep } from '../fixtures.js';

/**
 * A fake peer pinned with a client certificate of its own, which no other fake peer's card names:
 * its connections are told apart from the suite's own client (which presents the certificate all
 * other fake peers share), so that a case can count them against the limits of one peer.
 */
async function peerWithOwnCertificate(
  ctx: CaseContext,
  purpose: string,
): Promise<{ peer: FakePeer; tls: TlsIdentity }> {
  const tls = await createTlsIdentity(`conformance ${purpose}`, 86_400_000);
  const peer = await ctx.peer({ pin: false });
  const card = peer.makeCard(peer.keys, {
    tlsCertificate: tls.certificateDer,
    tlsCertificateSha256: certificateSha256(tls.certificateDer),
  });
  await ctx.target.authority.call('addPeer', { card, replaceKeys: false });
  return { peer, tls };
}

/** Resolves true once `closed` settles, false after `ms`. */
function within(closed: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([closed.then(() => true), sleep(ms).then(() => false)]);
}

const answeredOk = (answer: RawAnswer) => answer.answered && answer.outcome.ok;

/**
 * Who may speak on the Federation port (protocol 2.5) and the limits of that port (5.1), judged
 * from below gRPC: raw TCP connections, TLS with a client certificate of the case's choosing, and
 * HTTP/2 streams whose request message is left unfinished.
 */
export const FEDERATION_PORT_CASES: ConformanceCase[] = [
  {
    id: 'federation.unpinned-client-certificate',
    section: '2.5',
    cites: ['5.1'],
    feature: 'access',
    title:
      'a Federation connection whose client certificate no pinned card names, or without a client certificate, is closed at the handshake: no HTTP/2 SETTINGS, no answer to GetPeerCard (UNAVAILABLE to a gRPC client); the same client with a pinned certificate is answered',
    async run(ctx) {
      // The control: the same client, with a certificate a pinned card names, gets its answer.
      const { tls } = await peerWithOwnCertificate(ctx, 'pinned client');
      const control = await openSession(ctx.target, tls);
      try {
        const answer = await control.getPeerCard();
        if (!answeredOk(answer))
          throw new CaseFailure(
            'GetPeerCard answered over a connection whose client certificate a pinned card names',
            describeAnswer(answer),
          );
      } finally {
        control.close();
      }
      const unpinned = await createTlsIdentity('conformance unpinned client', 86_400_000);
      const clients: Array<[string, TlsIdentity | undefined]> = [
        ['a client certificate no pinned card names', unpinned],
        ['no client certificate', undefined],
      ];
      await ensureEach(
        'each such connection closed at the handshake, before any HTTP/2 data: no SETTINGS from the node, no answer to GetPeerCard',
        clients,
        ([what]) => what,
        async ([, client]) => {
          const session = await openSession(ctx.target, client);
          try {
            const answer = await session.getPeerCard(3000);
            const closed = await within(session.closed, 1000);
            if (answer.answered) throw new CaseFailure('no answer', describeAnswer(answer));
            if (session.settingsReceived())
              throw new CaseFailure('no HTTP/2 session', `the node sent its HTTP/2 SETTINGS, then ${answer.failure}`);
            if (!closed) throw new CaseFailure('the connection closed', `still open; ${answer.failure}`);
          } finally {
            session.close();
          }
        },
      );
    },
  },
  {
    id: 'limits.handshakes-per-address',
    section: '5.1',
    feature: 'limits',
    title:
      'a connection from a source address that already has federation.maxConnectionsPerAddress connections in their TLS handshake is closed at once; those under the cap stay open',
    async run(ctx) {
      const cap = ctx.settings.maxConnectionsPerAddress;
      const waitMs = Math.min(2000, Math.floor(ctx.settings.handshakeTimeoutMs / 2));
      const connections: RawConnection[] = [];
      try {
        // TCP connections that never send a ClientHello: each stays in its handshake. The node
        // accepts them in the order they were made, so the last one is over the cap.
        for (let i = 0; i < cap; i += 1) connections.push(await openConnection(ctx.target));
        const over = await openConnection(ctx.target);
        connections.push(over);
        if (!(await within(over.closed, waitMs))) {
          throw new CaseFailure(
            `connection ${cap + 1} of this address, with ${cap} in their TLS handshake, closed at once (federation.maxConnectionsPerAddress = ${cap}; another value: --max-connections-per-address)`,
            `still open after ${waitMs} ms`,
          );
        }
        const [first] = connections;
        if (first?.isClosed())
          throw new CaseFailure(
            'the connections under the cap kept until their handshake timeout',
            `the first one closed too, ${Date.now() - first.connectedAt} ms after it was made`,
          );
      } finally {
        await Promise.all(connections.map((c) => c.end()));
      }
    },
  },
  {
    id: 'limits.handshake-timeout',
    section: '5.1',
    feature: 'limits',
    title:
      'a TLS handshake not finished federation.handshakeTimeoutMs after the connection is closed, although the client keeps sending a byte of its ClientHello now and then',
    async run(ctx) {
      const timeoutMs = ctx.settings.handshakeTimeoutMs;
      const waitMs = timeoutMs + 2000;
      const connection = await openConnection(ctx.target);
      // A ClientHello begun and never finished: a handshake record of 512 bytes, a ClientHello of
      // 508, version TLS 1.2, then its 32 random bytes one at a time (a timer restarted by each
      // byte would never expire).
      connection.socket.write(Buffer.from('1603010200010001fc0303', 'hex'));
      const random = randomBytes(32);
      const everyMs = Math.max(100, Math.floor(timeoutMs / 20));
      let sent = 0;
      const drip = setInterval(() => {
        if (sent < random.length && !connection.isClosed()) connection.socket.write(random.subarray(sent, (sent += 1)));
      }, everyMs);
      try {
        const expected = `the connection closed ${timeoutMs} ms after it was made (federation.handshakeTimeoutMs; another value: --handshake-timeout-ms), whatever the client sends meanwhile`;
        if (!(await within(connection.closed, waitMs)))
          throw new CaseFailure(
            expected,
            `still open after ${waitMs} ms, the client having sent a byte of its ClientHello every ${everyMs} ms`,
          );
        // Closed long before the timeout, it was closed for another reason (a cap, a malformed byte): the timeout is not shown.
        const afterMs = (await connection.closed) - connection.connectedAt;
        if (afterMs < timeoutMs * 0.9)
          throw new CaseFailure(expected, `closed after ${afterMs} ms, before the timeout`);
      } finally {
        clearInterval(drip);
        await connection.end();
      }
    },
  },
  {
    id: 'limits.connections-per-peer',
    section: '5.1',
    feature: 'limits',
    title:
      "with federation.maxConnectionsPerPeer connections of one pinned peer's client certificate open and answered, one more connection of it is closed after the handshake and gets no answer",
    async run(ctx) {
      const cap = ctx.settings.maxConnectionsPerPeer;
      const { tls } = await peerWithOwnCertificate(ctx, 'connections per peer');
      const sessions: RawSession[] = [];
      try {
        for (let i = 0; i < cap; i += 1) sessions.push(await openSession(ctx.target, tls));
        const answers = await Promise.all(sessions.map((s) => s.getPeerCard()));
        const refused = answers.flatMap((answer, i) =>
          answeredOk(answer) ? [] : [`connection ${i + 1}: ${describeAnswer(answer)}`],
        );
        if (refused.length > 0)
          throw new CaseFailure(
            `${cap} connections of one pinned peer's certificate admitted and answered (federation.maxConnectionsPerPeer = ${cap}; another value: --max-connections-per-peer)`,
            refused.join('; '),
          );
        const over = await openSession(ctx.target, tls);
        sessions.push(over);
        const answer = await over.getPeerCard(3000);
        const closed = await within(over.closed, 1000);
        const expected = `connection ${cap + 1} of the same certificate, with ${cap} open, closed after the handshake without an answer (federation.maxConnectionsPerPeer = ${cap})`;
        if (answer.answered) throw new CaseFailure(expected, describeAnswer(answer));
        if (!closed) throw new CaseFailure(expected, `still open; ${answer.failure}`);
      } finally {
        for (const s of sessions) s.close();
      }
    },
  },
  {
    id: 'limits.arrival-timeout',
    section: '5.1',
    feature: 'limits',
    title:
      'requests of one pinned peer whose message is still arriving — federation.maxArrivingPerPeer of them arriving, one more waiting unread — are each cancelled DEADLINE_EXCEEDED (request, arrival_timeout) federation.arrivalTimeoutMs after its call started, the wait included',
    async run(ctx) {
      const { arrivalTimeoutMs, maxArrivingPerPeer } = ctx.settings;
      const { tls } = await peerWithOwnCertificate(ctx, 'arrival timeout');
      const session = await openSession(ctx.target, tls);
      try {
        // Each Deliver announces a message of 1 KiB and sends 8 bytes of it; the streams stay open.
        const answers = await Promise.all(
          Array.from({ length: maxArrivingPerPeer + 1 }, () =>
            session.call({
              path: FederationService.deliver.path,
              message: Buffer.alloc(8),
              announced: 1024,
              timeoutMs: arrivalTimeoutMs + 3000,
            }),
          ),
        );
        const wrong: string[] = [];
        answers.forEach((answer, i) => {
          const which =
            i < maxArrivingPerPeer
              ? `request ${i + 1}`
              : `request ${i + 1} (over federation.maxArrivingPerPeer = ${maxArrivingPerPeer}: waiting)`;
          if (!answer.answered) return wrong.push(`${which}: ${describeAnswer(answer)}`);
          try {
            ensureRefused(answer.outcome, {
              code: ErrorCode.ERROR_CODE_DEADLINE_EXCEEDED,
              field: 'request',
              rule: 'arrival_timeout',
            });
          } catch (error) {
            if (!(error instanceof CaseFailure)) throw error;
            return wrong.push(`${which}: ${error.got} after ${answer.afterMs} ms`);
          }
          if (answer.afterMs < arrivalTimeoutMs - 500)
            return wrong.push(`${which}: cancelled after ${answer.afterMs} ms, before its timeout`);
          return undefined;
        });
        if (wrong.length > 0) {
          throw new CaseFailure(
            `each request cancelled DEADLINE_EXCEEDED (request, arrival_timeout) ${arrivalTimeoutMs} ms after its call's start (federation.arrivalTimeoutMs; another value: --arrival-timeout-ms)`,
            wrong.join('; '),
          );
        }
      } finally {
        session.close();
      }
    },
  },
];
