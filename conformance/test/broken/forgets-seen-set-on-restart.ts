import { main } from './launch.js';

/** Breaks protocol 4.6 and 4.8 (a persistent seen-set): the node forgets every seen message id when it starts. */
main('forgets-seen-set-on-restart', async (node) => {
  await node.store.batch(await node.store.messages.seen.clear());
});
