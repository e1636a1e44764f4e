import { launchEdited } from './patch-source.js';

/** Breaks protocol 15.5: envelopes of a pinned sender are accepted although the roster no longer lists it. */
await launchEdited('ignores-roster-membership', [
  {
    file: 'keys/roster.js',
    replace: [['if (!this.#body.members.some((m) => m.participantId === participantId)) {', 'if (false) {']],
  },
]);
