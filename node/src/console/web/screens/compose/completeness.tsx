import { formatNumber, t } from '../../i18n.js';
import { controlId } from './fields.js';
import type { CheckItem } from './model.js';

/** Takes the officer to the control of a check item (or of a field the node named). */
export function goTo(name: string): void {
  const element = document.getElementById(controlId(name));
  element?.scrollIntoView({ block: 'center' });
  element?.focus();
}

/**
 * The completeness check, live beside the form: what is still missing (required by the protocol,
 * then recommended), each with a button to its field; what is done is listed below, ticked.
 */
export function CompletenessPanel(props: { items: readonly CheckItem[] }) {
  const required = props.items.filter((i) => i.required && !i.done);
  const recommended = props.items.filter((i) => !i.required && !i.done);
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
    <aside class="compose-check" aria-labelledby="compose-check-title">
      <h2 id="compose-check-title" tabIndex={-1}>
        {t('compose.check.title')}
      </h2>
      <p class="hint">{t('compose.check.why')}</p>
      <p role="status" class={required.length === 0 && recommended.length === 0 ? 'ok' : ''}>
        {required.length === 0 && recommended.length === 0
          ? t('compose.check.complete')
          : t('compose.check.summary', {
              required: required.length,
              requiredShown: formatNumber(required.length),
              recommended: recommended.length,
              recommendedShown: formatNumber(recommended.length),
            })}
      </p>
      {required.length > 0 && (
        <>
          <h3>{t('compose.check.requiredTitle')}</h3>
          <ul class="compose-check-list">{required.map(item)}</ul>
        </>
      )}
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
