import { launchEdited } from './patch-source.js';

/** Breaks protocol 4.12: receipts are signed over another domain label ("tracenet.v1/receipts"). */
await launchEdited('signs-receipts-with-another-label', [
  { file: 'envelope/receipt.js', replace: [["domain('tracenet.v1/receipt')", "domain('tracenet.v1/receipts')"]] },
]);
