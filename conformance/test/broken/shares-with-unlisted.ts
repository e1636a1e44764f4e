import { launchEdited } from './patch-source.js';

/** Breaks protocol 14.3: an answer restricted to LISTED participants may be shared with anyone. */
await launchEdited('shares-with-unlisted', [
  {
    file: 'messages/restrictions.js',
    replace: [
      [
        'if (restrictions.onwardDisclosure === O.ONWARD_DISCLOSURE_LISTED && restrictions.listedParticipants.includes(third))',
        'if (restrictions.onwardDisclosure === O.ONWARD_DISCLOSURE_LISTED)',
      ],
    ],
  },
]);
