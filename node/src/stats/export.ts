import {
  ErrorCode,
  ExportFormat,
  type ExportedFile,
  type SdgItem,
  type SdgReport,
  type SdgRow,
  SdgReport as SdgReportMessage,
  TracenetError,
} from '@tracenet/proto';
import { categoryLabel, circumstanceLabel, rowOf, statusLabel, weaponTypeLabel } from './sdg.js';
import { csvCell } from '../util/csv-cell.js';
import { zip } from './zip.js';

/** One cell: text or a number. */
type Cell = string | number;

const COUNT_HEADERS = [
  'seized',
  'found',
  'surrendered',
  'total',
  'traced',
  'established_otherwise',
  'pending',
  'not_established',
  'not_attempted',
  'proportion_established',
];

function counts(row: SdgRow): Cell[] {
  return [
    row.seized,
    row.found,
    row.surrendered,
    row.total,
    row.traced,
    row.establishedOtherwise,
    row.pending,
    row.notEstablished,
    row.notAttempted,
    Math.round(row.proportion * 10_000) / 10_000,
  ];
}

/** "#1 #4": the items of a row, numbered from 1 as in the items table. */
function itemNumbers(row: SdgRow): string {
  return row.itemIndexes.map((i) => `#${i + 1}`).join(' ');
}

/** Every row of the report, in the order of the tables. */
export function reportRows(report: SdgReport): SdgRow[] {
  return [
    ...(report.total ? [report.total] : []),
    ...report.byType,
    ...report.byModel,
    ...report.byCircumstance,
    ...report.otherItems,
  ];
}

const ITEM_HEADERS = [
  'item',
  'finding',
  'date',
  'category',
  'type',
  'manufacturer',
  'model',
  'circumstance',
  'quantity',
  'status',
  'record_id',
  'case_ids',
  'basis',
];

function itemCells(item: SdgItem, index: number): Cell[] {
  return [
    `#${index + 1}`,
    item.finding,
    item.date,
    categoryLabel(item.category),
    weaponTypeLabel(item.type),
    item.manufacturer,
    item.model,
    circumstanceLabel(item.circumstance),
    item.quantity,
    statusLabel(item.status),
    item.recordId,
    item.caseIds.join(' '),
    item.basis,
  ];
}

/**
 * The report as CSV (docs/statistics.md 4.1): UTF-8 with a byte order mark (Excel reads it as
 * UTF-8), CRLF lines; first the tables (one line per row, `table` naming the table), then an empty
 * line and the items, so that every figure's `items` column points at the lines behind it.
 */
