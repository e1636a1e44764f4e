import { launchEdited } from './patch-source.js';

/**
 * Breaks protocol 5.4: the outbox verifies every receipt with the key of the card it sealed to
 * only, so a receipt a peer remembered from before its rotation (signed with its previous key,
 * still in grace) neither proves delivery nor ends the message.
 */
await launchEdited('refuses-previous-key-receipts', [
  {
    file: 'federation/outbox.js',
    replace: [
      ['previousIssuerKeys: this.deps.peers.previousKeys(peer, this.deps.clock.now()),', 'previousIssuerKeys: [],'],
    ],
  },
]);
