import { AuthorityDefinition, type Case, CasesDefinition, Priority, type RequestCheck } from '@tracenet/proto/browser';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, rpc } from '../api.js';
import { ErrorMessage, Screen, Show, useLoad } from '../components.js';
import { formatNumber, participantName, t } from '../i18n.js';
import { href, navigate, type Route } from '../router.js';
import { CompletenessPanel, goTo, type NodeCheckState } from './compose/completeness.js';
import { ComposeField, controlId } from './compose/fields.js';
import {
  COMPONENT_KINDS,
  type ComposeForm,
  checkCompleteness,
  controlOfField,
  FINDING_KINDS,
  formFromQuery,
  ILLICIT_KINDS,
  MANUFACTURE_METHODS,
  MAX,
  SEIZURE_CIRCUMSTANCES,
  toRequest,
  WEAPON_TYPES,
} from './compose/model.js';
import { PhotoPicker } from './compose/photo-picker.js';
import { itemText } from './compose/node-check.js';
import { AliasInput, COUNTRY_LIST, CountryList, countryHint } from './compose/suggest.js';

/** How long the form must rest before the node checks it again (Cases/CheckRequest). */
const CHECK_AFTER_MS = 700;

/**
 * The node's check of the form's request for its recipient. The photos go with only their first
 * bytes: the check weighs that there are photos, not what they show, and a slow link should not
 * carry megabytes with every pause in typing (CreateCase checks the whole request again).
 */
function checkRequest(form: ComposeForm): Promise<RequestCheck | undefined> {
  const request = toRequest(form);
  for (const photo of request.weapon?.photos ?? []) if (photo.content) photo.content = photo.content.subarray(0, 16);
  return rpc(CasesDefinition, 'checkRequest', { recipient: form.recipient, request }).then((r) => r.check);
}

/**
 * The node's check of the draft, asked again when the form has rested a moment after a change of
 * the draft or of its recipient; an answer that arrives after a newer question is dropped.
 */
function useNodeCheck(form: ComposeForm): NodeCheckState {
  const [state, setState] = useState<NodeCheckState>({ kind: 'none' });
  const asked = useRef(0);
  useEffect(() => {
    const question = ++asked.current;
    if (form.recipient === '') {
      setState({ kind: 'none' });
      return;
    }
    setState((s) => ({
      kind: 'checking',
      last: s.kind === 'ready' ? s.check : s.kind === 'checking' ? s.last : undefined,
    }));
    const timer = setTimeout(() => {
      checkRequest(form).then(
        (check) => {
          if (question !== asked.current) return;
          setState(check ? { kind: 'ready', check } : { kind: 'failed', error: undefined });
        },
        (error: unknown) => question === asked.current && setState({ kind: 'failed', error }),
      );
    }, CHECK_AFTER_MS);
    return () => clearTimeout(timer);
  }, [form]);
  return state;
}

/** A refusal of the node, by form control: the officer's words for each rule broken. */
type FieldErrors = Readonly<Record<string, string>>;

/** The officer's words for a rule the node named; the node's own message when the catalogue has none. */
function ruleText(rule: string, message: string): string {
  const key = `compose.rule.${rule}`;
  const text = t(key);
  return text === key ? message : text;
}

function errorsOf(error: unknown): FieldErrors {
  if (!(error instanceof ApiError)) return {};
  const violations =
    error.violations.length > 0 ? error.violations : [{ field: error.field, rule: error.rule, message: error.message }];
  const errors: Record<string, string> = {};
  for (const v of violations) {
    const control = controlOfField(v.field);
    if (control !== '' && !errors[control]) errors[control] = ruleText(v.rule, v.message);
  }
  return errors;
}

