import {
  type Approval,
  ApprovalState,
  ApprovalStep,
  AuthorityDefinition,
  type Case,
  type CaseResponse,
  CaseRole,
  CaseState,
  CasesDefinition,
  NodeEventType,
  type Photo,
  Priority,
} from '@tracenet/proto/browser';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, onNodeEvent, rpc } from '../api.js';
import { Screen, Show, Time, useLoad } from '../components.js';
import { formatDate, participantName, t } from '../i18n.js';
import { href, type Route } from '../router.js';
import { Actions, FollowOn } from './case/actions.js';
import { Item, Outcomes, PeerText } from './case/answer.js';
import { Chain } from './case/chain.js';
import { Recirculation, RecordedCheck, ReexportFlags } from './case/flags.js';
import { illicitLabel, findingLabel, priorityLabel, roleLabel, stateKey, stateLabel } from './case/labels.js';
import { actorName, Timeline } from './case/timeline.js';
import { SEIZURE_CIRCUMSTANCES } from './compose/model.js';
import { dueOf } from './inbox.js';

interface Loaded {
  c: Case;
  chain: Case[];
  approvals: Approval[];
}

async function loadCase(caseId: string): Promise<Loaded> {
  const { case: c } = await rpc(CasesDefinition, 'getCase', { caseId });
  if (!c) throw new Error('no case');
  const [chain, approvals] = await Promise.all([
    rpc(CasesDefinition, 'getTraceChain', { caseId }).then(
      (r) => r.cases,
      () => [c],
    ),
    rpc(CasesDefinition, 'listApprovals', { caseId, all: true }).then(
      (r) => r.approvals,
      () => [],
    ),
  ]);
  return { c, chain, approvals };
}

/** What the officer asked for: the request as sent or received. */
/**
 * The photos of the markings, from the request's bytes through blob: URLs (allowed for images by
 * the console's CSP). Only the two types the protocol allows are shown, and only bytes the browser
 * decodes as one (a peer's bytes that merely claim the type are said to be no image); the caption
 * is the requester's text.
 */
