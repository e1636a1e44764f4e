import { currentLanguage, formatDuration } from '../../i18n.js';

/** A proportion (0..1) as a percentage in the officer's language, one decimal at most. */
export function formatPercent(value: number): string {
  return new Intl.NumberFormat(currentLanguage(), { style: 'percent', maximumFractionDigits: 1 }).format(
    Number.isFinite(value) ? value : 0,
  );
}

/**
 * A time in milliseconds ("3 days", "4 hours"), in seconds under a minute (a node that answers
 * by itself), or a dash when there is none (0).
 */
export function duration(ms: number): string {
  if (!(ms > 0)) return '—';
  if (ms >= 60_000) return formatDuration(ms);
  return new Intl.NumberFormat(currentLanguage(), {
    style: 'unit',
    unit: 'second',
    unitDisplay: 'long',
    maximumFractionDigits: ms < 10_000 ? 1 : 0,
  }).format(ms / 1000);
}
