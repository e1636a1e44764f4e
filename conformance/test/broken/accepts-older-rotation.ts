import { launchEdited } from './patch-source.js';

/** Breaks protocol 15.2: a KEY_ROTATION whose card is not newer than the pinned one is accepted. */
await launchEdited('accepts-older-rotation', [
  { file: 'keys/key-announcements.js', replace: [['if (body.issuedAtMs <= peer.body.issuedAtMs) {', 'if (false) {']] },
]);
