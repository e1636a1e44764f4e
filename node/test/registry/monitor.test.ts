import { ErrorCode, IncompleteRecord, TracenetError, type WeaponRecord } from '@tracenet/proto';
import { describe, expect, it } from 'vitest';
import type { HeldIncomplete, RegistryAdapter, RegistryEntry } from '../../src/registry/adapter.js';
import {
  type AdapterStatus,
  PeriodicRegistryCheck,
  type RegistryCall,
  redactProblem,
} from '../../src/registry/monitor.js';
import { Registry } from '../../src/registry/registry.js';
import { ManualClock } from '../../src/util/clock.js';
import { ManualScheduler } from '../../src/util/scheduler.js';
import { testLogger } from '../support/nodes.js';
import { ALIASES, FIXTURE, NOW } from './fixtures.js';

/**
 * The registry's monitor (docs/operations-metrics.md 1.1), fed by every adapter call: an adapter
 * that fails like an unreachable database while `down` is set, whose driver puts its connection
 * URL (with a password) in the message, as some do.
 */
class FlakyAdapter implements RegistryAdapter {
  readonly kind = 'memory';
  readonly idPrefix = 'mem_';
  down = false;
  entries: RegistryEntry[] = [{ ...FIXTURE.fal, recordId: 'mem_1' } as WeaponRecord];

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async check(): Promise<void> {
    this.#fail();
  }
  async findBySerial(): Promise<RegistryEntry[]> {
    this.#fail();
    return this.entries;
  }
  async get(recordId: string): Promise<RegistryEntry | undefined> {
    if (recordId === 'mem_mapping')
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'no column "categorie" in table "arme"', {
        field: 'weapons.columns.type',
        rule: 'mapping',
      });
    if (recordId === 'mem_refused')
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'not a record id of this registry', {
        field: 'record_id',
        rule: 'record_id',
      });
    this.#fail();
    return this.entries.find((e) => e.recordId === recordId);
  }
  #fail(): void {
    if (this.down)
      throw new Error(
        'connect ECONNREFUSED 10.0.0.7:5432 (postgres://tracenet:s3cret@10.0.0.7:5432/registry, password=s3cret)',
      );
  }
}

function bed() {
  const clock = new ManualClock(NOW);
  const adapter = new FlakyAdapter();
  const registry = new Registry({ adapters: [adapter], aliases: () => ALIASES, clock, logger: testLogger() });
  const changes: AdapterStatus[] = [];
  const calls: RegistryCall[] = [];
  registry.monitor.on('change', (s) => changes.push(s));
  registry.monitor.on('call', (c) => calls.push(c));
  return { clock, adapter, registry, changes, calls };
}

const fal = { manufacturer: 'FN Herstal', serialNumber: 'FN-1998-0042', model: '', calibre: '', type: 0 };

