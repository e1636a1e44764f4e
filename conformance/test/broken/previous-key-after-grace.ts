import { launchEdited } from './patch-source.js';

/** Breaks protocol 15.2: a peer's previous keys are accepted after the grace of its rotation ended. */
await launchEdited('previous-key-after-grace', [
  {
    file: 'federation/peers.js',
    replace: [
      [
        "return nowMs < previous.graceUntilMs ? { body: previous.body } : { refused: 'rotation_grace' };",
        'return { body: previous.body };',
      ],
    ],
  },
]);
