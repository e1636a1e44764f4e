import { ErrorCode, SealedContent } from '@tracenet/proto';
import type { ParsedEnvelope } from '@tracenet/node';
import { EnvelopeOpener, sodium } from './internals.js';
import { main } from './launch.js';

type Authenticate = typeof EnvelopeOpener.prototype.authenticate;
type Deps = { deps: { peers: { get(id: string): { pairKey: Buffer } | undefined } } };

/**
 * Breaks protocol 4.5: when the AEAD tag does not verify, the node decrypts anyway (XChaCha20
 * without the Poly1305 check) — the header and ciphertext are no longer authenticated before the
 * signature work, and a tampered envelope is answered as if it came from the pair.
 */
main('skips-header-auth', () => {
  const authenticate = EnvelopeOpener.prototype.authenticate;
  EnvelopeOpener.prototype.authenticate = function (
    this: EnvelopeOpener,
    parsed: ParsedEnvelope,
  ): ReturnType<Authenticate> {
    try {
      return authenticate.call(this, parsed);
    } catch (error) {
      // The one refusal before authentication (protocol 4.4) carries the precise reason as its cause.
      if ((error as { cause?: { code?: unknown } }).cause?.code !== ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED)
        throw error;
      const peer = (this as unknown as Deps).deps.peers.get(parsed.header.sender);
      if (!peer) throw error;
      const { ciphertext, nonce } = parsed.envelope;
      // AEAD "encryption" of the ciphertext without its tag XORs the same key stream back off.
      const plain = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        ciphertext.subarray(0, ciphertext.length - 16),
        null,
        null,
        nonce,
        peer.pairKey,
      ).ciphertext;
      return { peer, sealed: SealedContent.decode(plain) } as ReturnType<Authenticate>;
    }
  };
});
