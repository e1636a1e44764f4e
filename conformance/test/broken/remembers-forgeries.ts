import { Envelope, EnvelopeHeader, ErrorCode, TracenetError } from '@tracenet/proto';
import { main } from './launch.js';

/**
 * Breaks protocol 4.11 / 10.4: refusals before authentication are remembered — after a forged
 * envelope (AEAD failure) the node refuses every later envelope with that sender and message id,
 * so an attacker can poison the seen-set and block genuine messages.
 */
main('remembers-forgeries', (node) => {
  const forged = new Set<string>();
  const deliver = node.receiver.deliver.bind(node.receiver);
  node.receiver.deliver = async (raw: Uint8Array) => {
    let key = '';
    try {
      const header = EnvelopeHeader.decode(Envelope.decode(raw).header);
      key = `${header.sender}\u0000${header.messageId}`;
    } catch {
      // not even a header: nothing to remember
    }
    if (forged.has(key))
      throw new TracenetError(ErrorCode.ERROR_CODE_UNKNOWN_SENDER, 'the envelope could not be authenticated', {
        rule: 'authentication',
      });
    try {
      return await deliver(raw);
    } catch (error) {
      if ((error as { cause?: { code?: unknown } }).cause?.code === ErrorCode.ERROR_CODE_HEADER_AUTH_FAILED && key)
        forged.add(key);
      throw error;
    }
  };
});
