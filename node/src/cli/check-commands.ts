import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import {
  CasesClient,
  type CasesServer,
  ErrorCode,
  type ImportMarking,
  Likelihood,
  type Photo,
  RecordKind,
  RequestCheck,
  type TraceRequest,
  TracenetError,
} from '@tracenet/proto';
import { connectUnary } from '../api/unary-client.js';
import { connection, dataOption, jsonOption, output } from './context.js';

/** What an officer reads for each completeness item (docs/protocol.md 17.1), and the flag that gives it. */
const ITEMS: Readonly<Record<string, { words: string; flag: string }>> = {
  control_serial: { words: 'serial of the frame or receiver', flag: '--serial' },
  manufacturer: { words: 'manufacturer', flag: '--manufacturer' },
  model: { words: 'model', flag: '--model' },
  calibre: { words: 'calibre', flag: '--calibre' },
  country_of_manufacture: { words: 'country of manufacture', flag: '--country' },
  import_marks: { words: 'import marks', flag: '--import' },
  photos: { words: 'photos of the markings', flag: '--photo' },
  serial_obliterated: { words: 'obliterated serial flagged', flag: '--obliterated' },
};

const LIKELIHOOD_WORDS: Readonly<Record<number, string>> = {
  [Likelihood.LIKELIHOOD_LIKELY]: 'likely',
  [Likelihood.LIKELIHOOD_POSSIBLE]: 'possible',
  [Likelihood.LIKELIHOOD_UNLIKELY]: 'unlikely',
  [Likelihood.LIKELIHOOD_UNKNOWN]: 'unknown',
};

const KIND_WORDS: Readonly<Record<number, string>> = {
  [RecordKind.RECORD_KIND_MANUFACTURE]: 'manufacturing records',
  [RecordKind.RECORD_KIND_IMPORT]: 'import records',
  [RecordKind.RECORD_KIND_EXPORT]: 'export records',
  [RecordKind.RECORD_KIND_TRANSFER]: 'transfer records',
};

const itemWords = (item: string) => ITEMS[item]?.words ?? item;
const likelihoodWord = (l: Likelihood) => LIKELIHOOD_WORDS[l] ?? 'unknown';
const kindWords = (k: RecordKind) => KIND_WORDS[k] ?? 'records';

/**
 * The check as `tracenet trace check` prints it: the score, each missing item with its weight and
 * the flag that gives it, the likelihood, and where to ask first with the reasons.
 */
export function checkText(check: RequestCheck): string[] {
  const completeness = check.completeness;
  const t = check.traceability;
  const lines = [`request to ${check.recipient}: completeness ${completeness?.score ?? 0}/100`];
  const missing = completeness?.missing ?? [];
  if (missing.length === 0) lines.push('missing: nothing');
  else {
    lines.push('missing, heaviest first:');
    const width = Math.max(...missing.map((m) => itemWords(m.item).length));
    for (const m of missing)
      lines.push(
        `  ${String(m.weight).padStart(3)}  ${itemWords(m.item).padEnd(width)}  ${ITEMS[m.item]?.flag ?? m.field}`,
      );
  }
  lines.push(`records likely to exist: ${likelihoodWord(t?.likelihood ?? Likelihood.LIKELIHOOD_UNKNOWN)}`);
  const ask = t?.askFirst ?? [];
  if (ask.length > 0) {
    lines.push('ask first:');
    const who = Math.max(...ask.map((a) => a.participant.length));
    const what = Math.max(...ask.map((a) => kindWords(a.recordKind).length));
    for (const [i, a] of ask.entries()) {
      lines.push(
        `  ${i + 1}. ${a.participant.padEnd(who)}  ${kindWords(a.recordKind).padEnd(what)}  ${likelihoodWord(a.likelihood)}`,
      );
      for (const r of a.reasons) lines.push(`       ${r.text}`);
    }
  }
  if ((t?.reasons.length ?? 0) > 0) lines.push('notes:', ...(t?.reasons ?? []).map((r) => `  ${r.text}`));
  return lines;
}

