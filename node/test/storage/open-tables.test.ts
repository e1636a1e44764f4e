/**
 * How many LevelDB table files a store keeps open (node/src/store/store.ts, `openTableBudget`):
 * half of the process's soft limit on open files, read from /proc/self/limits.
 */
import { describe, expect, it } from 'vitest';
import { openTableBudget } from '../../src/store/store.js';

/** /proc/self/limits as Linux writes it, with the given soft and hard limits on open files. */
const limits = (soft: string, hard: string) =>
  [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max cpu time              unlimited            unlimited            seconds   ',
    `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     `,
    'Max locked memory         8388608              8388608              bytes     ',
  ].join('\n');

describe('openTableBudget', () => {
  it('keeps half of the soft limit on open files for table files', () => {
    expect(openTableBudget(limits('20000', '20000'))).toBe(10_000);
    expect(openTableBudget(limits('1024', '4096'))).toBe(512);
    expect(openTableBudget(limits('4097', '8192'))).toBe(2048);
  });

  it('keeps at most 16,384 table files open', () => {
    expect(openTableBudget(limits('1048576', '1048576'))).toBe(16_384);
    expect(openTableBudget(limits('unlimited', 'unlimited'))).toBe(16_384);
  });

  it("falls back to LevelDB's default of 1,000 when the limit cannot be read", () => {
    expect(openTableBudget(undefined)).toBe(1000);
    expect(openTableBudget('')).toBe(1000);
    expect(openTableBudget(limits('lots', 'lots'))).toBe(1000);
    expect(openTableBudget(limits('0', '0'))).toBe(1000);
  });
});
