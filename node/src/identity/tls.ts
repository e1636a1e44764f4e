import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A self-signed TLS certificate for the Federation port, pinned by peers through the card. */
export interface TlsMaterial {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/**
 * The TLS server name every Federation client sends, and a DNS name of every node certificate
 * (docs/protocol.md 2.5): TLS stacks that always check the host name (gRPC C-core in Python or
 * C++) connect with it as target name override.
 */
export const PEER_SERVER_NAME = 'tracenet-peer';

/**
 * Creates a self-signed ECDSA P-256 certificate with CN = participant id, for both ends of a
 * Federation connection (extended key usages `serverAuth` and `clientAuth`). Peers do not rely
 * on host names: they pin the certificate itself (its SHA-256 is in the signed peer card).
 */
export async function createSelfSignedCertificate(participantId: string, validDays: number): Promise<TlsMaterial> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: webcrypto
      .getRandomValues(Buffer.alloc(8))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${participantId.replace(/[,=+<>#;"\\]/g, '_')}, O=Tracenet`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validDays * 86_400_000),
    signingAlgorithm: ALGORITHM,
    keys: keys as unknown as x509.X509CertificateCreateSelfSignedParams['keys'],
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: PEER_SERVER_NAME },
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: toPem('PRIVATE KEY', pkcs8),
  };
}

/** DER bytes of the first certificate in a PEM text. */
export function pemToDer(pem: string): Buffer {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!match?.[1]) throw new Error('no certificate in PEM text');
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}

/** PEM text of DER certificate bytes. */
export function derToPem(der: Uint8Array): string {
  return toPem('CERTIFICATE', Buffer.from(der));
}

/** SHA-256 of DER certificate bytes: the pinned fingerprint. */
export function certificateFingerprint(der: Uint8Array): Buffer {
  return createHash('sha256').update(der).digest();
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