function Photos({ photos }: { photos: readonly Photo[] }) {
  const [urls, setUrls] = useState<string[]>([]);
  const [broken, setBroken] = useState<ReadonlySet<number>>(new Set());
  useEffect(() => {
    setBroken(new Set());
    const made = photos.map((photo) =>
      PHOTO_TYPES.includes(photo.mediaType) && photo.content.length > 0
        ? URL.createObjectURL(new Blob([Uint8Array.from(photo.content)], { type: photo.mediaType }))
        : '',
    );
    setUrls(made);
    return () => {
      for (const url of made) if (url) URL.revokeObjectURL(url);
    };
  }, [photos]);
  return (
    <ul class="case-photos">
      {photos.map((photo, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: photos have no id
        <li key={i}>
          {urls[i] && !broken.has(i) ? (
            <a href={urls[i]} target="_blank" rel="noopener noreferrer">
              <img
                src={urls[i]}
                alt={photo.caption || t('case.request.photoAlt', { n: i + 1 })}
                onError={() => setBroken((b) => new Set(b).add(i))}
              />
            </a>
          ) : (
            <span class="muted">{t('case.request.photoUnshown', { n: i + 1 })}</span>
          )}
          {photo.caption && (
            <div>
              <PeerText text={photo.caption} />
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

const PHOTO_TYPES = ['image/jpeg', 'image/png'];

function RequestView({ c }: { c: Case }) {
  const r = c.request;
  if (!r) return null;
  const m = r.weapon?.markings;
  return (
    <section class="panel" aria-labelledby="request-title">
      <h2 id="request-title">{t('case.request.title')}</h2>
      <dl class="facts">
        <Item label={t('case.request.authority')}>
          <PeerText text={r.requestingAuthority} />
        </Item>
        <Item label={t('case.request.priority')}>
          {priorityLabel(r.priority)}
          {r.priority === Priority.PRIORITY_URGENT && r.urgencyJustification && (
            <>
              {' — '}
              <PeerText text={r.urgencyJustification} />
            </>
          )}
        </Item>
        <Item label={t('case.request.illicit')}>
          <ul class="plain-list">
            {r.illicitCriteria.map((criterion, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: criteria have no id
              <li key={i}>
                {illicitLabel(criterion.kind)} — <PeerText text={criterion.legalBasis} />
              </li>
            ))}
          </ul>
        </Item>
        <Item label={t('case.request.finding')} when={r.circumstances !== undefined}>
          {r.circumstances && (
            <>
              {findingLabel(r.circumstances.kind)}
              {SEIZURE_CIRCUMSTANCES.includes(r.circumstances.circumstance) &&
                ` · ${t(`compose.circumstance.${r.circumstances.circumstance}`)}`}
              , {formatDate(r.circumstances.date)},{' '}
              <PeerText text={[r.circumstances.place, r.circumstances.agency].filter(Boolean).join(' · ')} />
              {r.circumstances.description && (
                <div>
                  <PeerText text={r.circumstances.description} />
                </div>
              )}
            </>
          )}
        </Item>
        <Item label={t('case.request.weapon')} when={m !== undefined}>
          {m && (
            <PeerText
              text={[m.manufacturer, m.model, m.calibre, m.serialNumber && `#${m.serialNumber}`, m.countryOfManufacture]
                .filter(Boolean)
                .join(' · ')}
            />
          )}
        </Item>
        <Item label={t('case.request.serial')} when={r.weapon?.serialObliterated === true}>
          {t('case.request.serialObliterated')}
        </Item>
        <Item label={t('case.request.photos')} when={(r.weapon?.photos.length ?? 0) > 0}>
          <Photos photos={r.weapon?.photos ?? []} />
        </Item>
        <Item label={t('case.request.otherInformation')} when={Boolean(r.weapon?.otherInformation)}>
          <PeerText text={r.weapon?.otherInformation ?? ''} />
        </Item>
        <Item label={t('case.request.intendedUse')}>
          <PeerText text={r.intendedUse} />
        </Item>
      </dl>
    </section>
  );
}

function Summary({ c }: { c: Case }) {
  const due = dueOf(c);
  return (
    <dl class="facts case-summary">
      <Item label={t('case.summary.peer')}>
        <strong>{participantName(c.peer)}</strong> ({roleLabel(c.role)})
      </Item>
      <Item label={t('case.summary.state')}>
        <span class={`badge state-${stateKey(c.state)}`}>{stateLabel(c.state)}</span>
      </Item>
      <Item label={t('case.summary.trace')}>
        <code>{c.traceId}</code>
      </Item>
      <Item label={t('case.summary.references')}>
        {t('case.summary.ours')} <PeerText text={c.localReference || '—'} /> · {t('case.summary.theirs')}{' '}
        <PeerText text={c.peerReference || '—'} />
      </Item>
      <Item label={t('case.summary.created')}>
        <Time ms={c.createdAtMs} />
      </Item>
      <Item label={t('case.summary.deadline')} when={due !== undefined}>
        {due && (
          <>
            {t(`inbox.due.${due.kind}`)} <Time ms={due.at} />{' '}
            {c.overdue && <strong class="badge danger">{t('case.summary.overdue')}</strong>}
          </>
        )}
      </Item>
    </dl>
  );
}

/** A step held for a supervisor's approval (four-eyes): said plainly, with who drafted it and why. */
function Pending({ approvals }: { approvals: readonly Approval[] }) {
  const pending = approvals.filter((a) => a.state === ApprovalState.APPROVAL_STATE_PENDING);
  if (pending.length === 0) return null;
  return (
    <div class="notice pending-approval" role="status">
      {pending.map((a) => (
        <p key={a.approvalId}>
          <strong>{t('case.pending.title', { id: a.approvalId })}</strong>{' '}
          {t('case.pending.body', { drafter: a.drafter ? actorName(a.drafter) : '' })}{' '}
          <span lang="en">
            <PeerText text={a.reasons.join('; ')} />
          </span>
        </p>
      ))}
    </div>
  );
}

/** An answer, restriction or refusal waiting for a supervisor: no second one may be drafted (12.12). */
function heldSteps(approvals: readonly Approval[]): boolean {
  return approvals.some(
    (a) =>
      a.state === ApprovalState.APPROVAL_STATE_PENDING &&
      [
        ApprovalStep.APPROVAL_STEP_ANSWER,
        ApprovalStep.APPROVAL_STEP_RESTRICTION,
        ApprovalStep.APPROVAL_STEP_REFUSAL,
      ].includes(a.step),
  );
}

function CaseBody(props: { loaded: Loaded; reload: () => void; announce: string; setAnnounce: (s: string) => void }) {
  const { c, chain, approvals } = props.loaded;
  const roles = currentSession().who?.roles ?? [];
  const officer = roles.includes('officer');
  const [peers, setPeers] = useState<string[]>([]);
  useEffect(() => {
    if (!officer) return;
    rpc(AuthorityDefinition, 'listPeers', {}).then(
      (r) => setPeers(r.peers.map((p) => p.participantId)),
      () => setPeers([]),
    );
  }, [officer]);
  // After a step the form is gone: focus moves to what happened, so that the keyboard is not lost.
  useEffect(() => {
    if (props.announce) document.getElementById('case-announce')?.focus();
  }, [props.announce]);
  const provider = c.role === CaseRole.CASE_ROLE_SHARED ? (c.shared?.provider ?? c.peer) : c.peer;
  const liveFollowOn = chain.some(
    (other) => c.nextCaseIds.includes(other.caseId) && other.state !== CaseState.CASE_STATE_WITHDRAWN,
  );
  const done = (response: CaseResponse, message?: string) => {
    props.setAnnounce(
      response.pendingApproval
        ? t('case.pending.announce', { id: response.pendingApproval.approvalId })
        : (message ?? t('case.done', { state: stateLabel(response.case?.state ?? c.state) })),
    );
    props.reload();
  };
  return (
    <>
      <Summary c={c} />
      <Recirculation c={c} />
      {c.overdue && <p class="notice">{t('case.overdueNotice')}</p>}
      {c.undelivered && (
        <div class="error" role="alert">
          {t('case.undelivered', {
            what: c.undelivered.what,
            peer: participantName(c.undelivered.recipient),
            code: c.undelivered.code,
          })}{' '}
          {c.undelivered.reason && <PeerText text={c.undelivered.reason} />}
        </div>
      )}
      <Pending approvals={approvals} />
      <p role="status" class="announce" id="case-announce" tabIndex={-1}>
        {props.announce}
      </p>
      {officer ? (
        <Actions c={c} peers={peers} onDone={done} held={heldSteps(approvals)} />
      ) : (
        <p class="muted read-only">{t('case.readOnly')}</p>
      )}
      <Outcomes c={c} provider={provider} followOn={officer ? <FollowOn c={c} live={liveFollowOn} /> : undefined} />
      <Chain cases={chain} current={c.caseId} />
      <ReexportFlags c={c} officer={officer} onDone={done} />
      <RequestView c={c} />
      <RecordedCheck c={c} />
      <Timeline c={c} approvals={approvals} />
      {c.previousCaseId && (
        <p>
          <a href={href('cases', c.previousCaseId)}>{t('case.previous', { id: c.previousCaseId })}</a>
        </p>
      )}
    </>
  );
}

/** One case: where it stands, what was answered and under which restrictions, the chain, the steps, and what to do next. */
export function CaseScreen(props: { caseId: string; route: Route }) {
  const [loaded, reload] = useLoad(() => loadCase(props.caseId), [props.caseId]);
  const [announce, setAnnounce] = useState('');
  useEffect(() => setAnnounce(''), [props.caseId]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload is stable in effect
  useEffect(
    () =>
      onNodeEvent((event) => {
        if (event.caseId !== props.caseId) return;
        if (
          event.type === NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED ||
          event.type === NodeEventType.NODE_EVENT_TYPE_CASE_OVERDUE ||
          event.type === NodeEventType.NODE_EVENT_TYPE_CASE_PURGED ||
          event.type === NodeEventType.NODE_EVENT_TYPE_REEXPORT_FLAGGED ||
          event.type === NodeEventType.NODE_EVENT_TYPE_RECIRCULATION_FLAGGED ||
          event.type === NodeEventType.NODE_EVENT_TYPE_MESSAGE_FAILED
        )
          reload();
      }),
    [props.caseId],
  );
  return (
    <Screen title={t('case.title', { id: props.caseId })} actions={<a href={href('inbox')}>{t('case.back')}</a>}>
      <Show loaded={loaded}>
        {(value) => <CaseBody loaded={value} reload={reload} announce={announce} setAnnounce={setAnnounce} />}
      </Show>
    </Screen>
  );
}
