/**
 * The bytes of `text` when it is standard base64 with padding (RFC 4648 section 4) in its only
 * form: no white space, no URL-safe alphabet, padding present, unused bits zero. Otherwise
 * undefined. (Node's decoder accepts all of those and skips characters it does not know, so two
 * different texts would name the same card.)
 *
 * @example
 * ```ts
 * strictBase64('AQID'); // <Buffer 01 02 03>
 * strictBase64('AQI');  // undefined: padding missing
 * ```
 */
export function strictBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
