import { DestructionCertificate } from '@tracenet/proto';
import { describe, expect, it } from 'vitest';
import {
  CERTIFICATE_FILE_FORMAT,
  certificateFileText,
  certificateOf,
  confirmationWord,
  witnessesOf,
} from '../../src/console/web/screens/records/certificate-file.js';
import { barLayout } from '../../src/console/web/screens/stats/chart-layout.js';
import {
  isCalendarDate,
  periodDates,
  periodOf,
  periodProblem,
  safeFileName,
  sdgRequest,
} from '../../src/console/web/screens/stats/period.js';

describe('the statistics charts', () => {
  it('scales stacked bars to the longest row and places notes after them', () => {
    const layout = barLayout(
      [
        [3, 1],
        [2, 0],
      ],
      { width: 600, labelWidth: 150, noteWidth: 90, rtl: false, stacked: true },
    );
    expect(layout.max).toBe(4);
    const plot = 600 - 150 - 90 - 12;
    const [a, b, c] = layout.bars;
    expect(a).toMatchObject({ row: 0, series: 0, x: 156, width: (3 / 4) * plot });
    expect(b?.x).toBeCloseTo(156 + (3 / 4) * plot);
    expect(b?.width).toBeCloseTo(plot / 4);
    expect(c).toMatchObject({ row: 1, series: 0, x: 156, width: plot / 2 });
    expect(c?.y).toBeGreaterThan(a?.y ?? 0);
    expect(b?.y).toBe(a?.y);
    expect(layout.labels[0]).toMatchObject({ x: 150, anchor: 'end' });
    expect(layout.notes[0]?.x).toBeCloseTo(156 + plot + 6);
  });

  it('mirrors every bar and text for a right-to-left language', () => {
    const options = { width: 500, labelWidth: 100, noteWidth: 60, stacked: false };
    const ltr = barLayout([[5, 10]], { ...options, rtl: false });
    const rtl = barLayout([[5, 10]], { ...options, rtl: true });
    ltr.bars.forEach((bar, i) => {
      const mirrored = rtl.bars[i];
      expect(mirrored?.width).toBeCloseTo(bar.width);
      expect(mirrored?.x).toBeCloseTo(500 - bar.x - bar.width);
      expect(mirrored?.y).toBe(bar.y);
    });
    expect(rtl.labels[0]).toMatchObject({ x: 400, anchor: 'start' });
    expect(rtl.notes[0]?.anchor).toBe('end');
    expect(rtl.notes[0]?.x).toBeCloseTo(500 - (ltr.notes[0]?.x ?? 0));
    // Side by side: one band per series.
    expect(ltr.bars[1]?.y).toBeGreaterThan(ltr.bars[0]?.y ?? 0);
  });

  it('draws nothing for zeros, negatives and non-numbers, and never divides by zero', () => {
    const layout = barLayout([[0, -3, Number.NaN, Number.POSITIVE_INFINITY]], {
      width: 300,
      labelWidth: 80,
      noteWidth: 40,
      rtl: false,
      stacked: true,
    });
    expect(layout.max).toBe(1);
    expect(layout.bars.every((bar) => bar.width === 0)).toBe(true);
    expect(barLayout([], { width: 300, labelWidth: 80, noteWidth: 40, rtl: true, stacked: false }).bars).toEqual([]);
  });
});

