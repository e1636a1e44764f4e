import { TracenetError } from '@tracenet/proto';
import type { ParsedEnvelope } from '@tracenet/node';
import { EnvelopeOpener } from './internals.js';
import { main } from './launch.js';

type Verify = typeof EnvelopeOpener.prototype.verifySignature;
type Peer = Parameters<Verify>[2];
type Deps = { deps: { peers: { list(): Peer[] } } };

/** Breaks protocol 4.9 step 8: a signature is accepted when it verifies under the key of any pinned peer. */
main('accepts-other-pinned-signature', () => {
  const verify = EnvelopeOpener.prototype.verifySignature;
  EnvelopeOpener.prototype.verifySignature = function (
    this: EnvelopeOpener,
    parsed: ParsedEnvelope,
    sealed: Parameters<Verify>[1],
    peer: Peer,
    senderBody?: Parameters<Verify>[3],
  ) {
    try {
      verify.call(this, parsed, sealed, peer, senderBody);
    } catch (error) {
      if (!(error instanceof TracenetError)) throw error;
      const others = (this as unknown as Deps).deps.peers.list();
      if (!others.some((other) => succeeds(() => verify.call(this, parsed, sealed, other, other.body)))) throw error;
    }
  };
});

function succeeds(f: () => void): boolean {
  try {
    f();
    return true;
  } catch {
    return false;
  }
}
