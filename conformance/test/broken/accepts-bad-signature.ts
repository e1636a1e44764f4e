import { EnvelopeOpener } from './internals.js';
import { main } from './launch.js';

/** Breaks protocol 4.9 step 8: the Ed25519 signature of an authenticated envelope is never checked. */
main('accepts-bad-signature', () => {
  EnvelopeOpener.prototype.verifySignature = () => undefined;
});
