import {
  ApprovalStep,
  type Case,
  CaseRole,
  CaseState,
  CasesDefinition,
  type Consent,
  NodeEventType,
} from '@tracenet/proto/browser';
import { useEffect, useState } from 'preact/hooks';
import { onNodeEvent, rpc } from '../api.js';
import { Screen, Show, Time, useLoad } from '../components.js';
import { participantName, t } from '../i18n.js';
import { href, type Route } from '../router.js';
import { DecideConsent } from './sharing/decide.js';
import { PassOn } from './sharing/pass-on.js';
import { ReexportNotices } from './sharing/reexport.js';
import { Basis, Participant, Restrictions } from './sharing/restrictions.js';

/**
 * Every case of the node, all pages of Cases/ListCases (which carries each case's consents and
 * disclosures, without its timeline): the Cases API has no list of consents or disclosures of
 * their own, so this screen gathers them from the cases.
 */
/**
 * The consent decisions waiting in the approvals queue, as `<case id> <third participant>`: an
 * Approval names its case but not the consent, so the third participant is read from its summary
 * ("consent granted to FRA for BEL").
 */
async function waitingDecisions(): Promise<Set<string>> {
  const { approvals } = await rpc(CasesDefinition, 'listApprovals', { all: false, limit: 500 });
  return new Set(
    approvals
      .filter((a) => a.step === ApprovalStep.APPROVAL_STEP_CONSENT_DECISION)
      .map((a) => `${a.caseId} ${a.summary.split(' for ').at(-1) ?? ''}`),
  );
}

async function allCases(): Promise<Case[]> {
  const cases: Case[] = [];
  let cursor = '';
  for (let page = 0; page < 40; page++) {
    const response = await rpc(CasesDefinition, 'listCases', { limit: 500, cursor });
    cases.push(...response.cases);
    cursor = response.nextCursor;
    if (cursor === '') break;
  }
  return cases;
}

const CASE_EVENTS = new Set([
  NodeEventType.NODE_EVENT_TYPE_CASE_CREATED,
  NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
  NodeEventType.NODE_EVENT_TYPE_DISCLOSURE_NOTIFIED,
  NodeEventType.NODE_EVENT_TYPE_CASE_PURGED,
]);
const HOLDS_ANSWER = new Set([
  CaseState.CASE_STATE_ANSWERED,
  CaseState.CASE_STATE_RESTRICTED,
  CaseState.CASE_STATE_CLOSED,
]);

function CaseLink({ c }: { c: Case }) {
  return (
    <a href={href('cases', c.caseId)} class="mono nowrap">
      {c.localReference || c.caseId}
    </a>
  );
}

function Outcome({ consent }: { consent: Consent }) {
  if (consent.decidedAtMs === 0) return <span class="badge pending">{t('sharing.pending')}</span>;
  return (
    <>
      <span class={`badge ${consent.granted ? 'ok' : 'danger'}`}>
        {consent.granted ? t('sharing.granted') : t('sharing.refused')}
      </span>{' '}
      <Time ms={consent.decidedAtMs} />
      {consent.conditions !== '' && (
        <span class="sub long">
          <bdi>{consent.conditions}</bdi>
        </span>
      )}
    </>
  );
}

