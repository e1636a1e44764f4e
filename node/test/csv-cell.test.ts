import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RejectsFile } from '../src/cli/records-commands.js';
import { csvCell } from '../src/util/csv-cell.js';

describe('csvCell', () => {
  it('quotes a comma, a quote or a line break and leaves plain text and numbers alone', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
  });

  it('never leaves a formula a spreadsheet would run', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r'])
      expect(csvCell(`${start}1+1`).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
  });
});

describe('the rejects file of `tracenet records import`', () => {
  it('neutralises a formula in a field or reason, as the console’s rejects file does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rejects-'));
    try {
      const file = new RejectsFile(join(dir, 'r.csv'));
      file.add({ line: 2, field: '=cmd()', reason: '@SUM(A1)' });
      await file.close();
      expect(await readFile(file.path, 'utf8')).toBe("line,field,reason\n2,'=cmd(),'@SUM(A1)\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
