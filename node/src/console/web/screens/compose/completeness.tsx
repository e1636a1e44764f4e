import type { RequestCheck } from '@tracenet/proto/browser';
import { errorText } from '../../components.js';
import { formatNumber, t } from '../../i18n.js';
import { controlId } from './fields.js';
import { type CheckItem, NODE_ITEM_CONTROL } from './model.js';
import { CheckView } from './node-check.js';

/**
 * Where the node's check of the draft stands: none asked yet (no recipient), being asked, the
 * node's answer (kept while a newer one is asked), or the node could not check (shown quietly;
 * it never blocks sending).
 */
export type NodeCheckState =
  | { kind: 'none' }
  | { kind: 'checking'; last: RequestCheck | undefined }
  | { kind: 'ready'; check: RequestCheck }
  | { kind: 'failed'; error: unknown };

/** Takes the officer to the control of a check item (or of a field the node named). */
export function goTo(name: string): void {
  const element = document.getElementById(controlId(name));
  element?.scrollIntoView({ block: 'center' });
  element?.focus();
}

/**
 * The completeness check, live beside the form: what the protocol requires and is still missing
 * (sending waits for it), each with a button to its field; then the node's own check of the draft
 * for its recipient (Cases/CheckRequest: the score, what is missing, the traceability estimate),
 * the only score shown. When the node cannot check, the recommended items the browser knows are
 * listed instead, without a score. What is done is listed below, ticked.
 */
export function CompletenessPanel(props: {
  items: readonly CheckItem[];
  node: NodeCheckState;
  /** The officer said the weapon has no import marks (a request cannot say so: the node counts them missing). */
  noImportMarks: boolean;
}) {
  const { node } = props;
  const required = props.items.filter((i) => i.required && !i.done);
  const check = node.kind === 'ready' ? node.check : node.kind === 'checking' ? node.last : undefined;
  const recommended = check === undefined ? props.items.filter((i) => !i.required && !i.done) : [];
  const done = props.items.filter((i) => i.done);
  const item = (i: CheckItem) => (
    <li
      key={i.id}
      class={i.done ? 'compose-check-done' : i.required ? 'compose-check-required' : 'compose-check-recommended'}
    >
      <span class="compose-check-mark" aria-hidden="true">
        {i.done ? '✓' : i.required ? '✗' : '!'}
      </span>
      {i.done ? (
        <span>{t(`compose.check.${i.id}`)}</span>
      ) : (
        <button type="button" class="compose-link" onClick={() => goTo(i.id)}>
          {t(`compose.check.${i.id}`)}
        </button>
      )}
    </li>
  );
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: the panel scrolls on its own when it is taller than the window: the keyboard must reach it
    <aside class="compose-check" aria-labelledby="compose-check-title" tabIndex={0}>
      <h2 id="compose-check-title" tabIndex={-1}>
        {t('compose.check.title')}
      </h2>
      <p class="hint">{t('compose.check.why')}</p>
      <p role="status" class={required.length === 0 ? 'ok' : ''}>
        {required.length === 0
          ? t('compose.check.requiredComplete')
          : t('compose.check.requiredMissing', {
              count: required.length,
              shown: formatNumber(required.length),
            })}
      </p>
      {required.length > 0 && (
        <>
          <h3>{t('compose.check.requiredTitle')}</h3>
          <ul class="compose-check-list">{required.map(item)}</ul>
        </>
      )}
      <section
        class="compose-node-check"
        aria-labelledby="compose-node-check-title"
        aria-busy={node.kind === 'checking'}
      >
        <h3 id="compose-node-check-title">{t('compose.nodeCheck.title')}</h3>
        {/* Shown, not announced, while the node checks: it checks at every pause in typing. */}
        {node.kind === 'checking' && <p class="muted">{t('compose.nodeCheck.checking')}</p>}
        <p class="muted" role="status">
          {node.kind === 'none'
            ? t('compose.nodeCheck.chooseRecipient')
            : node.kind === 'failed'
              ? t('compose.nodeCheck.failed', { reason: errorText(node.error) })
              : ''}
        </p>
        {check && (
          <CheckView
            check={check}
            id="compose-node"
            level={4}
            goTo={(i) => goTo(NODE_ITEM_CONTROL[i] ?? i)}
            notes={props.noImportMarks ? { import_marks: t('compose.nodeCheck.saidNone') } : {}}
          />
        )}
      </section>
      {recommended.length > 0 && (
        <>
          <h3>{t('compose.check.recommendedTitle')}</h3>
          <ul class="compose-check-list">{recommended.map(item)}</ul>
        </>
      )}
      {done.length > 0 && (
        <details>
          <summary>{t('compose.check.doneTitle', { count: done.length, shown: formatNumber(done.length) })}</summary>
          <ul class="compose-check-list">{done.map(item)}</ul>
        </details>
      )}
    </aside>
  );
}
