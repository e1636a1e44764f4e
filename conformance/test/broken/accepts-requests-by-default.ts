import { main } from './launch.js';

/** Breaks protocol 12.5 (deny by default): every pinned peer may open traces, policy or not. */
main('accepts-requests-by-default', (node) => {
  const get = node.policies.get.bind(node.policies);
  node.policies.get = (participantId: string) => ({ ...get(participantId), acceptRequests: true });
});
