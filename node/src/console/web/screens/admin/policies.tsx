import {
  type Approval,
  AuthorityDefinition,
  type PeerPolicy,
  ReleaseAction,
  type ReleaseRule,
  TraceOutcome,
  WeaponEventType,
} from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { ErrorMessage, Field, Show, useLoad } from '../../components.js';
import { participantName, t } from '../../i18n.js';
import { canAdminister, Done, fieldError, PendingApproval } from './shared.js';

const DAY = 86_400_000;
/** The node-wide policy: release rules of every peer (docs/protocol.md 12.11). */
const NODE_WIDE = '*';
/** The fields a release rule may name (docs/protocol.md 12.11). */
const RELEASE_FIELDS = [
  'history.date',
  'history.place',
  'history.agency',
  'history.destination',
  'history.origin',
  'history.licence',
  'history.end_user',
  'history.details',
  'last_legal_record',
  'point_of_diversion',
  'details',
  'referral.basis',
];
const ACTIONS = [
  ReleaseAction.RELEASE_ACTION_RELEASE,
  ReleaseAction.RELEASE_ACTION_WITHHOLD,
  ReleaseAction.RELEASE_ACTION_ON_REQUEST,
  ReleaseAction.RELEASE_ACTION_APPROVAL,
];
const EVENT_TYPES = Object.values(WeaponEventType).filter((v): v is number => typeof v === 'number' && v > 0);
const OUTCOMES = Object.values(TraceOutcome).filter((v): v is number => typeof v === 'number' && v > 0);

const checked = (event: Event) => (event.target as HTMLInputElement).checked;
const value = (event: Event) => (event.target as HTMLInputElement).value;
const selected = (event: Event) =>
  Array.from((event.target as HTMLSelectElement).selectedOptions, (o) => Number(o.value));

/** Days in a form field from milliseconds ('' for the default, 0). */
const days = (ms: number) => (ms === 0 ? '' : String(Math.round((ms / DAY) * 100) / 100));

