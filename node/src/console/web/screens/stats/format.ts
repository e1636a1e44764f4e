import { currentLanguage, formatDuration, formatNumber } from '../../i18n.js';

/** A proportion (0..1) as a percentage in the officer's language, one decimal at most. */
export function formatPercent(value: number): string {
  return new Intl.NumberFormat(currentLanguage(), { style: 'percent', maximumFractionDigits: 1 }).format(
    Number.isFinite(value) ? value : 0,
  );
}

/** A count as the node gave it (uint64 arrives as a number). */
export function count(value: number): string {
  return formatNumber(value);
}

/** A time in milliseconds ("3 days"), or a dash when there is none (0). */
export function duration(ms: number): string {
  return ms > 0 ? formatDuration(ms) : '—';
}
