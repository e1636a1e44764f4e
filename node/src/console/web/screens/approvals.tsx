import {
  type Approval,
  type ApprovalActor,
  ApprovalPolicy,
  ApprovalState,
  ApprovalStep,
  type Case,
  CasesDefinition,
} from '@tracenet/proto/browser';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, currentSession, onNodeEvent, rpc } from '../api.js';
import { ErrorMessage, errorText, Field, Pager, Screen, Show, Tabs, Time, useLoad } from '../components.js';
import { formatNumber, participantName, t } from '../i18n.js';
import { href, type Route } from '../router.js';
import { HeldRequest } from './approvals/held.js';
import { usePaged } from '../paged.js';

type Tab = 'queue' | 'decided' | 'policy';
const TABS: readonly Tab[] = ['queue', 'decided', 'policy'];
const PAGE = 50;

/** "answer", "consent_decision": the step's name in catalogue keys. */
function stepKey(step: ApprovalStep): string {
  return (ApprovalStep[step] ?? 'APPROVAL_STEP_UNSPECIFIED').replace('APPROVAL_STEP_', '').toLowerCase();
}

function stateKey(state: ApprovalState): string {
  return state === ApprovalState.APPROVAL_STATE_APPROVED
    ? 'approved'
    : state === ApprovalState.APPROVAL_STATE_REJECTED
      ? 'rejected'
      : 'pending';
}

/** A value set in a sentence of any direction without reordering it (Unicode first-strong isolate). */
function isolate(value: string): string {
  return `\u2068${value}\u2069`;
}

/** Who drafted or decided a step, as an officer reads it. */
function actorText(actor: ApprovalActor | undefined): string {
  if (!actor) return '';
  const kind = ['officer', 'client', 'node', 'bootstrap'].includes(actor.kind) ? actor.kind : 'other';
  return t(`approvals.actor.${kind}`, { id: isolate(actor.id) });
}

/** The node's longest note or reason (node/src/workflow/approvals.ts). */
const MAX_NOTE = 2000;

/** The officer's words for a refused note or reason, by the rule the node names. */
function noteRefusal(error: ApiError): string {
  if (error.rule === 'max_length') return t('approvals.decide.tooLong', { max: formatNumber(MAX_NOTE) });
  if (error.rule === 'control_character') return t('approvals.decide.controlCharacter');
  return errorText(error);
}

function isMine(actor: ApprovalActor | undefined): boolean {
  const who = currentSession().who;
  return actor?.kind === 'officer' && actor.id === who?.id;
}

function StateBadge({ state }: { state: ApprovalState }) {
  const key = stateKey(state);
  const kind = key === 'approved' ? ' ok' : key === 'rejected' ? ' danger' : '';
  return <span class={`badge${kind}`}>{t(`approvals.state.${key}`)}</span>;
}

/** The case or participant a step concerns: a link to the case with its peer's country. */
function Subject({ approval, peer }: { approval: Approval; peer?: string | undefined }) {
  if (approval.caseId === '') return <span>{participantName(approval.participantId)}</span>;
  return (
    <>
      <a href={href('cases', approval.caseId)}>{approval.caseId}</a>
      {peer && <span class="approvals-peer">{participantName(peer)}</span>}
    </>
  );
}

