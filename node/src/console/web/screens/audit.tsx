import { type AuditActor, type AuditEntry, AuthorityDefinition } from '@tracenet/proto/browser';
import { useState } from 'preact/hooks';
import { rpc } from '../api.js';
import { ActionButton, ErrorMessage, Field, Pager, Screen } from '../components.js';
import { currentLanguage, formatNumber, t } from '../i18n.js';
import type { Route } from '../router.js';
import { usePaged } from '../paged.js';

const PAGE = 500;

/** What the node filters (officer, client, time) and what the console filters on the entries read (type, case). */
interface AuditFilter {
  officerId: string;
  clientId: string;
  since: string;
  until: string;
  type: string;
  caseId: string;
}

const EMPTY: AuditFilter = { officerId: '', clientId: '', since: '', until: '', type: '', caseId: '' };

/** A `datetime-local` value (the officer's local time) as Unix ms; 0 for none. */
function toMs(value: string): number {
  if (value === '') return 0;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? 0 : ms;
}

function fromRoute(route: Route): AuditFilter {
  const q = route.query;
  return {
    officerId: q.get('officer') ?? '',
    clientId: q.get('client') ?? '',
    since: q.get('since') ?? '',
    until: q.get('until') ?? '',
    type: q.get('type') ?? '',
    caseId: q.get('case') ?? '',
  };
}

function actorText(actor: AuditActor | undefined): string {
  if (!actor) return t('audit.actor.none');
  const kind = ['officer', 'client', 'node', 'bootstrap'].includes(actor.kind) ? actor.kind : 'other';
  return t(`audit.actor.${kind}`, { id: `\u2068${actor.id}\u2069`, kind: actor.kind });
}

function parseFields(json: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(json);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Whether an entry passes the filters the node does not apply (type, case). */
function matches(entry: AuditEntry, filter: AuditFilter): boolean {
  if (filter.type !== '' && !entry.type.toLowerCase().includes(filter.type.toLowerCase())) return false;
  if (filter.caseId !== '') {
    const fields = parseFields(entry.fieldsJson);
    const ids = [fields.caseId, fields.case_id, fields.traceId, fields.correlationId, fields.messageId];
    if (!ids.some((id) => id === filter.caseId) && !entry.fieldsJson.includes(JSON.stringify(filter.caseId)))
      return false;
  }
  return true;
}

function Filters(props: { value: AuditFilter; onApply: (value: AuditFilter) => void }) {
  const [draft, setDraft] = useState(props.value);
  const input = (name: keyof AuditFilter, label: string, type: 'text' | 'datetime-local' = 'text', hint = '') => (
    <Field label={label} {...(hint ? { hint } : {})}>
      {(id, describedBy) => {
        const common = {
          id,
          name,
          'aria-describedby': describedBy,
          value: draft[name],
          onInput: (event: Event) => setDraft({ ...draft, [name]: (event.target as HTMLInputElement).value }),
        };
        return type === 'datetime-local' ? (
          <input type="datetime-local" {...common} />
        ) : (
          <input type="text" {...common} />
        );
      }}
    </Field>
  );
  return (
    <form
      class="filters audit-filters"
      aria-label={t('audit.filters')}
      onSubmit={(event) => {
        event.preventDefault();
        props.onApply({ ...draft, officerId: draft.officerId.trim(), clientId: draft.clientId.trim() });
      }}
    >
      {input('type', t('audit.filter.type'), 'text', t('audit.filter.typeHint'))}
      {input('caseId', t('audit.filter.case'))}
      {input('officerId', t('audit.filter.officer'))}
      {input('clientId', t('audit.filter.client'))}
      {input('since', t('audit.filter.since'), 'datetime-local')}
      {input('until', t('audit.filter.until'), 'datetime-local')}
      <div class="audit-filter-buttons">
        <button type="submit" class="primary">
          {t('audit.filter.apply')}
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft(EMPTY);
            props.onApply(EMPTY);
          }}
        >
          {t('audit.filter.clear')}
        </button>
      </div>
    </form>
  );
}

