import { type DirectionFigures, type PeerPerformance, StatisticsDefinition } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { Show, Time, useLoad } from '../../components.js';
import { formatDate, formatNumber, participantName, t } from '../../i18n.js';
import { href } from '../../router.js';
import { BarChart } from './chart.js';
import { duration } from './format.js';
import { reasonLabel } from './labels.js';
import { type ChosenPeriod, periodDates } from './period.js';

const FIGURES = [
  { name: 'requests', header: () => t('stats.tracing.requests') },
  { name: 'acknowledged', header: () => t('stats.tracing.acknowledged') },
  { name: 'answered', header: () => t('stats.tracing.answered') },
  { name: 'refused', header: () => t('stats.tracing.refused') },
  { name: 'overdue', header: () => t('stats.tracing.overdue') },
] as const;
const TIMES = [
  { name: 'acknowledgeP50Ms', header: () => t('stats.tracing.ackP50') },
  { name: 'acknowledgeP90Ms', header: () => t('stats.tracing.ackP90') },
  { name: 'answerP50Ms', header: () => t('stats.tracing.answerP50') },
  { name: 'answerP90Ms', header: () => t('stats.tracing.answerP90') },
] as const;

/** Tracing performance for the period: overall, per peer, and a chart of the times to answer per peer. */
export function TracingPanel(props: { period: ChosenPeriod; periodKey: string }) {
  const [loaded] = useLoad(
    () => rpc(StatisticsDefinition, 'getTracingPerformance', { period: periodDates(props.period), byPeer: true }),
    [props.periodKey],
  );
  return (
    <Show loaded={loaded}>
      {(performance) => (
        <div class="stats-tracing">
          <p class="hint">
            {t('stats.tracing.computed', {
              participant: participantName(performance.participant),
              from: formatDate(performance.period?.fromDate ?? ''),
              to: formatDate(performance.period?.toDate ?? ''),
            })}{' '}
            <Time ms={performance.computedAtMs} />
          </p>
          <Direction
            id="tracing-sent"
            title={t('stats.tracing.sentTitle')}
            hint={t('stats.tracing.sentHint')}
            overall={performance.sent}
            peers={performance.peers}
            pick={(p) => p.sent}
          />
          <Direction
            id="tracing-received"
            title={t('stats.tracing.receivedTitle')}
            hint={t('stats.tracing.receivedHint')}
            overall={performance.received}
            peers={performance.peers}
            pick={(p) => p.received}
          />
        </div>
      )}
    </Show>
  );
}

function Direction(props: {
  id: string;
  title: string;
  hint: string;
  overall: DirectionFigures | undefined;
  peers: readonly PeerPerformance[];
  pick: (peer: PeerPerformance) => DirectionFigures | undefined;
}) {
  const [opened, setOpened] = useState<{ label: string; caseIds: readonly string[] } | undefined>(undefined);
  const rows = [
    ...props.peers
      .map((peer) => ({ label: participantName(peer.peer), peer: peer.peer, figures: props.pick(peer) }))
      .filter((row) => (row.figures?.requests ?? 0) > 0),
    { label: t('stats.tracing.overall'), peer: '', figures: props.overall },
  ];
  const timed = rows.filter((row) => row.peer !== '' && (row.figures?.answerP90Ms ?? 0) > 0);
  return (
    <section class="stats-table" aria-labelledby={props.id} data-direction={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      <p class="hint">{props.hint}</p>
      <div class="table-scroll" role="region" aria-labelledby={props.id} tabIndex={0}>
        <table class="stats-grid">
          <caption class="visually-hidden">{props.title}</caption>
          <thead>
            <tr>
              <th scope="col">{t('stats.tracing.peer')}</th>
              {FIGURES.map((f) => (
                <th scope="col" key={f.name}>
                  {f.header()}
                </th>
              ))}
              {TIMES.map((f) => (
                <th scope="col" key={f.name}>
                  {f.header()}
                </th>
              ))}
              <th scope="col">{t('stats.tracing.refusedByReason')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const f = row.figures;
              return (
                <tr key={row.peer} class={row.peer === '' ? 'total' : undefined}>
                  <th scope="row">{row.label}</th>
                  {FIGURES.map((c) => (
                    <td class="num" key={c.name}>
                      {c.name === 'requests' && (f?.caseIds.length ?? 0) > 0 ? (
                        <button
                          type="button"
                          class="figure"
                          aria-expanded={opened?.label === row.label}
                          aria-label={t('stats.tracing.openCases', {
                            value: formatNumber(f?.requests ?? 0),
                            peer: row.label,
                          })}
                          onClick={() => setOpened({ label: row.label, caseIds: f?.caseIds ?? [] })}
                        >
                          {formatNumber(f?.requests ?? 0)}
                        </button>
                      ) : (
                        formatNumber(f?.[c.name] ?? 0)
                      )}
                    </td>
                  ))}
                  {TIMES.map((c) => (
                    <td class="num" key={c.name}>
                      {duration(f?.[c.name] ?? 0)}
                    </td>
                  ))}
                  <td>
                    {(f?.refusedByReason.length ?? 0) === 0 ? (
                      '—'
                    ) : (
                      <ul class="plain-list">
                        {f?.refusedByReason.map((r) => (
                          <li key={r.reason}>
                            {t('stats.tracing.reasonCount', { reason: reasonLabel(r.reason), count: r.count })}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {timed.length > 0 && (
        <BarChart
          caption={t('stats.tracing.chartCaption', { table: props.title })}
          series={[t('stats.tracing.answerP50'), t('stats.tracing.answerP90')]}
          stacked={false}
          rows={timed.map((row) => ({
            label: row.label,
            values: [row.figures?.answerP50Ms ?? 0, row.figures?.answerP90Ms ?? 0],
            note: `${duration(row.figures?.answerP50Ms ?? 0)} / ${duration(row.figures?.answerP90Ms ?? 0)}`,
          }))}
        />
      )}
      {opened && (
        <div class="stats-items">
          <h3>{t('stats.tracing.casesTitle', { peer: opened.label })}</h3>
          <ul class="stats-case-list">
            {opened.caseIds.map((caseId) => (
              <li key={caseId}>
                <a class="mono" href={href('cases', caseId)}>
                  {caseId}
                </a>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
