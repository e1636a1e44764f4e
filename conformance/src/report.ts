import type { CaseResult, CaseStatus, SuiteResult } from './runner.js';

const MARK: Record<CaseStatus, string> = {
  passed: 'ok  ',
  failed: 'FAIL',
  skipped: 'skip',
  xfail: 'xfail',
  xpass: 'XPASS',
};

/** One line per case as it finishes. */
export function progressLine(r: CaseResult): string {
  return `${MARK[r.status].padEnd(5)} ${r.id.padEnd(48)} protocol ${r.section.padEnd(6)} ${String(r.durationMs).padStart(5)} ms${r.status === 'passed' ? '' : `\n        ${r.message}`}`;
}

/**
 * The readable summary: failures first with expected vs got, then expected failures, unexpected
 * passes, skipped features, and the counts.
 */
export function textSummary(result: SuiteResult): string {
  const lines: string[] = [];
  const of = (status: CaseStatus) => result.results.filter((r) => r.status === status);
  const section = (title: string, items: CaseResult[]) => {
    if (items.length === 0) return;
    lines.push('', title);
    for (const r of items) lines.push(`  ${r.id} (protocol ${r.section}, ${r.feature}): ${r.message}`);
  };
  lines.push(
    `Tracenet conformance: ${result.target.participantId} (key ${result.target.keyId}) at ${result.target.federation}`,
  );
  section('Failed:', of('failed'));
  section('Listed as expected failures and passed (remove them from the list):', of('xpass'));
  section('Expected failures:', of('xfail'));
  const skippedFeatures = [...new Set(of('skipped').map((r) => r.feature))];
  if (skippedFeatures.length > 0)
    lines.push('', `Skipped (features the node lacks): ${skippedFeatures.join(', ')} — ${of('skipped').length} cases`);
  const c = result.counts;
  lines.push(
    '',
    `${result.results.length} cases: ${c.passed} passed, ${c.failed} failed, ${c.xfail} expected failures, ${c.xpass} unexpected passes, ${c.skipped} skipped in ${(result.durationMs / 1000).toFixed(1)} s`,
  );
  lines.push(
    result.unexpected === 0
      ? 'CONFORMS (no unexpected result)'
      : `DOES NOT CONFORM: ${result.unexpected} unexpected result(s)`,
  );
  return lines.join('\n');
}

/** The machine-readable result (`--json`). */
export function jsonReport(result: SuiteResult): string {
  return `${JSON.stringify({ format: 'tracenet-conformance/1', ...result }, null, 2)}\n`;
}

function xml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch] ?? ch,
  );
}

/** JUnit XML (`--junit`): one testcase per case, classname = feature; xfail counts as passed with a system-out note. */
export function junitReport(result: SuiteResult): string {
  const c = result.counts;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tracenet-conformance" tests="${result.results.length}" failures="${c.failed + c.xpass}" skipped="${c.skipped}" time="${(result.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="tracenet-conformance ${xml(result.target.participantId)}" tests="${result.results.length}" failures="${c.failed + c.xpass}" skipped="${c.skipped}" timestamp="${result.startedAt}" time="${(result.durationMs / 1000).toFixed(3)}">`,
  ];
  for (const r of result.results) {
    const open = `    <testcase classname="${xml(r.feature)}" name="${xml(r.id)} (protocol ${xml(r.section)})" time="${(r.durationMs / 1000).toFixed(3)}"`;
    if (r.status === 'passed') out.push(`${open}/>`);
    else if (r.status === 'skipped') out.push(`${open}><skipped message="${xml(r.message)}"/></testcase>`);
    else if (r.status === 'xfail')
      out.push(`${open}><system-out>${xml(`expected failure: ${r.message}`)}</system-out></testcase>`);
    else
      out.push(
        `${open}><failure message="${xml(r.message)}" type="${r.status}">${xml(`${r.title}\n${r.message}`)}</failure></testcase>`,
      );
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
