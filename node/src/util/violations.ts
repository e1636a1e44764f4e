import { ErrorCode, type FieldViolation, TracenetError } from '@tracenet/proto';

/**
 * Collects every broken rule of an input before answering, so that an officer or integrator
 * learns all problems at once rather than one per attempt. Subclasses add domain rules.
 */
export class Violations {
  readonly list: FieldViolation[] = [];

  missing(field: string, message: string): void {
    this.list.push({ field, rule: 'required', message });
  }

  invalid(field: string, rule: string, message: string): void {
    this.list.push({ field, rule, message });
  }

  maxLength(field: string, value: string, what: string, max: number): void {
    if (value.length > max) this.invalid(field, 'max_length', `${what} is longer than ${max} characters`);
  }

  /** Required text of at most `max` characters. */
  text(field: string, value: string, what: string, max: number): void {
    if (value.trim() === '') this.missing(field, `${what} is required`);
    else this.maxLength(field, value, what, max);
  }

  /** Throws {@link violationError} when any rule was broken. */
  throwIfAny(summary: string, code?: ErrorCode): void {
    if (this.list.length > 0) throw violationError(this.list, summary, code);
  }
}

/**
 * The error for a list of violations, listing all of them in ErrorDetail.violations. Its code is
 * `code` when given (e.g. REQUEST_INCOMPLETE), otherwise MISSING_FIELD or INVALID_FIELD after the
 * first violation; its field and rule are the first violation's.
 */
export function violationError(
  violations: readonly FieldViolation[],
  summary: string,
  code?: ErrorCode,
): TracenetError {
  const first = violations[0];
  const chosen =
    code ?? (first?.rule === 'required' ? ErrorCode.ERROR_CODE_MISSING_FIELD : ErrorCode.ERROR_CODE_INVALID_FIELD);
  const shown = violations.slice(0, 5).map((x) => `${x.field}: ${x.message}`);
  const more = violations.length > 5 ? `; and ${violations.length - 5} more` : '';
  return new TracenetError(chosen, `${summary}: ${shown.join('; ')}${more}`, {
    field: first?.field ?? '',
    rule: first?.rule ?? '',
    violations: [...violations],
  });
}
