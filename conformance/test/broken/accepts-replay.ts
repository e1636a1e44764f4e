import { main } from './launch.js';

/**
 * Breaks protocol 4.8: the seen-set forgets accepted messages, so a copy of an accepted envelope
 * is accepted and processed again instead of being answered DUPLICATE.
 */
main('accepts-replay', (node) => {
  const seen = node.store.sub.seen;
  const get = seen.get.bind(seen);
  (seen as { get: typeof seen.get }).get = (async (key: string) => {
    const record = await get(key);
    return record && record.status === 'accepted' ? undefined : record;
  }) as typeof seen.get;
});
