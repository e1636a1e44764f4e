/**
 * A running node that finds its audit log damaged (docs/protocol.md 8.6): an entry removed under it
 * (through LevelDB, as a tool with disk access would) is found by the next verification, which
 * logs it at error level, sets `tracenet_audit_damaged` and turns health NOT_SERVING.
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
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const node = await TracenetNode.open({ dataDir, config: testConfig(), logger });
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  await node.start();
  cleanups.push(() => node.stop());
  await node.journal.write([], [{ type: 'policy.set', fields: { peer: 'FRA' } }]);
  expect(await node.verifyAudit()).toMatchObject({ ok: true });
  expect(await checkHealth(node.authorityAddress)).toBe(SERVING);
  expect(await node.metrics.render()).toMatch(/^tracenet_audit_damaged\{kind="changed"\} 0$/m);

  await node.store.sub.audit.del(padNumber(1));
  expect(await node.verifyAudit()).toMatchObject({ ok: false, firstBrokenSeq: 1, reason: expect.stringMatching(/sequence gap/) });
  expect(await checkHealth(node.authorityAddress)).toBe(NOT_SERVING);
  expect(await node.metrics.render()).toMatch(/^tracenet_audit_damaged\{kind="changed"\} 1$/m);
  expect(lines.filter((line) => line.level === 50 && /audit log is damaged/.test(line.msg))).toHaveLength(1);
});
