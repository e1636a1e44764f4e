import {
  AuthorityDefinition,
  type Case,
  CaseRole,
  CaseState,
  CasesDefinition,
  type ListCasesResponse,
  NodeEventType,
  Priority,
} from '@tracenet/proto/browser';
import { useEffect, useRef, useState } from 'preact/hooks';
import { onNodeEvent, rpc } from '../api.js';
import { ErrorMessage, Field, Pager, Screen, Time } from '../components.js';
import { formatDuration, formatNumber, participantName, t } from '../i18n.js';
import { href, navigate, type Route } from '../router.js';
import { PeerText } from './case/answer.js';
import { isFinal, priorityLabel, roleLabel, STATES, stateKey, stateLabel } from './case/labels.js';

const PAGE = 25;
/** Overdue cases counted for the banner; beyond, it says "100+" (each listed case carries its request). */
const OVERDUE_COUNTED = 100;

/** The filters of the inbox, kept in the route's query so that a filtered view can be linked and reloaded. */
interface Filters {
  box: 'received' | 'sent' | 'all';
  state: string;
  peer: string;
  overdue: boolean;
  from: string;
  to: string;
}

function filtersOf(query: URLSearchParams): Filters {
  const box = query.get('box');
  return {
    box: box === 'sent' || box === 'all' ? box : 'received',
    state: query.get('state') ?? '',
    peer: query.get('peer') ?? '',
    overdue: query.get('overdue') === '1',
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
  };
}

function queryOf(filters: Filters): Record<string, string> {
  const query: Record<string, string> = {};
  if (filters.box !== 'received') query.box = filters.box;
  if (filters.state) query.state = filters.state;
  if (filters.peer) query.peer = filters.peer;
  if (filters.overdue) query.overdue = '1';
  if (filters.from) query.from = filters.from;
  if (filters.to) query.to = filters.to;
  return query;
}

const ROLE_OF_BOX = {
  received: CaseRole.CASE_ROLE_REQUESTED,
  sent: CaseRole.CASE_ROLE_REQUESTER,
  all: CaseRole.CASE_ROLE_UNSPECIFIED,
} as const;

function stateValue(key: string): CaseState {
  return STATES.find((s) => stateKey(s) === key) ?? CaseState.CASE_STATE_UNSPECIFIED;
}

/** The deadline that matters now: acknowledgement while unacknowledged, else the answer; 0 when none. */
export function dueOf(c: Case): { kind: 'acknowledge' | 'answer'; at: number } | undefined {
  if (isFinal(c.state)) return undefined;
  const unacknowledged = c.state === CaseState.CASE_STATE_RECEIVED || c.state === CaseState.CASE_STATE_SENT;
  if (unacknowledged && c.acknowledgeDueAtMs > 0) return { kind: 'acknowledge', at: c.acknowledgeDueAtMs };
  const waiting = [
    CaseState.CASE_STATE_SENT,
    CaseState.CASE_STATE_RECEIVED,
    CaseState.CASE_STATE_ACKNOWLEDGED,
    CaseState.CASE_STATE_DELAYED,
    CaseState.CASE_STATE_CLARIFICATION,
  ].includes(c.state);
  if (waiting && c.answerDueAtMs > 0) return { kind: 'answer', at: c.answerDueAtMs };
  return undefined;
}

const urgent = (c: Case) => c.request?.priority === Priority.PRIORITY_URGENT;

/** Overdue first, then urgent, then the most recently changed. */
function order(a: Case, b: Case): number {
  if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
  if (urgent(a) !== urgent(b)) return urgent(a) ? -1 : 1;
  return b.updatedAtMs - a.updatedAtMs;
}

function dayStart(date: string): number {
  return date ? new Date(`${date}T00:00:00`).getTime() : 0;
}

/** The deadline cell: the date, and in words whether it passed (never by colour alone). */
function Deadline({ c }: { c: Case }) {
  const due = dueOf(c);
  if (!due) return <span class="muted">{t('inbox.due.none')}</span>;
  const late = c.overdue || due.at < Date.now();
  return (
    <span class={late ? 'due due-late' : 'due'}>
      <span class="due-kind">{t(`inbox.due.${due.kind}`)}</span> <Time ms={due.at} />
      {late ? (
        <strong class="badge danger">
          {t('inbox.overdueBy', { time: formatDuration(Math.max(60_000, Date.now() - due.at)) })}
        </strong>
      ) : (
        <span class="due-left">
          {t('inbox.dueIn', { time: formatDuration(Math.max(60_000, due.at - Date.now())) })}
        </span>
      )}
    </span>
  );
}

