import {
  AddPeerRequest,
  AnswerCaseRequest,
  type Approval,
  ApprovalState,
  ApprovalStep,
  AuthorityDefinition,
  DecideConsentRequest,
  OnwardDisclosure,
  PeerCardBody,
  type PeerPolicy,
  ReasonCode,
  ReleaseAction,
  RefuseCaseRequest,
  RemovePeerRequest,
  RestrictCaseRequest,
  SetPeerPolicyRequest,
  ShareCaseRequest,
  TraceOutcome,
  type UseRestrictions,
  type WeaponEvent,
  WeaponEventType,
} from '@tracenet/proto/browser';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { rpc } from '../../api.js';
import { formatDate, formatDuration, formatNumber, participantName, t } from '../../i18n.js';
import { grouped, hex } from '../admin/card-file.js';

/** "traced", "exported", "legal_confidentiality": the lower-case tail of an enum value's name, for catalogue keys. */
function enumKey(names: Record<number, string>, value: number, prefix: string, known: readonly string[]): string {
  const name = (names[value] ?? '').replace(prefix, '').toLowerCase();
  return known.includes(name) ? name : 'unspecified';
}

const OUTCOMES = ['traced', 'referred', 'no_record', 'insufficient_information'];
const EVENT_TYPES = [
  'manufactured',
  'exported',
  'imported',
  'transferred',
  'seized',
  'found',
  'surrendered',
  'lost',
  'stolen',
  'deactivated',
  'reactivated',
  'converted',
  'destroyed',
];
const REASONS = ['ongoing_criminal_investigation', 'legal_confidentiality', 'national_security', 'other'];
const DISCLOSURES = ['none', 'with_consent', 'listed'];
const ACTIONS = ['release', 'withhold', 'on_request', 'approval'];

const outcomeText = (o: TraceOutcome) => t(`approvals.outcome.${enumKey(TraceOutcome, o, 'TRACE_OUTCOME_', OUTCOMES)}`);
const eventText = (e: WeaponEventType) =>
  t(`approvals.event.${enumKey(WeaponEventType, e, 'WEAPON_EVENT_TYPE_', EVENT_TYPES)}`);
const reasonText = (r: ReasonCode) => t(`approvals.reason.${enumKey(ReasonCode, r, 'REASON_CODE_', REASONS)}`);

/** Text written by an officer or a peer: kept in its own direction, never parsed as markup. */
function Typed({ text }: { text: string }) {
  return <bdi class="approvals-typed">{text}</bdi>;
}

