import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorCode, RequestCheck, TracenetError } from '@tracenet/proto';
import { importMarks } from '../../src/cli/check-commands.js';
import { registerTraceCommands } from '../../src/cli/trace-commands.js';
import { ManualClock } from '../../src/util/clock.js';
import { pinAll, startNode, testConfig, type TestNode } from '../support/nodes.js';

/** Runs `tracenet trace …` in this process against the node of `dataDir`, returning what it printed. */
async function tracenet(dataDir: string, ...args: string[]): Promise<string> {
  const program = new Command('tracenet').exitOverride();
  registerTraceCommands(program);
  const printed: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['trace', ...args, '--data', dataDir], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return printed.join('');
}

describe('tracenet trace check and show (docs/operations.md 7.7)', () => {
  const clock = new ManualClock(Math.max(Date.now(), Date.UTC(2026, 5, 1)));
  const thisYear = new Date(clock.now()).getUTCFullYear();
  let fra: TestNode;
  let bel: TestNode;

  beforeAll(async () => {
    fra = await startNode('FRA', { clock, memory: true });
    bel = await startNode('BEL', {
      clock,
      memory: true,
      config: testConfig({ records: { profile: { manufacture: 1950 } } }),
    });
    await pinAll([fra.node, bel.node], clock.now());
  });
  afterAll(async () => {
    await fra?.cleanup();
    await bel?.cleanup();
  });

  const described = [
    '--manufacturer',
    'FN Herstal',
    '--model',
    'FNX-45',
    '--type',
    'pistol',
    '--calibre',
    '.45 ACP',
    '--country',
    'BEL',
    '--year',
    '1968',
  ];

  it('prints the score, the missing items in words with their flags, and where to ask first', async () => {
    const importYear = thisYear - 11;
    const text = await tracenet(fra.dataDir, 'check', '--to', 'BEL', ...described, '--import', `COD:${importYear}`);
    expect(text.split('\n')).toEqual([
      'request to BEL: completeness 55/100',
      'missing, heaviest first:',
      '   25  serial of the frame or receiver  --serial',
      '   15  photos of the markings           --photo',
      '    5  obliterated serial flagged       --obliterated',
      'records likely to exist: likely',
      'ask first:',
      '  1. BEL  manufacturing records  likely',
      '       BEL is marked as the country of manufacture.',
      '       BEL declares manufacturing records from 1950; 1968 is covered.',
      '  2. COD  import records         likely',
      '       COD is the last importing state the import marks name.',
      `       ${importYear} is 11 years ago: within the ITI minimum of 20 years for import records.`,
      '',
    ]);
    const json = RequestCheck.fromJSON(
      JSON.parse(await tracenet(fra.dataDir, 'check', '--to', 'BEL', ...described, '--json')),
    );
    expect(json.completeness?.score).toBe(45);
    expect(json.recipient).toBe('BEL');
  });

  it('reads photos and the obliterated flag, and trace show prints the recorded check', async () => {
    const photo = join(fra.dataDir, 'markings.jpg');
    await writeFile(photo, Buffer.from([0xff, 0xd8, 0xff]));
    const created = await tracenet(
      fra.dataDir,
      'create',
      '--to',
      'BEL',
      '--draft',
      ...described,
      '--serial',
      'FX-04??-2231',
      '--obliterated',
      '--photo',
      photo,
      '--criterion',
      'arms-embargo:UNSC res. 2745 (2024)',
      '--finding',
      'seized',
      '--date',
      '2025-12-02',
      '--place',
      'Goma',
      '--intended-use',
      'criminal investigation',
      '--authority',
      'OCLCO',
      '--reference',
      'OCLCO-1',
    );
    const caseId = /^(case-\d+)/.exec(created)?.[1] ?? '';
    const shown = (await tracenet(fra.dataDir, 'show', caseId)).split('\n');
    const at = shown.findIndex((l) => l.startsWith('check for BEL'));
    expect(shown.slice(at, at + 3)).toEqual([
      `check for BEL (${new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z')}): completeness 90/100`,
      '  missing: import marks (10)',
      '  records likely to exist: likely; ask first: BEL (manufacturing records, likely)',
    ]);
  });

  it('refuses malformed import marks and years, naming the flag', async () => {
    expect(() => importMarks('COD:2015,kenya')).toThrow(/--import takes COUNTRY\[:YEAR\] marks/);
    const error = await tracenet(fra.dataDir, 'check', '--to', 'BEL', '--year', '99999').then(
      () => undefined,
      (e: unknown) => TracenetError.from(e),
    );
    expect([error?.code, error?.field]).toEqual([ErrorCode.ERROR_CODE_INVALID_FIELD, 'year']);
  });
});