/** The refusal of the node: each violation against the field it names, with a button to go to it. */
function Refusal({ error }: { error: ApiError }) {
  const violations =
    error.violations.length > 0 ? error.violations : [{ field: error.field, rule: error.rule, message: error.message }];
  return (
    <div class="error" role="alert">
      <p>{t('compose.refused')}</p>
      <ul>
        {violations.map((v) => {
          const control = controlOfField(v.field);
          return (
            <li key={`${v.field}:${v.rule}`}>
              {control !== '' ? (
                <button type="button" class="compose-link" onClick={() => goTo(control)}>
                  {t(`compose.check.${control}`)}
                </button>
              ) : (
                <code>{v.field}</code>
              )}
              {': '}
              {ruleText(v.rule, v.message)}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

type Stage =
  | { kind: 'editing' }
  | { kind: 'blocked' }
  | { kind: 'confirming'; missing: readonly string[] }
  | { kind: 'busy' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'saved'; draft: Case };

/** Compose a trace request: every field of a TraceRequest, a live completeness check, photos, draft or send. */
export function ComposeScreen({ route }: { route: Route }) {
  const query = route.query.toString();
  const [form, setForm] = useState<ComposeForm>(() => formFromQuery(route.query));
  // A link from the lookups screen to this screen with other markings starts a new form.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    setForm(formFromQuery(new URLSearchParams(query)));
  }, [query]);
  const [peers] = useLoad(() => rpc(AuthorityDefinition, 'listPeers', {}), []);
  const [stage, setStage] = useState<Stage>({ kind: 'editing' });
  const [nodeErrors, setNodeErrors] = useState<FieldErrors>({});
  const items = useMemo(() => checkCompleteness(form), [form]);
  const missingRequired = items.filter((i) => i.required && !i.done);
  const nodeCheck = useNodeCheck(form);
  const confirmRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (stage.kind === 'confirming') confirmRef.current?.focus();
    if (stage.kind === 'blocked') document.getElementById('compose-check-title')?.focus();
  }, [stage.kind]);

  const set = <K extends keyof ComposeForm>(name: K, value: ComposeForm[K]) => {
    setForm((f) => ({ ...f, [name]: value }));
    if (nodeErrors[name]) setNodeErrors(({ [name]: _, ...rest }) => rest);
    if (stage.kind === 'blocked' || stage.kind === 'confirming') setStage({ kind: 'editing' });
  };
  const text = (name: keyof ComposeForm) => (event: Event) =>
    set(name, (event.target as HTMLInputElement).value as never);

  const submit = async (send: boolean, confirmed = false) => {
    if (missingRequired.length > 0) {
      setStage({ kind: 'blocked' });
      return;
    }
    setStage({ kind: 'busy' });
    if (send && !confirmed) {
      // What the node finds missing in the request as it is now (but import marks the officer said
      // the weapon has none of: the request cannot say so); when the node cannot check, what the
      // browser knows to be recommended. Either way the officer may send anyway.
      const check = await checkRequest(form).catch(() => undefined);
      const missing = check
        ? (check.completeness?.missing ?? [])
            .filter((m) => !(m.item === 'import_marks' && form.noImportMarks))
            .map((m) => itemText(m.item))
        : items.filter((i) => !i.required && !i.done).map((i) => t(`compose.check.${i.id}`));
      if (missing.length > 0) {
        setStage({ kind: 'confirming', missing });
        return;
      }
    }
    setNodeErrors({});
    try {
      const response = await rpc(CasesDefinition, 'createCase', {
        recipient: form.recipient,
        request: toRequest(form),
        send,
      });
      const created = response.case;
      if (!created) throw new ApiError(500, 'INTERNAL', '', '', 'unexpected');
      if (send) navigate(href('cases', created.caseId));
      else setStage({ kind: 'saved', draft: created });
    } catch (error) {
      setNodeErrors(errorsOf(error));
      setStage({ kind: 'failed', error });
    }
  };
  const sendDraft = async (draft: Case) => {
    setStage({ kind: 'busy' });
    try {
      await rpc(CasesDefinition, 'sendCase', { caseId: draft.caseId });
      navigate(href('cases', draft.caseId));
    } catch (error) {
      setStage({ kind: 'failed', error });
    }
  };

  const error = (name: string) => nodeErrors[name];
  const urgent = form.priority === String(Priority.PRIORITY_URGENT);
  const busy = stage.kind === 'busy';

  return (
    <Screen title={t('compose.title')}>
      <CountryList />
      <div class="compose">
        <form
          class="compose-form"
          noValidate
          aria-describedby="compose-intro"
          onSubmit={(event) => {
            event.preventDefault();
            void submit(true);
          }}
        >
          <p id="compose-intro" class="hint">
            {t('compose.intro')}
          </p>
          {form.hitReference !== '' && <p class="notice">{t('compose.fromHit', { reference: form.hitReference })}</p>}

          <fieldset>
            <legend>{t('compose.section.request')}</legend>
            <ComposeField name="recipient" label={t('compose.field.recipient')} error={error('recipient')} required>
              {(id, describedBy) => (
                <Show loaded={peers}>
                  {({ peers: list }) => (
                    <select id={id} aria-describedby={describedBy} value={form.recipient} onChange={text('recipient')}>
                      <option value="">{t('compose.choose')}</option>
                      {list.map((p) => (
                        <option key={p.participantId} value={p.participantId}>
                          {t('compose.peer', { name: participantName(p.participantId), id: p.participantId })}
                        </option>
                      ))}
                    </select>
                  )}
                </Show>
              )}
            </ComposeField>
            <ComposeField
              name="requestingAuthority"
              label={t('compose.field.requestingAuthority')}
              hint={t('compose.hint.requestingAuthority')}
              error={error('requestingAuthority')}
              required
            >
              {(id, describedBy) => (
                <input
                  id={id}
                  aria-describedby={describedBy}
                  maxLength={MAX.requestingAuthority}
                  value={form.requestingAuthority}
                  onInput={text('requestingAuthority')}
                />
              )}
            </ComposeField>
            <ComposeField
              name="caseReference"
              label={t('compose.field.caseReference')}
              error={error('caseReference')}
              required
            >
              {(id, describedBy) => (
                <input
                  id={id}
                  aria-describedby={describedBy}
                  maxLength={MAX.caseReference}
                  value={form.caseReference}
                  onInput={text('caseReference')}
                />
              )}
            </ComposeField>
            <ComposeField name="priority" label={t('compose.field.priority')} error={error('priority')} required>
              {(id, describedBy) => (
                <select id={id} aria-describedby={describedBy} value={form.priority} onChange={text('priority')}>
                  <option value={String(Priority.PRIORITY_ROUTINE)}>{t('compose.priority.routine')}</option>
                  <option value={String(Priority.PRIORITY_URGENT)}>{t('compose.priority.urgent')}</option>
                </select>
              )}
            </ComposeField>
            {urgent && (
              <ComposeField
                name="urgencyJustification"
                label={t('compose.field.urgencyJustification')}
                error={error('urgencyJustification')}
                required
              >
                {(id, describedBy) => (
                  <textarea
                    id={id}
                    aria-describedby={describedBy}
                    maxLength={MAX.text}
                    value={form.urgencyJustification}
                    onInput={text('urgencyJustification')}
                  />
                )}
              </ComposeField>
            )}
          </fieldset>

          <fieldset>
            <legend>{t('compose.section.criteria')}</legend>
            {error('criteria') && <p class="field-error">{error('criteria')}</p>}
            {form.criteria.map((c, i) => {
              const n = formatNumber(i + 1);
              const update = (patch: Partial<typeof c>) =>
                set(
                  'criteria',
                  form.criteria.map((each, j) => (j === i ? { ...each, ...patch } : each)),
                );
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
                <div class="compose-row" key={i}>
                  <ComposeField
                    name={i === 0 ? 'criteria' : `criteria-${i}`}
                    label={t('compose.field.criterionKind', { n })}
                  >
                    {(id, describedBy) => (
                      <select
                        id={id}
                        aria-describedby={describedBy}
                        value={c.kind}
                        onChange={(event) => update({ kind: (event.target as HTMLSelectElement).value })}
                      >
                        <option value="">{t('compose.choose')}</option>
                        {ILLICIT_KINDS.map((k) => (
                          <option key={k} value={String(k)}>
                            {t(`compose.illicit.${k}`)}
                          </option>
                        ))}
                      </select>
                    )}
                  </ComposeField>
                  <ComposeField
                    name={`legalBasis-${i}`}
                    label={t('compose.field.legalBasis', { n })}
                    hint={i === 0 ? t('compose.hint.legalBasis') : undefined}
                  >
                    {(id, describedBy) => (
                      <input
                        id={id}
                        aria-describedby={describedBy}
                        maxLength={MAX.legalBasis}
                        value={c.legalBasis}
                        onInput={(event) => update({ legalBasis: (event.target as HTMLInputElement).value })}
                      />
                    )}
                  </ComposeField>
                  {form.criteria.length > 1 && (
                    <button
                      type="button"
                      onClick={() =>
                        set(
                          'criteria',
                          form.criteria.filter((_, j) => j !== i),
                        )
                      }
                    >
                      {t('compose.removeCriterion', { n })}
                    </button>
                  )}
                </div>
              );
            })}
            <button type="button" onClick={() => set('criteria', [...form.criteria, { kind: '', legalBasis: '' }])}>
              {t('compose.addCriterion')}
            </button>
          </fieldset>

          <fieldset>
            <legend>{t('compose.section.circumstances')}</legend>
            <ComposeField
              name="findingKind"
              label={t('compose.field.findingKind')}
              error={error('findingKind')}
              required
            >
              {(id, describedBy) => (
                <select id={id} aria-describedby={describedBy} value={form.findingKind} onChange={text('findingKind')}>
                  <option value="">{t('compose.choose')}</option>
                  {FINDING_KINDS.map((k) => (
                    <option key={k} value={String(k)}>
                      {t(`compose.finding.${k}`)}
                    </option>
                  ))}
                </select>
              )}
            </ComposeField>
            <ComposeField
              name="circumstance"
              label={t('compose.field.circumstance')}
              hint={t('compose.hint.circumstance')}
              error={error('circumstance')}
            >
              {(id, describedBy) => (
                <select
                  id={id}
                  aria-describedby={describedBy}
                  value={form.circumstance}
                  onChange={text('circumstance')}
                >
                  <option value="">{t('compose.choose')}</option>
                  {SEIZURE_CIRCUMSTANCES.map((k) => (
                    <option key={k} value={String(k)}>
                      {t(`compose.circumstance.${k}`)}
                    </option>
                  ))}
                </select>
              )}
            </ComposeField>
            <ComposeField
              name="findingDate"
              label={t('compose.field.findingDate')}
              error={error('findingDate')}
              required
            >
              {(id, describedBy) => (
                <input
                  id={id}
                  type="date"
                  aria-describedby={describedBy}
                  value={form.findingDate}
                  onInput={text('findingDate')}
                />
              )}
            </ComposeField>
            <ComposeField
              name="findingPlace"
              label={t('compose.field.findingPlace')}
              error={error('findingPlace')}
              required
            >
              {(id, describedBy) => (
                <input
                  id={id}
                  aria-describedby={describedBy}
                  maxLength={MAX.place}
                  value={form.findingPlace}
                  onInput={text('findingPlace')}
                />
              )}
            </ComposeField>
            <ComposeField name="findingAgency" label={t('compose.field.findingAgency')}>
              {(id, describedBy) => (
                <input
                  id={id}
                  aria-describedby={describedBy}
                  maxLength={MAX.place}
                  value={form.findingAgency}
                  onInput={text('findingAgency')}
                />
              )}
            </ComposeField>
            <ComposeField name="findingDescription" label={t('compose.field.findingDescription')}>
              {(id, describedBy) => (
                <textarea
                  id={id}
                  aria-describedby={describedBy}
                  maxLength={MAX.text}
                  value={form.findingDescription}
                  onInput={text('findingDescription')}
                />
              )}
            </ComposeField>
          </fieldset>

          <fieldset>
            <legend>{t('compose.section.markings')}</legend>
            <ComposeField
              name="manufacturer"
              label={t('compose.field.manufacturer')}
              hint={t('compose.hint.manufacturer')}
              error={error('manufacturer')}
              required
            >
              {(id, describedBy) => (
                <AliasInput
                  id={id}
                  describedBy={describedBy}
                  value={form.manufacturer}
                  maxLength={MAX.short}
                  onInput={(value) => set('manufacturer', value)}
                />
              )}
            </ComposeField>
            <ComposeField
              name="countryOfManufacture"
              label={t('compose.field.countryOfManufacture')}
              hint={countryHint(form.countryOfManufacture) || t('compose.hint.country')}
            >
              {(id, describedBy) => (
                <input
                  id={id}
                  aria-describedby={describedBy}
                  list={COUNTRY_LIST}
                  maxLength={3}
                  autoComplete="off"
                  class="compose-country"
                  value={form.countryOfManufacture}
                  onInput={text('countryOfManufacture')}
                />
              )}
            </ComposeField>
            <ComposeField
              name="serialNumber"
              label={t('compose.field.serialNumber')}
              hint={t('compose.hint.serialNumber')}
              error={error('serialNumber')}
              required
            >
              {(id, describedBy) => (
                <input
                  id={id}
                  aria-describedby={describedBy}
                  maxLength={MAX.short}
                  autoComplete="off"
                  spellcheck={false}
                  class="mono"
                  value={form.serialNumber}
                  onInput={text('serialNumber')}
                />
              )}
            </ComposeField>
            <div class="field">
              <label class="compose-check-box">
                <input
                  type="checkbox"
                  id={controlId('serialObliterated')}
                  aria-describedby={form.serialObliterated ? controlId('serialObliterated-hint') : undefined}
                  checked={form.serialObliterated}
                  onChange={(event) => set('serialObliterated', (event.target as HTMLInputElement).checked)}
                />
                {t('compose.field.serialObliterated')}
              </label>
              {form.serialObliterated && (
                <p class="hint" id={controlId('serialObliterated-hint')}>
                  {t('compose.hint.obliterated')}
                </p>
              )}
            </div>
            <ComposeField name="model" label={t('compose.field.model')}>
              {(id, describedBy) => (
                <input
                  id={id}
                  aria-describedby={describedBy}
                  maxLength={MAX.short}
                  value={form.model}
                  onInput={text('model')}
                />
              )}
            </ComposeField>
            <ComposeField name="type" label={t('compose.field.type')} error={error('type')} required>
              {(id, describedBy) => (
                <select id={id} aria-describedby={describedBy} value={form.type} onChange={text('type')}>
                  <option value="">{t('compose.choose')}</option>
                  {WEAPON_TYPES.map((k) => (
                    <option key={k} value={String(k)}>
                      {t(`compose.weaponType.${k}`)}
                    </option>
                  ))}
                </select>
              )}
            </ComposeField>
            <ComposeField
              name="calibre"
              label={t('compose.field.calibre')}
              hint={t('compose.hint.calibre')}
              error={error('calibre')}
              required
            >
              {(id, describedBy) => (
                <AliasInput
                  id={id}
                  describedBy={describedBy}
                  value={form.calibre}
                  calibres
                  maxLength={MAX.calibre}
                  onInput={(value) => set('calibre', value)}
                />
              )}
            </ComposeField>
            <ComposeField name="year" label={t('compose.field.year')}>
              {(id, describedBy) => (
                <input
                  id={id}
                  aria-describedby={describedBy}
                  inputMode="numeric"
                  pattern="[0-9]{4}"
                  maxLength={4}
                  class="compose-year"
                  value={form.year}
                  onInput={text('year')}
                />
              )}
            </ComposeField>
          </fieldset>

          <fieldset>
            <legend>{t('compose.section.otherMarks')}</legend>
            <h3 class="compose-subhead">{t('compose.imports')}</h3>
            <label class="compose-check-box">
              <input
                type="checkbox"
                id={form.imports.length === 0 ? controlId('imports') : undefined}
                checked={form.noImportMarks}
                onChange={(event) => set('noImportMarks', (event.target as HTMLInputElement).checked)}
              />
              {t('compose.noImportMarks')}
            </label>
            {form.imports.map((m, i) => {
              const n = formatNumber(i + 1);
              const update = (patch: Partial<typeof m>) =>
                set(
                  'imports',
                  form.imports.map((each, j) => (j === i ? { ...each, ...patch } : each)),
                );
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
                <div class="compose-row" key={i}>
                  <ComposeField
                    name={i === 0 ? 'imports' : `imports-${i}`}
                    label={t('compose.field.importCountry', { n })}
                    hint={countryHint(m.country) || t('compose.hint.country')}
                  >
                    {(id, describedBy) => (
                      <input
                        id={id}
                        aria-describedby={describedBy}
                        list={COUNTRY_LIST}
                        maxLength={3}
                        autoComplete="off"
                        class="compose-country"
                        value={m.country}
                        onInput={(event) => update({ country: (event.target as HTMLInputElement).value })}
                      />
                    )}
                  </ComposeField>
                  <ComposeField name={`importYear-${i}`} label={t('compose.field.importYear', { n })}>
                    {(id, describedBy) => (
                      <input
                        id={id}
                        aria-describedby={describedBy}
                        inputMode="numeric"
                        maxLength={4}
                        class="compose-year"
                        value={m.year}
                        onInput={(event) => update({ year: (event.target as HTMLInputElement).value })}
                      />
                    )}
                  </ComposeField>
                  <button
                    type="button"
                    onClick={() =>
                      set(
                        'imports',
                        form.imports.filter((_, j) => j !== i),
                      )
                    }
                  >
                    {t('compose.removeImport', { n })}
                  </button>
                </div>
              );
            })}
            <button type="button" onClick={() => set('imports', [...form.imports, { country: '', year: '' }])}>
              {t('compose.addImport')}
            </button>

            <h3 class="compose-subhead">{t('compose.government')}</h3>
            <div class="compose-row">
              <ComposeField
                name="governmentCountry"
                label={t('compose.field.governmentCountry')}
                hint={countryHint(form.governmentCountry) || t('compose.hint.country')}
              >
                {(id, describedBy) => (
                  <input
                    id={id}
                    aria-describedby={describedBy}
                    list={COUNTRY_LIST}
                    maxLength={3}
                    autoComplete="off"
                    class="compose-country"
                    value={form.governmentCountry}
                    onInput={text('governmentCountry')}
                  />
                )}
              </ComposeField>
              <ComposeField name="governmentYear" label={t('compose.field.governmentYear')}>
                {(id, describedBy) => (
                  <input
                    id={id}
                    aria-describedby={describedBy}
                    inputMode="numeric"
                    maxLength={4}
                    class="compose-year"
                    value={form.governmentYear}
                    onInput={text('governmentYear')}
                  />
                )}
              </ComposeField>
            </div>

            <h3 class="compose-subhead">{t('compose.controlComponent')}</h3>
            <div class="compose-row">
              <ComposeField name="controlKind" label={t('compose.field.componentKind')}>
                {(id, describedBy) => (
                  <select
                    id={id}
                    aria-describedby={describedBy}
                    value={form.controlKind}
                    onChange={text('controlKind')}
                  >
                    <option value="">{t('compose.choose')}</option>
                    {COMPONENT_KINDS.map((k) => (
                      <option key={k} value={String(k)}>
                        {t(`compose.component.${k}`)}
                      </option>
                    ))}
                  </select>
                )}
              </ComposeField>
              <ComposeField name="controlSerial" label={t('compose.field.componentSerial')}>
                {(id, describedBy) => (
                  <input
                    id={id}
                    aria-describedby={describedBy}
                    maxLength={MAX.short}
                    class="mono"
                    value={form.controlSerial}
                    onInput={text('controlSerial')}
                  />
                )}
              </ComposeField>
              <ComposeField name="controlMarking" label={t('compose.field.componentMarking')}>
                {(id, describedBy) => (
                  <input
                    id={id}
                    aria-describedby={describedBy}
                    maxLength={MAX.short}
                    value={form.controlMarking}
                    onInput={text('controlMarking')}
                  />
                )}
              </ComposeField>
            </div>

            <h3 class="compose-subhead">{t('compose.components')}</h3>
            {form.components.map((c, i) => {
              const n = formatNumber(i + 1);
              const update = (patch: Partial<typeof c>) =>
                set(
                  'components',
                  form.components.map((each, j) => (j === i ? { ...each, ...patch } : each)),
                );
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
                <div class="compose-row" key={i}>
                  <ComposeField name={`componentKind-${i}`} label={t('compose.field.partKind', { n })}>
                    {(id, describedBy) => (
                      <select
                        id={id}
                        aria-describedby={describedBy}
                        value={c.kind}
                        onChange={(event) => update({ kind: (event.target as HTMLSelectElement).value })}
                      >
                        <option value="">{t('compose.choose')}</option>
                        {COMPONENT_KINDS.map((k) => (
                          <option key={k} value={String(k)}>
                            {t(`compose.component.${k}`)}
                          </option>
                        ))}
                      </select>
                    )}
                  </ComposeField>
                  <ComposeField name={`componentSerial-${i}`} label={t('compose.field.partSerial', { n })}>
                    {(id, describedBy) => (
                      <input
                        id={id}
                        aria-describedby={describedBy}
                        maxLength={MAX.short}
                        class="mono"
                        value={c.serialNumber}
                        onInput={(event) => update({ serialNumber: (event.target as HTMLInputElement).value })}
                      />
                    )}
                  </ComposeField>
                  <ComposeField name={`componentMarking-${i}`} label={t('compose.field.partMarking', { n })}>
                    {(id, describedBy) => (
                      <input
                        id={id}
                        aria-describedby={describedBy}
                        maxLength={MAX.short}
                        value={c.marking}
                        onInput={(event) => update({ marking: (event.target as HTMLInputElement).value })}
                      />
                    )}
                  </ComposeField>
                  <button
                    type="button"
                    onClick={() =>
                      set(
                        'components',
                        form.components.filter((_, j) => j !== i),
                      )
                    }
                  >
                    {t('compose.removeComponent', { n })}
                  </button>
                </div>
              );
            })}
            <button
              type="button"
              onClick={() => set('components', [...form.components, { kind: '', serialNumber: '', marking: '' }])}
            >
              {t('compose.addComponent')}
            </button>

            <ComposeField name="manufactureMethod" label={t('compose.field.manufactureMethod')}>
              {(id, describedBy) => (
                <select
                  id={id}
                  aria-describedby={describedBy}
                  value={form.manufactureMethod}
                  onChange={text('manufactureMethod')}
                >
                  <option value="">{t('compose.choose')}</option>
                  {MANUFACTURE_METHODS.map((k) => (
                    <option key={k} value={String(k)}>
                      {t(`compose.method.${k}`)}
                    </option>
                  ))}
                </select>
              )}
            </ComposeField>
          </fieldset>

          <PhotoPicker photos={form.photos} error={error('photos')} onChange={(photos) => set('photos', photos)} />

          <fieldset>
            <legend>{t('compose.section.use')}</legend>
            <ComposeField name="otherInformation" label={t('compose.field.otherInformation')}>
              {(id, describedBy) => (
                <textarea
                  id={id}
                  aria-describedby={describedBy}
                  maxLength={MAX.text}
                  value={form.otherInformation}
                  onInput={text('otherInformation')}
                />
              )}
            </ComposeField>
            <ComposeField
              name="intendedUse"
              label={t('compose.field.intendedUse')}
              hint={t('compose.hint.intendedUse')}
              error={error('intendedUse')}
              required
            >
              {(id, describedBy) => (
                <textarea
                  id={id}
                  aria-describedby={describedBy}
                  maxLength={MAX.intendedUse}
                  value={form.intendedUse}
                  onInput={text('intendedUse')}
                />
              )}
            </ComposeField>
          </fieldset>

          {stage.kind === 'blocked' && (
            <div class="error" role="alert">
              {t('compose.blocked', { count: missingRequired.length, shown: formatNumber(missingRequired.length) })}
            </div>
          )}
          {stage.kind === 'confirming' && (
            <div
              class="notice compose-confirm"
              role="alertdialog"
              aria-labelledby="compose-confirm-text"
              ref={confirmRef}
              tabIndex={-1}
            >
              <p id="compose-confirm-text">
                {t('compose.confirm', {
                  count: stage.missing.length,
                  shown: formatNumber(stage.missing.length),
                })}
              </p>
              <ul>
                {stage.missing.map((text) => (
                  <li key={text}>{text}</li>
                ))}
              </ul>
              <div class="compose-actions">
                <button type="button" class="primary" onClick={() => void submit(true, true)}>
                  {t('compose.sendAnyway')}
                </button>
                <button type="button" onClick={() => setStage({ kind: 'editing' })}>
                  {t('compose.goBack')}
                </button>
              </div>
            </div>
          )}
          {stage.kind === 'failed' &&
            (stage.error instanceof ApiError &&
            (stage.error.violations.length > 0 || controlOfField(stage.error.field) !== '') ? (
              <Refusal error={stage.error} />
            ) : (
              <ErrorMessage error={stage.error} />
            ))}
          {stage.kind === 'saved' ? (
            <div class="notice" role="status">
              <p>{t('compose.saved', { id: stage.draft.caseId })}</p>
              <div class="compose-actions">
                <a href={href('cases', stage.draft.caseId)}>{t('compose.openDraft')}</a>
                <button type="button" class="primary" onClick={() => void sendDraft(stage.draft)}>
                  {t('compose.sendDraft')}
                </button>
              </div>
            </div>
          ) : (
            <div class="compose-actions">
              <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
                {t('compose.send')}
              </button>
              <button type="button" disabled={busy} onClick={() => void submit(false)}>
                {t('compose.saveDraft')}
              </button>
              <p class="hint">{t('compose.requiredMark')}</p>
            </div>
          )}
        </form>
        <CompletenessPanel items={items} node={nodeCheck} noImportMarks={form.noImportMarks} />
      </div>
    </Screen>
  );
}
