import { launchEdited } from './patch-source.js';

/** Breaks protocol 2.3 step 9: a card whose records profile names an unknown kind, a kind twice or a year out of range verifies. */
await launchEdited('accepts-bad-records-profile', [
  {
    file: 'identity/peer-card.js',
    replace: [['verifyRecordsProfile(body.recordsProfile, body.issuedAtMs);', 'void 0;']],
  },
]);
