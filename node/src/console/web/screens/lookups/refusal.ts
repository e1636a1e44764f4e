import { ApiError } from '../../api.js';
import { t } from '../../i18n.js';

/**
 * A node's refusal, field by field: for each field path the node named (`weapon.serial_number`,
 * `purpose`, `conditions`, …) the officer's words for the rule it broke (`lookups.rule.<rule>`),
 * else the node's own message. Empty for an error that names no field.
 */
export function refusalByField(error: unknown): Map<string, string> {
  const byField = new Map<string, string>();
  if (!(error instanceof ApiError)) return byField;
  const violations =
    error.violations.length > 0 ? error.violations : [{ field: error.field, rule: error.rule, message: error.message }];
  for (const v of violations) {
    if (v.field === '' || byField.has(v.field)) continue;
    const key = `lookups.rule.${v.rule}`;
    const text = t(key);
    byField.set(v.field, text === key ? v.message : text);
  }
  return byField;
}

/** The fields of a refusal that no control of the form shows, so the general message must name them. */
export function unshownFields(byField: Map<string, string>, shown: readonly string[]): boolean {
  return [...byField.keys()].some((field) => !shown.includes(field));
}
