/**
 * The geometry of the statistics screen's bar charts, apart from Preact so that it is tested
 * alone: horizontal bars, one band per row, series stacked or side by side, mirrored for a
 * right-to-left language (the bars grow from the inline start, the labels sit on the start side).
 */

/** One rectangle of a chart, in SVG user units. */
export interface BarRect {
  readonly row: number;
  readonly series: number;
  readonly value: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A text of a chart: a row's label or the note after its bars. */
export interface ChartText {
  readonly row: number;
  readonly x: number;
  readonly y: number;
  readonly anchor: 'start' | 'end';
}

export interface ChartLayout {
  readonly width: number;
  readonly height: number;
  readonly bars: BarRect[];
  readonly labels: ChartText[];
  readonly notes: ChartText[];
  /** The value of the longest bar (the scale's end): at least 1, so that zeros draw nothing. */
  readonly max: number;
}

export interface LayoutOptions {
  readonly width: number;
  /** Room for the row labels, on the inline-start side. */
  readonly labelWidth: number;
  /** Room after the bars for the note of each row. */
  readonly noteWidth: number;
  readonly rtl: boolean;
  readonly stacked: boolean;
  readonly barHeight?: number;
  readonly gap?: number;
}

const GUTTER = 6;

/**
 * Lays out `rows` (each an array of series values, negative and non-finite values counted as 0).
 *
 * @example
 * ```ts
 * barLayout([[3, 1], [2, 0]], { width: 600, labelWidth: 160, noteWidth: 80, rtl: false, stacked: true });
 * ```
 */
export function barLayout(rows: ReadonlyArray<readonly number[]>, options: LayoutOptions): ChartLayout {
  const barHeight = options.barHeight ?? 18;
  const gap = options.gap ?? 10;
  const clean = rows.map((values) => values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0)));
  const series = Math.max(1, ...clean.map((values) => values.length));
  const max = Math.max(
    1,
    ...clean.map((values) => (options.stacked ? values.reduce((a, b) => a + b, 0) : Math.max(0, ...values))),
  );
  const band = options.stacked ? barHeight : barHeight * series;
  const plot = Math.max(1, options.width - options.labelWidth - options.noteWidth - 2 * GUTTER);
  const start = options.labelWidth + GUTTER;
  const bars: BarRect[] = [];
  const labels: ChartText[] = [];
  const notes: ChartText[] = [];
  // x of a span along the inline axis, measured from the inline start.
  const place = (offset: number, length: number) => (options.rtl ? options.width - offset - length : offset);
  clean.forEach((values, row) => {
    const top = gap + row * (band + gap);
    let along = start;
    let end = start;
    values.forEach((value, s) => {
      const length = (value / max) * plot;
      const y = options.stacked ? top : top + s * barHeight;
      const offset = options.stacked ? along : start;
      bars.push({ row, series: s, value, x: place(offset, length), y, width: length, height: barHeight });
      if (options.stacked) along += length;
      end = Math.max(end, offset + length);
    });
    const middle = top + band / 2;
    labels.push({
      row,
      x: options.rtl ? options.width - options.labelWidth : options.labelWidth,
      y: middle,
      anchor: options.rtl ? 'start' : 'end',
    });
    notes.push({
      row,
      x: options.rtl ? options.width - end - GUTTER : end + GUTTER,
      y: middle,
      anchor: options.rtl ? 'end' : 'start',
    });
  });
  return { width: options.width, height: gap + clean.length * (band + gap), bars, labels, notes, max };
}
