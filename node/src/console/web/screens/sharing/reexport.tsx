import {
  CasesDefinition,
  NodeEventType,
  ReexportCondition,
  ReexportDirection,
  type ReexportFlag,
} from '@tracenet/proto/browser';
import { useEffect } from 'preact/hooks';
import { onNodeEvent, rpc } from '../../api.js';
import { Show, Time, useLoad } from '../../components.js';
import { formatDate, formatNumber, participantName, t } from '../../i18n.js';
import { href } from '../../router.js';
import { eventTypeLabel } from '../case/labels.js';
import { Participant } from './restrictions.js';

const EVENTS = new Set([
  NodeEventType.NODE_EVENT_TYPE_REEXPORT_FLAGGED,
  NodeEventType.NODE_EVENT_TYPE_REEXPORT_NOTIFIED,
]);
const KINDS = new Set(['reexported', 'found_in_third_state']);

function condition(flag: ReexportFlag): string {
  const c = flag.undertaking?.condition;
  if (c === ReexportCondition.REEXPORT_CONDITION_PROHIBITED) return t('sharing.reexport.prohibited');
  if (c === ReexportCondition.REEXPORT_CONDITION_WITH_CONSENT) return t('sharing.reexport.withConsent');
  return t('sharing.reexport.conditionUnknown');
}

/**
 * The evidence of a flag in one cell: each hop's event, date and licence, in chain order, with a
 * link to this node's case it came from (a notice received names the sender's cases: no link).
 */
function Evidence({ flag, received }: { flag: ReexportFlag; received: boolean }) {
  return (
    <ol class="reexport-hops">
      {flag.evidence.map((hop, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: hops are in chain order, without id
        <li key={i}>
          {hop.event && <strong>{eventTypeLabel(hop.event.type)}</strong>}{' '}
          {hop.event?.date ? formatDate(hop.event.date) : '—'}
          {hop.event?.licence && (
            <>
              {' · '}
              {t('sharing.reexport.licence')} <bdi class="mono">{hop.event.licence}</bdi>
            </>
          )}
          {' · '}
          {participantName(hop.source)}
          {!received && hop.caseId !== '' && (
            <>
              {' · '}
              <a href={href('cases', hop.caseId)} class="mono">
                {hop.caseId}
              </a>
            </>
          )}
        </li>
      ))}
    </ol>
  );
}

function Flags(props: { flags: readonly ReexportFlag[]; received: boolean }) {
  if (props.flags.length === 0)
    return <p>{props.received ? t('sharing.reexport.noneReceived') : t('sharing.reexport.noneRaised')}</p>;
  return (
    <table class="reexport-table">
      <thead>
        <tr>
          <th scope="col">{t('sharing.when')}</th>
          <th scope="col">{props.received ? t('sharing.reexport.from') : t('sharing.reexport.exporter')}</th>
          <th scope="col">{t('sharing.reexport.undertaking')}</th>
          <th scope="col">{t('sharing.reexport.what')}</th>
          <th scope="col">{t('sharing.reexport.evidence')}</th>
          {!props.received && <th scope="col">{t('sharing.reexport.notified')}</th>}
        </tr>
      </thead>
      <tbody>
        {props.flags.map((flag) => (
          <tr key={`${flag.raisedBy}/${flag.flagId}`} class="reexport-row">
            <td>
              <Time ms={flag.raisedAtMs} />
            </td>
            <td>
              <Participant id={props.received ? flag.raisedBy : flag.exporter} />
            </td>
            <td>
              {condition(flag)}
              {flag.undertaking?.certificateReference && (
                <span class="sub">
                  <bdi>{flag.undertaking.certificateReference}</bdi>
                </span>
              )}
            </td>
            <td>
              {t('sharing.reexport.route', {
                exporter: participantName(flag.exporter),
                state: participantName(flag.undertakingState),
                later: participantName(flag.laterState),
              })}
              <span class="sub">
                {KINDS.has(flag.kind) ? t(`sharing.reexport.kind.${flag.kind}`) : <bdi>{flag.kind}</bdi>}
              </span>
            </td>
            <td>
              <Evidence flag={flag} received={props.received} />
            </td>
            {!props.received && (
              <td>{flag.notifiedAtMs > 0 ? <Time ms={flag.notifiedAtMs} /> : t('sharing.reexport.notNotified')}</td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Re-export notices: the possible unauthorised re-exports of weapons this node exported that peers
 * notified it of, and those this node raised in its own chains (Cases/ListReexportFlags, protocol
 * 18), for the information sharing the UN recommendations ask for. Live: a new flag or notice reloads.
 */
export function ReexportNotices() {
  const [loaded, reload] = useLoad(
    () => rpc(CasesDefinition, 'listReexportFlags', { direction: ReexportDirection.REEXPORT_DIRECTION_UNSPECIFIED }),
    [],
  );
  useEffect(() => {
    // The stream replays earlier events on connecting: one reload per burst.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = onNodeEvent((event) => {
      if (!EVENTS.has(event.type)) return;
      clearTimeout(timer);
      timer = setTimeout(reload, 300);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, []);
  return (
    <section aria-labelledby="sharing-reexport">
      <h2 id="sharing-reexport">{t('sharing.reexport.heading')}</h2>
      <p class="hint">{t('sharing.reexport.intro')}</p>
      <Show loaded={loaded}>
        {({ raised, received }) => (
          <>
            <h3>{t('sharing.reexport.receivedHeading', { shown: formatNumber(received.length) })}</h3>
            <Flags flags={received} received />
            <h3>{t('sharing.reexport.raisedHeading', { shown: formatNumber(raised.length) })}</h3>
            <Flags flags={raised} received={false} />
          </>
        )}
      </Show>
    </section>
  );
}
