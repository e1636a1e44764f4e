import {
  type Case,
  type CaseResponse,
  CasesDefinition,
  type EndUserUndertaking,
  ReexportCondition,
  type ReexportFlag,
  type ReexportHop,
} from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { ApiError, currentSession, rpc } from '../../api.js';
import { ErrorMessage, Field, Time } from '../../components.js';
import { formatDate, formatDateTime, participantName, t } from '../../i18n.js';
import { href } from '../../router.js';
import { CheckView } from '../compose/node-check.js';
import { Item, PeerText } from './answer.js';
import { eventTypeLabel } from './labels.js';

/** The check of the request recorded when it was created or last changed before sending (Case.check, protocol 17). */
export function RecordedCheck({ c }: { c: Case }) {
  if (!c.check) return null;
  return (
    <section class="panel request-check-panel" aria-labelledby="check-title">
      <h2 id="check-title">{t('case.check.title')}</h2>
      {c.check.checkedAtMs > 0 && (
        <p class="muted">{t('case.check.when', { when: formatDateTime(c.check.checkedAtMs) })}</p>
      )}
      <CheckView check={c.check} id="case-check" level={3} />
    </section>
  );
}

const SEEN_IN = new Set(['trace_request', 'lookup', 'trace_answer', 'record']);

/** The weapon was recorded as destroyed and turned up again (Case.recirculation, protocol 19): said first, plainly. */
export function Recirculation({ c }: { c: Case }) {
  const r = c.recirculation;
  if (!r) return null;
  const by = participantName(r.destroyedBy);
  return (
    <div class="recirculation" role="note" aria-labelledby="recirculation-title">
      <p>
        <strong id="recirculation-title">{t('case.recirculation.title')}</strong>
      </p>
      <p>
        {r.destroyedDate !== ''
          ? t('case.recirculation.destroyed', { by, date: formatDate(r.destroyedDate) })
          : t('case.recirculation.destroyedUndated', { by })}{' '}
        {r.certificateId !== '' && (
          <>
            {t('case.recirculation.certificate')} <bdi class="mono">{r.certificateId}</bdi>
          </>
        )}
      </p>
      <p>
        {t('case.recirculation.seen', {
          where: participantName(r.seenBy),
          date: r.seenDate !== '' ? formatDate(r.seenDate) : '—',
          how: SEEN_IN.has(r.seenIn) ? t(`case.recirculation.seenIn.${r.seenIn}`) : r.seenIn,
        })}
      </p>
    </div>
  );
}

function conditionText(u: EndUserUndertaking): string {
  if (u.condition === ReexportCondition.REEXPORT_CONDITION_PROHIBITED) return t('case.reexport.prohibited');
  if (u.condition === ReexportCondition.REEXPORT_CONDITION_WITH_CONSENT) return t('case.reexport.withConsent');
  return t('case.reexport.conditionUnknown');
}

/** An end-user undertaking in words: what it says of re-export, its certificate, who gave it and when, what was authorised since. */
function Undertaking({ u }: { u: EndUserUndertaking }) {
  return (
    <dl class="facts">
      <Item label={t('case.reexport.condition')}>{conditionText(u)}</Item>
      <Item label={t('case.reexport.certificate')} when={u.certificateReference !== ''}>
        <PeerText text={u.certificateReference} />
      </Item>
      <Item label={t('case.reexport.endUser')} when={u.endUser !== ''}>
        <PeerText text={u.endUser} />
      </Item>
      <Item label={t('case.reexport.date')} when={u.date !== ''}>
        {formatDate(u.date)}
      </Item>
      <Item label={t('case.reexport.authorisations')}>
        {u.authorisations.length === 0 ? (
          t('case.reexport.noAuthorisation')
        ) : (
          <ul class="plain-list">
            {u.authorisations.map((a, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: authorisations have no id
              <li key={i}>
                {t('case.reexport.authorisation', {
                  destination: participantName(a.destination),
                  date: formatDate(a.date),
                })}{' '}
                <PeerText text={a.reference} />
              </li>
            ))}
          </ul>
        )}
      </Item>
    </dl>
  );
}

