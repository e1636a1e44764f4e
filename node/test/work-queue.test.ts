import { describe, expect, it } from 'vitest';
import { ErrorCode, TracenetError } from '@tracenet/proto';
import { WorkQueue } from '../src/util/work-queue.js';

/** A piece of work that ends when the test says so, recording when it started and ended. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    open,
    work: async () => {
      log.push(`start ${name}`);
      await opened;
      log.push(`end ${name}`);
      return name;
    },
  };
}

describe('WorkQueue', () => {
  it('runs one piece at a time in arrival order, lets two wait and refuses the next with its rule', async () => {
    const log: string[] = [];
    const queue = new WorkQueue(2, 'statistics_busy');
    const [a, b, c] = [gate(log, 'a'), gate(log, 'b'), gate(log, 'c')];
    const results = [queue.run(a.work), queue.run(b.work), queue.run(c.work)];
    expect(queue.size).toBe(3);
    const refused = await queue.run(async () => 'd').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TracenetError);
    expect(refused).toMatchObject({ code: ErrorCode.ERROR_CODE_RATE_LIMITED, rule: 'statistics_busy' });
    await Promise.resolve();
    expect(log).toEqual(['start a']);
    c.open();
    b.open();
    a.open();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(queue.size).toBe(0);
  });

  it('goes on after a piece that fails, and takes callers again once the queue drains', async () => {
    const queue = new WorkQueue(0, 'busy');
    await expect(queue.run(async () => Promise.reject(new Error('broken')))).rejects.toThrow('broken');
    expect(await queue.run(async () => 'next')).toBe('next');
    expect(queue.size).toBe(0);
  });
});
