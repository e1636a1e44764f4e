import { launchEdited } from './patch-source.js';

/** Breaks protocol 3.3: the pair key is derived under another domain label ("tracenet.v1/pairkey"). */
await launchEdited('derives-pair-key-with-another-label', [
  { file: 'envelope/pair-key.js', replace: [["domain('tracenet.v1/pair-key')", "domain('tracenet.v1/pairkey')"]] },
]);
