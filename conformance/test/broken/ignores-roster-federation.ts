import { launchEdited } from './patch-source.js';

/** Breaks protocol 15.4: a roster's federation name is not compared with the node's federation.name. */
await launchEdited('ignores-roster-federation', [
  { file: 'keys/roster.js', replace: [['if (body.federation !== federation) {', 'if (false) {']] },
]);
