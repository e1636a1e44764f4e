import { StatisticsDefinition } from '@tracenet/proto/browser';
import { rpc } from '../../api.js';
import { Show, useLoad } from '../../components.js';
import { formatNumber, participantName, t } from '../../i18n.js';
import { BarChart } from './chart.js';
import { type ChosenPeriod, periodDates } from './period.js';

/** Re-export flags raised and received in the period, by the state that gave the undertaking. */
export function ReexportPanel(props: { period: ChosenPeriod; periodKey: string }) {
  const [loaded] = useLoad(
    () => rpc(StatisticsDefinition, 'getReexportReport', { period: periodDates(props.period) }),
    [props.periodKey],
  );
  return (
    <Show loaded={loaded}>
      {(report) => (
        <section class="stats-table" aria-labelledby="reexport-title">
          <h2 id="reexport-title">{t('stats.reexport.title')}</h2>
          <p class="hint">{t('stats.reexport.hint')}</p>
          {report.byState.length === 0 ? (
            <p>{t('stats.reexport.none')}</p>
          ) : (
            <>
              <BarChart
                caption={t('stats.reexport.chartCaption')}
                series={[t('stats.reexport.raised'), t('stats.reexport.received')]}
                stacked={false}
                rows={report.byState.map((s) => ({
                  label: participantName(s.state),
                  values: [s.raised, s.received],
                  note: `${formatNumber(s.raised)} / ${formatNumber(s.received)}`,
                }))}
              />
              <div class="table-scroll" role="region" aria-labelledby="reexport-title" tabIndex={0}>
                <table class="stats-grid">
                  <caption class="visually-hidden">{t('stats.reexport.title')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('stats.reexport.state')}</th>
                      <th scope="col">{t('stats.reexport.raised')}</th>
                      <th scope="col">{t('stats.reexport.received')}</th>
                      <th scope="col">{t('stats.reexport.flags')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.byState.map((s) => (
                      <tr key={s.state}>
                        <th scope="row">{participantName(s.state)}</th>
                        <td class="num">{formatNumber(s.raised)}</td>
                        <td class="num">{formatNumber(s.received)}</td>
                        <td>
                          <ul class="plain-list">
                            {s.flagIds.map((id) => (
                              <li key={id} class="mono">
                                {id}
                              </li>
                            ))}
                          </ul>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </section>
      )}
    </Show>
  );
}