describe('the reporting period of the statistics screen', () => {
  it('defaults to the current year and reads a year or two dates from the route', () => {
    expect(periodOf(new URLSearchParams(''), new Date('2026-12-05T10:00:00Z'))).toEqual({ kind: 'year', year: '2026' });
    expect(periodOf(new URLSearchParams('year=2025'))).toEqual({ kind: 'year', year: '2025' });
    expect(periodOf(new URLSearchParams('from=2026-01-01'))).toEqual({ kind: 'range', from: '2026-01-01', to: '' });
    expect(sdgRequest({ kind: 'year', year: '2026' })).toEqual({ year: '2026' });
    expect(sdgRequest({ kind: 'range', from: '2026-02-01', to: '2026-03-31' })).toEqual({
      year: '',
      period: { fromDate: '2026-02-01', toDate: '2026-03-31' },
    });
    expect(periodDates({ kind: 'year', year: '2024' })).toEqual({ fromDate: '2024-01-01', toDate: '2024-12-31' });
  });

  it('refuses impossible years and dates and a period that ends before it starts, before asking the node', () => {
    for (const year of ['', '26', '20266', '0999', 'abcd', '2026\u0000', '１２３４'])
      expect(periodProblem({ kind: 'year', year }), year).toEqual({ field: 'year', rule: 'year' });
    expect(periodProblem({ kind: 'year', year: '2026' })).toBeUndefined();
    expect(periodProblem({ kind: 'range', from: '2026-02-30', to: '2026-03-01' })).toEqual({
      field: 'from',
      rule: 'date',
    });
    expect(periodProblem({ kind: 'range', from: '2026-01-01', to: '2026-13-01' })).toEqual({
      field: 'to',
      rule: 'date',
    });
    expect(periodProblem({ kind: 'range', from: '2026-05-01', to: '2026-04-30' })).toEqual({
      field: 'to',
      rule: 'order',
    });
    expect(periodProblem({ kind: 'range', from: '2024-02-29', to: '2024-02-29' })).toBeUndefined();
    // The node's limits: nothing after today, at most ten years (3653 days).
    const now = new Date('2026-12-05T12:00:00Z');
    expect(periodProblem({ kind: 'year', year: '2027' }, now)).toEqual({ field: 'year', rule: 'future' });
    expect(periodProblem({ kind: 'year', year: '2026' }, now)).toBeUndefined();
    expect(periodProblem({ kind: 'range', from: '2026-12-06', to: '2026-12-31' }, now)).toEqual({
      field: 'from',
      rule: 'future',
    });
    expect(periodProblem({ kind: 'range', from: '2016-01-01', to: '2025-12-31' }, now)).toBeUndefined();
    expect(periodProblem({ kind: 'range', from: '2016-01-01', to: '2026-01-01' }, now)).toEqual({
      field: 'to',
      rule: 'span',
    });
    expect(isCalendarDate('2025-02-29')).toBe(false);
    expect(isCalendarDate('<script>')).toBe(false);
  });

  it('saves an export under a safe name: no folders, no hidden file, never empty', () => {
    expect(safeFileName('tracenet-FRA-sdg-16.4.2-2026.xlsx', 'x')).toBe('tracenet-FRA-sdg-16.4.2-2026.xlsx');
    expect(safeFileName('../../etc/passwd', 'x')).toBe('etc_passwd');
    expect(safeFileName('a/b\\c\u0000d.csv', 'x')).toBe('a_b_c_d.csv');
    expect(safeFileName('...', 'fallback.json')).toBe('fallback.json');
    expect(safeFileName('x'.repeat(500), 'f')).toHaveLength(120);
  });
});

describe('the destruction certificate file of the records screen', () => {
  const certificate = DestructionCertificate.fromPartial({
    body: Buffer.from([8, 1, 18, 3, 100, 99, 95]),
    signature: Buffer.alloc(64, 7),
  });

  it('reads the JSON the console saves and the protobuf bytes, and nothing else', () => {
    const json = new TextEncoder().encode(JSON.stringify(DestructionCertificate.toJSON(certificate)));
    expect(Buffer.from(certificateOf(json)?.body ?? []).equals(Buffer.from(certificate.body))).toBe(true);
    const binary = DestructionCertificate.encode(certificate).finish();
    expect(Buffer.from(certificateOf(binary)?.signature ?? []).equals(Buffer.from(certificate.signature))).toBe(true);
    expect(certificateOf(new TextEncoder().encode('{"hello":1}'))).toBeUndefined();
    expect(certificateOf(new TextEncoder().encode('{"body":"","signature":""}'))).toBeUndefined();
    expect(certificateOf(new Uint8Array([0xff, 0xff, 0xff]))).toBeUndefined();
    expect(certificateOf(new Uint8Array())).toBeUndefined();
  });

  it('writes the file the CLI writes, which it reads back', () => {
    const text = certificateFileText(certificate, 'FRA', 'dc_0123456789abcdefghijkl');
    expect(JSON.parse(text)).toEqual({
      format: CERTIFICATE_FILE_FORMAT,
      issuer: 'FRA',
      certificateId: 'dc_0123456789abcdefghijkl',
      body: Buffer.from(certificate.body).toString('base64'),
      signature: Buffer.from(certificate.signature).toString('base64'),
    });
    const back = certificateOf(new TextEncoder().encode(text));
    expect(Buffer.from(back?.body ?? []).equals(Buffer.from(certificate.body))).toBe(true);
    expect(Buffer.from(back?.signature ?? []).equals(Buffer.from(certificate.signature))).toBe(true);
  });

  it('takes one witness a line and asks for the serial to confirm', () => {
    expect(witnessesOf('  Capt. A. Diallo, armourer \r\n\n\tJ. Okafor (UNMISS)\n  ')).toEqual([
      'Capt. A. Diallo, armourer',
      'J. Okafor (UNMISS)',
    ]);
    expect(witnessesOf('\n \n')).toEqual([]);
    expect(confirmationWord({ recordId: 'r_1', manufacture: { serialNumber: 'AK-1' } } as never)).toBe('AK-1');
    expect(confirmationWord({ recordId: 'r_1', manufacture: { serialNumber: '' } } as never)).toBe('r_1');
  });
});