/** The policy of one peer, or the node-wide release rules, viewed and edited. */
export function PoliciesTab({ peer }: { peer: string }) {
  const [peers] = useLoad(() => rpc(AuthorityDefinition, 'listPeers', {}), []);
  const chosen = peer !== '' ? peer : NODE_WIDE;
  return (
    <div class="admin-tab">
      <h2>{t('admin.policies.heading')}</h2>
      <Show loaded={peers}>
        {({ peers: list }) => (
          <Field label={t('admin.policies.peer')} hint={t('admin.policies.peerHint')}>
            {(id, describedBy) => (
              <select
                id={id}
                aria-describedby={describedBy}
                value={chosen}
                onChange={(event) => {
                  location.hash = `#/admin/policies/${encodeURIComponent(value(event))}`;
                }}
              >
                <option value={NODE_WIDE}>{t('admin.policies.nodeWide')}</option>
                {list.map((p) => (
                  <option key={p.participantId} value={p.participantId}>
                    {`${participantName(p.participantId)} (${p.participantId})`}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
      </Show>
      <PolicyForm key={chosen} participantId={chosen} />
    </div>
  );
}

function PolicyForm({ participantId }: { participantId: string }) {
  const [loaded] = useLoad(() => rpc(AuthorityDefinition, 'getPeerPolicy', { participantId }), [participantId]);
  return <Show loaded={loaded}>{({ policy }) => (policy ? <PolicyEditor initial={policy} /> : null)}</Show>;
}

/** A number of days (decimals allowed); empty is the node's default, named in the hint. */
function DaysField(props: {
  name: string;
  label: string;
  defaultDays: number;
  error: string | undefined;
  value: string;
  onInput: (days: string) => void;
}) {
  return (
    <Field label={props.label} hint={t('admin.policy.defaultDays', { days: props.defaultDays })} error={props.error}>
      {(id, describedBy) => (
        <input
          id={id}
          name={props.name}
          type="number"
          min="0"
          step="any"
          inputMode="decimal"
          aria-describedby={describedBy}
          value={props.value}
          onInput={(event) => props.onInput(value(event))}
        />
      )}
    </Field>
  );
}

function PolicyEditor({ initial }: { initial: PeerPolicy }) {
  const [policy, setPolicy] = useState<PeerPolicy>(initial);
  const [ackDays, setAckDays] = useState(days(initial.acknowledgeWithinMs));
  const [answerDays, setAnswerDays] = useState(days(initial.answerWithinMs));
  const [error, setError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState(false);
  const [pending, setPending] = useState<Approval | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const admin = canAdminister();
  const nodeWide = policy.participantId === NODE_WIDE;
  const set = (change: Partial<PeerPolicy>) => {
    setSaved(false);
    setPolicy({ ...policy, ...change });
  };
  const setRule = (index: number, change: Partial<ReleaseRule>) =>
    set({ releaseRules: policy.releaseRules.map((r, i) => (i === index ? { ...r, ...change } : r)) });
  const toMs = (text: string) => (text.trim() === '' ? 0 : Math.round(Number(text) * DAY));

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setPending(undefined);
    try {
      const response = await rpc(AuthorityDefinition, 'setPeerPolicy', {
        policy: { ...policy, acknowledgeWithinMs: toMs(ackDays), answerWithinMs: toMs(answerDays) },
      });
      if (response.pendingApproval) setPending(response.pendingApproval);
      else {
        if (response.policy) setPolicy(response.policy);
        setSaved(true);
      }
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const flag = (name: 'acceptRequests' | 'autoAcknowledge' | 'autoAnswer' | 'autoAnswerNoRecord' | 'allowLookups') => (
    <label class="check">
      <input
        type="checkbox"
        name={name}
        disabled={!admin}
        checked={policy[name]}
        onChange={(event) => set({ [name]: checked(event) })}
      />
      {t(`admin.policy.${name}`)}
    </label>
  );

  return (
    <form class="admin-panel policy-form" onSubmit={save} noValidate>
      <h3>
        {nodeWide
          ? t('admin.policies.nodeWide')
          : t('admin.policies.of', { name: participantName(policy.participantId), id: policy.participantId })}
      </h3>
      <fieldset disabled={!admin}>
        {nodeWide ? (
          <p class="hint">{t('admin.policies.nodeWideHint')}</p>
        ) : (
          <>
            <div class="checks">
              {flag('acceptRequests')}
              {flag('autoAcknowledge')}
              {flag('autoAnswer')}
              {flag('autoAnswerNoRecord')}
              {flag('allowLookups')}
            </div>
            <div class="row">
              <DaysField
                name="acknowledgeWithinDays"
                label={t('admin.policy.acknowledgeWithin')}
                defaultDays={7}
                error={fieldError(error, 'policy.acknowledge_within_ms')}
                value={ackDays}
                onInput={(days) => {
                  setSaved(false);
                  setAckDays(days);
                }}
              />
              <DaysField
                name="answerWithinDays"
                label={t('admin.policy.answerWithin')}
                defaultDays={30}
                error={fieldError(error, 'policy.answer_within_ms')}
                value={answerDays}
                onInput={(days) => {
                  setSaved(false);
                  setAnswerDays(days);
                }}
              />
              <Field
                label={t('admin.policy.lookupsPerMinute')}
                hint={t('admin.policy.lookupsDefault')}
                error={fieldError(error, 'policy.lookups_per_minute')}
              >
                {(id, describedBy) => (
                  <input
                    id={id}
                    name="lookupsPerMinute"
                    type="number"
                    min="0"
                    step="1"
                    aria-describedby={describedBy}
                    value={policy.lookupsPerMinute === 0 ? '' : String(policy.lookupsPerMinute)}
                    onInput={(event) => set({ lookupsPerMinute: Math.max(0, Math.floor(Number(value(event)) || 0)) })}
                  />
                )}
              </Field>
            </div>
          </>
        )}
        <h4>{t('admin.rules.heading')}</h4>
        <p class="hint">{t('admin.rules.hint')}</p>
        {policy.releaseRules.length === 0 && <p>{t('admin.rules.none')}</p>}
        <ol class="rules">
          {policy.releaseRules.map((rule, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rules have no identity but their place (first match wins)
            <li key={index} class="rule" data-rule={index}>
              <RuleEditor
                rule={rule}
                index={index}
                error={fieldError(error, `policy.release_rules[${index}]`)}
                onChange={(change) => setRule(index, change)}
              />
              {admin && (
                <button
                  type="button"
                  class="plain"
                  onClick={() => set({ releaseRules: policy.releaseRules.filter((_, i) => i !== index) })}
                >
                  {t('admin.rules.remove', { number: index + 1 })}
                </button>
              )}
            </li>
          ))}
        </ol>
        {admin && (
          <button
            type="button"
            class="plain"
            onClick={() =>
              set({
                releaseRules: [
                  ...policy.releaseRules,
                  {
                    field: 'history.end_user',
                    action: ReleaseAction.RELEASE_ACTION_WITHHOLD,
                    eventTypes: [],
                    outcomes: [],
                    reason: '',
                  },
                ],
              })
            }
          >
            {t('admin.rules.add')}
          </button>
        )}
      </fieldset>
      <ErrorMessage error={error} />
      {pending && <PendingApproval approval={pending} />}
      {saved && <Done>{t('admin.policies.saved')}</Done>}
      {admin && (
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
            {t('admin.policies.save')}
          </button>
        </div>
      )}
    </form>
  );
}

function RuleEditor(props: {
  rule: ReleaseRule;
  index: number;
  error: string | undefined;
  onChange: (change: Partial<ReleaseRule>) => void;
}) {
  const { rule } = props;
  const fields = RELEASE_FIELDS.includes(rule.field) ? RELEASE_FIELDS : [rule.field, ...RELEASE_FIELDS];
  return (
    <fieldset class="rule-fields">
      <legend>{t('admin.rules.number', { number: props.index + 1 })}</legend>
      <Field label={t('admin.rules.field')} error={props.error}>
        {(id, describedBy) => (
          <select
            id={id}
            name={`rule-${props.index}-field`}
            aria-describedby={describedBy}
            value={rule.field}
            onChange={(event) => props.onChange({ field: value(event) })}
          >
            {fields.map((f) => (
              <option key={f} value={f}>
                {RELEASE_FIELDS.includes(f) ? `${t(`admin.releaseField.${f}`)} (${f})` : f}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t('admin.rules.action')}>
        {(id) => (
          <select
            id={id}
            name={`rule-${props.index}-action`}
            value={String(rule.action)}
            onChange={(event) => props.onChange({ action: Number(value(event)) as ReleaseAction })}
          >
            {ACTIONS.map((a) => (
              <option key={a} value={String(a)}>
                {t(`admin.releaseAction.${a}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      {rule.field.startsWith('history.') && (
        <Field label={t('admin.rules.events')} hint={t('admin.rules.eventsHint')}>
          {(id, describedBy) => (
            <select
              id={id}
              multiple
              size={4}
              aria-describedby={describedBy}
              onChange={(event) => props.onChange({ eventTypes: selected(event) as WeaponEventType[] })}
            >
              {EVENT_TYPES.map((e) => (
                <option key={e} value={String(e)} selected={rule.eventTypes.includes(e)}>
                  {t(`admin.eventType.${e}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <Field label={t('admin.rules.outcomes')} hint={t('admin.rules.outcomesHint')}>
        {(id, describedBy) => (
          <select
            id={id}
            multiple
            size={4}
            aria-describedby={describedBy}
            onChange={(event) => props.onChange({ outcomes: selected(event) as TraceOutcome[] })}
          >
            {OUTCOMES.map((o) => (
              <option key={o} value={String(o)} selected={rule.outcomes.includes(o)}>
                {t(`admin.outcome.${o}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t('admin.rules.reason')} hint={t('admin.rules.reasonHint')}>
        {(id, describedBy) => (
          <input
            id={id}
            name={`rule-${props.index}-reason`}
            type="text"
            maxLength={500}
            aria-describedby={describedBy}
            value={rule.reason}
            onInput={(event) => props.onChange({ reason: value(event) })}
          />
        )}
      </Field>
    </fieldset>
  );
}