/**
 * Which evidence hop a refusal of NotifyReexport names: `evidence[i]` in its field, else the hop
 * whose case it names; -1 when it names none.
 */
function refusedHop(error: unknown, flag: ReexportFlag): number {
  if (!(error instanceof ApiError)) return -1;
  const named = [error.field, ...error.violations.map((v) => v.field)].join(' ');
  const index = /evidence\[(\d+)\]/.exec(named);
  if (index) {
    const i = Number(index[1]);
    return i < flag.evidence.length ? i : -1;
  }
  const text = `${named} ${error.message}`;
  return flag.evidence.findIndex((hop) => hop.caseId !== '' && text.includes(hop.caseId));
}

/**
 * Asks the participant whose answer an evidence hop comes from to allow its disclosure to the
 * exporter (Cases/RequestConsent on that hop's case, as on the sharing screen).
 */
function AskConsent(props: { hop: ReexportHop; flag: ReexportFlag }) {
  const exporter = participantName(props.flag.exporter);
  const [reason, setReason] = useState(() => t('case.reexport.consentReason', { exporter }));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [asked, setAsked] = useState('');
  const provider = participantName(props.hop.source);
  const run = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const response = await rpc(CasesDefinition, 'requestConsent', {
        caseId: props.hop.caseId,
        thirdParticipant: props.flag.exporter,
        reason,
      });
      setAsked(
        response.pendingApproval
          ? t('case.pending.announce', { id: response.pendingApproval.approvalId })
          : t('case.reexport.consentAsked', { provider, exporter }),
      );
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="reexport-consent" onSubmit={run} noValidate>
      <Field label={t('case.reexport.consentLabel', { provider: participantName(props.hop.source), exporter })}>
        {(id, describedBy) => (
          <textarea
            id={id}
            name="reason"
            aria-describedby={describedBy}
            maxLength={2000}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
        )}
      </Field>
      <ErrorMessage error={error} />
      <p role="status" class={asked === '' ? 'visually-hidden' : 'notice'}>
        {asked}
      </p>
      <button type="submit" disabled={busy || asked !== ''} aria-busy={busy}>
        {t('case.reexport.askConsent', { provider })}
      </button>
    </form>
  );
}

/** One step of the evidence: the event, its date, who gave it and in which case; the refusal that names it. */
function Hop(props: { hop: ReexportHop; flag: ReexportFlag; refusal: boolean; officer: boolean }) {
  const { hop } = props;
  const e = hop.event;
  const route =
    e && (e.destination !== '' || e.origin !== '')
      ? t('case.reexport.route', {
          from: participantName(e.origin || hop.source),
          to: participantName(e.destination || hop.source),
        })
      : '';
  return (
    <li class={props.refusal ? 'hop-refused' : undefined}>
      <strong>{e ? eventTypeLabel(e.type) : t('case.event.unknown')}</strong>
      {e?.date && <> {formatDate(e.date)}</>}
      {route && <> · {route}</>}
      {e?.licence && (
        <>
          {' · '}
          {t('case.reexport.licence')} <PeerText text={e.licence} />
        </>
      )}
      <div class="muted">
        {props.flag.raisedBy !== currentSession().participantId ? (
          // A notice received: its cases are the sender's, not this node's.
          t('case.reexport.givenBy', { source: participantName(hop.source) })
        ) : hop.caseId !== '' ? (
          <>
            {t('case.reexport.fromAnswer', { source: participantName(hop.source) })}{' '}
            <a href={href('cases', hop.caseId)} class="mono">
              {hop.caseId}
            </a>
          </>
        ) : (
          t('case.reexport.fromRecords')
        )}
      </div>
      {props.refusal && (
        <div class="reexport-refusal">
          <p class="error" role="alert">
            {t('case.reexport.refusedHere', {
              provider: participantName(hop.source),
              exporter: participantName(props.flag.exporter),
            })}
          </p>
          {props.officer && hop.caseId !== '' && <AskConsent hop={hop} flag={props.flag} />}
        </div>
      )}
    </li>
  );
}

const KINDS = new Set(['reexported', 'found_in_third_state']);

