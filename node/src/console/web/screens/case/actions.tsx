import {
  type Case,
  type CaseResponse,
  CaseRole,
  CaseState,
  CasesDefinition,
  OnwardDisclosure,
  ReasonCode,
  TraceOutcome,
  type UseRestrictions,
} from '@tracenet/proto/browser';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, rpc } from '../../api.js';
import { ActionButton, ErrorMessage, Field } from '../../components.js';
import { participantName, t } from '../../i18n.js';
import { href, navigate } from '../../router.js';
import { onwardLabel, outcomeLabel, reasonLabel } from './labels.js';

type Step =
  | 'acknowledge'
  | 'clarify'
  | 'answer'
  | 'delay'
  | 'restrict'
  | 'refuse'
  | 'reply'
  | 'close'
  | 'withdraw'
  | 'send';

const S = CaseState;
const among = (state: CaseState, ...states: CaseState[]) => states.includes(state);

/** The steps the case's role and state allow (docs/protocol.md 12.3), in the order an officer needs them. */
export function allowedSteps(c: Case): Step[] {
  if (c.role === CaseRole.CASE_ROLE_REQUESTED) {
    if (c.state === S.CASE_STATE_RECEIVED) return ['acknowledge'];
    if (among(c.state, S.CASE_STATE_ACKNOWLEDGED, S.CASE_STATE_DELAYED))
      return ['answer', 'clarify', 'delay', 'restrict', 'refuse'];
    return [];
  }
  if (c.role === CaseRole.CASE_ROLE_REQUESTER) {
    const steps: Step[] = [];
    if (c.state === S.CASE_STATE_DRAFT) steps.push('send');
    if (c.state === S.CASE_STATE_CLARIFICATION) steps.push('reply');
    if (among(c.state, S.CASE_STATE_ANSWERED, S.CASE_STATE_RESTRICTED, S.CASE_STATE_REFUSED)) steps.push('close');
    if (
      among(
        c.state,
        S.CASE_STATE_DRAFT,
        S.CASE_STATE_SENT,
        S.CASE_STATE_ACKNOWLEDGED,
        S.CASE_STATE_DELAYED,
        S.CASE_STATE_CLARIFICATION,
      )
    )
      steps.push('withdraw');
    return steps;
  }
  return [];
}

/** `last_legal_record`, `answer.lastLegalRecord` → `lastlegalrecord`: a field path's last part, to compare. */
const norm = (path: string) =>
  (path.split('.').pop() ?? '')
    .replace(/\[\d+\]$/, '')
    .replace(/_/g, '')
    .toLowerCase();

/** The node's words about one field of a refused step, when the refusal names it: the rule's text, else field and rule. */
function fieldError(error: unknown, name: string, label = ''): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const violation = error.violations.find((v) => norm(v.field) === norm(name));
  const refused = violation ?? (error.field && norm(error.field) === norm(name) ? error : undefined);
  if (!refused) return undefined;
  const byRule = `error.${refused.rule}`;
  const text = t(byRule, { field: label || refused.field });
  const detail = t('case.form.fieldRefused', { field: refused.field, rule: refused.rule });
  return text === byRule ? detail : `${text} ${detail}`;
}

/** One step's form: its fields, the submit button, the node's refusal next to it, a held step announced. */
function StepForm(props: {
  step: Step;
  submit: () => Promise<CaseResponse>;
  onDone: (response: CaseResponse) => void;
  kind?: 'primary' | 'danger';
  error: unknown;
  setError: (error: unknown) => void;
  children?: ComponentChildren;
}) {
  const [busy, setBusy] = useState(false);
  const run = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    props.setError(undefined);
    try {
      props.onDone(await props.submit());
    } catch (caught) {
      props.setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class={`step-form step-${props.step}`} onSubmit={run} noValidate aria-labelledby={`step-${props.step}-title`}>
      {props.children}
      <ErrorMessage error={props.error} />
      <button type="submit" class={props.kind ?? 'primary'} disabled={busy} aria-busy={busy}>
        {t(`case.step.${props.step}.submit`)}
      </button>
    </form>
  );
}

