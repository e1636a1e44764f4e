import { main } from './launch.js';

/** Breaks protocol 5.5 (queued messages survive restarts): the node drops its outbox when it starts. */
main('loses-outbox-on-restart', async (node) => {
  await node.store.batch(await node.store.outbox.queue.clear());
});
