import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { FederationClient } from '@tracenet/proto';
import { PEER_SERVER_NAME, type TlsMaterial } from '../identity/tls.js';
import { EXIT } from './exit-codes.js';
import { hostAndPort } from '../util/host-port.js';

/**
 * What `tracenet peers check` found: the peer answers with the pinned certificate and accepts
 * ours (`ok`); nothing answers (`peer_down`: connection refused, no route, no answer in time);
 * something answers with another certificate than the one pinned (`wrong_certificate`); or the
 * TLS handshake or the peer's check of our certificate failed (`tls_refused`).
 */
export type PeerCheckVerdict = 'ok' | 'peer_down' | 'wrong_certificate' | 'tls_refused';

/** The result of one check. */
export interface PeerCheckResult {
  readonly participantId: string;
  readonly endpoint: string;
  readonly verdict: PeerCheckVerdict;
  /** One sentence for the operator: what was found and what to do. */
  readonly detail: string;
  /** SHA-256 (hex) of the certificate pinned in the peer's card. */
  readonly pinnedFingerprint: string;
  /** SHA-256 (hex) of the certificate the endpoint presented; empty when none was seen. */
  readonly presentedFingerprint: string;
}

/** The exit code of a check: 0 ok, 6 peer down, 5 certificate or TLS refusal (docs/operations.md). */
export function peerCheckExitCode(verdict: PeerCheckVerdict): number {
  if (verdict === 'ok') return EXIT.ok;
  return verdict === 'peer_down' ? EXIT.unreachable : EXIT.refusedByPeer;
}

/** Socket errors that mean nothing answers at the endpoint. */
const DOWN = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Step 1: TCP and TLS to the endpoint, reading the certificate it presents (nothing trusted yet). */
function handshake(
  endpoint: string,
  tls: TlsMaterial,
  timeoutMs: number,
): Promise<{ fingerprint: string } | { down: string } | { tlsError: string }> {
  const { host, port } = hostAndPort(endpoint);
  return new Promise((resolve) => {
    let connected = false;
    const socket = tlsConnect({
      host,
      port,
      servername: PEER_SERVER_NAME,
      ALPNProtocols: ['h2'],
      cert: tls.certificatePem,
      key: tls.privateKeyPem,
      // The certificate is compared with the pinned fingerprint below, as the Federation client does.
      rejectUnauthorized: false,
    });
    const done = (result: { fingerprint: string } | { down: string } | { tlsError: string }) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () =>
      done(
        connected
          ? { tlsError: `no TLS handshake within ${timeoutMs} ms` }
          : { down: `no answer within ${timeoutMs} ms` },
      ),
    );
    socket.once('connect', () => {
      connected = true;
    });
    socket.once('secureConnect', () => {
      const certificate: PeerCertificate = socket.getPeerCertificate();
      done({ fingerprint: (certificate.fingerprint256 ?? '').replace(/:/g, '').toLowerCase() });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected && DOWN.has(error.code ?? '')) done({ down: `${error.code}` });
      else done({ tlsError: error.message });
    });
  });
}

/** Step 2: a Federation call over mutual TLS, as the node makes them: does the peer accept our certificate? */
function federationCall(endpoint: string, tls: TlsMaterial, timeoutMs: number): Promise<ServiceError | undefined> {
  const client = new FederationClient(
    endpoint,
    credentials.createSsl(null, Buffer.from(tls.privateKeyPem), Buffer.from(tls.certificatePem), {
      // The server certificate was compared with the pin in step 1.
      checkServerIdentity: () => undefined,
      rejectUnauthorized: false,
    }),
    { 'grpc.ssl_target_name_override': PEER_SERVER_NAME },
  );
  return new Promise((resolve) => {
    client.getPeerCard({}, new Metadata(), { deadline: Date.now() + timeoutMs }, (error) => {
      client.close();
      resolve(error ?? undefined);
    });
  });
}

/**
 * Checks the connection to a pinned peer the way the node reaches it: its first endpoint, the
 * certificate pinned in its card, our own TLS certificate. Tells a peer that is down from a wrong
 * pin (the endpoint presents another certificate) and from a TLS refusal.
 *
 * @example
 * ```ts
 * const result = await checkPeer({ participantId: 'BEL', endpoint: 'bel.example:7443', pinnedFingerprint, tls: identity.tls });
 * if (result.verdict !== 'ok') console.log(result.detail);
 * ```
 */
export async function checkPeer(options: {
  readonly participantId: string;
  readonly endpoint: string;
  readonly pinnedFingerprint: string;
  readonly tls: TlsMaterial;
  readonly timeoutMs?: number;
}): Promise<PeerCheckResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const pinned = options.pinnedFingerprint.toLowerCase();
  const base = { participantId: options.participantId, endpoint: options.endpoint, pinnedFingerprint: pinned };
  const seen = await handshake(options.endpoint, options.tls, timeoutMs);
  if ('down' in seen)
    return {
      ...base,
      verdict: 'peer_down',
      presentedFingerprint: '',
      detail: `peer down: nothing answers at ${options.endpoint} (${seen.down}); the peer's node is stopped, or a network or firewall is in the way`,
    };
  if ('tlsError' in seen)
    return {
      ...base,
      verdict: 'tls_refused',
      presentedFingerprint: '',
      detail: `TLS failed with ${options.endpoint}: ${seen.tlsError}; is it the peer's Federation port?`,
    };
  if (seen.fingerprint !== pinned)
    return {
      ...base,
      verdict: 'wrong_certificate',
      presentedFingerprint: seen.fingerprint,
      detail: `wrong certificate pinned: ${options.endpoint} presents the certificate ${seen.fingerprint}, the card pinned here names ${pinned}; compare the TLS fingerprint with ${options.participantId} by telephone and pin its current card`,
    };
  const refused = await federationCall(options.endpoint, options.tls, timeoutMs);
  if (refused)
    return {
      ...base,
      verdict: 'tls_refused',
      presentedFingerprint: seen.fingerprint,
      detail: `${options.participantId} presents the pinned certificate but refused our connection (${refused.details || refused.message}); has it pinned our current card?`,
    };
  return {
    ...base,
    verdict: 'ok',
    presentedFingerprint: seen.fingerprint,
    detail: `ok: ${options.participantId} answers at ${options.endpoint} with the pinned certificate and accepts ours`,
  };
}
