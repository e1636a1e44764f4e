import type { ComponentChildren } from 'preact';
import { Field } from '../../components.js';
import { currentLanguage } from '../../i18n.js';

/** The id of the control of a form field, which the completeness check and the node's refusals point to. */
export const controlId = (name: string) => `compose-${name}`;

/**
 * A labelled field of the compose form: the shell's `Field` with a known control id
 * (`compose-<name>`), so that the completeness check can take the officer to it, and a mark on
 * required fields.
 */
export function ComposeField(props: {
  name: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  required?: boolean;
  children: (id: string, describedBy: string | undefined) => ComponentChildren;
}) {
  const label = (
    <>
      {props.label}
      {props.required && (
        <span class="compose-required" aria-hidden="true">
          {' *'}
        </span>
      )}
    </>
  );
  return (
    <Field id={controlId(props.name)} label={label} hint={props.hint} error={props.error}>
      {props.children}
    </Field>
  );
}

/** A size in bytes as the officer's language writes it, in kB or MB ("412 kB", "٨٫٣ ميغابايت"). */
export function formatBytes(bytes: number): string {
  const [unit, size] = bytes >= 1_000_000 ? (['megabyte', 1_000_000] as const) : (['kilobyte', 1000] as const);
  return new Intl.NumberFormat(currentLanguage(), {
    style: 'unit',
    unit,
    unitDisplay: 'short',
    maximumFractionDigits: 1,
  }).format(bytes / size);
}
