import { launchEdited } from './patch-source.js';

/** Breaks protocol 15.2: with a roster key, a rotation to a key the roster does not list is applied at once instead of held. */
await launchEdited('applies-unlisted-rotation', [
  { file: 'keys/key-announcements.js', replace: [['if (!this.deps.peers.rosterLists(body)) {', 'if (false) {']] },
]);
