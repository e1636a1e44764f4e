/**
 * Write failures at the store level, through the store's fault seam (`writeFault`): the fallback of
 * `full-disk.test.ts` where no tmpfs can be mounted, and the unit view of the same rules.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/store.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { waitFor } from '../support/nodes.js';

const opened: Array<{ store: Store; dir: string }> = [];

afterEach(async () => {
  for (const { store, dir } of opened.splice(0)) {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** A store whose writes fail while `fault.on`; its recovery timer runs on `scheduler`. */
async function faultyStore(): Promise<{
  store: Store;
  dir: string;
  fault: { on: boolean };
  scheduler: ManualScheduler;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'tracenet-store-faults-'));
  const fault = { on: false };
  const scheduler = new ManualScheduler();
  const store = await openStore(join(dir, 'store'), {
    recoverEveryMs: 20,
    scheduler,
    writeFault: () =>
      fault.on ? Object.assign(new Error('IO error: No space left on device'), { code: 'LEVEL_IO_ERROR' }) : undefined,
  });
  opened.push({ store, dir });
  return { store, dir, fault, scheduler };
}

const put = (store: Store, key: string) =>
  store.batch([store.messages.seen.put(key, { status: 'accepted', receipt: key })]);

describe('store write faults', () => {
  it('refuses with STORAGE_UNAVAILABLE, reports not writable, and recovers by itself', async () => {
    const { store, fault, scheduler } = await faultyStore();
    const changes: boolean[] = [];
    store.watchWritable((writable) => changes.push(writable));
    await put(store, 'before');
    fault.on = true;
    const error = await put(store, 'during').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TracenetError);
    expect((error as TracenetError).code).toBe(ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE);
    expect((error as TracenetError).retryable).toBe(true);
    expect(store.writable).toBe(false);
    // Still failing: refused again, and reads keep working.
    await expect(put(store, 'during-2')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE });
    expect(await store.messages.seen.get('before')).toEqual({ status: 'accepted', receipt: 'before' });
    expect(await store.messages.seen.get('during')).toBeUndefined();

    fault.on = false;
    // Recovery by the timer, without any write.
    expect(store.writable).toBe(false);
    await scheduler.advance(20);
    await waitFor(() => store.writable, 5000, 'the store to recover');
    expect(scheduler.timers(), 'the recovery timer once recovered').toEqual([]);
    expect(changes).toEqual([false, true]);
    await put(store, 'after');
    expect(await store.messages.seen.get('after')).toEqual({ status: 'accepted', receipt: 'after' });
    expect(await store.messages.seen.get('before')).toEqual({ status: 'accepted', receipt: 'before' });
  });

  it('recovers on the next write too, and keeps what it acknowledged across a reopen', async () => {
    const { store, dir, fault } = await faultyStore();
    await put(store, 'a');
    fault.on = true;
    await expect(put(store, 'b')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_STORAGE_UNAVAILABLE });
    fault.on = false;
    await put(store, 'c');
    expect(store.writable).toBe(true);
    await store.close();
    const again = await openStore(join(dir, 'store'));
    opened.push({ store: again, dir });
    const keys: string[] = [];
    for await (const key of again.messages.seen.keys()) keys.push(key);
    expect(keys).toEqual(['a', 'c']);
  });

  it('stops trying to recover once closed', async () => {
    const { store, fault, scheduler } = await faultyStore();
    fault.on = true;
    await expect(put(store, 'x')).rejects.toThrow();
    expect(scheduler.timers()).toEqual([{ inMs: 20, every: 20 }]);
    await store.close();
    fault.on = false;
    expect(scheduler.timers()).toEqual([]);
    await scheduler.advance(100);
    expect(store.writable).toBe(false);
  });
});
