import { describe, expect, it } from 'vitest';
import { rejectsCsv } from '../../src/console/web/screens/records/rejects.js';

describe('the rejected rows file of a console import', () => {
  it('writes line, field and reason, quoting what needs it', () => {
    expect(
      rejectsCsv([
        { line: 3, field: 'manufacturer', reason: 'the manufacturer is required' },
        { line: 5, field: 'type', reason: '"spear" is not a known weapon type, use pistol, rifle' },
      ]),
    ).toBe(
      'line,field,reason\r\n3,manufacturer,the manufacturer is required\r\n5,type,"""spear"" is not a known weapon type, use pistol, rifle"\r\n',
    );
  });

  it('never lets a spreadsheet run a value of a hostile file as a formula', () => {
    const csv = rejectsCsv([
      { line: 2, field: '=HYPERLINK("http://evil")', reason: '+1' },
      { line: 4, field: '@SUM(A1)', reason: '-2\nline two' },
    ]);
    expect(csv).toBe(
      'line,field,reason\r\n2,"\'=HYPERLINK(""http://evil"")",\'+1\r\n4,\'@SUM(A1),"\'-2\nline two"\r\n',
    );
  });
});
