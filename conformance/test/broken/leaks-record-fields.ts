import { decryptEnvelope, parseEnvelope, sealWithHeader } from '@tracenet/node';
import { LookupAnswer } from '@tracenet/proto';
import { main } from './launch.js';

/**
 * Breaks protocol 13.3: a lookup hit carries something of the record — its serial number appended
 * to the contact point.
 */
main('leaks-record-fields', (node) => {
  const responder = node.lookups.responder;
  const lookup = responder.lookup.bind(responder);
  responder.lookup = async (raw: Uint8Array) => {
    const bytes = await lookup(raw);
    const parsed = parseEnvelope(bytes, 64 * 1024 * 1024);
    const peer = node.peers.get(parsed.header.recipient);
    if (!peer) return bytes;
    const answer = LookupAnswer.decode(decryptEnvelope(parsed, peer.pairKey).body);
    for (const hit of answer.hits) {
      const recordId = await node.records.recordIdOfReference(hit.reference);
      const record = recordId ? await node.records.get(recordId) : undefined;
      hit.contactPoint = `${hit.contactPoint} (serial ${record?.manufacture?.serialNumber ?? '?'})`;
    }
    return sealWithHeader(
      parsed.envelope.header,
      LookupAnswer.encode(answer).finish(),
      node.identity.keys.signingSecretKey,
      peer.pairKey,
    ).bytes;
  };
});
