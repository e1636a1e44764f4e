/**
 * `tracenet audit list` (docs/operations.md, "Reading the audit log") as an officer runs it: the
 * entries of a node's log with who did each, filtered by officer, client and time, from a stopped
 * node's store files and from a running node's Authority API. The log is written through the
 * node's own journal, in this process, inside `runAs` of an officer and of a client.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, runAs } from '../../src/access/actor.js';
import { TracenetNode } from '../../src/node.js';
import { testConfig } from '../support/nodes.js';
import { type CliResult, ProcessBed } from './processes.js';

const ANA: Actor = { kind: 'officer', id: 'o-ana', roles: ['administrator'], session: 's-ana-1' };
const CASES: Actor = { kind: 'client', id: 'c-case-system', roles: ['officer'], session: 'k-4f2a' };

const bed = new ProcessBed();
let dataDir = '';

/** The entry lines of a text listing (those that start with `#<seq>`). */
const entryLines = (result: CliResult) => result.stdout.split('\n').filter((line) => line.startsWith('#'));

beforeAll(async () => {
  dataDir = await bed.init('FRA');
  const node = await TracenetNode.open({ dataDir, config: testConfig(), logger: pino({ level: 'silent' }) });
  try {
    await runAs(ANA, () => node.journal.write([], [{ type: 'policy.set', fields: { peer: '*', autoAnswer: false } }]));
    await runAs(CASES, () =>
      node.journal.write([], [{ type: 'record.put', fields: { recordId: 'rec-1', created: true, events: 2 } }]),
    );
    await node.journal.write([], [{ type: 'roster.loaded', fields: { sequence: 1 } }]);
  } finally {
    await node.stop();
  }
}, 60_000);

afterAll(async () => {
  await bed.cleanup();
});

describe('a stopped node: read from the store files', () => {
  it('--officer lists her entry, naming her and the session, with its fields', async () => {
    const result = await bed.cliOk(['audit', 'list', '--data', dataDir, '--officer', 'o-ana']);
    const lines = entryLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^#1 {2}\d{4}-\d{2}-\d{2}T[\d:.]+Z {2}officer o-ana \(session s-ana-1\) {2}policy\.set {2}peer=\* autoAnswer=false$/,
    );
  });

  it('the whole log names the client with its key and the node; pages with --cursor and --all', async () => {
    const all = entryLines(await bed.cliOk(['audit', 'list', '--data', dataDir]));
    expect(all).toHaveLength(3);
    expect(all[1]).toContain('client c-case-system (key k-4f2a)  record.put  recordId=rec-1 created=true events=2');
    expect(all[2]).toContain('  node  roster.loaded');
    const first = await bed.cliOk(['audit', 'list', '--data', dataDir, '--limit', '1']);
    expect(entryLines(first)).toHaveLength(1);
    expect(first.stdout).toContain('More: --cursor 1  (or --all)');
    const rest = await bed.cliOk(['audit', 'list', '--data', dataDir, '--limit', '1', '--cursor', '1', '--all']);
    expect(entryLines(rest).map((line) => line.split(' ')[0])).toEqual(['#2', '#3']);
    expect(rest.stdout).not.toContain('More:');
  });
  it('a directory that holds no node says so, instead of listing nothing', async () => {
    const result = await bed.cli(['audit', 'list', '--data', `${dataDir}-mistyped`]);
    expect(result.code).toBe(4); // not found (docs/operations.md 5.2)
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/NOT_FOUND: the data directory .*-mistyped does not exist; check --data/);
  });
});

describe('a running node: through the Authority API', () => {
  beforeAll(async () => {
    await bed.start(dataDir);
  }, 30_000);

  it('--client --json gives the entries as JSON with actor and fields', async () => {
    const result = await bed.cliOk(['audit', 'list', '--data', dataDir, '--client', 'c-case-system', '--json']);
    const entries = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(entries).toEqual([
      expect.objectContaining({
        seq: 2,
        type: 'record.put',
        actor: { kind: 'client', id: 'c-case-system', session: 'k-4f2a' },
        fields: { recordId: 'rec-1', created: true, events: 2 },
      }),
    ]);
  });

  it("the node's start after them names the node; --since in the future matches nothing", async () => {
    const all = entryLines(await bed.cliOk(['audit', 'list', '--data', dataDir, '--all']));
    expect(all.find((line) => line.includes('node.started'))).toMatch(/ {2}node {2}node\.started/);
    const none = await bed.cliOk(['audit', 'list', '--data', dataDir, '--since', '2999-01-01']);
    expect(none.stdout.trim()).toBe('No audit entries match.');
    const today = new Date().toISOString().slice(0, 10);
    const officer = await bed.cliOk(['audit', 'list', '--data', dataDir, '--officer', 'o-ana', '--until', today]);
    expect(entryLines(officer)).toHaveLength(1);
  });

  it('a date it cannot read, or --until before --since, is INVALID_FIELD naming the flag; nothing is listed', async () => {
    for (const [args, text] of [
      [['--since', 'yesterday'], /--since takes a date/],
      [['--since', '2026-12-05T10:00'], /--since takes a date/],
      [['--since', '2026-12-05', '--until', '2026-12-01'], /--until must be later than --since/],
      [['--limit', 'abc'], /--limit must be a whole number/],
    ] as const) {
      const result = await bed.cli(['audit', 'list', '--data', dataDir, ...args]);
      expect(result.code, result.stderr).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/INVALID_FIELD/);
      expect(result.stderr).toMatch(text);
    }
  });
});
