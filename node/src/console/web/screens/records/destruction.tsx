import { DestructionState, RecordsDefinition, type WeaponRecord } from '@tracenet/proto/browser';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { type ApiError, currentSession, rpc } from '../../api.js';
import { ActionButton, ErrorMessage, Field } from '../../components.js';
import { formatDate, t } from '../../i18n.js';
import { href } from '../../router.js';
import { saveFile } from '../stats/download.js';
import { certificateFileText, confirmationWord, witnessesOf } from './certificate-file.js';
import { mayWriteRecords } from './may-write.js';

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

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

const date = (value: string) => value && <time dateTime={value}>{formatDate(value)}</time>;

/** The badge of a record's destruction: pending (deactivated or not), or destroyed on a date. */
export function DestructionBadge({ record }: { record: WeaponRecord }) {
  const d = record.destruction;
  if (d?.state === DestructionState.DESTRUCTION_STATE_PENDING)
    return (
      <span class="badge">
        {d.deactivated ? t('records.destruction.badgePendingDeactivated') : t('records.destruction.badgePending')}
      </span>
    );
  if (d?.state === DestructionState.DESTRUCTION_STATE_DESTROYED)
    return <span class="badge">{t('records.destruction.badgeDestroyed', { date: formatDate(d.destroyedDate) })}</span>;
  return null;
}

/**
 * The weapon's destruction (docs/records.md): not designated, pending (with the form that records
 * it, confirmed by typing the serial), or destroyed with its signed certificate to download.
 */
export function DestructionSection(props: { record: WeaponRecord; onChanged: (message: string) => void }) {
  const { record } = props;
  const d = record.destruction;
  const state = d?.state ?? DestructionState.DESTRUCTION_STATE_UNSPECIFIED;
  const writer = mayWriteRecords();
  return (
    <section aria-labelledby="record-destruction" class="record-destruction">
      <h2 id="record-destruction">{t('records.destruction.title')}</h2>
      {state === DestructionState.DESTRUCTION_STATE_PENDING ||
      state === DestructionState.DESTRUCTION_STATE_DESTROYED ? (
        <dl class="record-fields">
          <Row label={t('records.destruction.state')}>
            {state === DestructionState.DESTRUCTION_STATE_DESTROYED
              ? t('records.destruction.destroyed')
              : t('records.destruction.pending')}
          </Row>
          <Row label={t('records.destruction.designatedDate')}>{date(d?.designatedDate ?? '')}</Row>
          <Row label={t('records.destruction.deactivated')}>
            {d?.deactivated ? t('records.destruction.yes') : t('records.destruction.no')}
          </Row>
          <Row label={t('records.destruction.destroyedDate')}>{date(d?.destroyedDate ?? '')}</Row>
          <Row label={t('records.destruction.method')}>{d?.method && <span dir="auto">{d.method}</span>}</Row>
          <Row label={t('records.destruction.witnesses')}>
            {(d?.witnesses.length ?? 0) > 0 && (
              <ul class="plain-list">
                {d?.witnesses.map((w, i) => (
                  <li key={`w${i}`} dir="auto">
                    {w}
                  </li>
                ))}
              </ul>
            )}
          </Row>
          <Row label={t('records.destruction.certificate')}>
            {d?.certificateId && <span class="mono">{d.certificateId}</span>}
          </Row>
        </dl>
      ) : (
        <p>{t('records.destruction.none')}</p>
      )}
      {state === DestructionState.DESTRUCTION_STATE_DESTROYED && <CertificateDownload record={record} />}
      {writer && state === DestructionState.DESTRUCTION_STATE_UNSPECIFIED && (
        <DesignateForm record={record} onChanged={props.onChanged} />
      )}
      {writer && state === DestructionState.DESTRUCTION_STATE_PENDING && (
        <DestroyForm record={record} onChanged={props.onChanged} />
      )}
    </section>
  );
}

function fieldError(error: unknown, field: string): string | undefined {
  const e = error as Partial<ApiError> | undefined;
  return e?.field && String(e.field).endsWith(field) ? t('records.fieldInvalid') : undefined;
}

