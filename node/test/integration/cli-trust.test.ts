import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Case, CasesClient, type CasesServer } from '@tracenet/proto';
import { connectUnary, type UnaryClient } from '../../src/api/unary-client.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { readAuthorityToken } from '../../src/identity/data-dir.js';
import { traceRequest } from '../support/requests.js';
import {
  type CliResult,
  isAlive,
  type NodeProcess,
  ProcessBed,
  requireBuiltCli,
  sendNotices,
  until,
} from './processes.js';

/** Prints what an officer sees, so that the run shows it. */
function show(title: string, result: CliResult): void {
  process.stdout.write(`\n--- ${title} (exit ${result.code}) ---\n${result.stdout}${result.stderr}`);
}

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

const HEADER = 'manufacturer,serial_number,model,type,calibre,event1_type,event1_date,event1_place,event1_agency';

/**
 * Issue 17, section 4 ("a CLI an officer can trust"), with real `tracenet` processes: FRA and BEL
 * run and pin each other (BEL refuses FRA's trace requests); FRA also pins KEN, whose node never
 * runs, and TCD, whose card names BEL's port (so that the port presents another certificate).
 */
describe('a CLI an officer can trust (issue 17, section 4)', () => {
  const bed = new ProcessBed();
  let fra: NodeProcess;
  let fraDir: string;
  let kenDir: string;
  let cases: UnaryClient<CasesServer>;
  const run = (args: readonly string[]) => bed.cli([...args, '--data', fraDir], { timeoutMs: 60_000 });

  beforeAll(async () => {
    requireBuiltCli();
    const [fraPort, belPort, kenPort] = [await freePort(), await freePort(), await freePort()];
    const endpoint = (port: number) => ['--endpoint', `127.0.0.1:${port}`];
    let belDir: string;
    let tcdDir: string;
    [fraDir, belDir, kenDir, tcdDir] = await Promise.all([
      bed.init('FRA', endpoint(fraPort)),
      bed.init('BEL', endpoint(belPort)),
      bed.init('KEN', endpoint(kenPort)),
      bed.init('TCD', endpoint(belPort)),
    ]);
    const cards = dirname(fraDir);
    for (const [id, dir] of [
      ['FRA', fraDir],
      ['BEL', belDir],
      ['KEN', kenDir],
      ['TCD', tcdDir],
    ] as const) {
      await writeFile(join(cards, `${id}.card.json`), (await bed.cliOk(['peers', 'export', '--data', dir])).stdout);
    }
    for (const id of ['BEL', 'KEN', 'TCD'])
      await bed.cliOk(['peers', 'add', join(cards, `${id}.card.json`), '--data', fraDir]);
    await bed.cliOk(['peers', 'add', join(cards, 'FRA.card.json'), '--data', belDir]);
    [fra] = await Promise.all([
      bed.start(fraDir, { federationListen: `127.0.0.1:${fraPort}` }),
      bed.start(belDir, { federationListen: `127.0.0.1:${belPort}` }),
    ]);
    await bed.cliOk(['peers', 'policy', 'FRA', '--deny-requests', '--data', belDir]);
    cases = connectUnary<CasesServer>(CasesClient, fra.runtime.authority, await readAuthorityToken(fraDir), {
      credentials: credentials.createInsecure(),
    });
  }, 180_000);

  afterAll(async () => {
    cases?.close();
    await bed.cleanup();
    for (const pid of bed.pids) expect(isAlive(pid), `process ${pid} outlived the suite`).toBe(false);
  });

  it('peers check tells "ok", "peer down" and "wrong certificate pinned" apart, with exit codes 0, 6 and 5', async () => {
    const ok = await run(['peers', 'check', 'BEL']);
    show('peers check BEL', ok);
    expect(ok.code, ok.stderr).toBe(EXIT.ok);
    expect(ok.stdout).toMatch(/^ok: BEL answers at 127\.0\.0\.1:\d+ with the pinned certificate/);

    const down = await run(['peers', 'check', 'KEN', '--timeout', '3s']);
    show('peers check KEN (node stopped)', down);
    expect(down.code).toBe(EXIT.unreachable);
    expect(down.stdout).toMatch(/^peer down: nothing answers at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);

    const wrong = await run(['peers', 'check', 'TCD', '--json']);
    show('peers check TCD --json (its card names the port of BEL)', wrong);
    expect(wrong.code).toBe(EXIT.refusedByPeer);
    const verdict = JSON.parse(wrong.stdout) as { verdict: string; detail: string; pinnedFingerprint: string };
    expect(verdict.verdict).toBe('wrong_certificate');
    expect(verdict.detail).toMatch(/^wrong certificate pinned: /);
    expect(verdict.detail).toContain(verdict.pinnedFingerprint);
  }, 120_000);

  it('a request refused by the peer\'s policy is marked "REFUSED BY PEER", not left merely "sent"', async () => {
    const created = await run([
      'trace',
      'create',
      '--to',
      'BEL',
      '--manufacturer',
      'FN Herstal',
      '--model',
      'FNX-45',
      '--serial',
      'FX-0412-2231',
      '--type',
      'pistol',
      '--calibre',
      '.45 ACP',
      '--criterion',
      'national-law:Code pénal art. 222-52',
      '--finding',
      'seized',
      '--date',
      '2025-12-02',
      '--place',
      'Marseille',
      '--intended-use',
      'criminal investigation',
      '--authority',
      'OCLCO',
      '--reference',
      'OCLCO-2026-0300',
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const caseId = String((JSON.parse(created.stdout) as { caseId: string }).caseId);
    let refused: Case | undefined;
    await until(async () => {
      refused = (await cases.call('getCase', { caseId })).case;
      return refused?.undelivered !== undefined;
    }, 'the refusal of BEL noted on the case');
    expect(refused?.undelivered).toMatchObject({ code: 'KIND_NOT_ALLOWED', recipient: 'BEL' });

    const list = await run(['trace', 'list', '--role', 'requester', '--state', 'sent']);
    show('trace list --state sent', list);
    expect(list.stdout.split('\n').find((line) => line.startsWith(caseId))).toMatch(
      /sent .*REFUSED BY PEER: KIND_NOT_ALLOWED$/,
    );
    const shown = await run(['trace', 'show', caseId]);
    show(`trace show ${caseId}`, shown);
    expect(shown.stdout).toMatch(/^REFUSED BY PEER: KIND_NOT_ALLOWED: the trace request to BEL \(.*\); withdraw/m);
  }, 120_000);

  it('"request incomplete" names the flags and every missing item', async () => {
    const result = await run(['trace', 'create', '--to', 'BEL', '--serial', 'FX-1', '--priority', 'urgent']);
    show('trace create --to BEL --serial FX-1 --priority urgent', result);
    expect(result.code).toBe(EXIT.usage);
    const [line = '', ...rest] = result.stderr.split('\n').filter(Boolean);
    expect(rest).toEqual([]);
    expect(line).toMatch(/^tracenet: REQUEST_INCOMPLETE: the trace request lacks \d+ items: /);
    for (const flag of [
      '--justification',
      '--criterion',
      '--finding',
      '--date',
      '--place',
      '--manufacturer',
      '--type',
      '--intended-use',
      '--authority',
      '--reference',
    ])
      expect(line).toContain(flag);
    expect(line).not.toMatch(/request\.|illicit_criteria|weapon\.markings|; and \d+ more/);
  }, 60_000);

  it('trace list and messages page with a page token and --all', async () => {
    for (let i = 0; i < 5; i += 1)
      await cases.call('createCase', {
        recipient: 'BEL',
        request: traceRequest({ caseReference: `PAGE-${i}` }),
        send: false,
      });
    const first = await run(['trace', 'list', '--state', 'draft', '--limit', '2']);
    show('trace list --state draft --limit 2', first);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.split('\n').filter(Boolean);
    expect(lines.filter((line) => line.startsWith('case-'))).toHaveLength(2);
    const token = /^More: --cursor (\S+)/m.exec(first.stdout)?.[1] ?? '';
    expect(token).not.toBe('');
    const second = await run(['trace', 'list', '--state', 'draft', '--limit', '2', '--cursor', token]);
    const secondIds = second.stdout.split('\n').filter((line) => line.startsWith('case-'));
    expect(secondIds).toHaveLength(2);
    expect(lines).not.toContain(secondIds[0]);
    const all = await run(['trace', 'list', '--state', 'draft', '--limit', '2', '--all', '--json']);
    expect((JSON.parse(all.stdout) as unknown[]).length).toBe(5);

    // KEN never runs: notices to it wait in the outbox.
    await sendNotices(fra.client, 'KEN', 7);
    const page = await run(['messages', '--direction', 'outbox', '--limit', '3', '--json']);
    expect((JSON.parse(page.stdout) as unknown[]).length).toBe(3);
    expect(page.stderr).toMatch(/^tracenet: more: --cursor \S+\n$/);
    const every = await run(['messages', '--direction', 'outbox', '--limit', '3', '--all', '--json']);
    expect((JSON.parse(every.stdout) as unknown[]).length).toBe(7);
    expect(every.stderr).toBe('');
  }, 120_000);

  it('exit codes are distinct, --json turns errors into JSON, and bad input is never INTERNAL', async () => {
    const limit = await run(['trace', 'list', '--limit', 'abc', '--json']);
    show('trace list --limit abc --json', limit);
    expect(limit.code).toBe(EXIT.usage);
    expect(JSON.parse(limit.stderr)).toEqual({
      error: {
        code: 'INVALID_FIELD',
        message: '--limit must be a whole number from 1 to 500, not "abc"',
        field: 'limit',
        rule: 'range',
      },
    });
    const messagesLimit = await run(['messages', '--limit', 'abc']);
    expect(messagesLimit.code).toBe(EXIT.usage);
    expect(messagesLimit.stderr).toMatch(/^tracenet: INVALID_FIELD: --limit must be a whole number/);

    const unknownOption = await run(['trace', 'list', '--colour', '--json']);
    expect(unknownOption.code).toBe(EXIT.usage);
    expect(JSON.parse(unknownOption.stderr)).toMatchObject({ error: { code: 'USAGE' } });

    const missingCase = await run(['trace', 'show', 'case-999999']);
    expect(missingCase.code).toBe(EXIT.notFound);
    expect(missingCase.stderr).toMatch(/^tracenet: NOT_FOUND: /);

    const missingFile = await run(['records', 'import', join(dirname(fraDir), 'registry.csv')]);
    show('records import <missing file>', missingFile);
    expect(missingFile.code).toBe(EXIT.notFound);
    expect(missingFile.stderr).toMatch(/^tracenet: NOT_FOUND: the file .*registry\.csv does not exist \(file\)\n$/);

    // A mistyped --data says so, instead of leading towards `tracenet init` or `tracenet start`.
    const typo = `${fraDir}-typo`;
    for (const args of [['status'], ['start'], ['peers', 'list']]) {
      const mistyped = await bed.cli([...args, '--data', typo]);
      expect(mistyped.code, args.join(' ')).toBe(EXIT.notFound);
      expect(mistyped.stderr).toBe(
        `tracenet: NOT_FOUND: the data directory ${typo} does not exist; check --data (or TRACENET_DATA) (data)\n`,
      );
    }
    // A node that does not run is unreachable.
    const stopped = await bed.cli(['status', '--data', kenDir]);
    expect(stopped.code).toBe(EXIT.unreachable);

    // A lookup's purpose is not reused: `lookups trace` asks for the trace's own.
    const noPurpose = await run(['lookups', 'trace', 'roi_AAAAAAAAAAAAAAAAAAAAAA', '--owner', 'BEL']);
    expect(noPurpose.code).toBe(EXIT.usage);
    expect(noPurpose.stderr).toMatch(/^tracenet: MISSING_FIELD: --intended-use is required/);

    // A short policy deadline is shown as set, not as "0 d".
    const policy = await run(['peers', 'policy', 'BEL', '--ack-within', '60s', '--answer-within', '90m']);
    expect(policy.stdout).toContain('acknowledge within 1 min, answer within 90 min');
  }, 180_000);

  it('an import writes every rejected row to a rejects file and importing the same file twice creates no duplicates', async () => {
    const good = Array.from(
      { length: 100 },
      (_, i) => `FN Herstal,IMP-${i},FAL,rifle,7.62x51mm,manufactured,1990-01-02,Herstal,FN`,
    );
    const bad = Array.from({ length: 3000 }, () => 'FN Herstal,,FAL,rifle,7.62x51mm,,,,');
    const file = join(dirname(fraDir), 'registry.csv');
    await writeFile(file, `${[HEADER, ...good, ...bad].join('\n')}\n`);

    const first = await run(['records', 'import', file]);
    show('records import (100 good rows, 3,000 bad)', first);
    expect(first.code).toBe(EXIT.partialImport);
    expect(first.stdout).toContain(`Read 3,100 rows of ${file}: 100 imported, 3,000 rejected`);
    expect(first.stdout).toContain(`Every rejected row, with its line number and reason: ${file}.rejects.csv`);
    const rejects = (await readFile(`${file}.rejects.csv`, 'utf8')).split('\n').filter(Boolean);
    expect(rejects[0]).toBe('line,field,reason');
    expect(rejects).toHaveLength(3001);
    expect(rejects.slice(1).map((line) => Number(line.split(',')[0]))).toEqual(
      Array.from({ length: 3000 }, (_, i) => i + 102),
    );
    expect(rejects[3000]).toMatch(/^3101,serial_number,"the serial number is required \(or, for a modular weapon/);

    const again = await run(['records', 'import', file, '--json', '--rejects', `${file}.again.csv`]);
    expect(again.code).toBe(EXIT.partialImport);
    expect(JSON.parse(again.stdout)).toMatchObject({
      rowsRead: 3100,
      rowsImported: 0,
      rowsUnchanged: 100,
      rowsRejected: 3000,
      rejectsFile: `${file}.again.csv`,
    });
    const found = await run(['records', 'search', '--serial', 'IMP-7', '--manufacturer', 'FN Herstal', '--json']);
    expect(JSON.parse(found.stdout) as unknown[]).toHaveLength(1);
  }, 180_000);
});
