import type { ParsedEnvelope } from '@tracenet/node';
import { EnvelopeOpener } from './internals.js';
import { main } from './launch.js';

type Deps = { deps: { identity: { participantId: string } } };

/**
 * Breaks protocol 4.4 rule 1: the node does not compare header.recipient with its own id, so an
 * envelope addressed (and signed) to another participant is accepted.
 */
main('ignores-wrong-recipient', () => {
  const authenticate = EnvelopeOpener.prototype.authenticate;
  EnvelopeOpener.prototype.authenticate = function (this: EnvelopeOpener, parsed: ParsedEnvelope) {
    const self = (this as unknown as Deps).deps.identity.participantId;
    return authenticate.call(this, { ...parsed, header: { ...parsed.header, recipient: self } });
  };
});
