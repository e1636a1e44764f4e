import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { formatDateTime, formatNumber, t } from './i18n.js';

/** The officer's words for a refused call: the rule's own text when the catalogue has one, else the node's message. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const byRule = `error.${error.rule}`;
    const text = t(byRule, { field: error.field });
    if (text !== byRule) return text;
    const byCode = `error.${error.code}`;
    const general = t(byCode, { field: error.field });
    return general !== byCode ? `${general} — ${error.message}` : error.message;
  }
  return t('error.unexpected');
}

/** A refusal or failure, announced to screen readers; names the field when there is one. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      {errorText(error)}
      {error instanceof ApiError && error.violations.length > 0 && (
        <ul>
          {error.violations.map((v) => (
            <li key={`${v.field}:${v.rule}`}>
              <code>{v.field}</code> {v.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * A labelled form field; `hint` under the label, `error` (rule text) announced with it. `id` names
 * the control when a screen must point to it (else one is made).
 */
export function Field(props: {
  label: ComponentChildren;
  hint?: string | undefined;
  error?: string | undefined;
  id?: string;
  children: (id: string, describedBy: string | undefined) => ComponentChildren;
}) {
  const made = useId();
  const id = props.id ?? made;
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errorId = props.error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${props.error ? ' field-invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      {props.children(id, describedBy)}
      {props.error && (
        <p class="field-error" id={errorId}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** The state of something loaded from the node: loading, its value, or the error. */
export type Loaded<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'failed'; error: unknown };

/**
 * Loads `load()` when `deps` change; `reload()` loads again (after an action or a live event).
 *
 * @example
 * ```tsx
 * const [cases, reload] = useLoad(() => rpc(CasesDefinition, 'listCases', {}), []);
 * ```
 */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (value) => current && setLoaded({ state: 'ready', value }),
      (error: unknown) => current && setLoaded({ state: 'failed', error }),
    );
    return () => {
      current = false;
    };
    // biome-ignore lint: the caller lists what `load` depends on
  }, [...deps, generation]);
  return [loaded, () => setGeneration((g) => g + 1)];
}

/** Renders a loaded value, a loading line, or the error. */
export function Show<T>(props: { loaded: Loaded<T>; children: (value: T) => ComponentChildren }) {
  if (props.loaded.state === 'loading')
    return (
      <p class="loading" aria-busy="true">
        {t('common.loading')}
      </p>
    );
  if (props.loaded.state === 'failed') return <ErrorMessage error={props.loaded.error} />;
  return <>{props.children(props.loaded.value)}</>;
}

/** A screen's heading and body; the heading gets focus when the screen opens (keyboard and screen readers). */
export function Screen(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · Tracenet`;
    document.getElementById('screen-title')?.focus();
  }, [props.title]);
  return (
    <section class="screen" aria-labelledby="screen-title">
      <header class="screen-header">
        <h1 id="screen-title" tabIndex={-1}>
          {props.title}
        </h1>
        {props.actions && <div class="screen-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

/** A moment as the officer's language writes it, with the exact time in `datetime`. */
export function Time({ ms }: { ms: number }) {
  if (ms === 0) return null;
  return <time dateTime={new Date(ms).toISOString()}>{formatDateTime(ms)}</time>;
}

/** "Showing 1–50 of 120" and the previous / next buttons of a paged list. */
export function Pager(props: { shown: number; hasMore: boolean; onMore: () => void }) {
  return (
    <nav class="pager" aria-label={t('common.paging')}>
      <span>{t('common.shown', { count: props.shown, shown: formatNumber(props.shown) })}</span>
      {props.hasMore && (
        <button type="button" onClick={props.onMore}>
          {t('common.more')}
        </button>
      )}
    </nav>
  );
}

/** A button that runs an action, disabled while it runs, showing its error. */
export function ActionButton(props: {
  onAction: () => Promise<unknown>;
  children: ComponentChildren;
  kind?: 'primary' | 'danger' | 'plain';
  disabled?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await props.onAction();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        class={props.kind ?? 'plain'}
        disabled={busy || props.disabled}
        aria-busy={busy}
        onClick={run}
      >
        {props.children}
      </button>
      <ErrorMessage error={error} />
    </>
  );
}

/** A screen's tabs: links in a list, the current one marked `aria-current="page"` (and in bold, not by colour alone). */
export function Tabs(props: { label: string; tabs: ReadonlyArray<{ href: string; label: string; current: boolean }> }) {
  return (
    <nav class="tabs" aria-label={props.label}>
      <ul>
        {props.tabs.map((tab) => (
          <li key={tab.href}>
            <a href={tab.href} aria-current={tab.current ? 'page' : undefined}>
              {tab.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
