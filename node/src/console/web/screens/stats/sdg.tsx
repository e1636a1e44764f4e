import {
  ExportFormat,
  type SdgItem,
  type SdgReport,
  type SdgRow,
  SdgStatus,
  StatisticsDefinition,
} from '@tracenet/proto/browser';
import { useEffect, useRef, useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { ActionButton, Show, Time, useLoad } from '../../components.js';
import { formatDate, formatNumber, participantName, t } from '../../i18n.js';
import { href } from '../../router.js';
import { circumstanceLabel, itemCategoryLabel, typeLabel } from '../records/labels.js';
import { BarChart } from './chart.js';
import { saveFile } from './download.js';
import { formatPercent } from './format.js';
import { findingLabel, rowLabel, sdgStatusLabel } from './labels.js';
import { type ChosenPeriod, sdgRequest } from './period.js';

/** The figures of a row an officer can open, and which items each one counts. */
const COLUMNS = [
  { name: 'seized', header: () => t('stats.col.seized'), holds: (i: SdgItem) => i.finding === 'seized' },
  { name: 'found', header: () => t('stats.col.found'), holds: (i: SdgItem) => i.finding === 'found' },
  { name: 'surrendered', header: () => t('stats.col.surrendered'), holds: (i: SdgItem) => i.finding === 'surrendered' },
  { name: 'total', header: () => t('stats.col.total'), holds: () => true },
  { name: 'traced', header: () => t('stats.col.traced'), holds: status(SdgStatus.SDG_STATUS_TRACED) },
  {
    name: 'establishedOtherwise',
    header: () => t('stats.col.establishedOtherwise'),
    holds: status(SdgStatus.SDG_STATUS_ESTABLISHED_OTHERWISE),
  },
  { name: 'pending', header: () => t('stats.col.pending'), holds: status(SdgStatus.SDG_STATUS_PENDING) },
  {
    name: 'notEstablished',
    header: () => t('stats.col.notEstablished'),
    holds: status(SdgStatus.SDG_STATUS_NOT_ESTABLISHED),
  },
  {
    name: 'notAttempted',
    header: () => t('stats.col.notAttempted'),
    holds: status(SdgStatus.SDG_STATUS_NOT_ATTEMPTED),
  },
] as const;
type Column = (typeof COLUMNS)[number]['name'];

function status(value: SdgStatus) {
  return (item: SdgItem) => item.status === value;
}

/** An opened figure: the table, the row and the column whose items are listed. */
interface Opened {
  readonly table: string;
  readonly row: SdgRow;
  readonly label: string;
  readonly column: Column;
}

/** SDG indicator 16.4.2 for the period: the proportion, the tables, their chart, the items behind each figure. */
export function SdgPanel(props: { period: ChosenPeriod; periodKey: string; mayExport: boolean }) {
  const [loaded] = useLoad(
    () => rpc(StatisticsDefinition, 'getSdgIndicator', sdgRequest(props.period)),
    [props.periodKey],
  );
  const [opened, setOpened] = useState<Opened | undefined>(undefined);
  useEffect(() => setOpened(undefined), [props.periodKey]);
  return (
    <Show loaded={loaded}>
      {(report) => (
        <div class="stats-sdg">
          <Summary report={report} />
          {props.mayExport && <Exports period={props.period} />}
          {(['byType', 'byModel', 'byCircumstance', 'otherItems'] as const).map((table) => (
            <SdgTable
              key={table}
              table={table}
              rows={report[table]}
              total={table === 'otherItems' ? undefined : report.total}
              report={report}
              opened={opened?.table === table ? opened : undefined}
              onOpen={setOpened}
            />
          ))}
        </div>
      )}
    </Show>
  );
}

function Summary({ report }: { report: SdgReport }) {
  const total = report.total;
  const established = (total?.traced ?? 0) + (total?.establishedOtherwise ?? 0);
  return (
    <section class="stats-summary" aria-labelledby="sdg-summary">
      <h2 id="sdg-summary">{t('stats.sdg.summary')}</h2>
      <p class="hint">{t('stats.sdg.definition')}</p>
      <dl class="stats-figures">
        <div>
          <dt>{t('stats.sdg.proportion')}</dt>
          <dd class="stats-big" data-figure="proportion">
            {formatPercent(total?.proportion ?? 0)}
          </dd>
        </div>
        <div>
          <dt>{t('stats.sdg.total')}</dt>
          <dd data-figure="total">{formatNumber(total?.total ?? 0)}</dd>
        </div>
        <div>
          <dt>{t('stats.sdg.established')}</dt>
          <dd data-figure="established">
            {t('stats.sdg.establishedDetail', {
              established: formatNumber(established),
              traced: formatNumber(total?.traced ?? 0),
              otherwise: formatNumber(total?.establishedOtherwise ?? 0),
            })}
          </dd>
        </div>
        <div>
          <dt>{t('stats.sdg.open')}</dt>
          <dd>
            {t('stats.sdg.openDetail', {
              pending: formatNumber(total?.pending ?? 0),
              notEstablished: formatNumber(total?.notEstablished ?? 0),
              notAttempted: formatNumber(total?.notAttempted ?? 0),
            })}
          </dd>
        </div>
      </dl>
      <p class="hint">
        {t('stats.sdg.computed', {
          participant: participantName(report.participant),
          from: formatDate(report.period?.fromDate ?? ''),
          to: formatDate(report.period?.toDate ?? ''),
        })}{' '}
        <Time ms={report.computedAtMs} />
      </p>
    </section>
  );
}

const FORMATS = [
  { format: ExportFormat.EXPORT_FORMAT_XLSX, label: () => t('stats.export.xlsx') },
  { format: ExportFormat.EXPORT_FORMAT_CSV, label: () => t('stats.export.csv') },
  { format: ExportFormat.EXPORT_FORMAT_JSON, label: () => t('stats.export.json') },
];

function Exports({ period }: { period: ChosenPeriod }) {
  const [saved, setSaved] = useState('');
  return (
    <section class="stats-exports" aria-labelledby="sdg-export">
      <h2 id="sdg-export">{t('stats.export.title')}</h2>
      <p class="hint">{t('stats.export.hint')}</p>
      <div class="stats-export-buttons">
        {FORMATS.map(({ format, label }) => (
          <ActionButton
            key={format}
            onAction={async () => {
              setSaved('');
              const file = await rpc(StatisticsDefinition, 'exportSdgIndicator', {
                period: sdgRequest(period),
                format,
              });
              saveFile(file.content, file.mediaType, file.fileName, 'tracenet-sdg-16.4.2');
              setSaved(t('stats.export.saved', { file: file.fileName }));
            }}
          >
            {label()}
          </ActionButton>
        ))}
      </div>
      <p role="status" class="stats-saved">
        {saved}
      </p>
    </section>
  );
}

const TABLE_TITLE: Record<string, () => string> = {
  byType: () => t('stats.sdg.byType'),
  byModel: () => t('stats.sdg.byModel'),
  byCircumstance: () => t('stats.sdg.byCircumstance'),
  otherItems: () => t('stats.sdg.otherItems'),
};
const GROUP_HEADER: Record<string, () => string> = {
  byType: () => t('stats.col.type'),
  byModel: () => t('stats.col.model'),
  byCircumstance: () => t('stats.col.circumstance'),
  otherItems: () => t('stats.col.category'),
};

function SdgTable(props: {
  table: string;
  rows: readonly SdgRow[];
  total?: SdgRow | undefined;
  report: SdgReport;
  opened: Opened | undefined;
  onOpen: (opened: Opened) => void;
}) {
  const heading = `sdg-${props.table}`;
  const title = TABLE_TITLE[props.table]?.() ?? '';
  const rows = props.total && props.rows.length > 0 ? [...props.rows, props.total] : props.rows;
  const labelOf = (row: SdgRow) => (row === props.total ? t('stats.sdg.allFirearms') : rowLabel(row));
  return (
    <section class="stats-table" aria-labelledby={heading} data-table={props.table}>
      <h2 id={heading}>{title}</h2>
      {props.table === 'otherItems' && <p class="hint">{t('stats.sdg.otherItemsHint')}</p>}
      {props.rows.length === 0 ? (
        <p>{t('stats.sdg.none')}</p>
      ) : (
        <>
          {props.table !== 'otherItems' && (
            <BarChart
              caption={t('stats.sdg.chartCaption', { table: title })}
              series={[t('stats.col.established'), t('stats.col.notYetEstablished')]}
              stacked
              rows={props.rows.map((row) => {
                const established = row.traced + row.establishedOtherwise;
                return {
                  label: rowLabel(row),
                  values: [established, Math.max(0, row.total - established)],
                  note: `${formatNumber(row.total)} · ${formatPercent(row.proportion)}`,
                };
              })}
            />
          )}
          <div class="table-scroll" role="region" aria-labelledby={heading} tabIndex={0}>
            <table class="stats-grid">
              <caption class="visually-hidden">{title}</caption>
              <thead>
                <tr>
                  <th scope="col">{GROUP_HEADER[props.table]?.()}</th>
                  {COLUMNS.map((c) => (
                    <th scope="col" key={c.name}>
                      {c.header()}
                    </th>
                  ))}
                  <th scope="col">{t('stats.col.proportion')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={`${row.dimension}:${row.key}`} class={row === props.total ? 'total' : undefined}>
                    <th scope="row" dir="auto">
                      {labelOf(row)}
                    </th>
                    {COLUMNS.map((c) => {
                      const value = row[c.name];
                      const current = props.opened?.row === row && props.opened.column === c.name;
                      return (
                        <td key={c.name} class="num">
                          {value > 0 ? (
                            <button
                              type="button"
                              class="figure"
                              aria-expanded={current}
                              aria-label={t('stats.sdg.openFigure', {
                                value: formatNumber(value),
                                column: c.header(),
                                group: labelOf(row),
                              })}
                              onClick={() =>
                                props.onOpen({ table: props.table, row, label: labelOf(row), column: c.name })
                              }
                            >
                              {formatNumber(value)}
                            </button>
                          ) : (
                            <span class="figure-none">{formatNumber(0)}</span>
                          )}
                        </td>
                      );
                    })}
                    <td class="num">{formatPercent(row.proportion)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {props.opened && <Items opened={props.opened} report={props.report} />}
    </section>
  );
}

/** The items behind one figure: each with its record and the cases that traced it. */
function Items({ opened, report }: { opened: Opened; report: SdgReport }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [opened]);
  const column = COLUMNS.find((c) => c.name === opened.column);
  const items = opened.row.itemIndexes
    .map((index) => report.items[index])
    .filter((item): item is SdgItem => item !== undefined && (column?.holds(item) ?? true));
  return (
    <div class="stats-items">
      <h3 tabIndex={-1} ref={heading} id="sdg-items">
        {t('stats.items.title', { group: opened.label, column: column?.header() ?? '' })}
      </h3>
      <p>{t('stats.items.count', { count: items.length })}</p>
      <div class="table-scroll" role="region" aria-labelledby="sdg-items" tabIndex={0}>
        <table class="stats-grid items">
          <caption class="visually-hidden">{t('stats.items.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('stats.items.record')}</th>
              <th scope="col">{t('stats.items.finding')}</th>
              <th scope="col">{t('stats.items.date')}</th>
              <th scope="col">{t('stats.items.what')}</th>
              <th scope="col">{t('stats.col.circumstance')}</th>
              {opened.table === 'otherItems' && <th scope="col">{t('stats.items.quantity')}</th>}
              <th scope="col">{t('stats.items.status')}</th>
              <th scope="col">{t('stats.items.basis')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item, i) => (
              <tr key={`${item.recordId}:${item.caseIds.join(',')}:${i}`}>
                <td>
                  <ul class="plain-list stats-links">
                    <li>
                      {item.recordId ? (
                        <a class="mono" href={href('records', item.recordId)}>
                          {item.recordId}
                        </a>
                      ) : (
                        t('stats.items.noRecord')
                      )}
                    </li>
                    {item.caseIds.map((caseId) => (
                      <li key={caseId}>
                        <a class="mono" href={href('cases', caseId)}>
                          {caseId}
                        </a>
                      </li>
                    ))}
                  </ul>
                </td>
                <td>{findingLabel(item.finding)}</td>
                <td>
                  <time dateTime={item.date}>{formatDate(item.date)}</time>
                </td>
                <td dir="auto">
                  {[itemCategoryLabel(item.category), typeLabel(item.type), item.manufacturer, item.model]
                    .filter(Boolean)
                    .join(' · ')}
                </td>
                <td>{circumstanceLabel(item.circumstance)}</td>
                {opened.table === 'otherItems' && <td class="num">{formatNumber(item.quantity)}</td>}
                <td>{sdgStatusLabel(item.status)}</td>
                <td dir="auto">{item.basis}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
