import { main } from './launch.js';

/**
 * Breaks protocol 4.8: the seen-set forgets accepted messages, so a copy of an accepted envelope
 * is accepted and processed again instead of being answered DUPLICATE.
 */
main('accepts-replay', (node) => {
  const { seen } = node.store.messages;
  const get = seen.get.bind(seen);
  seen.get = async (key: string) => {
    const record = await get(key);
    return record && record.status === 'accepted' ? undefined : record;
  };
});