/** A term and its value; nothing when the value is empty. */
function Fact(props: { term: string; children: ComponentChildren; show?: boolean }) {
  if (props.show === false) return null;
  return (
    <>
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

function yesNo(value: boolean | undefined): string {
  return value ? t('approvals.held.yes') : t('approvals.held.no');
}

/** The events an answer would release, one row each. */
function Events({ events, caption }: { events: readonly WeaponEvent[]; caption: string }) {
  if (events.length === 0) return null;
  const cell = (value: string) =>
    value === '' ? <span class="approvals-none">{t('approvals.held.none')}</span> : <Typed text={value} />;
  return (
    <div class="approvals-table approvals-events">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('approvals.held.event.type')}</th>
            <th scope="col">{t('approvals.held.event.date')}</th>
            <th scope="col">{t('approvals.held.event.place')}</th>
            <th scope="col">{t('approvals.held.event.agency')}</th>
            <th scope="col">{t('approvals.held.event.destination')}</th>
            <th scope="col">{t('approvals.held.event.licence')}</th>
            <th scope="col">{t('approvals.held.event.endUser')}</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the events of a held request never move
            <tr key={i}>
              <th scope="row">{eventText(e.type)}</th>
              <td>{e.date === '' ? cell('') : formatDate(e.date)}</td>
              <td>{cell(e.place)}</td>
              <td>{cell(e.agency)}</td>
              <td>{cell(e.destination === '' ? '' : participantName(e.destination))}</td>
              <td>{cell(e.licence)}</td>
              <td>{cell(e.endUser)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Use restrictions in words: purpose, onward disclosure, listed participants, retention. */
function Restrictions({ restrictions, unset }: { restrictions: UseRestrictions | undefined; unset: string }) {
  if (!restrictions) return <p>{unset}</p>;
  const disclosure = enumKey(OnwardDisclosure, restrictions.onwardDisclosure, 'ONWARD_DISCLOSURE_', DISCLOSURES);
  return (
    <dl class="approvals-facts">
      <Fact term={t('approvals.held.restrictions.purpose')}>
        {restrictions.purpose === '' ? (
          t('approvals.held.restrictions.purposeDefault')
        ) : (
          <Typed text={restrictions.purpose} />
        )}
      </Fact>
      <Fact term={t('approvals.held.restrictions.disclosure')}>{t(`approvals.disclosure.${disclosure}`)}</Fact>
      <Fact term={t('approvals.held.restrictions.listed')} show={restrictions.listedParticipants.length > 0}>
        {restrictions.listedParticipants.map(participantName).join(t('approvals.held.separator'))}
      </Fact>
      <Fact term={t('approvals.held.restrictions.retention')}>
        {restrictions.retentionDays === 0
          ? t('approvals.held.restrictions.retentionDefault')
          : t('approvals.held.restrictions.days', { count: restrictions.retentionDays })}
      </Fact>
    </dl>
  );
}

/** An answer (or a restriction's partial answer) as it would be sent. */
function Answer({ answer }: { answer: AnswerCaseRequest }) {
  const referral = answer.referral;
  return (
    <>
      <dl class="approvals-facts">
        <Fact term={t('approvals.held.outcome')}>
          <strong>{outcomeText(answer.outcome)}</strong>
        </Fact>
        <Fact term={t('approvals.held.lastLegalRecord')} show={answer.lastLegalRecord !== ''}>
          <Typed text={answer.lastLegalRecord} />
        </Fact>
        <Fact term={t('approvals.held.pointOfDiversion')} show={answer.pointOfDiversion !== ''}>
          <Typed text={answer.pointOfDiversion} />
        </Fact>
        <Fact term={t('approvals.held.referral')} show={referral !== undefined}>
          {referral && (
            <>
              <strong>{participantName(referral.participant)}</strong>
              {referral.basis !== '' && (
                <div>
                  <Typed text={referral.basis} />
                </div>
              )}
            </>
          )}
        </Fact>
        <Fact term={t('approvals.held.details')} show={answer.details !== ''}>
          <Typed text={answer.details} />
        </Fact>
      </dl>
      <Events events={answer.history} caption={t('approvals.held.history')} />
      {referral?.event && <Events events={[referral.event]} caption={t('approvals.held.referralEvent')} />}
      <h4>{t('approvals.held.restrictions.title')}</h4>
      <Restrictions restrictions={answer.restrictions} unset={t('approvals.held.restrictions.unset')} />
      {answer.release.length > 0 && (
        <>
          <h4>{t('approvals.held.release.title')}</h4>
          <p class="hint">{t('approvals.held.release.hint')}</p>
          <ul>
            {answer.release.map((path) => (
              <li key={path} class="mono">
                {path}
              </li>
            ))}
          </ul>
        </>
      )}
      <p class="hint">{t('approvals.held.releasePolicy')}</p>
    </>
  );
}

/** The reason and explanation of a refusal or restriction. */
function Reason({ reason, explanation }: { reason: ReasonCode; explanation: string }) {
  return (
    <dl class="approvals-facts">
      <Fact term={t('approvals.held.reason')}>
        <strong>{reasonText(reason)}</strong>
      </Fact>
      <Fact term={t('approvals.held.explanation')} show={explanation !== ''}>
        <Typed text={explanation} />
      </Fact>
    </dl>
  );
}

/** A duration setting of a peer policy: 0 means the node's default. */
function within(ms: number): string {
  return ms === 0 ? t('approvals.held.policy.default') : formatDuration(ms);
}

/** A setting of a held policy: its new value and, when it changes the current one, what it was. */
function Setting(props: { term: string; value: string; was: string | undefined }) {
  const changed = props.was !== undefined && props.was !== props.value;
  return (
    <Fact term={props.term}>
      {props.value}
      {changed && (
        <>
          {' '}
          <span class="badge approvals-changed">{t('approvals.held.policy.changed')}</span>{' '}
          <span class="approvals-was">{t('approvals.held.policy.now', { value: props.was ?? '' })}</span>
        </>
      )}
    </Fact>
  );
}

/** The node's current policy for the participant, to show what a pending change changes. */
function useCurrentPolicy(participantId: string, compare: boolean): PeerPolicy | null | undefined {
  // undefined while loading, null when the node gave none.
  const [current, setCurrent] = useState<PeerPolicy | null | undefined>(undefined);
  useEffect(() => {
    setCurrent(undefined);
    if (!compare) return;
    let live = true;
    rpc(AuthorityDefinition, 'getPeerPolicy', { participantId }).then(
      (r) => {
        if (live) setCurrent(r.policy ?? null);
      },
      () => {
        if (live) setCurrent(null);
      },
    );
    return () => {
      live = false;
    };
  }, [participantId, compare]);
  return current;
}

/** The settings of a peer policy as words, one per line of the review. */
function settings(policy: PeerPolicy): Array<[string, string]> {
  return [
    [t('approvals.held.policy.acceptRequests'), yesNo(policy.acceptRequests)],
    [t('approvals.held.policy.autoAcknowledge'), yesNo(policy.autoAcknowledge)],
    [t('approvals.held.policy.autoAnswer'), yesNo(policy.autoAnswer)],
    [t('approvals.held.policy.autoAnswerNoRecord'), yesNo(policy.autoAnswerNoRecord)],
    [t('approvals.held.policy.acknowledgeWithin'), within(policy.acknowledgeWithinMs)],
    [t('approvals.held.policy.answerWithin'), within(policy.answerWithinMs)],
    [t('approvals.held.policy.allowLookups'), yesNo(policy.allowLookups)],
    [
      t('approvals.held.policy.lookupsPerMinute'),
      policy.lookupsPerMinute === 0 ? t('approvals.held.policy.default') : formatNumber(policy.lookupsPerMinute),
    ],
  ];
}

/** "Changed" beside a heading whose part of the policy a pending change alters. */
function ChangedMark({ changed }: { changed: boolean }) {
  return changed ? (
    <>
      {' '}
      <span class="badge approvals-changed">{t('approvals.held.policy.changed')}</span>
    </>
  ) : null;
}

/**
 * A peer policy's settings as the approval would set them; while the step waits, each setting it
 * changes is marked, with the value it replaces.
 */
function Policy({ policy, compare }: { policy: PeerPolicy; compare: boolean }) {
  const star = policy.participantId === '*';
  const current = useCurrentPolicy(policy.participantId, compare);
  const before = current ? settings(current) : undefined;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return (
    <>
      {compare && current !== null && (
        <p class="hint">{current ? t('approvals.held.policy.compared') : t('common.loading')}</p>
      )}
      <dl class="approvals-facts">
        <Fact term={t('approvals.participant')}>
          {star ? t('approvals.held.policy.everyone') : participantName(policy.participantId)}
        </Fact>
        {!star &&
          settings(policy).map(([term, value], i) => (
            <Setting key={term} term={term} value={value} was={before?.[i]?.[1]} />
          ))}
      </dl>
      {!star && (
        <>
          <h4>
            {t('approvals.held.policy.restrictions')}
            <ChangedMark changed={!!current && !same(current.defaultRestrictions, policy.defaultRestrictions)} />
          </h4>
          <Restrictions
            restrictions={policy.defaultRestrictions}
            unset={t('approvals.held.policy.restrictionsUnset')}
          />
        </>
      )}
      <h4>
        {t('approvals.held.policy.rules')}
        <ChangedMark changed={!!current && !same(current.releaseRules, policy.releaseRules)} />
      </h4>
      {policy.releaseRules.length === 0 ? (
        <p>{t('approvals.held.policy.noRules')}</p>
      ) : (
        <ol>
          {policy.releaseRules.map((rule, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the order of the rules is their meaning
            <li key={i}>
              <span class="mono">{rule.field}</span>
              {': '}
              {t(`approvals.action.${enumKey(ReleaseAction, rule.action, 'RELEASE_ACTION_', ACTIONS)}`)}
              {rule.eventTypes.length > 0 && (
                <>
                  {' '}
                  {t('approvals.held.policy.forEvents', {
                    events: rule.eventTypes.map(eventText).join(t('approvals.held.separator')),
                  })}
                </>
              )}
              {rule.outcomes.length > 0 && (
                <>
                  {' '}
                  {t('approvals.held.policy.forOutcomes', {
                    outcomes: rule.outcomes.map(outcomeText).join(t('approvals.held.separator')),
                  })}
                </>
              )}
              {rule.reason !== '' && (
                <div>
                  <Typed text={rule.reason} />
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

/** The card a peer change would pin (AddPeerRequest's JSON): who, where, and the fingerprints to compare. */
function Card({ json }: { json: unknown }) {
  let body: PeerCardBody | undefined;
  let replaceKeys = false;
  try {
    const request = AddPeerRequest.fromJSON(json);
    replaceKeys = request.replaceKeys === true;
    body = request.card ? PeerCardBody.decode(request.card.body) : undefined;
  } catch {
    body = undefined;
  }
  if (!body) return <p>{t('approvals.held.card.unreadable')}</p>;
  return (
    <>
      <dl class="approvals-facts">
        <Fact term={t('approvals.participant')}>
          <strong>{participantName(body.participantId)}</strong> <span class="mono">{body.participantId}</span>
        </Fact>
        <Fact term={t('approvals.held.card.name')} show={body.displayName !== ''}>
          <Typed text={body.displayName} />
        </Fact>
        <Fact term={t('approvals.held.card.endpoints')} show={body.endpoints.length > 0}>
          <ul class="approvals-plain">
            {body.endpoints.map((e) => (
              <li key={e} class="mono" dir="ltr">
                {e}
              </li>
            ))}
          </ul>
        </Fact>
        <Fact term={t('approvals.held.card.keyId')} show={body.keyId !== ''}>
          <span class="mono" dir="ltr">
            {grouped(body.keyId)}
          </span>
        </Fact>
        <Fact term={t('approvals.held.card.tls')} show={body.tlsCertificateSha256.length > 0}>
          <span class="mono approvals-fingerprint" dir="ltr">
            {grouped(hex(body.tlsCertificateSha256))}
          </span>
        </Fact>
        <Fact term={t('approvals.held.card.replaceKeys')}>{yesNo(replaceKeys)}</Fact>
      </dl>
      <p class="hint">{t('approvals.held.card.hint')}</p>
    </>
  );
}

/** Any other held request: its fields, path by path, as readable pairs. */
function Pairs({ value }: { value: unknown }) {
  const pairs: Array<[string, string]> = [];
  const walk = (v: unknown, path: string) => {
    if (v !== null && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v as Record<string, unknown>))
        walk(inner, Array.isArray(v) ? `${path}[${k}]` : path === '' ? k : `${path}.${k}`);
    } else if (pairs.length < 200) pairs.push([path, String(v)]);
  };
  walk(value, '');
  if (pairs.length === 0) return <p>{t('approvals.held.empty')}</p>;
  return (
    <dl class="approvals-facts">
      {pairs.map(([path, text]) => (
        <Fact key={path} term={path}>
          <Typed text={text} />
        </Fact>
      ))}
    </dl>
  );
}

/** What a held request would carry out, decoded with the request type of its step. */
function Content(props: { step: ApprovalStep; json: unknown; pending: boolean }) {
  try {
    return decoded(props.step, props.json, props.pending);
  } catch {
    // A value this console does not know (a newer node's enum value): the fields as they are.
    return <Pairs value={props.json} />;
  }
}

function decoded(step: ApprovalStep, json: unknown, pending: boolean) {
  switch (step) {
    case ApprovalStep.APPROVAL_STEP_ANSWER:
      return <Answer answer={AnswerCaseRequest.fromJSON(json)} />;
    case ApprovalStep.APPROVAL_STEP_RESTRICTION: {
      const r = RestrictCaseRequest.fromJSON(json);
      return (
        <>
          <Reason reason={r.reason} explanation={r.explanation} />
          <h4>{t('approvals.held.partial')}</h4>
          {r.partialAnswer ? <Answer answer={r.partialAnswer} /> : <p>{t('approvals.held.noPartial')}</p>}
        </>
      );
    }
    case ApprovalStep.APPROVAL_STEP_REFUSAL: {
      const r = RefuseCaseRequest.fromJSON(json);
      return <Reason reason={r.reason} explanation={r.explanation} />;
    }
    case ApprovalStep.APPROVAL_STEP_SHARE: {
      const r = ShareCaseRequest.fromJSON(json);
      return (
        <dl class="approvals-facts">
          <Fact term={t('approvals.held.third')}>{participantName(r.thirdParticipant)}</Fact>
          <Fact term={t('approvals.held.note')} show={r.note !== ''}>
            <Typed text={r.note} />
          </Fact>
        </dl>
      );
    }
    case ApprovalStep.APPROVAL_STEP_CONSENT_DECISION: {
      const r = DecideConsentRequest.fromJSON(json);
      return (
        <dl class="approvals-facts">
          <Fact term={t('approvals.held.consent')}>
            <span class="mono">{r.consentId}</span>
          </Fact>
          <Fact term={t('approvals.held.decision')}>
            <strong>{r.granted ? t('approvals.held.granted') : t('approvals.held.refused')}</strong>
          </Fact>
          <Fact term={t('approvals.held.conditions')} show={r.conditions !== ''}>
            <Typed text={r.conditions} />
          </Fact>
        </dl>
      );
    }
    case ApprovalStep.APPROVAL_STEP_PEER_POLICY: {
      const { policy } = SetPeerPolicyRequest.fromJSON(json);
      return policy ? <Policy policy={policy} compare={pending} /> : <Pairs value={json} />;
    }
    case ApprovalStep.APPROVAL_STEP_ADD_PEER:
      return <Card json={json} />;
    case ApprovalStep.APPROVAL_STEP_REMOVE_PEER:
      return (
        <dl class="approvals-facts">
          <Fact term={t('approvals.participant')}>
            {participantName(RemovePeerRequest.fromJSON(json).participantId)}
          </Fact>
        </dl>
      );
    default:
      return <Pairs value={json} />;
  }
}

/**
 * The content a held step would send or set (`held_request_json`, docs/protocol.md 12.12 item 6),
 * structured and in the officer's language: an answer's outcome, events and use restrictions, a
 * refusal's reason, a policy's new settings, the card a peer change would pin.
 */
export function HeldRequest({ approval }: { approval: Approval }) {
  let json: unknown;
  try {
    json = approval.heldRequestJson === '' ? undefined : JSON.parse(approval.heldRequestJson);
  } catch {
    json = undefined;
  }
  return (
    <section class="approvals-held" aria-labelledby="approval-held-title">
      <h3 id="approval-held-title">
        {approval.state === ApprovalState.APPROVAL_STATE_APPROVED
          ? t('approvals.held.contentApproved')
          : approval.state === ApprovalState.APPROVAL_STATE_REJECTED
            ? t('approvals.held.contentRejected')
            : t('approvals.held.content')}
      </h3>
      {json === undefined || json === null || typeof json !== 'object' ? (
        <p>{t('approvals.held.unavailable')}</p>
      ) : (
        <Content step={approval.step} json={json} pending={approval.state === ApprovalState.APPROVAL_STATE_PENDING} />
      )}
    </section>
  );
}
