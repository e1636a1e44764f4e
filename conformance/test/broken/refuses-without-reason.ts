import { decryptEnvelope, parseEnvelope, sealWithHeader, type Transport } from '@tracenet/node';
import { MessageKind, Refusal } from '@tracenet/proto';
import { main } from './launch.js';

/**
 * Breaks protocol 12.1 / 12.2 (ITI: a state that refuses tells its reasons): refusals leave the
 * node without reason code and explanation.
 */
main('refuses-without-reason', (node) => {
  const transport = (node as unknown as { options: { transport: Transport } }).options.transport;
  const deliver = transport.deliver.bind(transport);
  transport.deliver = (peer, envelope, options) => {
    const parsed = parseEnvelope(envelope, 64 * 1024 * 1024);
    if (parsed.header.kind !== MessageKind.MESSAGE_KIND_TRACE_REFUSAL) return deliver(peer, envelope, options);
    const sealed = decryptEnvelope(parsed, peer.pairKey);
    const body = Refusal.encode({ ...Refusal.decode(sealed.body), reason: 0, explanation: '' }).finish();
    return deliver(
      peer,
      sealWithHeader(parsed.envelope.header, body, node.identity.keys.signingSecretKey, peer.pairKey).bytes,
      options,
    );
  };
});
