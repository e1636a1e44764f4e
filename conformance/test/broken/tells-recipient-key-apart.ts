import { launchEdited } from './patch-source.js';

/**
 * Breaks protocol 4.4: an envelope sealed to a key id that is not the node's gets its precise reason
 * (WRONG_RECIPIENT, header.recipient_key_id) instead of the one refusal — an implementer who takes
 * the recipient key for "about the node itself", like item 1. Anyone can then watch the node's key
 * rotations.
 */
await launchEdited('tells-recipient-key-apart', [
  {
    file: 'federation/envelope-opener.js',
    replace: [
      [
        'throw notAuthenticated(error);',
        "throw error.field === 'header.recipient_key_id' ? error : notAuthenticated(error);",
      ],
    ],
  },
]);
