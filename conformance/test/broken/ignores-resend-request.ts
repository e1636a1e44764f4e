import { main } from './launch.js';

/**
 * Breaks protocol 5.6: a RESEND_REQUEST is receipted but nothing is delivered again, so a peer
 * restored from a backup loses what it receipted after the backup.
 */
main('ignores-resend-request', (node) => {
  (node.outbox as { prepareResend: typeof node.outbox.prepareResend }).prepareResend = async () => ({
    operations: [],
    count: 0,
    skipped: 0,
    schedule: () => undefined,
  });
});
