import { main } from './launch.js';

/** Breaks protocol 13.8: the per-peer lookup rate (lookups_per_minute) is not enforced. */
main('no-lookup-rate-limit', (node) => {
  const get = node.policies.get.bind(node.policies);
  node.policies.get = (participantId: string) => ({ ...get(participantId), lookupsPerMinute: 1_000_000 });
});
