import { FindingKind, IllicitKind, type LookupHit, LookupsDefinition, Priority } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { ApiError, rpc } from '../../api.js';
import { ErrorMessage, Field } from '../../components.js';
import { participantName, t } from '../../i18n.js';
import { href, navigate } from '../../router.js';
import { refusalByField, unshownFields } from './refusal.js';
import type { AskedLookup } from './model.js';
import { WEAPON_TYPES } from './model.js';

const ILLICIT = [
  IllicitKind.ILLICIT_KIND_NATIONAL_LAW,
  IllicitKind.ILLICIT_KIND_ARMS_EMBARGO,
  IllicitKind.ILLICIT_KIND_NOT_MARKED,
  IllicitKind.ILLICIT_KIND_UNLICENSED_MANUFACTURE,
  IllicitKind.ILLICIT_KIND_UNAUTHORISED_TRANSFER,
];
const FINDING = [FindingKind.FINDING_KIND_SEIZED, FindingKind.FINDING_KIND_FOUND, FindingKind.FINDING_KIND_SURRENDERED];
const SHOWN = [
  'request.case_reference',
  'request.illicit_criteria',
  'request.illicit_criteria[0].kind',
  'request.illicit_criteria[0].legal_basis',
  'request.circumstances.kind',
  'request.circumstances.date',
  'request.circumstances.place',
  'request.weapon.markings.type',
  'request.weapon.markings.calibre',
  'request.requesting_authority',
  'request.intended_use',
];

function value(event: Event): string {
  return (event.target as HTMLInputElement).value;
}

/**
 * Opens a trace request to the owner of a hit (Lookups/TraceFromHit): the markings, purpose and
 * authority come from the lookup; the officer adds what a trace request needs besides. When the node
 * still finds something missing, the compose screen takes over with the markings filled in.
 */