function Received(props: {
  cases: readonly Case[];
  waiting: ReadonlySet<string>;
  onDecided: (pending: boolean) => void;
}) {
  const items = props.cases
    .filter((c) => c.role === CaseRole.CASE_ROLE_REQUESTED)
    .flatMap((c) => c.consents.map((consent) => ({ c, consent })))
    .sort(
      (a, b) =>
        Number(a.consent.decidedAtMs !== 0) - Number(b.consent.decidedAtMs !== 0) ||
        b.consent.requestedAtMs - a.consent.requestedAtMs,
    );
  if (items.length === 0) return <p>{t('sharing.noneReceived')}</p>;
  return (
    <ul class="consents">
      {items.map(({ c, consent }) => (
        <li key={`${c.caseId}/${consent.consentId}`}>
          <article aria-labelledby={`consent-${consent.consentId}`} class="consent">
            <h3 id={`consent-${consent.consentId}`}>
              {t('sharing.receivedTitle', {
                third: participantName(consent.thirdParticipant),
                requester: participantName(c.peer),
              })}
            </h3>
            <dl class="facts">
              <dt>{t('sharing.from')}</dt>
              <dd>
                <Participant id={c.peer} />
              </dd>
              <dt>{t('sharing.case')}</dt>
              <dd>
                <CaseLink c={c} />
              </dd>
              <dt>{t('sharing.third')}</dt>
              <dd>
                <Participant id={consent.thirdParticipant} />
              </dd>
              <dt>{t('sharing.why')}</dt>
              <dd class="long" dir="auto">
                {consent.reason}
              </dd>
              <dt>{t('sharing.asked')}</dt>
              <dd>
                <Time ms={consent.requestedAtMs} />
              </dd>
              <dt>{t('sharing.decision')}</dt>
              <dd>
                <Outcome consent={consent} />
              </dd>
            </dl>
            <h4>{t('sharing.ourRestrictions')}</h4>
            <Restrictions c={c} />
            {consent.decidedAtMs === 0 &&
              (props.waiting.has(`${c.caseId} ${consent.thirdParticipant}`) ? (
                <p class="notice">{t('sharing.waitsApproval')}</p>
              ) : (
                <DecideConsent caseId={c.caseId} consent={consent} onDecided={props.onDecided} />
              ))}
          </article>
        </li>
      ))}
    </ul>
  );
}

