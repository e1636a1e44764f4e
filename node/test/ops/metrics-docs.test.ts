import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, envName } from '../../src/config/config.js';
import { createMetrics } from '../../src/ops/metrics.js';

const DOC = readFileSync(fileURLToPath(new URL('../../../docs/operations-metrics.md', import.meta.url)), 'utf8');

/** Rows of the Markdown table whose header row starts with `header`, as unquoted cells. */
function table(header: RegExp): string[][] {
  const lines = DOC.split('\n');
  const start = lines.findIndex((line) => header.test(line));
  expect(start, `docs/operations-metrics.md has a table matching ${header}`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1')),
    );
  }
  return rows;
}

describe('docs/operations-metrics.md', () => {
  it('documents exactly the tracenet_ metrics the registry exposes, with their types and labels', async () => {
    const metrics = createMetrics({
      listen: '',
      logger: pino({ level: 'silent' }),
      outboxDepth: () => 0,
      outboxOldestAgeSeconds: async () => 0,
      casesByState: async () => ({}),
      overdueCases: async () => 0,
      registryAdapters: () => [{ kind: 'leveldb', up: true }],
    });
    const exposed = (await metrics.registry.getMetricsAsJSON())
      .filter((m) => m.name.startsWith('tracenet_'))
      .map((m) => ({
        name: m.name,
        type: String(m.type),
        labels: [
          ...(metrics.registry.getSingleMetric(m.name) as unknown as { labelNames: string[] }).labelNames,
        ].sort(),
      }));
    const documented = table(/^\|\s*metric\s*\|\s*type\s*\|\s*labels\s*\|\s*meaning\s*\|/).map(
      ([name = '', type = '', labels = '']) => ({
        name,
        type,
        labels:
          labels === '—'
            ? []
            : labels
                .split(',')
                .map((l) => l.trim().replace(/`/g, ''))
                .sort(),
      }),
    );
    expect(documented.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      exposed.sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it('gives the default and environment variable of metrics.listen', () => {
    const row = table(/^\|\s*key\s*\|\s*default\s*\|/).find(([key]) => key === 'metrics.listen');
    expect(row?.[1]).toBe(DEFAULT_CONFIG.metrics.listen);
    expect(row?.[2]).toBe(envName('metrics.listen'));
  });
});