/** One flag: who exported under which undertaking, where the weapon went next, the evidence, and notifying the exporter. */
function Flag(props: {
  c: Case;
  flag: ReexportFlag;
  officer: boolean;
  onDone: (response: CaseResponse, message?: string) => void;
}) {
  const { flag } = props;
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const here = currentSession().participantId;
  const refused = error instanceof ApiError && error.code === 'DISCLOSURE_NOT_ALLOWED' ? refusedHop(error, flag) : -1;
  const notify = async () => {
    setBusy(true);
    setError(undefined);
    try {
      props.onDone(
        await rpc(CasesDefinition, 'notifyReexport', { caseId: props.c.caseId, flagId: flag.flagId }),
        t('case.reexport.notifiedAnnounce', { exporter: participantName(flag.exporter) }),
      );
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const titleId = `flag-${flag.flagId}`;
  const exporter = participantName(flag.exporter);
  return (
    <article class="reexport-flag" aria-labelledby={titleId}>
      <h3 id={titleId}>
        {t('case.reexport.flagTitle', {
          exporter,
          state: participantName(flag.undertakingState),
          later: participantName(flag.laterState),
        })}
      </h3>
      <p>
        <span class="badge danger">{t('case.reexport.badge')}</span>{' '}
        {KINDS.has(flag.kind)
          ? t(`case.reexport.kind.${flag.kind}`, {
              state: participantName(flag.undertakingState),
              later: participantName(flag.laterState),
            })
          : flag.kind}
      </p>
      <dl class="facts">
        <Item label={t('case.reexport.exporter')}>{exporter}</Item>
        <Item label={t('case.reexport.raised')}>
          {flag.raisedBy === here ? t('case.reexport.raisedHere') : participantName(flag.raisedBy)}{' '}
          <Time ms={flag.raisedAtMs} />
        </Item>
        <Item label={t('case.reexport.notified')}>
          {flag.notifiedAtMs > 0 ? <Time ms={flag.notifiedAtMs} /> : t('case.reexport.notNotified')}
        </Item>
      </dl>
      {flag.undertaking && (
        <>
          <h4>{t('case.reexport.undertakingTitle')}</h4>
          <Undertaking u={flag.undertaking} />
        </>
      )}
      <h4>{t('case.reexport.evidenceTitle')}</h4>
      <ol class="reexport-evidence">
        {flag.evidence.map((hop, i) => (
          <Hop
            // biome-ignore lint/suspicious/noArrayIndexKey: hops are in chain order, without id
            key={i}
            hop={hop}
            flag={flag}
            refusal={i === refused}
            officer={props.officer}
          />
        ))}
      </ol>
      {props.officer && flag.raisedBy === here && flag.notifiedAtMs === 0 && (
        <div class="reexport-notify">
          <p class="hint">{t('case.reexport.notifyHint', { exporter })}</p>
          {error !== undefined && refused < 0 && <ErrorMessage error={error} />}
          {refused >= 0 && <p class="muted">{t('case.reexport.refusedSeeHop')}</p>}
          <button type="button" class="primary" disabled={busy} aria-busy={busy} onClick={() => void notify()}>
            {t('case.reexport.notify', { exporter })}
          </button>
        </div>
      )}
    </article>
  );
}

/**
 * The possible unauthorised re-exports found in this case's chain (Case.reexport_flags, protocol
 * 18), each with its evidence and, for an officer, "notify the exporter" (Cases/NotifyReexport):
 * the node sends only what the answers' use restrictions and consents allow; a refusal is shown
 * at the evidence hop it names, with the consent request to its provider.
 */
export function ReexportFlags(props: {
  c: Case;
  officer: boolean;
  onDone: (response: CaseResponse, message?: string) => void;
}) {
  const flags = props.c.reexportFlags;
  if (flags.length === 0) return null;
  return (
    <section class="panel reexport-flags" aria-labelledby="reexport-title">
      <h2 id="reexport-title">{t('case.reexport.title')}</h2>
      <p class="hint">{t('case.reexport.hint')}</p>
      {flags.map((flag) => (
        <Flag key={flag.flagId} c={props.c} flag={flag} officer={props.officer} onDone={props.onDone} />
      ))}
    </section>
  );
}