function Sent({ cases }: { cases: readonly Case[] }) {
  const items = cases
    .filter((c) => c.role === CaseRole.CASE_ROLE_REQUESTER)
    .flatMap((c) => c.consents.map((consent) => ({ c, consent })))
    .sort((a, b) => b.consent.requestedAtMs - a.consent.requestedAtMs);
  if (items.length === 0) return <p>{t('sharing.noneSent')}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t('sharing.asked')}</th>
          <th scope="col">{t('sharing.case')}</th>
          <th scope="col">{t('sharing.provider')}</th>
          <th scope="col">{t('sharing.third')}</th>
          <th scope="col">{t('sharing.why')}</th>
          <th scope="col">{t('sharing.decision')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map(({ c, consent }) => (
          <tr key={`${c.caseId}/${consent.consentId}`} class="sent-consent">
            <td>
              <Time ms={consent.requestedAtMs} />
            </td>
            <td>
              <CaseLink c={c} />
            </td>
            <td>
              <Participant id={c.peer} />
            </td>
            <td>
              <Participant id={consent.thirdParticipant} />
            </td>
            <td class="long" dir="auto">
              {consent.reason}
            </td>
            <td>
              <Outcome consent={consent} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Disclosures(props: { cases: readonly Case[]; role: CaseRole }) {
  const items = props.cases
    .filter((c) => c.role === props.role)
    .flatMap((c) => c.disclosures.map((d) => ({ c, d })))
    .sort((a, b) => b.d.disclosedAtMs - a.d.disclosedAtMs);
  const made = props.role === CaseRole.CASE_ROLE_REQUESTER;
  if (items.length === 0) return <p>{made ? t('sharing.noneDisclosed') : t('sharing.noneNotified')}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t('sharing.when')}</th>
          <th scope="col">{t('sharing.case')}</th>
          <th scope="col">{made ? t('sharing.provider') : t('sharing.by')}</th>
          <th scope="col">{t('sharing.third')}</th>
          <th scope="col">{t('sharing.basis')}</th>
          <th scope="col">{t('sharing.restrictions')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map(({ c, d }) => (
          <tr key={`${c.caseId}/${d.messageId}`}>
            <td>
              <Time ms={d.disclosedAtMs} />
            </td>
            <td>
              <CaseLink c={c} />
            </td>
            <td>
              <Participant id={c.peer} />
            </td>
            <td>
              <Participant id={d.thirdParticipant} />
            </td>
            <td>
              <Basis basis={d.basis} />
            </td>
            <td>
              <Restrictions c={c} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SharedWithUs({ cases }: { cases: readonly Case[] }) {
  const items = cases.filter((c) => c.role === CaseRole.CASE_ROLE_SHARED).sort((a, b) => b.createdAtMs - a.createdAtMs);
  if (items.length === 0) return <p>{t('sharing.noneShared')}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t('sharing.when')}</th>
          <th scope="col">{t('sharing.case')}</th>
          <th scope="col">{t('sharing.sharedBy')}</th>
          <th scope="col">{t('sharing.provider')}</th>
          <th scope="col">{t('sharing.note')}</th>
          <th scope="col">{t('sharing.restrictions')}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((c) => (
          <tr key={c.caseId} class="shared-case">
            <td>
              <Time ms={c.createdAtMs} />
            </td>
            <td>
              <CaseLink c={c} />
            </td>
            <td>
              <Participant id={c.peer} />
            </td>
            <td>
              <Participant id={c.shared?.provider ?? ''} />
            </td>
            <td class="long" dir="auto">
              {c.shared?.note ?? ''}
            </td>
            <td>
              <Restrictions c={c} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Consent and sharing: consent requests received (decide them), consent requests sent and their
 * outcome, answers passed on and the restrictions they were passed on under, and the disclosures
 * of this node's answers that requesters notified, and what others shared with this node. Live: any case event reloads.
 */
export function SharingScreen(_props: { route: Route }) {
  const [cases, reload] = useLoad(async () => {
    const [list, waiting] = await Promise.all([allCases(), waitingDecisions()]);
    return { list, waiting };
  }, []);
  const [status, setStatus] = useState('');
  useEffect(() => {
    // Case events (also those the stream replays on connecting) come in bursts: one reload per burst.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = onNodeEvent((event) => {
      if (!CASE_EVENTS.has(event.type)) return;
      clearTimeout(timer);
      timer = setTimeout(reload, 300);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, []);
  const done = (message: string) => {
    setStatus(message);
    reload();
  };
  return (
    <Screen title={t('nav.sharing')}>
      <p class="hint">{t('sharing.intro')}</p>
      <p role="status" class={status === '' ? 'visually-hidden' : 'notice'}>
        {status}
      </p>
      <Show loaded={cases}>
        {({ list, waiting }) => (
          <>
            <section aria-labelledby="sharing-received">
              <h2 id="sharing-received">{t('sharing.receivedHeading')}</h2>
              <Received
                cases={list}
                waiting={waiting}
                onDecided={(pending) => done(pending ? t('sharing.waitsApproval') : t('sharing.decided'))}
              />
            </section>
            <section aria-labelledby="sharing-sent">
              <h2 id="sharing-sent">{t('sharing.sentHeading')}</h2>
              <Sent cases={list} />
            </section>
            <section aria-labelledby="sharing-pass-on">
              <h2 id="sharing-pass-on">{t('sharing.passOnHeading')}</h2>
              <PassOn
                cases={list.filter(
                  (c) => c.role === CaseRole.CASE_ROLE_REQUESTER && HOLDS_ANSWER.has(c.state) && c.purgedAtMs === 0,
                )}
                onDone={done}
              />
            </section>
            <section aria-labelledby="sharing-made">
              <h2 id="sharing-made">{t('sharing.madeHeading')}</h2>
              <Disclosures cases={list} role={CaseRole.CASE_ROLE_REQUESTER} />
            </section>
            <section aria-labelledby="sharing-notified">
              <h2 id="sharing-notified">{t('sharing.notifiedHeading')}</h2>
              <Disclosures cases={list} role={CaseRole.CASE_ROLE_REQUESTED} />
            </section>
            <section aria-labelledby="sharing-shared">
              <h2 id="sharing-shared">{t('sharing.sharedHeading')}</h2>
              <SharedWithUs cases={list} />
            </section>
          </>
        )}
      </Show>
      <ReexportNotices />
    </Screen>
  );
}
