/**
 * Damage below the audit chain, in LevelDB's own files (issue 14 section 7, docs/protocol.md 8.6,
 * ADR 0010). A real `tracenet start` process writes a realistic log — a few thousand entries,
 * several checkpoints — in two runs, so that the store has a table (`.ldb`, written when the second
 * run opened the store) and a newest log (`.log`). Each test damages a copy of the stopped node's
 * data directory the way a disk fault or someone with disk access would, then runs
 * `tracenet audit verify` and `tracenet start` without `--accept-audit-damage`: both must refuse,
 * and neither may change a byte of any file (every file of the data directory is hashed).
 */
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { RecordsClient, type RecordsServer } from '@tracenet/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUnary } from '../../src/api/unary-client.js';
import { dataPaths, readAuthorityToken } from '../../src/identity/data-dir.js';
import { mapLimit, ProcessBed, readAudit, type CliResult } from '../integration/processes.js';
import { weapon } from '../records/support.js';
import { EXIT } from '../../src/cli/exit-codes.js';

const CHECKPOINT_EVERY = 500;
/** Records put per run; each is one audit entry. */
const PER_RUN = 1500;
const ENV = { TRACENET_AUDIT_CHECKPOINT_EVERY: String(CHECKPOINT_EVERY) };

const bed = new ProcessBed();
/** The stopped node's data directory, never changed after beforeAll: tests work on copies. */
let original: string;
let copies = 0;
/** What `audit verify` says of the untouched store. */
let intact: { entries: number; checkpoints: number };

/** Starts the node, puts `count` records through the Records API (16 in flight), stops it. */
async function run(dataDir: string, from: number, count: number): Promise<void> {
  const node = await bed.start(dataDir, { env: ENV });
  const records = connectUnary<RecordsServer>(RecordsClient, node.runtime.authority, await readAuthorityToken(dataDir));
  try {
    const numbers = Array.from({ length: count }, (_, i) => from + i);
    await mapLimit(numbers, 16, (n) => records.call('putRecord', { record: weapon({}, { serialNumber: `KEN-${n}` }) }));
  } finally {
    records.close();
  }
  expect(await node.stop()).toEqual({ code: 0, signal: null });
}

beforeAll(async () => {
  original = await bed.init('KEN');
  await run(original, 0, PER_RUN);
  // The second open writes the first run's log into a table: the store now has both kinds of file.
  await run(original, PER_RUN, PER_RUN);
  const verdict = await verify(original);
  expect(verdict.code, verdict.stdout + verdict.stderr).toBe(0);
  intact = JSON.parse(verdict.stdout) as { entries: number; checkpoints: number };
}, 180_000);

afterAll(() => bed.cleanup());

async function copyOf(source: string): Promise<string> {
  const dir = join(await bed.tempDir(`copy${(copies += 1)}`), 'data');
  await cp(source, dir, { recursive: true });
  return dir;
}

/** SHA-256 of every file under `dir`, by path. */
async function hashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(dir, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return out;
}

/** Store files of one kind (`log`, `ldb`), newest (highest number) last. */
async function storeFiles(dataDir: string, kind: 'log' | 'ldb'): Promise<string[]> {
  const names = (await readdir(dataPaths(dataDir).store)).filter((n) => n.endsWith(`.${kind}`)).sort();
  return names.map((n) => join(dataPaths(dataDir).store, n));
}

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x20;
  await writeFile(path, bytes);
}

function verify(dataDir: string, json = true): Promise<CliResult> {
  return bed.cli(['audit', 'verify', '--data', dataDir, ...(json ? ['--json'] : [])]);
}

/** `tracenet start` run to its end (a refused start exits; an accepted one would run on). */
function startOnce(dataDir: string, extra: readonly string[] = []): Promise<CliResult> {
  return bed.cli(
    ['start', '--data', dataDir, '--federation-listen', '127.0.0.1:0', '--authority-listen', '127.0.0.1:0', ...extra],
    { env: ENV },
  );
}

/**
 * The damaged copy in `dataDir` is refused by `audit verify` (exit 7, `expected` in its reason) and
 * by a start without the flag (exit 7, an error log line, nothing served); neither changes a file.
 */
async function expectRefused(dataDir: string, expected: RegExp[]): Promise<void> {
  const before = await hashes(dataDir);
  const verdict = await verify(dataDir);
  expect(verdict.code, verdict.stderr).toBe(EXIT.auditBroken);
  const result = JSON.parse(verdict.stdout) as { ok: boolean; reason: string };
  expect(result.ok).toBe(false);
  for (const pattern of expected) expect(result.reason).toMatch(pattern);
  const text = await verify(dataDir, false);
  expect(text.stdout).toMatch(/^Audit log BROKEN/);
  expect(await hashes(dataDir)).toEqual(before);

  const start = await startOnce(dataDir);
  expect(start.code).toBe(EXIT.auditBroken);
  expect(start.stderr).toMatch(/STORAGE_UNAVAILABLE: the audit log is damaged: .*--accept-audit-damage/);
  const logged = start.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string });
  expect(
    logged.find((line) => line.level === 50 && /audit log is damaged; refusing to start/.test(line.msg))?.reason,
  ).toBe(result.reason);
  expect(await hashes(dataDir)).toEqual(before);
}