export function sdgCsv(report: SdgReport): Buffer {
  const lines: Cell[][] = [['table', 'key', 'label', ...COUNT_HEADERS, 'items']];
  for (const row of reportRows(report))
    lines.push([row.dimension, row.key, row.label, ...counts(row), itemNumbers(row)]);
  lines.push([]);
  lines.push(ITEM_HEADERS);
  report.items.forEach((item, i) => lines.push(itemCells(item, i)));
  const text = lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n');
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${text}\r\n`, 'utf8')]);
}

/** The report as JSON: the SdgReport message in the protobuf JSON mapping (docs/statistics.md 4.2). */
export function sdgJson(report: SdgReport): Buffer {
  return Buffer.from(`${JSON.stringify(SdgReportMessage.toJSON(report), null, 2)}\n`, 'utf8');
}

// ---- XLSX (ECMA-376, SpreadsheetML): a small writer, inline strings, two styles ----

function xml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; the five markup characters are escaped.
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function columnName(index: number): string {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

/** A sheet: a title, a header row and rows. Column `percent` is shown as a percentage. */
interface Sheet {
  readonly name: string;
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly Cell[][];
  readonly percent?: number;
}

function sheetXml(sheet: Sheet): string {
  const rows: string[] = [];
  const rowXml = (r: number, cells: readonly Cell[], style: number) =>
    `<row r="${r}">${cells
      .map((cell, c) => {
        const ref = `${columnName(c)}${r}`;
        if (typeof cell === 'number') {
          const s = c === sheet.percent ? 2 : style;
          return `<c r="${ref}"${s ? ` s="${s}"` : ''}><v>${Number.isFinite(cell) ? cell : 0}</v></c>`;
        }
        // Inline strings are never formulas: a cell starting with "=" stays text.
        return `<c r="${ref}" t="inlineStr"${style ? ` s="${style}"` : ''}><is><t xml:space="preserve">${xml(cell)}</t></is></c>`;
      })
      .join('')}</row>`;
  rows.push(rowXml(1, [sheet.title], 1));
  rows.push(rowXml(3, sheet.header, 1));
  sheet.rows.forEach((cells, i) => rows.push(rowXml(4 + i, cells, 0)));
  // Columns as wide as their longest text below the title (8 to 60 characters), so that a sheet opens readable.
  const widths = sheet.header.map((h, c) =>
    Math.min(60, Math.max(8, h.length + 2, ...sheet.rows.map((r) => String(r[c] ?? '').length + 2))),
  );
  const cols = widths.map((w, c) => `<col min="${c + 1}" max="${c + 1}" width="${w}" customWidth="1"/>`).join('');
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
    `<cols>${cols}</cols><sheetData>${rows.join('')}</sheetData></worksheet>`
  );
}

const STYLES =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
  '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' +
  '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>' +
  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
  '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>' +
  '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>' +
  '</styleSheet>';

/**
 * An XLSX workbook of `sheets`: the parts a spreadsheet application needs (content types,
 * relationships, workbook, styles, one worksheet each), zipped.
 */
export function workbook(sheets: readonly Sheet[]): Buffer {
  const head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
  const types =
    `${head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
    sheets
      .map(
        (_, i) =>
          `<Override PartName="/xl/worksheets/sheet${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`,
      )
      .join('') +
    '</Types>';
  const rels =
    `${head}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>' +
    '</Relationships>';
  const book =
    `${head}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>` +
    sheets.map((s, i) => `<sheet name="${xml(s.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('') +
    '</sheets></workbook>';
  const bookRels =
    `${head}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    sheets
      .map(
        (_, i) =>
          `<Relationship Id="rId${i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`,
      )
      .join('') +
    `<Relationship Id="rId${sheets.length + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
    '</Relationships>';
  return zip([
    { name: '[Content_Types].xml', data: Buffer.from(types) },
    { name: '_rels/.rels', data: Buffer.from(rels) },
    { name: 'xl/workbook.xml', data: Buffer.from(book) },
    { name: 'xl/_rels/workbook.xml.rels', data: Buffer.from(bookRels) },
    { name: 'xl/styles.xml', data: Buffer.from(STYLES) },
    ...sheets.map((s, i) => ({ name: `xl/worksheets/sheet${i + 1}.xml`, data: Buffer.from(sheetXml(s)) })),
  ]);
}

const STATUS_HEADERS = [
  'Total',
  'Traced',
  'Established otherwise',
  'Pending',
  'Not established',
  'Not attempted',
  'Proportion established',
  'Items',
];
const FINDING_HEADERS = ['Seized', 'Found', 'Surrendered'];

function statusCells(row: SdgRow): Cell[] {
  return [
    row.total,
    row.traced,
    row.establishedOtherwise,
    row.pending,
    row.notEstablished,
    row.notAttempted,
    row.proportion,
    itemNumbers(row),
  ];
}

/** The firearms of the report counted by finding: seized, found, surrendered, then all. */
function byFinding(report: SdgReport): SdgRow[] {
  const indexes = report.total?.itemIndexes ?? [];
  return ['seized', 'found', 'surrendered'].map((finding) =>
    rowOf(
      'finding',
      finding,
      finding.charAt(0).toUpperCase() + finding.slice(1),
      indexes.filter((i) => report.items[i]?.finding === finding),
      report.items,
    ),
  );
}

/**
 * The report as an XLSX workbook laid out like the seizure tables of UNODC's Illicit Arms Flows
 * Questionnaire (docs/statistics.md 4.3): one sheet per table — firearms by finding (seized, found,
 * surrendered) with their status, by type, by circumstance, by manufacturer and model, parts,
 * accessories and ammunition — and the items sheet that every figure's `Items` column points into.
 */
export function sdgXlsx(report: SdgReport): Buffer {
  const period = `${report.period?.fromDate ?? ''} to ${report.period?.toDate ?? ''}`;
  const title = (what: string) => `SDG indicator 16.4.2 — ${report.participant} — ${period} — ${what}`;
  const total = report.total;
  const tableRows = (rows: readonly SdgRow[]) =>
    rows.map((row) => [
      row.label,
      ...FINDING_HEADERS.map((_, i) => [row.seized, row.found, row.surrendered][i] as number),
      ...statusCells(row),
    ]);
  const withTotal = (rows: readonly SdgRow[]) => [
    ...tableRows(rows),
    ...(total ? tableRows([{ ...total, label: 'All firearms' }]) : []),
  ];
  const percentAt = 1 + FINDING_HEADERS.length + 6;
  return workbook([
    {
      name: 'Firearms by finding',
      title: title(
        'firearms seized, found or surrendered, and whether their illicit origin or context was established',
      ),
      header: ['Finding', ...STATUS_HEADERS],
      rows: [...byFinding(report), ...(total ? [{ ...total, label: 'All firearms' }] : [])].map((row) => [
        row.label,
        ...statusCells(row),
      ]),
      percent: 7,
    },
    {
      name: 'By type',
      title: title('firearms by type'),
      header: ['Type', ...FINDING_HEADERS, ...STATUS_HEADERS],
      rows: withTotal(report.byType),
      percent: percentAt,
    },
    {
      name: 'By circumstance',
      title: title('firearms by circumstance of seizure or retrieval'),
      header: ['Circumstance', ...FINDING_HEADERS, ...STATUS_HEADERS],
      rows: withTotal(report.byCircumstance),
      percent: percentAt,
    },
    {
      name: 'By model',
      title: title('firearms by manufacturer and model'),
      header: ['Manufacturer and model', ...FINDING_HEADERS, ...STATUS_HEADERS],
      rows: withTotal(report.byModel),
      percent: percentAt,
    },
    {
      name: 'Parts ammunition',
      title: title('parts, accessories and ammunition (quantities)'),
      header: ['Category', ...FINDING_HEADERS, ...STATUS_HEADERS],
      rows: tableRows(report.otherItems),
      percent: percentAt,
    },
    {
      name: 'Items',
      title: title('the items behind every figure'),
      header: ITEM_HEADERS.map((h) => h.charAt(0).toUpperCase() + h.slice(1).replace(/_/g, ' ')),
      rows: report.items.map(itemCells),
    },
  ]);
}

/** The file name of an export: "tracenet-FRA-sdg-16.4.2-2026.xlsx" (a calendar year) or with both dates. */
export function exportFileName(report: SdgReport, extension: string): string {
  const from = report.period?.fromDate ?? '';
  const to = report.period?.toDate ?? '';
  const year = from.slice(0, 4);
  const span = from === `${year}-01-01` && to === `${year}-12-31` ? year : `${from}_${to}`;
  return `tracenet-${report.participant.replace(/[^A-Za-z0-9-]/g, '-')}-sdg-16.4.2-${span}.${extension}`;
}

/** The report in `format`. Throws INVALID_FIELD (`format`, rule `format`) for none or an unknown one. */
export function exportSdg(report: SdgReport, format: ExportFormat): ExportedFile {
  switch (format) {
    case ExportFormat.EXPORT_FORMAT_CSV:
      return { fileName: exportFileName(report, 'csv'), mediaType: 'text/csv; charset=utf-8', content: sdgCsv(report) };
    case ExportFormat.EXPORT_FORMAT_JSON:
      return { fileName: exportFileName(report, 'json'), mediaType: 'application/json', content: sdgJson(report) };
    case ExportFormat.EXPORT_FORMAT_XLSX:
      return {
        fileName: exportFileName(report, 'xlsx'),
        mediaType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        content: sdgXlsx(report),
      };
    default:
      throw new TracenetError(ErrorCode.ERROR_CODE_INVALID_FIELD, 'format must be CSV, XLSX or JSON', {
        field: 'format',
        rule: 'format',
      });
  }
}