export function TraceFromHitForm(props: { hit: LookupHit; lookup: AskedLookup }) {
  const asked = props.lookup.request;
  const [caseReference, setCaseReference] = useState('');
  const [illicit, setIllicit] = useState(0);
  const [legalBasis, setLegalBasis] = useState('');
  const [finding, setFinding] = useState(0);
  const [date, setDate] = useState('');
  const [place, setPlace] = useState('');
  const [agency, setAgency] = useState('');
  const [type, setType] = useState(Number(asked.weapon.type ?? 0));
  const [calibre, setCalibre] = useState(asked.weapon.calibre ?? '');
  const [intendedUse, setIntendedUse] = useState('');
  const [authority, setAuthority] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const byField = refusalByField(error);
  const compose = href('compose', {
    manufacturer: asked.weapon.manufacturer ?? '',
    serial: asked.weapon.serialNumber ?? '',
    model: asked.weapon.model ?? '',
    calibre: asked.weapon.calibre ?? '',
    recipient: props.hit.owner,
  });

  const open = async (send: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const { case: opened } = await rpc(LookupsDefinition, 'traceFromHit', {
        hit: props.hit,
        send,
        request: {
          caseReference,
          priority: Priority.PRIORITY_ROUTINE,
          illicitCriteria: illicit === 0 && legalBasis === '' ? [] : [{ kind: illicit, legalBasis }],
          circumstances: { kind: finding, date, place, agency, description: '', circumstance: 0 },
          weapon: { markings: { type, calibre } },
          intendedUse,
          requestingAuthority: authority,
        },
      });
      if (opened) navigate(href('cases', opened.caseId));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const field = (path: string) =>
    byField.get(path) ?? (path.includes('illicit') ? byField.get('request.illicit_criteria') : undefined);
  const input = (
    label: string,
    path: string,
    current: string,
    set: (v: string) => void,
    kind: 'text' | 'date' = 'text',
    hint = '',
  ) => (
    <Field label={label} {...(hint === '' ? {} : { hint })} error={field(path)}>
      {(id, describedBy) => (
        <input
          id={id}
          type={kind as 'text'}
          aria-describedby={describedBy}
          aria-invalid={field(path) !== undefined}
          value={current}
          onInput={(e) => set(value(e))}
        />
      )}
    </Field>
  );
  const incomplete = error instanceof ApiError && error.code === 'REQUEST_INCOMPLETE';

  return (
    <form class="trace-from-hit" onSubmit={(e) => e.preventDefault()} noValidate>
      <h3>{t('lookups.traceTitle', { owner: participantName(props.hit.owner) })}</h3>
      <p class="hint">{t('lookups.traceHint')}</p>
      {error !== undefined && (unshownFields(byField, SHOWN) || byField.size === 0) && <ErrorMessage error={error} />}
      {error !== undefined && byField.size > 0 && !unshownFields(byField, SHOWN) && (
        <p class="error" role="alert">
          {t('lookups.traceRefusedFields', { count: byField.size })}
        </p>
      )}
      {incomplete && (
        <p class="notice">
          <a href={compose}>{t('lookups.compose')}</a>
        </p>
      )}
      <div class="lookup-grid">
        {input(t('lookups.caseReference'), 'request.case_reference', caseReference, setCaseReference)}
        <Field label={t('lookups.illicit')} error={field('request.illicit_criteria[0].kind')}>
          {(id, describedBy) => (
            <select
              id={id}
              aria-describedby={describedBy}
              value={String(illicit)}
              onChange={(e) => setIllicit(Number(value(e)))}
            >
              <option value="0">{t('lookups.choose')}</option>
              {ILLICIT.map((kind) => (
                <option key={kind} value={String(kind)}>
                  {t(`lookups.illicitKind.${kind}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {input(t('lookups.legalBasis'), 'request.illicit_criteria[0].legal_basis', legalBasis, setLegalBasis)}
        <Field label={t('lookups.finding')} error={field('request.circumstances.kind')}>
          {(id, describedBy) => (
            <select
              id={id}
              aria-describedby={describedBy}
              value={String(finding)}
              onChange={(e) => setFinding(Number(value(e)))}
            >
              <option value="0">{t('lookups.choose')}</option>
              {FINDING.map((kind) => (
                <option key={kind} value={String(kind)}>
                  {t(`lookups.findingKind.${kind}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {input(t('lookups.findingDate'), 'request.circumstances.date', date, setDate, 'date')}
        {input(t('lookups.findingPlace'), 'request.circumstances.place', place, setPlace)}
        {input(t('lookups.findingAgency'), 'request.circumstances.agency', agency, setAgency)}
        <Field label={t('lookups.type')} error={field('request.weapon.markings.type')}>
          {(id, describedBy) => (
            <select
              id={id}
              aria-describedby={describedBy}
              value={String(type)}
              onChange={(e) => setType(Number(value(e)))}
            >
              <option value="0">{t('lookups.choose')}</option>
              {WEAPON_TYPES.map((kind) => (
                <option key={kind} value={String(kind)}>
                  {t(`lookups.weaponType.${kind}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {input(t('lookups.calibre'), 'request.weapon.markings.calibre', calibre, setCalibre)}
        {input(
          t('lookups.authority'),
          'request.requesting_authority',
          authority,
          setAuthority,
          'text',
          t('lookups.fromLookupHint'),
        )}
      </div>
      <Field label={t('lookups.intendedUse')} hint={t('lookups.intendedUseHint')} error={field('request.intended_use')}>
        {(id, describedBy) => (
          <textarea
            id={id}
            aria-describedby={describedBy}
            value={intendedUse}
            onInput={(e) => setIntendedUse(value(e))}
          />
        )}
      </Field>
      <div class="actions">
        <button type="button" class="primary" disabled={busy} onClick={() => void open(true)}>
          {t('lookups.traceSend')}
        </button>
        <button type="button" disabled={busy} onClick={() => void open(false)}>
          {t('lookups.traceDraft')}
        </button>
        <a class="button" href={compose}>
          {t('lookups.composeLink')}
        </a>
      </div>
    </form>
  );
}