describe('tamper evidence below the audit chain, on a real node store', () => {
  it('has a realistic store: thousands of entries, several checkpoints, a table and a newest log', async () => {
    expect(intact.entries).toBeGreaterThan(2 * PER_RUN);
    expect(intact.checkpoints).toBeGreaterThanOrEqual(6);
    expect(await storeFiles(original, 'ldb')).not.toHaveLength(0);
    const newestLog = (await storeFiles(original, 'log')).at(-1) ?? '';
    expect((await stat(newestLog)).size).toBeGreaterThan(100_000);
  });

  it('verifies an intact store read-only, starts it, and verifies it read-only again', async () => {
    const dir = await copyOf(original);
    const before = await hashes(dir);
    const verdict = await verify(dir);
    expect(verdict.code, verdict.stderr).toBe(0);
    expect(JSON.parse(verdict.stdout)).toMatchObject({
      ok: true,
      entries: intact.entries,
      checkpoints: intact.checkpoints,
    });
    expect(await hashes(dir)).toEqual(before);

    const node = await bed.start(dir, { env: ENV });
    expect(await node.stop()).toEqual({ code: 0, signal: null });
    const after = await hashes(dir);
    expect(after).not.toEqual(before);
    const again = await verify(dir);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, entries: intact.entries + 2 });
    expect(await hashes(dir)).toEqual(after);
  });

  it('detects a byte flipped in the newest .log (LevelDB would drop the last entries and the stop checkpoint)', async () => {
    const dir = await copyOf(original);
    const log = (await storeFiles(dir, 'log')).at(-1) ?? '';
    const size = (await stat(log)).size;
    // In the last 32 KiB block, well before its end: LevelDB drops the rest of the block.
    const offset = Math.max(Math.floor((size - 1) / 32_768) * 32_768 + 7, size - 1500);
    await flipByte(log, offset);
    await expectRefused(dir, [
      /\d{6}\.log at byte \d+: checksum mismatch/,
      new RegExp(`truncated: audit-head\\.json names entry ${intact.entries} but the log ends at \\d+`),
    ]);
  });

  it('detects a byte flipped in a .ldb table', async () => {
    const dir = await copyOf(original);
    const table = (await storeFiles(dir, 'ldb'))[0] ?? '';
    await flipByte(table, Math.floor((await stat(table)).size / 2));
    await expectRefused(dir, [/\d{6}\.ldb at byte \d+: data block checksum mismatch/]);
  });

  it('detects the newest .log deleted', async () => {
    const dir = await copyOf(original);
    await rm((await storeFiles(dir, 'log')).at(-1) ?? '');
    await expectRefused(dir, [
      /\d{6}\.log: missing: the MANIFEST names it as the current log/,
      /truncated: audit-head\.json names entry/,
    ]);
  });

  it("never takes a running node's store for damaged, not even with --accept-audit-damage", async () => {
    const dir = await copyOf(original);
    const node = await bed.start(dir, { env: ENV });
    // Damage that a second start finds while the first runs (or a table compacted away as it reads).
    const table = (await storeFiles(dir, 'ldb'))[0] ?? '';
    await flipByte(table, Math.floor((await stat(table)).size / 2));
    const second = await startOnce(dir, ['--accept-audit-damage']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(`STORAGE_UNAVAILABLE: the store in .* is in use by a running node \\(pid ${node.pid}\\)`),
    );
    expect((await readdir(dir)).filter((name) => name.startsWith('store.'))).toEqual([]);
    expect(await node.stop()).toEqual({ code: 0, signal: null });
  });

  it('starts with --accept-audit-damage: records the damage first, keeps the damaged store aside, and starts plainly afterwards', async () => {
    const dir = await copyOf(original);
    const log = (await storeFiles(dir, 'log')).at(-1) ?? '';
    const size = (await stat(log)).size;
    await flipByte(log, size - 1500);
    const damaged = await hashes(dataPaths(dir).store);

    const node = await bed.start(dir, { env: ENV, args: ['--accept-audit-damage'] });
    expect(node.logLines.some((line) => /"level":50.*the operator accepted it/.test(line))).toBe(true);
    const live = (await node.client.call('verifyAudit', {})).result;
    expect(live).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/the operator accepted this damage at entry \d+ and the log is intact since/),
    });
    expect(await node.stop()).toEqual({ code: 0, signal: null });

    const lines = await readAudit(dir);
    const broken = lines.findIndex((line) => line.type === 'audit.broken');
    expect(lines[broken]).toMatchObject({
      kind: 'storage',
      headSeq: intact.entries,
      storageDamage: 1,
      reason: expect.stringMatching(/checksum mismatch/),
    });
    expect(lines[broken + 1]).toMatchObject({
      type: 'audit.damage_accepted',
      brokenSeq: lines[broken]?.seq,
      setAside: expect.stringMatching(/^store\.damaged-/),
    });
    // The entries the damaged record held are gone; the acknowledgement follows the last one left.
    expect(lines[broken]?.seq).toBeLessThan(intact.entries);
    const aside = (await readdir(dir)).find((name) => name.startsWith('store.damaged-')) ?? '';
    expect(await hashes(join(dir, aside))).toEqual(damaged);

    const verdict = await verify(dir);
    expect(verdict.code).toBe(EXIT.auditBroken);
    expect(JSON.parse(verdict.stdout)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/accepted this damage at entry \d+ and the log is intact since/),
    });
    const again = await bed.start(dir, { env: ENV });
    expect(await again.stop()).toEqual({ code: 0, signal: null });
  });
});
