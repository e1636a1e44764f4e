import { useState } from 'preact/hooks';
import { currentSession } from '../api.js';
import { Field, Screen, Tabs } from '../components.js';
import { t } from '../i18n.js';
import { href, navigate, type Route } from '../router.js';
import { type ChosenPeriod, type PeriodProblem, periodOf, periodProblem, periodQuery } from './stats/period.js';
import { ReexportPanel } from './stats/reexport.js';
import { SdgPanel } from './stats/sdg.js';
import { TracingPanel } from './stats/tracing.js';

const TABS = ['sdg', 'tracing', 'reexport'] as const;
type Tab = (typeof TABS)[number];
const TAB_LABEL: Record<Tab, () => string> = {
  sdg: () => t('stats.tab.sdg'),
  tracing: () => t('stats.tab.tracing'),
  reexport: () => t('stats.tab.reexport'),
};

/** Whether the officer may export the indicator: an officer or a supervisor (permissions.ts). */
function mayExport(): boolean {
  const roles = currentSession().who?.roles ?? [];
  return roles.includes('officer') || roles.includes('supervisor');
}

/**
 * The Statistics section: `#/stats/sdg` (SDG 16.4.2), `#/stats/tracing`, `#/stats/reexport`,
 * each for the period of the query (`?year=2026` or `?from=…&to=…`, the current year by default).
 */
export function StatsScreen({ route }: { route: Route }) {
  const tab: Tab = (TABS as readonly string[]).includes(route.path[1] ?? '') ? (route.path[1] as Tab) : 'sdg';
  const period = periodOf(route.query);
  const problem = periodProblem(period);
  const periodKey = JSON.stringify(period);
  return (
    <Screen title={t('stats.title')}>
      <Tabs
        label={t('stats.tabs')}
        tabs={TABS.map((name) => ({
          href: href('stats', name, periodQuery(period)),
          label: TAB_LABEL[name](),
          current: name === tab,
        }))}
      />
      <PeriodForm
        period={period}
        problem={problem}
        onChoose={(next) => navigate(href('stats', tab, periodQuery(next)))}
      />
      {problem ? null : tab === 'sdg' ? (
        <SdgPanel period={period} periodKey={periodKey} mayExport={mayExport()} />
      ) : tab === 'tracing' ? (
        <TracingPanel period={period} periodKey={periodKey} />
      ) : (
        <ReexportPanel period={period} periodKey={periodKey} />
      )}
    </Screen>
  );
}

const PROBLEM_TEXT: Record<PeriodProblem['rule'], () => string> = {
  year: () => t('stats.period.badYear'),
  date: () => t('stats.period.badDate'),
  order: () => t('stats.period.badOrder'),
  future: () => t('stats.period.future'),
  span: () => t('stats.period.span'),
};

function PeriodForm(props: {
  period: ChosenPeriod;
  problem: PeriodProblem | undefined;
  onChoose: (period: ChosenPeriod) => void;
}) {
  const [form, setForm] = useState(() => formOf(props.period));
  const error = (field: PeriodProblem['field']) =>
    props.problem?.field === field ? PROBLEM_TEXT[props.problem.rule]() : undefined;
  const set = (name: keyof typeof form) => (event: Event) =>
    setForm({ ...form, [name]: (event.target as HTMLInputElement).value });
  return (
    <form
      class="filters stats-period"
      aria-label={t('stats.period.label')}
      onSubmit={(event) => {
        event.preventDefault();
        props.onChoose(
          form.kind === 'year'
            ? { kind: 'year', year: form.year.trim() }
            : { kind: 'range', from: form.from, to: form.to },
        );
      }}
    >
      <fieldset class="stats-kind">
        <legend>{t('stats.period.kind')}</legend>
        <label class="checkbox">
          <input type="radio" name="kind" value="year" checked={form.kind === 'year'} onChange={set('kind')} />
          {t('stats.period.year')}
        </label>
        <label class="checkbox">
          <input type="radio" name="kind" value="range" checked={form.kind === 'range'} onChange={set('kind')} />
          {t('stats.period.range')}
        </label>
      </fieldset>
      {form.kind === 'year' ? (
        <Field label={t('stats.period.year')} error={error('year')}>
          {(id, describedBy) => (
            <input
              id={id}
              name="year"
              inputMode="numeric"
              maxLength={4}
              size={6}
              aria-describedby={describedBy}
              aria-invalid={error('year') ? true : undefined}
              value={form.year}
              onInput={set('year')}
            />
          )}
        </Field>
      ) : (
        <>
          <Field label={t('stats.period.from')} error={error('from')}>
            {(id, describedBy) => (
              <input
                id={id}
                name="from"
                type="date"
                aria-describedby={describedBy}
                aria-invalid={error('from') ? true : undefined}
                value={form.from}
                onInput={set('from')}
              />
            )}
          </Field>
          <Field label={t('stats.period.to')} error={error('to')}>
            {(id, describedBy) => (
              <input
                id={id}
                name="to"
                type="date"
                aria-describedby={describedBy}
                aria-invalid={error('to') ? true : undefined}
                value={form.to}
                onInput={set('to')}
              />
            )}
          </Field>
        </>
      )}
      <button type="submit" class="primary">
        {t('stats.period.show')}
      </button>
    </form>
  );
}

function formOf(period: ChosenPeriod) {
  const year = period.kind === 'year' ? period.year : period.from.slice(0, 4);
  return {
    kind: period.kind as string,
    year,
    from: period.kind === 'range' ? period.from : `${year}-01-01`,
    to: period.kind === 'range' ? period.to : `${year}-12-31`,
  };
}
