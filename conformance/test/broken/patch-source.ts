import { register } from 'node:module';
import type { SourceEdit } from './source-hooks.js';

/**
 * Starts a broken variant whose fault is an edit of the reference node's built code (see
 * source-hooks.ts): registers the edits, then loads the launcher — and with it `@tracenet/node` —
 * so that the node runs with them. Import nothing of the node before calling it.
 *
 * @example
 * ```ts
 * await launchEdited('signs-receipts-with-another-label', [{ file: 'envelope/receipt.js', replace: [["'tracenet.v1/receipt'", "'tracenet.v1/receipts'"]] }]);
 * ```
 */
export async function launchEdited(name: string, edits: readonly SourceEdit[]): Promise<void> {
  register('./source-hooks.js', import.meta.url, { data: { edits } });
  const { main } = await import('./launch.js');
  main(name, () => undefined);
}
