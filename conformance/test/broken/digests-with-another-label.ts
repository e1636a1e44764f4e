import { launchEdited } from './patch-source.js';

/** Breaks protocol 3.6: the envelope digest is computed under another domain label. */
await launchEdited('digests-with-another-label', [
  {
    file: 'envelope/envelope.js',
    replace: [["domain('tracenet.v1/envelope-digest')", "domain('tracenet.v1/envelope_digest')"]],
  },
]);
