/**
 * A running node that finds its audit log damaged (docs/protocol.md 8.6): an entry removed under it
 * (through LevelDB, as a tool with disk access would) is found by the next verification, which
 * logs it at error level, sets `tracenet_audit_damaged` and turns health NOT_SERVING. Commits that
 * land while a verification runs are never taken for damage.
 */
import { rm } from 'node:fs/promises';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { TracenetNode } from '../../src/node.js';
import { padNumber } from '../../src/store/store.js';
import { makeDataDir, testConfig } from '../support/nodes.js';
import { checkHealth, NOT_SERVING, SERVING } from '../storage/health-client.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('reports damage found while running: error log, metric, NOT_SERVING', async () => {
  const dataDir = await makeDataDir('KEN');
  const lines: Array<{ level: number; msg: string; kind?: string }> = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  const node = await TracenetNode.open({ dataDir, config: testConfig(), logger });
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  await node.start();
  cleanups.push(() => node.stop());
  await node.journal.write([], [{ type: 'policy.set', fields: { peer: 'FRA' } }]);
  expect(await node.verifyAudit()).toMatchObject({ ok: true });
  expect(await checkHealth(node.authorityAddress)).toBe(SERVING);
  expect(await node.metrics.render()).toMatch(/^tracenet_audit_damaged\{kind="changed"\} 0$/m);

  await node.store.batch([node.store.audit.entries.del(padNumber(1))]);
  expect(await node.verifyAudit()).toMatchObject({
    ok: false,
    firstBrokenSeq: 1,
    reason: expect.stringMatching(/sequence gap/),
  });
  expect(await checkHealth(node.authorityAddress)).toBe(NOT_SERVING);
  expect(await node.metrics.render()).toMatch(/^tracenet_audit_damaged\{kind="changed"\} 1$/m);
  expect(lines.filter((line) => line.level === 50 && /audit log is damaged/.test(line.msg))).toHaveLength(1);
});

it('takes no commit made during a verification for damage, and still finds a truncation or a change', async () => {
  const dataDir = await makeDataDir('KEN');
  // Checkpoints every 50 entries: verifications also meet checkpoints written meanwhile. Unsynced
  // commits come faster, so more of them land during a verification; durability plays no part here.
  const node = await TracenetNode.open({
    dataDir,
    config: testConfig({ audit: { checkpointEvery: 50 }, store: { sync: false } }),
    logger: pino({ level: 'silent' }),
  });
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  await node.start();
  cleanups.push(() => node.stop());

  // A steady stream of audit writes (4 writers, each writing again as soon as its commit is done),
  // verified again and again until it ends. However fast the journal commits, the stream spans at
  // least 100 verifications: each writer waits for the next one to finish after every 7 of its own
  // writes (about 750 each), while the others keep writing.
  const WRITES = 3000;
  const VERIFICATIONS = 100;
  let writes = 0;
  let verifications = 0;
  let verified = () => undefined as void;
  let nextVerification = new Promise<void>((resolve) => (verified = resolve));
  const writer = async () => {
    for (let own = 1; writes < WRITES; own += 1) {
      writes += 1;
      await node.journal.write([], [{ type: 'policy.set', fields: { peer: 'FRA', n: writes } }]);
      if (own % 7 === 0) await nextVerification;
    }
  };
  const writers = Promise.all(Array.from({ length: 4 }, writer));
  let streaming = true;
  void writers.finally(() => (streaming = false));
  const alarms: string[] = [];
  while (streaming) {
    const result = await node.verifyAudit();
    verifications += 1;
    if (!result.ok) alarms.push(result.reason);
    verified();
    nextVerification = new Promise<void>((resolve) => (verified = resolve));
  }
  await writers;
  expect(alarms).toEqual([]);
  expect(verifications).toBeGreaterThanOrEqual(VERIFICATIONS);
  expect(await checkHealth(node.authorityAddress)).toBe(SERVING);
  expect(await node.metrics.render()).not.toMatch(/^tracenet_audit_damaged\{kind="\w+"\} 1$/m);

  // The store loses its newest commit together with the head that named it (the head before it put
  // back): the store alone looks intact, the head kept outside it still names the lost entry.
  const earlier = await node.store.audit.signedHead.get();
  await node.journal.write([], [{ type: 'policy.set', fields: { peer: 'FRA', n: 'last' } }]);
  const last = node.journal.head.seq;
  await node.store.batch([
    node.store.audit.entries.del(padNumber(last)),
    node.store.audit.signedHead.put(earlier as NonNullable<typeof earlier>),
  ]);
  expect(await node.verifyAudit()).toMatchObject({
    ok: false,
    firstBrokenSeq: last,
    reason: `truncated: audit-head.json names entry ${last} but the log ends at ${last - 1}`,
  });
  expect(await checkHealth(node.authorityAddress)).toBe(NOT_SERVING);
  expect(await node.metrics.render()).toMatch(/^tracenet_audit_damaged\{kind="truncated"\} 1$/m);

  // An entry changed in the middle of the log is reported first.
  const changed = Math.floor(last / 2);
  const entry = (await node.store.audit.entries.get(padNumber(changed))) as { line: string; hash: string };
  await node.store.batch([
    node.store.audit.entries.put(padNumber(changed), {
      ...entry,
      line: entry.line.replace('"peer":"FRA"', '"peer":"DEU"'),
    }),
  ]);
  expect(await node.verifyAudit()).toMatchObject({
    ok: false,
    firstBrokenSeq: changed,
    reason: 'hash mismatch: the entry was changed',
  });
});
