import { InterestCategory, RecordsDefinition, type WeaponRecord } from '@tracenet/proto/browser';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { ActionButton, ErrorMessage, Field, Screen, Show, Time, useLoad } from '../../components.js';
import { formatDate, formatNumber, participantName, t } from '../../i18n.js';
import { href } from '../../router.js';
import { DestructionBadge, DestructionSection } from './destruction.js';
import { CollectionAndOrigin, EventConditions } from './history.js';
import { mayWriteRecords } from './may-write.js';
import {
  CATEGORY_VALUES,
  categoryLabel,
  eventLabel,
  isAlarming,
  itemCategoryLabel,
  kindLabel,
  methodLabel,
  statusLabel,
  typeLabel,
} from './labels.js';

/** One record: its markings, status, history in order, and its report of loss or theft. */
export function RecordScreen({ recordId }: { recordId: string }) {
  const [loaded, reload] = useLoad(() => rpc(RecordsDefinition, 'getRecord', { recordId }), [recordId]);
  const [announce, setAnnounce] = useState('');
  const title =
    loaded.state === 'ready'
      ? t('records.recordTitle', {
          serial:
            loaded.value.record?.manufacture?.serialNumber ||
            loaded.value.record?.controlComponent?.serialNumber ||
            recordId,
        })
      : t('records.recordTitle', { serial: recordId });
  return (
    <Screen
      title={title}
      actions={
        <a class="button" href={href('records')}>
          {t('records.backToSearch')}
        </a>
      }
    >
      <p role="status" class="record-announce">
        {announce}
      </p>
      <Show loaded={loaded}>
        {({ record }) =>
          record && (
            <RecordView
              record={record}
              onChanged={(message) => {
                setAnnounce(message);
                reload();
              }}
            />
          )
        }
      </Show>
    </Screen>
  );
}

