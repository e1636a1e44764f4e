import { PeerPolicy } from '@tracenet/proto';
import { main } from './launch.js';

/**
 * Breaks protocol 12.5 (policies are kept): a started node forgets every policy stored before it
 * started — the peer is back to the default policy until its policy is set again.
 */
main('forgets-policies-on-restart', async (node) => {
  const forgotten = new Set<string>();
  for await (const id of node.store.peers.policies.keys()) forgotten.add(id);
  const get = node.policies.get.bind(node.policies);
  const set = node.policies.set.bind(node.policies);
  node.policies.get = (participantId: string) =>
    forgotten.has(participantId) ? PeerPolicy.fromPartial({ participantId }) : get(participantId);
  node.policies.set = (policy: PeerPolicy) => {
    forgotten.delete(policy.participantId);
    return set(policy);
  };
});
