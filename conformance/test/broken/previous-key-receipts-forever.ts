import { launchEdited } from './patch-source.js';

/** Breaks protocol 5.4: receipts signed with a peer's previous key are accepted after the grace of its rotation ended. */
await launchEdited('previous-key-receipts-forever', [
  {
    file: 'federation/peers.js',
    replace: [[".filter((p) => 'body' in this.senderKeys(peer, p.body.keyId, nowMs))", '.filter(() => true)']],
  },
]);
