import type { Approval } from '@tracenet/proto/browser';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, currentSession } from '../../api.js';
import { ActionButton } from '../../components.js';
import { t } from '../../i18n.js';

/** Whether the signed-in officer may change the administration (administrators; auditors only read). */
export function canAdminister(): boolean {
  return currentSession().who?.roles.includes('administrator') ?? false;
}

/** A change the approval policy holds: it waits for a supervisor, nothing changed yet. */
export function PendingApproval({ approval }: { approval: Approval }) {
  return (
    <div class="notice notice-pending" role="status">
      <p>
        <strong>{t('admin.pending.title')}</strong> {t('admin.pending.text', { id: approval.approvalId })}
      </p>
      {approval.reasons.length > 0 && (
        <ul>
          {approval.reasons.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A success, announced. */
export function Done({ children }: { children: ComponentChildren }) {
  return (
    <div class="notice notice-done" role="status">
      {children}
    </div>
  );
}

/**
 * A destructive action behind an explicit confirmation: the first button opens a panel saying
 * what will happen; with `typed`, the administrator must type that text (e.g. the participant id)
 * before the confirming button is enabled.
 */
export function Confirm(props: {
  label: string;
  question: string;
  confirmLabel: string;
  typed?: string;
  kind?: 'danger' | 'primary';
  onConfirm: () => Promise<unknown>;
  children?: ComponentChildren;
}) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  if (!open)
    return (
      <button type="button" class={props.kind ?? 'danger'} onClick={() => setOpen(true)}>
        {props.label}
      </button>
    );
  const ready = props.typed === undefined || typed.trim() === props.typed;
  return (
    <div class="confirm" role="group" aria-label={props.label}>
      <p>{props.question}</p>
      {props.children}
      {props.typed !== undefined && (
        <label class="confirm-typed">
          {t('admin.confirm.type', { text: props.typed })}
          <input
            type="text"
            autoComplete="off"
            value={typed}
            onInput={(event) => setTyped((event.target as HTMLInputElement).value)}
          />
        </label>
      )}
      <div class="confirm-actions">
        <ActionButton
          kind={props.kind ?? 'danger'}
          disabled={!ready}
          onAction={async () => {
            await props.onConfirm();
            setOpen(false);
            setTyped('');
          }}
        >
          {props.confirmLabel}
        </ActionButton>
        <button type="button" class="plain" onClick={() => setOpen(false)}>
          {t('admin.confirm.cancel')}
        </button>
      </div>
    </div>
  );
}

/** The node's message for a refusal about `field` (or a field under it), for showing it by the field. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const all = [{ field: error.field, message: error.message }, ...error.violations];
  const hit = all.find((v) => v.field === field || v.field.startsWith(`${field}.`) || v.field.startsWith(`${field}[`));
  return hit?.message;
}
