import type { WeaponEvent, WeaponRecord } from '@tracenet/proto/browser';
import type { ComponentChildren } from 'preact';
import { formatDate, participantName, t } from '../../i18n.js';
import { circumstanceLabel, conditionLabel } from './labels.js';

function Row(props: { label: string; children: ComponentChildren }) {
  if (props.children === '' || props.children === undefined || props.children === null || props.children === false)
    return null;
  return (
    <div class="record-row">
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

const date = (value: string) => value && <time dateTime={value}>{formatDate(value)}</time>;

/**
 * How the weapon came to be held, when it was collected in a conflict or post-conflict setting or
 * a DDR programme, and its illicit origin when a competent authority established it otherwise
 * than by a trace (docs/records.md).
 */
export function CollectionAndOrigin({ record }: { record: WeaponRecord }) {
  const c = record.collection;
  const o = record.illicitOrigin;
  return (
    <>
      {c && (c.programme || c.collectionPoint || c.date) && (
        <section aria-labelledby="record-collection">
          <h2 id="record-collection">{t('records.collection.title')}</h2>
          <dl class="record-fields">
            <Row label={t('records.collection.programme')}>{c.programme && <span dir="auto">{c.programme}</span>}</Row>
            <Row label={t('records.collection.point')}>
              {c.collectionPoint && <span dir="auto">{c.collectionPoint}</span>}
            </Row>
            <Row label={t('records.collection.date')}>{date(c.date)}</Row>
            <Row label={t('records.collection.uniqueMark')}>
              {c.uniqueMark ? <span class="mono">{c.uniqueMark}</span> : t('records.collection.ownMarking')}
            </Row>
            <Row label={t('records.collection.setting')}>
              {c.conflictSetting ? t('records.collection.conflict') : t('records.collection.peacetime')}
            </Row>
          </dl>
        </section>
      )}
      {o && (o.date || o.authority || o.basis) && (
        <section aria-labelledby="record-origin">
          <h2 id="record-origin">{t('records.origin.title')}</h2>
          <p class="hint">{t('records.origin.hint')}</p>
          <dl class="record-fields">
            <Row label={t('records.origin.date')}>{date(o.date)}</Row>
            <Row label={t('records.origin.authority')}>{o.authority && <span dir="auto">{o.authority}</span>}</Row>
            <Row label={t('records.origin.basis')}>{o.basis && <span dir="auto">{o.basis}</span>}</Row>
          </dl>
        </section>
      )}
    </>
  );
}

/** An event's circumstance of seizure and end-user undertaking, for the history table. */
export function EventConditions({ event }: { event: WeaponEvent }) {
  const circumstance = circumstanceLabel(event.circumstance);
  const u = event.undertaking;
  return (
    <>
      {circumstance && <span class="event-circumstance">{circumstance}</span>}
      {u && (u.condition !== 0 || u.certificateReference) && (
        <div class="event-undertaking">
          <strong>{conditionLabel(u.condition) || t('records.undertaking.unspecified')}</strong>
          <br />
          {t('records.undertaking.summary', {
            reference: u.certificateReference || '—',
            endUser: u.endUser || '—',
            date: u.date ? formatDate(u.date) : '—',
          })}
          {u.authorisations.length > 0 && (
            <ul class="plain-list">
              {u.authorisations.map((a, i) => (
                <li key={`auth${i}`}>
                  {t('records.undertaking.authorised', {
                    destination: a.destination ? participantName(a.destination) : '—',
                    date: a.date ? formatDate(a.date) : '—',
                    reference: a.reference || '—',
                  })}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </>
  );
}