/** A text field of a step form (`multiline`: a text area); the node's refusal of it shown under it. */
function TextField(props: {
  label: string;
  name: string;
  value: string;
  set: (v: string) => void;
  error: unknown;
  hint?: string | undefined;
  multiline?: boolean;
  type?: 'text' | 'number' | 'date';
  list?: string;
  required?: boolean;
}) {
  const refused = fieldError(props.error, props.name, props.label);
  return (
    <Field label={props.label} hint={props.hint} error={refused}>
      {(id, describedBy) => {
        const control = {
          id,
          name: props.name,
          'aria-describedby': describedBy,
          'aria-required': props.required,
          'aria-invalid': refused ? true : undefined,
          value: props.value,
          onInput: (e: { currentTarget: { value: string } }) => props.set(e.currentTarget.value),
        };
        return props.multiline ? (
          <textarea {...control} />
        ) : (
          <input {...control} type={props.type ?? 'text'} list={props.list} />
        );
      }}
    </Field>
  );
}

const REASONS = [
  ReasonCode.REASON_CODE_ONGOING_CRIMINAL_INVESTIGATION,
  ReasonCode.REASON_CODE_LEGAL_CONFIDENTIALITY,
  ReasonCode.REASON_CODE_NATIONAL_SECURITY,
  ReasonCode.REASON_CODE_OTHER,
];