/** The recorded check in `tracenet trace show`: three lines. */
export function recordedCheckLines(check: RequestCheck | undefined): string[] {
  if (!check) return [];
  const at = new Date(Number(check.checkedAtMs)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const missing = check.completeness?.missing ?? [];
  const ask = check.traceability?.askFirst ?? [];
  return [
    `check for ${check.recipient} (${at}): completeness ${check.completeness?.score ?? 0}/100`,
    `  missing: ${missing.length === 0 ? 'nothing' : missing.map((m) => `${itemWords(m.item)} (${m.weight})`).join(', ')}`,
    `  records likely to exist: ${likelihoodWord(check.traceability?.likelihood ?? Likelihood.LIKELIHOOD_UNKNOWN)}; ask first: ${
      ask.length === 0
        ? 'nobody the markings name'
        : ask.map((a) => `${a.participant} (${kindWords(a.recordKind)}, ${likelihoodWord(a.likelihood)})`).join(', ')
    }`,
  ];
}

function badFlag(flag: string, message: string): TracenetError {
  return new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, message, { field: flag, rule: 'format' });
}

/** `--import COD:2015,KEN` → import marks (year 0 when not given). */
export function importMarks(text: string): ImportMarking[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((mark) => {
      const m = /^([A-Z]{3})(?::(\d{4}))?$/.exec(mark);
      if (!m) throw badFlag('import', `--import takes COUNTRY[:YEAR] marks, e.g. COD:2015; "${mark}" is not one`);
      return { country: m[1] as string, year: Number(m[2] ?? 0) };
    });
}

/** `--photo a.jpg,b.png` → photos of the markings, read from the files. */
export async function photosFrom(text: string): Promise<Photo[]> {
  const photos: Photo[] = [];
  for (const path of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const ext = extname(path).toLowerCase();
    const mediaType = ext === '.png' ? 'image/png' : ext === '.jpg' || ext === '.jpeg' ? 'image/jpeg' : '';
    if (mediaType === '') throw badFlag('photo', `--photo takes .jpg, .jpeg or .png files; ${path} is not one`);
    let content: Buffer;
    try {
      content = await readFile(path);
    } catch (cause) {
      throw new TracenetError(ErrorCode.ERROR_CODE_NOT_FOUND, `photo ${path} cannot be read`, {
        field: 'photo',
        rule: 'exists',
        cause,
      });
    }
    photos.push({ mediaType, content, caption: '' });
  }
  return photos;
}

/**
 * Registers `tracenet trace check --to <peer> …`: the completeness and traceability of a request
 * before it is created, with the request flags of `trace create` (`addRequestOptions`), through
 * `Cases.CheckRequest`; nothing is stored.
 */
export function registerCheckCommand(
  trace: Command,
  addRequestOptions: (command: Command) => Command,
  requestFrom: (options: Record<string, string | undefined>) => Promise<TraceRequest>,
): void {
  addRequestOptions(
    trace
      .command('check')
      .description(
        'check a request before creating it: completeness score, missing items, and where records are likely to exist',
      )
      .requiredOption('--to <participant>', 'participant the request would go to, e.g. BEL'),
  )
    .addOption(dataOption())
    .addOption(jsonOption())
    .action(async (options: Record<string, string | undefined> & { data: string; json?: boolean }) => {
      const request = await requestFrom(options);
      const { address, token, channel } = await connection(options.data);
      const cases = connectUnary<CasesServer>(CasesClient, address, token, channel);
      try {
        const { check } = await cases.call('checkRequest', { recipient: options.to ?? '', request });
        const value = check ?? RequestCheck.fromPartial({});
        output(options.json, RequestCheck.toJSON(value), () => checkText(value));
      } finally {
        cases.close();
      }
    });
}
