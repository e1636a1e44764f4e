import { main } from './launch.js';

/**
 * Breaks protocol 4.8: the seen-set forgets accepted messages, so a copy of an accepted envelope
 * is accepted and processed again instead of being answered DUPLICATE. Every way the receiver
 * reads the seen-set forgets them: the synchronous read, one `getMany`, and `get`.
 */
main('accepts-replay', (node) => {
  const { seen } = node.store.messages;
  const get = seen.get.bind(seen);
  const getMany = seen.getMany.bind(seen);
  const getSync = seen.getSync.bind(seen);
  const forget = (record: Awaited<ReturnType<typeof get>>) => (record?.status === 'accepted' ? undefined : record);
  seen.get = async (key: string) => forget(await get(key));
  seen.getMany = async (keys: readonly string[]) => (await getMany(keys)).map(forget);
  seen.getSync = (key: string) => {
    const read = getSync(key);
    return read && { value: forget(read.value) };
  };
});
