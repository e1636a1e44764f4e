import { launchEdited } from './patch-source.js';

/** Breaks protocol 4.3 item 6: an empty recipient_key_id is not refused as MISSING_FIELD (it reaches step 3 instead). */
await launchEdited('does-not-require-recipient-key-id', [
  { file: 'envelope/envelope.js', replace: [["['header.recipient_key_id', header.recipientKeyId],", '']] },
]);