/** The outcome of VerifyAudit, in words: intact up to sequence N, or where the chain breaks. */
function Verify() {
  const [result, setResult] = useState<
    | {
        ok: boolean;
        entries: number;
        checkpoints: number;
        firstBrokenSeq: number;
        reason: string;
        headSeq: number;
        headHash: string;
      }
    | undefined
  >(undefined);
  return (
    <div class="audit-verify">
      <ActionButton
        kind="primary"
        onAction={async () => {
          setResult(undefined);
          const { result: found } = await rpc(AuthorityDefinition, 'verifyAudit', {});
          if (found) setResult(found);
        }}
      >
        {t('audit.verify.button')}
      </ActionButton>
      <div role="status" class="audit-verify-result">
        {result?.ok && (
          <p class="notice audit-intact">
            <strong>{t('audit.verify.intactTitle')}</strong>{' '}
            {t('audit.verify.intact', {
              head: formatNumber(result.headSeq),
              entries: result.entries,
              entriesShown: formatNumber(result.entries),
              checkpoints: result.checkpoints,
              checkpointsShown: formatNumber(result.checkpoints),
            })}
            <span class="audit-hash">
              {t('audit.verify.head')} <code>{result.headHash}</code>
            </span>
          </p>
        )}
      </div>
      {result && !result.ok && (
        <div role="alert" class="error audit-broken">
          <strong>{t('audit.verify.brokenTitle')}</strong>{' '}
          {t('audit.verify.broken', {
            seq: formatNumber(result.firstBrokenSeq),
            before: formatNumber(Math.max(0, result.firstBrokenSeq - 1)),
          })}{' '}
          <span lang="en" dir="auto">
            {result.reason}
          </span>
        </div>
      )}
    </div>
  );
}

function EntryRow({ entry }: { entry: AuditEntry }) {
  const fields = Object.entries(parseFields(entry.fieldsJson));
  return (
    <tr>
      <td class="mono">{formatNumber(entry.seq)}</td>
      <td>{entry.atMs > 0 && <time dateTime={new Date(entry.atMs).toISOString()}>{formatMoment(entry.atMs)}</time>}</td>
      <td>
        <span class="audit-actor">{actorText(entry.actor)}</span>
        {entry.actor?.session && <div class="audit-session mono">{entry.actor.session}</div>}
      </td>
      <td class="mono">{entry.type}</td>
      <td>
        {fields.length > 0 && (
          <dl class="audit-fields" dir="ltr">
            {fields.map(([name, value]) => (
              <div key={name}>
                <dt class="mono">{name}</dt>
                <dd class="mono">
                  <bdi>{valueText(value)}</bdi>
                </dd>
              </div>
            ))}
          </dl>
        )}
      </td>
    </tr>
  );
}

/** Date and time to the second: audit entries of one minute are told apart. */
function formatMoment(ms: number): string {
  return new Date(ms).toLocaleString(currentLanguage(), {
    dateStyle: 'medium',
    timeStyle: 'medium',
  });
}

/**
 * The audit log browser (docs/protocol.md 8): entries in sequence order with their actor, type and
 * fields; the node filters by officer, client and time (`ListAudit`), the console by type and case
 * on the entries read; "verify" runs `VerifyAudit` over the whole chain and its signed checkpoints.
 */
export function AuditScreen({ route }: { route: Route }) {
  const [filter, setFilter] = useState<AuditFilter>(() => fromRoute(route));
  const listing = usePaged(
    async (cursor) => {
      const page = await rpc(AuthorityDefinition, 'listAudit', {
        officerId: filter.officerId,
        clientId: filter.clientId,
        sinceMs: toMs(filter.since),
        untilMs: toMs(filter.until),
        limit: PAGE,
        cursor,
      });
      return { items: page.entries, next: page.nextCursor };
    },
    [filter.officerId, filter.clientId, filter.since, filter.until],
  );
  const shown = listing.items.filter((e) => matches(e, filter));
  return (
    <Screen title={t('nav.audit')} actions={<Verify />}>
      <Filters value={filter} onApply={setFilter} />
      <ErrorMessage error={listing.error} />
      <p role="status" class="audit-count">
        {listing.loading && listing.items.length === 0
          ? t('common.loading')
          : t('audit.count', {
              count: shown.length,
              shown: formatNumber(shown.length),
              read: formatNumber(listing.items.length),
            })}
      </p>
      {shown.length > 0 && (
        <div class="audit-table">
          <table>
            <caption class="visually-hidden">{t('audit.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('audit.col.seq')}</th>
                <th scope="col">{t('audit.col.time')}</th>
                <th scope="col">{t('audit.col.actor')}</th>
                <th scope="col">{t('audit.col.type')}</th>
                <th scope="col">{t('audit.col.fields')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((entry) => (
                <EntryRow key={entry.seq} entry={entry} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {listing.next !== '' && <Pager shown={listing.items.length} hasMore={true} onMore={listing.more} />}
    </Screen>
  );
}
