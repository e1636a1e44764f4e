import { launchEdited } from './patch-source.js';

/** Breaks protocol 15.5: with a roster, a participant it does not list is pinned. */
await launchEdited('pins-outside-roster', [
  {
    file: 'keys/roster.js',
    replace: [
      [
        "if (!this.#body?.members.some((m) => m.participantId === body.participantId))\n            throw refuse(`${body.participantId} is not a member of the federation roster`, 'card.participant_id', 'roster_member');",
        'if (!this.#body?.members.some((m) => m.participantId === body.participantId))\n            return;',
      ],
    ],
  },
]);
