import {
  type IncompleteRecord,
  RecordsDefinition,
  type SearchRecordsResponse,
  type WeaponRecord,
} from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { Field, Pager, Screen, Show, useLoad } from '../../components.js';
import { formatNumber, t } from '../../i18n.js';
import { href, navigate, type Route } from '../../router.js';
import { mayWriteRecords } from './may-write.js';
import { categoryLabel, isAlarming, statusLabel, typeLabel, WEAPON_TYPES } from './labels.js';

/** Results asked for at a time; "show more" asks again for a larger page (the API has a limit, no cursor). */
const PAGE = 50;
const MAX = 1000;

interface Query {
  manufacturer: string;
  model: string;
  serial: string;
  calibre: string;
  type: string;
  serialOnly: boolean;
}

function queryOf(route: Route): Query {
  const q = route.query;
  return {
    manufacturer: q.get('manufacturer') ?? '',
    model: q.get('model') ?? '',
    serial: q.get('serial') ?? '',
    calibre: q.get('calibre') ?? '',
    type: q.get('type') ?? '0',
    serialOnly: q.get('serialOnly') === '1',
  };
}

function hrefOf(query: Query, limit?: number): string {
  const params: Record<string, string> = {};
  for (const key of ['manufacturer', 'model', 'serial', 'calibre'] as const)
    if (query[key].trim() !== '') params[key] = query[key].trim();
  if (query.type !== '0') params.type = query.type;
  if (query.serialOnly) params.serialOnly = '1';
  if (limit) params.limit = String(limit);
  return href('records', params);
}