function Row({ c }: { c: Case }) {
  const classes = [c.overdue ? 'overdue' : '', urgent(c) ? 'urgent' : ''].filter(Boolean).join(' ');
  return (
    <tr class={classes || undefined} data-case-id={c.caseId}>
      <td>
        <a href={href('cases', c.caseId)} class="case-link">
          {c.caseId}
        </a>
        <div class="muted trace-id">{t('inbox.traceId', { id: `\u2068${c.traceId}\u2069` })}</div>
      </td>
      <td>
        <span>{participantName(c.peer)}</span>
        <div class="muted">{roleLabel(c.role)}</div>
      </td>
      <td>
        <span class={`badge state-${stateKey(c.state)}`}>{stateLabel(c.state)}</span>
        {c.undelivered && <div class="badge danger">{t('inbox.undelivered')}</div>}
      </td>
      <td>
        {urgent(c) ? (
          <strong class="badge danger">{priorityLabel(c.request?.priority ?? Priority.PRIORITY_UNSPECIFIED)}</strong>
        ) : (
          priorityLabel(c.request?.priority ?? Priority.PRIORITY_UNSPECIFIED)
        )}
      </td>
      <td>
        <Time ms={c.createdAtMs} />
        <div class="muted">
          {t('inbox.updatedAt')} <Time ms={c.updatedAtMs} />
        </div>
      </td>
      <td>
        <Deadline c={c} />
      </td>
      <td class="reference">
        <PeerText text={c.peerReference || c.localReference} />
      </td>
    </tr>
  );
}

interface Page {
  cases: Case[];
  nextCursor: string;
}