function ReasonSelect(props: { value: ReasonCode; set: (v: ReasonCode) => void; error: unknown }) {
  return (
    <Field label={t('case.reasonLabel')} error={fieldError(props.error, 'reason')}>
      {(id, describedBy) => (
        <select
          id={id}
          name="reason"
          aria-describedby={describedBy}
          aria-required
          value={String(props.value)}
          onChange={(e) => props.set(Number(e.currentTarget.value) as ReasonCode)}
        >
          <option value={String(ReasonCode.REASON_CODE_UNSPECIFIED)}>{t('case.form.chooseReason')}</option>
          {REASONS.map((r) => (
            <option key={r} value={String(r)}>
              {reasonLabel(r)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Reason code and explanation: what a delay, restriction and refusal must carry (docs/protocol.md 12.2). */
function useReason() {
  const [reason, setReason] = useState<ReasonCode>(ReasonCode.REASON_CODE_UNSPECIFIED);
  const [explanation, setExplanation] = useState('');
  return { reason, setReason, explanation, setExplanation };
}

const ONWARD = [
  OnwardDisclosure.ONWARD_DISCLOSURE_NONE,
  OnwardDisclosure.ONWARD_DISCLOSURE_WITH_CONSENT,
  OnwardDisclosure.ONWARD_DISCLOSURE_LISTED,
];

/** The answer's own restrictions (they may only tighten the policy's); undefined keeps the policy's. */
function RestrictionFields(props: { value: RestrictionDraft; set: (v: RestrictionDraft) => void; error: unknown }) {
  const v = props.value;
  return (
    <fieldset class="restriction-fields">
      <legend>{t('case.form.restrictions')}</legend>
      <p class="hint">{t('case.form.restrictionsHint')}</p>
      <Field
        label={t('case.form.onward')}
        hint={t('case.form.onwardHint')}
        error={fieldError(props.error, 'onward_disclosure')}
      >
        {(id, describedBy) => (
          <select
            id={id}
            name="onwardDisclosure"
            aria-describedby={describedBy}
            value={String(v.onward)}
            onChange={(e) => props.set({ ...v, onward: Number(e.currentTarget.value) as OnwardDisclosure })}
          >
            <option value={String(OnwardDisclosure.ONWARD_DISCLOSURE_UNSPECIFIED)}>{t('case.form.keepPolicy')}</option>
            {ONWARD.map((o) => (
              <option key={o} value={String(o)}>
                {onwardLabel(o)}
              </option>
            ))}
          </select>
        )}
      </Field>
      {v.onward === OnwardDisclosure.ONWARD_DISCLOSURE_LISTED && (
        <TextField
          label={t('case.form.listed')}
          hint={t('case.form.listedHint')}
          name="listed_participants"
          value={v.listed}
          set={(listed) => props.set({ ...v, listed })}
          error={props.error}
        />
      )}
      <TextField
        label={t('case.form.retention')}
        hint={t('case.form.retentionHint')}
        name="retention_days"
        type="number"
        value={v.retention}
        set={(retention) => props.set({ ...v, retention })}
        error={props.error}
      />
      <TextField
        label={t('case.form.purpose')}
        name="purpose"
        value={v.purpose}
        set={(purpose) => props.set({ ...v, purpose })}
        error={props.error}
      />
    </fieldset>
  );
}

interface RestrictionDraft {
  onward: OnwardDisclosure;
  listed: string;
  retention: string;
  purpose: string;
}
const NO_RESTRICTION: RestrictionDraft = {
  onward: OnwardDisclosure.ONWARD_DISCLOSURE_UNSPECIFIED,
  listed: '',
  retention: '',
  purpose: '',
};

function restrictionsOf(d: RestrictionDraft): Partial<UseRestrictions> | undefined {
  if (d.onward === OnwardDisclosure.ONWARD_DISCLOSURE_UNSPECIFIED && !d.retention.trim() && !d.purpose.trim())
    return undefined;
  return {
    onwardDisclosure: d.onward,
    listedParticipants: d.listed
      .split(/[\s,;]+/)
      .map((p) => p.trim())
      .filter(Boolean),
    retentionDays: Number(d.retention.trim() || 0),
    purpose: d.purpose,
  };
}

const OUTCOMES = [
  TraceOutcome.TRACE_OUTCOME_TRACED,
  TraceOutcome.TRACE_OUTCOME_REFERRED,
  TraceOutcome.TRACE_OUTCOME_NO_RECORD,
  TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION,
];

/** The fields of an answer, per outcome: traced needs the last legal record, referred the participant and basis. */
function AnswerFields(props: { value: AnswerDraft; set: (v: AnswerDraft) => void; error: unknown; peers: string[] }) {
  const v = props.value;
  return (
    <>
      <fieldset>
        <legend>{t('case.form.outcome')}</legend>
        {OUTCOMES.map((o) => (
          <label key={o} class="radio">
            <input
              type="radio"
              name="outcome"
              value={String(o)}
              checked={v.outcome === o}
              onChange={() => props.set({ ...v, outcome: o })}
            />{' '}
            {outcomeLabel(o)}
          </label>
        ))}
        {fieldError(props.error, 'outcome') && <p class="field-error">{fieldError(props.error, 'outcome')}</p>}
      </fieldset>
      {v.outcome === TraceOutcome.TRACE_OUTCOME_TRACED && (
        <>
          <TextField
            multiline
            label={t('case.answer.lastLegalRecord')}
            hint={t('case.form.lastLegalRecordHint')}
            name="last_legal_record"
            required
            value={v.lastLegalRecord}
            set={(lastLegalRecord) => props.set({ ...v, lastLegalRecord })}
            error={props.error}
          />
          <TextField
            multiline
            label={t('case.answer.pointOfDiversion')}
            hint={t('case.form.pointOfDiversionHint')}
            name="point_of_diversion"
            value={v.pointOfDiversion}
            set={(pointOfDiversion) => props.set({ ...v, pointOfDiversion })}
            error={props.error}
          />
        </>
      )}
      {v.outcome === TraceOutcome.TRACE_OUTCOME_REFERRED && (
        <>
          <TextField
            label={t('case.form.referralParticipant')}
            hint={t('case.form.referralParticipantHint')}
            name="participant"
            list="case-peers"
            required
            value={v.participant}
            set={(participant) => props.set({ ...v, participant: participant.toUpperCase() })}
            error={props.error}
          />
          <datalist id="case-peers">
            {props.peers.map((p) => (
              <option key={p} value={p} label={participantName(p)} />
            ))}
          </datalist>
          <TextField
            multiline
            label={t('case.form.referralBasis')}
            hint={t('case.form.referralBasisHint')}
            name="basis"
            required
            value={v.basis}
            set={(basis) => props.set({ ...v, basis })}
            error={props.error}
          />
        </>
      )}
      <TextField
        multiline
        label={t('case.answer.details')}
        hint={t(
          v.outcome === TraceOutcome.TRACE_OUTCOME_INSUFFICIENT_INFORMATION
            ? 'case.form.detailsInsufficientHint'
            : 'case.form.detailsHint',
        )}
        name="details"
        value={v.details}
        set={(details) => props.set({ ...v, details })}
        error={props.error}
      />
    </>
  );
}

interface AnswerDraft {
  outcome: TraceOutcome;
  lastLegalRecord: string;
  pointOfDiversion: string;
  participant: string;
  basis: string;
  details: string;
}
const NO_ANSWER: AnswerDraft = {
  outcome: TraceOutcome.TRACE_OUTCOME_UNSPECIFIED,
  lastLegalRecord: '',
  pointOfDiversion: '',
  participant: '',
  basis: '',
  details: '',
};

function answerOf(d: AnswerDraft) {
  return {
    outcome: d.outcome,
    lastLegalRecord: d.outcome === TraceOutcome.TRACE_OUTCOME_TRACED ? d.lastLegalRecord : '',
    pointOfDiversion: d.outcome === TraceOutcome.TRACE_OUTCOME_TRACED ? d.pointOfDiversion : '',
    referral:
      d.outcome === TraceOutcome.TRACE_OUTCOME_REFERRED
        ? { participant: d.participant.trim(), basis: d.basis }
        : undefined,
    details: d.details,
  };
}

/** The form of one step; its own state, so that switching steps keeps nothing half-filled in another. */
function StepBody(props: { step: Step; c: Case; onDone: (r: CaseResponse) => void; peers: string[] }) {
  const { step, c } = props;
  const caseId = c.caseId;
  const [error, setError] = useState<unknown>(undefined);
  const [text, setText] = useState('');
  const [date, setDate] = useState('');
  const [useful, setUseful] = useState(true);
  const reason = useReason();
  const [answer, setAnswer] = useState<AnswerDraft>(NO_ANSWER);
  const [restriction, setRestriction] = useState<RestrictionDraft>(NO_RESTRICTION);
  const [partial, setPartial] = useState(false);
  const common = { step, onDone: props.onDone, error, setError };
  switch (step) {
    case 'acknowledge':
      return (
        <StepForm
          {...common}
          submit={() => rpc(CasesDefinition, 'acknowledgeCase', { caseId, reference: text.trim() })}
        >
          <TextField
            label={t('case.form.reference')}
            hint={t('case.form.referenceHint')}
            name="reference"
            value={text}
            set={setText}
            error={error}
          />
        </StepForm>
      );
    case 'clarify':
      return (
        <StepForm {...common} submit={() => rpc(CasesDefinition, 'requestClarification', { caseId, question: text })}>
          <TextField
            multiline
            label={t('case.form.question')}
            name="question"
            required
            value={text}
            set={setText}
            error={error}
          />
        </StepForm>
      );
    case 'reply':
      return (
        <StepForm {...common} submit={() => rpc(CasesDefinition, 'replyClarification', { caseId, answer: text })}>
          <TextField
            multiline
            label={t('case.form.reply')}
            name="answer"
            required
            value={text}
            set={setText}
            error={error}
          />
        </StepForm>
      );
    case 'answer':
      return (
        <StepForm
          {...common}
          submit={() =>
            rpc(CasesDefinition, 'answerCase', {
              caseId,
              ...answerOf(answer),
              restrictions: restrictionsOf(restriction),
            })
          }
        >
          <AnswerFields value={answer} set={setAnswer} error={error} peers={props.peers} />
          <RestrictionFields value={restriction} set={setRestriction} error={error} />
        </StepForm>
      );
    case 'delay':
      return (
        <StepForm
          {...common}
          submit={() =>
            rpc(CasesDefinition, 'delayCase', {
              caseId,
              reason: reason.reason,
              explanation: reason.explanation,
              expectedBy: date,
            })
          }
        >
          <ReasonSelect value={reason.reason} set={reason.setReason} error={error} />
          <TextField
            multiline
            label={t('case.explanation')}
            name="explanation"
            required
            value={reason.explanation}
            set={reason.setExplanation}
            error={error}
          />
          <TextField
            label={t('case.delay.expectedBy')}
            hint={t('case.form.expectedByHint')}
            name="expected_by"
            type="date"
            value={date}
            set={setDate}
            error={error}
          />
        </StepForm>
      );
    case 'restrict':
      return (
        <StepForm
          {...common}
          submit={() =>
            rpc(CasesDefinition, 'restrictCase', {
              caseId,
              reason: reason.reason,
              explanation: reason.explanation,
              partialAnswer: partial
                ? { caseId, ...answerOf(answer), restrictions: restrictionsOf(restriction) }
                : undefined,
            })
          }
        >
          <ReasonSelect value={reason.reason} set={reason.setReason} error={error} />
          <TextField
            multiline
            label={t('case.explanation')}
            hint={t('case.form.restrictExplanationHint')}
            name="explanation"
            required
            value={reason.explanation}
            set={reason.setExplanation}
            error={error}
          />
          <div class="field checkbox">
            <label>
              <input type="checkbox" checked={partial} onChange={(e) => setPartial(e.currentTarget.checked)} />{' '}
              {t('case.form.partial')}
            </label>
          </div>
          {partial && (
            <>
              <AnswerFields value={answer} set={setAnswer} error={error} peers={props.peers} />
              <RestrictionFields value={restriction} set={setRestriction} error={error} />
            </>
          )}
        </StepForm>
      );
    case 'refuse':
      return (
        <StepForm
          {...common}
          kind="danger"
          submit={() =>
            rpc(CasesDefinition, 'refuseCase', { caseId, reason: reason.reason, explanation: reason.explanation })
          }
        >
          <ReasonSelect value={reason.reason} set={reason.setReason} error={error} />
          <TextField
            multiline
            label={t('case.explanation')}
            name="explanation"
            required
            value={reason.explanation}
            set={reason.setExplanation}
            error={error}
          />
        </StepForm>
      );
    case 'close':
      return (
        <StepForm {...common} submit={() => rpc(CasesDefinition, 'closeCase', { caseId, useful, feedback: text })}>
          <div class="field checkbox">
            <label>
              <input
                type="checkbox"
                name="useful"
                checked={useful}
                onChange={(e) => setUseful(e.currentTarget.checked)}
              />{' '}
              {t('case.form.useful')}
            </label>
          </div>
          <TextField
            multiline
            label={t('case.form.feedback')}
            name="feedback"
            value={text}
            set={setText}
            error={error}
          />
        </StepForm>
      );
    case 'withdraw':
      return (
        <StepForm
          {...common}
          kind="danger"
          submit={() => rpc(CasesDefinition, 'withdrawCase', { caseId, reason: text })}
        >
          <TextField
            multiline
            label={t('case.form.withdrawReason')}
            name="reason"
            value={text}
            set={setText}
            error={error}
          />
        </StepForm>
      );
    case 'send':
      return <StepForm {...common} submit={() => rpc(CasesDefinition, 'sendCase', { caseId })} />;
  }
}

/**
 * The steps an officer can take on the case now, each a form with what the protocol requires.
 * Only for officers (supervisors approve, auditors read); only the steps the case's state allows.
 */
export function Actions(props: {
  c: Case;
  peers: string[];
  onDone: (response: CaseResponse) => void;
  /** An answer, restriction or refusal waits for approval: those steps are not offered again. */
  held: boolean;
}) {
  const steps = allowedSteps(props.c).filter(
    (step) => !props.held || !(['answer', 'restrict', 'refuse'] as Step[]).includes(step),
  );
  const [open, setOpen] = useState<Step | undefined>(undefined);
  if (steps.length === 0) return null;
  // A lone constructive step opens at once; a lone withdrawal or closure waits for a click.
  const lone = steps.length === 1 ? steps[0] : undefined;
  const single = lone === 'acknowledge' || lone === 'reply' || lone === 'send' ? lone : undefined;
  const current = single ?? open;
  return (
    <section class="panel actions" aria-labelledby="actions-title">
      <h2 id="actions-title">{t('case.actions.title')}</h2>
      {!single && (
        <div class="step-choices">
          {steps.map((step) => (
            <button
              key={step}
              type="button"
              class={current === step ? 'primary' : 'plain'}
              aria-expanded={current === step}
              aria-controls="step-panel"
              onClick={() => setOpen(current === step ? undefined : step)}
            >
              {t(`case.step.${step}.open`)}
            </button>
          ))}
        </div>
      )}
      {current && (
        <div id="step-panel" class="step-panel">
          <h3 id={`step-${current}-title`}>
            {t(`case.step.${current}.title`, { peer: participantName(props.c.peer) })}
          </h3>
          <p class="hint">{t(`case.step.${current}.hint`, { peer: participantName(props.c.peer) })}</p>
          <StepBody
            key={current}
            step={current}
            c={props.c}
            peers={props.peers}
            onDone={(response) => {
              setOpen(undefined);
              props.onDone(response);
            }}
          />
        </div>
      )}
    </section>
  );
}

/** Follow-on in one click: opens and sends the request to the participant the referral names, then shows the new case. */
export function FollowOn(props: { c: Case; live: boolean }) {
  const answer = props.c.answer ?? props.c.restriction?.partialAnswer;
  const next = answer?.referral?.participant ?? '';
  const allowed =
    props.c.role === CaseRole.CASE_ROLE_REQUESTER &&
    answer?.outcome === TraceOutcome.TRACE_OUTCOME_REFERRED &&
    among(props.c.state, S.CASE_STATE_ANSWERED, S.CASE_STATE_RESTRICTED, S.CASE_STATE_CLOSED);
  if (!allowed || next === '') return null;
  if (props.live)
    return (
      <p class="follow-on">
        {t('case.followOn.done')}{' '}
        {props.c.nextCaseIds.map((id) => (
          <a key={id} href={href('cases', id)}>
            {id}
          </a>
        ))}
      </p>
    );
  return (
    <div class="follow-on">
      <ActionButton
        kind="primary"
        onAction={async () => {
          const response = await rpc(CasesDefinition, 'followOn', { caseId: props.c.caseId, send: true });
          if (response.case) navigate(href('cases', response.case.caseId));
        }}
      >
        {t('case.followOn.button', { participant: participantName(next) })}
      </ActionButton>
    </div>
  );
}
