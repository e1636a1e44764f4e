import { useId } from 'preact/hooks';
import { currentLanguage } from '../../i18n.js';
import { barLayout } from './chart-layout.js';

/** One bar group of a chart: its label and one value per series. */
export interface ChartRow {
  readonly label: string;
  readonly values: readonly number[];
  /** The text after the bars (the figure, a proportion). */
  readonly note: string;
}

/**
 * A horizontal bar chart drawn in SVG from the figures of a table shown beside it. The table is
 * the source for assistive technology: the drawing is hidden from it, and the caption says what
 * it shows and that the table holds the figures. Series differ by fill pattern as well as by
 * colour, and the legend names them; the layout mirrors in Arabic.
 */
export function BarChart(props: {
  caption: string;
  series: readonly string[];
  rows: readonly ChartRow[];
  stacked: boolean;
}) {
  const id = useId();
  const rtl = currentLanguage() === 'ar';
  const layout = barLayout(
    props.rows.map((r) => r.values),
    { width: 760, labelWidth: 200, noteWidth: 190, rtl, stacked: props.stacked },
  );
  return (
    <figure class="stats-chart">
      <svg
        class="stats-chart-plot"
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        aria-hidden="true"
        focusable="false"
        role="presentation"
        style={{ direction: 'ltr' }}
      >
        <defs>
          <pattern id={`${id}-hatch`} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" class="series-1-ground" />
            <line x1="0" y1="0" x2="0" y2="6" class="series-1-line" />
          </pattern>
          <pattern id={`${id}-dots`} width="5" height="5" patternUnits="userSpaceOnUse">
            <rect width="5" height="5" class="series-2-ground" />
            <circle cx="2.5" cy="2.5" r="1.2" class="series-2-dot" />
          </pattern>
        </defs>
        {layout.bars.map((bar) => (
          <rect
            key={`${bar.row}-${bar.series}`}
            x={bar.x}
            y={bar.y}
            width={bar.width}
            height={bar.height}
            class={`bar series-${bar.series % 3}`}
            fill={bar.series % 3 === 1 ? `url(#${id}-hatch)` : bar.series % 3 === 2 ? `url(#${id}-dots)` : undefined}
          />
        ))}
        {layout.labels.map((label) => (
          <text key={`l${label.row}`} x={label.x} y={label.y} text-anchor={label.anchor} dominant-baseline="middle">
            {truncate(props.rows[label.row]?.label ?? '', 28)}
          </text>
        ))}
        {layout.notes.map((note) => (
          <text
            key={`n${note.row}`}
            x={note.x}
            y={note.y}
            text-anchor={note.anchor}
            dominant-baseline="middle"
            class="note"
          >
            {props.rows[note.row]?.note ?? ''}
          </text>
        ))}
      </svg>
      {props.series.length > 1 && (
        <ul class="stats-legend" aria-hidden="true">
          {props.series.map((name, s) => (
            <li key={name}>
              <svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" focusable="false">
                <rect
                  width="14"
                  height="14"
                  class={`bar series-${s % 3}`}
                  fill={s % 3 === 1 ? `url(#${id}-hatch)` : s % 3 === 2 ? `url(#${id}-dots)` : undefined}
                />
              </svg>
              {name}
            </li>
          ))}
        </ul>
      )}
      <figcaption>{props.caption}</figcaption>
    </figure>
  );
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