function Row(props: { label: string; children: ComponentChildren }) {
  if (props.children === '' || props.children === undefined || props.children === null || props.children === 0)
    return null;
  return (
    <div class="record-row">
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

const country = (code: string | undefined) => (code ? `${participantName(code)} (${code})` : '');
const year = (value: number | undefined) => (value ? String(value) : '');

function RecordView({ record, onChanged }: { record: WeaponRecord; onChanged: (message: string) => void }) {
  const m = record.manufacture;
  return (
    <div class="record">
      <div class="record-status">
        <span class={`badge${isAlarming(record.status) ? ' danger' : ''}`}>
          {t('records.statusIs', { status: statusLabel(record.status) || t('records.statusUnknown') })}
        </span>
        {record.interest && record.interest.category !== 0 && (
          <span class="badge danger">
            {t('records.reported', { category: categoryLabel(record.interest.category) })}
          </span>
        )}
        <DestructionBadge record={record} />
        <span class="record-id">
          {t('records.recordId')} <code>{record.recordId}</code>
        </span>
      </div>

      <section aria-labelledby="record-markings">
        <h2 id="record-markings">{t('records.markings')}</h2>
        <dl class="record-fields">
          <Row label={t('records.item.label')}>{itemCategoryLabel(record.itemCategory)}</Row>
          {record.itemCategory > 1 && (
            <Row label={t('records.item.quantity')}>{formatNumber(Math.max(1, record.quantity))}</Row>
          )}
          <Row label={t('records.manufacturer')}>{m?.manufacturer}</Row>
          <Row label={t('records.countryOfManufacture')}>{country(m?.countryOfManufacture)}</Row>
          <Row label={t('records.serial')}>{m?.serialNumber && <span class="mono">{m.serialNumber}</span>}</Row>
          <Row label={t('records.model')}>{m?.model}</Row>
          <Row label={t('records.type')}>{typeLabel(m?.type ?? 0)}</Row>
          <Row label={t('records.calibre')}>{m?.calibre}</Row>
          <Row label={t('records.year')}>{year(m?.year)}</Row>
          <Row label={t('records.method')}>{methodLabel(record.manufactureMethod)}</Row>
          {record.imports.map((mark, i) => (
            <Row key={`import${i}`} label={t('records.importMarking', { n: formatNumber(i + 1) })}>
              {[country(mark.country), year(mark.year)].filter(Boolean).join(' · ')}
            </Row>
          ))}
          {record.governmentTransfer?.country && (
            <Row label={t('records.governmentTransfer')}>
              {[country(record.governmentTransfer.country), year(record.governmentTransfer.year)]
                .filter(Boolean)
                .join(' · ')}
            </Row>
          )}
          {record.controlComponent && (record.controlComponent.serialNumber || record.controlComponent.kind !== 0) && (
            <Row label={t('records.controlComponent')}>
              {[
                kindLabel(record.controlComponent.kind),
                record.controlComponent.serialNumber,
                record.controlComponent.marking,
              ]
                .filter(Boolean)
                .join(' · ')}
            </Row>
          )}
          {record.components.map((c, i) => (
            <Row key={`component${i}`} label={t('records.component', { n: formatNumber(i + 1) })}>
              {[kindLabel(c.kind), c.serialNumber, c.marking].filter(Boolean).join(' · ')}
            </Row>
          ))}
        </dl>
        {record.secondaryMarks.length > 0 && (
          <div class="notice">
            <h3>{t('records.secondaryMarks')}</h3>
            <p class="hint">{t('records.confidential')}</p>
            <ul class="plain-list">
              {record.secondaryMarks.map((mark, i) => (
                <li key={`mark${i}`}>
                  {mark.location && `${mark.location}: `}
                  <span class="mono">{mark.value}</span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>

      <CollectionAndOrigin record={record} />

      <Events record={record} />

      <DestructionSection record={record} onChanged={onChanged} />

      <Report record={record} onChanged={onChanged} />

      {record.notes && (
        <section aria-labelledby="record-notes">
          <h2 id="record-notes">{t('records.notes')}</h2>
          <p class="hint">{t('records.confidential')}</p>
          <p class="record-notes" dir="auto">
            {record.notes}
          </p>
        </section>
      )}
      <p class="hint">
        {t('records.recordedAt')} <Time ms={record.recordedAtMs} />
        {record.updatedAtMs > record.recordedAtMs && (
          <>
            {' · '}
            {t('records.updatedAt')} <Time ms={record.updatedAtMs} />
          </>
        )}
      </p>
    </div>
  );
}

function Events({ record }: { record: WeaponRecord }) {
  return (
    <section aria-labelledby="record-events">
      <h2 id="record-events">{t('records.events')}</h2>
      {record.events.length === 0 ? (
        <p>{t('records.noEvents')}</p>
      ) : (
        <div class="table-scroll" role="region" aria-labelledby="record-events" tabIndex={0}>
          <table class="records-table events-table">
            <caption class="visually-hidden">{t('records.events')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('records.eventDate')}</th>
                <th scope="col">{t('records.eventType')}</th>
                <th scope="col">{t('records.eventPlace')}</th>
                <th scope="col">{t('records.eventAgency')}</th>
                <th scope="col">{t('records.eventCountry')}</th>
                <th scope="col">{t('records.eventLicence')}</th>
                <th scope="col">{t('records.eventEndUser')}</th>
                <th scope="col">{t('records.eventConditions')}</th>
                <th scope="col">{t('records.eventDetails')}</th>
              </tr>
            </thead>
            <tbody>
              {record.events.map((event, i) => (
                <tr key={`event${i}`}>
                  <td>
                    <time dateTime={event.date}>{formatDate(event.date)}</time>
                  </td>
                  <td>{eventLabel(event.type)}</td>
                  <td>{event.place}</td>
                  <td>{event.agency}</td>
                  <td>
                    {event.destination && t('records.destination', { country: country(event.destination) })}
                    {event.origin && t('records.origin', { country: country(event.origin) })}
                  </td>
                  <td class="mono">{event.licence}</td>
                  <td>{event.endUser}</td>
                  <td>
                    <EventConditions event={event} />
                  </td>
                  <td dir="auto">{event.details}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function Report({ record, onChanged }: { record: WeaponRecord; onChanged: (message: string) => void }) {
  const interest = record.interest && record.interest.category !== 0 ? record.interest : undefined;
  const writer = mayWriteRecords();
  const [form, setForm] = useState({
    category: String(InterestCategory.INTEREST_CATEGORY_STOLEN),
    date: today(),
    agency: '',
    reference: '',
    contactPoint: '',
  });
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const set = (name: keyof typeof form) => (event: Event) =>
    setForm({ ...form, [name]: (event.target as HTMLInputElement).value });
  const fieldError = (field: string) =>
    error && typeof error === 'object' && 'field' in error && String(error.field).endsWith(field)
      ? t('records.fieldInvalid')
      : undefined;
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await rpc(RecordsDefinition, 'reportRecord', {
        recordId: record.recordId,
        report: { ...form, category: Number(form.category) },
      });
      onChanged(t('records.reportDone', { category: categoryLabel(Number(form.category)) }));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="record-report">
      <h2 id="record-report">{t('records.reportTitle')}</h2>
      <p class="hint">{t('records.reportHint')}</p>
      {interest ? (
        <dl class="record-fields report-current">
          <Row label={t('records.category')}>{categoryLabel(interest.category)}</Row>
          <Row label={t('records.reportDate')}>
            <time dateTime={interest.date}>{formatDate(interest.date)}</time>
          </Row>
          <Row label={t('records.agency')}>{interest.agency}</Row>
          <Row label={t('records.reference')}>{interest.reference}</Row>
          <Row label={t('records.contactPoint')}>{interest.contactPoint}</Row>
        </dl>
      ) : (
        <p>{t('records.notReported')}</p>
      )}
      {writer && interest && (
        <ActionButton
          kind="danger"
          onAction={async () => {
            await rpc(RecordsDefinition, 'clearReport', { recordId: record.recordId });
            onChanged(t('records.clearDone'));
          }}
        >
          {t('records.clearReport')}
        </ActionButton>
      )}
      {writer && (
        <form class="report-form" onSubmit={submit} aria-labelledby="record-report-form">
          <h3 id="record-report-form">{interest ? t('records.replaceReport') : t('records.newReport')}</h3>
          <Field label={t('records.category')}>
            {(id) => (
              <select id={id} name="category" value={form.category} onChange={set('category')}>
                {CATEGORY_VALUES.map((value) => (
                  <option key={value} value={String(value)}>
                    {categoryLabel(value)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('records.reportDate')} error={fieldError('date')}>
            {(id, describedBy) => (
              <input
                id={id}
                name="date"
                type="date"
                required
                max={today()}
                aria-describedby={describedBy}
                value={form.date}
                onInput={set('date')}
              />
            )}
          </Field>
          <Field label={t('records.agency')} error={fieldError('agency')}>
            {(id, describedBy) => (
              <input
                id={id}
                name="agency"
                required
                maxLength={200}
                aria-describedby={describedBy}
                value={form.agency}
                onInput={set('agency')}
              />
            )}
          </Field>
          <Field label={t('records.reference')}>
            {(id) => (
              <input id={id} name="reference" maxLength={200} value={form.reference} onInput={set('reference')} />
            )}
          </Field>
          <Field label={t('records.contactPoint')} hint={t('records.contactPointHint')}>
            {(id, describedBy) => (
              <input
                id={id}
                name="contactPoint"
                maxLength={200}
                aria-describedby={describedBy}
                value={form.contactPoint}
                onInput={set('contactPoint')}
              />
            )}
          </Field>
          <ErrorMessage error={error} />
          <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
            {interest ? t('records.replaceSubmit') : t('records.reportSubmit')}
          </button>
        </form>
      )}
    </section>
  );
}
