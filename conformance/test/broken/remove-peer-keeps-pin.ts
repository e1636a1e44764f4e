import { launchEdited } from './patch-source.js';

/** Breaks protocol 2.4: RemovePeer deletes the stored pin but the running node still authenticates the peer's envelopes (until a restart). */
await launchEdited('remove-peer-keeps-pin', [
  { file: 'federation/peers.js', replace: [['this.#peers.delete(participantId);', '']] },
]);