/** The list of approvals: what each would do, why it waits, who asked and when, where it stands. */
function ApprovalTable(props: {
  approvals: readonly Approval[];
  peers: ReadonlyMap<string, string>;
  selected: string;
  onSelect: (approval: Approval) => void;
  caption: string;
}) {
  return (
    <div class="approvals-table">
      <table>
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('approvals.col.step')}</th>
            <th scope="col">{t('approvals.col.subject')}</th>
            <th scope="col">{t('approvals.col.summary')}</th>
            <th scope="col">{t('approvals.col.drafted')}</th>
            <th scope="col">{t('approvals.col.state')}</th>
            <th scope="col">
              <span class="visually-hidden">{t('approvals.col.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.approvals.map((a) => (
            <tr key={a.approvalId} class={props.selected === a.approvalId ? 'selected' : undefined}>
              <td>
                <strong>{t(`approvals.step.${stepKey(a.step)}`)}</strong>
                <div class="mono approvals-id">{a.approvalId}</div>
              </td>
              <td>
                <Subject approval={a} peer={props.peers.get(a.caseId)} />
              </td>
              <td>
                <span lang="en" dir="auto">
                  {a.summary}
                </span>
                {a.reasons.length > 0 && (
                  <ul class="approvals-reasons" aria-label={t('approvals.reasons')}>
                    {a.reasons.map((r) => (
                      <li key={r}>
                        <span lang="en" dir="auto">
                          {r}
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td>
                {actorText(a.drafter)}
                {isMine(a.drafter) && <span class="badge approvals-mine">{t('approvals.mine')}</span>}
                <div>
                  <Time ms={a.draftedAtMs} />
                </div>
              </td>
              <td>
                <StateBadge state={a.state} />
                {a.state !== ApprovalState.APPROVAL_STATE_PENDING && (
                  <div class="approvals-decision">
                    {t('approvals.decidedBy', { who: actorText(a.approver) })} <Time ms={a.decidedAtMs} />
                    {a.note && (
                      <div class="approvals-note">
                        <bdi>{a.note}</bdi>
                      </div>
                    )}
                  </div>
                )}
              </td>
              <td>
                <button
                  type="button"
                  onClick={() => props.onSelect(a)}
                  aria-expanded={props.selected === a.approvalId}
                  aria-controls="approval-review"
                >
                  {t('approvals.review')}
                  <span class="visually-hidden"> {a.approvalId}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The case a held step belongs to: what was asked, of whom, and its latest steps. */
function HeldCase({ caseId }: { caseId: string }) {
  const [loaded] = useLoad(() => rpc(CasesDefinition, 'getCase', { caseId }), [caseId]);
  return (
    <Show loaded={loaded}>
      {({ case: c }) => {
        if (!c) return null;
        const marking = c.request?.weapon?.markings;
        const timeline = c.timeline.slice(-5).reverse();
        return (
          <section class="approvals-case" aria-labelledby="approval-case-title">
            <h3 id="approval-case-title">{t('approvals.case.title', { id: c.caseId })}</h3>
            <dl class="approvals-facts">
              <dt>{t('approvals.case.peer')}</dt>
              <dd>{participantName(c.peer)}</dd>
              <dt>{t('approvals.case.reference')}</dt>
              <dd class="mono">{c.request?.caseReference || c.localReference}</dd>
              {marking && (
                <>
                  <dt>{t('approvals.case.weapon')}</dt>
                  <dd>
                    {t('approvals.case.marking', {
                      manufacturer: isolate(marking.manufacturer),
                      model: isolate(marking.model),
                      serial: isolate(marking.serialNumber),
                      calibre: isolate(marking.calibre),
                    })}
                  </dd>
                </>
              )}
            </dl>
            <h4>{t('approvals.case.timeline')}</h4>
            <ol class="approvals-timeline">
              {timeline.map((entry) => (
                <li key={`${entry.atMs}:${entry.summary}`}>
                  <Time ms={entry.atMs} />{' '}
                  <span lang="en" dir="auto">
                    {entry.summary}
                  </span>
                </li>
              ))}
            </ol>
            <p>
              <a href={href('cases', c.caseId)}>{t('approvals.case.open')}</a>
            </p>
          </section>
        );
      }}
    </Show>
  );
}

/** Approve (with an optional note) or reject (with a reason) one waiting step. */
function Decide(props: {
  approval: Approval;
  onDecided: (response: { approval?: Approval | undefined; case?: Case | undefined }) => void;
}) {
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [missingReason, setMissingReason] = useState(false);
  const [last, setLast] = useState<'approve' | 'reject'>('approve');
  useEffect(() => {
    setNote('');
    setReason('');
    setError(undefined);
    setMissingReason(false);
  }, [props.approval.approvalId]);
  const run = async (what: 'approve' | 'reject') => {
    setError(undefined);
    setLast(what);
    if (what === 'reject' && reason.trim() === '') {
      setMissingReason(true);
      return;
    }
    setMissingReason(false);
    setBusy(true);
    try {
      const response =
        what === 'approve'
          ? await rpc(CasesDefinition, 'approveStep', { approvalId: props.approval.approvalId, note })
          : await rpc(CasesDefinition, 'rejectStep', { approvalId: props.approval.approvalId, reason });
      props.onDecided(response);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  // The node names the field it refused: `note` for the approver's note and the rejection's reason alike.
  const byField = (action: 'approve' | 'reject') =>
    last === action && error instanceof ApiError && error.field === 'note' ? noteRefusal(error) : undefined;
  const general = error instanceof ApiError && error.field === 'note' ? undefined : error;
  return (
    <form class="approvals-decide" onSubmit={(event) => event.preventDefault()}>
      <h3>{t('approvals.decide.title')}</h3>
      {isMine(props.approval.drafter) && <p class="notice">{t('approvals.decide.ownStep')}</p>}
      <Field label={t('approvals.decide.note')} hint={t('approvals.decide.noteHint')} error={byField('approve')}>
        {(id, describedBy) => (
          <textarea
            id={id}
            name="note"
            aria-describedby={describedBy}
            aria-invalid={byField('approve') ? true : undefined}
            value={note}
            onInput={(event) => setNote((event.target as HTMLTextAreaElement).value)}
          />
        )}
      </Field>
      <div class="approvals-buttons">
        <button type="button" class="primary" disabled={busy} aria-busy={busy} onClick={() => void run('approve')}>
          {t('approvals.decide.approve')}
        </button>
      </div>
      <Field
        label={t('approvals.decide.reason')}
        hint={t('approvals.decide.reasonHint')}
        error={missingReason ? t('approvals.decide.reasonMissing') : byField('reject')}
      >
        {(id, describedBy) => (
          <textarea
            id={id}
            name="reason"
            aria-describedby={describedBy}
            aria-invalid={missingReason || byField('reject') ? true : undefined}
            value={reason}
            onInput={(event) => setReason((event.target as HTMLTextAreaElement).value)}
          />
        )}
      </Field>
      <div class="approvals-buttons">
        <button type="button" class="danger" disabled={busy} aria-busy={busy} onClick={() => void run('reject')}>
          {t('approvals.decide.reject')}
        </button>
      </div>
      <ErrorMessage error={general} />
      {/* A refusal by field shows under its field; screen readers hear it at once. */}
      <div role="alert" class="visually-hidden">
        {byField('approve') ?? byField('reject') ?? (missingReason ? t('approvals.decide.reasonMissing') : '')}
      </div>
    </form>
  );
}

/** One approval in full: what it would carry out, why it waits, the case it belongs to, and the decision. */
function Review(props: { approval: Approval; canDecide: boolean; onDecided: () => void; onClose: () => void }) {
  const a = props.approval;
  const [outcome, setOutcome] = useState<{ approval?: Approval | undefined; case?: Case | undefined } | undefined>(
    undefined,
  );
  useEffect(() => {
    setOutcome(undefined);
    document.getElementById('approval-review-title')?.focus();
  }, [a.approvalId]);
  const decided = outcome?.approval;
  return (
    <section id="approval-review" class="approvals-review" aria-labelledby="approval-review-title">
      <div class="approvals-review-head">
        <h2 id="approval-review-title" tabIndex={-1}>
          {t('approvals.reviewTitle', { step: t(`approvals.step.${stepKey(a.step)}`), id: a.approvalId })}
        </h2>
        <button type="button" class="plain" onClick={props.onClose}>
          {t('approvals.close')}
        </button>
      </div>
      <div role="status">
        {decided && (
          <p class={decided.state === ApprovalState.APPROVAL_STATE_APPROVED ? 'notice ok' : 'notice'}>
            {decided.state === ApprovalState.APPROVAL_STATE_APPROVED
              ? outcome?.case
                ? t('approvals.done.approvedCase', {
                    id: decided.approvalId,
                    peer: participantName(outcome.case.peer),
                  })
                : t('approvals.done.approved', { id: decided.approvalId })
              : t('approvals.done.rejected', { id: decided.approvalId })}
          </p>
        )}
      </div>
      <h3>{t('approvals.held.title')}</h3>
      <p class="approvals-summary" lang="en" dir="auto">
        {a.summary}
      </p>
      <dl class="approvals-facts">
        <dt>{t('approvals.col.step')}</dt>
        <dd>{t(`approvals.step.${stepKey(a.step)}`)}</dd>
        {a.caseId === '' && a.participantId && (
          <>
            <dt>{t('approvals.participant')}</dt>
            <dd>{participantName(a.participantId)}</dd>
          </>
        )}
        <dt>{t('approvals.reasons')}</dt>
        <dd>
          <ul class="approvals-reasons">
            {a.reasons.map((r) => (
              <li key={r}>
                <span lang="en" dir="auto">
                  {r}
                </span>
              </li>
            ))}
          </ul>
        </dd>
        <dt>{t('approvals.draftedBy')}</dt>
        <dd>
          <span>{actorText(a.drafter)}</span> · <Time ms={a.draftedAtMs} />
        </dd>
        <dt>{t('approvals.col.state')}</dt>
        <dd>
          <StateBadge state={decided?.state ?? a.state} />
        </dd>
        {(decided ?? a).state !== ApprovalState.APPROVAL_STATE_PENDING && (
          <>
            <dt>{t('approvals.decision')}</dt>
            <dd>
              <span>{actorText((decided ?? a).approver)}</span> · <Time ms={(decided ?? a).decidedAtMs} />
              {(decided ?? a).note && (
                <div class="approvals-note">
                  <bdi>{(decided ?? a).note}</bdi>
                </div>
              )}
            </dd>
          </>
        )}
      </dl>
      <p class="hint">{t('approvals.held.hint')}</p>
      <HeldRequest approval={a} />
      {a.caseId !== '' && <HeldCase caseId={a.caseId} key={`${a.caseId}:${outcome ? 1 : 0}`} />}
      {props.canDecide && !decided && a.state === ApprovalState.APPROVAL_STATE_PENDING && (
        <Decide
          approval={a}
          onDecided={(response) => {
            setOutcome(response);
            props.onDecided();
          }}
        />
      )}
    </section>
  );
}

/** Filters of the decided approvals. */
interface HistoryFilter {
  state: '' | 'approved' | 'rejected';
  step: string;
  mine: boolean;
  caseId: string;
}

function HistoryFilters(props: { value: HistoryFilter; onChange: (value: HistoryFilter) => void }) {
  const [draft, setDraft] = useState(props.value);
  const set = (patch: Partial<HistoryFilter>) => setDraft({ ...draft, ...patch });
  return (
    <form
      class="filters"
      aria-label={t('approvals.filters')}
      onSubmit={(event) => {
        event.preventDefault();
        props.onChange(draft);
      }}
    >
      <Field label={t('approvals.filter.state')}>
        {(id) => (
          <select
            id={id}
            name="state"
            value={draft.state}
            onChange={(event) => set({ state: (event.target as HTMLSelectElement).value as HistoryFilter['state'] })}
          >
            <option value="">{t('approvals.filter.any')}</option>
            <option value="approved">{t('approvals.state.approved')}</option>
            <option value="rejected">{t('approvals.state.rejected')}</option>
          </select>
        )}
      </Field>
      <Field label={t('approvals.filter.step')}>
        {(id) => (
          <select
            id={id}
            name="step"
            value={draft.step}
            onChange={(event) => set({ step: (event.target as HTMLSelectElement).value })}
          >
            <option value="">{t('approvals.filter.any')}</option>
            {STEPS.map((step) => (
              <option key={step} value={String(step)}>
                {t(`approvals.step.${stepKey(step)}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t('approvals.filter.case')}>
        {(id) => (
          <input
            id={id}
            name="caseId"
            value={draft.caseId}
            onInput={(event) => set({ caseId: (event.target as HTMLInputElement).value.trim() })}
          />
        )}
      </Field>
      <div class="field approvals-check">
        <label>
          <input
            type="checkbox"
            name="mine"
            checked={draft.mine}
            onChange={(event) => set({ mine: (event.target as HTMLInputElement).checked })}
          />{' '}
          {t('approvals.filter.mine')}
        </label>
      </div>
      <button type="submit">{t('approvals.filter.apply')}</button>
    </form>
  );
}

const STEPS: readonly ApprovalStep[] = [
  ApprovalStep.APPROVAL_STEP_ANSWER,
  ApprovalStep.APPROVAL_STEP_RESTRICTION,
  ApprovalStep.APPROVAL_STEP_REFUSAL,
  ApprovalStep.APPROVAL_STEP_SHARE,
  ApprovalStep.APPROVAL_STEP_CONSENT_DECISION,
  ApprovalStep.APPROVAL_STEP_PEER_POLICY,
  ApprovalStep.APPROVAL_STEP_ADD_PEER,
  ApprovalStep.APPROVAL_STEP_REMOVE_PEER,
];

/** The peers (countries) of the cases in a list, loaded once per case. */
function usePeers(approvals: readonly Approval[]): ReadonlyMap<string, string> {
  const [peers, setPeers] = useState<ReadonlyMap<string, string>>(new Map());
  const wanted = [...new Set(approvals.map((a) => a.caseId).filter((id) => id !== '' && !peers.has(id)))];
  const key = wanted.join(',');
  useEffect(() => {
    if (wanted.length === 0) return;
    let current = true;
    void Promise.all(
      wanted.map((caseId) =>
        rpc(CasesDefinition, 'getCase', { caseId }).then(
          (r) => [caseId, r.case?.peer ?? ''] as const,
          () => [caseId, ''] as const,
        ),
      ),
    ).then((found) => {
      if (current) setPeers((before) => new Map([...before, ...found]));
    });
    return () => {
      current = false;
    };
    // biome-ignore lint: keyed on the case ids not yet known
  }, [key]);
  return peers;
}

/** The steps waiting (queue) or decided (history), with the review of the one selected. */
function ApprovalList(props: { tab: 'queue' | 'decided'; canDecide: boolean; officerOnly: boolean }) {
  const [filter, setFilter] = useState<HistoryFilter>({ state: '', step: '', mine: props.officerOnly, caseId: '' });
  const [selectedId, setSelectedId] = useState('');
  const listing = usePaged(
    async (cursor) => {
      const page = await rpc(CasesDefinition, 'listApprovals', {
        all: props.tab === 'decided',
        caseId: props.tab === 'decided' ? filter.caseId : '',
        limit: PAGE,
        cursor,
      });
      return { items: page.approvals, next: page.nextCursor };
    },
    [props.tab, filter.caseId],
  );
  useEffect(() => onNodeEvent(() => listing.reload()), [props.tab, filter.caseId]);
  const shown = listing.items.filter((a) => {
    if (props.tab === 'queue')
      return a.state === ApprovalState.APPROVAL_STATE_PENDING && (!filter.mine || isMine(a.drafter));
    if (a.state === ApprovalState.APPROVAL_STATE_PENDING) return false;
    if (filter.state !== '' && stateKey(a.state) !== filter.state) return false;
    if (filter.step !== '' && String(a.step) !== filter.step) return false;
    return !filter.mine || isMine(a.drafter);
  });
  const peers = usePeers(shown);
  // The review stays open after its step is decided and leaves the queue: the decision's outcome shows there.
  const [picked, setPicked] = useState<Approval | undefined>(undefined);
  const selected =
    listing.items.find((a) => a.approvalId === selectedId) ?? (picked?.approvalId === selectedId ? picked : undefined);
  return (
    <>
      {props.tab === 'decided' && <HistoryFilters value={filter} onChange={setFilter} />}
      {props.tab === 'queue' && props.officerOnly && (
        <div class="field approvals-check">
          <label>
            <input
              type="checkbox"
              name="mine"
              checked={filter.mine}
              onChange={(event) => setFilter({ ...filter, mine: (event.target as HTMLInputElement).checked })}
            />{' '}
            {t('approvals.filter.mine')}
          </label>
        </div>
      )}
      {props.tab === 'queue' && !props.canDecide && <p class="hint">{t('approvals.readOnly')}</p>}
      <ErrorMessage error={listing.error} />
      <div role="status" class="approvals-count">
        {!listing.loading || listing.items.length > 0
          ? props.tab === 'queue'
            ? t('approvals.pendingCount', { count: shown.length, shown: formatNumber(shown.length) })
            : t('approvals.decidedCount', { count: shown.length, shown: formatNumber(shown.length) })
          : t('common.loading')}
      </div>
      {shown.length > 0 && (
        <ApprovalTable
          approvals={shown}
          peers={peers}
          selected={selectedId}
          onSelect={(a) => {
            setPicked(a);
            setSelectedId(a.approvalId);
          }}
          caption={props.tab === 'queue' ? t('approvals.tab.queue') : t('approvals.tab.decided')}
        />
      )}
      {listing.next !== '' && <Pager shown={listing.items.length} hasMore={true} onMore={listing.more} />}
      {selected && (
        <Review
          approval={selected}
          canDecide={props.canDecide}
          onDecided={listing.reload}
          onClose={() => setSelectedId('')}
        />
      )}
    </>
  );
}

const POLICY_FLAGS: ReadonlyArray<keyof ApprovalPolicy> = [
  'answers',
  'automaticAnswers',
  'refusals',
  'disclosures',
  'policyChanges',
];

/** Which steps wait for a supervisor: shown to everyone, changed by an administrator. */
function PolicyTab({ canEdit }: { canEdit: boolean }) {
  const [loaded, reload] = useLoad(() => rpc(CasesDefinition, 'getApprovalPolicy', {}), []);
  const [draft, setDraft] = useState<ApprovalPolicy | undefined>(undefined);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <Show loaded={loaded}>
      {({ policy: stored }) => {
        // The form shows the stored policy until the administrator changes a box: never a
        // default in between (it would show, and could save, a policy nobody set). An absent
        // message means every flag off (proto3); the node always sends one.
        const policy = draft ?? stored ?? ApprovalPolicy.fromPartial({});
        return (
          <form
            class="approvals-policy"
            onSubmit={async (event) => {
              event.preventDefault();
              setBusy(true);
              setSaved(false);
              setError(undefined);
              try {
                const { policy: kept } = await rpc(CasesDefinition, 'setApprovalPolicy', { policy });
                setDraft(kept);
                setSaved(true);
                reload();
              } catch (caught) {
                setError(caught);
              } finally {
                setBusy(false);
              }
            }}
          >
            <fieldset>
              <legend>{t('approvals.policy.legend')}</legend>
              {!canEdit && <p class="hint">{t('approvals.policy.readOnly')}</p>}
              {POLICY_FLAGS.map((flag) => (
                <div class="approvals-flag" key={flag}>
                  <label>
                    <input
                      type="checkbox"
                      name={flag}
                      checked={policy[flag]}
                      disabled={!canEdit}
                      onChange={(event) => {
                        setSaved(false);
                        setDraft({ ...policy, [flag]: (event.target as HTMLInputElement).checked });
                      }}
                    />{' '}
                    {t(`approvals.policy.${flag}`)}
                  </label>
                  <span class={policy[flag] ? 'badge' : 'badge approvals-off'}>
                    {policy[flag] ? t('approvals.policy.waits') : t('approvals.policy.free')}
                  </span>
                </div>
              ))}
            </fieldset>
            {canEdit && (
              <button type="submit" class="primary" disabled={busy} aria-busy={busy}>
                {t('approvals.policy.save')}
              </button>
            )}
            <div role="status">{saved && <p class="notice ok">{t('approvals.policy.saved')}</p>}</div>
            <ErrorMessage error={error} />
          </form>
        );
      }}
    </Show>
  );
}

/**
 * Four-eyes approvals (docs/operations.md, accounts and approvals): the queue of steps waiting
 * for a supervisor, each step's content and its case before deciding, approve / reject with a
 * reason, the decided approvals with filters, and the approval policy. Officers see their own
 * steps and how they were decided; only a supervisor decides, never the drafter (the node refuses).
 */
export function ApprovalsScreen({ route }: { route: Route }) {
  const roles = currentSession().who?.roles ?? [];
  const canDecide = roles.includes('supervisor');
  const officerOnly = !roles.some((r) => r === 'supervisor' || r === 'auditor' || r === 'administrator');
  const asked = route.query.get('tab') as Tab | null;
  const tab: Tab = asked && TABS.includes(asked) ? asked : 'queue';
  return (
    <Screen title={t('nav.approvals')}>
      <Tabs
        label={t('approvals.tabs')}
        tabs={TABS.map((each) => ({
          href: href('approvals', { tab: each }),
          label: each === 'queue' && officerOnly ? t('approvals.tab.mine') : t(`approvals.tab.${each}`),
          current: each === tab,
        }))}
      />
      {tab === 'policy' ? (
        <PolicyTab canEdit={roles.includes('administrator')} />
      ) : (
        <ApprovalList key={tab} tab={tab} canDecide={canDecide} officerOnly={officerOnly} />
      )}
    </Screen>
  );
}