/** The inbox: the cases of this node, received requests first, with deadlines, filters, paging and live updates. */
export function InboxScreen(props: { route: Route }) {
  const filters = filtersOf(props.route.query);
  const key = JSON.stringify(filters);
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [overdueCount, setOverdueCount] = useState<{ count: number; more: boolean } | undefined>(undefined);
  // The overdue cases are listed first even when the page that holds them is not loaded yet.
  const [overdueCases, setOverdueCases] = useState<Case[]>([]);
  const [peers, setPeers] = useState<string[]>([]);
  const [live, setLive] = useState('');
  const [busy, setBusy] = useState(false);
  const shown = useRef(0);

  const request = (limit: number, cursor = '') =>
    rpc(CasesDefinition, 'listCases', {
      role: ROLE_OF_BOX[filters.box],
      state: stateValue(filters.state),
      peer: filters.peer,
      overdueOnly: filters.overdue,
      limit,
      cursor,
    });

  /** Loads the first page again, as long as what was shown (a live update keeps the officer's place). */
  const load = async (announce?: string) => {
    setBusy(true);
    try {
      const limit = Math.min(500, Math.max(PAGE, shown.current));
      const [first, overdue]: [ListCasesResponse, ListCasesResponse] = await Promise.all([
        request(limit),
        rpc(CasesDefinition, 'listCases', {
          role: ROLE_OF_BOX[filters.box],
          peer: filters.peer,
          overdueOnly: true,
          limit: OVERDUE_COUNTED,
        }),
      ]);
      setPage({ cases: first.cases, nextCursor: first.nextCursor });
      setOverdueCount({ count: overdue.cases.length, more: overdue.nextCursor !== '' });
      setOverdueCases(overdue.cases);
      shown.current = first.cases.length;
      setError(undefined);
      if (announce) setLive(announce);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const more = async () => {
    if (!page?.nextCursor) return;
    setBusy(true);
    try {
      const next = await request(PAGE, page.nextCursor);
      const cases = [...page.cases, ...next.cases];
      setPage({ cases, nextCursor: next.nextCursor });
      shown.current = cases.length;
      setLive(t('inbox.live.more', { count: next.cases.length }));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: reloads when the filters change
  useEffect(() => {
    shown.current = 0;
    setPage(undefined);
    setOverdueCases([]);
    void load();
  }, [key]);

  useEffect(() => {
    rpc(AuthorityDefinition, 'listPeers', {}).then(
      (r) => setPeers(r.peers.map((p) => p.participantId)),
      () => setPeers([]),
    );
  }, []);

  // Live updates: a case created or changed on this node reloads the list (at most once a second).
  // biome-ignore lint/correctness/useExhaustiveDependencies: the listener reads the latest filters through `key`
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let announce = '';
    const stop = onNodeEvent((event) => {
      const relevant = [
        NodeEventType.NODE_EVENT_TYPE_CASE_CREATED,
        NodeEventType.NODE_EVENT_TYPE_CASE_CHANGED,
        NodeEventType.NODE_EVENT_TYPE_CASE_OVERDUE,
        NodeEventType.NODE_EVENT_TYPE_CASE_PURGED,
      ];
      if (!relevant.includes(event.type)) return;
      if (event.type === NodeEventType.NODE_EVENT_TYPE_CASE_CREATED)
        announce = t('inbox.live.created', { peer: participantName(event.peer) });
      else if (!announce) announce = t('inbox.live.changed');
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        const said = announce;
        announce = '';
        void load(said);
      }, 300);
    });
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [key]);

  const set = (change: Partial<Filters>) => navigate(href('inbox', queryOf({ ...filters, ...change })));
  const from = dayStart(filters.from);
  const to = filters.to ? dayStart(filters.to) + 86_400_000 : 0;
  const loaded = page?.cases ?? [];
  const ids = new Set(loaded.map((c) => c.caseId));
  const early = page
    ? overdueCases.filter((c) => !ids.has(c.caseId) && (!filters.state || stateKey(c.state) === filters.state))
    : [];
  const rows = [...early, ...loaded]
    .filter((c) => (from === 0 || c.createdAtMs >= from) && (to === 0 || c.createdAtMs < to))
    .sort(order);

  return (
    <Screen title={t('inbox.title')}>
      <nav class="inbox-tabs" aria-label={t('inbox.boxes')}>
        {(['received', 'sent', 'all'] as const).map((box) => (
          <a
            key={box}
            href={href('inbox', queryOf({ ...filters, box }))}
            aria-current={filters.box === box ? 'page' : undefined}
          >
            {t(`inbox.box.${box}`)}
          </a>
        ))}
      </nav>
      <form class="filters" aria-label={t('inbox.filters')} onSubmit={(e) => e.preventDefault()}>
        <Field label={t('inbox.filter.peer')}>
          {(id) => (
            <select id={id} name="peer" value={filters.peer} onChange={(e) => set({ peer: e.currentTarget.value })}>
              <option value="">{t('inbox.filter.anyPeer')}</option>
              {[...new Set([...peers, filters.peer].filter(Boolean))].map((p) => (
                <option key={p} value={p}>
                  {participantName(p)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('inbox.filter.state')}>
          {(id) => (
            <select id={id} name="state" value={filters.state} onChange={(e) => set({ state: e.currentTarget.value })}>
              <option value="">{t('inbox.filter.anyState')}</option>
              {STATES.map((s) => (
                <option key={s} value={stateKey(s)}>
                  {stateLabel(s)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('inbox.filter.from')}>
          {(id) => (
            <input
              id={id}
              name="from"
              type="date"
              value={filters.from}
              onChange={(e) => set({ from: e.currentTarget.value })}
            />
          )}
        </Field>
        <Field label={t('inbox.filter.to')}>
          {(id) => (
            <input
              id={id}
              name="to"
              type="date"
              value={filters.to}
              onChange={(e) => set({ to: e.currentTarget.value })}
            />
          )}
        </Field>
        <div class="field checkbox">
          <label>
            <input
              type="checkbox"
              name="overdue"
              checked={filters.overdue}
              onChange={(e) => set({ overdue: e.currentTarget.checked })}
            />{' '}
            {t('inbox.filter.overdueOnly')}
          </label>
        </div>
        <button
          type="button"
          class="plain"
          onClick={() => navigate(href('inbox', queryOf({ ...filtersOf(new URLSearchParams()), box: filters.box })))}
        >
          {t('inbox.filter.clear')}
        </button>
      </form>
      {overdueCount && overdueCount.count > 0 && (
        <p class="notice overdue-summary">
          <strong>
            {t('inbox.overdueCount', {
              count: overdueCount.count,
              shown: `${formatNumber(overdueCount.count)}${overdueCount.more ? '+' : ''}`,
            })}
          </strong>
        </p>
      )}
      <p role="status" class="visually-hidden" aria-live="polite">
        {live}
      </p>
      <ErrorMessage error={error} />
      {!page && !error && (
        <p class="loading" aria-busy="true">
          {t('inbox.loading')}
        </p>
      )}
      {page && rows.length === 0 && <p class="empty">{t('inbox.empty')}</p>}
      {page && rows.length > 0 && (
        <div class="table-scroll">
          <table class="inbox-table" aria-busy={busy}>
            <caption class="visually-hidden">{t('inbox.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('inbox.col.case')}</th>
                <th scope="col">{t('inbox.col.peer')}</th>
                <th scope="col">{t('inbox.col.state')}</th>
                <th scope="col">{t('inbox.col.priority')}</th>
                <th scope="col">{t('inbox.col.received')}</th>
                <th scope="col">{t('inbox.col.deadline')}</th>
                <th scope="col">{t('inbox.col.reference')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <Row key={c.caseId} c={c} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page && <Pager shown={rows.length} hasMore={page.nextCursor !== '' && !busy} onMore={() => void more()} />}
    </Screen>
  );
}