describe('registry monitor', () => {
  it('knows nothing before the first call, then up or down from every call, since when, with the last error redacted', async () => {
    const { clock, adapter, registry, changes, calls } = bed();
    expect(registry.monitor.statuses()).toEqual([
      { kind: 'memory', up: undefined, sinceMs: 0, lastError: '', lastErrorAtMs: 0, latencyMs: 0, checkedAtMs: 0 },
    ]);
    expect(registry.monitor.up).toBe(true);

    await registry.health();
    expect(registry.monitor.statuses()[0]).toMatchObject({ up: true, sinceMs: NOW, checkedAtMs: NOW, lastError: '' });

    clock.advance(60_000);
    adapter.down = true;
    await expect(registry.findExact(fal)).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    const down = registry.monitor.statuses()[0] as AdapterStatus;
    expect(down).toMatchObject({ up: false, sinceMs: NOW + 60_000, lastErrorAtMs: NOW + 60_000 });
    // What follows a URL or a password up to the next space goes with it: a password may hold any character.
    expect(down.lastError).toBe(
      'UNAVAILABLE: the memory registry could not answer: connect ECONNREFUSED 10.0.0.7:5432 (<url> password=<redacted>',
    );
    expect(down.latencyMs).toBeGreaterThanOrEqual(0);
    expect(registry.monitor.up).toBe(false);

    // Further failures keep the time it went down; a refusal is an answer, not an outage.
    clock.advance(10_000);
    await expect(registry.health()).resolves.toEqual([{ kind: 'memory', ok: false, problem: expect.any(String) }]);
    await expect(registry.getEntry('mem_refused')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_INVALID_FIELD });
    expect(registry.monitor.statuses()[0]).toMatchObject({ up: true, sinceMs: NOW + 70_000 });
    await expect(registry.getEntry('mem_1')).rejects.toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    expect(registry.monitor.statuses()[0]).toMatchObject({ up: false, sinceMs: NOW + 70_000 });

    clock.advance(20_000);
    adapter.down = false;
    expect((await registry.findExact(fal)).map((r) => r.recordId)).toEqual(['mem_1']);
    // Back up: the last error stays to be read, with its time.
    expect(registry.monitor.statuses()[0]).toMatchObject({
      up: true,
      sinceMs: NOW + 90_000,
      lastErrorAtMs: NOW + 70_000,
      checkedAtMs: NOW + 90_000,
    });
    expect(changes.map((s) => [s.up, s.sinceMs - NOW])).toEqual([
      [true, 0],
      [false, 60_000],
      [true, 70_000],
      [false, 70_000],
      [true, 90_000],
    ]);
    expect(calls.map((c) => [c.ok, c.code])).toEqual([
      [true, ''],
      [false, 'UNAVAILABLE'],
      [false, 'UNAVAILABLE'],
      [true, ''],
      [false, 'UNAVAILABLE'],
      [true, ''],
    ]);
    expect(JSON.stringify(registry.monitor.statuses())).not.toContain('s3cret');
  });

  it('throws the failure of an adapter redacted, with only its code as cause: officers and logs see no password', async () => {
    const { adapter, registry } = bed();
    adapter.down = true;
    const failure = await registry.findExact(fal).then(
      () => undefined,
      (error: unknown) => error as TracenetError,
    );
    expect(failure).toMatchObject({ code: ErrorCode.ERROR_CODE_UNAVAILABLE });
    expect(failure?.message).toBe(
      'the memory registry could not answer: connect ECONNREFUSED 10.0.0.7:5432 (<url> password=<redacted>',
    );
    expect(JSON.stringify(failure?.cause)).not.toContain('s3cret');
    expect(String((failure?.cause as Error | undefined)?.message)).not.toContain('s3cret');
  });

  it('counts a mapping the registry refuses at first use as down: every search fails until it is fixed', async () => {
    const { registry } = bed();
    await registry.health();
    expect(registry.monitor.up).toBe(true);
    await expect(registry.getEntry('mem_mapping')).rejects.toMatchObject({ rule: 'mapping' });
    expect(registry.monitor.statuses()[0]).toMatchObject({ up: false });
    expect(registry.monitor.up).toBe(false);
  });

  it('counts the weapons held but incomplete that a search returns', async () => {
    const { adapter, registry, calls } = bed();
    const held: HeldIncomplete = {
      ...IncompleteRecord.fromPartial({
        recordId: 'mem_2',
        identity: { manufacturer: 'FN Herstal', serialNumber: 'FN-1998-0042' },
        problems: [{ field: 'record.manufacture.type', rule: 'required', message: 'type is missing' }],
        source: 'memory',
      }),
      incomplete: true,
    };
    adapter.entries = [...adapter.entries, held];
    const found = await registry.identify(fal);
    expect(found.incomplete.map((h) => h.recordId)).toEqual(['mem_2']);
    expect(calls).toEqual([{ kind: 'memory', ok: true, seconds: expect.any(Number), code: '', incomplete: 1 }]);
  });
});

describe('redactProblem', () => {
  it('removes connection URLs and passwords, control characters, and cuts long texts', () => {
    expect(redactProblem('connect to postgresql://app:s3cret@db.example:5432/reg?sslmode=require failed')).toBe(
      'connect to <url> failed',
    );
    expect(redactProblem('host=db user=app password=s3cret dbname=reg')).toBe(
      'host=db user=app password=<redacted> dbname=reg',
    );
    expect(redactProblem("PASSWORD: 'two words' is wrong")).toBe('PASSWORD: <redacted> is wrong');
    expect(redactProblem('password authentication failed for user "app"')).toBe(
      'password authentication failed for user "app"',
    );
    expect(redactProblem('line one\nline two\u202e')).toBe('line one line two');
    const long = redactProblem('x'.repeat(1000));
    expect(long).toHaveLength(300);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('periodic registry check', () => {
  it('checks at start and at every interval, one check at a time, and stop waits for the one in progress', async () => {
    const scheduler = new ManualScheduler(NOW);
    let started = 0;
    let release: () => void = () => undefined;
    const check = new PeriodicRegistryCheck({
      scheduler,
      intervalMs: 30_000,
      logger: testLogger(),
      check: () => {
        started += 1;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    await check.start();
    expect(started).toBe(1);
    // Still running after two intervals (a database that does not answer): not stacked.
    await scheduler.advance(60_000);
    expect(started).toBe(1);
    release();
    await scheduler.advance(30_000);
    expect(started).toBe(2);
    let stopped = false;
    const stopping = check.stop().then(() => {
      stopped = true;
    });
    await scheduler.advance(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    await scheduler.advance(120_000);
    expect(started).toBe(2);
    expect(scheduler.timers()).toEqual([]);
  });
});
