import type { EnvelopeHeader } from '@tracenet/proto';
import { EnvelopeOpener } from './internals.js';
import { main } from './launch.js';

/** Breaks protocol 4.7 rule 2: the replay window is checked, the expiry is not. */
main('accepts-expired', () => {
  const checkTime = EnvelopeOpener.prototype.checkTime;
  EnvelopeOpener.prototype.checkTime = function (this: EnvelopeOpener, header: EnvelopeHeader) {
    checkTime.call(this, { ...header, expiresAtMs: Number.MAX_SAFE_INTEGER });
  };
});
