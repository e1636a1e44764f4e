import { ServerCredentials } from '@grpc/grpc-js';

/**
 * TLS credentials of the Federation port whose certificate can be replaced while the server runs
 * (a key rotation renews the certificate, docs/protocol.md 15.2). New connections get the new
 * certificate; connections already open keep theirs until they close.
 *
 * @example
 * ```ts
 * const credentials = new RenewableServerCredentials(certificatePem, privateKeyPem);
 * server.bindAsync(address, credentials, callback);
 * credentials.replace(newCertificatePem, newPrivateKeyPem);
 * ```
 */
export class RenewableServerCredentials extends ServerCredentials {
  constructor(certificatePem: string, privateKeyPem: string) {
    // The server asks for no client certificate: peers are authenticated by their envelopes.
    super({ requestCert: false }, { cert: [Buffer.from(certificatePem)], key: [Buffer.from(privateKeyPem)] });
  }

  /** Presents `certificatePem` to every new connection from now on. */
  replace(certificatePem: string, privateKeyPem: string): void {
    this.updateSecureContextOptions({ cert: [Buffer.from(certificatePem)], key: [Buffer.from(privateKeyPem)] });
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