/** Search of the state's records: identity or serial-only, with near matches and weapons held but incomplete. */
export function SearchScreen({ route }: { route: Route }) {
  const asked = queryOf(route);
  const limit = Math.min(MAX, Math.max(PAGE, Number(route.query.get('limit')) || PAGE));
  const [form, setForm] = useState<Query>(asked);
  const searched = asked.serial !== '';
  const key = route.query.toString();
  const [loaded] = useLoad<SearchRecordsResponse | undefined>(
    () =>
      searched
        ? rpc(RecordsDefinition, 'searchRecords', {
            query: {
              manufacturer: asked.manufacturer,
              model: asked.model,
              serialNumber: asked.serial,
              calibre: asked.calibre,
              type: Number(asked.type),
            },
            serialOnly: asked.serialOnly,
            limit,
          })
        : Promise.resolve(undefined),
    [key],
  );
  const set = (name: keyof Query) => (event: Event) => {
    const target = event.target as HTMLInputElement;
    setForm({ ...form, [name]: target.type === 'checkbox' ? target.checked : target.value });
  };
  return (
    <Screen
      title={t('records.title')}
      actions={
        <>
          <a class="button" href={href('records', 'verify')}>
            {t('records.verify.link')}
          </a>
          {mayWriteRecords() && (
            <a class="button" href={href('records', 'import')}>
              {t('records.importLink')}
            </a>
          )}
        </>
      }
    >
      <form
        class="filters records-search"
        role="search"
        aria-label={t('records.searchLabel')}
        onSubmit={(event) => {
          event.preventDefault();
          navigate(hrefOf(form));
        }}
      >
        <Field label={t('records.manufacturer')} hint={t('records.manufacturerHint')}>
          {(id, describedBy) => (
            <input
              id={id}
              name="manufacturer"
              aria-describedby={describedBy}
              value={form.manufacturer}
              maxLength={200}
              onInput={set('manufacturer')}
            />
          )}
        </Field>
        <Field label={t('records.model')}>
          {(id) => <input id={id} name="model" value={form.model} maxLength={200} onInput={set('model')} />}
        </Field>
        <Field label={t('records.serial')} hint={t('records.serialHint')}>
          {(id, describedBy) => (
            <input
              id={id}
              name="serial"
              class="mono"
              required
              aria-describedby={describedBy}
              value={form.serial}
              maxLength={200}
              onInput={set('serial')}
            />
          )}
        </Field>
        <Field label={t('records.calibre')}>
          {(id) => <input id={id} name="calibre" value={form.calibre} maxLength={200} onInput={set('calibre')} />}
        </Field>
        <Field label={t('records.type')}>
          {(id) => (
            <select id={id} name="type" value={form.type} onChange={set('type')}>
              <option value="0">{t('records.anyType')}</option>
              {WEAPON_TYPES.map((type) => (
                <option key={type} value={String(type)}>
                  {typeLabel(type)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <label class="checkbox">
          <input type="checkbox" name="serialOnly" checked={form.serialOnly} onChange={set('serialOnly')} />
          {t('records.serialOnly')}
        </label>
        <button type="submit" class="primary">
          {t('records.search')}
        </button>
      </form>
      {searched && (
        <Show loaded={loaded}>
          {(found) =>
            found && (
              <Results
                found={found}
                limit={limit}
                onMore={() => navigate(hrefOf(asked, Math.min(MAX, limit + PAGE)))}
              />
            )
          }
        </Show>
      )}
    </Screen>
  );
}

function Results(props: { found: SearchRecordsResponse; limit: number; onMore: () => void }) {
  const { records, near, incomplete } = props.found;
  const total = records.length + incomplete.length;
  return (
    <div class="records-results">
      <p role="status">
        {t('records.found', { count: records.length, shown: formatNumber(records.length) })}
        {near.length > 0 && ` ${t('records.nearCount', { count: near.length, shown: formatNumber(near.length) })}`}
        {incomplete.length > 0 &&
          ` ${t('records.incompleteCount', { count: incomplete.length, shown: formatNumber(incomplete.length) })}`}
      </p>
      {records.length > 0 && <RecordTable caption={t('records.resultsCaption')} records={records} />}
      {near.length > 0 && (
        <section aria-labelledby="records-near">
          <h2 id="records-near">{t('records.nearTitle')}</h2>
          <p class="hint">{t('records.nearHint')}</p>
          <RecordTable caption={t('records.nearTitle')} records={near} />
        </section>
      )}
      {incomplete.length > 0 && (
        <section aria-labelledby="records-incomplete">
          <h2 id="records-incomplete">{t('records.incompleteTitle')}</h2>
          <p class="hint">{t('records.incompleteHint')}</p>
          <IncompleteTable rows={incomplete} />
        </section>
      )}
      {total > 0 && <Pager shown={total} hasMore={total >= props.limit && props.limit < MAX} onMore={props.onMore} />}
    </div>
  );
}

function RecordTable(props: { caption: string; records: readonly WeaponRecord[] }) {
  return (
    <table class="records-table">
      <caption class="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t('records.serial')}</th>
          <th scope="col">{t('records.manufacturer')}</th>
          <th scope="col">{t('records.model')}</th>
          <th scope="col">{t('records.type')}</th>
          <th scope="col">{t('records.calibre')}</th>
          <th scope="col">{t('records.statusColumn')}</th>
          <th scope="col">{t('records.reportColumn')}</th>
        </tr>
      </thead>
      <tbody>
        {props.records.map((record) => {
          const m = record.manufacture;
          const serial = m?.serialNumber || record.controlComponent?.serialNumber || record.recordId;
          return (
            <tr key={record.recordId}>
              <td>
                <a class="mono" href={href('records', record.recordId)}>
                  {serial}
                </a>
              </td>
              <td>{m?.manufacturer}</td>
              <td>{m?.model}</td>
              <td>{typeLabel(m?.type ?? 0)}</td>
              <td>{m?.calibre}</td>
              <td>
                <span class={`badge${isAlarming(record.status) ? ' danger' : ''}`}>{statusLabel(record.status)}</span>
              </td>
              <td>
                {record.interest && record.interest.category !== 0 && (
                  <span class="badge danger">
                    {t('records.reported', { category: categoryLabel(record.interest.category) })}
                  </span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function IncompleteTable({ rows }: { rows: readonly IncompleteRecord[] }) {
  return (
    <table class="records-table">
      <caption class="visually-hidden">{t('records.incompleteTitle')}</caption>
      <thead>
        <tr>
          <th scope="col">{t('records.recordId')}</th>
          <th scope="col">{t('records.serial')}</th>
          <th scope="col">{t('records.manufacturer')}</th>
          <th scope="col">{t('records.model')}</th>
          <th scope="col">{t('records.source')}</th>
          <th scope="col">{t('records.problems')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.recordId}>
            <td class="mono">{row.recordId}</td>
            <td class="mono">{row.identity?.serialNumber || row.controlComponentSerial}</td>
            <td>{row.identity?.manufacturer}</td>
            <td>{row.identity?.model}</td>
            <td>{row.source}</td>
            <td>
              <ul class="plain-list">
                {row.problems.map((p) => (
                  <li key={`${p.field}:${p.rule}`} dir="auto">
                    <code>{p.field}</code> {p.message}
                  </li>
                ))}
              </ul>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
