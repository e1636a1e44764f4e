import { launchEdited } from './patch-source.js';

/** Breaks protocol 14.4: the reason of a consent request is not required (one body rule of kinds 14–17 left out). */
await launchEdited('consent-request-without-reason', [
  { file: 'messages/bodies.js', replace: [["requireText(body.reason, 'body.reason', 'the reason', 5000);", '']] },
]);
