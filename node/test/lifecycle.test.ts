import { describe, expect, it } from 'vitest';
import { type Service, ServiceGroup } from '../src/util/lifecycle.js';

/** A service that logs its starts and stops, and fails when told to. */
function recorded(
  name: string,
  log: string[],
  fail: { start?: boolean; stop?: boolean } = {},
): readonly [string, Service] {
  return [
    name,
    {
      start: async () => {
        if (fail.start) throw new Error(`${name} cannot start`);
        log.push(`start ${name}`);
      },
      stop: async () => {
        log.push(`stop ${name}`);
        if (fail.stop) throw new Error(`${name} cannot stop`);
      },
    },
  ];
}

describe('ServiceGroup', () => {
  it('starts in order and stops in reverse order, once', async () => {
    const log: string[] = [];
    const group = new ServiceGroup([recorded('store', log), recorded('outbox', log), recorded('workflow', log)]);
    await group.start();
    await group.start();
    expect(group.started).toEqual(['store', 'outbox', 'workflow']);
    await group.stop();
    await group.stop();
    expect(log).toEqual([
      'start store',
      'start outbox',
      'start workflow',
      'stop workflow',
      'stop outbox',
      'stop store',
    ]);
    expect(group.started).toEqual([]);
  });

  it('stops what it started when a later start fails, and throws that failure', async () => {
    const log: string[] = [];
    const group = new ServiceGroup([
      recorded('store', log),
      recorded('outbox', log),
      recorded('workflow', log, { start: true }),
      recorded('metrics', log),
    ]);
    await expect(group.start()).rejects.toThrow('workflow cannot start');
    expect(log).toEqual(['start store', 'start outbox', 'stop outbox', 'stop store']);
    expect(group.started).toEqual([]);
  });

  it('stops every service even when one fails to stop, then throws the first failure', async () => {
    const log: string[] = [];
    const group = new ServiceGroup([
      recorded('store', log, { stop: true }),
      recorded('outbox', log, { stop: true }),
      recorded('workflow', log),
    ]);
    await group.start();
    await expect(group.stop()).rejects.toThrow('outbox cannot stop');
    expect(log.slice(3)).toEqual(['stop workflow', 'stop outbox', 'stop store']);
    expect(group.started).toEqual([]);
  });
});