function DesignateForm(props: { record: WeaponRecord; onChanged: (message: string) => void }) {
  const [form, setForm] = useState({ designatedDate: today(), deactivated: false });
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await rpc(RecordsDefinition, 'putRecord', {
        record: {
          ...props.record,
          destruction: {
            state: DestructionState.DESTRUCTION_STATE_PENDING,
            designatedDate: form.designatedDate,
            deactivated: form.deactivated,
            destroyedDate: '',
            method: '',
            witnesses: [],
            certificateId: '',
          },
        },
      });
      props.onChanged(t('records.destruction.designatedDone'));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="destruction-form" onSubmit={submit} aria-labelledby="designate-title">
      <h3 id="designate-title">{t('records.destruction.designateTitle')}</h3>
      <p class="hint">{t('records.destruction.designateHint')}</p>
      <Field label={t('records.destruction.designatedDate')} error={fieldError(error, 'designated_date')}>
        {(id, describedBy) => (
          <input
            id={id}
            name="designatedDate"
            type="date"
            required
            max={today()}
            aria-describedby={describedBy}
            value={form.designatedDate}
            onInput={(e) => setForm({ ...form, designatedDate: (e.target as HTMLInputElement).value })}
          />
        )}
      </Field>
      <label class="checkbox">
        <input
          type="checkbox"
          name="deactivated"
          checked={form.deactivated}
          onChange={(e) => setForm({ ...form, deactivated: (e.target as HTMLInputElement).checked })}
        />
        {t('records.destruction.deactivatedLabel')}
      </label>
      <ErrorMessage error={error} />
      <div>
        <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
          {t('records.destruction.designateSubmit')}
        </button>
      </div>
    </form>
  );
}

function DestroyForm(props: { record: WeaponRecord; onChanged: (message: string) => void }) {
  const word = confirmationWord(props.record);
  const [form, setForm] = useState({ destroyedDate: today(), method: '', witnesses: '', confirm: '' });
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const set = (name: keyof typeof form) => (event: Event) =>
    setForm({ ...form, [name]: (event.target as HTMLInputElement).value });
  const confirmed = form.confirm.trim() === word;
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!confirmed) return;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await rpc(RecordsDefinition, 'recordDestruction', {
        recordId: props.record.recordId,
        destroyedDate: form.destroyedDate,
        method: form.method.trim(),
        witnesses: witnessesOf(form.witnesses),
      });
      props.onChanged(
        t('records.destruction.recordedDone', { certificate: answer.record?.destruction?.certificateId ?? '' }),
      );
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="destruction-form" onSubmit={submit} aria-labelledby="destroy-title">
      <h3 id="destroy-title">{t('records.destruction.recordTitle')}</h3>
      <p class="hint">{t('records.destruction.recordHint')}</p>
      <Field label={t('records.destruction.destroyedDate')} error={fieldError(error, 'destroyed_date')}>
        {(id, describedBy) => (
          <input
            id={id}
            name="destroyedDate"
            type="date"
            required
            max={today()}
            aria-describedby={describedBy}
            value={form.destroyedDate}
            onInput={set('destroyedDate')}
          />
        )}
      </Field>
      <Field
        label={t('records.destruction.method')}
        hint={t('records.destruction.methodHint')}
        error={fieldError(error, 'method')}
      >
        {(id, describedBy) => (
          <input
            id={id}
            name="method"
            required
            maxLength={200}
            aria-describedby={describedBy}
            value={form.method}
            onInput={set('method')}
          />
        )}
      </Field>
      <Field
        label={t('records.destruction.witnesses')}
        hint={t('records.destruction.witnessesHint')}
        error={fieldError(error, 'witnesses')}
      >
        {(id, describedBy) => (
          <textarea
            id={id}
            name="witnesses"
            required
            rows={3}
            maxLength={2000}
            aria-describedby={describedBy}
            value={form.witnesses}
            onInput={set('witnesses')}
          />
        )}
      </Field>
      <Field label={t('records.destruction.confirmLabel', { word })} hint={t('records.destruction.confirmHint')}>
        {(id, describedBy) => (
          <input
            id={id}
            name="confirm"
            autoComplete="off"
            spellcheck={false}
            aria-describedby={describedBy}
            value={form.confirm}
            onInput={set('confirm')}
          />
        )}
      </Field>
      <ErrorMessage error={error} />
      <div>
        <button type="submit" class="danger" disabled={busy || !confirmed} aria-busy={busy}>
          {t('records.destruction.recordSubmit')}
        </button>
      </div>
    </form>
  );
}

function CertificateDownload({ record }: { record: WeaponRecord }) {
  return (
    <div class="destruction-certificate">
      <ActionButton
        onAction={async () => {
          const { certificate } = await rpc(RecordsDefinition, 'getDestructionCertificate', {
            recordId: record.recordId,
          });
          if (!certificate) return;
          const id = record.destruction?.certificateId || record.recordId;
          saveFile(
            new TextEncoder().encode(certificateFileText(certificate, currentSession().participantId, id)),
            'application/json',
            `${id}.json`,
            'destruction-certificate.json',
          );
        }}
      >
        {t('records.destruction.download')}
      </ActionButton>{' '}
      <a class="button" href={href('records', 'verify')}>
        {t('records.verify.link')}
      </a>
    </div>
  );
}
